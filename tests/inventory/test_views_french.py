"""The store's vehicle pages in French for a browser that asks for it (Accept-Language), or for a
visitor who chose it (set_language); English otherwise, as before."""

import pytest
from django.urls import reverse

from inventory.models import VehicleStatus
from inventory.services.vehicles import vehicle_transition
from leads.models import Lead
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db


# The public website ----------------------------------------------------------------------------


def test_public_list_in_french_for_a_french_browser_in_english_otherwise(client):
    factories.vehicle(make="Toyota", model="RAV4", price="29995", odometer_km=15000, condition="used")
    factories.vehicle(make="Honda", model="Civic", price=None, condition="new")
    page = page_text(client, reverse("vehicles:list"), FRENCH)
    for text in (
        '<html lang="fr">',
        "<title>Véhicules en inventaire ·",
        "Véhicules en inventaire</h1>",
        ">Neufs et d’occasion</option>",  # the filters
        ">D’occasion</option>",
        ">Toutes les marques</option>",
        'placeholder="Modèle"',
        'aria-label="Prix le plus bas"',
        ">Rechercher</button>",
        "Photos à venir",
        f"D’occasion · 15000{NBSP}km",  # a card
        f"29{NBSP}995{NBSP}$",  # French number format, the dollar sign after
        "Appelez-nous pour le prix",
        'value="en" lang="en">English</button>',  # the way back to English
    ):
        assert text in page, text
    for english in ("Vehicles in stock", "Every make", "Call for price", "$29", ">Search<"):
        assert english not in page, english
    for headers in (ENGLISH, {}):
        page = page_text(client, reverse("vehicles:list"), headers)
        for text in (
            '<html lang="en">',
            "Vehicles in stock</h1>",
            ">New and used</option>",
            ">Used</option>",
            ">Every make</option>",
            ">Search</button>",
            "Used · 15000 km",
            "$29,995",
            "Call for price",
            'value="fr" lang="fr">Français</button>',
        ):
            assert text in page, text
        assert "Véhicules en inventaire" not in page


def test_public_list_when_nothing_matches_and_its_pages_in_french(client, monkeypatch):
    monkeypatch.setattr("inventory.views.PUBLIC_PAGE_SIZE", 2)
    for _ in range(3):
        factories.vehicle(make="Kia")
    page = page_text(client, reverse("vehicles:list"), FRENCH)
    assert "Page 1 de 2 · 3 véhicules" in page and ">Suivante</a>" in page
    page = page_text(client, reverse("vehicles:list") + "?page=2", FRENCH)
    assert ">Précédente</a>" in page
    assert "Page 1 of 2 · 3 vehicles" in page_text(client, reverse("vehicles:list"), ENGLISH)
    page = page_text(client, reverse("vehicles:list") + "?make=Lada", FRENCH)
    assert f"Aucun véhicule ne correspond{NBSP}; essayez avec moins de filtres." in page
    page = page_text(client, reverse("vehicles:list") + "?make=Lada", ENGLISH)
    assert "No vehicle matches; try fewer filters." in page


def test_vehicle_page_in_french_for_a_french_browser_in_english_otherwise(client):
    vehicle = factories.vehicle(
        make="Toyota",
        model="RAV4",
        price="31995",
        odometer_km=15000,
        body_style="VUS",
        exterior_colour="Blanc",
        interior_colour="Noir",
    )
    page = page_text(client, vehicle.get_absolute_url(), FRENCH)
    for text in (
        "← Tous les véhicules",
        f"31{NBSP}995{NBSP}$",
        'État</dt><dd class="col-7">D’occasion</dd>',
        f'Kilométrage</dt><dd class="col-7">15000{NBSP}km</dd>',
        "Carrosserie</dt>",
        "Extérieur</dt>",
        "Intérieur</dt>",
        "Numéro de stock</dt>",
        "NIV</dt>",
        "Renseignez-vous sur ce véhicule",
        "Prénom",  # the form's labels
        "Courriel",
        "Je voudrais",
        "Prix et disponibilité",  # its choices
        ">Envoyer</button>",
    ):
        assert text in page, text
    for english in ("All vehicles", ">Odometer", "Stock number", "Ask about this vehicle", "First name"):
        assert english not in page, english
    for headers in (ENGLISH, {}):
        page = page_text(client, vehicle.get_absolute_url(), headers)
        for text in (
            "← All vehicles",
            "$31,995",
            "Condition</dt>",
            'Odometer</dt><dd class="col-7">15000 km</dd>',
            "Body</dt>",
            "Stock number</dt>",
            "VIN</dt>",
            "Ask about this vehicle",
            "First name",
            "Price and availability",
            ">Send</button>",
        ):
            assert text in page, text


def test_a_sold_vehicle_page_says_so_in_french(client):
    vehicle = factories.vehicle()
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    page = page_text(client, vehicle.get_absolute_url(), FRENCH)
    assert "Ce véhicule a été vendu. Demandez-nous des véhicules semblables ci-dessous." in page
    assert "This vehicle has been sold" in page_text(client, vehicle.get_absolute_url(), ENGLISH)


def test_contact_form_in_french_thanks_and_refuses_in_french(client):
    vehicle = factories.vehicle()
    response = client.post(
        vehicle.get_absolute_url(),
        {"first_name": "Josée", "phone": "12", "inquiry_type": "price"},
        headers=FRENCH,
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert f"Ce numéro de téléphone semble incomplet{NBSP}; vérifiez-le." in page
    response = client.post(vehicle.get_absolute_url(), {"inquiry_type": "price"}, headers=FRENCH)
    page = response.content.decode()
    assert "Ce champ est obligatoire." in page  # Django's own, for the first name
    assert "Indiquez un courriel ou un numéro de téléphone pour que nous puissions vous répondre." in page
    response = client.post(
        vehicle.get_absolute_url(),
        {"first_name": "Josée", "email": "josee@example.com", "inquiry_type": "test_drive"},
        headers=FRENCH,
    )
    assert response.status_code == 302 and Lead.objects.count() == 1
    page = page_text(client, response["Location"], FRENCH)
    assert f"Merci{NBSP}! Nous vous répondrons sous peu." in page
    assert "Thank you! We will answer you shortly." in page_text(client, response["Location"], ENGLISH)


def test_visitor_who_chose_french_keeps_it(client):
    vehicle = factories.vehicle()
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": reverse("vehicles:list")}, headers=ENGLISH
    )
    assert response.status_code == 302 and response["Location"] == reverse("vehicles:list")
    assert "Véhicules en inventaire" in page_text(client, reverse("vehicles:list"), ENGLISH)
    assert "Renseignez-vous sur ce véhicule" in page_text(client, vehicle.get_absolute_url(), ENGLISH)
    client.post("/i18n/setlang/", {"language": "en", "next": reverse("vehicles:list")})
    assert "Vehicles in stock" in page_text(client, reverse("vehicles:list"), FRENCH)
