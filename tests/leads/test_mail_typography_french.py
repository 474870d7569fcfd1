"""Mail to a French customer follows French typography: a no-break space before : ; ? ! and inside
an amount ("34 995 $"), as the pages do."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from leads.models import Appointment, AppointmentNotice, FollowUpStep, ReplyTemplate
from leads.services.appointments import appointment_book, appointment_notices_send
from leads.services.consent import commercial_footer
from leads.services.followup import followup_plans_ensure_defaults
from leads.services.replies import reply_draft, reply_templates_ensure_defaults
from promotions.services.campaigns import campaign_message, campaign_start
from tests import factories
from tests.french import NBSP

pytestmark = pytest.mark.django_db


def test_an_appointment_invitation_in_french_spaces_its_colons():
    advisor = factories.advisor(first_name="Alex", last_name="Chen")
    lead = factories.lead(customer_obj=factories.customer(language="fr"), language="fr")
    monday = datetime(2026, 3, 16, 10, tzinfo=ZoneInfo("America/Toronto"))
    appointment = appointment_book(
        lead=lead, advisor=advisor, starts_at=monday, now=monday - timedelta(days=3),
        purpose=Appointment.Purpose.TEST_DRIVE,
    )  # fmt: skip
    appointment_notices_send(
        appointment_id=appointment.pk, kind=AppointmentNotice.Kind.INVITATION, sequence=0
    )
    to_customer = mail.outbox[0]
    assert f"Votre rendez-vous chez Maple Motors{NBSP}: lundi 16 mars" in to_customer.subject
    for label in ("Quand", "Avec", "Où"):
        assert f"{label}{NBSP}: " in to_customer.body, label
    assert " : " not in to_customer.body.replace(f"{NBSP}: ", "")


def test_the_default_french_answers_and_follow_ups_space_their_questions_and_prices(supervisor):
    reply_templates_ensure_defaults()
    vehicle = factories.vehicle(make="Toyota", model="RAV4", price=Decimal("34995"))
    lead = factories.lead(
        customer_obj=factories.customer(language="fr"), language="fr",
        vehicles=[{"make": "Toyota", "model": "RAV4", "stock_number": vehicle.stock_number}],
    )  # fmt: skip
    price = reply_draft(
        template=ReplyTemplate.objects.get(inquiry_type="price", language="fr"),
        lead=lead,
        sender=supervisor.user,
    )["body"]
    assert f"34{NBSP}995{NBSP}$" in price and f"venir le voir{NBSP}?" in price
    general = ReplyTemplate.objects.get(inquiry_type="general", language="fr").body
    assert f"de vous aider{NBSP}: quel" in general and f"par téléphone{NBSP}?" in general
    plan = followup_plans_ensure_defaults()
    french = [step.subject_fr + step.body_fr for step in plan.steps.filter(kind=FollowUpStep.Kind.AUTO_EMAIL)]
    assert french and all("?" not in text.replace(f"{NBSP}?", "") for text in french)


def test_a_french_campaign_mail_spaces_the_offer_code_and_the_unsubscribe_line():
    customer = factories.customer_with_email_consent(language="fr")
    assert f"Pour ne plus recevoir nos messages{NBSP}: " in commercial_footer(customer)
    campaign = factories.campaign()
    campaign_start(campaign=campaign)
    recipient = campaign.recipients.get()
    _subject, body = campaign_message(recipient=recipient)
    assert f"Code de l’offre{NBSP}: {campaign.promotion.tracking_code}" in body
    english = factories.customer_with_email_consent(language="en")
    recipient.customer, recipient.language = english, "en"
    assert f"Offer code: {campaign.promotion.tracking_code}" in campaign_message(recipient=recipient)[1]
