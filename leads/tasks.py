"""Background work of the leads app: thin tasks that load by id and call one service."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone, translation

from dealership.queueing import queue_now

from .mail.polling import poll_source
from .mail.sources import configured_sources
from .models import ForwardedMail, Message
from .services.appointments import (
    appointment_notices_missing,
    appointment_notices_send,
    appointment_reminders_due,
)
from .services.customer_import import import_run
from .services.followup import followup_dispatch_due, followup_run_send
from .services.loyalty import loyalty_tasks_create
from .services.mail import MAX_TRIES, InboundRetry, forward_send, inbound_process, inbound_requeue_waiting
from .services.replies import MailServerUnavailable, message_deliver, messages_sweep

# Mail is retried only when nothing reached the mail server; anything else goes to a person.
SENDS_MAIL = {
    "acks_late": True,
    "autoretry_for": (MailServerUnavailable,),
    "retry_backoff": 30,
    "max_retries": 8,
    "time_limit": 120,
    "soft_time_limit": 100,
}
PERIODIC = {"acks_late": True, "time_limit": 120, "soft_time_limit": 100}


@shared_task(**SENDS_MAIL)
def followup_send_step_task(*, run_id: int) -> str:
    return followup_run_send(run_id=run_id)


def enqueue_followup_send(run_id: int) -> None:
    # Also after a draft approved on a page: the broker down leaves the step queued for the dispatch
    # sweep (followup_dispatch_due queues stale ones again), never an error page.
    queue_now(followup_send_step_task, run_id=run_id)


@shared_task(**PERIODIC)
def followup_dispatch_task() -> dict:
    """Every minute: new leads into plans, finished plans stopped, due steps claimed."""
    return followup_dispatch_due(now=timezone.now(), enqueue_send=enqueue_followup_send)


@shared_task(**SENDS_MAIL)
def appointment_notify_task(*, appointment_id: int, kind: str, sequence: int) -> int:
    return appointment_notices_send(appointment_id=appointment_id, kind=kind, sequence=sequence)


@shared_task(**PERIODIC)
def appointment_reminders_task() -> int:
    """Every five minutes: tomorrow's reminders, and the invitations and cancellations whose task was
    lost or ran out of retries (appointment_notices_missing)."""
    now = timezone.now()
    due = appointment_reminders_due(now=now)
    for appointment_id, sequence in due:
        appointment_notify_task.delay(appointment_id=appointment_id, kind="reminder", sequence=sequence)
    missing = appointment_notices_missing(now=now)
    for appointment_id, kind, sequence in missing:
        appointment_notify_task.delay(appointment_id=appointment_id, kind=kind, sequence=sequence)
    return len(due) + len(missing)


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
    **SENDS_MAIL | {"bind": True, "retry_backoff_max": 30 * 60, "max_retries": 6, "soft_time_limit": 90}
)
def message_send(self, message_id: int) -> str:
    """Send one queued email to a customer (exactly once; safe to run again)."""
    message = message_deliver(message_id=message_id, final_attempt=self.request.retries >= self.max_retries)
    return message.send_status


@shared_task(acks_late=True, time_limit=120, soft_time_limit=90)
def messages_sweep_task() -> dict:
    """Periodic: queue again mail whose task was lost; mark mail stuck in "sending" as uncertain."""
    return messages_sweep()


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
def customer_import_run_task(*, batch_id: int, language: str | None = None) -> dict:
    """Preview or apply a DMS import in the background (a large export takes minutes). The report
    of bad rows is written in the language of the page that asked for it."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return import_run(batch_id=batch_id)


@shared_task(**SENDS_MAIL | {"bind": True, "max_retries": 4, "soft_time_limit": 90})
def send_forward(self, forwarded_id: int) -> str:
    """Forward one stored message to its department (exactly once; safe to run again).

    A forward still waiting for the mail server after its retries stays queued, and the mail poll's
    sweep queues it again every poll (inbound_requeue_waiting): such a task tries once, so that a long
    outage does not pile up a series of retries per poll."""
    waiting = (
        self.request.retries == 0
        and ForwardedMail.objects.filter(pk=forwarded_id, send_status=Message.SendStatus.QUEUED)
        .exclude(send_error="")
        .exists()
    )
    forwarded = forward_send(
        forwarded_id=forwarded_id, final_attempt=waiting or self.request.retries >= self.max_retries
    )
    return forwarded.send_status
