from celery import shared_task
from django.db import OperationalError

from .services.customer_import import import_run
from .services.loyalty import loyalty_tasks_create


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=600,
    soft_time_limit=540,
    serializer="json",
)
def loyalty_tasks_create_task() -> int:
    """Daily: turn today's loyalty moments into tasks (idempotent, safe to run twice)."""
    return len(loyalty_tasks_create())


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 60,
    serializer="json",
)
def customer_import_run_task(*, batch_id: int) -> dict:
    """Preview or apply a DMS import in the background (a large export takes minutes)."""
    return import_run(batch_id=batch_id)
