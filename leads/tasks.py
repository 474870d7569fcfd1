from celery import shared_task
from django.db import OperationalError

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
