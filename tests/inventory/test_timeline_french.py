"""The vehicle page's timeline says what happened in words, in the page's language."""

import pytest
from django.urls import reverse

from inventory.models import VehicleStatus
from inventory.services.vehicles import vehicle_price_set, vehicle_transition, vehicle_update
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db


def test_the_vehicle_timeline_reads_in_french(supervisor_client):
    vehicle = factories.vehicle(price="48500")
    vehicle_price_set(vehicle=vehicle, price="47500.50")
    vehicle_update(vehicle=vehicle, exterior_colour="Rouge")
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    url = reverse("inventory:vehicle_detail", args=[vehicle.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "<strong>Véhicule ajouté (En stock)</strong>",
        "<strong>Affiché sur le site Web</strong>",
        f"<strong>Prix modifié{NBSP}: 48{NBSP}500{NBSP}$ → 47{NBSP}500,50{NBSP}$</strong>",
        f"<strong>Détails modifiés{NBSP}: Couleur extérieure</strong>",
        f"<strong>Statut{NBSP}: En stock → Vendu</strong>",
        "<strong>Retiré du site Web</strong>",
    ):
        assert text in page, text
    for raw in ("price_changed", "status_changed", "{&#x27;"):
        assert raw not in page, raw
    english = page_text(supervisor_client, url, ENGLISH)
    assert "<strong>Price changed: $48,500 → $47,500.50</strong>" in english
    assert "<strong>Status: In stock → Sold</strong>" in english


def test_the_timeline_names_the_odometer_and_vin_as_the_form_does(supervisor_client):
    vehicle = factories.vehicle(odometer_km=1000)
    vehicle_update(vehicle=vehicle, odometer_km=61200, vin=factories.vin(4242))
    page = page_text(supervisor_client, reverse("inventory:vehicle_detail", args=[vehicle.pk]), ENGLISH)
    assert "Details changed: VIN, Odometer (km)" in page or "Details changed: Odometer (km), VIN" in page
    assert "odometer_km" not in page
