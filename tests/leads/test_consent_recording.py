"""Consent is recorded as the law reads it: what staff type by mistake is refused, not kept."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from leads.models import Customer
from leads.selectors.consent import consent_check
from leads.services.consent import commercial_email_send, consent_withdraw
from leads.services.customers import customer_update
from tests import factories
from tests.french import FRENCH, NBSP

pytestmark = pytest.mark.django_db


def _grant(client, customer, **fields):
    data = {"channels": ["email"], "basis": "implied_inquiry", "source": "web inquiry"} | fields
    return client.post(reverse("leads:customer_consent_grant", args=[customer.pk]), data, follow=True)


def _when(delta: timedelta) -> str:
    return (timezone.localtime() + delta).strftime("%Y-%m-%d %H:%M")


def test_a_contracts_end_date_does_not_stretch_an_inquirys_consent(supervisor_client):
    customer = factories.customer()
    _grant(
        supervisor_client, customer, at=_when(-timedelta(days=300)), relationship_ends_at="2030-01-01 00:00"
    )
    assert not consent_check(customer=customer, channel="email").valid  # six months from the inquiry
    record = customer.consent_records.get()
    assert record.evidence == {} and record.expires_at < timezone.now()


def test_consent_given_in_the_future_is_refused_and_never_outranks_a_withdrawal(supervisor_client):
    customer = factories.customer()
    page = _grant(
        supervisor_client,
        customer,
        basis="express",
        wording="Yes, send me offers",
        at=_when(timedelta(days=365)),
    ).content.decode()
    assert "Consent cannot be given in the future: check the date." in page
    assert not customer.consent_records.exists()
    # Given yesterday, withdrawn today: still withdrawn a year on.
    _grant(supervisor_client, customer, basis="express", wording="Yes", at=_when(-timedelta(days=1)))
    assert consent_check(customer=customer, channel="email").valid
    consent_withdraw(customer=customer, channels=["email"], at=timezone.now(), source="Unsubscribe link")
    assert not consent_check(
        customer=customer, channel="email", at=timezone.now() + timedelta(days=366)
    ).valid


@pytest.mark.parametrize("ends", ["9999-12-31 10:00", "9997-12-31 23:00"])
def test_a_contract_ending_in_a_year_typed_wrong_is_refused_on_its_field(supervisor_client, ends):
    """Its two years of consent after ran past the calendar: Python's "year 10001 is out of range",
    naming a year nobody typed, and no field."""
    customer = factories.customer()
    response = _grant(
        supervisor_client, customer, basis="business_relationship", source="Lease contract",
        at=_when(-timedelta(days=1)), relationship_ends_at=ends,
    )  # fmt: skip
    said = "Check the year: a contract ends within 50 years."
    assert response.context["grant_form"].errors == {"relationship_ends_at": [said]}
    assert said in response.content.decode()
    assert not customer.consent_records.exists()


def test_implied_consent_is_never_recorded_for_phone_calls(supervisor_client):
    customer = factories.customer()
    page = _grant(
        supervisor_client, customer, channels=["phone"], at=_when(-timedelta(days=1))
    ).content.decode()
    assert "Phone calls need express consent" in page
    assert not consent_check(customer=customer, channel="phone").valid


def test_a_corrected_address_after_a_bounce_gets_mail_again(supervisor):
    customer = factories.customer(email="jean@exmaple.com")
    Customer.objects.filter(pk=customer.pk).update(email_undeliverable=True, email_undeliverable_reason="550")
    customer = customer_update(
        customer=Customer.objects.get(pk=customer.pk), actor=supervisor.user, email="jean@example.com"
    )
    assert (customer.email_undeliverable, customer.email_undeliverable_reason) == (False, "")
    result = commercial_email_send(customer=customer, subject="Hi", body="x", transactional=True)
    assert result.sent and mail.outbox[-1].to == ["jean@example.com"]


def test_two_families_of_the_same_name_are_two_households(supervisor):
    first, second = factories.customer(last_name="Tremblay"), factories.customer(last_name="Tremblay")
    for customer in (first, second):
        customer_update(customer=customer, actor=supervisor.user, new_household="Famille Tremblay")
    first.refresh_from_db(), second.refresh_from_db()
    assert first.household_id != second.household_id


def test_the_refusals_read_in_french(supervisor_client):
    customer = factories.customer()
    url = reverse("leads:customer_consent_grant", args=[customer.pk])
    data = {
        "channels": ["phone"],
        "basis": "implied_inquiry",
        "source": "web",
        "at": _when(timedelta(days=365)),
    }
    page = supervisor_client.post(url, data, headers=FRENCH).content.decode()
    assert f"Les appels exigent un consentement exprès{NBSP}; le consentement tacite" in page
    page = supervisor_client.post(url, data | {"channels": ["email"]}, headers=FRENCH).content.decode()
    assert f"Un consentement ne peut pas être donné dans le futur{NBSP}: vérifiez la date." in page
