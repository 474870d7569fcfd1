"""Cached reads that a write can drop at once: each family of keys carries a generation number,
and moving to the next generation makes every key of the older one unreachable (they expire)."""

from collections.abc import Callable
from typing import Any

from django.core.cache import cache


def _generation_key(family: str) -> str:
    return f"generation:{family}"


def cached_in_generation(family: str, key: str, compute: Callable[[], Any], seconds: int) -> Any:
    """`compute()`, kept for `seconds` under `key` until the family's next generation."""
    generation = cache.get_or_set(_generation_key(family), 1, None)
    return cache.get_or_set(f"{family}:{generation}:{key}", compute, seconds)


def generation_next(family: str) -> None:
    """Drop every cached value of the family."""
    try:
        cache.incr(_generation_key(family))
    except ValueError:
        # No generation yet: nothing cached to drop. Or the cache is down (dealership/cache.py):
        # should Redis come back with its data, the family's values are stale until they expire.
        pass
