"""Email campaigns: the audience is frozen into recipient rows, then sent in batches, each once."""

from datetime import timedelta

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from dealership.queueing import queue_on_commit
from leads.selectors.consent import email_consent, email_ledger_prefetch
from leads.services.consent import commercial_email_refusal, commercial_email_send
from leads.services.replies import (
    REFUSALS,
    MailServerUnavailable,
    mail_connection_open,
    refusal_is_temporary,
    temporary_refusal,
)

from ..links import landing_url
from ..models import Campaign, CampaignRecipient, CampaignStatus, PromotionStatus, RecipientStatus
from ..selectors import campaign_audience, campaign_batch_too_soon, campaigns_to_send
from .promotions import PUBLISHED, PromotionError, promotion_event_add, transition_check
from .sharing import info_shares_resume

# The campaign status machine.
CAMPAIGN_TRANSITIONS: dict[str, set[str]] = {
    CampaignStatus.DRAFT: {CampaignStatus.SENDING},
    # Paused (a mistake seen once it started): nothing more leaves until it is resumed.
    CampaignStatus.SENDING: {CampaignStatus.PAUSED, CampaignStatus.DONE},
    CampaignStatus.PAUSED: {CampaignStatus.SENDING},
    CampaignStatus.DONE: set(),
}
# A row still 'sending' this long after it was claimed belongs to a worker that died mid-send.
STALE_CLAIM = timedelta(minutes=10)
INTERRUPTED = gettext_noop("Sending was interrupted; not sent again so nobody gets it twice.")


@transaction.atomic
def campaign_create(*, promotion, actor=None, **fields) -> Campaign:
    campaign = Campaign(promotion=promotion, created_by=actor, **fields)
    campaign.full_clean()
    campaign.save()
    promotion_event_add(promotion=promotion, type="campaign_created", actor=actor, campaign=campaign.pk)
    return campaign


def _campaign_transition(*, campaign: Campaign, to_status: str, actor=None) -> None:
    transition_check(
        machine=CAMPAIGN_TRANSITIONS,
        choices=CampaignStatus,
        refused=gettext("A campaign that is %(from)s cannot become %(to)s."),
        unknown=gettext("A campaign cannot become %(to)s: its statuses are %(known)s."),
        from_status=campaign.status,
        to_status=to_status,
    )
    promotion_event_add(
        promotion=campaign.promotion,
        type="campaign_status_changed",
        actor=actor,
        campaign=campaign.pk,
        from_status=campaign.status,
        to_status=to_status,
    )
    campaign.status = to_status
    campaign.save(update_fields=["status"])


@transaction.atomic
def campaign_start(*, campaign: Campaign, actor=None) -> dict[str, int]:
    """Freeze the audience: a queued row per customer we may write to, a skipped row (and why) per other."""
    campaign = Campaign.objects.select_for_update().select_related("promotion").get(pk=campaign.pk)
    if campaign.promotion.status not in PUBLISHED:
        # Its mail links to the offer page, which is open only while the promotion runs.
        raise PromotionError(
            gettext("Schedule the promotion first: the campaign's mail links to its offer page.")
            if campaign.promotion.status == PromotionStatus.DRAFT
            else gettext("The promotion has ended: its offer page is closed.")
        )
    _campaign_transition(campaign=campaign, to_status=CampaignStatus.SENDING, actor=actor)
    rows = []
    now = timezone.now()
    for customer in campaign_audience(filters=campaign.audience).prefetch_related(email_ledger_prefetch()):
        if refusal := commercial_email_refusal(
            customer=customer, at=now, consent=email_consent(customer, at=now)
        ):
            status, reason = RecipientStatus.SKIPPED, _skip_reason(refusal)
        else:
            status, reason = RecipientStatus.QUEUED, ""
        rows.append(
            CampaignRecipient(
                campaign=campaign,
                customer=customer,
                email=customer.email,
                language=customer.language,
                status=status,
                reason=reason,
            )
        )
    CampaignRecipient.objects.bulk_create(rows, ignore_conflicts=True)
    counts = {"queued": 0, "skipped": 0}
    for row in rows:
        counts[row.status] += 1
    if counts["queued"]:
        _sending_kick()
    else:  # nobody may be written to: nothing to wait for
        _campaign_transition(campaign=campaign, to_status=CampaignStatus.DONE)
    return counts


def _sending_kick() -> None:
    """Once committed, the store's chain of batches goes on, or starts if none is running. The broker
    down (Redis restarting) keeps the campaign sending: campaigns_resume starts the chain later."""
    from ..tasks import campaigns_send_task

    queue_on_commit(campaigns_send_task)


@transaction.atomic
def campaign_pause(*, campaign: Campaign, actor=None) -> Campaign:
    """Stop sending: a batch already handed to the mail server finishes, no other one starts."""
    campaign = Campaign.objects.select_for_update().select_related("promotion").get(pk=campaign.pk)
    _campaign_transition(campaign=campaign, to_status=CampaignStatus.PAUSED, actor=actor)
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, actor=None) -> Campaign:
    """Send what is still queued, at the steady rate, as if it had never stopped."""
    campaign = Campaign.objects.select_for_update().select_related("promotion").get(pk=campaign.pk)
    _campaign_transition(campaign=campaign, to_status=CampaignStatus.SENDING, actor=actor)
    _sending_kick()
    return campaign


def _claim(*, campaign: Campaign, limit: int, interval: float) -> list[CampaignRecipient] | None:
    """Take up to `limit` queued rows for this worker alone; committed before any mail leaves.
    Nothing while the campaign is paused (read under the lock a pause takes); None when, paced by
    `interval`, another batch of the store's left less than that many seconds ago."""
    with transaction.atomic():
        # Every sending campaign locked, in one order, then the store's last claim read: two
        # batches, of one campaign or of two, never leave within one interval of each other.
        sending = Campaign.objects.select_for_update().filter(status=CampaignStatus.SENDING).order_by("pk")
        if campaign.pk not in set(sending.values_list("pk", flat=True)):
            return []
        if campaign_batch_too_soon(interval=interval):
            return None
        rows = list(
            CampaignRecipient.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer", "campaign__promotion")
            .prefetch_related(email_ledger_prefetch("customer__"))
            .filter(campaign=campaign, status=RecipientStatus.QUEUED)
            .order_by("pk")[:limit]
        )
        now = timezone.now()
        for row in rows:
            row.status, row.claimed_at = RecipientStatus.SENDING, now
            row.message_id = make_msgid(
                domain=settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or None
            )
        CampaignRecipient.objects.bulk_update(rows, ["status", "claimed_at", "message_id"])
    return rows


def _interrupted_close(*, campaign: Campaign) -> None:
    """Rows a dead worker left 'sending': the mail may have gone, so never send it again."""
    CampaignRecipient.objects.filter(
        campaign=campaign, status=RecipientStatus.SENDING, claimed_at__lt=timezone.now() - STALE_CLAIM
    ).update(status=RecipientStatus.FAILED, reason=INTERRUPTED)


def campaign_message(*, recipient: CampaignRecipient) -> tuple[str, str]:
    """The campaign's subject and body in the customer's language, first name filled in."""
    campaign, customer = recipient.campaign, recipient.customer
    french = recipient.language == "fr"
    first_name = customer.first_name or ("client" if french else "customer")
    body = (campaign.body_fr if french else campaign.body_en).replace("{first_name}", first_name)
    landing = landing_url(campaign.promotion, src=f"email-{campaign.pk}")
    code = f"{'Code de l’offre\u00a0:' if french else 'Offer code:'} {campaign.promotion.tracking_code}"
    # A header is one line: a first name typed with a line break in it is read as one.
    subject = (campaign.subject_fr if french else campaign.subject_en).replace(
        "{first_name}", " ".join(first_name.split())
    )
    return subject, f"{body.rstrip()}\n\n{landing}\n{code}"


def _skip_reason(refusal: str) -> str:
    return f"{refusal[:1].upper()}{refusal[1:]}."


def _release(recipients: list[CampaignRecipient]) -> None:
    """Claimed rows whose mail never reached the server: queued again, as if never claimed."""
    CampaignRecipient.objects.filter(pk__in=[r.pk for r in recipients]).update(
        status=RecipientStatus.QUEUED, claimed_at=None, message_id=""
    )


def _recipient_send(*, recipient: CampaignRecipient, connection: BaseEmailBackend) -> None:
    """Send one claimed row on the batch's connection and record the outcome; a refusal by the
    server, or a mail that cannot be built (a header), is final for that row. Any other mail error
    propagates, the row still 'sending'."""
    subject, body = campaign_message(recipient=recipient)
    try:
        # Sent the store's one way, which asks again: consent may be withdrawn or the address
        # found undeliverable since the start.
        result = commercial_email_send(
            customer=recipient.customer,
            subject=subject,
            body=body,
            message_id=recipient.message_id,
            consent=email_consent(recipient.customer, at=timezone.now()),
            connection=connection,
            language=recipient.language,  # the language the campaign was prepared in for them
        )
    except (*REFUSALS, ValueError) as error:  # refused by the server, or a mail that cannot be built
        if isinstance(error, REFUSALS) and refusal_is_temporary(error):
            raise temporary_refusal(error) from error
        recipient.status, recipient.reason = RecipientStatus.FAILED, f"Not sent: {error}"[:300]
    else:
        if result.sent:
            recipient.status, recipient.sent_at = RecipientStatus.SENT, result.message.occurred_at
        else:
            recipient.status, recipient.reason = RecipientStatus.SKIPPED, _skip_reason(result.reason)
    recipient.save(update_fields=["status", "reason", "sent_at"])


def _batch_deliver(recipients: list[CampaignRecipient]) -> None:
    """Send claimed rows on one connection. Only what the server took or refused is final: when
    it cannot be reached or goes away, the rows it never saw are queued again and
    MailServerUnavailable tells the task to retry."""
    try:
        connection = mail_connection_open()
    except MailServerUnavailable:
        _release(recipients)
        raise
    try:
        for position, recipient in enumerate(recipients):
            try:
                _recipient_send(recipient=recipient, connection=connection)
            except MailServerUnavailable:
                # Asked to try again later, having taken nothing: this row and the rest wait.
                _release(recipients[position:])
                raise
            except OSError as error:
                # The server went away with this mail in hand: it may have left, so never again.
                recipient.status, recipient.reason = RecipientStatus.FAILED, INTERRUPTED
                recipient.save(update_fields=["status", "reason"])
                _release(recipients[position + 1 :])
                raise MailServerUnavailable(str(error)) from error
    finally:
        connection.close()


def campaign_batch_send(*, campaign: Campaign, limit: int, interval: float = 0) -> int | None:
    """Send one batch; returns how many rows are still queued. Safe to run twice or in parallel.
    With an `interval`, paced with every other campaign: None, and nothing sent, when another
    batch of the store's left less than that many seconds ago."""
    _interrupted_close(campaign=campaign)
    recipients = _claim(campaign=campaign, limit=limit, interval=interval)
    if recipients is None:
        return None
    if recipients:
        _batch_deliver(recipients)
    return _campaign_finish_if_done(campaign=campaign)


def _campaign_finish_if_done(*, campaign: Campaign) -> int:
    """How many rows are still queued; with none queued and none going, the campaign is done."""
    remaining = CampaignRecipient.objects.filter(campaign=campaign, status=RecipientStatus.QUEUED).count()
    still_sending = CampaignRecipient.objects.filter(
        campaign=campaign, status=RecipientStatus.SENDING
    ).exists()
    if not remaining and not still_sending:
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().select_related("promotion").get(pk=campaign.pk)
            if campaign.status == CampaignStatus.SENDING:
                _campaign_transition(campaign=campaign, to_status=CampaignStatus.DONE)
    return remaining


def campaigns_batch_send(*, limit: int, interval: float) -> bool | None:
    """The store's next batch, from the campaign whose turn it is, at most one batch every
    `interval` seconds for the whole store. True while more is queued for a campaign whose day
    is here; None when another chain of batches sent within the interval (this one ends)."""
    campaign = campaigns_to_send().first()
    if campaign is None:
        return False
    if campaign_batch_send(campaign=campaign, limit=limit, interval=interval) is None:
        return None
    return campaigns_to_send().exists()


def campaigns_resume() -> int:
    """Every few minutes: a campaign whose last rows a dead worker left unfinished is closed, and
    the store's chain of batches starts again if it was lost with its worker (when it is still
    going, the new one finds its recent claim and ends). Information shared with colleagues whose
    task was lost is sent too (info_shares_resume). Returns how many campaigns may send."""
    for campaign in Campaign.objects.filter(status=CampaignStatus.SENDING).select_related("promotion"):
        _interrupted_close(campaign=campaign)
        _campaign_finish_if_done(campaign=campaign)
    due = campaigns_to_send().count()
    if due:
        from ..tasks import campaigns_send_task

        campaigns_send_task.delay_on_commit()
    info_shares_resume(now=timezone.now())
    return due


def campaign_bounce_record(*, message_id: str) -> bool:
    """For the mail pipeline: a bounce quoting one of our Message-IDs marks that recipient bounced."""
    return bool(
        CampaignRecipient.objects.filter(message_id=message_id.strip(), bounced_at=None).update(
            bounced_at=timezone.now()
        )
    )
