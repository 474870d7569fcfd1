from smtplib import SMTPException

from celery import shared_task
from django.conf import settings

from leads.services.replies import MailServerUnavailable

from .models import InfoShare
from .services.campaigns import campaigns_batch_send, campaigns_resume
from .services.promotions import promotions_advance
from .services.sharing import info_share_deliver


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def promotions_advance_task() -> dict:
    return promotions_advance()


# Tasks that send mail: retried with backoff when the mail server is unreachable.
MAIL_TASK = {
    "acks_late": True,
    "autoretry_for": (MailServerUnavailable, SMTPException, ConnectionError),
    "retry_backoff": True,
    "max_retries": 5,
    "time_limit": 300,
    "soft_time_limit": 240,
}


@shared_task(bind=True, **MAIL_TASK)
def campaigns_send_task(self) -> bool | None:
    """One batch of the store's campaigns, then the next one later, so their mail leaves at the
    configured steady rate, shared by the campaigns sending at once."""
    batch = settings.PROMOTIONS_CAMPAIGN_BATCH_SIZE
    interval = 60 * batch / settings.PROMOTIONS_CAMPAIGN_PER_MINUTE
    try:
        more = campaigns_batch_send(limit=batch, interval=interval)
    except MailServerUnavailable as outage:
        # Part of the batch may have left before the server went away. A retry sooner than the
        # batch interval would find that claim too recent, be taken for a second chain and end.
        raise self.retry(exc=outage, countdown=interval * 2**self.request.retries) from outage
    if more:
        campaigns_send_task.apply_async(countdown=interval)
    return more


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def campaigns_resume_task() -> int:
    return campaigns_resume()


@shared_task(**MAIL_TASK)
def info_share_deliver_task(*, share_id: int) -> int:
    share = (
        InfoShare.objects.filter(pk=share_id)
        .select_related("sent_by")
        .prefetch_related("staff__user", "departments")
        .first()
    )
    return len(info_share_deliver(share=share)) if share else 0
