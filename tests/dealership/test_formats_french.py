"""Amounts and distances read as the page's language writes them: "36 499 $" and "38 700 km" in
French, "$36,499" and "38,700 km" in English, the cents only when there are some."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.services.vehicles import vehicle_price_set
from leads.models import FollowUpStepRun
from leads.services.followup import followup_enroll, followup_plans_ensure_defaults
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db


def test_the_lead_pages_vehicle_shows_its_price_and_distance_as_the_page_writes_them(supervisor_client):
    lead = factories.lead(
        vehicles=[{"make": "Toyota", "model": "RAV4", "odometer_km": 38700, "price": Decimal("36499.00")}]
    )
    url = reverse("leads:lead_detail", args=[lead.pk])
    page = page_text(supervisor_client, url, FRENCH)
    assert f"38{NBSP}700{NBSP}km" in page and f"36{NBSP}499{NBSP}$" in page
    assert "36499,00" not in page
    english = page_text(supervisor_client, url, ENGLISH)
    assert "38,700 km" in english and "$36,499" in english


def test_an_offers_price_and_fees_read_in_french_on_the_promotion_page(supervisor_client):
    promotion = factories.promotion(
        advertised_price=Decimal("25999"), offer_kind="price",
        fees={"freight_pdi": {"amount": "2100", "included": True}},
    )  # fmt: skip
    url = reverse("promotions:detail", args=[promotion.pk])
    page = page_text(supervisor_client, url, FRENCH)
    assert f" · 25{NBSP}999{NBSP}$" in page and f"{NBSP}: 2{NBSP}100{NBSP}$ (inclus)" in page
    assert "25999,00" not in page
    english = page_text(supervisor_client, url, ENGLISH)
    assert " · $25,999" in english and ": $2,100 (included)" in english


def test_the_price_history_reads_as_the_page_writes_amounts(supervisor_client):
    vehicle = factories.vehicle(price="48500")
    vehicle_price_set(vehicle=vehicle, price="47500")
    page = page_text(supervisor_client, reverse("inventory:vehicle_detail", args=[vehicle.pk]), FRENCH)
    assert f" · 48{NBSP}500{NBSP}$ → 47{NBSP}500{NBSP}$ · " in page and "48500,00" not in page


def test_short_dates_write_their_months_in_lower_case_in_french(supervisor_client, supervisor):
    lead = factories.lead()
    followup_enroll(
        lead=lead, plan=followup_plans_ensure_defaults(), now=timezone.now(), actor=supervisor.user
    )
    call = lead.followups.get().runs.filter(step__kind="call").first()
    due = timezone.make_aware(datetime(2026, 12, 1, 18, 41))
    FollowUpStepRun.objects.filter(pk=call.pk).update(status="open", due_at=due)
    page = page_text(supervisor_client, reverse("leads:task_list"), FRENCH)
    assert "Prévue le 1 déc., 18:41" in page and "Déc" not in page
    assert "Due Dec 1, 6:41 PM" in page_text(supervisor_client, reverse("leads:task_list"), ENGLISH)
