"""Background work of the leads app: thin wrappers that load ids and call one service."""

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings

from .mail.polling import poll_source
from .mail.sources import configured_sources
from .services.mail import MAX_TRIES, InboundRetry, inbound_process, inbound_requeue_waiting, mail_out_send

# A poll holds IDLE for MAILBOX_IDLE_SECONDS; it must be allowed that long plus a backlog's worth.
POLL_TIME_LIMIT = int(settings.MAILBOX_IDLE_SECONDS + settings.MAILBOX_LOCK_SECONDS + 600)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def poll_mailboxes() -> int:
    """Beat's entry point: one poll task per configured mailbox, and a sweep for lost routing tasks."""
    for source in configured_sources():
        # A poll not started before the next one is due is not worth starting.
        poll_mailbox.apply_async((source.name,), expires=settings.MAILBOX_POLL_SECONDS)
    return inbound_requeue_waiting()


@shared_task(acks_late=True, time_limit=POLL_TIME_LIMIT, soft_time_limit=POLL_TIME_LIMIT - 30)
def poll_mailbox(name: str) -> dict:
    source = next((source for source in configured_sources() if source.name == name), None)
    if source is None:  # removed from MAILBOX_URL since the task was queued
        return {"mailbox": name, "configured": False}
    result = poll_source(source, idle_seconds=settings.MAILBOX_IDLE_SECONDS)
    if settings.MAILBOX_IDLE_SECONDS > 0 and not result.locked_elsewhere:
        # Wait on the mailbox again at once, so new mail is seen within seconds at all times; beat's
        # own polls find the mailbox taken and return, and restart the chain if a worker died.
        poll_mailbox.delay(name)
    return vars(result)


@shared_task(
    acks_late=True,
    autoretry_for=(InboundRetry,),
    retry_backoff=5,
    max_retries=MAX_TRIES,
    soft_time_limit=settings.MAIL_PROCESS_SECONDS,
    time_limit=settings.MAIL_PROCESS_SECONDS + 30,
)
def process_inbound(inbound_id: int) -> str:
    return inbound_process(inbound_id=inbound_id)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    max_retries=4,
    soft_time_limit=90,
    time_limit=120,
)
def send_mail_out(self, what: str, pk: int) -> str:
    return mail_out_send(what=what, pk=pk, last_attempt=self.request.retries >= self.max_retries)
