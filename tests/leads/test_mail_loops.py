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
from leads.mail.triage import outside_reply_to, triage
from leads.models import (
    Channel,
    FollowUpStepRun,
    ForwardedMail,
    InboundMail,
    InboundOutcome,
    InboundStatus,
    Lead,
    LeadEvent,
    MailKind,
    Message,
)
from leads.services.followup import (
    ACKNOWLEDGEMENT_HELD,
    followup_dispatch_due,
    followup_plans_ensure_defaults,
    followup_run_send,
)
from leads.services.mail import (
    ACKNOWLEDGEMENTS_PER_DOMAIN,
    InboundRetry,
    _acknowledgement_create,
    forward_send,
    inbound_process,
)
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


def helpdesk_loop(dovecot, sink, *, server_behind=timedelta(0), between_polls=list) -> tuple[int, list]:
    """A customer's company help desk answers every message with a receipt from a new ticket
    address, and marks nothing (no Auto-Submitted, no Precedence, no thread headers). `server_behind`:
    how far the mail server's clock (its INTERNALDATE) is behind ours. `between_polls`: what else
    runs between two polls, returning the mail it sent. The rounds it took, and what the last sent."""
    poll_source(parse_mailbox_url(dovecot.url))
    dovecot.append(factories.raw_mail(from_address="fleet@acme.example", subject="Quote for 3 Tacomas"))
    sent = store_round(dovecot, sink) + between_polls()
    ticket, rounds = 1000, 0
    while sent and rounds < 8:
        rounds += 1
        for _, message in sent:
            ticket += 1
            with dovecot.client() as client:
                client.append(
                    "INBOX",
                    factories.raw_mail(
                        from_address=f"support+{ticket}@acme.example",
                        from_name="ACME Help Desk",
                        subject=f"[Ticket #{ticket}] {message['Subject']}",
                        body=f"Thank you for contacting ACME. Your request #{ticket} has been logged and "
                        "an agent will get back to you.",
                    ),
                    msg_time=timezone.now() - server_behind,
                )
        sent = store_round(dovecot, sink) + between_polls()
    return rounds, sent


def assert_answered_a_few_times_only(rounds: int, sent: list) -> None:
    assert sent == [] and rounds <= ACKNOWLEDGEMENTS_PER_DOMAIN  # the loop stopped by itself
    automatic = Message.objects.filter(direction="out", author__isnull=True)
    to_acme = [message for message in automatic if "@acme.example" in " ".join(message.to_addresses)]
    assert len(to_acme) <= ACKNOWLEDGEMENTS_PER_DOMAIN
    # The receipt is still there for a person to look at, saying why it was not acknowledged.
    held = Lead.objects.filter(customer__email__startswith="support+").exclude(messages__direction="out")
    [lead] = held
    [note] = lead.messages.filter(channel=Channel.NOTE)
    assert "acme.example" in note.body_text and str(ACKNOWLEDGEMENTS_PER_DOMAIN) in note.body_text


def test_a_helpdesk_answering_from_a_new_address_each_time_is_not_acknowledged_forever(dovecot, smtp_sink):
    assert_answered_a_few_times_only(*helpdesk_loop(dovecot, smtp_sink))


def test_a_helpdesk_loop_stops_also_when_the_mail_servers_clock_is_behind_ours(dovecot, smtp_sink):
    """The help desk's receipts reach a mailbox whose server dates them two minutes early."""
    assert_answered_a_few_times_only(*helpdesk_loop(dovecot, smtp_sink, server_behind=timedelta(minutes=2)))


def test_a_helpdesk_loop_stops_also_with_the_default_follow_up_plan(dovecot, smtp_sink, settings):
    """setup_store installs the default plan, whose first step acknowledges the inquiries that
    mail-in did not: the beat runs between two polls."""
    settings.BUSINESS_HOURS = ["0-24"] * 7
    settings.BUSINESS_CLOSED_DAYS = []
    followup_plans_ensure_defaults()
    factories.staff("supervisor", username="sup")  # signs the plan's emails

    def beat() -> list:
        before = len(smtp_sink.received)
        followup_dispatch_due(
            now=timezone.now(), enqueue_send=lambda run_id: followup_run_send(run_id=run_id)
        )
        return smtp_sink.received[before:]

    rounds, sent = helpdesk_loop(dovecot, smtp_sink, between_polls=beat)
    assert_answered_a_few_times_only(rounds, sent)
    held = (
        Lead.objects.filter(customer__email__startswith="support+").exclude(messages__direction="out").get()
    )
    run = held.followups.get().runs.get(step__position=0)
    assert (run.status, run.note) == (FollowUpStepRun.Status.DONE, ACKNOWLEDGEMENT_HELD)


def acknowledged(raw: bytes) -> bool:
    inbound = factories.inbound_mail(raw)
    return inbound.lead.messages.filter(direction="out").exists()


def test_colleagues_writing_separately_are_each_acknowledged_but_a_few_an_hour_at_most_per_company():
    for name in ("ann", "bob", "cy"):
        assert acknowledged(factories.raw_mail(from_address=f"{name}@acme.example")), name
    assert not acknowledged(factories.raw_mail(from_address="dan@acme.example"))
    dan = Lead.objects.get(customer__email="dan@acme.example")
    [note] = dan.messages.filter(channel=Channel.NOTE, direction="internal")
    assert "acme.example" in note.body_text and "3" in note.body_text
    assert acknowledged(factories.raw_mail(from_address="carl@other.example"))
    # People of the big mail providers share nothing but the provider.
    for address in (
        *(f"{name}@gmail.com" for name in ("dana", "eve", "fay", "gil")),
        *(f"{name}@yahoo.fr" for name in ("gus", "hal", "ike", "jo")),
        "hal@videotron.ca",
    ):
        assert acknowledged(factories.raw_mail(from_address=address)), address

    # An hour later the company's next new inquiry is acknowledged again.
    LeadEvent.objects.filter(type="acknowledged").update(created_at=timezone.now() - timedelta(minutes=61))
    assert acknowledged(factories.raw_mail(from_address="ivy@acme.example"))


@pytest.mark.parametrize(
    "domain",
    [
        "mac.com",
        "ymail.com",
        "rocketmail.com",
        "aol.ca",
        "gmx.com",
        "mail.com",
        "fastmail.com",
        "cgocable.ca",
        "globetrotter.net",
        "eastlink.ca",
        "sasktel.net",
        "mts.net",
        "nb.sympatico.ca",
    ],
)
def test_unrelated_customers_at_a_big_mail_provider_are_each_acknowledged(domain):
    for name in ("ann", "bob", "cy", "dan", "eve"):
        assert acknowledged(factories.raw_mail(from_address=f"{name}@{domain}")), name


def test_a_store_whose_own_address_is_at_a_big_mail_provider_tells_its_customers_there_from_itself(settings):
    """The store writes from a Hotmail address: a website's notice asking to answer a customer at
    Hotmail names that customer, not the store."""
    settings.DEFAULT_FROM_EMAIL = "Maple Motors <maple.motors@hotmail.ca>"
    parsed = parse_message(
        factories.raw_mail(
            from_address="notifications@lespac.example",
            subject="New message about your RAV4 listing",
            headers={"Reply-To": "Bob Buyer <bob.buyer@hotmail.ca>"},
        )
    )
    assert outside_reply_to(parsed) == ("Bob Buyer", "bob.buyer@hotmail.ca")


def test_an_acknowledgement_falls_back_to_the_stores_language(settings):
    settings.STORE_LANGUAGE = "fr"
    lead = factories.lead(customer_obj=factories.customer(language="fr"))
    message = factories.inbound_email(lead=lead)
    lead.language = ""  # none known
    acknowledgement = _acknowledgement_create(lead=lead, customer=lead.customer, inbound_message=message)
    assert acknowledgement.subject.startswith("Nous avons bien reçu votre demande")


def test_an_acknowledgement_held_back_is_noted_once_even_beside_a_note_whose_author_left():
    from leads.models import Channel, Direction, Message
    from leads.services.mail import acknowledgement_held_record

    lead = factories.lead()
    # A supervisor's note, kept after their account was deleted.
    Message.objects.create(
        lead=lead, customer=lead.customer, channel=Channel.NOTE, direction=Direction.INTERNAL,
        body_text="Called the dealer next door", occurred_at=lead.received_at,
    )  # fmt: skip
    acknowledgement_held_record(lead=lead, count=3)
    acknowledgement_held_record(lead=lead, count=4)  # the follow-up plan holds it back too
    held = lead.messages.filter(body_text__startswith="No automatic acknowledgement")
    assert held.count() == 1


def test_a_lead_providers_customers_at_its_relay_domain_are_each_acknowledged():
    """A lead provider may hide buyers behind addresses of its own domain: a busy hour brings many of
    them, each a customer to acknowledge."""
    sample = factories.sample_mail("autotrader_adf.eml")
    for n in range(ACKNOWLEDGEMENTS_PER_DOMAIN + 2):
        raw = sample.replace(b"Jean.Tremblay@Example.com", f"b{n}x7@relay.autotrader.example".encode())
        raw = raw.replace(b"<lead-7781@", f"<lead-{n}@".encode()).replace(b"AT-998", f"AT-{n}".encode())
        for mine, theirs in (
            (b"Tremblay", f"Buyer{n}"),
            (b"555-0199", f"555-01{n:02d}"),
            (b"555-0101", f"555-02{n:02d}"),
        ):
            raw = raw.replace(mine, theirs.encode())  # another customer each
        factories.inbound_mail(raw)
    leads = Lead.objects.filter(customer__email__endswith="@relay.autotrader.example")
    assert leads.count() == ACKNOWLEDGEMENTS_PER_DOMAIN + 2
    acknowledged = LeadEvent.objects.filter(type="acknowledged", lead__in=leads)
    assert acknowledged.count() == ACKNOWLEDGEMENTS_PER_DOMAIN + 2
