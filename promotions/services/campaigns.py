"""Email campaigns: the audience is frozen into recipient rows, then sent in batches, each once."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import transaction
from django.utils import timezone

from leads.models import ConsentChannel, Message
from leads.models.messages import Direction
from leads.selectors.consent import consent_check
from leads.services.consent import absolute_unsubscribe_url, commercial_email_headers, commercial_footer

from ..models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from ..selectors import campaign_audience
from .printing import tracked_url
from .promotions import promotion_event_add, transition_check

# The campaign status machine.
CAMPAIGN_TRANSITIONS: dict[str, set[str]] = {
    CampaignStatus.DRAFT: {CampaignStatus.SENDING},
    CampaignStatus.SENDING: {CampaignStatus.DONE},
    CampaignStatus.DONE: set(),
}
# A row still 'sending' this long after it was claimed belongs to a worker that died mid-send.
STALE_CLAIM = timedelta(minutes=10)


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
        noun="campaign",
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
    """Freeze the audience: a queued row per customer with consent, a skipped row (and why) per other."""
    campaign = Campaign.objects.select_for_update().select_related("promotion").get(pk=campaign.pk)
    _campaign_transition(campaign=campaign, to_status=CampaignStatus.SENDING, actor=actor)
    rows = []
    for customer in campaign_audience(filters=campaign.audience):
        consent = consent_check(customer=customer, channel=ConsentChannel.EMAIL)
        if not consent.valid:
            status, reason = RecipientStatus.SKIPPED, f"No valid consent: {consent.reason}."
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
    from ..tasks import campaign_batch_send_task

    campaign_batch_send_task.delay_on_commit(campaign_id=campaign.pk)
    return counts


def _claim(*, campaign: Campaign, limit: int) -> list[CampaignRecipient]:
    """Take up to `limit` queued rows for this worker alone; committed before any mail leaves."""
    with transaction.atomic():
        rows = list(
            CampaignRecipient.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer", "campaign__promotion")
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


def _interrupted_close(*, campaign: Campaign) -> int:
    """Rows a dead worker left 'sending': the mail may have gone, so never send it again."""
    return CampaignRecipient.objects.filter(
        campaign=campaign, status=RecipientStatus.SENDING, claimed_at__lt=timezone.now() - STALE_CLAIM
    ).update(
        status=RecipientStatus.FAILED,
        reason="Sending was interrupted; not sent again so nobody gets it twice.",
    )


def campaign_message(*, recipient: CampaignRecipient) -> EmailMessage:
    """The campaign in the customer's language, first name filled in, with the ledger's footer."""
    campaign, customer = recipient.campaign, recipient.customer
    french = recipient.language == "fr"
    first_name = customer.first_name or ("client" if french else "customer")
    body = (campaign.body_fr if french else campaign.body_en).replace("{first_name}", first_name)
    landing = tracked_url(f"/offers/{campaign.promotion.landing_slug}/", f"email-{campaign.pk}")
    code = f"{'Code de l’offre' if french else 'Offer code'} : {campaign.promotion.tracking_code}"
    link = absolute_unsubscribe_url(customer)  # one token for the footer and the headers
    return EmailMessage(
        subject=(campaign.subject_fr if french else campaign.subject_en).replace("{first_name}", first_name),
        body=f"{body.rstrip()}\n\n{landing}\n{code}\n\n{commercial_footer(customer, link=link)}",
        to=[recipient.email],
        headers={"Message-ID": recipient.message_id, **commercial_email_headers(customer, link=link)},
    )


def _timeline_record(*, recipient: CampaignRecipient, message: EmailMessage) -> None:
    """The mail on the customer's timeline, like every other message the store sends."""
    Message.objects.create(
        customer=recipient.customer,
        direction=Direction.OUTBOUND,
        from_address=message.from_email,
        to_addresses=message.to,
        subject=message.subject,
        body_text=message.body,
        message_id=recipient.message_id,
        send_status=Message.SendStatus.SENT,
        occurred_at=recipient.sent_at,
    )


def campaign_batch_send(*, campaign: Campaign, limit: int) -> int:
    """Send one batch; returns how many rows are still queued. Safe to run twice or in parallel."""
    _interrupted_close(campaign=campaign)
    for recipient in _claim(campaign=campaign, limit=limit):
        # Consent is asked again at sending time: it may have been withdrawn since the start.
        consent = consent_check(customer=recipient.customer, channel=ConsentChannel.EMAIL)
        message = campaign_message(recipient=recipient) if consent.valid else None
        try:
            if message is None:
                recipient.status, recipient.reason = (
                    RecipientStatus.SKIPPED,
                    f"No valid consent: {consent.reason}.",
                )
            else:
                message.send()
                recipient.status, recipient.sent_at = RecipientStatus.SENT, timezone.now()
        except OSError as error:  # SMTP refusals and connection errors
            recipient.status, recipient.reason = RecipientStatus.FAILED, f"Not sent: {error}"[:300]
        recipient.save(update_fields=["status", "reason", "sent_at"])
        if recipient.status == RecipientStatus.SENT:
            _timeline_record(recipient=recipient, message=message)
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


def campaigns_resume() -> int:
    """Start a batch again for every campaign still sending: a worker lost with its task loses
    nothing. A campaign whose batches are still going keeps one chain (see campaign_batch_due)."""
    from ..tasks import campaign_batch_send_task

    sending = Campaign.objects.filter(status=CampaignStatus.SENDING).values_list("pk", flat=True)
    for campaign_id in sending:
        campaign_batch_send_task.delay(campaign_id=campaign_id)
    return len(sending)


def campaign_bounce_record(*, message_id: str) -> bool:
    """For the mail pipeline: a bounce quoting one of our Message-IDs marks that recipient bounced."""
    return bool(
        CampaignRecipient.objects.filter(message_id=message_id.strip(), bounced_at=None).update(
            bounced_at=timezone.now()
        )
    )
