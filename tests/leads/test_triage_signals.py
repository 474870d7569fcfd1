"""Triage of mail that must not be answered (bounces, automatic replies, the store's own mail) and
of the words that decide a department, with the store's default routing rules in place."""

import importlib

import pytest

from leads.mail.parsing import parse_message
from leads.mail.triage import triage
from leads.models import RoutingRule
from leads.services.routing import DEFAULT_RULES, routing_rules_ensure_defaults
from leads.threading import reply_address
from tests import factories

DEFAULTS = [RoutingRule(**values) for values in DEFAULT_RULES]


def triaged(raw: bytes, rules=DEFAULTS):
    return triage(parse_message(raw), rules=rules)


# --- rules never answer bounces or automatic replies, and read the sender's address ----------------


def test_out_of_office_from_someone_named_like_a_lead_provider_is_not_acknowledged():
    raw = factories.mail(
        sender="John Edmunds <john@example.com>",
        subject="Out of office",
        text="I am away until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    result = triaged(raw)
    assert (result.kind, result.department, result.acknowledge) == ("auto_reply", None, False)


def test_a_customer_named_like_a_lead_provider_asking_for_service_goes_to_service():
    result = triaged(factories.mail(sender="John Edmunds <john@example.com>", text="I need an oil change"))
    assert (result.kind, result.department) == ("forward", "service")


@pytest.mark.parametrize(
    "sender",
    ["Mail Delivery System <mailer-daemon@mx.autotrader.ca>", "Carfax Mail <postmaster@carfax.example>"],
)
def test_a_bounce_from_a_lead_providers_mail_system_is_a_bounce(sender):
    text = "Your message to gone@example.com could not be delivered.\n\n550 5.1.1 user unknown"
    result = triaged(factories.mail(sender=sender, subject="Undelivered Mail Returned to Sender", text=text))
    assert (result.kind, result.acknowledge, result.bounce_recipients) == (
        "bounce",
        False,
        ["gone@example.com"],
    )


def test_lead_provider_rule_still_takes_the_customer_a_provider_passes_on():
    form = "Name: Ava Singh\nEmail: ava.singh@example.com\nMessage: I need an oil change"
    result = triaged(factories.mail(sender="Edmunds Leads <leads@mail.edmunds.com>", text=form))
    assert (result.kind, result.department, result.acknowledge) == ("lead", "sales", True)
    assert result.rule.startswith("rule:Lead providers")
    assert result.contact["email"] == "ava.singh@example.com"
    assert triaged(factories.mail(sender="Pat <pat@mycars.com>", text="oil change")).department == "service"


@pytest.mark.parametrize(
    "sample", ["kijiji_ad_expiring_fr.eml", "autotrader_report.eml", "cargurus_digest.eml"]
)
def test_a_lead_providers_own_notice_is_no_lead_and_never_acknowledged(sample):
    result = triaged(factories.sample_mail(sample))
    assert (result.kind, result.department, result.acknowledge) == ("auto_reply", None, False)
    assert result.rule == "provider-notice"


def test_bulk_mail_a_rule_takes_is_routed_but_never_acknowledged():
    raw = factories.mail(sender="news@oem.example", text="December deals", headers={"Precedence": "bulk"})
    rules = [RoutingRule(name="Deals", subject_contains="question", kind="lead", acknowledge=True)]
    result = triaged(raw, rules=rules)
    assert (result.kind, result.acknowledge) == ("lead", False)
    assert triaged(raw, rules=()).kind == "auto_reply"


# --- a website form sent from the store's own address ------------------------------------------------


def test_website_form_sent_from_the_stores_address_is_the_customers_lead():
    form = (
        "Name: Noah Williams\nEmail: noah@example.com\nPhone: 647 555 0133\nMessage: Is the Tucson available?"
    )
    result = triaged(factories.mail(sender="Maple Motors <internet@maplemotors.example>", text=form))
    assert (result.kind, result.department, result.acknowledge) == ("lead", "sales", True)
    assert result.contact["email"] == "noah@example.com"


def test_french_website_form_sent_from_the_stores_address_is_a_lead():
    raw = factories.sample_mail("form_fr.eml").replace(
        b"From: Site web Maple Motors <noreply@", b"From: Site web Maple Motors <internet@"
    )
    result = triaged(raw)
    assert (result.kind, result.language) == ("lead", "fr")
    assert result.contact["email"] == "lea.morin@example.com"


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-forwarded"}, {"In-Reply-To": "<lead5.abc@maplemotors.example>"}, {}],
)
def test_the_stores_own_mail_coming_back_stays_ignored_even_quoting_a_form(headers):
    text = "Name: Noah Williams\nEmail: noah@example.com\nPhone: 647 555 0133"
    if not headers:
        text = "Thank you, we will call you shortly."  # not a form at all
    raw = factories.mail(sender="Maple Motors <internet@maplemotors.example>", text=text, headers=headers)
    assert triaged(raw).rule == "own-mail"


# --- absence notices written in the body ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("RE: Votre RAV4", "Je suis absent du bureau jusqu'au 5 janvier. Je vous répondrai à mon retour."),
        ("Re: Your RAV4", "I'm on vacation until Jan 5 with limited access to email."),
        (
            "Re: Your RAV4",
            "Thank you for your email.\nI am currently out of the office and will return on January 5.",
        ),
        ("Re: Votre RAV4", "Bonjour,\nJe suis en congé jusqu'au 5 janvier.\nMerci"),
        ("RE: Votre RAV4", "Je suis présentement à l'extérieur du bureau et de retour le lundi 17 mars."),
        ("Re: Your RAV4", "I am currently away and will be returning on March 17."),
        ("Absence : Votre RAV4", "Bonjour"),
        ("Absent jusqu'au 5 janvier", "Bonjour"),
        (
            "Absente - de retour le 4 janvier",
            "Bonjour, je suis présentement à l'extérieur du pays et je n'ai pas accès à mes courriels. "
            "Je vous répondrai dès mon retour le 4 janvier.",
        ),
        (
            "Re: Your Tacoma quote",
            "I am out of the office until January 4. For fleet maintenance and repairs, please contact "
            "Denis at extension 224.",
        ),
    ],
)
def test_absence_notices_without_headers_are_automatic_replies(subject, text):
    result = triaged(factories.mail(sender="Marie <marie@example.fr>", subject=subject, text=text))
    assert (result.kind, result.acknowledge) == ("auto_reply", False)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "Je suis en congé de maternité jusqu’en septembre 2027. Pour toute question, écrivez à rh@corp.example.",
            "auto_reply",
        ),
        ("Je serai à l'extérieur jusqu'au 7 décembre. Je vous répondrai à mon retour.", "auto_reply"),
        ("Je suis en formation toute la semaine et je vous répondrai à mon retour.", "auto_reply"),
        (
            "I will be out of town until December 7 and will reply to your message when I get back.",
            "auto_reply",
        ),
        ("I am away until Monday, December 7. I will respond to your email upon my return.", "auto_reply"),
        ("I am travelling for work and will answer your message when I get back.", "auto_reply"),
        # The customer saying they are away while asking for something stays their reply.
        ("I'm away until Saturday, can we book Monday?", "reply"),
        ("I'm out of town until Saturday. I'll come by Monday to sign for the RAV4.", "reply"),
        ("Je serai à l'extérieur jusqu'au 7 décembre, j'aimerais passer voir le RAV4 après.", "reply"),
    ],
)
def test_an_answer_saying_its_writer_is_away_is_an_automatic_reply_unless_it_asks_for_something(text, kind):
    raw = factories.mail(
        sender="Léa Morin <lea@corp.example>", to=reply_address(42), subject="RE: Votre RAV4 2024", text=text
    )
    assert triaged(raw).kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "Thanks Marc, I'm travelling until the 10th. Let's talk when I get back.",
        "Thanks! I am out of town until Friday, I'll call you when I get back.",
        "Merci! Je suis à l'extérieur jusqu'à vendredi, je vous rappelle à mon retour.",
        "Je suis en formation jusqu'à jeudi, je vous reviens à mon retour. Merci Marc!",
        "I'm on vacation, talk to you when I get back.",
    ],
)
def test_a_customer_reply_mentioning_a_trip_is_still_their_reply(text):
    """No responder's promise to answer the sender's message: the customer's own short answer."""
    raw = factories.mail(
        sender="Léa Morin <lea@corp.example>", to=reply_address(42), subject="RE: Votre RAV4 2024", text=text
    )
    assert triaged(raw).kind == "reply"


@pytest.mark.parametrize(
    "text",
    [
        "Hello,\n\nI am protecting myself from receiving junk mail. Please click the link below to complete "
        "the verification process. You have to do this only once.\n\nhttp://www.spamarrest.com/a2/verify?c=8839a1b3",
        "Bonjour,\n\nPour me protéger des pourriels, je dois vérifier que vous êtes une personne. Cliquez sur le "
        "lien ci-dessous :\nhttps://filtre.example.ca/verifier?c=77",
    ],
)
def test_a_spam_filters_challenge_answering_the_stores_mail_is_an_automatic_reply(text):
    raw = factories.mail(
        sender="Marie Lavoie <marie.lavoie@videotron.ca>", to=f"Maple Motors <{reply_address(42)}>",
        subject="Re: Votre demande - Toyota RAV4 2025 [Verification required]", text=text,
        headers={"In-Reply-To": "<lead42.5f0c2e9a7b1d4c3e@maplemotors.example>"},
    )  # fmt: skip
    result = triaged(raw)
    assert (result.kind, result.rule, result.acknowledge) == ("auto_reply", "challenge-response", False)


def test_a_customer_writing_about_a_verification_is_still_their_reply():
    text = "I completed the verification process for the credit application. See https://bank.example/ok"
    raw = factories.mail(
        sender="Marie <marie@example.com>", to=reply_address(42), subject="Re: your RAV4",
        text=f"{text}\n\nOn Mon, Nov 30, 2026, Maple Motors <internet@maplemotors.example> wrote:\n> Hello",
    )  # fmt: skip
    assert triaged(raw).kind == "reply"


@pytest.mark.parametrize(
    "text",
    [
        "I will be away next week, can we meet after?",
        "I'm on vacation until Jan 5. Please call me when the RAV4 arrives.",
        "Je suis en vacances jusqu'au 5 janvier, j'aimerais essayer le RAV4 à mon retour.",
        "Hello,\nI'm looking at the 2024 RAV4 you have in stock. "
        + "It looks great. " * 40
        + "I'm on vacation until Monday.",
        "Back from vacation! I want to buy the RAV4 before it's gone.",
        # Fresh mail, not an answer to anything: a person writing, whatever they say of their holidays.
        "Hi, I'm on vacation until the 20th but please send me your best price on the 2024 Tacoma in the "
        "meantime. Thanks, Brian",
        "Bonjour, je suis en vacances jusqu'au 20 mars. Merci de me rappeler à mon retour pour discuter du "
        "Kona 2024 que j'ai vu sur votre site.",
    ],
)
def test_customers_mentioning_a_trip_are_still_read(text):
    result = triaged(factories.mail(sender="Pat <pat@example.com>", subject="RAV4", text=text))
    assert result.kind == "lead" and result.acknowledge


def test_a_customer_answering_that_they_are_away_but_buying_is_a_reply():
    text = (
        "Hi Marc, I'm on vacation until March 20 but I'll take the Tacoma. I'll come sign when I'm back.\n\n"
        "On Mon, Mar 2, 2026 at 10:00, Marc <internet@maplemotors.example> wrote:\n> Here is the price."
    )
    raw = factories.mail(
        sender="Pat <pat@example.com>", subject="Re: Your Tacoma", text=text,
        headers={"In-Reply-To": "<lead5.abc@maplemotors.example>"},
    )  # fmt: skip
    assert triaged(raw).kind == "reply"


# --- department words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, je voudrais prendre rendez-vous pour un changement d'huile la semaine prochaine.",
        "Bonjour, est-ce possible de faire l'entretien des 10 000 km de ma Corolla?",
        "Can I book an appointment for my 10,000 km service?",
    ],
)
def test_oil_and_scheduled_maintenance_go_to_service(text):
    result = triaged(factories.mail(text=text, subject="Rendez-vous"))
    assert (result.kind, result.department) == ("forward", "service")


# --- bounces --------------------------------------------------------------------------------------------


def test_a_customers_mail_about_a_failed_parcel_delivery_is_not_a_bounce():
    text = (
        "Hi, my order never arrived, the courier said the address does not exist. "
        "Call my wife at jane@example.com"
    )
    result = triaged(
        factories.mail(sender="Bob Smith <bob@example.com>", subject="Parts delivery failed", text=text)
    )
    assert result.kind != "bounce" and result.bounce_recipients == []


def test_a_delay_notice_naming_a_phone_number_is_temporary():
    text = "Delivery to slow@example.net has been delayed.\nQuestions? Help desk, phone: 514-550-1234"
    raw = factories.mail(sender="postmaster@mx.example", subject="Delivery delayed", text=text)
    result = triaged(raw)
    assert result.kind == "bounce" and not result.bounce_permanent


@pytest.mark.parametrize(
    "line",
    [
        "host mx.example.net[192.0.2.1] said: 550 Recipient address rejected",
        "550-The email account that you tried to reach is disabled.",
        "    554 delivery error: dd This user doesn't have an account",
        "554: delivery error: dd This user doesn't have a yahoo.ca account (gone@example.net) [-5] - mta1234",
    ],
)
def test_a_permanent_smtp_reply_still_makes_a_permanent_bounce(line):
    text = f"A message could not be delivered to gone@example.net:\n\n{line}"
    raw = factories.mail(sender="MAILER-DAEMON@mx.example", subject="Returned mail", text=text)
    assert triaged(raw).bounce_permanent


def test_a_store_s_unedited_lead_provider_rule_takes_edmunds_by_its_domain(db):
    from django.apps import apps

    migration = importlib.import_module("leads.migrations.0019_lead_provider_rule_edmunds_domain")
    routing_rules_ensure_defaults()
    rule = RoutingRule.objects.get(order=10)
    RoutingRule.objects.filter(pk=rule.pk).update(sender_contains=migration.OLD)
    edited = RoutingRule.objects.create(name="Mine", order=20, sender_contains="edmunds, pat", kind="lead")
    migration.edmunds_by_domain(apps, None)
    rule.refresh_from_db()
    edited.refresh_from_db()
    assert "edmunds.com" in rule.sender_contains and edited.sender_contains == "edmunds, pat"
