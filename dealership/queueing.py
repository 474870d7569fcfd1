"""Queueing background work once what a request saved is committed, so that a broker that cannot be
reached (Redis restarting, a full disk) never turns a saved action into an error page.

Where a periodic sweep queues the work again later (the row waits in the database), a failure to
queue is only logged. Where nothing would pick it up, the caller passes `on_broker_down`, which
undoes what waits for the task or says so (it may raise an error the page shows)."""

import logging
from collections.abc import Callable

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def queue_now(task, /, *args, on_broker_down: Callable[[Exception], None] | None = None, **kwargs) -> bool:
    """Queue `task` with these arguments now; whether it was queued. A broker that cannot be reached
    is logged, then told to `on_broker_down(error)` when given."""
    try:
        task.delay(*args, **kwargs)
    except (OperationalError, OSError) as error:  # the broker cannot be reached; anything else is a bug
        logger.warning("Could not queue %s%s%s (%s)", task.name, args, kwargs or "", error)
        if on_broker_down is not None:
            on_broker_down(error)
        return False
    return True


def queue_on_commit(
    task, /, *args, on_broker_down: Callable[[Exception], None] | None = None, **kwargs
) -> None:
    """Queue `task` once the current transaction is committed (at once outside one), as queue_now."""
    transaction.on_commit(lambda: queue_now(task, *args, on_broker_down=on_broker_down, **kwargs))
