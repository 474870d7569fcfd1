"""The store's vehicle pages in French for a browser that asks for it (Accept-Language), or for a
visitor who chose it (set_language); English otherwise, as before."""

import re

import pytest
from django.urls import reverse

from inventory.models import VehicleStatus
from inventory.services.photos import photo_process
from inventory.services.vehicles import vehicle_price_set, vehicle_transition
from leads.models import Lead
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, flash_text, page_text
from tests.inventory import images

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
        f"D’occasion · 15{NBSP}000{NBSP}km",  # a card, kilometres grouped like prices
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
            "Used · 15,000 km",
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
        f'Kilométrage</dt><dd class="col-7">15{NBSP}000{NBSP}km</dd>',
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
            'Odometer</dt><dd class="col-7">15,000 km</dd>',
            "Body</dt>",
            "Stock number</dt>",
            "VIN</dt>",
            "Ask about this vehicle",
            "First name",
            "Price and availability",
            ">Send</button>",
        ):
            assert text in page, text


def test_prices_show_their_cents_only_when_there_are_some(client, supervisor_client):
    cents = factories.vehicle(model="Rogue", price="29999.99")
    factories.vehicle(model="F-150", price="38995.00")
    for browser, url in (
        (client, reverse("vehicles:list")),
        (client, cents.get_absolute_url()),
        (supervisor_client, reverse("inventory:index")),
    ):
        english = page_text(browser, url, ENGLISH)
        assert "$29,999.99" in english and "$30,000" not in english, url
        assert f"29{NBSP}999,99{NBSP}$" in page_text(browser, url, FRENCH), url
    assert "$38,995<" in page_text(client, reverse("vehicles:list"), ENGLISH)


def test_a_sold_vehicle_page_says_so_in_french(client):
    vehicle = factories.vehicle()
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    page = page_text(client, vehicle.get_absolute_url(), FRENCH)
    assert "Ce véhicule a été vendu. Demandez-nous des véhicules semblables ci-dessous." in page
    assert "This vehicle has been sold" in page_text(client, vehicle.get_absolute_url(), ENGLISH)


def test_a_vehicle_on_hold_says_a_sale_is_pending_in_french(client):
    vehicle = factories.vehicle()
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.ON_HOLD)
    assert "Une vente est en cours pour ce véhicule." in page_text(client, vehicle.get_absolute_url(), FRENCH)


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


# Staff pages -----------------------------------------------------------------------------------


def test_stock_list_in_french_for_a_french_browser_in_english_otherwise(supervisor_client):
    factories.vehicle(stock_number="K1", make="Kia", model="Soul", price="17995")
    url = reverse("inventory:index")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Inventaire</h1>",
        ">Ajouter un véhicule</a>",
        ">Importer un CSV</a>",
        ">Fraîcheur du site Web</a>",
        'placeholder="NIV, numéro de stock, marque, modèle"',
        ">Tous les statuts</option>",
        ">En stock</option>",  # the statuses
        ">Photos manquantes</option>",
        ">30 jours ou plus en stock</option>",
        ">Filtrer</button>",
        "<th>N° de stock</th>",
        "<th>Statut</th>",
        "<th>Jours en stock</th>",
        f"17{NBSP}995{NBSP}$",
    ):
        assert text in page, text
    for english in ("Add a vehicle", "Every status", "Days in stock", "$17,995"):
        assert english not in page, english
    assert "Aucun véhicule ne correspond." in page_text(supervisor_client, url + "?q=zzz", FRENCH)
    for headers in (ENGLISH, {}):
        page = page_text(supervisor_client, url, headers)
        for text in (
            "Inventory</h1>",
            ">Add a vehicle</a>",
            ">Every status</option>",
            ">In stock</option>",
            ">30+ days in stock</option>",
            "<th>Stock #</th>",
            "<th>Status</th>",
            "$17,995",
        ):
            assert text in page, text
    assert "No vehicles match." in page_text(supervisor_client, url + "?q=zzz", ENGLISH)


def test_vehicle_page_in_french_with_its_photos_and_status_change(supervisor_client):
    vehicle = factories.vehicle(make="Kia", model="Soul", price="17995", odometer_km=42000)
    vehicle_price_set(vehicle=vehicle, price="16995")
    url = reverse("inventory:vehicle_detail", args=[vehicle.pk])
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        ">Modifier</a>",
        ">Page publique</a>",
        "Numéro de stock</dt>",
        "NIV</dt>",
        f"16{NBSP}995{NBSP}$",  # cents only when there are some
        f"42{NBSP}000{NBSP}km",
        'Sur le site Web</dt><dd class="col-7">Oui</dd>',
        'Statut<span class="asteriskField">',  # the status change form
        ">Vendu</option>",
        "Historique des prix",
        "Envoyer les photos",
        'data-failed="L’envoi a échoué',  # what the page's script says
        "Aucune photo pour l’instant.",
        "Chronologie",
    ):
        assert text in page, text
    for english in ("Price history", "Upload photos", "No photos yet.", "On the website"):
        assert english not in page, english
    english = page_text(supervisor_client, url, ENGLISH)
    for text in (
        "Price history",
        "Upload photos",
        "No photos yet.",
        "$16,995<",
        "42,000 km",
        "On the website",
    ):
        assert text in english, text
    response = supervisor_client.post(
        reverse("inventory:vehicle_transition", args=[vehicle.pk]),
        {"status": "on_hold"},
        headers=FRENCH,
        follow=True,
    )
    assert flash_text(response) == "Statut modifié."
    response = supervisor_client.post(
        reverse("inventory:vehicle_transition", args=[vehicle.pk]),
        {"status": "sold"},
        headers=ENGLISH,
        follow=True,
    )
    assert flash_text(response) == "Status changed."
    # The page comes back with the date typed and why it was refused.
    response = supervisor_client.post(
        reverse("inventory:vehicle_transition", args=[vehicle.pk]),
        {"status": "in_stock", "on": "2099-01-15"},
        headers=FRENCH,
    )
    assert response.status_code == 400 and 'value="2099-01-15"' in response.content.decode()
    assert (
        f"Le 15 janvier 2099 n’est pas encore arrivé{NBSP}: un changement de statut se date du jour où il a eu lieu, "
        "aujourd’hui au plus tard."
    ) in response.content.decode()
    response = supervisor_client.post(
        reverse("inventory:vehicle_transition", args=[vehicle.pk]),
        {"status": "in_stock", "on": "2099-01-15"},
        headers=ENGLISH,
    )
    assert "Jan. 15, 2099 has not come yet: a status change is dated the day" in response.content.decode()


def test_photos_in_preparation_and_their_buttons_in_french(supervisor_client):
    vehicle = factories.vehicle()
    supervisor_client.post(
        reverse("inventory:photos_upload", args=[vehicle.pk]),
        {"photos": [images.upload(f"{n}.png", images.shot(n)) for n in range(2)]},
        headers=FRENCH,
    )
    page = page_text(supervisor_client, reverse("inventory:vehicle_detail", args=[vehicle.pk]), FRENCH)
    for text in (
        f"Les photos sont en préparation{NBSP}; cette page reste utilisable.",
        ">Reçue</div>",  # the photo's status
        'aria-label="Descendre"',
        f'hx-confirm="Supprimer cette photo{NBSP}?"',
        ">Principale</button>",
    ):
        assert text in page, text
    # The website's main photo is the first one ready: none yet.
    assert "Photo principale" not in page
    photo_process(photo=vehicle.photos.order_by("position").last())
    assert "Photo principale" in page_text(
        supervisor_client, reverse("inventory:vehicle_detail", args=[vehicle.pk]), FRENCH
    )


def test_vehicle_form_in_french_with_its_labels_and_refusals(supervisor_client):
    url = reverse("inventory:vehicle_create")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Ajouter un véhicule</h1>",
        "NIV",
        "Numéro de stock",
        "Année",
        "Carrosserie",
        "Couleur extérieure",
        "Odomètre (km)",
        "Publié",
        "Affiché sur le site Web du concessionnaire tant qu’il est en stock.",
        ">Enregistrer</button>",
        ">Annuler</a>",
    ):
        assert text in page, text
    assert "Exterior colour" not in page
    english = page_text(supervisor_client, url, ENGLISH)
    for text in (
        "Add a vehicle</h1>",
        "Stock number",
        "Exterior colour",
        "Odometer (km)",
        "Published",
        ">Save</button>",
    ):
        assert text in english, text
    data = {"vin": "1HGCM82633A004352", "stock_number": "FR1", "condition": "used", "status": "in_stock"}
    response = supervisor_client.post(url, data, headers=FRENCH, follow=True)
    assert flash_text(response) == "Véhicule ajouté."
    vehicle_url = response.redirect_chain[-1][0]
    edit = page_text(supervisor_client, vehicle_url.rstrip("/") + "/edit/", FRENCH)
    assert re.search(r"<h1 class=\"h3\">Modifier [^<]*</h1>", edit)
    refused = supervisor_client.post(
        url, {"vin": "1HGCM8263", "stock_number": "FR2", "status": "in_stock"}, headers=FRENCH
    )
    assert "Un NIV compte exactement 17 caractères" in refused.content.decode()
    refused = supervisor_client.post(
        url, {"vin": factories.vin(), "stock_number": "FR3", "odometer_km": "45 000,5"}, headers=FRENCH
    )
    assert "Indiquez des kilomètres entiers" in refused.content.decode()


def test_import_in_french(supervisor_client):
    url = reverse("inventory:import")
    page = page_text(supervisor_client, url, FRENCH)
    assert "Importer des véhicules depuis le système de gestion du concessionnaire</h1>" in page
    assert ">Aperçu</button>" in page and "Export CSV du système de gestion du concessionnaire" in page
    content = f"Stock,VIN,Make,Model,Price\nI1,{factories.vin()},Kia,Soul,17995\n".encode()
    preview = supervisor_client.post(
        url, {"file": images.upload("dms.csv", content, "text/csv")}, headers=FRENCH
    )
    page = preview.content.decode()
    assert f"Aperçu — rien n’est encore modifié{NBSP}:" in page
    assert "1 nouveaux, 0 mis à jour, 0 inchangés." in page and f"Nouveaux{NBSP}: I1" in page
    assert ">Importer ces véhicules</button>" in page
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    done = supervisor_client.post(reverse("inventory:import_confirm"), {"token": token}, headers=FRENCH)
    assert f"Importés{NBSP}:" in done.content.decode()
    wrong = supervisor_client.post(
        url,
        {"file": images.upload("dms.csv", b"Stock,VIN\nI2,1HGCM82633A004353\n", "text/csv")},
        headers=FRENCH,
    ).content.decode()
    assert (
        f"Rien n’a été importé{NBSP}: corrigez ces lignes" in wrong
        and f"Ligne 2{NBSP}: NIV{NBSP}: Le chiffre de contrôle" in wrong
    )
    gone = supervisor_client.post(
        reverse("inventory:import_confirm"), {"token": "0" * 32}, headers=FRENCH, follow=True
    )
    assert flash_text(gone) == f"Cet aperçu n’est plus disponible{NBSP}; envoyez le fichier de nouveau."


def test_freshness_in_french(supervisor_client):
    sold = factories.vehicle(stock_number="SOLD1")
    vehicle_transition(vehicle=sold, to_status=VehicleStatus.SOLD)
    url = reverse("inventory:freshness")
    page = page_text(supervisor_client, url, FRENCH)
    for text in (
        "Fraîcheur du site Web</h1>",
        "Moins de photos que</label>",
        ">Mettre à jour</button>",
        "En stock avec moins de 6 photos",
        "Vendus mais encore publiés",
        "Prix inchangé depuis 30 jours ou plus",
        "En stock depuis le plus longtemps",
        "<th>Prix modifié</th>",
        "Rien ici.",
    ):
        assert text in page, text
    english = page_text(supervisor_client, url, ENGLISH)
    for text in (
        "Website freshness</h1>",
        "Sold but still published",
        "Price unchanged for 30+ days",
        "Nothing here.",
    ):
        assert text in english, text
