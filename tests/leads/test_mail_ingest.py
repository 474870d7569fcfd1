"""Routing stored mail: what each kind of message becomes, retries, quarantine and replay.

Messages come in through a real Maildir folder and the same poll as production."""

import os
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dealership.models import Department
from leads.mail.polling import poll_source
from leads.mail.sources import parse_mailbox_url
from leads.models import (
    Customer,
    ForwardedMail,
    InboundMail,
    InboundOutcome,
    InboundStatus,
    Lead,
    LeadStatus,
    Message,
)
from leads.services.consent import commercial_email_refusal, consent_record_inquiry
from leads.services.customers import customer_update
from leads.services.leads import lead_merge
from leads.services.mail import (
    MAX_TRIES,
    InboundRetry,
    ReplayError,
    forward_send,
    inbound_process,
    inbound_replay,
    inbound_requeue_waiting,
)
from leads.services.replies import MailServerUnavailable, message_deliver, messages_sweep, reply_queue
from leads.services.routing import routing_rules_ensure_defaults
from leads.threading import reply_address
from tests import factories
from tests.conftest import mail_server_down
from tests.leads.test_mail_ingest_customers import batch_mail, customer_card, prospect

pytestmark = pytest.mark.django_db


@pytest.fixture
def maildir(tmp_path, settings):
    settings.MAILBOX_URLS = [f"maildir://{tmp_path}"]
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    return tmp_path


def drop(maildir, raw: bytes, name: str | None = None) -> None:
    """Put a message in new/ as a user copying an .eml there would, settled a moment ago."""
    path = maildir / "new" / (name or f"{time.time_ns()}.eml")
    path.write_bytes(raw)
    past = time.time() - 5
    os.utime(path, (past, past))


def reply_on(lead, body: str) -> bytes:
    """The customer's answer to the store's mail on the lead, sent to the lead's reply address."""
    return factories.raw_mail(
        from_address=lead.customer.email, to=reply_address(lead.pk), subject="Re: your quote", body=body
    )


def receive(maildir, *raws: bytes) -> list[InboundMail]:
    """Drop messages, poll the folder and route what was stored (as the worker would)."""
    for raw in raws:
        drop(maildir, raw)
    before = set(InboundMail.objects.values_list("pk", flat=True))
    poll_source(parse_mailbox_url(f"maildir://{maildir}"))
    stored = list(InboundMail.objects.exclude(pk__in=before).order_by("pk"))
    for inbound in stored:
        try:
            inbound_process(inbound_id=inbound.pk)
        except InboundRetry:
            pass
    return [InboundMail.objects.get(pk=inbound.pk) for inbound in stored]


def test_an_eml_dropped_in_the_maildir_becomes_a_lead_with_its_attachment(maildir):
    raw = factories.raw_mail(
        from_address="Jean.Tremblay@Example.ca",
        from_name="Jean Tremblay",
        subject="Prix du RAV4 2024",
        body="Bonjour, je voudrais connaître le prix du Toyota RAV4 2024. Mon numéro est 514-555-0199. Merci",
        attachments=[("permis.pdf", "application/pdf", b"%PDF-1.4 test")],
    )
    [inbound] = receive(maildir, raw)

    assert inbound.status == InboundStatus.PROCESSED
    assert (inbound.kind, inbound.department, inbound.language) == ("lead", "sales", "fr")
    assert inbound.rule
    lead = inbound.lead
    assert lead.customer.email == "jean.tremblay@example.ca"
    assert lead.language == "fr"
    message = inbound.conversation_message
    assert message.lead == lead and message.direction == "in" and message.channel == "email"
    assert "RAV4" in message.body_text
    [attachment] = message.attachments.all()
    assert attachment.filename == "permis.pdf"
    assert attachment.file.read() == b"%PDF-1.4 test"
    assert bytes(inbound.raw) == raw
    # The file was moved out of new/ once stored, as a mail client marks mail read.
    assert not list((maildir / "new").iterdir())
    assert [p.name.endswith(":2,S") for p in (maildir / "cur").iterdir()] == [True]


def test_a_second_mail_from_the_same_customer_joins_the_open_lead(maildir):
    first, second = receive(
        maildir,
        factories.raw_mail(from_address="pat@example.com"),
        factories.raw_mail(from_address="PAT@example.com", subject="Also, is it available in blue?"),
    )
    assert first.outcome == InboundOutcome.NEW_LEAD
    assert second.outcome == InboundOutcome.JOINED_LEAD
    assert second.lead == first.lead
    assert Lead.objects.count() == 1
    assert first.lead.messages.filter(direction="in").count() == 2


def test_a_closed_lead_is_not_reopened_by_new_mail(maildir):
    [first] = receive(maildir, factories.raw_mail(from_address="pat@example.com"))
    Lead.objects.filter(pk=first.lead_id).update(status=LeadStatus.SOLD)
    [second] = receive(
        maildir, factories.raw_mail(from_address="pat@example.com", subject="Price of a Camry")
    )
    assert second.outcome == InboundOutcome.NEW_LEAD
    assert second.lead != first.lead


def test_the_same_message_twice_is_stored_and_routed_once(maildir):
    raw = factories.raw_mail(message_id="<same-one@example.com>")
    receive(maildir, raw)
    assert receive(maildir, raw) == []
    [inbound] = InboundMail.objects.all()
    assert inbound_process(inbound_id=inbound.pk) == InboundStatus.PROCESSED
    assert Lead.objects.count() == 1
    assert Message.objects.filter(message_id="<same-one@example.com>").count() == 1


def test_a_message_id_reused_on_another_message_stores_and_routes_both_once(maildir):
    """Lead providers reuse Message-IDs: another message under the same id is not dropped."""
    first = factories.raw_mail(from_address="a@example.com", message_id="<lead@provider.example>")
    second = factories.raw_mail(
        from_address="b@example.com", subject="Price of a Camry", message_id="<lead@provider.example>"
    )
    stored = receive(maildir, first, second)
    assert [inbound.outcome for inbound in stored] == [InboundOutcome.NEW_LEAD] * 2
    assert sorted(Lead.objects.values_list("customer__email", flat=True)) == [
        "a@example.com",
        "b@example.com",
    ]

    # Both fetched again (a mailbox read from the start): neither is stored twice.
    assert receive(maildir, second, first) == []
    assert InboundMail.objects.count() == 2 and Lead.objects.count() == 2


def test_the_same_message_delivered_again_with_other_delivery_headers_is_stored_once(maildir):
    raw = factories.raw_mail(message_id="<one-inquiry@example.com>")
    [inbound] = receive(maildir, raw)
    # The copy delivered to another of the store's addresses: other trace headers and line endings.
    copy = b"Delivered-To: sales@maplemotors.example\r\nReceived: from mx2 by mail;\r\n\tMon, 30 Nov 2026\r\n"
    assert receive(maildir, copy + raw.replace(b"\n", b"\r\n")) == []
    assert InboundMail.objects.get() == inbound
    assert Message.objects.filter(message_id="<one-inquiry@example.com>").count() == 1


def test_without_a_message_id_the_content_decides_what_is_a_duplicate(maildir):
    raw = factories.raw_mail(message_id=None)
    receive(maildir, raw)
    receive(maildir, raw)
    receive(maildir, factories.raw_mail(message_id=None, subject="Another question"))
    assert InboundMail.objects.count() == 2


# What a forwarding hop (sales@ passing the customer's copy on to internet@) and the filters on the
# way add to a message: a second delivery of the same mail.
FORWARDING_HOP = (
    b"ARC-Seal: i=1; a=rsa-sha256; t=1796050000; cv=none; d=maplemotors.example; s=arc; b=AbC\r\n"
    b"ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=maplemotors.example; b=DeF\r\n"
    b"X-Forwarded-To: internet@maplemotors.example\r\n"
    b"X-Forwarded-For: sales@maplemotors.example internet@maplemotors.example\r\n"
    b"X-Received: by 2002:a05:6402:1; Mon, 30 Nov 2026 10:00:03 -0500\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; d=maplemotors.example; s=hop;\r\n\tb=GhI\r\n"
    b"X-Spam-Level: *\r\nX-Virus-Scanned: clamav at maplemotors.example\r\n"
)


def test_a_service_request_forwarded_by_another_of_the_stores_mailboxes_reaches_service_once(maildir):
    """The customer wrote To: internet@ and Cc: sales@, and sales@ forwards to internet@."""
    factories.department("service")
    raw = factories.raw_mail(
        subject="Oil change",
        body="Hi, can I book an oil change for my 2019 Corolla next Tuesday?",
        message_id="<svc-1@example.com>",
    )
    [inbound] = receive(maildir, raw)
    assert receive(maildir, FORWARDING_HOP + raw.replace(b"\n", b"\r\n")) == []
    assert inbound.outcome == InboundOutcome.FORWARDED
    assert ForwardedMail.objects.count() == 1
    assert Message.objects.filter(message_id="<svc-1@example.com>").count() == 1


def test_a_form_notification_without_message_id_delivered_twice_is_one_lead_and_one_acknowledgement(maildir):
    raw = factories.raw_mail(message_id=None)
    receive(maildir, b"Received: from mx1.maplemotors.example; Mon, 30 Nov 2026 10:00:01 -0500\r\n" + raw)
    receive(maildir, b"Received: from mx2.maplemotors.example; Mon, 30 Nov 2026 10:00:02 -0500\r\n" + raw)
    assert InboundMail.objects.count() == 1
    assert [m.direction for m in Message.objects.order_by("pk")] == ["in", "out"]  # one acknowledgement


@pytest.mark.parametrize(
    ("field", "other"),
    [
        (b"Hello, what is your best price", b"Hello, is it still available? And your best price"),
        (b"Date: Mon, 30 Nov 2026 10:00:00 -0500", b"Date: Mon, 30 Nov 2026 16:45:00 -0500"),
    ],
)
def test_two_mails_without_message_id_from_one_sender_differing_in_body_or_date_are_both_kept(
    maildir, field, other
):
    raw = factories.raw_mail(message_id=None)
    assert field in raw
    stored = receive(maildir, raw, raw.replace(field, other))
    assert len(stored) == 2
    assert Message.objects.filter(direction="in").count() == 2


def test_mail_known_by_its_content_stored_under_an_earlier_key_is_not_stored_again_when_read_again(maildir):
    """Mail stored before its key came from its originator fields and body: a mailbox whose
    UIDVALIDITY changed is read again from the start."""
    no_id = factories.raw_mail(message_id=None)
    first = factories.raw_mail(from_address="a@example.com", message_id="<lead@provider.example>")
    reused = factories.raw_mail(
        from_address="b@example.com", subject="Price of a Camry", message_id="<lead@provider.example>"
    )
    receive(maildir, no_id, first, reused)
    # Their keys then: the hash of the bytes without a Message-ID, another fingerprint under a reused one.
    InboundMail.objects.filter(message_id="<lead@provider.example>", dedup_key__startswith="content:").update(
        dedup_key="content:an-earlier-fingerprint"
    )
    [without_id] = InboundMail.objects.filter(message_id="")
    InboundMail.objects.filter(pk=without_id.pk).update(dedup_key=f"sha256:{without_id.content_hash}")
    assert receive(maildir, no_id, first, reused) == []
    assert InboundMail.objects.count() == 3 and Lead.objects.count() == 3


def test_one_customers_prospects_giving_email_then_phone_are_one_lead():
    factories.inbound_mail(
        batch_mail(
            prospect("Anne Roy", "anne.roy@example.ca", "", "CR-V"),
            prospect("anne  ROY", "", "514-555-0111", "Civic"),
        )
    )
    [lead] = Lead.objects.all()
    assert sorted(v.model for v in lead.vehicles.all()) == ["CR-V", "Civic"]
    assert Customer.objects.count() == 1


def test_a_first_prospect_without_email_or_phone_does_not_swallow_the_next_customer():
    factories.inbound_mail(
        batch_mail(
            prospect("Anne Roy", "", "", "CR-V"),
            prospect("Paul Gagné", "paul.gagne@example.ca", "", "Civic"),
        )
    )
    paul = Lead.objects.get(customer__email="paul.gagne@example.ca")
    assert [v.model for v in paul.vehicles.all()] == ["Civic"]


def test_a_prospect_without_email_or_phone_joins_the_customer_of_its_name():
    factories.inbound_mail(
        batch_mail(
            prospect("Anne Roy", "anne.roy@example.ca", "", "CR-V"),
            prospect("Paul Gagné", "paul.gagne@example.ca", "", "Accord"),
            prospect("Paul Gagne", "", "", "Civic"),
        )
    )
    paul = Lead.objects.get(customer__email="paul.gagne@example.ca")
    assert sorted(v.model for v in paul.vehicles.all()) == ["Accord", "Civic"]
    assert Lead.objects.count() == 2


def test_a_reply_joins_its_conversation_and_records_customer_replied(maildir):
    lead = factories.lead()
    [inbound] = receive(
        maildir,
        reply_on(lead, "Yes, Saturday works for me."),
    )
    assert inbound.outcome == InboundOutcome.REPLY
    assert inbound.lead == lead
    assert lead.events.filter(type="customer_replied").count() == 1
    assert lead.messages.get().new_text.startswith("Yes, Saturday")


def test_a_phone_given_in_a_reply_is_saved_to_the_customer_like_one_in_a_fresh_mail(maildir):
    lead = factories.lead(customer_obj=factories.customer(email="marie.lavoie@videotron.ca"))
    outlook_reply = (
        "Oui, samedi 10 h me convient. Mon numéro de cellulaire est le 514 555-0166.\n\nMarie\n\n"
        "De : Maple Motors <internet@maplemotors.example>\nEnvoyé : 1 décembre 2026 10:00\n"
        "Objet : Votre demande - Toyota RAV4 2025\n\nAppelez-nous au 416-555-0100."
    )
    [inbound] = receive(maildir, reply_on(lead, outlook_reply))
    assert inbound.outcome == InboundOutcome.REPLY
    lead.customer.refresh_from_db()
    assert lead.customer.phone == "+15145550166"
    receive(maildir, reply_on(lead, "Or please call me at work, 514-555-0177, after 6."))
    lead.customer.refresh_from_db()
    assert lead.customer.phone == "+15145550166"
    assert list(lead.customer.extra_phones.values_list("phone", flat=True)) == ["+15145550177"]


def test_a_phone_extension_given_in_a_reply_is_on_the_customer_card_once(maildir, client, supervisor):
    lead = factories.lead(customer_obj=factories.customer(email="marie.lavoie@videotron.ca"))
    for _ in range(2):
        receive(maildir, reply_on(lead, "Please call me at work, 514-555-0177 ext. 204, after 6."))
    client.force_login(supervisor.user)
    card = client.get(reverse("leads:customer_detail", args=[lead.customer_id])).content.decode()
    assert card.count("Phone: (514) 555-0177, extension 204") == 1


def test_an_extension_a_french_customer_gives_in_a_reply_is_on_the_customer_card(maildir, client, supervisor):
    lead = factories.lead(customer_obj=factories.customer(email="marie.lavoie@videotron.ca"))
    receive(maildir, reply_on(lead, "Appelez-moi au bureau, 514-555-0177 poste 204, après 18 h."))
    lead.customer.refresh_from_db()
    assert "+15145550177" in {
        lead.customer.phone,
        *lead.customer.extra_phones.values_list("phone", flat=True),
    }
    assert "Phone: (514) 555-0177, extension 204" in customer_card(client, supervisor, lead.customer_id)


def test_a_new_extension_for_the_same_number_replaces_the_one_given_before(maildir, client, supervisor):
    customer = factories.customer(email="marie.lavoie@videotron.ca")
    customer_update(customer=customer, actor=supervisor.user, notes="Prefers calls after 6.")
    lead = factories.lead(customer_obj=customer)
    receive(maildir, reply_on(lead, "Please call me at work, 514-555-0177 ext. 12."))
    # Months later she has moved desks: another extension on the same office number.
    receive(maildir, reply_on(lead, "I moved desks: 514-555-0177 ext. 34 now."))
    card = customer_card(client, supervisor, lead.customer_id)
    assert "Prefers calls after 6.<br>Phone: (514) 555-0177, extension 34" in card
    # Whoever calls from the card dials one extension: not the one she no longer has.
    assert "extension 12" not in card


@pytest.mark.parametrize(
    "quote_header",
    [
        # Outlook for Mac and iOS: no "Envoyé" line.
        "De : Maple Motors <internet@maplemotors.example>\nDate : lundi 30 novembre 2026 à 10:00\n"
        "À : Léa Morin <lea@videotron.ca>\nObjet : Votre RAV4 2024\n",
        # French Zimbra webmail.
        '----- Mail original -----\nDe: "Maple Motors" <internet@maplemotors.example>\n'
        'À: "Léa Morin" <lea@videotron.ca>\nEnvoyé: Lundi 30 Novembre 2026 10:00:00\nObjet: Votre RAV4 2024\n',
    ],
)
def test_a_reply_quoting_the_stores_mail_shows_the_customers_words_and_never_takes_the_salespersons_line(
    maildir, quote_header
):
    lead = factories.lead(customer_obj=factories.customer(email="lea@videotron.ca", phone=""))
    reply = (
        f"Oui, samedi matin me convient.\n\nLéa\n\n{quote_header}\n"
        "Bonjour Léa, le RAV4 est arrivé. Appelez-moi directement au 514 555-0177.\n\n"
        "Marc Gagnon, conseiller aux ventes\n"
    )
    [inbound] = receive(maildir, reply_on(lead, reply))
    assert inbound.outcome == InboundOutcome.REPLY
    assert lead.messages.get().new_text == "Oui, samedi matin me convient.\n\nLéa"
    lead.customer.refresh_from_db()
    assert lead.customer.phone == ""


def test_a_customers_own_from_to_date_lines_stay_their_words_and_the_phone_below_is_saved(maildir):
    text = (
        "Bonjour, je voudrais faire un essai routier du RAV4 2024. Mes disponibilités :\n"
        "De : 9 h\nÀ : 17 h\nDate : samedi 5 décembre\n"
        "Mon cellulaire : 514 555-0177. Merci!"
    )
    [inbound] = receive(
        maildir, factories.raw_mail(from_address="lea@corp.example", subject="Essai routier", body=text)
    )
    message = inbound.conversation_message
    assert inbound.lead.customer.phone == "+15145550177"
    assert "samedi 5 décembre" in (message.new_text or message.body_text)


def test_a_customer_reply_mentioning_a_trip_reaches_the_lead(maildir):
    lead = factories.lead(customer_obj=factories.customer(email="lea@corp.example"))
    raw = factories.mail(
        sender="Léa Morin <lea@corp.example>",
        to=reply_address(lead.pk),
        subject="RE: Votre RAV4 2024",
        text="Thanks! I am out of town until Friday, I'll call you when I get back.",
    )
    [inbound] = receive(maildir, raw)
    assert inbound.outcome == InboundOutcome.REPLY
    assert lead.messages.filter(direction="in").exists()
    assert lead.events.filter(type="customer_replied").exists()


def test_a_reply_asking_for_no_more_mail_withdraws_email_consent_and_says_so_on_the_lead(maildir):
    lead = factories.lead()
    consent_record_inquiry(customer=lead.customer, at=timezone.now() - timedelta(days=3), source="web form")
    [inbound] = receive(
        maildir,
        reply_on(lead, "Please stop emailing me, I bought elsewhere."),
    )
    assert (inbound.outcome, inbound.lead) == (InboundOutcome.REPLY, lead)
    assert lead.events.filter(type="unsubscribed", params__message=inbound.conversation_message.pk).exists()
    refusal = commercial_email_refusal(customer=lead.customer, at=timezone.now())
    assert refusal.startswith("no valid consent")
    # Answering what they asked is still allowed; only commercial mail stops.
    assert commercial_email_refusal(customer=lead.customer, at=timezone.now(), transactional=True) == ""


def test_a_new_mail_asking_only_for_no_more_mail_opens_no_lead_and_gets_no_acknowledgement(maildir):
    [inbound] = receive(
        maildir, factories.raw_mail(from_address="former@example.com", subject="Unsubscribe", body="")
    )
    assert inbound.outcome == InboundOutcome.UNSUBSCRIBED and inbound.lead is None
    assert not Lead.objects.exists() and not Message.objects.filter(direction="out").exists()
    customer = Customer.objects.get(email="former@example.com")
    assert inbound.conversation_message.customer == customer  # kept on the customer's record
    assert commercial_email_refusal(customer=customer, at=timezone.now()).startswith("no valid consent")


def test_a_question_beside_a_request_for_no_more_mail_is_still_a_lead_but_not_acknowledged(maildir):
    [inbound] = receive(
        maildir,
        factories.raw_mail(
            from_address="both@example.com",
            subject="Newsletter",
            body="Unsubscribe me from the newsletter. But what is your best price on the RAV4?",
        ),
    )
    assert inbound.outcome == InboundOutcome.NEW_LEAD
    assert not inbound.lead.messages.filter(direction="out").exists()
    assert inbound.lead.events.filter(type="unsubscribed").exists()


def test_a_reply_to_a_lead_merged_since_joins_the_lead_it_went_into(maildir):
    kept = factories.lead()
    duplicate = factories.lead(customer_obj=kept.customer)
    lead_merge(target=kept, duplicate=duplicate)
    [inbound] = receive(
        maildir,
        factories.raw_mail(
            from_address=kept.customer.email,
            to=reply_address(duplicate.pk),  # the address of a mail sent before the merge
            subject="Re: your quote",
            body="Saturday works.",
        ),
    )
    assert inbound.lead == kept
    assert kept.events.filter(type="customer_replied").count() == 1
    assert kept.messages.get().new_text.startswith("Saturday")


def test_a_reply_found_by_in_reply_to_joins_the_lead_it_answers(maildir):
    lead = factories.lead()
    sent = factories.outbound_email(
        lead=lead, message_id="<lead1.abc@maplemotors.example>", occurred_at=lead.received_at
    )
    [inbound] = receive(
        maildir,
        factories.raw_mail(
            from_address=lead.customer.email,
            subject="Re: Your quote",
            body="Thanks, see you Saturday.",
            headers={"In-Reply-To": sent.message_id, "References": sent.message_id},
        ),
    )
    assert inbound.outcome == InboundOutcome.REPLY
    assert inbound.lead == lead


def test_a_reply_that_lost_its_thread_headers_joins_the_open_lead_whatever_department_it_mentions(maildir):
    """Outlook's "RE:" quoting the store's answer, no In-Reply-To: a question about the quoted price."""
    factories.department("service")
    lead = factories.lead(customer_obj=factories.customer(email="marie.lavoie@videotron.ca"))
    [inbound] = receive(maildir, factories.sample_mail("reply_without_thread_headers_fr.eml"))
    assert (inbound.outcome, inbound.lead) == (InboundOutcome.JOINED_LEAD, lead)
    assert not ForwardedMail.objects.exists()
    assert lead.events.filter(type="customer_wrote").count() == 1
    # Without an open lead, the same words are the service department's.
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.LOST)
    [again] = receive(
        maildir, factories.sample_mail("reply_without_thread_headers_fr.eml").replace(b"STRIP@", b"STRIP2@")
    )
    assert (again.kind, again.department) == ("forward", "service")


def test_a_reply_to_a_lead_we_do_not_know_becomes_a_lead(maildir):
    [inbound] = receive(
        maildir,
        factories.raw_mail(
            subject="Re: Your quote",
            headers={"In-Reply-To": "<gone@maplemotors.example>"},
            body="Is the RAV4 still available?",
        ),
    )
    assert inbound.kind == "reply"
    assert inbound.outcome == InboundOutcome.NEW_LEAD
    assert inbound.lead is not None


def test_an_auto_reply_is_recorded_and_never_answered(maildir):
    [inbound] = receive(
        maildir,
        factories.raw_mail(
            subject="Out of office",
            body="I am away until Monday.",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    assert inbound.status == InboundStatus.IGNORED
    assert inbound.outcome == InboundOutcome.AUTO_REPLY
    assert Lead.objects.count() == 0
    assert Message.objects.count() == 0


def test_an_absence_notice_sending_fleet_repairs_to_a_colleague_is_neither_forwarded_nor_the_customer_writing(
    maildir,
):
    factories.department("service")
    lead = factories.lead(customer_obj=factories.customer(email="patrick.roy@transportsroy.ca"))
    [inbound] = receive(maildir, factories.sample_mail("ooo_fr_referral_fleet.eml"))
    assert (inbound.outcome, inbound.status) == (InboundOutcome.AUTO_REPLY, InboundStatus.IGNORED)
    assert not ForwardedMail.objects.exists()
    assert not lead.events.filter(type__in=["customer_wrote", "customer_replied"]).exists()


def test_a_french_absence_notice_in_windows_1252_declared_as_iso_8859_1_leaves_no_customer_waiting(maildir):
    lead = factories.lead(customer_obj=factories.customer(email="lea@corp.example"))
    notice = (
        b"From: Lea Morin <lea@corp.example>\r\nTo: " + reply_address(lead.pk).encode() + b"\r\n"
        b"Subject: RE: Votre RAV4 2024\r\nMessage-ID: <ooo-1252@corp.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Bonjour, je suis absente du bureau jusqu\x92au 7 d\xe9cembre. Pour toute urgence, communiquez avec Marc.\r\n"
    )
    [inbound] = receive(maildir, notice)
    assert (inbound.outcome, inbound.status) == (InboundOutcome.AUTO_REPLY, InboundStatus.IGNORED)
    assert not lead.events.filter(type="customer_replied").exists()
    assert Lead.objects.get(pk=lead.pk).customer_waiting_since is None


def _hard_bounce(address: str, *, returning: str = "") -> bytes:
    """A mail server's notice that mail to `address` failed for good; `returning`: the Message-ID
    of the mail it returns, quoted as servers quote the original's header."""
    original = (
        f"\n\n----- Original message -----\nMessage-ID: {returning}\nSubject: Your RAV4\n"
        if returning
        else ""
    )
    return factories.raw_mail(
        from_address="mailer-daemon@mx.example.net",
        from_name="Mail Delivery System",
        subject="Undelivered Mail Returned to Sender",
        body=f"Delivery to the following recipient failed permanently:\n\n    {address}\n\n"
        f"Status: 5.1.1 The email account that you tried to reach does not exist.{original}",
        headers={"X-Failed-Recipients": address},
    )


def test_a_hard_bounce_marks_the_address_undeliverable_and_is_never_answered(maildir):
    lead = factories.lead(customer_obj=factories.customer(email="gone@example.net"))
    answer = factories.outbound_email(lead=lead, message_id="<lead7.5e1f@maplemotors.example>")
    [inbound] = receive(maildir, _hard_bounce("gone@example.net", returning=answer.message_id))
    assert inbound.outcome == InboundOutcome.BOUNCE
    assert inbound.status == InboundStatus.IGNORED
    customer = Customer.objects.get(pk=lead.customer_id)
    assert customer.email_undeliverable
    assert "Permanent" in customer.email_undeliverable_reason
    assert Message.objects.exclude(pk=answer.pk).count() == 0


def test_a_notice_of_failure_for_mail_the_store_never_sent_there_leaves_the_address_in_use(maildir):
    """Anyone can write a mail that reads like a bounce: one that returns none of the store's mail
    to that address (a made-up one, or the store's mail to someone else) stops no mail to it."""
    lead = factories.lead(customer_obj=factories.customer(email="chloe@example.com"))
    other = factories.outbound_email(lead=factories.lead(), message_id="<lead8.77aa@maplemotors.example>")
    [made_up, misnamed] = receive(
        maildir,
        _hard_bounce("chloe@example.com"),
        _hard_bounce("chloe@example.com", returning=other.message_id),
    )
    assert made_up.outcome == misnamed.outcome == InboundOutcome.BOUNCE
    customer = Customer.objects.get(pk=lead.customer_id)
    assert not customer.email_undeliverable and customer.email_undeliverable_reason == ""
    answer = reply_queue(lead=lead, author=factories.staff().user, subject="Your RAV4", body="Hello Chloé")
    assert answer.to_addresses == ["chloe@example.com"]


def test_a_yahoo_failure_notice_marks_the_address_undeliverable_and_the_answer_failed(maildir):
    lead = factories.lead(customer_obj=factories.customer(email="marie.lavoie@yahoo.ca"))
    answer = factories.outbound_email(
        lead=lead,
        subject="Votre demande - Toyota RAV4 2025",
        message_id="<lead12.0123abcd@maplemotors.example>",
    )
    [inbound] = receive(maildir, factories.sample_mail("yahoo_failure_notice.eml"))
    assert inbound.outcome == InboundOutcome.BOUNCE
    lead.customer.refresh_from_db()
    answer.refresh_from_db()
    assert lead.customer.email_undeliverable
    assert answer.send_status == Message.SendStatus.FAILED


def test_a_campaign_mail_returned_undelivered_counts_as_bounced_in_the_campaign_report(maildir):
    from promotions.selectors import campaign_report
    from promotions.services.campaigns import campaign_batch_send, campaign_start

    customer = factories.customer_with_email_consent(email="gone@example.net")
    campaign = factories.campaign()
    campaign_start(campaign=campaign)
    campaign_batch_send(campaign=campaign, limit=10)
    sent = campaign.recipients.get(customer=customer)
    bounce = factories.raw_mail(
        from_address="mailer-daemon@mx.example.net",
        from_name="Mail Delivery System",
        subject="Undelivered Mail Returned to Sender",
        body="Delivery to the following recipient failed permanently:\n\n    gone@example.net\n\n"
        "Status: 5.1.1 The email account that you tried to reach does not exist.\n\n"
        f"----- Original message -----\nMessage-ID: {sent.message_id}\nSubject: Offer\n",
        headers={"X-Failed-Recipients": "gone@example.net"},
    )
    receive(maildir, bounce)
    sent.refresh_from_db()
    assert sent.bounced_at is not None
    assert campaign_report(campaign=campaign)["bounced"] == 1


def test_a_reply_quoting_an_offers_code_credits_the_open_lead_it_joins(maildir):
    promotion = factories.running_promotion()
    lead = factories.lead()
    [inbound] = receive(
        maildir,
        reply_on(lead, f"I'd like this offer, code {promotion.tracking_code}."),
    )
    assert inbound.lead == lead
    lead.refresh_from_db()
    assert lead.promotion == promotion


def test_mail_for_a_department_fails_until_it_has_an_address_then_replay_forwards_it(maildir):
    """A message that cannot be routed is tried MAX_TRIES times, quarantined with its error, and
    does not hold back the mail behind it; once the cause is fixed, replaying it routes it."""
    service_mail = factories.raw_mail(
        subject="Oil change appointment",
        body="Hi, I need an oil change and my brakes make a noise. Can I book a service appointment?",
    )
    lead_mail = factories.raw_mail(from_address="buyer@example.com")
    drop(maildir, service_mail)
    drop(maildir, lead_mail)
    poll_source(parse_mailbox_url(f"maildir://{maildir}"))
    stuck, behind = InboundMail.objects.order_by("pk")

    for attempt in range(1, MAX_TRIES):
        with pytest.raises(InboundRetry):
            inbound_process(inbound_id=stuck.pk)
        stuck.refresh_from_db()
        assert (stuck.status, stuck.tries) == (InboundStatus.PENDING, attempt)
    assert inbound_process(inbound_id=stuck.pk) == InboundStatus.QUARANTINED
    stuck.refresh_from_db()
    assert "No forward address for the service department" in stuck.last_error
    # Never tried again by itself.
    assert inbound_process(inbound_id=stuck.pk) == InboundStatus.QUARANTINED
    assert InboundMail.objects.get(pk=stuck.pk).tries == MAX_TRIES

    assert inbound_process(inbound_id=behind.pk) == InboundStatus.PROCESSED

    factories.department("service")
    inbound_replay(inbound=stuck)
    assert inbound_process(inbound_id=stuck.pk) == InboundStatus.PROCESSED
    stuck.refresh_from_db()
    assert stuck.outcome == InboundOutcome.FORWARDED
    forwarded = stuck.forward
    assert forwarded.to_address == Department.objects.get(code="service").forward_email
    assert forwarded.customer.messages.get().inbound_mail == stuck


def test_only_quarantined_mail_can_be_replayed(maildir):
    [inbound] = receive(maildir, factories.raw_mail())
    with pytest.raises(ReplayError):
        inbound_replay(inbound=inbound)


def test_an_oversized_inquiry_becomes_a_lead_from_its_text_and_says_the_rest_is_in_the_mailbox(
    maildir, settings
):
    settings.MAIL_MAX_MESSAGE_BYTES = 10_000
    big = factories.raw_mail(
        subject="Photos of my trade-in",
        body="Here are photos of my 2019 Civic for the trade-in value.",
        attachments=[("car.jpg", "image/jpeg", os.urandom(20_000))],
    )
    [inbound] = receive(maildir, big)
    assert inbound.status == InboundStatus.PROCESSED
    assert "over the 10,000-byte limit" in inbound.last_error and "still in the mailbox" in inbound.last_error
    assert inbound.size == len(big)
    assert not inbound.raw_complete
    assert b"Subject: Photos of my trade-in" in bytes(inbound.raw)
    lead = Lead.objects.get()
    assert inbound.lead == lead
    entry = lead.messages.get(direction="in")
    assert "photos of my 2019 Civic" in entry.body_text
    assert "The whole message is still in the mailbox." in entry.body_text
    assert not entry.attachments.exists()
    with pytest.raises(ReplayError):
        inbound_replay(inbound=inbound)


def test_a_new_lead_is_acknowledged_once_in_its_language_threaded_on_the_lead(maildir, smtp_sink):
    [inbound] = receive(
        maildir,
        factories.raw_mail(
            from_address="marie@example.ca",
            from_name="Marie Gagnon",
            subject="Prix Corolla 2025",
            body="Bonjour, quel est votre meilleur prix pour la Corolla 2025 disponible? Merci",
        ),
    )
    lead = inbound.lead
    ack = lead.messages.get(direction="out")
    assert ack.send_status == Message.SendStatus.QUEUED
    assert message_deliver(message_id=ack.pk).send_status == Message.SendStatus.SENT
    assert message_deliver(message_id=ack.pk).send_status == Message.SendStatus.SENT  # not sent twice
    [(recipients, sent)] = smtp_sink.wait_for(1)
    assert recipients == ["marie@example.ca"]
    assert sent["Subject"].startswith("Nous avons bien reçu votre demande")
    assert "Bonjour Marie" in sent.get_body().get_content()
    assert sent["Message-ID"] == ack.message_id
    assert sent["In-Reply-To"] == inbound.message_id
    assert sent["Reply-To"] == reply_address(lead.pk)
    assert sent["Auto-Submitted"] == "auto-replied"
    assert lead.events.filter(type="acknowledged").count() == 1


def test_an_acknowledgement_whose_task_was_lost_goes_out_automatic_and_is_no_first_response(
    maildir, smtp_sink, eager_celery, settings
):
    settings.MAIL_REQUEUE_SECONDS = 60
    [inbound] = receive(maildir, factories.raw_mail(from_address="lost-ack@example.com"))
    lead = inbound.lead
    ack = lead.messages.get(direction="out")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=ack.pk).update(occurred_at=an_hour_ago, created_at=an_hour_ago)

    messages_sweep()
    inbound_requeue_waiting()
    [(recipients, sent)] = smtp_sink.wait_for(1)
    assert recipients == ["lost-ack@example.com"]
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["List-Unsubscribe"] is None
    ack.refresh_from_db()
    lead.refresh_from_db()
    assert ack.send_status == Message.SendStatus.SENT
    # Only a person's answer counts as the first response.
    assert lead.first_response_at is None and lead.status == LeadStatus.NEW
    assert not lead.events.filter(type="first_response").exists()


def test_a_customer_whose_mail_bounced_is_not_acknowledged(maildir):
    customer = factories.customer(email="gone@example.net")
    Customer.objects.filter(pk=customer.pk).update(email_undeliverable=True)
    [inbound] = receive(maildir, factories.raw_mail(from_address="gone@example.net"))
    assert inbound.outcome == InboundOutcome.NEW_LEAD
    assert not inbound.lead.messages.filter(direction="out").exists()


def test_each_buyer_writing_through_a_classifieds_site_is_their_own_customer(maildir):
    routing_rules_ensure_defaults()

    def notice(name, address, question):
        return factories.raw_mail(
            from_address="notifications@lespac.com",
            from_name="LesPAC",
            subject="Nouveau message : Honda Civic 2021",
            body=f"{name} vous a envoyé un message au sujet de votre annonce :\n{question}",
            headers={"Reply-To": f"{name} <{address}>", "List-Unsubscribe": "<https://www.lespac.com/d>"},
        )

    marc, julie = receive(
        maildir,
        notice("Marc Roy", "marc.roy@example.com", "Est-il encore disponible?"),
        notice("Julie Côté", "julie.cote@example.com", "Quel est votre meilleur prix?"),
    )
    assert (marc.outcome, julie.outcome) == (InboundOutcome.NEW_LEAD, InboundOutcome.NEW_LEAD)
    assert marc.lead.customer.email == "marc.roy@example.com"
    assert julie.lead.customer.email == "julie.cote@example.com"
    assert not Customer.objects.filter(email="notifications@lespac.com").exists()


def test_a_classifieds_sites_notice_that_an_ad_expires_opens_no_lead_and_is_not_answered(maildir):
    routing_rules_ensure_defaults()
    [notice] = receive(maildir, factories.sample_mail("kijiji_ad_expiring_fr.eml"))
    assert (notice.status, notice.lead) == (InboundStatus.IGNORED, None)
    assert not Lead.objects.exists() and not Message.objects.exists()
    assert not Customer.objects.filter(email="noreply@kijiji.ca").exists()


def test_each_visitor_of_a_form_the_web_host_sends_is_their_own_customer_and_gets_the_answer(maildir):
    """Gravity Forms' table notification, sent from the web host's address rather than the store's."""
    olivier = factories.sample_mail("gravityforms_table.eml").replace(
        b"wordpress@maplemotors.example", b"wordpress@maplemotors-site.ca"
    )
    nadia = (
        olivier.replace(b"<gf.7c1b2a@", b"<gf.7c1b2d@")
        .replace(b"Olivier Roy", b"Nadia Haddad")
        .replace(b"olivier.roy@gmail.c=\nom", b"nadia.haddad@outlook.c=\nom")
        .replace(b"olivier.roy@gmail.com", b"nadia.haddad@outlook.com")
        .replace(b"(450) 555-0123", b"(514) 555-0178")
    )
    first, second = receive(maildir, olivier, nadia)
    assert (first.outcome, second.outcome) == (InboundOutcome.NEW_LEAD, InboundOutcome.NEW_LEAD)
    assert (first.lead.customer.email, second.lead.customer.email) == (
        "olivier.roy@gmail.com", "nadia.haddad@outlook.com",
    )  # fmt: skip
    acknowledged = Message.objects.filter(direction="out").values_list("to_addresses", flat=True)
    assert sorted(acknowledged) == [["nadia.haddad@outlook.com"], ["olivier.roy@gmail.com"]]
    assert not Customer.objects.filter(email="wordpress@maplemotors-site.ca").exists()


def test_a_service_request_from_the_websites_form_is_forwarded_answerable_to_the_customer(maildir, smtp_sink):
    factories.department("service")
    notice = factories.raw_mail(
        from_address="wordpress@maplemotors.example",
        from_name="Maple Motors",
        subject="Nouvelle demande du site",
        body="Bonjour, je voudrais un rendez-vous pour une vidange d'huile et la rotation de mes pneus.",
        headers={"Reply-To": "Hélène Côté <helene.cote@example.com>"},
    )
    [inbound] = receive(maildir, notice)
    assert (inbound.kind, inbound.department) == ("forward", "service")
    forwarded = ForwardedMail.objects.get()
    assert forward_send(forwarded_id=forwarded.pk).send_status == Message.SendStatus.SENT
    [(_recipients, sent)] = smtp_sink.wait_for(1)
    assert sent["Reply-To"] == "helene.cote@example.com"


def test_department_mail_is_forwarded_with_the_original_attached(maildir, smtp_sink):
    factories.department("parts")
    original = factories.raw_mail(
        from_address="diy@example.com",
        subject="Part number for floor mats",
        body="Hello, I would like to order floor mats, what is the part number for a 2022 Civic?",
    )
    [inbound] = receive(maildir, original)
    assert (inbound.kind, inbound.department) == ("forward", "parts")
    forwarded = ForwardedMail.objects.get()
    assert forward_send(forwarded_id=forwarded.pk).send_status == Message.SendStatus.SENT
    [(recipients, sent)] = smtp_sink.wait_for(1)
    assert recipients == ["parts@store.test"]
    assert sent["Subject"] == "Fwd: Part number for floor mats"
    assert sent["Reply-To"] == "diy@example.com"
    assert "From: diy@example.com\r\nSubject:" in sent.get_body(("plain",)).get_content()
    [attached] = [part for part in sent.iter_attachments() if part.get_content_type() == "message/rfc822"]
    assert attached.get_content()["Message-ID"] == inbound.message_id
    assert forwarded.customer == Customer.objects.get(email="diy@example.com")


def test_winter_tires_on_rims_to_buy_are_forwarded_to_parts_and_a_tire_swap_to_service(maildir):
    factories.department("parts")
    factories.department("service")
    buying, swap = receive(
        maildir,
        factories.raw_mail(
            from_address="kevin@example.com",
            subject="Winter tires",
            body="Do you sell winter tires with wheels? Price for a set of 4 on rims for my 2021 RAV4",
        ),
        factories.raw_mail(
            from_address="sylvie@example.com",
            subject="Pneus d'hiver",
            body="Bonjour, je voudrais un rendez-vous pour poser mes pneus d'hiver.",
        ),
    )
    assert (buying.outcome, buying.department, swap.outcome, swap.department) == (
        InboundOutcome.FORWARDED, "parts", InboundOutcome.FORWARDED, "service",
    )  # fmt: skip
    assert not Lead.objects.exists()


def test_mail_from_the_stores_domain_is_staff_mail_only_from_a_member_of_staffs_address(maildir):
    """A website form sending the visitor's words from the store's noreply address is the visitor's
    inquiry; a salesperson's own note is not."""
    factories.staff("advisor", email="marc.gagnon@maplemotors.example")
    visitor, salesperson = receive(
        maildir,
        factories.raw_mail(
            from_address="noreply@maplemotors.example",
            from_name="Maple Motors",
            subject="Sienna XSE",
            body="Is the 2025 Sienna XSE still available? Call me at 647-555-0162.",
        ),
        factories.raw_mail(
            from_address="marc.gagnon@maplemotors.example",
            from_name="Marc Gagnon",
            subject="Sienna XSE",
            body="Peux-tu réassigner la demande d'Olivia Martin à Julie?",
        ),
    )
    assert (visitor.outcome, visitor.kind, visitor.department) == (InboundOutcome.NEW_LEAD, "lead", "sales")
    assert visitor.lead.customer.phone == "+16475550162"
    # Neither the store's name nor its noreply address is the visitor's: answers must not go there.
    assert (visitor.lead.customer.email, visitor.lead.customer.first_name) == ("", "")
    assert (salesperson.outcome, salesperson.status, salesperson.lead) == (
        InboundOutcome.AUTO_REPLY, InboundStatus.IGNORED, None,
    )  # fmt: skip
    assert Lead.objects.count() == 1
    # Another visitor through the same form is another customer, with their own lead.
    [other] = receive(
        maildir,
        factories.raw_mail(
            from_address="noreply@maplemotors.example",
            from_name="Maple Motors",
            subject="Tacoma",
            body="Do you have a 2024 Tacoma TRD? My number is 905-555-0177.",
        ),
    )
    assert other.lead != visitor.lead and other.lead.customer.phone == "+19055550177"


def test_a_service_request_a_salesperson_passes_on_reaches_service_answerable_to_the_customer(
    maildir, smtp_sink
):
    factories.department("service")
    original = factories.mail(
        sender="Bob Advisor <bob@maplemotors.example>",
        subject="TR: Rendez-vous",
        text=(
            "Pour le service.\n\nDe : Luc Roy <luc.roy@example.com>\nEnvoyé : 28 novembre 2026\nObjet : Rendez-vous\n\n"
            "Bonjour, je voudrais un rendez-vous pour une vidange d'huile mardi.\n"
        ),
    )
    [inbound] = receive(maildir, original)
    assert (inbound.kind, inbound.department) == ("forward", "service")
    forwarded = ForwardedMail.objects.get()
    assert forwarded.customer == Customer.objects.get(email="luc.roy@example.com")
    forward_send(forwarded_id=forwarded.pk)
    [(recipients, sent)] = smtp_sink.wait_for(1)
    assert sent["Reply-To"] == "luc.roy@example.com"
    body = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "From: luc.roy@example.com\nPassed on by: Bob Advisor <bob@maplemotors.example>\n" in body
    assert "Routed by: words about Service" in body
    assert not Customer.objects.filter(email="bob@maplemotors.example").exists()


def test_a_forward_fetched_with_crlf_line_endings_keeps_the_customers_words_and_phone(maildir):
    """IMAP hands messages over with CRLF line endings: the salesperson's forward reads the same."""
    factories.department("service")
    [inbound] = receive(maildir, factories.sample_mail("staff_forward_fr_crlf.eml"))
    assert (inbound.kind, inbound.department) == ("forward", "service")
    assert not Message.objects.filter(direction="out").exists()  # no sales acknowledgement
    forwarded = ForwardedMail.objects.get()
    assert (forwarded.customer.email, forwarded.customer.phone) == (
        "robert.gagne@videotron.ca",
        "+14505550107",
    )
    assert inbound.conversation_message.new_text.startswith("Bonjour Julien, mon voyant moteur est allumé")


def test_a_forward_the_departments_server_returns_shows_as_failed_with_the_reason(maildir, smtp_sink):
    """The department's address was mistyped or closed: the forward went out but never arrived.
    Its bounce marks it failed on the department's mail list, so someone sends it on by hand."""
    factories.department("parts")
    receive(maildir, factories.raw_mail(subject="Floor mats", body="Do you have floor mats in stock?"))
    forwarded = ForwardedMail.objects.get()
    assert forward_send(forwarded_id=forwarded.pk).send_status == Message.SendStatus.SENT

    def bounce(action: str, status: str) -> bytes:
        return (
            factories.sample_mail("dsn_bounce.eml")
            .replace(b"gone@example.com", b"parts@store.test")
            .replace(b"<lead12.0123abcd@maplemotors.example>", forwarded.message_id.encode())
            .replace(b"<dsn-1@", f"<dsn-{action}@".encode())
            .replace(b"Action: failed\nStatus: 5.1.1", f"Action: {action}\nStatus: {status}".encode())
        )

    [delayed] = receive(maildir, bounce("delayed", "4.4.1"))
    assert delayed.outcome == InboundOutcome.BOUNCE
    forwarded.refresh_from_db()
    assert forwarded.send_status == Message.SendStatus.SENT  # the server still tries

    [returned] = receive(maildir, bounce("failed", "5.1.1"))
    assert returned.outcome == InboundOutcome.BOUNCE
    forwarded.refresh_from_db()
    assert forwarded.send_status == Message.SendStatus.FAILED
    assert "parts@store.test" in forwarded.send_error and "User unknown" in forwarded.send_error
    assert not Customer.objects.filter(email_undeliverable=True).exists()


def test_an_answer_the_customers_server_returns_shows_as_not_received_on_the_lead_page(maildir, client):
    """The supervisor's answer went out, but the customer's mailbox is gone: the lead page must not
    let them believe the customer has it."""
    lead = factories.lead(customer_obj=factories.customer(email="gone@example.com"))
    answer = factories.outbound_email(
        lead=lead,
        subject="Your RAV4 quote",
        message_id="<lead12.0123abcd@maplemotors.example>",  # the one the sample bounce returns
    )
    [returned] = receive(maildir, factories.sample_mail("dsn_bounce.eml"))
    assert returned.outcome == InboundOutcome.BOUNCE
    answer.refresh_from_db()
    assert answer.send_status == Message.SendStatus.FAILED
    assert "gone@example.com" in answer.send_error and "User unknown" in answer.send_error
    client.force_login(factories.staff("supervisor").user)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    banner = page[page.index("Not sent:") :][:600]
    assert "Your RAV4 quote" in banner and "Returned undelivered to gone@example.com" in banner


def test_a_forward_waits_while_the_server_is_unreachable_and_a_refusal_is_final(maildir, smtp_sink, settings):
    Department.objects.filter(pk=factories.department("parts").pk).update(
        forward_email="refused-parts@store.test"
    )
    receive(
        maildir,
        factories.raw_mail(subject="Part number for floor mats", body="What part number fits a 2022 Civic?"),
    )
    forwarded = ForwardedMail.objects.get()
    with mail_server_down(settings), pytest.raises(MailServerUnavailable):
        forward_send(forwarded_id=forwarded.pk)
    forwarded.refresh_from_db()
    assert forwarded.send_status == Message.SendStatus.QUEUED
    assert forward_send(forwarded_id=forwarded.pk).send_status == Message.SendStatus.FAILED
    forwarded.refresh_from_db()
    assert "550" in forwarded.send_error
    assert forward_send(forwarded_id=forwarded.pk).send_status == Message.SendStatus.FAILED  # not retried
    assert smtp_sink.messages == []


def test_a_forward_left_sending_by_a_dead_worker_fails_and_is_not_sent_again(maildir, smtp_sink):
    factories.department("parts")
    receive(maildir, factories.raw_mail(subject="Part number for floor mats", body="Which mats fit a Civic?"))
    forwarded = ForwardedMail.objects.get()
    ForwardedMail.objects.filter(pk=forwarded.pk).update(send_status=Message.SendStatus.SENDING)
    assert forward_send(forwarded_id=forwarded.pk).send_status == Message.SendStatus.FAILED
    forwarded.refresh_from_db()
    assert forwarded.send_error == "Interrupted while sending; not sent again in case it went out."
    assert forwarded.sent_at is None
    assert smtp_sink.messages == []


def test_a_poll_that_waits_picks_up_a_file_dropped_meanwhile(maildir):
    def drop_soon():
        time.sleep(0.3)
        (maildir / "new" / "late.eml").write_bytes(factories.raw_mail(subject="Dropped while waiting"))

    thread = threading.Thread(target=drop_soon)
    thread.start()
    result = poll_source(parse_mailbox_url(f"maildir://{maildir}"), idle_seconds=3)
    thread.join()
    assert result.stored == 1
    assert InboundMail.objects.get().subject == "Dropped while waiting"


def test_poll_mailbox_once_stores_routes_and_sends_in_the_foreground(maildir):
    drop(maildir, factories.raw_mail(from_address="cron@example.com", subject="Price of the 2024 RAV4"))
    out = StringIO()
    call_command("poll_mailbox", "--once", stdout=out)
    assert "1 read, 1 new" in out.getvalue()
    lead = Lead.objects.get(customer__email="cron@example.com")
    [sent] = mail.outbox
    assert sent.to == ["cron@example.com"]
    assert lead.messages.get(direction="out").send_status == Message.SendStatus.SENT


def test_a_mailbox_url_that_cannot_be_read_leaves_the_others_polled(maildir, settings):
    settings.MAILBOX_URLS = ["imaps://leads:secret@imap.store.example:99999/INBOX", f"maildir://{maildir}"]
    drop(maildir, factories.raw_mail(from_address="still@example.com", subject="Price of the 2024 RAV4"))
    out = StringIO()
    call_command("poll_mailbox", "--once", stdout=out)
    assert "1 read, 1 new" in out.getvalue()
    assert Lead.objects.filter(customer__email="still@example.com").exists()


def test_mail_whose_task_was_lost_is_queued_again_but_a_backlog_is_not_queued_twice(settings):
    settings.MAIL_REQUEUE_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=10)
    lost = factories.inbound_mail(process=False)
    InboundMail.objects.filter(pk=lost.pk).update(queued_at=long_ago)
    # Routing is busy with mail queued at the same time: the message may still be in the queue.
    routed = factories.inbound_mail()
    InboundMail.objects.filter(pk=routed.pk).update(queued_at=long_ago + timedelta(seconds=5))
    assert inbound_requeue_waiting() == 0
    # Mail queued well after it has been routed: its task was lost.
    InboundMail.objects.filter(pk=routed.pk).update(queued_at=timezone.now())
    assert inbound_requeue_waiting() == 1
    assert InboundMail.objects.get(pk=lost.pk).queued_at > long_ago
    # Nothing routed lately: whatever waits too long is queued again.
    InboundMail.objects.filter(pk=lost.pk).update(queued_at=long_ago)
    InboundMail.objects.filter(pk=routed.pk).update(processed_at=long_ago)
    assert inbound_requeue_waiting() == 1


def test_a_mail_quoting_a_promotions_code_becomes_that_promotions_lead(maildir):
    promotion = factories.promotion(name="Winter tires")
    [inbound] = receive(
        maildir,
        factories.raw_mail(
            from_address="sam@example.com",
            subject="Winter offer",
            body=f"Hello, I saw your flyer (code {promotion.tracking_code}). Is the RAV4 still available?",
        ),
    )
    assert inbound.outcome == InboundOutcome.NEW_LEAD
    assert inbound.lead.promotion == promotion
    assert inbound.lead.events.filter(type="promotion_attributed").count() == 1
