from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone

from leads.models import LeadStatus
from leads.services.leads import lead_transition
from promotions.models import CampaignRecipient, CampaignStatus, RecipientStatus
from promotions.selectors import campaign_report
from promotions.services.campaigns import (
    STALE_CLAIM,
    _claim,
    campaign_batch_send,
    campaign_bounce_record,
    campaign_create,
    campaign_recipient_unsubscribe,
    campaign_start,
)
from promotions.services.promotions import PromotionError, public_lead_submit
from tests import factories

pytestmark = pytest.mark.django_db


def _customer_with_consent(**fields):
    """A customer who asked the store something last month: CASL's implied consent."""
    customer = factories.customer(**fields)
    factories.lead(customer_obj=customer, received_at=timezone.now() - timedelta(days=30))
    return customer


def _campaign(promotion=None, name="Spring mailing", **audience):
    return campaign_create(
        promotion=promotion or factories.promotion(name="Spring tires", landing_slug="spring-tires"),
        name=name,
        send_on=timezone.localdate(),
        subject_en="{first_name}, spring tires are in",
        body_en="Hello {first_name}, book your tire change.",
        subject_fr="{first_name}, les pneus d'été sont arrivés",
        body_fr="Bonjour {first_name}, réservez votre changement de pneus.",
        audience=audience,
    )


def _send_all(campaign, *, batch=2):
    for _ in range(20):
        if not campaign_batch_send(campaign=campaign, limit=batch):
            return
    raise AssertionError("the campaign never finished")


def test_only_customers_with_consent_receive_it_each_once_in_their_language(
    django_capture_on_commit_callbacks,
):
    english = _customer_with_consent(first_name="Ann", language="en")
    french = _customer_with_consent(first_name="Éloïse", language="fr")
    stranger = factories.customer(first_name="Nobody")  # never asked anything
    old = factories.customer(first_name="Old")
    factories.lead(customer_obj=old, received_at=timezone.now() - timedelta(days=400))
    campaign = _campaign()
    with django_capture_on_commit_callbacks() as callbacks:
        assert campaign_start(campaign=campaign) == {"queued": 2, "skipped": 2}
    assert len(callbacks) == 1  # the first batch is enqueued once the rows are committed

    _send_all(campaign)

    assert sorted(m.to[0] for m in mail.outbox) == sorted([english.email, french.email])
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[english.email].subject == "Ann, spring tires are in"
    assert by_address[french.email].subject == "Éloïse, les pneus d'été sont arrivés"
    assert "Bonjour Éloïse" in by_address[french.email].body
    assert "Pour ne plus recevoir nos offres" in by_address[french.email].body
    message = by_address[english.email]
    assert message.extra_headers["List-Unsubscribe"].startswith(
        "<https://www.maplemotors.example/offers/unsubscribe/"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "1200 King Street West" in message.body  # CASL: the sender's mailing address
    skipped = {r.customer: r.reason for r in campaign.recipients.filter(status=RecipientStatus.SKIPPED)}
    assert skipped == {
        stranger: "No consent on record (no purchase in 2 years, no inquiry in 6 months).",
        old: "No consent on record (no purchase in 2 years, no inquiry in 6 months).",
    }
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE
    assert campaign_report(campaign=campaign) | {"leads": 0} == {
        "queued": 0,
        "sent": 2,
        "skipped": 2,
        "failed": 0,
        "bounced": 0,
        "unsubscribed": 0,
        "leads": 0,
    }


def test_a_recipient_left_sending_by_a_dead_worker_is_never_sent_twice():
    customers = [_customer_with_consent(first_name=f"C{n}") for n in range(5)]
    campaign = _campaign()
    campaign_start(campaign=campaign)
    # A worker claims one row, then dies before it could record whether the mail left.
    (claimed,) = _claim(campaign=campaign, limit=1)
    # Restarted workers run the batch, twice over.
    _send_all(campaign, batch=3)
    _send_all(campaign, batch=3)
    sent_to = [m.to[0] for m in mail.outbox]
    assert sorted(sent_to) == sorted(c.email for c in customers if c != claimed.customer)
    assert len(sent_to) == len(set(sent_to)) == 4
    claimed.refresh_from_db()
    assert claimed.status == RecipientStatus.SENDING

    # Long after, the row is closed as interrupted, visibly, and still not sent again.
    CampaignRecipient.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now() - STALE_CLAIM * 2)
    campaign_batch_send(campaign=campaign, limit=10)
    claimed.refresh_from_db()
    assert claimed.status == RecipientStatus.FAILED
    assert claimed.reason == "Sending was interrupted; not sent again so nobody gets it twice."
    assert len(mail.outbox) == 4
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE


def test_a_customer_is_in_a_campaign_once_and_a_campaign_starts_once():
    customer = _customer_with_consent()
    campaign = _campaign()
    campaign_start(campaign=campaign)
    with pytest.raises(PromotionError, match="A campaign that is sending cannot become sending"):
        campaign_start(campaign=campaign)
    with pytest.raises(IntegrityError):
        CampaignRecipient.objects.create(campaign=campaign, customer=customer, email=customer.email)


def test_audience_by_model_bought_and_language():
    owner = _customer_with_consent(language="fr")
    sold = factories.lead(customer_obj=owner, vehicles=[{"make": "Honda", "model": "Civic"}])
    lead_transition(lead=sold, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=sold, to_status=LeadStatus.SOLD)
    browser = _customer_with_consent(language="fr")
    factories.lead(
        customer_obj=browser, vehicles=[{"make": "Honda", "model": "Civic"}]
    )  # asked, never bought
    _customer_with_consent(language="en")
    campaign = _campaign(make="honda", model="civic", language="fr")
    assert campaign_start(campaign=campaign) == {"queued": 1, "skipped": 0}
    assert list(campaign.recipients.values_list("customer", flat=True)) == [owner.pk]


def test_unsubscribe_bounce_and_leads_show_in_the_report_and_the_next_campaign_skips(client):
    leaving, bouncing, buying = (_customer_with_consent() for _ in range(3))
    campaign = _campaign()
    campaign_start(campaign=campaign)
    _send_all(campaign)
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    recipient = campaign.recipients.get(email=mail.outbox[0].to[0])
    assert recipient.customer == leaving
    # One-click unsubscribe as a mail provider does it: a bare POST, no form, no session.
    assert client.post(link.removeprefix("https://www.maplemotors.example")).status_code == 200
    assert campaign_bounce_record(message_id=campaign.recipients.get(customer=bouncing).message_id)
    public_lead_submit(
        promotion=campaign.promotion,
        first_name="B",
        last_name="",
        email=buying.email,
        phone="",
        language="en",
        comments="",
        src=f"email-{campaign.pk}",
    )
    report = campaign_report(campaign=campaign)
    assert (report["sent"], report["unsubscribed"], report["bounced"], report["leads"]) == (3, 1, 1, 1)

    again = _campaign(campaign.promotion, name="Reminder")
    assert campaign_start(campaign=again) == {"queued": 2, "skipped": 1}
    assert again.recipients.get(customer=leaving).reason == "Unsubscribed from the store's email."


def test_unsubscribing_twice_is_harmless():
    customer = _customer_with_consent()
    campaign = _campaign()
    campaign_start(campaign=campaign)
    recipient = campaign.recipients.get(customer=customer)
    campaign_recipient_unsubscribe(recipient=recipient)
    campaign_recipient_unsubscribe(recipient=recipient)
    assert campaign_report(campaign=campaign)["unsubscribed"] == 1
