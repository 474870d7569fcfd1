from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Customer, LeadStatus, Message
from leads.services.consent import consent_record_inquiry, consent_withdraw
from leads.services.customers import history_item_add
from leads.services.leads import lead_transition
from leads.services.replies import MailServerUnavailable
from promotions.models import CampaignRecipient, CampaignStatus, RecipientStatus
from promotions.selectors import campaign_audience, campaign_report
from promotions.services.campaigns import (
    STALE_CLAIM,
    _claim,
    campaign_batch_send,
    campaign_bounce_record,
    campaign_start,
)
from promotions.services.promotions import PromotionError, public_lead_submit
from tests import factories
from tests.conftest import mail_server_down

pytestmark = pytest.mark.django_db


def _campaign(promotion=None, name="Spring mailing", **audience):
    return factories.campaign(
        promotion or factories.running_promotion(name="Spring tires", landing_slug="spring-tires"),
        name=name,
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
    django_capture_on_commit_callbacks, settings
):
    # The store's own website is another site: the offer's link is to this application's page.
    settings.SITE_URL = "https://crm.maplemotors.example"
    english = factories.customer_with_email_consent(first_name="Ann", language="en")
    french = factories.customer_with_email_consent(first_name="Éloïse", language="fr")
    stranger = factories.customer(first_name="Nobody")  # never asked anything
    old = factories.customer(first_name="Old")
    consent_record_inquiry(customer=old, at=timezone.now() - timedelta(days=400), source="web inquiry")
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
    assert "Pour ne plus recevoir nos messages" in by_address[french.email].body
    message = by_address[english.email]
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert message.extra_headers["List-Unsubscribe"].strip("<>") in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "1200 King Street West" in message.body  # CASL: the sender's mailing address
    assert f"https://crm.maplemotors.example/offers/spring-tires/?src=email-{campaign.pk}" in message.body
    skipped = {r.customer: r.reason for r in campaign.recipients.filter(status=RecipientStatus.SKIPPED)}
    assert skipped[stranger] == "No valid consent: no consent recorded."
    assert skipped[old].startswith("No valid consent: implied: inquiry") and "expired on" in skipped[old]
    assert Message.objects.filter(customer=english, subject="Ann, spring tires are in").exists()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE
    assert campaign_report(campaign=campaign) == {
        "queued": 0,
        "sent": 2,
        "skipped": 2,
        "failed": 0,
        "bounced": 0,
        "unsubscribed": 0,
        "leads": 0,
        "sales": 0,
    }


def test_a_recipient_left_sending_by_a_dead_worker_is_never_sent_twice():
    customers = [factories.customer_with_email_consent(first_name=f"C{n}") for n in range(5)]
    campaign = _campaign()
    campaign_start(campaign=campaign)
    # A worker claims one row, then dies before it could record whether the mail left.
    (claimed,) = _claim(campaign=campaign, limit=1, interval=0)
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
    customer = factories.customer_with_email_consent()
    campaign = _campaign()
    campaign_start(campaign=campaign)
    with pytest.raises(PromotionError, match="A campaign that is sending cannot become sending"):
        campaign_start(campaign=campaign)
    with pytest.raises(IntegrityError):
        CampaignRecipient.objects.create(campaign=campaign, customer=customer, email=customer.email)


def test_audience_by_model_bought_and_language():
    owner = factories.customer_with_email_consent(language="fr")
    sold = factories.lead(customer_obj=owner, vehicles=[{"make": "Honda", "model": "Civic"}])
    lead_transition(lead=sold, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=sold, to_status=LeadStatus.SOLD)
    browser = factories.customer_with_email_consent(language="fr")
    factories.lead(
        customer_obj=browser, vehicles=[{"make": "Honda", "model": "Civic"}]
    )  # asked, never bought
    factories.customer_with_email_consent(language="en")
    campaign = _campaign(make="honda", model="civic", language="fr")
    assert campaign_start(campaign=campaign) == {"queued": 1, "skipped": 0}
    assert list(campaign.recipients.values_list("customer", flat=True)) == [owner.pk]


def test_a_sale_whose_deal_fell_through_neither_allows_the_campaign_nor_makes_its_customer_an_owner():
    supervisor = factories.staff("supervisor").user
    sold = {}
    for name in ("Kept", "Undone"):
        lead = factories.lead(
            customer_obj=factories.customer(first_name=name),
            received_at=timezone.now() - timedelta(days=220),  # the inquiry's six months are over
            vehicles=[{"make": "Honda", "model": "Civic"}],
        )
        lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
        sold[name] = lead_transition(lead=lead, to_status=LeadStatus.SOLD)
    lead_transition(
        lead=sold["Undone"], to_status=LeadStatus.LOST, actor=supervisor, reason="Financing refused"
    )
    kept, undone = sold["Kept"].customer, sold["Undone"].customer
    assert list(campaign_audience(filters={"make": "Honda", "model": "civic"})) == [kept]
    campaign = _campaign()
    assert campaign_start(campaign=campaign) == {"queued": 1, "skipped": 1}
    reason = campaign.recipients.get(customer=undone).reason
    assert reason.startswith("No valid consent: implied: purchase or lease (two years) ended on ")


def test_audience_from_the_customer_history_owners_and_leases_ending():
    today = timezone.localdate()
    now = timezone.now()
    owner = factories.customer()
    history_item_add(
        customer=owner, kind="purchase", occurred_at=now, summary="Bought", vehicle="2021 Honda Civic EX"
    )
    leasing = factories.customer()
    history_item_add(
        customer=leasing,
        kind="lease",
        occurred_at=now - timedelta(days=1000),
        summary="Leased",
        vehicle="2023 Toyota RAV4",
        deal_type="lease",
        term_ends_on=today + timedelta(days=60),
    )
    later = factories.customer()
    history_item_add(
        customer=later,
        kind="lease",
        occurred_at=now,
        summary="Leased",
        vehicle="2025 Honda Civic",
        deal_type="lease",
        term_ends_on=today + timedelta(days=400),
    )
    hondas = campaign_audience(filters={"make": "Honda", "model": "civic"})
    assert set(hondas) == {owner, later}
    assert list(campaign_audience(filters={"lease_ending_within_days": 90})) == [leasing]
    # Implied consent from a lease signed 1000 days ago has lapsed: skipped, and the list says why.
    campaign = _campaign(lease_ending_within_days=90)
    assert campaign_start(campaign=campaign) == {"queued": 0, "skipped": 1}
    assert "expired on" in campaign.recipients.get(customer=leasing).reason
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE  # nobody to write to: nothing to wait for


def test_unsubscribe_bounce_and_leads_show_in_the_report_and_the_next_campaign_skips(client):
    leaving, bouncing, buying = (factories.customer_with_email_consent() for _ in range(3))
    campaign = _campaign()
    campaign_start(campaign=campaign)
    _send_all(campaign)
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    recipient = campaign.recipients.get(email=mail.outbox[0].to[0])
    assert recipient.customer == leaving
    # One-click unsubscribe as a mail provider does it (RFC 8058): a bare POST, no session.
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
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
    assert again.recipients.get(customer=leaving).reason.startswith("No valid consent: withdrawn on ")
    # The reminder reached the buyer after their lead came in: the lead stays the first campaign's.
    _send_all(again)
    lead = buying.leads.get()
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD)
    assert (campaign_report(campaign=campaign)["leads"], campaign_report(campaign=campaign)["sales"]) == (
        1,
        1,
    )
    assert (campaign_report(campaign=again)["leads"], campaign_report(campaign=again)["sales"]) == (0, 0)
    # A customer both campaigns reached who answers after the reminder is the reminder's lead alone.
    public_lead_submit(
        promotion=campaign.promotion, first_name="C", last_name="", email=bouncing.email, phone="",
        language="en", comments="", src=f"email-{again.pk}",
    )  # fmt: skip
    assert (campaign_report(campaign=campaign)["leads"], campaign_report(campaign=again)["leads"]) == (1, 1)


def test_consent_withdrawn_after_the_start_is_respected_at_sending_time():
    staying, leaving = factories.customer_with_email_consent(), factories.customer_with_email_consent()
    campaign = _campaign()
    assert campaign_start(campaign=campaign) == {"queued": 2, "skipped": 0}
    consent_withdraw(customer=leaving, channels=["email"], source="phone call")
    _send_all(campaign)
    assert [m.to[0] for m in mail.outbox] == [staying.email]
    assert campaign.recipients.get(customer=leaving).status == RecipientStatus.SKIPPED


def test_an_address_found_undeliverable_gets_no_campaign_mail():
    staying, bounced, bouncing = (factories.customer_with_email_consent() for _ in range(3))
    Customer.objects.filter(pk=bounced.pk).update(email_undeliverable=True)
    campaign = _campaign()
    assert campaign_start(campaign=campaign) == {"queued": 2, "skipped": 1}
    # Another mailing bounces from this address before the campaign reaches it.
    Customer.objects.filter(pk=bouncing.pk).update(email_undeliverable=True)
    _send_all(campaign)
    assert [m.to[0] for m in mail.outbox] == [staying.email]
    skipped = {r.customer: r.reason for r in campaign.recipients.filter(status=RecipientStatus.SKIPPED)}
    assert skipped == {
        bounced: f"Address {bounced.email} is undeliverable.",
        bouncing: f"Address {bouncing.email} is undeliverable.",
    }


def _queries(action) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        action()
    return [query["sql"] for query in captured.captured_queries]


def test_starting_and_sending_read_the_consent_ledger_once_however_large_the_audience():
    def start_and_send(language: str, audience_size: int) -> tuple[list[str], list[str]]:
        for _ in range(audience_size):
            factories.customer_with_email_consent(language=language)
        factories.customer(language=language)  # no consent: skipped
        promotion = factories.running_promotion(name=f"Offer {language}", landing_slug=f"offer-{language}")
        campaign = _campaign(promotion, language=language)
        started = _queries(lambda: campaign_start(campaign=campaign))
        sent = _queries(lambda: campaign_batch_send(campaign=campaign, limit=audience_size))
        assert campaign.recipients.filter(status=RecipientStatus.SENT).count() == audience_size
        return started, sent

    small_start, _ = start_and_send("fr", 2)
    large_start, large_send = start_and_send("en", 6)
    assert len(large_start) == len(small_start)
    ledger_reads = [sql for sql in large_send if 'FROM "leads_consentrecord"' in sql]
    assert len(ledger_reads) == 1


def test_a_mail_server_outage_leaves_every_recipient_queued_for_the_retry(settings, smtp_sink):
    customers = [factories.customer_with_email_consent() for _ in range(3)]
    campaign = _campaign()
    campaign_start(campaign=campaign)
    with mail_server_down(settings), pytest.raises(MailServerUnavailable):
        campaign_batch_send(campaign=campaign, limit=10)
    assert set(campaign.recipients.values_list("status", flat=True)) == {RecipientStatus.QUEUED}
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    assert not Message.objects.exists()

    # The server is back when the task retries: everyone gets the mail, once.
    assert campaign_batch_send(campaign=campaign, limit=10) == 0
    assert sorted(to for recipients, _ in smtp_sink.received for to in recipients) == sorted(
        c.email for c in customers
    )
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE


@pytest.mark.django_db(transaction=True)  # the worker thread has its own database connection
def test_a_batch_the_mail_server_cuts_short_goes_on_when_the_task_retries(settings, smtp_sink):
    from celery.contrib.testing.worker import start_worker

    from dealership.celery import app

    settings.PROMOTIONS_CAMPAIGN_BATCH_SIZE = 4  # a batch every 2 s at 120 a minute
    customers = [factories.customer_with_email_consent() for _ in range(6)]
    campaign = _campaign()
    # The server goes away while taking the batch's second mail: the first has left.
    smtp_sink.hang_up_after = 1
    app.control.purge()  # tasks other tests left in the in-memory broker
    with start_worker(app, perform_ping_check=False):
        campaign_start(campaign=campaign)
        smtp_sink.wait_for(5, seconds=15)

    interrupted = campaign.recipients.get(status=RecipientStatus.FAILED)
    assert interrupted.reason == "Sending was interrupted; not sent again so nobody gets it twice."
    sent_to = [to for recipients, _ in smtp_sink.received for to in recipients]
    assert sorted(sent_to) == sorted(c.email for c in customers if c != interrupted.customer)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE


def test_an_address_the_mail_server_refuses_fails_alone(smtp_sink):
    first = factories.customer_with_email_consent()
    refused = factories.customer_with_email_consent(email="refused.address@example.com")
    last = factories.customer_with_email_consent()
    campaign = _campaign()
    campaign_start(campaign=campaign)
    assert campaign_batch_send(campaign=campaign, limit=10) == 0
    assert [recipients for recipients, _ in smtp_sink.received] == [[first.email], [last.email]]
    row = campaign.recipients.get(customer=refused)
    assert row.status == RecipientStatus.FAILED and "Recipient address rejected" in row.reason
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE


def test_a_server_that_asks_to_try_later_holds_the_batch_and_the_next_one_sends_it(smtp_sink):
    first = factories.customer_with_email_consent()
    greylisted = factories.customer_with_email_consent(email="greylisted.customer@example.com")
    last = factories.customer_with_email_consent()
    campaign = _campaign()
    campaign_start(campaign=campaign)
    with pytest.raises(MailServerUnavailable, match="451"):
        campaign_batch_send(campaign=campaign, limit=10)
    statuses = dict(campaign.recipients.values_list("customer", "status"))
    assert statuses == {first.pk: "sent", greylisted.pk: "queued", last.pk: "queued"}
    assert campaign_batch_send(campaign=campaign, limit=10) == 0
    assert sorted(recipients[0] for recipients, _ in smtp_sink.received) == sorted(
        c.email for c in (first, greylisted, last)
    )


def test_campaigns_sending_at_once_share_the_store_rate_taking_turns():
    from promotions.services.campaigns import campaigns_batch_send

    for _ in range(2):
        factories.customer_with_email_consent()
    promotion = factories.running_promotion()
    first, second = _campaign(promotion, name="Tires"), _campaign(promotion, name="Oil")
    campaign_start(campaign=first)
    campaign_start(campaign=second)

    assert campaigns_batch_send(limit=1, interval=10) is True
    assert [r.campaign for r in CampaignRecipient.objects.filter(status=RecipientStatus.SENT)] == [first]
    # Within the interval nothing more leaves, whichever campaign asks: another chain of batches
    # (a resumed one beside one thought lost) ends there.
    assert campaigns_batch_send(limit=1, interval=10) is None
    assert campaign_batch_send(campaign=second, limit=1, interval=10) is None
    assert len(mail.outbox) == 1

    CampaignRecipient.objects.exclude(claimed_at=None).update(
        claimed_at=timezone.now() - timedelta(seconds=10)
    )
    assert campaigns_batch_send(limit=1, interval=10) is True
    assert second.recipients.filter(status=RecipientStatus.SENT).count() == 1  # the other one's turn
    assert len(mail.outbox) == 2


def test_the_resume_check_closes_what_a_dead_worker_left_and_restarts_the_sending(
    django_capture_on_commit_callbacks,
):
    from promotions.services.campaigns import campaigns_batch_send, campaigns_resume

    factories.customer_with_email_consent()
    promotion = factories.running_promotion()
    abandoned = _campaign(promotion, name="Abandoned")
    campaign_start(campaign=abandoned)
    _claim(campaign=abandoned, limit=1, interval=0)  # its worker died with the row in hand
    CampaignRecipient.objects.update(claimed_at=timezone.now() - STALE_CLAIM * 2)
    factories.customer_with_email_consent()
    waiting = _campaign(promotion, name="Waiting")
    campaign_start(campaign=waiting)

    with django_capture_on_commit_callbacks() as resumed:
        assert campaigns_resume() == 1  # the waiting one; the abandoned one is closed
    assert len(resumed) == 1  # the chain of batches starts again
    abandoned.refresh_from_db()
    assert abandoned.status == CampaignStatus.DONE
    assert abandoned.recipients.get().reason.startswith("Sending was interrupted")
    assert campaigns_batch_send(limit=5, interval=10) is False  # all that was due has left
    assert sorted(m.to[0] for m in mail.outbox) == sorted(waiting.recipients.values_list("email", flat=True))


def test_a_first_name_typed_with_a_line_break_is_one_line_in_the_subject_and_everyone_gets_it():
    factories.customer_with_email_consent(first_name="Ann")
    factories.customer_with_email_consent(first_name="Bob\nBcc: everyone@example.com")
    factories.customer_with_email_consent(first_name="Cy")
    campaign = _campaign()
    campaign_start(campaign=campaign)
    _send_all(campaign, batch=3)
    assert sorted(message.subject for message in mail.outbox) == [
        "Ann, spring tires are in",
        "Bob Bcc: everyone@example.com, spring tires are in",
        "Cy, spring tires are in",
    ]
    assert all(message.bcc == [] for message in mail.outbox)


def test_a_mail_that_cannot_be_built_fails_alone_and_the_batch_goes_on(monkeypatch):
    from promotions.services import campaigns as campaign_service

    for name in ("Ann", "Bob", "Cy"):
        factories.customer_with_email_consent(first_name=name)
    campaign = _campaign()
    campaign_start(campaign=campaign)
    send = campaign_service.commercial_email_send

    def unbuildable_for_bob(*, customer, **kwargs):
        if customer.first_name == "Bob":
            raise ValueError("Header values may not contain linefeed or carriage return characters")
        return send(customer=customer, **kwargs)

    monkeypatch.setattr(campaign_service, "commercial_email_send", unbuildable_for_bob)
    _send_all(campaign, batch=3)
    statuses = dict(campaign.recipients.values_list("customer__first_name", "status"))
    assert statuses == {"Ann": "sent", "Bob": "failed", "Cy": "sent"}
    assert campaign.recipients.get(customer__first_name="Bob").reason.startswith("Not sent: Header values")


def test_a_campaign_started_ahead_of_its_day_waits_for_it_and_for_its_promotion():
    from promotions.selectors import campaigns_to_send

    factories.customer_with_email_consent()
    tomorrow = timezone.localdate() + timedelta(days=1)
    ahead = _campaign(factories.running_promotion(ends_on=tomorrow + timedelta(days=5)))
    ahead.send_on = tomorrow
    ahead.save(update_fields=["send_on"])
    assert campaign_start(campaign=ahead) == {"queued": 1, "skipped": 0}
    ahead.refresh_from_db()
    assert ahead not in campaigns_to_send()
    ahead.send_on = timezone.localdate()
    ahead.save(update_fields=["send_on"])
    assert ahead in campaigns_to_send()
    draft = _campaign(factories.promotion())
    with pytest.raises(PromotionError, match="Schedule the promotion first"):
        campaign_start(campaign=draft)


def test_the_footer_is_in_the_language_the_mail_was_prepared_in():
    customer = factories.customer_with_email_consent(language="fr")
    campaign = _campaign()
    campaign_start(campaign=campaign)
    Customer.objects.filter(pk=customer.pk).update(language="en")  # changed after the start
    _send_all(campaign)
    [message] = mail.outbox
    assert "Bonjour" in message.body and "Pour ne plus recevoir nos messages" in message.body


def test_a_paused_campaign_sends_nothing_more_until_it_is_resumed(client, django_capture_on_commit_callbacks):
    from promotions.selectors import campaigns_to_send
    from promotions.services.campaigns import campaign_pause, campaign_resume

    for name in ("Ann", "Bob", "Cy", "Dee"):
        factories.customer_with_email_consent(first_name=name)
    campaign = _campaign()
    campaign_start(campaign=campaign)
    assert campaign_batch_send(campaign=campaign, limit=2) == 2
    campaign_pause(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert campaign_batch_send(campaign=campaign, limit=2) == 2  # nothing claimed
    assert campaign not in campaigns_to_send()  # the chain of batches passes it by
    assert len(mail.outbox) == 2
    with django_capture_on_commit_callbacks() as queued:
        campaign_resume(campaign=campaign)
    assert len(queued) == 1  # the next batch is on its way
    _send_all(campaign)
    campaign.refresh_from_db()
    assert len(mail.outbox) == 4 and campaign.status == CampaignStatus.DONE
    with pytest.raises(PromotionError):
        campaign_pause(campaign=campaign)  # done: nothing left to pause
