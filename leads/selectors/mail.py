"""Reads for mail in, scoped to what the person asking may see."""

from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dealership.cache_generations import cached_in_generation, generation_next
from dealership.models import Department, Role, StaffMember, oversees_store
from promotions.models import CampaignRecipient

from ..mail.sources import configured_sources
from ..models import Direction, ForwardedMail, InboundMail, InboundStatus, Mailbox, Message
from ..normalize import normalize_email

MAILBOXES_BEHIND = "mailboxes-behind"
MAILBOXES_BEHIND_SECONDS = 60
# A mailbox not read for this long (or three polls' time, when polls are further apart) has stopped
# being read: its server refuses, or the worker or its broker is down.
MAILBOX_BEHIND_AFTER = timedelta(minutes=10)


def inbound_mail_visible_to(*, user) -> QuerySet[InboundMail]:
    """Supervisors, managers and admins see all inbound mail (quarantine included); department staff
    the mail forwarded to their department; an advisor the mail on leads assigned to them."""
    mail = InboundMail.objects.all()
    staff = getattr(user, "staff", None)
    if oversees_store(user):
        return mail
    if staff and staff.role == Role.DEPARTMENT:
        return mail.filter(forward__department=staff.department)
    if staff and staff.role == Role.ADVISOR:
        return mail.filter(lead__owner=user)
    return mail.none()


def inbound_mail_list(*, user, filters: dict | None = None) -> QuerySet[InboundMail]:
    filters = filters or {}
    mail = inbound_mail_visible_to(user=user).defer("raw").select_related("mailbox", "lead__customer")
    if (status := filters.get("status")) in InboundStatus.values:
        mail = mail.filter(status=status)
    return mail.order_by("-received_at", "-pk")


def lead_inbound_mail(*, lead) -> QuerySet[InboundMail]:
    """The mail that reached this lead, newest first; the raw messages stay in the database."""
    return (
        InboundMail.objects.filter(lead=lead)
        .only("pk", "received_at", "subject")
        .order_by("-received_at", "-pk")
    )


def inbound_mail_get(*, user, pk: int) -> InboundMail:
    """One message with what its page shows; the raw message (up to MAIL_MAX_MESSAGE_BYTES) is read
    only when asked for."""
    return (
        inbound_mail_visible_to(user=user)
        .defer("raw")
        .select_related("mailbox", "lead__customer", "conversation_message", "forward__department")
        .get(pk=pk)
    )


def inbound_mail_raw(*, user, pk: int) -> InboundMail:
    """One message's bytes as received, and nothing else."""
    return inbound_mail_visible_to(user=user).only("pk", "raw").get(pk=pk)


def inbound_mail_counts(*, user) -> dict[str, int]:
    """How many messages the person sees in each status, in one query."""
    return inbound_mail_visible_to(user=user).aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in InboundStatus.values}
    )


def forwarded_mail_for(*, user) -> QuerySet[ForwardedMail]:
    """The mail forwarded to the department of the person asking (every department's for those who
    see all mail)."""
    forwarded = ForwardedMail.objects.select_related("department", "customer", "inbound").defer(
        "inbound__raw"
    )
    staff = getattr(user, "staff", None)
    if oversees_store(user):
        return forwarded
    if staff and staff.role == Role.DEPARTMENT:
        return forwarded.filter(department=staff.department)
    return forwarded.none()


def mailbox_status(*, user) -> QuerySet[Mailbox]:
    """The mailboxes read, when last and with what error, for those who see all mail."""
    if oversees_store(user):
        return Mailbox.objects.order_by("name")
    return Mailbox.objects.none()


def mailboxes_behind(*, user) -> list[dict]:
    """The store's mailboxes not read lately (its last poll failed, or none read it for
    MAILBOX_BEHIND_AFTER and none is reading it now), each with when it was last read and the error,
    for those who see all mail. Read at most once a minute, and again after each poll."""
    if not oversees_store(user):
        return []

    def behind() -> list[dict]:
        now = timezone.now()
        late = now - max(MAILBOX_BEHIND_AFTER, 3 * timedelta(seconds=settings.MAILBOX_POLL_SECONDS))
        unread = Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=late)
        being_read = Q(locked_until__gt=now)  # a long read (a backlog) still going: not behind
        stale = (unread & ~being_read) | ~Q(last_error="")
        return list(
            Mailbox.objects.filter(stale, name__in=[source.name for source in configured_sources()])
            .order_by("name")
            .values("name", "last_polled_at", "last_error")
        )

    return cached_in_generation(MAILBOXES_BEHIND, "all", behind, MAILBOXES_BEHIND_SECONDS)


def mailboxes_behind_changed() -> None:
    generation_next(MAILBOXES_BEHIND)


def department_forward_addresses() -> set[str]:
    """The departments' forward addresses, lowercase: their mail is never a customer's (triage)."""
    return {
        address.lower()
        for address in Department.objects.exclude(forward_email="").values_list("forward_email", flat=True)
    }


def store_mail_recipients(*, message_ids: list[str]) -> set[str]:
    """The addresses the store's mail of these Message-IDs went to (lowercase): mail on a lead (an
    answer, an acknowledgement, a follow-up, an invitation) or a campaign's. Anyone can write a mail
    that reads like a bounce: its word is taken only about the store's mail it returns."""
    ids = [message_id.strip() for message_id in message_ids if message_id.strip()]
    if not ids:
        return set()
    on_leads = Message.objects.filter(direction=Direction.OUTBOUND, message_id__in=ids)
    addresses = [address for sent in on_leads.values_list("to_addresses", flat=True) for address in sent]
    addresses += CampaignRecipient.objects.filter(message_id__in=ids).values_list("email", flat=True)
    return {normalize_email(parseaddr(address)[1]) for address in addresses} - {""}


def staff_address_exists(*, address: str) -> bool:
    """Whether a member of staff, or a department's mailbox, has this address."""
    return (
        StaffMember.objects.filter(user__email__iexact=address).exists()
        or Department.objects.filter(forward_email__iexact=address).exists()
    )
