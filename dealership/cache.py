"""The shared cache (Redis), which the store keeps working without: while Redis is down or restarting,
every read is a miss and every write or delete is skipped, as with Django's dummy cache, so each
value is read from the database instead; the log says so at most once a minute. After a failure
Redis is left alone for a second (but for what drops a value), then tried again: it is used again
as soon as it is back."""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Redis not reachable, or not answering in time; any other error is a mistake and still raises.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# After a failure Redis is left alone this long: a page makes dozens of cache reads and writes, and
# each would otherwise wait the whole socket timeout for a server that does not answer.
UNREACHABLE_PAUSE_SECONDS = 1
UNREACHABLE_WARNING_SECONDS = 60
# For each server (its LOCATION) in this process: until when it is left alone, and when the log was
# last told it is down (once a minute, not at every read).
_paused_until: dict[tuple, float] = {}
_warned_at: dict[tuple, float] = {}


class RedisCacheSkippedWhenDown(RedisCache):
    """Django's Redis cache, holding nothing while Redis cannot be reached."""

    def _unless_unreachable(self, fallback: Any, operation: Callable, *args, forgets: bool = False) -> Any:
        """`forgets`: the operation drops a value (a sign-out's session, a changed account): it is
        tried even while Redis is left alone, as Redis may have kept that value through one slow
        answer, and would serve it again."""
        server = tuple(self._servers)
        if not forgets and time.monotonic() < _paused_until.get(server, 0):
            return fallback
        try:
            return operation(*args)
        except UNREACHABLE as error:
            now = time.monotonic()
            _paused_until[server] = now + UNREACHABLE_PAUSE_SECONDS
            if now - _warned_at.get(server, -UNREACHABLE_WARNING_SECONDS) >= UNREACHABLE_WARNING_SECONDS:
                _warned_at[server] = now
                # The error names the host and port, never the password the location may hold.
                logger.warning(
                    "The cache cannot be reached (%s): pages are read from the database until it is back.",
                    error,
                )
            return fallback

    def get(self, key, default=None, version=None):
        return self._unless_unreachable(default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._unless_unreachable({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._unless_unreachable(False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        # Added, as to an empty cache: a claim taken with add() (the directory's resend guard) lets
        # the work go ahead rather than refusing it until Redis is back.
        return self._unless_unreachable(True, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._unless_unreachable(None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._unless_unreachable([], super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._unless_unreachable(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._unless_unreachable(False, super().delete, key, version, forgets=True)

    def delete_many(self, keys, version=None):
        self._unless_unreachable(None, super().delete_many, keys, version, forgets=True)

    def clear(self):
        return self._unless_unreachable(False, super().clear)

    def incr(self, key, delta=1, version=None):
        value = self._unless_unreachable(None, super().incr, key, delta, version, forgets=True)
        if value is None:  # skipped: what incr() of a key the cache does not hold raises (decr() too)
            raise ValueError(f"Key {key!r} not found: the cache cannot be reached.")
        return value
