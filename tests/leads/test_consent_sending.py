"""Commercial mail leaves only with valid consent, identified, with a working unsubscribe link.

Sent through a real SMTP server (aiosmtpd) on a loopback port."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from leads.models import CustomerHistoryItem, HistoryKind, Message
from leads.services.consent import commercial_email_send, consent_record_inquiry, unsubscribe_customer
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings, smtp_sink):
    settings.SITE_URL = "https://crm.maplemotors.example"
    return smtp_sink.received


def test_current_implied_consent_sends_an_identified_message_with_unsubscribe_headers(sink, settings):
    customer = factories.customer(first_name="Emma", last_name="Johnson", email="emma@example.com")
    consent_record_inquiry(customer=customer, at=timezone.now() - timedelta(days=30), source="AutoTrader")
    result = commercial_email_send(
        customer=customer, subject="Spring tire event", body="Book your tire swap today."
    )
    assert result.sent
    [(recipients, message)] = sink
    assert recipients == ["emma@example.com"]
    body = message.get_content()
    store = settings.STORE
    assert "Book your tire swap today." in body
    assert (
        store["name"] in body
        and store["address"] in body
        and store["phone"] in body
        and store["website"] in body
    )
    unsubscribe_link = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe_link.startswith("https://crm.maplemotors.example/u/") and unsubscribe_link in body
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = urlsplit(unsubscribe_link).path.rstrip("/").rsplit("/", 1)[1]  # the page's language beside it
    assert unsubscribe_customer(token) == customer
    assert Message.objects.get(customer=customer).send_status == "sent"


def test_lapsed_implied_consent_is_refused_with_a_visible_reason(sink):
    customer = factories.customer(email="old.inquiry@example.com")
    inquiry = timezone.now() - timedelta(days=200)  # more than six months ago
    consent_record_inquiry(customer=customer, at=inquiry, source="Website")
    result = commercial_email_send(customer=customer, subject="Year-end clearance", body="Big savings.")
    assert not result.sent and "implied: inquiry (six months) expired on" in result.reason
    assert sink == []
    withheld = CustomerHistoryItem.objects.get(customer=customer, kind=HistoryKind.MAIL_WITHHELD)
    assert withheld.summary == "Not sent: Year-end clearance" and withheld.details["reason"] == result.reason


def test_a_reply_to_the_customers_own_request_goes_out_and_is_still_identified(sink, settings):
    customer = factories.customer(email="asked@example.com")  # no consent at all
    result = commercial_email_send(
        customer=customer, subject="Your trade-in appraisal", body="Here is the value.", transactional=True
    )
    assert result.sent
    [(_, message)] = sink
    assert settings.STORE["address"] in message.get_content() and "/u/" in message.get_content()


def test_an_undeliverable_address_is_skipped(sink):
    customer = factories.customer(email="bounced@example.com")
    consent_record_inquiry(customer=customer, at=timezone.now(), source="Website")
    customer.email_undeliverable = True  # set by mail ingestion when the address bounces
    result = commercial_email_send(customer=customer, subject="Offer", body="Hello")
    assert not result.sent and result.reason == "address bounced@example.com is undeliverable" and sink == []


def test_after_the_unsubscribe_link_is_used_no_more_mail_goes_out(sink, client):
    customer = factories.customer(email="done@example.com")
    consent_record_inquiry(customer=customer, at=timezone.now() - timedelta(days=1), source="Website")
    assert commercial_email_send(customer=customer, subject="First", body="Hello").sent
    link = sink[0][1]["List-Unsubscribe"].strip("<>").removeprefix("https://crm.maplemotors.example")
    # The mail program's one-click POST (RFC 8058): no login, no CSRF token.
    response = client.post(link, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    second = commercial_email_send(customer=customer, subject="Second", body="Hello again")
    assert not second.sent and second.reason.startswith("no valid consent: withdrawn on") and len(sink) == 1


def test_the_unsubscribe_header_goes_out_whole_so_mail_programs_offer_one_click(settings, smtp_sink):
    """Longer than a 78-character line and without a space to fold at: sent as one line, as it is,
    never encoded (=?utf-8?q?…?=), on commercial mail and on answers alike."""
    import re

    from leads.services.replies import message_deliver, reply_queue

    settings.SITE_URL = "https://crm.maplemotors.example"
    customer = factories.customer(email="emma@example.com")
    consent_record_inquiry(customer=customer, at=timezone.now(), source="Website")
    assert commercial_email_send(customer=customer, subject="Spring tire event", body="Book now.").sent
    answer = reply_queue(
        lead=factories.lead(customer_obj=customer), author=factories.staff().user, subject="Hi", body="Hello"
    )
    message_deliver(message_id=answer.pk)
    assert len(smtp_sink.messages) == 2  # the commercial mail and the answer
    for raw in smtp_sink.messages:
        header = re.search(rb"^List-Unsubscribe: (.*)$", raw, re.MULTILINE).group(1).rstrip(b"\r")
        assert re.fullmatch(rb"<https://crm\.maplemotors\.example/u/[^>\s]+>", header), header
        assert len(header) > 78
