"""Writes for mail in: storing raw messages exactly once, routing each one, sending what follows.

Storing and routing are separate steps. A poll stores raw messages and the mailbox checkpoint in one
transaction (nothing parsed, so nothing can fail there); each stored message is then routed by its
own task, in one transaction, at most MAX_TRIES times before it is quarantined for a person to look at.
"""

import logging
import secrets
import traceback
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max, Q
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from dealership.models import Department
from dealership.queueing import queue_now
from promotions.services.campaigns import campaign_bounce_record
from promotions.services.promotions import lead_promotion_attribute_from_text

from ..language import store_language
from ..mail.parsing import ParsedMail, parse_message
from ..mail.rawmail import RawMail, content_fingerprint, summarize
from ..mail.triage import MESSAGE_ID_LINE, WORDS_READ, Triage, shared_mail_domain, triage
from ..models import (
    Attachment,
    Channel,
    ConsentChannel,
    Customer,
    Direction,
    FollowUpStep,
    FollowUpStepRun,
    ForwardedMail,
    InboundMail,
    InboundOutcome,
    InboundStatus,
    InquiryType,
    Lead,
    LeadEvent,
    LeadVehicle,
    Mailbox,
    MailKind,
    Message,
    VehicleInterest,
)
from ..models.leads import OPEN_LEAD_STATUSES
from ..normalize import normalize_email, normalize_phone
from ..selectors.customers import customer_match
from ..selectors.mail import department_forward_addresses, mailboxes_behind_changed, store_mail_recipients
from ..threading import new_message_id, references_answering
from .consent import consent_withdraw
from .customers import customer_phone_extension_keep
from .leads import (
    customer_contacts_learned,
    customer_find_or_create,
    lead_create,
    lead_customer_wrote,
    lead_event_add,
    lead_kept,
    lead_vehicle_wanted_refresh,
)
from .replies import INTERRUPTED_SEND, queued_mail_deliver

logger = logging.getLogger(__name__)

MAX_TRIES = 3
# An inquiry that reached the mailbox longer ago than this before it is read (the mailbox could not
# be read, or its history is read): no acknowledgement now, and no follow-up plan (which takes only
# leads received within followup.ARRIVAL_WINDOW, a day too).
READ_LATE_AFTER = timedelta(days=1)
# At most this many automatic acknowledgements (mail-in's and the follow-up plans') go to one sender
# domain (to one address at the big mail providers, which unrelated people share) within
# ACKNOWLEDGED_DOMAIN_WITHIN: colleagues writing separately are each acknowledged, while a help desk
# answering each mail from a new address (support+1234@) is answered a few times, not for ever.
ACKNOWLEDGEMENTS_PER_DOMAIN = 3
ACKNOWLEDGED_DOMAIN_WITHIN = timedelta(hours=1)
# The steps of a follow-up plan that acknowledge an inquiry (as FollowUpStep.is_acknowledgement).
PLAN_ACKNOWLEDGEMENT = Q(
    step__kind=FollowUpStep.Kind.AUTO_EMAIL,
    step__anchor=FollowUpStep.Anchor.INQUIRY,
    step__delay_days=0,
    step__delay_hours=0,
)
ACKNOWLEDGEMENT_HELD_NOTE = gettext_noop(
    "No automatic acknowledgement: %(count)d already went to %(to)s in the hour before, the most "
    "allowed (a help desk answering each one would loop). Answer it yourself if a customer wrote it."
)
# The first read of a mailbox takes in only what reached it within this time and nobody has read.
FIRST_READ_WITHIN = timedelta(days=7)
# A recreated folder (a new UIDVALIDITY: restored from a backup) is read again for the mail that
# reached it since this long before the newest message stored from it; what is older is history.
RESYNC_MARGIN = timedelta(days=1)
# An arrival time before this is a server's clock gone wrong.
EARLIEST_ARRIVAL = datetime(2000, 1, 1, tzinfo=UTC)


class MailboxLockLost(RuntimeError):
    """Another poller took the mailbox over (this one was too slow to renew its hold)."""


class InboundRetry(RuntimeError):
    """Routing failed and will be tried again later."""


class ReplayError(ValueError):
    pass


# --- mailboxes and storing ---------------------------------------------------------------------


def mailbox_ensure(*, name: str) -> Mailbox:
    return Mailbox.objects.get_or_create(name=name)[0]


def _lock_expiry():
    return timezone.now() + timedelta(seconds=settings.MAILBOX_LOCK_SECONDS)


def mailbox_lock(*, mailbox: Mailbox) -> str | None:
    """Take the mailbox for one poll; None when another poller holds it. A single UPDATE, so it is
    atomic on every database, and a crashed poller's hold lapses after MAILBOX_LOCK_SECONDS."""
    token = secrets.token_hex(16)
    now = timezone.now()
    taken = (
        Mailbox.objects.filter(pk=mailbox.pk)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(lock_token=token, locked_until=_lock_expiry())
    )
    return token if taken else None


def _mailbox_renew(*, mailbox: Mailbox, token: str, **fields) -> None:
    renewed = Mailbox.objects.filter(pk=mailbox.pk, lock_token=token).update(
        locked_until=_lock_expiry(), **fields
    )
    if not renewed:
        raise MailboxLockLost(f"Mailbox {mailbox.name} is being polled by another worker.")


def mailbox_renew(*, mailbox: Mailbox, token: str) -> None:
    _mailbox_renew(mailbox=mailbox, token=token)


def mailbox_unlock(*, mailbox: Mailbox, token: str, error: str = "") -> None:
    """End the poll; a poll that read the mailbox moves its "last read" on, one that failed keeps
    it and says why, so that the pages show how long mail has not been read."""
    read = {} if error else {"last_polled_at": timezone.now()}
    Mailbox.objects.filter(pk=mailbox.pk, lock_token=token).update(
        lock_token="", locked_until=None, last_error=error, **read
    )
    mailboxes_behind_changed()


@dataclass(frozen=True)
class ReadStart:
    """Where a read of an IMAP folder starts, and which of the mail already in it it takes."""

    last_uid: int  # read the messages above this UID
    # The folder is new to the store (its first read, or a new UIDVALIDITY): the mail in it is read
    # once, passing over its history, and only then is the UIDVALIDITY saved (mailbox_read_caught_up),
    # so that a read cut short starts again with the same filter, never with the history.
    catching_up: bool = False
    since: datetime | None = None  # pass over the mail that reached the folder before this
    unseen_only: bool = False  # pass over the mail somebody has read already


@transaction.atomic
def mailbox_read_start(*, mailbox: Mailbox, token: str, uidvalidity: int) -> ReadStart:
    """Where to read the folder from.

    - Known folder: after the last message stored.
    - First read: the mail already in the folder is the store's history, dealt with before the CRM;
      only what reached it within FIRST_READ_WITHIN and nobody has read yet is taken in. Unless
      MAILBOX_READ_HISTORY asks for every message in it.
    - New UIDVALIDITY (the folder deleted and made again, restored from a backup): every UID changed,
      so the folder is read again from the start for the mail that reached it since shortly before
      the newest message stored from it (what was stored already is recognised by its Message-ID
      and content). Older mail in it is history the CRM never had, not new inquiries."""
    mailbox.refresh_from_db(fields=["uidvalidity", "last_uid"])
    if mailbox.uidvalidity == uidvalidity:
        _mailbox_renew(mailbox=mailbox, token=token)
        return ReadStart(last_uid=mailbox.last_uid)
    if mailbox.uidvalidity is None and settings.MAILBOX_READ_HISTORY:
        _mailbox_renew(mailbox=mailbox, token=token, uidvalidity=uidvalidity, last_uid=0)
        return ReadStart(last_uid=0)
    _mailbox_renew(mailbox=mailbox, token=token)
    # The newest stored under an earlier UIDVALIDITY: the same after a read cut short.
    newest = (
        InboundMail.objects.filter(mailbox=mailbox)
        .exclude(uidvalidity=uidvalidity)
        .aggregate(newest=Max("received_at"))["newest"]
    )
    if mailbox.uidvalidity is None or newest is None:
        return ReadStart(
            last_uid=0, catching_up=True, since=timezone.now() - FIRST_READ_WITHIN, unseen_only=True
        )
    return ReadStart(last_uid=0, catching_up=True, since=newest - RESYNC_MARGIN)


def mailbox_read_caught_up(*, mailbox: Mailbox, token: str, uidvalidity: int, last_uid: int) -> None:
    """The folder new to the store has been read to its end (`last_uid`): from now on it is read
    after its last message, whatever its flags and dates."""
    _mailbox_renew(mailbox=mailbox, token=token, uidvalidity=uidvalidity, last_uid=last_uid)


def _arrival_time(arrived_at: datetime | None, now: datetime) -> datetime:
    """When the message reached the mailbox, as its server tells (IMAP INTERNALDATE, a Maildir
    file's delivery); now when unknown, or when it cannot be (in the future, before 2000)."""
    if arrived_at is None or timezone.is_naive(arrived_at):
        return now
    return arrived_at if EARLIEST_ARRIVAL <= arrived_at <= now else now


def _same_message(earlier: InboundMail, message: RawMail, content_hash: str) -> bool:
    if earlier.content_hash == content_hash:
        return True
    # Only the header of a message over the size limit is kept: then the headers decide.
    header_only = not (earlier.raw_complete and message.complete)
    return content_fingerprint(earlier.raw, header_only=header_only) == content_fingerprint(
        message.raw, header_only=header_only
    )


@transaction.atomic
def inbound_store(
    *,
    mailbox: Mailbox,
    token: str,
    messages: list[RawMail],
    uidvalidity: int | None = None,
    checkpoint_uid: int | None = None,
) -> list[int]:
    """Store raw messages not seen before and move the checkpoint, in one transaction; the ids stored.

    A message is known by its Message-ID and its content: lead providers reuse Message-IDs, so the
    same id on other content is another message, kept under a key made from its content.
    Routing is queued once the transaction commits. A message is dated when it reached the mailbox
    (its arrived_at): mail read late shows how long it has waited, not "just received"."""
    fields = {"last_uid": checkpoint_uid} if checkpoint_uid is not None else {}
    now = timezone.now()
    _mailbox_renew(mailbox=mailbox, token=token, **fields)
    summaries = [(message, summarize(message.raw)) for message in messages]
    other_content = {
        id(message): f"content:{content_fingerprint(message.raw)}"
        for message, summary in summaries
        if summary.message_id
    }
    keys = {summary.dedup_key for _, summary in summaries} | set(other_content.values())
    stored = {
        row.dedup_key: row
        for row in InboundMail.objects.filter(dedup_key__in=keys).only(
            "pk", "dedup_key", "content_hash", "raw_complete"
        )
    }
    # Mail known by its content (no Message-ID, or a reused one) stored before its key came from
    # content_fingerprint has another key ("sha256:<hash of the bytes>", an older fingerprint): its
    # very bytes tell it, for a mailbox read again after its UIDVALIDITY changed.
    stored_bytes = set(
        InboundMail.objects.filter(
            content_hash__in={summary.content_hash for _, summary in summaries}
        ).values_list("content_hash", flat=True)
    )
    rows: dict[str, InboundMail] = {}
    for message, summary in summaries:
        key = summary.dedup_key
        earlier = rows.get(key) or stored.get(key)
        if earlier is not None and summary.message_id:
            if _same_message(earlier, message, summary.content_hash):
                continue
            key = other_content[id(message)]
        if (
            key in rows
            or key in stored
            or (key.startswith("content:") and summary.content_hash in stored_bytes)
        ):
            continue
        rows[key] = InboundMail(
            mailbox=mailbox,
            uidvalidity=uidvalidity if message.uid is not None else None,
            uid=message.uid,
            message_id=summary.message_id,
            dedup_key=key,
            content_hash=summary.content_hash,
            size=message.size,
            raw=message.raw,
            raw_complete=message.complete,
            from_address=summary.from_address,
            subject=summary.subject,
            received_at=_arrival_time(message.arrived_at, now),
        )
    created = InboundMail.objects.bulk_create(list(rows.values()))
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: _queue_routing(ids))
    return ids


def _enqueue(task_name: str, *args) -> None:
    """Queue a task after commit. A broker that is down loses nothing: the row waits in the database
    and the periodic sweep queues it again."""
    from .. import tasks

    queue_now(getattr(tasks, task_name), *args)


def _queue_routing(ids: list[int]) -> None:
    for pk in ids:
        _enqueue("process_inbound", pk)


def inbound_requeue_waiting() -> int:
    """Queue again what still waits long after it was queued (a lost task, a broker restart):
    routing and forwarding are idempotent, so something queued twice still happens once. (Emails to
    customers, acknowledgements included, are queued again by replies.messages_sweep.)"""
    delay = timedelta(seconds=settings.MAIL_REQUEUE_SECONDS)
    cutoff = timezone.now() - delay
    waiting = InboundMail.objects.filter(status=InboundStatus.PENDING, queued_at__lt=cutoff)
    settled = InboundMail.objects.exclude(status=InboundStatus.PENDING)
    if settled.filter(processed_at__gte=cutoff).exists():
        # Routing is under way (a backlog may take a while): only mail overtaken by mail queued well
        # after it has lost its task; the rest is still in the queue and is not queued twice.
        newest = settled.aggregate(newest=Max("queued_at"))["newest"]
        waiting = waiting.filter(queued_at__lt=newest - delay)
    ids = list(waiting.values_list("pk", flat=True)[:5000])
    InboundMail.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    _queue_routing(ids)
    forwards = ForwardedMail.objects.filter(send_status=Message.SendStatus.QUEUED, created_at__lt=cutoff)
    for pk in forwards.values_list("pk", flat=True)[:1000]:
        _enqueue("send_forward", pk)
    return len(ids)


# --- routing one message -----------------------------------------------------------------------


def inbound_process(*, inbound_id: int) -> str:
    """Route one stored message; its resulting status. Raises InboundRetry when it should be tried
    again; after MAX_TRIES attempts (also ones cut short by a crash) it is quarantined instead."""
    if not _attempt_start(inbound_id):
        return InboundMail.objects.values_list("status", flat=True).get(pk=inbound_id)
    try:
        with transaction.atomic():
            inbound = InboundMail.objects.select_for_update().get(pk=inbound_id)
            if inbound.status != InboundStatus.PENDING:
                return inbound.status
            _route(inbound)
            return inbound.status
    except Exception as error:  # noqa: BLE001 - any failure is recorded on the message and retried
        if _attempt_failed(inbound_id, error) == InboundStatus.PENDING:
            raise InboundRetry(f"Inbound mail {inbound_id}: {error}") from error
        return InboundStatus.QUARANTINED


@transaction.atomic
def _attempt_start(inbound_id: int) -> bool:
    """Count the attempt before making it, so a message that kills its worker still runs out of tries."""
    inbound = (
        InboundMail.objects.select_for_update(skip_locked=True).defer("raw").filter(pk=inbound_id).first()
    )
    if inbound is None or inbound.status != InboundStatus.PENDING:
        return False  # being routed right now by another worker, or done
    if inbound.tries >= MAX_TRIES:
        _quarantine(inbound, inbound.last_error or f"Stopped after {MAX_TRIES} attempts that did not finish.")
        return False
    inbound.tries += 1
    inbound.save(update_fields=["tries"])
    return True


@transaction.atomic
def _attempt_failed(inbound_id: int, error: Exception) -> str:
    inbound = InboundMail.objects.select_for_update().defer("raw").get(pk=inbound_id)
    inbound.last_error = "".join(traceback.format_exception_only(error)).strip()[:4000]
    if inbound.tries >= MAX_TRIES:
        _quarantine(inbound, inbound.last_error)
    else:
        inbound.save(update_fields=["last_error"])
    return inbound.status


def _quarantine(inbound: InboundMail, error: str) -> None:
    inbound.status = InboundStatus.QUARANTINED
    inbound.last_error = error
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["status", "last_error", "processed_at"])


@transaction.atomic
def inbound_replay(*, inbound: InboundMail) -> InboundMail:
    """Give a quarantined message a fresh set of tries and queue it (the supervisor fixed the cause)."""
    inbound = InboundMail.objects.select_for_update().defer("raw").get(pk=inbound.pk)
    if inbound.status != InboundStatus.QUARANTINED:
        raise ReplayError(gettext("Only quarantined mail can be replayed."))
    if not inbound.raw_complete:
        raise ReplayError(gettext("This message is too large to be read here; open it in the mailbox."))
    inbound.status = InboundStatus.PENDING
    inbound.tries = 0
    inbound.queued_at = timezone.now()
    inbound.save(update_fields=["status", "tries", "queued_at"])
    transaction.on_commit(lambda: _queue_routing([inbound.pk]))
    return inbound


def _route(inbound: InboundMail) -> None:
    parsed = parse_message(bytes(inbound.raw))
    decision = triage(parsed, department_addresses=department_forward_addresses())
    if (
        decision.kind == MailKind.FORWARD
        and decision.rule.startswith("keywords:")
        and _answers_open_lead(decision)
    ):
        # A reply that lost its thread headers: its words go on the conversation it answers, not to
        # the department they mention ("does the price include winter tires?").
        decision.kind, decision.department, decision.rule = (
            MailKind.LEAD,
            Department.Code.SALES,
            "open-lead-reply",
        )
    if decision.kind in (MailKind.LEAD, MailKind.REPLY, MailKind.FORWARD) and _returns_own_forward(parsed):
        # The store's forward to a department, sent back by a mailbox that forwards what it gets
        # (one that is no department's any more, or an alias): forwarding it again loops for ever.
        decision.kind, decision.department, decision.rule = MailKind.AUTO_REPLY, None, "own-mail"
        decision.acknowledge = False
    if not inbound.raw_complete:
        # Too large to read whole: what could be read (header, text) makes the lead, saying so.
        parsed, decision = _too_large_noted(inbound, parsed, decision)
    inbound.kind = decision.kind
    inbound.department = decision.department or ""
    inbound.language = decision.language or ""
    inbound.rule = (decision.rule or "")[:200]
    if decision.kind == MailKind.REPLY:
        _on_reply(inbound, parsed, decision)
    elif decision.kind == MailKind.FORWARD:
        _on_forward(inbound, parsed, decision)
    elif decision.kind == MailKind.AUTO_REPLY:
        _on_auto_reply(inbound, decision)
    elif decision.kind == MailKind.BOUNCE:
        _on_bounce(inbound, parsed, decision)
    else:
        _on_lead(inbound, parsed, decision)
    if decision.unsubscribe and inbound.conversation_message is not None:
        _unsubscribe_by_mail(inbound.conversation_message)
    if inbound.status == InboundStatus.PENDING:
        inbound.status = InboundStatus.PROCESSED
    inbound.processed_at = timezone.now()
    # A warning on the Mail in page for a message too large to read whole.
    inbound.last_error = "" if inbound.raw_complete else _too_large_warning(inbound)
    inbound.save(update_fields=ROUTING_RESULT_FIELDS)


def _returns_own_forward(parsed: ParsedMail) -> bool:
    """Whether the message is, attaches or quotes (its Message-ID line) a forward the store sent."""
    ids = {
        parsed.message_id,
        *parsed.returned_message_ids,
        *MESSAGE_ID_LINE.findall(parsed.text[:WORDS_READ]),
    } - {""}
    return ForwardedMail.objects.filter(message_id__in=ids).exists()


def _too_large_note(inbound: InboundMail, *, text_read: bool) -> str:
    sizes = {
        "size": filesizeformat(inbound.size),
        "limit": filesizeformat(settings.MAIL_MAX_MESSAGE_BYTES),
    }
    if text_read:
        return (
            gettext(
                "This message is too large to be read in full (%(size)s, over the %(limit)s limit): its "
                "attachments were not read. The whole message is still in the mailbox."
            )
            % sizes
        )
    return (
        gettext(
            "This message is too large to be read (%(size)s, over the %(limit)s limit): only its sender "
            "and subject were read. The whole message is still in the mailbox."
        )
        % sizes
    )


def _too_large_noted(inbound: InboundMail, parsed: ParsedMail, decision: Triage) -> tuple[ParsedMail, Triage]:
    """The message and its decision with a note that it was too large to be read whole, on the
    customer's conversation and on a new lead's comments."""
    note = _too_large_note(inbound, text_read=bool(parsed.text.strip()))

    def noted(text: str) -> str:
        return f"{text.rstrip()}\n\n[{note}]" if text.strip() else f"[{note}]"

    # The text alone (any HTML is the same words), so that the note shows in the conversation.
    parsed = replace(parsed, text=noted(parsed.text), new_text=noted(parsed.new_text), html="")
    decision.comments = noted(decision.comments or "")
    decision.other_customers = [
        {**other, "comments": noted(other.get("comments") or "")} for other in decision.other_customers
    ]
    return parsed, decision


def _too_large_warning(inbound: InboundMail) -> str:
    """Stored in English like the other routing errors (polling keeps the text part, when it is
    whole within the message's start, after the header)."""
    text_kept = bytes(inbound.raw).replace(b"\r\n", b"\n").partition(b"\n\n")[2].strip()
    return (
        f"The message is {inbound.size:,} bytes, over the {settings.MAIL_MAX_MESSAGE_BYTES:,}-byte "
        f"limit: only its header{' and text were' if text_kept else ' was'} read, not its attachments. "
        "It is still in the mailbox."
    )


# What routing writes on the stored message (never the raw bytes again).
ROUTING_RESULT_FIELDS = [
    "status",
    "processed_at",
    "last_error",
    "kind",
    "department",
    "language",
    "rule",
    "outcome",
    "lead",
    "conversation_message",
]


def _customer_for(parsed: ParsedMail, decision: Triage) -> Customer:
    contact = decision.contact or {}
    # Triage reads the contact from the ADF or web form of a machine-made lead, else from the sender of
    # a mail the customer wrote. An ADF or form without an email was sent by the lead provider or the
    # website: its sender is never the customer (every such lead would become one customer).
    email = (contact.get("email") or "") if contact else parsed.from_address
    return customer_find_or_create(
        email=email,
        phone=contact.get("phone") or "",
        phone_extension=contact.get("phone_extension") or "",
        first_name=(contact.get("first_name") or "")[:100],
        last_name=(contact.get("last_name") or "")[:100],
        language=decision.language if decision.language in ("en", "fr") else None,
    )[0]


def _customer_words(decision: Triage) -> dict:
    """A staff forward's own words are the salesperson's: the conversation shows the customer's."""
    return {"new_text": decision.comments} if decision.forwarded_by else {}


def _inbound_message_create(
    *,
    inbound: InboundMail,
    parsed: ParsedMail,
    customer: Customer,
    lead: Lead | None,
    new_text: str | None = None,
    its_own: bool = True,
) -> Message:
    """The mail as an entry of the customer's conversation, with its attachments saved to storage.
    `new_text`: the customer's own words when they are not what the sender wrote (a staff forward).
    `its_own`: the stored mail's entry; False for the copy on another customer's lead of its batch."""
    message = Message.objects.create(
        lead=lead,
        customer=customer,
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        from_address=parsed.from_address[:320],
        to_addresses=[*parsed.to, *parsed.cc],
        subject=parsed.subject[:998],
        body_text=parsed.text,
        body_html=parsed.html,
        new_text=parsed.new_text if new_text is None else new_text,
        message_id=parsed.message_id[:998],
        in_reply_to=parsed.in_reply_to[:998],
        references=" ".join(parsed.references),
        occurred_at=inbound.received_at,
    )
    for part in parsed.attachments:
        if not (part.data or part.oversized):
            continue
        attachment = Attachment(
            message=message,
            filename=part.filename[:255] or "attachment",
            content_type=part.content_type[:255],
            content_id=part.content_id[:255],
            size=part.size,
        )
        # Too large to keep: named in the conversation, its content only in the original message.
        if not part.oversized:
            attachment.file.save(attachment.filename, ContentFile(part.data), save=False)
        attachment.save()
    if its_own:
        inbound.conversation_message = message
        inbound.lead = lead
    return message


def _answers_open_lead(decision: Triage) -> bool:
    """Whether the mail answers the store's mail and its writer has a lead open."""
    if not decision.answers_store_mail:
        return False
    customer = customer_match(email=(decision.contact or {}).get("email") or "")
    return customer is not None and _open_lead(customer) is not None


def _open_lead(customer: Customer) -> Lead | None:
    return customer.leads.filter(status__in=OPEN_LEAD_STATUSES).order_by("-received_at", "-pk").first()


def _on_lead(inbound: InboundMail, parsed: ParsedMail, decision: Triage) -> None:
    """The customer's lead, or each customer's of a lead provider's ADF batch. The stored mail links
    the first customer's; each other customer's lead has the mail in its own conversation (and the
    lead's timeline), so nobody in the batch goes unanswered."""
    inbound.outcome = _customer_inquiry(inbound, parsed, decision, its_own=True)
    for other in decision.other_customers:
        _customer_inquiry(inbound, parsed, replace(decision, other_customers=[], **other), its_own=False)


def _customer_inquiry(inbound: InboundMail, parsed: ParsedMail, decision: Triage, *, its_own: bool) -> str:
    """One customer's inquiry on their open lead, else on a new one; the outcome."""
    customer = _customer_for(parsed, decision)
    lead = _open_lead(customer)
    entry = {"inbound": inbound, "parsed": parsed, "customer": customer, "its_own": its_own}
    if lead is None and decision.unsubscribe_only:
        # Nothing asked but no more mail: kept on the customer's record, no lead to answer.
        _inbound_message_create(lead=None, **entry)
        return InboundOutcome.UNSUBSCRIBED
    entry |= _customer_words(decision)
    if lead is not None:
        message = _inbound_message_create(lead=lead, **entry)
        added = _lead_vehicles_add(
            lead=lead, vehicles=[_lead_vehicle(vehicle) for vehicle in decision.vehicles]
        )
        lead_event_add(
            lead=lead,
            type="customer_wrote",
            message=message.pk,
            inbound_mail=inbound.pk,
            source=(decision.source or "")[:100],
            vehicles="; ".join(str(vehicle) for vehicle in added),
        )
        lead_customer_wrote(lead=lead, at=message.occurred_at)
        _promotion_credit(lead=lead, parsed=parsed)
        return InboundOutcome.JOINED_LEAD
    lead = lead_create(
        customer=customer,
        source=(decision.source or DIRECT_MAIL_SOURCE)[:100],
        inquiry_type=decision.inquiry_type if decision.inquiry_type in InquiryType.values else "general",
        language=decision.language if decision.language in ("en", "fr") else None,
        comments=decision.comments or "",
        received_at=inbound.received_at,
        vehicles=[_lead_vehicle(vehicle) for vehicle in decision.vehicles],
    )
    message = _inbound_message_create(lead=lead, **entry)
    _promotion_credit(lead=lead, parsed=parsed)
    if (
        decision.acknowledge
        and customer.email
        and not customer.email_undeliverable
        # Read days late (an outage, the mailbox's history): "we have your inquiry" now would be
        # news to nobody, and the lead is received_at its arrival, so no follow-up plan takes it.
        and timezone.now() - lead.received_at <= READ_LATE_AFTER
    ):
        # Counted up to when the mail was stored (or queued again), on the store's clock, as a mail
        # server's may be off: only what went out before can be what it answers.
        # Only mail the customer sent us (a help desk's is such mail); a lead provider's or the
        # website's customers, at a relay domain of theirs, are each acknowledged.
        if lead.source == DIRECT_MAIL_SOURCE and (
            held := acknowledgements_held_back({lead.pk: (customer.email, inbound.queued_at)})[lead.pk]
        ):
            acknowledgement_held_record(lead=lead, count=held)
        else:
            _acknowledgement_create(lead=lead, customer=customer, inbound_message=message)
    return InboundOutcome.NEW_LEAD


# The source of a lead made from a customer's own mail (not a lead provider's nor a website form's).
DIRECT_MAIL_SOURCE = "Email"


def _sent_to(email: str) -> str:
    """Whom acknowledgements to this address count against: its domain ("@acme.example"), or the
    address itself at a domain unrelated people share (a big mail provider's)."""
    email = email.strip().lower()
    domain = email.rpartition("@")[2]
    return email if not domain or shared_mail_domain(domain) else f"@{domain}"


def acknowledgements_held_back(wanted: dict[int, tuple[str, datetime]]) -> dict[int, int]:
    """For each key's (address, moment): how many automatic acknowledgements went to the address's
    domain (to the address itself at a big mail provider's) within ACKNOWLEDGED_DOMAIN_WITHIN before
    that moment, when they reach ACKNOWLEDGEMENTS_PER_DOMAIN (the next one is held back); 0 when one
    may go. Mail-in's count from when they were made, the follow-up plans' from when they were
    claimed or sent: all on the store's clock. Two queries, whatever the number asked about."""
    moments = [at for email, at in wanted.values() if email]
    if not moments:
        return dict.fromkeys(wanted, 0)
    since, until = min(moments) - ACKNOWLEDGED_DOMAIN_WITHIN, max(moments)
    made = LeadEvent.objects.filter(
        type="acknowledged", created_at__gte=since, created_at__lt=until
    ).values_list("lead__customer__email", "created_at")
    planned = FollowUpStepRun.objects.filter(
        PLAN_ACKNOWLEDGEMENT,
        status__in=[
            FollowUpStepRun.Status.QUEUED,
            FollowUpStepRun.Status.SENDING,
            FollowUpStepRun.Status.SENT,
        ],
        status_changed_at__gte=since,
        status_changed_at__lt=until,
    ).values_list("enrollment__lead__customer__email", "status_changed_at")
    sent = [(_sent_to(address), when) for address, when in [*made, *planned] if address]
    held = {}
    for key, (email, at) in wanted.items():
        to = _sent_to(email) if email else None
        count = sum(
            1 for address, when in sent if address == to and at - ACKNOWLEDGED_DOMAIN_WITHIN <= when < at
        )
        held[key] = count if count >= ACKNOWLEDGEMENTS_PER_DOMAIN else 0
    return held


def acknowledgement_held_record(*, lead: Lead, count: int) -> None:
    """Say on the lead's conversation, once, that its acknowledgement was held back and why (an
    internal note, in the store's language): the supervisor sees it is the staff's to answer."""
    # The store's own notes come from its address; a staff note whose author was removed does not.
    notes = Message.objects.filter(
        lead=lead, channel=Channel.NOTE, author__isnull=True, from_address=settings.DEFAULT_FROM_EMAIL
    )
    if notes.exists():  # mail-in held it back already, and now the follow-up plan
        return
    to = _sent_to(lead.customer.email).removeprefix("@")
    with translation.override(store_language()):
        text = gettext(ACKNOWLEDGEMENT_HELD_NOTE) % {"count": count, "to": to}
    Message.objects.create(
        lead=lead,
        customer=lead.customer,
        channel=Channel.NOTE,
        direction=Direction.INTERNAL,
        from_address=settings.DEFAULT_FROM_EMAIL,
        body_text=text,
        occurred_at=timezone.now(),
    )


def _unsubscribe_by_mail(message: Message) -> None:
    """The customer wrote asking for no more mail: from the time they wrote, no commercial mail
    goes to them (follow-up plans stop at their next step), and their lead says so."""
    consent_withdraw(
        customer=message.customer,
        channels=[ConsentChannel.EMAIL],
        source=f"email asking for no more mail: {message.subject}",
        at=message.occurred_at,
    )
    if message.lead is not None:
        lead_event_add(lead=message.lead, type="unsubscribed", message=message.pk)


def _promotion_credit(*, lead: Lead, parsed: ParsedMail) -> None:
    """A customer quoting a promotion's tracking code (their own words, or the campaign mail they
    answer) is that promotion's lead, unless an earlier promotion brought it."""
    lead_promotion_attribute_from_text(lead=lead, text=f"{parsed.subject}\n{parsed.text}")


def _text(value, field: str) -> str:
    return str(value or "")[: LeadVehicle._meta.get_field(field).max_length]


def _number(value, kind):
    try:
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError, InvalidOperation):
        return None


def _lead_vehicle(vehicle: dict) -> dict:
    """A triage vehicle as LeadVehicle fields; values that do not fit are left out, never fatal."""
    interest = vehicle.get("interest") or VehicleInterest.BUY
    year = _number(vehicle.get("year"), int)
    odometer = _number(vehicle.get("odometer"), int)
    price = _number(vehicle.get("price"), Decimal)
    return {
        "interest": interest if interest in VehicleInterest.values else VehicleInterest.BUY,
        "condition": _text(vehicle.get("status"), "condition"),
        "year": year if year and 1900 <= year <= 2100 else None,
        "make": _text(vehicle.get("make"), "make"),
        "model": _text(vehicle.get("model"), "model"),
        "trim": _text(vehicle.get("trim"), "trim"),
        "vin": _text(vehicle.get("vin"), "vin"),
        "stock_number": _text(vehicle.get("stock"), "stock_number"),
        "odometer_km": odometer if odometer is not None and 0 <= odometer < 10_000_000 else None,
        "price": price if price is not None and 0 <= price < Decimal("100000000") else None,
    }


def _vehicle_keys(vehicle: LeadVehicle) -> set[tuple]:
    """What makes two inquiries about the same vehicle: its VIN, its stock number, or its year, make
    and model for that interest (a trade-in of the same model is another car)."""
    keys = set()
    if vehicle.vin:
        keys.add(("vin", vehicle.vin.upper()))
    if vehicle.stock_number:
        keys.add(("stock", vehicle.stock_number.upper()))
    if vehicle.make and vehicle.model:
        keys.add(("model", vehicle.interest, vehicle.year, vehicle.make.casefold(), vehicle.model.casefold()))
    return keys


def _lead_vehicles_add(*, lead: Lead, vehicles: list[dict]) -> list[LeadVehicle]:
    """Add to an open lead the vehicles a new inquiry names that it does not have yet; those added."""
    known = set().union(*(_vehicle_keys(vehicle) for vehicle in lead.vehicles.all()))
    added = []
    for fields in vehicles:
        vehicle = LeadVehicle(lead=lead, **fields)
        keys = _vehicle_keys(vehicle)
        if not keys or keys & known:  # nothing to tell it by, or asked about before
            continue
        known |= keys
        added.append(vehicle)
    if added:
        LeadVehicle.objects.bulk_create(added)
        lead_vehicle_wanted_refresh(lead=lead)
    return added


def _lead_replied_to(decision: Triage) -> Lead | None:
    """The lead a reply answers: by its signed reply address, else by the mail it quotes. A reply
    to a lead merged since into another joins that one, where the conversation now is."""
    if decision.reply_lead_id:
        lead = Lead.objects.filter(pk=decision.reply_lead_id).first()
        if lead is not None:
            return lead_kept(lead)
    if decision.in_reply_to_ids:
        earlier = (
            Message.objects.filter(message_id__in=decision.in_reply_to_ids, lead__isnull=False)
            .order_by("-occurred_at")
            .first()
        )
        if earlier is not None:
            return earlier.lead
    return None


def _on_reply(inbound: InboundMail, parsed: ParsedMail, decision: Triage) -> None:
    lead = _lead_replied_to(decision)
    if lead is None:  # a reply to something we no longer know: still a customer writing to us
        _on_lead(inbound, parsed, decision)
        return
    contact = decision.contact or {}
    if phone := normalize_phone(contact.get("phone")):
        # "Call me at …" in a reply is kept as in a fresh mail: a blank filled, else one more number,
        # and its extension.
        customer_contacts_learned(customer=lead.customer, phone=phone)
        customer_phone_extension_keep(
            customer=lead.customer, phone=phone, extension=contact.get("phone_extension") or ""
        )
    message = _inbound_message_create(inbound=inbound, parsed=parsed, customer=lead.customer, lead=lead)
    lead_event_add(lead=lead, type="customer_replied", message=message.pk, inbound_mail=inbound.pk)
    lead_customer_wrote(lead=lead, at=message.occurred_at)
    _promotion_credit(lead=lead, parsed=parsed)
    inbound.outcome = InboundOutcome.REPLY


def _on_forward(inbound: InboundMail, parsed: ParsedMail, decision: Triage) -> None:
    department = Department.objects.filter(code=decision.department).first()
    if department is None or not department.forward_email:
        raise LookupError(
            f"No forward address for the {decision.department or 'unknown'} department: "
            "set one up under Departments, then replay this message."
        )
    customer = _customer_for(parsed, decision)
    _inbound_message_create(
        inbound=inbound, parsed=parsed, customer=customer, lead=None, **_customer_words(decision)
    )
    forwarded = ForwardedMail.objects.create(
        inbound=inbound,
        department=department,
        customer=customer,
        to_address=department.forward_email,
        # The department answers the customer: also when a salesperson passed their mail on, or a
        # website or classifieds site sent it in their name.
        from_address=((decision.contact or {}).get("email") or parsed.from_address)[:320],
        subject=parsed.subject[:998],
        message_id=new_message_id(),
    )
    inbound.outcome = InboundOutcome.FORWARDED
    transaction.on_commit(lambda: _enqueue("send_forward", forwarded.pk))


def _on_auto_reply(inbound: InboundMail, decision: Triage) -> None:
    """Recorded, never answered: answering an automatic reply starts a mail loop."""
    inbound.lead = _lead_replied_to(decision)
    inbound.outcome = InboundOutcome.AUTO_REPLY
    inbound.status = InboundStatus.IGNORED


def _on_bounce(inbound: InboundMail, parsed: ParsedMail, decision: Triage) -> None:
    """Recorded, never answered; a permanent failure marks the address undeliverable, and the
    forward or the mail to a customer it returns as failed."""
    inbound.lead = _lead_replied_to(decision)
    inbound.outcome = InboundOutcome.BOUNCE
    inbound.status = InboundStatus.IGNORED
    if not decision.bounce_permanent:
        return  # a delay: the server is still trying
    addresses = {normalize_email(address) for address in decision.bounce_recipients} - {""}
    # Only an address the store's mail it returns went to: a notice naming others, or returning
    # nothing the store sent, would stop the store writing to whichever customers it names.
    if undeliverable := addresses & store_mail_recipients(message_ids=decision.in_reply_to_ids):
        reason = f"Permanent delivery failure reported on {timezone.localdate():%Y-%m-%d} (inbound mail {inbound.pk})."
        Customer.objects.filter(email__in=undeliverable).update(
            email_undeliverable=True, email_undeliverable_reason=reason, updated_at=timezone.now()
        )
    # The mail went out, so it reads "sent", yet the department or the customer never got it:
    # "failed" with the server's reason puts it before the department and the supervisor (at the
    # top of the lead page), to send on by hand or reach the customer another way.
    diagnostics = "; ".join(dict.fromkeys(s.diagnostic for s in parsed.delivery_status if s.diagnostic))
    error = (
        f"Returned undelivered to {', '.join(sorted(addresses)) or 'the recipient'} "
        f"(inbound mail {inbound.pk}){': ' + diagnostics if diagnostics else '.'}"
    )[:2000]
    returned = {"message_id__in": decision.in_reply_to_ids, "send_status": Message.SendStatus.SENT}
    ForwardedMail.objects.filter(**returned).update(send_status=Message.SendStatus.FAILED, send_error=error)
    Message.objects.filter(direction=Direction.OUTBOUND, **returned).update(
        send_status=Message.SendStatus.FAILED, send_error=error
    )
    for message_id in decision.in_reply_to_ids:  # a promotion's campaign mail counts it too
        campaign_bounce_record(message_id=message_id)


# --- mail the store sends in answer ------------------------------------------------------------


def _acknowledgement_create(*, lead: Lead, customer: Customer, inbound_message: Message) -> Message:
    """The immediate 'we have your inquiry' mail, in the customer's language, threaded on the lead.

    Created in the same transaction as the lead, so it exists once; sent after commit by the task
    that sends every email to a customer (replies.message_deliver)."""
    language = lead.language if lead.language in ("en", "fr") else store_language()
    context = {"lead": lead, "customer": customer, "store": settings.STORE}
    subject, _, body = (
        render_to_string(f"leads/mail/acknowledgement_{language}.txt", context).strip().partition("\n")
    )
    message = Message.objects.create(
        lead=lead,
        customer=customer,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        from_address=settings.DEFAULT_FROM_EMAIL,
        to_addresses=[customer.email],
        subject=subject.strip(),
        body_text=body.strip() + "\n",
        message_id=new_message_id(lead.pk),
        in_reply_to=inbound_message.message_id,
        references=references_answering(inbound_message),
        send_status=Message.SendStatus.QUEUED,
        occurred_at=timezone.now(),
    )
    lead_event_add(lead=lead, type="acknowledged", message=message.pk)
    transaction.on_commit(lambda: _enqueue("message_send", message.pk))
    return message


def _forward_email(forwarded: ForwardedMail) -> EmailMessage:
    inbound = forwarded.inbound
    body = render_to_string("leads/mail/forward.txt", {"forwarded": forwarded, "inbound": inbound})
    email = EmailMessage(
        subject=f"Fwd: {forwarded.subject}" if forwarded.subject else "Fwd: (no subject)",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[forwarded.to_address],
        reply_to=[forwarded.from_address] if forwarded.from_address else None,
        headers={"Message-ID": forwarded.message_id, "Auto-Submitted": "auto-forwarded"},
    )
    email.attach("original.eml", bytes(inbound.raw), "message/rfc822")
    return email


def _forward_finish(forwarded: ForwardedMail, status: str, error: str = "") -> None:
    forwarded.send_status, forwarded.send_error = status, error[:2000]
    fields = ["send_status", "send_error"]
    if status == Message.SendStatus.SENT:
        forwarded.sent_at = timezone.now()
        fields.append("sent_at")
    forwarded.save(update_fields=fields)


def forward_send(*, forwarded_id: int, final_attempt: bool = False) -> ForwardedMail:
    """Send a queued forward once (replies.queued_mail_deliver). Nothing reached the server: it stays
    queued and MailServerUnavailable is raised for a retry (after the final attempt, the sweep,
    inbound_requeue_waiting, queues it again while the server is away). Anything
    after the hand-over, a refusal or an interruption, is final: a duplicate is worse than a gap the
    supervisor can see."""
    forwarded, _ = queued_mail_deliver(
        queryset=ForwardedMail.objects.select_related("inbound"),
        pk=forwarded_id,
        email_for=_forward_email,
        finish=_forward_finish,
        interrupted_error=INTERRUPTED_SEND,
        send_error_for=str,
        final_attempt=final_attempt,
    )
    return forwarded
