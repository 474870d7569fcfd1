"""Writes to the consent ledger, and the one way commercial email leaves the store.

Implied consent from an inquiry or a purchase is recorded for electronic messages (email and text,
which CASL governs); phone calls follow the telemarketing rules and need express consent here.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dealership.outgoing_mail import StoreEmailMessage

from ..consent_links import UNSUBSCRIBE_SALT, unsubscribe_language_in, unsubscribe_url
from ..models import (
    Channel,
    ConsentAction,
    ConsentBasis,
    ConsentChannel,
    ConsentRecord,
    Customer,
    CustomerHistoryItem,
    Direction,
    HistoryKind,
    Message,
)
from ..selectors.consent import ConsentStatus, consent_check, consent_expiry, consent_ledger, consent_status
from .audit import audit_record

ELECTRONIC_CHANNELS = [ConsentChannel.EMAIL, ConsentChannel.TEXT]


def _standing(customer: Customer, channels, at: datetime) -> dict[str, str]:
    """Each channel's standing as a short text for the audit trail, from one read of the ledger."""
    records = list(consent_ledger(customer=customer))
    standing = {}
    for channel in channels:
        status = consent_status(records, channel=channel, at=at)
        standing[channel] = status.basis if status.valid else f"none ({status.reason})"
    return standing


def _record(
    *, customer: Customer, channels, action: str, at: datetime, actor=None, **fields
) -> list[ConsentRecord]:
    """Append one ledger row per channel and audit how each channel's standing changed."""
    before = _standing(customer, channels, at)
    records = ConsentRecord.objects.bulk_create(
        ConsentRecord(
            customer=customer, channel=channel, action=action, given_at=at, recorded_by=actor, **fields
        )
        for channel in channels
    )
    after = _standing(customer, channels, at)
    changes = {channel: [before[channel], after[channel]] for channel in channels}
    audit_record(customer=customer, action=f"consent_{action}", changes=changes, actor=actor)
    return records


# A clock a few minutes ahead of the server's is not the future.
FUTURE_TOLERANCE = timedelta(minutes=5)


@transaction.atomic
def consent_grant(
    *,
    customer: Customer,
    channels: list[str],
    basis: str,
    at: datetime,
    source: str,
    wording: str = "",
    proof_form: str = "",
    proof_ip: str | None = None,
    relationship_ends_at: datetime | None = None,
    actor=None,
) -> list[ConsentRecord]:
    """Record consent given. Express consent needs the wording shown; a written contract counts
    two years from the day it ends (relationship_ends_at), the other implied kinds from `at`."""
    if basis == ConsentBasis.EXPRESS and not wording.strip():
        raise ValueError(_("Express consent needs the wording the customer agreed to."))
    if basis != ConsentBasis.EXPRESS and ConsentChannel.PHONE in channels:
        raise ValueError(_("Phone calls need express consent; implied consent covers email and text only."))
    if at > timezone.now() + FUTURE_TOLERANCE:
        # A year typed wrong would otherwise outrank, when its day comes, a withdrawal made since.
        raise ValueError(_("Consent cannot be given in the future: check the date."))
    if basis == ConsentBasis.BUSINESS_RELATIONSHIP and relationship_ends_at is None:
        raise ValueError(_("Say when the contract ends."))
    if basis != ConsentBasis.BUSINESS_RELATIONSHIP:
        relationship_ends_at = None  # a contract's end counts for a written contract only
    expires_at = consent_expiry(basis=basis, starts_at=relationship_ends_at or at)
    evidence = {"relationship_ends_at": relationship_ends_at.isoformat()} if relationship_ends_at else {}
    return _record(
        customer=customer,
        channels=channels,
        action=ConsentAction.GRANT,
        at=at,
        actor=actor,
        basis=basis,
        expires_at=expires_at,
        source=source[:200],
        wording=wording,
        proof_form=proof_form,
        proof_ip=proof_ip or None,
        evidence=evidence,
    )


def _implied(*, customer: Customer, basis: str, at: datetime, source: str) -> list[ConsentRecord]:
    """Implied consent on the electronic channels the customer gave us; recording the same
    inquiry or purchase twice adds nothing."""
    recorded = set(
        ConsentRecord.objects.filter(customer=customer, basis=basis, given_at=at).values_list(
            "channel", flat=True
        )
    )
    channels = [
        channel
        for channel, known in ((ConsentChannel.EMAIL, customer.email), (ConsentChannel.TEXT, customer.phone))
        if known and channel not in recorded
    ]
    if not channels:
        return []
    return consent_grant(customer=customer, channels=channels, basis=basis, at=at, source=source)


@transaction.atomic
def consent_record_inquiry(*, customer: Customer, at: datetime, source: str) -> list[ConsentRecord]:
    """An inquiry implies consent for six months (call it for every lead made from an inquiry)."""
    return _implied(customer=customer, basis=ConsentBasis.IMPLIED_INQUIRY, at=at, source=source)


@transaction.atomic
def consent_record_purchase(*, customer: Customer, at: datetime, source: str) -> list[ConsentRecord]:
    """A purchase or lease implies consent for two years from its date."""
    return _implied(customer=customer, basis=ConsentBasis.IMPLIED_PURCHASE, at=at, source=source)


@transaction.atomic
def consent_end_purchase(
    *, customer: Customer, purchase_at: datetime, source: str, actor=None
) -> list[ConsentRecord]:
    """A purchase or lease that did not happen after all (the deal fell through) implies no consent:
    the consent recorded from it ends now, on each channel it was given. What it allowed until now
    stays as it was, and so does every other consent (an inquiry's, express consent, a withdrawal)."""
    ledger = ConsentRecord.objects.filter(customer=customer, basis=ConsentBasis.IMPLIED_PURCHASE)
    evidence = {"purchase_at": purchase_at.astimezone(UTC).isoformat()}  # one spelling of the moment
    given = ledger.filter(action=ConsentAction.GRANT, given_at=purchase_at).values_list("channel", flat=True)
    ended = ledger.filter(action=ConsentAction.END, evidence=evidence).values_list("channel", flat=True)
    channels = sorted(set(given) - set(ended))  # ended once, however often it is asked
    if not channels:
        return []
    return _record(
        customer=customer,
        channels=channels,
        action=ConsentAction.END,
        at=timezone.now(),
        actor=actor,
        basis=ConsentBasis.IMPLIED_PURCHASE,
        source=source[:200],
        evidence=evidence,
    )


@transaction.atomic
def consent_withdraw(
    *,
    customer: Customer,
    channels: list[str],
    source: str,
    at: datetime | None = None,
    actor=None,
    ip: str | None = None,
) -> list[ConsentRecord]:
    """Unsubscribe: effective at once, and it wins over every consent given before."""
    return _record(
        customer=customer,
        channels=channels,
        action=ConsentAction.WITHDRAW,
        at=at or timezone.now(),
        actor=actor,
        source=source[:200],
        proof_ip=ip or None,
    )


def unsubscribe_customer(token: str) -> Customer | None:
    """The customer an unsubscribe token was made for (the surviving record after a merge).
    No max_age: CASL wants the link to keep working at least 60 days; ours never expires."""
    try:
        payload = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):  # a timestamp after the payload is not JSON
        try:  # links mailed before tokens stopped carrying a timestamp
            payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        except signing.BadSignature:
            return None
    customer = Customer.objects.filter(pk=payload.get("c") if isinstance(payload, dict) else None).first()
    while customer is not None and customer.merged_into_id:
        customer = customer.merged_into
    return customer


def absolute_unsubscribe_url(customer: Customer, *, language: str = "") -> str:
    """The link in a mail: its page opens in the mail's language (`language`, else the customer's).
    At SITE_URL made whole, as the mail's other links to this application are."""
    from promotions.links import public_url  # promotions builds on this app

    return public_url(unsubscribe_url(customer, language=language or customer.language))


def commercial_email_headers(customer: Customer, *, language: str = "") -> dict:
    """RFC 2369 and RFC 8058 headers, so mail programs offer a one-click unsubscribe. `language`:
    the mail's, as given to commercial_footer, so that both carry the same link."""
    return {
        "List-Unsubscribe": f"<{absolute_unsubscribe_url(customer, language=language)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def commercial_email_headers_matching(customer: Customer, *, body: str) -> dict:
    """commercial_email_headers for a mail written earlier (an answer, a follow-up step) and sent
    now: the header's link opens the page in the language its footer's link does."""
    return commercial_email_headers(customer, language=unsubscribe_language_in(body))


def commercial_footer(customer: Customer, *, language: str = "") -> str:
    """The store's identification and the unsubscribe link, in the customer's language (or the one given)."""
    language = language or customer.language
    return render_to_string(
        "leads/mail/_commercial_footer.txt",
        {
            "store": settings.STORE,
            "unsubscribe_url": absolute_unsubscribe_url(customer, language=language),
            "language": language,
        },
    )


@dataclass(frozen=True)
class SendResult:
    sent: bool
    reason: str = ""
    message: Message | None = None


def commercial_email_refusal(
    *, customer: Customer, at: datetime, transactional: bool = False, consent: ConsentStatus | None = None
) -> str:
    """Why no email may go to this customer at `at` ("" when it may): every sender asks this.
    transactional=True asks about the address only; `consent` is the customer's email standing at
    `at` when the caller has read it already."""
    if customer.merged_into_id:
        return _("record merged into customer %(id)s") % {"id": customer.merged_into_id}
    if not customer.email:
        return _("no email address")
    if customer.email_undeliverable:  # set by mail ingestion when the address bounces
        return _("address %(email)s is undeliverable") % {"email": customer.email}
    if transactional:
        return ""
    consent = consent or consent_check(customer=customer, channel=ConsentChannel.EMAIL, at=at)
    return "" if consent.valid else f"no valid consent: {consent.reason}"


def commercial_email_send(
    *,
    customer: Customer,
    subject: str,
    body: str,
    transactional: bool = False,
    actor=None,
    lead=None,
    from_email: str | None = None,
    message_id: str = "",
    consent: ConsentStatus | None = None,
    connection: BaseEmailBackend | None = None,
    language: str = "",
) -> SendResult:
    """Send one email to a customer, only when the ledger allows it; a refusal is kept on the
    customer's timeline with its reason. transactional=True is for replies to the customer's own
    request: no consent needed, still identified with the store's footer. message_id: the
    Message-ID chosen beforehand (to match bounces to the mail), else the mail library's. consent:
    the customer's email standing now, when the caller read it with the customer. connection: an
    open mail connection to send on (a batch shares one), else the default mailer's."""
    now = timezone.now()
    reason = commercial_email_refusal(customer=customer, at=now, transactional=transactional, consent=consent)
    if reason:
        CustomerHistoryItem.objects.create(
            customer=customer,
            kind=HistoryKind.MAIL_WITHHELD,
            occurred_at=now,
            summary=f"Not sent: {subject}"[:300],
            details={"reason": reason, "subject": subject, "transactional": transactional},
            created_by=actor,
        )
        return SendResult(False, reason)
    # The footer in the body's language (`language`, when the caller wrote it in another than the customer's).
    full_body = f"{body.rstrip()}\n\n{commercial_footer(customer, language=language)}"
    headers = {} if transactional else commercial_email_headers(customer, language=language)
    email = StoreEmailMessage(
        subject=subject,
        body=full_body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
        headers={"Message-ID": message_id, **headers} if message_id else headers,
    )
    (connection or mailers.default).send_messages([email])
    message = Message.objects.create(
        customer=customer,
        lead=lead,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        author=actor,
        from_address=email.from_email,
        to_addresses=[customer.email],
        subject=subject,
        body_text=full_body,
        message_id=message_id,
        send_status=Message.SendStatus.SENT,
        occurred_at=now,
    )
    return SendResult(True, message=message)
