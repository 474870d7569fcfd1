from celery import shared_task

from .models import StaffMember
from .services import directory_send


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def directory_send_task(*, sent_by_id: int | None = None, language: str | None = None) -> int:
    sent_by = StaffMember.objects.filter(pk=sent_by_id).select_related("user").first()
    return directory_send(sent_by=sent_by, language=language)


@shared_task(acks_late=True, time_limit=10, soft_time_limit=8)
def ping() -> str:
    """A no-op that proves a worker is consuming the broker."""
    return "pong"
