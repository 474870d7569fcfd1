"""Mail loops: what the store sends comes back, and would come back again and again."""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.utils import timezone

from dealership.models import Department
from leads.mail.parsing import parse_message
from leads.mail.polling import poll_source
from leads.mail.sources import parse_mailbox_url
from leads.mail.triage import triage
from leads.models import (
    ForwardedMail,
    InboundMail,
    InboundOutcome,
    InboundStatus,
    Lead,
    LeadEvent,
    MailKind,
    Message,
)
from leads.services.mail import InboundRetry, forward_send, inbound_process
from leads.services.replies import message_deliver
from leads.services.routing import routing_rules_ensure_defaults
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def store_round(dovecot, sink) -> list:
    """What the worker does: poll, route what waits, send what is queued; the mail that went out."""
    before = len(sink.received)
    poll_source(parse_mailbox_url(dovecot.url))
    for pk in InboundMail.objects.filter(status=InboundStatus.PENDING).values_list("pk", flat=True):
        try:
            inbound_process(inbound_id=pk)
        except InboundRetry:
            pass
    for pk in Message.objects.filter(direction="out", send_status="queued").values_list("pk", flat=True):
        message_deliver(message_id=pk)
    for pk in ForwardedMail.objects.filter(send_status="queued").values_list("pk", flat=True):
        forward_send(forwarded_id=pk)
    return sink.received[before:]


def outlook_forward(sender: str, to: str, forwarded, *, subject: str | None = None) -> bytes:
    """A mailbox rule "forward to internet@" as Outlook does it: a new message, the old one attached."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject or f"FW: {forwarded['Subject']}"
    message["Message-ID"] = make_msgid(domain="outlook.example")
    message["Date"] = "Wed, 02 Dec 2026 10:00:00 -0500"
    message.set_content("\n")
    message.add_attachment(forwarded)
    return message.as_bytes()


def department_forwarding_back(dovecot, sink, department_address: str, first: bytes) -> int:
    """Deliver `first`; the department's mailbox forwards everything it gets back to the store."""
    poll_source(parse_mailbox_url(dovecot.url))  # the mailbox has been read before
    dovecot.append(first)
    sent = store_round(dovecot, sink)
    rounds = 0
    while sent and rounds < 5:
        rounds += 1
        for recipients, message in sent:
            if department_address in recipients:
                dovecot.append(outlook_forward(department_address, "internet@maplemotors.example", message))
        sent = store_round(dovecot, sink)
    return rounds


@pytest.mark.parametrize(
    "department_address", ["service@maplemotors.example", "service@partner-garage.example"]
)
def test_a_department_address_forwarding_back_to_the_store_is_forwarded_once(
    dovecot, smtp_sink, department_address
):
    factories.department("service")
    Department.objects.filter(code="service").update(forward_email=department_address)
    department_forwarding_back(
        dovecot,
        smtp_sink,
        department_address,
        factories.raw_mail(
            from_address="driver@example.com",
            subject="Oil change",
            body="Hi, can I book an oil change for my 2019 Corolla next Tuesday?",
        ),
    )
    assert ForwardedMail.objects.count() == 1
    assert Lead.objects.count() == 0
    returned = InboundMail.objects.exclude(from_address__contains="driver@example.com").get()
    assert returned.kind == MailKind.AUTO_REPLY and returned.outcome == InboundOutcome.AUTO_REPLY


def test_a_forward_back_that_a_routing_rule_would_take_is_not_forwarded_again(dovecot, smtp_sink):
    """The department's mailbox on the store's own domain: a default rule (recalls) matches the
    subject of the forward coming back, which must not send it on again."""
    routing_rules_ensure_defaults()
    factories.department("service")
    Department.objects.filter(code="service").update(forward_email="service@maplemotors.example")
    department_forwarding_back(
        dovecot,
        smtp_sink,
        "service@maplemotors.example",
        factories.raw_mail(
            from_address="owner@example.com",
            subject="Recall notice for my 2018 Tacoma",
            body="I got a recall notice in the mail, can you book the repair?",
        ),
    )
    assert ForwardedMail.objects.count() == 1


def test_mail_from_a_department_address_is_the_departments_not_a_customers():
    factories.department("body_shop")
    Department.objects.filter(code="body_shop").update(forward_email="Claims@Partner-Collision.example")
    raw = factories.raw_mail(
        from_address="claims@partner-collision.example",
        subject="Estimate ready",
        body="The estimate for the insurance claim is ready, what is your price on the parts?",
    )
    inbound = factories.inbound_mail(raw)
    assert (inbound.kind, inbound.rule, inbound.outcome) == (
        MailKind.AUTO_REPLY,
        "staff-mail",
        InboundOutcome.AUTO_REPLY,
    )
    assert Lead.objects.count() == 0 and ForwardedMail.objects.count() == 0
    parsed = parse_message(raw)
    decision = triage(parsed, rules=[], department_addresses={"claims@partner-collision.example"})
    assert decision.kind == MailKind.AUTO_REPLY and not decision.acknowledge
    # Offline (the triage_mail command): among the staff's and departments' addresses it is given.
    offline = triage(parsed, rules=[], staff_addresses={"claims@partner-collision.example"})
    assert offline.kind == MailKind.AUTO_REPLY
    assert triage(parsed, rules=[], staff_addresses=set()).kind != MailKind.AUTO_REPLY


def test_the_stores_own_forward_coming_back_from_anyone_is_recognised(dovecot, smtp_sink):
    """The department moved to another address, whose old mailbox still forwards to the store."""
    factories.department("service")
    Department.objects.filter(code="service").update(forward_email="service@old-partner.example")
    poll_source(parse_mailbox_url(dovecot.url))
    dovecot.append(
        factories.raw_mail(
            from_address="driver@example.com",
            subject="Oil change",
            body="Hi, can I book an oil change for my 2019 Corolla next Tuesday?",
        )
    )
    [(recipients, forward)] = store_round(dovecot, smtp_sink)
    Department.objects.filter(code="service").update(forward_email="service@new-partner.example")

    dovecot.append(outlook_forward("service@old-partner.example", "internet@maplemotors.example", forward))
    assert store_round(dovecot, smtp_sink) == []
    returned = InboundMail.objects.get(from_address__contains="old-partner")
    assert (returned.kind, returned.rule, returned.outcome) == (
        MailKind.AUTO_REPLY,
        "own-mail",
        InboundOutcome.AUTO_REPLY,
    )
    assert ForwardedMail.objects.count() == 1 and Lead.objects.count() == 0


# --- acknowledgements -----------------------------------------------------------------------------


def test_a_helpdesk_answering_from_a_new_address_each_time_is_not_acknowledged_forever(dovecot, smtp_sink):
    """A customer's company help desk answers every message with a receipt from a new ticket
    address, and marks nothing (no Auto-Submitted, no Precedence, no thread headers)."""
    poll_source(parse_mailbox_url(dovecot.url))
    dovecot.append(factories.raw_mail(from_address="fleet@acme.example", subject="Quote for 3 Tacomas"))
    sent = store_round(dovecot, smtp_sink)
    ticket, rounds = 1000, 0
    while sent and rounds < 6:
        rounds += 1
        for _, message in sent:
            ticket += 1
            dovecot.append(
                factories.raw_mail(
                    from_address=f"support+{ticket}@acme.example",
                    from_name="ACME Help Desk",
                    subject=f"[Ticket #{ticket}] {message['Subject']}",
                    body=f"Thank you for contacting ACME. Your request #{ticket} has been logged and an "
                    "agent will get back to you.",
                )
            )
        sent = store_round(dovecot, smtp_sink)
    assert Message.objects.filter(direction="out", author__isnull=True).count() == 1
    assert rounds == 1
    assert Lead.objects.count() == 2  # the receipt is still there for a person to look at


def acknowledged(raw: bytes) -> bool:
    inbound = factories.inbound_mail(raw)
    return inbound.lead.messages.filter(direction="out").exists()


def test_no_acknowledgement_within_an_hour_of_one_to_the_same_company_but_one_for_each_person_of_a_provider():
    assert acknowledged(factories.raw_mail(from_address="ann@acme.example"))
    assert not acknowledged(factories.raw_mail(from_address="bob@acme.example"))
    assert acknowledged(factories.raw_mail(from_address="carl@other.example"))
    # People of the big mail providers share nothing but the provider.
    for address in ("dana@gmail.com", "eve@gmail.com", "fay@yahoo.fr", "gus@yahoo.fr", "hal@videotron.ca"):
        assert acknowledged(factories.raw_mail(from_address=address)), address

    # An hour later the company's next new inquiry is acknowledged again.
    LeadEvent.objects.filter(type="acknowledged").update(created_at=timezone.now() - timedelta(minutes=61))
    assert acknowledged(factories.raw_mail(from_address="ivy@acme.example"))
