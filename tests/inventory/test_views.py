import csv
import io
import json
import re
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import PhotoStatus, Vehicle, VehicleEvent, VehiclePhoto, VehicleStatus
from inventory.selectors import FEED_SINCE_OVERLAP
from inventory.services.photos import photo_delete, photo_make_main, photos_upload
from inventory.services.vehicles import vehicle_price_set, vehicle_transition
from leads.models import Lead
from tests import factories
from tests.french import FRENCH
from tests.inventory import images

pytestmark = pytest.mark.django_db


def _published_with_photos(**fields):
    vehicle = factories.vehicle(**fields)
    photos_upload(
        vehicle=vehicle,
        files=[images.upload("a.jpg", images.phone_jpeg()), images.upload("b.png", images.encoded("PNG"))],
        process_now=True,
    )
    return vehicle


# Staff pages ------------------------------------------------------------------------------------


def structured_data(page: str) -> dict:
    """The schema.org data a vehicle page gives search engines."""
    return json.loads(
        re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S).group(1)
    )


def test_staff_pages_need_login(client):
    vehicle = factories.vehicle()
    for url in (reverse("inventory:index"), reverse("inventory:vehicle_detail", args=[vehicle.pk])):
        assert client.get(url).status_code == 302


def test_an_account_without_a_staff_role_opens_no_stock_page_and_changes_nothing(client):
    vehicle = factories.vehicle(price="20000")
    photo = VehiclePhoto.objects.create(vehicle=vehicle, key="k" * 32, position=1)
    client.force_login(factories.former_staff())
    for url in (
        reverse("inventory:index"),
        reverse("inventory:vehicle_create"),
        reverse("inventory:import"),
        reverse("inventory:freshness"),
        reverse("inventory:vehicle_detail", args=[vehicle.pk]),
        reverse("inventory:vehicle_edit", args=[vehicle.pk]),
        reverse("inventory:photos_grid", args=[vehicle.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "no staff role" in response.content.decode()
    posts = {
        reverse("inventory:vehicle_edit", args=[vehicle.pk]): {"vin": vehicle.vin, "price": "1"},
        reverse("inventory:vehicle_transition", args=[vehicle.pk]): {"status": "sold"},
        reverse("inventory:photo_delete", args=[photo.pk]): {},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    vehicle.refresh_from_db()
    assert (vehicle.price, vehicle.status, vehicle.photos.count()) == (20000, VehicleStatus.IN_STOCK, 1)
    # The menu offers neither.
    menu = client.get(reverse("dealership:directory")).content.decode()
    assert reverse("inventory:index") not in menu and reverse("promotions:index") not in menu


@pytest.mark.parametrize("role", ["supervisor", "manager", "advisor", "department"])
def test_every_staff_role_opens_the_stock_pages(client, role):
    vehicle = factories.vehicle()
    client.force_login(factories.staff(role, department_code="service").user)
    for url in (reverse("inventory:index"), reverse("inventory:vehicle_detail", args=[vehicle.pk])):
        assert client.get(url).status_code == 200, url
    menu = client.get(reverse("dealership:directory")).content.decode()
    assert f'href="{reverse("inventory:index")}"' in menu and f'href="{reverse("promotions:index")}"' in menu


def test_list_filters_and_htmx_partial(supervisor_client):
    factories.vehicle(stock_number="KEEP1", make="Toyota", model="Corolla")
    factories.vehicle(stock_number="DROP1", make="Honda", model="Civic")
    page = supervisor_client.get(reverse("inventory:index"), {"make": "Toyota"}).content.decode()
    assert "KEEP1" in page and "DROP1" not in page and "<nav" in page
    partial = supervisor_client.get(reverse("inventory:index"), {"q": "civic"}, HTTP_HX_REQUEST="true")
    assert "DROP1" in partial.content.decode() and "<html" not in partial.content.decode()


def test_typing_in_the_search_redraws_the_table_without_reading_the_makes(supervisor_client):
    factories.vehicle(make="Toyota")
    factories.vehicle(make="Honda")
    with CaptureQueriesContext(connection) as page:
        supervisor_client.get(reverse("inventory:index"), {"q": "civic"})
    with CaptureQueriesContext(connection) as partial:
        supervisor_client.get(reverse("inventory:index"), {"q": "civic"}, HTTP_HX_REQUEST="true")
    assert len(partial) < len(page)
    assert ["DISTINCT" in query["sql"] for query in page.captured_queries].count(True) == 1
    assert not any("DISTINCT" in query["sql"] for query in partial.captured_queries)


def test_create_with_a_typo_in_the_vin_keeps_what_was_typed(supervisor_client):
    response = supervisor_client.post(
        reverse("inventory:vehicle_create"),
        {
            "vin": "1HGCM82633A0O4352",
            "stock_number": "NEW1",
            "condition": "used",
            "model": "Accord",
            "status": "in_stock",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "position 13" in page and 'value="NEW1"' in page and 'value="Accord"' in page
    assert not Vehicle.objects.exists()


def test_create_then_edit_price_records_history(supervisor_client, supervisor):
    response = supervisor_client.post(
        reverse("inventory:vehicle_create"),
        {
            "vin": "1HGCM82633A004352",
            "stock_number": "NEW2",
            "condition": "used",
            "price": "9000",
            "status": "in_stock",
            "published": "on",
        },
    )
    vehicle = Vehicle.objects.get(stock_number="NEW2")
    assert response.status_code == 302 and vehicle.make == "Honda" and vehicle.year == 2003
    data = {
        "vin": vehicle.vin,
        "stock_number": "NEW2",
        "condition": "used",
        "price": "8500",
        "published": "on",
        "make": "Honda",
        "year": 2003,
    }
    supervisor_client.post(reverse("inventory:vehicle_edit", args=[vehicle.pk]), data)
    assert [c.new_price for c in vehicle.price_changes.order_by("pk")] == [9000, 8500]
    assert vehicle.price_changes.first().changed_by == supervisor.user
    supervisor_client.post(
        reverse("inventory:vehicle_edit", args=[vehicle.pk]), {**data, "trim": "EX", "stock_number": "NEW2B"}
    )
    vehicle.refresh_from_db()
    assert (vehicle.trim, vehicle.stock_number) == ("EX", "NEW2B")
    assert vehicle.price_changes.count() == 2  # saving other fields adds no price row
    unpriced = factories.vehicle(price=None)
    supervisor_client.post(
        reverse("inventory:vehicle_edit", args=[unpriced.pk]),
        {"vin": unpriced.vin, "stock_number": unpriced.stock_number, "condition": "used", "trim": "EX"},
    )
    assert not unpriced.price_changes.exists()


def test_status_change_and_refusal_are_explained(supervisor_client):
    vehicle = factories.vehicle()
    url = reverse("inventory:vehicle_transition", args=[vehicle.pk])
    response = supervisor_client.post(url, {"status": "sold"}, follow=True)
    assert "Status changed." in response.content.decode()
    response = supervisor_client.post(url, {"status": "on_hold"}, follow=True)
    assert "This vehicle is sold now: check it, then choose again." in response.content.decode()
    vehicle.refresh_from_db()
    assert vehicle.status == VehicleStatus.SOLD
    response = supervisor_client.post(url, {"status": ""}, follow=True)
    assert "Choose a status." in response.content.decode()


def test_a_status_change_from_a_page_left_open_says_what_the_vehicle_is_now_and_keeps_the_date(
    supervisor_client,
):
    vehicle = factories.vehicle()
    url = reverse("inventory:vehicle_transition", args=[vehicle.pk])
    # The page showed the vehicle in stock and offered "Sold"; a colleague sold it meanwhile.
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    response = supervisor_client.post(url, {"status": "sold", "on": ""}, follow=True)
    assert [str(message) for message in response.context["messages"]] == [
        "This vehicle is sold now: check it, then choose again."
    ]
    typed = (timezone.localdate() - timedelta(days=2)).isoformat()
    response = supervisor_client.post(url, {"status": "sold", "on": typed})
    page = response.content.decode()
    assert response.status_code == 400
    assert "This vehicle is sold now: check it, then choose again." in page and f'value="{typed}"' in page
    # A date refused by the service comes back too.
    in_stock = factories.vehicle()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = supervisor_client.post(
        reverse("inventory:vehicle_transition", args=[in_stock.pk]), {"status": "sold", "on": tomorrow}
    )
    page = response.content.decode()
    assert response.status_code == 400 and "has not come yet" in page and f'value="{tomorrow}"' in page
    in_stock.refresh_from_db()
    assert in_stock.status == VehicleStatus.IN_STOCK


def test_staff_page_links_the_public_page_exactly_when_there_is_one(supervisor_client, client):
    sold = factories.vehicle()
    vehicle_transition(vehicle=sold, to_status=VehicleStatus.SOLD)
    on_order = factories.vehicle(status=VehicleStatus.ON_ORDER)
    unpublished = factories.vehicle(published=False)
    for vehicle, has_page in ((sold, True), (on_order, False), (unpublished, False)):
        staff_page = supervisor_client.get(reverse("inventory:vehicle_detail", args=[vehicle.pk]))
        assert ("Public page" in staff_page.content.decode()) is has_page
        assert client.get(vehicle.get_absolute_url()).status_code == (200 if has_page else 404)


def test_upload_without_js_redirects_with_messages(supervisor_client, django_capture_on_commit_callbacks):
    vehicle = factories.vehicle()
    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor_client.post(
            reverse("inventory:photos_upload", args=[vehicle.pk]),
            {"photos": [images.upload("car.jpg", images.phone_jpeg()), images.upload("doc.jpg", images.PDF)]},
            follow=True,
        )
    page = response.content.decode()
    assert "1 photo received; it appears as soon as it is ready." in page
    assert "doc.jpg" in page and "not a photo we can read" in page
    assert vehicle.photos.count() == 1


def test_an_empty_file_among_the_photos_sent_loses_none_of_the_others(supervisor_client):
    vehicle = factories.vehicle()
    response = supervisor_client.post(
        reverse("inventory:photos_upload", args=[vehicle.pk]),
        {
            "photos": [images.upload(f"IMG_{n}.jpg", images.shot(n, "JPEG")) for n in range(3)]
            + [images.upload("IMG_9.jpg", b"")]
        },
        follow=True,
    )
    page = response.content.decode()
    assert "3 photos received" in page and "IMG_9.jpg: This file is empty" in page
    assert vehicle.photos.count() == 3


def test_upload_from_script_returns_the_grid_which_polls_until_ready(supervisor_client):
    vehicle = factories.vehicle()
    response = supervisor_client.post(
        reverse("inventory:photos_upload", args=[vehicle.pk]),
        {"photos": [images.upload("car.jpg", images.phone_jpeg())]},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="photos"')
    assert 'hx-trigger="every 2s"' in page and "Uploaded" in page
    from inventory.services.photos import photo_process

    photo_process(photo=vehicle.photos.get())
    grid = supervisor_client.get(reverse("inventory:photos_grid", args=[vehicle.pk])).content.decode()
    assert "hx-trigger" not in grid and "<picture>" in grid and "Main photo" in grid


def test_received_photos_are_announced_in_the_same_translated_words_with_or_without_script(
    supervisor_client,
):
    vehicle = factories.vehicle()
    url = reverse("inventory:photos_upload", args=[vehicle.pk])

    def photos(first: int):
        return {"photos": [images.upload(f"{n}.jpg", images.shot(n, "JPEG")) for n in (first, first + 1)]}

    grid = supervisor_client.post(
        url, photos(0), headers={**FRENCH, "X-Requested-With": "XMLHttpRequest"}
    ).content.decode()
    page = supervisor_client.post(url, photos(2), headers=FRENCH, follow=True).content.decode()
    said = "2 photos reçues\u00a0; elles apparaissent dès qu’elles sont prêtes."  # a no-break space before ;
    assert said in grid and said in page


def test_the_same_photo_sent_twice_is_put_on_the_vehicle_once(supervisor_client):
    vehicle = factories.vehicle()
    url = reverse("inventory:photos_upload", args=[vehicle.pk])
    first = supervisor_client.post(
        url,
        {
            "photos": [
                images.upload("IMG_1.jpg", images.shot(1, "JPEG")),
                images.upload("copy.jpg", images.shot(1, "JPEG")),
            ]
        },
        follow=True,
    ).content.decode()
    assert (
        "1 photo received" in first
        and "copy.jpg: The same photo as IMG_1.jpg, already on this vehicle." in first
    )
    again = supervisor_client.post(
        url, {"photos": [images.upload("IMG_1.jpg", images.shot(1, "JPEG"))]}, follow=True
    )
    assert "already on this vehicle" in again.content.decode()
    assert vehicle.photos.count() == 1
    # A photo that failed may be sent again.
    vehicle.photos.update(status="failed")
    supervisor_client.post(url, {"photos": [images.upload("IMG_1.jpg", images.shot(1, "JPEG"))]})
    assert vehicle.photos.count() == 2


def test_too_many_files_get_a_clear_message(supervisor_client, settings):
    settings.INVENTORY_PHOTOS_PER_UPLOAD = 2
    vehicle = factories.vehicle()
    response = supervisor_client.post(
        reverse("inventory:photos_upload", args=[vehicle.pk]),
        {"photos": [images.upload(f"{n}.png", images.shot(n)) for n in range(3)]},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 400
    assert "You sent 3 photos; up to 2 can be sent at once." in response.content.decode()


def test_reorder_endpoint_and_buttons(supervisor_client):
    vehicle = _published_with_photos()
    first, second = vehicle.photos.all()
    supervisor_client.post(
        reverse("inventory:photos_order", args=[vehicle.pk]), {"order": f"{second.pk},{first.pk}"}
    )
    assert list(vehicle.photos.values_list("pk", flat=True)) == [second.pk, first.pk]
    supervisor_client.post(reverse("inventory:photo_move", args=[first.pk]), {"direction": "up"})
    assert list(vehicle.photos.values_list("pk", flat=True)) == [first.pk, second.pk]
    supervisor_client.post(reverse("inventory:photo_main", args=[second.pk]))
    assert vehicle.photos.first() == second
    response = supervisor_client.post(
        reverse("inventory:photos_order", args=[vehicle.pk]), {"order": "x,y"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "could not be read" in response.content.decode()
    supervisor_client.post(reverse("inventory:photo_delete", args=[second.pk]))
    assert list(vehicle.photos.all()) == [first]


def test_each_photo_button_names_the_photo_it_acts_on(supervisor_client):
    vehicle = _published_with_photos()
    first, second = vehicle.photos.all()
    page = supervisor_client.get(reverse("inventory:vehicle_detail", args=[vehicle.pk])).content.decode()
    # A button is read as its own words then the photo's: "Delete Photo 2", not "Delete" for every photo.
    assert f'<span class="visually-hidden" id="photo-{second.pk}-name">Photo 2</span>' in page
    for photo, action, words in (
        (first, "down", 'aria-label="Move down">↓'),
        (first, "delete", ">Delete<"),
        (second, "up", 'aria-label="Move up">↑'),
        (second, "main", ">Main<"),
        (second, "delete", ">Delete<"),
    ):
        button = re.search(rf'<button [^>]*id="photo-{photo.pk}-{action}"[^>]*>[^<]*<', page).group(0)
        assert f'aria-labelledby="photo-{photo.pk}-{action} photo-{photo.pk}-name"' in button
        assert words in button


def test_import_preview_then_confirm(supervisor_client):
    content = f"Stock,VIN,Make,Model,Price\nI1,{factories.vin()},Kia,Soul,17995\n".encode()
    preview = supervisor_client.post(
        reverse("inventory:import"), {"file": images.upload("dms.csv", content, "text/csv")}
    )
    page = preview.content.decode()
    assert "Preview — nothing is changed yet" in page and not Vehicle.objects.exists()
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    done = supervisor_client.post(reverse("inventory:import_confirm"), {"token": token})
    assert "Imported:" in done.content.decode()
    assert Vehicle.objects.get().stock_number == "I1"


def test_import_with_errors_offers_no_confirmation(supervisor_client):
    content = b"Stock,VIN\nI2,1HGCM82633A004353\n"
    page = supervisor_client.post(
        reverse("inventory:import"), {"file": images.upload("dms.csv", content, "text/csv")}
    ).content.decode()
    assert "Line 2:" in page and "check digit" in page and 'name="token"' not in page


def test_an_import_of_an_empty_file_says_so_without_naming_a_line(supervisor_client):
    page = supervisor_client.post(
        reverse("inventory:import"), {"file": images.upload("dms.csv", b"Stock,VIN\n", "text/csv")}
    ).content.decode()
    assert "The file holds no vehicles." in page and "Line 1" not in page


def test_freshness_page(supervisor_client):
    sold = factories.vehicle(stock_number="SOLD1")
    vehicle_transition(vehicle=sold, to_status=VehicleStatus.SOLD)
    page = supervisor_client.get(reverse("inventory:freshness")).content.decode()
    sold_section = page.split('id="sold-published"')[1].split('id="stale-prices"')[0]
    assert "SOLD1" in sold_section


# The public website -----------------------------------------------------------------------------


def test_public_list_shows_only_published_in_stock_vehicles_and_filters_by_price(client):
    _published_with_photos(stock_number="P1", make="Toyota", model="RAV4", price="30000")
    factories.vehicle(stock_number="P2", make="Honda", model="Civic", price="18000")
    factories.vehicle(stock_number="P3", make="Ford", model="Escape", published=False)
    sold = factories.vehicle(stock_number="P4", make="Kia", model="Soul")
    vehicle_transition(vehicle=sold, to_status=VehicleStatus.SOLD)
    page = client.get(reverse("vehicles:list")).content.decode()
    assert "RAV4" in page and "Civic" in page and "Escape" not in page and "Soul" not in page
    assert "srcset=" in page and 'type="image/webp"' in page
    assert "Log out" not in page  # no staff navigation
    cheap = client.get(reverse("vehicles:list"), {"price_max": "20000"}).content.decode()
    assert "Civic" in cheap and "RAV4" not in cheap
    assert (
        "RAV4"
        in client.get(reverse("vehicles:list"), {"price_min": "25000", "make": "Toyota"}).content.decode()
    )


@pytest.mark.parametrize(
    ("model", "found"),
    [
        ("Silverado", ["Silverado 1500"]),
        ("f150", ["F-150"]),
        ("CX 5", ["CX-5"]),
        ("cx-5", ["CX-5"]),
        ("1500", ["Silverado 1500"]),
    ],
)
def test_the_public_model_search_finds_part_of_the_model_however_it_is_spelled(client, model, found):
    for make, name in (("Chevrolet", "Silverado 1500"), ("Ford", "F-150"), ("Mazda", "CX-5")):
        factories.vehicle(make=make, model=name)
    page = client.get(reverse("vehicles:list"), {"model": model}).content.decode()
    shown = [name for name in ("Silverado 1500", "F-150", "CX-5") if f"{name}</h2>" in page]
    assert shown == found


def test_the_price_filter_takes_any_budget_the_visitor_types(client):
    page = client.get(reverse("vehicles:list")).content.decode()
    for name in ("price_min", "price_max"):
        box = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group()
        assert 'step="any"' in box, box  # a step of 500 made the browser refuse "max 25999"
    factories.vehicle(model="Rogue", price="25999")
    assert "Rogue" in client.get(reverse("vehicles:list"), {"price_max": "25999"}).content.decode()


def test_vehicle_page_has_schema_org_vehicle_and_offer(client):
    vehicle = _published_with_photos(make="Toyota", model="RAV4", price="31995.00", odometer_km=15000)
    response = client.get(vehicle.get_absolute_url())
    page = response.content.decode()
    nonce = re.search(r"script-src [^;]*'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert re.search(r'<script type="application/ld\+json" nonce="([^"]+)">', page).group(1) == nonce
    data = structured_data(page)
    assert data["@type"] == "Vehicle" and data["vehicleIdentificationNumber"] == vehicle.vin
    assert data["offers"]["@type"] == "Offer"
    assert data["offers"]["price"] == "31995.00" and data["offers"]["priceCurrency"] == "CAD"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    assert data["mileageFromOdometer"]["value"] == 15000
    assert len(data["image"]) == 2 and data["image"][0].startswith("http://testserver/media/")


def test_structured_data_cannot_break_out_of_its_script(client):
    vehicle = factories.vehicle(model="</script><script>alert(1)</script>")
    page = client.get(vehicle.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in page


def test_the_public_pages_give_the_stores_number_to_tap_and_call(client, settings):
    settings.STORE = settings.STORE | {"phone": "+1 416 555 0100"}
    vehicle = factories.vehicle()
    for url in (reverse("vehicles:list"), vehicle.get_absolute_url()):
        page = client.get(url).content.decode()
        assert page.count('<a href="tel:+14165550100">+1 416 555 0100</a>') == 2, url  # header and footer


def test_a_store_number_that_cannot_be_dialled_is_shown_as_written(client, settings):
    settings.STORE = settings.STORE | {"phone": "555-0100"}  # no area code: no number to dial from afar
    page = client.get(reverse("vehicles:list")).content.decode()
    assert "555-0100" in page and "tel:" not in page


def test_wrong_slug_redirects_and_unpublished_is_not_found(client):
    vehicle = factories.vehicle(make="Toyota", model="RAV4")
    response = client.get(reverse("vehicles:detail", kwargs={"pk": vehicle.pk, "slug": "old-name"}))
    assert response.status_code == 301 and response["Location"] == vehicle.get_absolute_url()
    hidden = factories.vehicle(published=False)
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_the_not_found_page_marks_each_of_its_two_languages(client):
    response = client.get(factories.vehicle(published=False).get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 404
    # Read by a screen reader in the voice of each language, whichever the page is in.
    for english, french in (
        ("This page is not here", "Cette page est introuvable"),
        ("Our vehicles", "Nos véhicules"),
    ):
        assert f'<span lang="en">{english}</span> / <span lang="fr">{french}</span>' in page, english


def test_contact_form_becomes_a_website_lead_with_the_vehicle(client):
    vehicle = factories.vehicle(make="Toyota", model="RAV4", price="31995")
    response = client.post(
        vehicle.get_absolute_url(),
        {
            "first_name": "Maya",
            "last_name": "Singh",
            "email": "Maya@Example.com",
            "phone": "",
            "inquiry_type": "test_drive",
            "message": "Saturday?",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?sent=1#contact")
    lead = Lead.objects.get()
    assert (lead.source, lead.inquiry_type, lead.comments) == ("Website", "test_drive", "Saturday?")
    assert lead.customer.email == "maya@example.com"
    wanted = lead.vehicles.get()
    assert (wanted.vin, wanted.stock_number, wanted.make, wanted.price) == (
        vehicle.vin,
        vehicle.stock_number,
        "Toyota",
        vehicle.price,
    )
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_contact_form_errors_keep_what_was_typed(client):
    vehicle = factories.vehicle()
    response = client.post(
        vehicle.get_absolute_url(),
        {"first_name": "Maya", "phone": "12", "message": "Is it still there?", "inquiry_type": "price"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "phone number does not look complete" in page
    assert 'value="Maya"' in page and "Is it still there?" in page
    assert not Lead.objects.exists()
    response = client.post(vehicle.get_absolute_url(), {"first_name": "Maya", "inquiry_type": "price"})
    assert "Give an email address or a phone number" in response.content.decode()


def test_the_field_left_for_robots_is_out_of_reach_of_keyboard_and_screen_reader(client):
    page = client.get(factories.vehicle().get_absolute_url()).content.decode()
    trap = re.search(r'<input [^>]*name="website"[^>]*>', page).group(0)
    # Off screen, so a person tabbing through the form or hearing it read must not land on it.
    assert 'tabindex="-1"' in trap and 'aria-hidden="true"' in trap
    assert 'autocomplete="off"' in trap  # nor have it filled by the browser


@pytest.mark.parametrize(
    ("contact", "error"),
    [
        ({"email": "maya@example"}, "Enter a valid email address."),
        ({"phone": "555-12"}, "This phone number does not look complete; check it."),
    ],
)
def test_a_mistyped_email_or_phone_is_told_as_such_not_as_missing(client, contact, error):
    vehicle = factories.vehicle()
    response = client.post(
        vehicle.get_absolute_url(), {"first_name": "Maya", "inquiry_type": "price", **contact}
    )
    page = response.content.decode()
    assert response.status_code == 400 and error in page
    assert "Give an email address or a phone number" not in page
    assert not Lead.objects.exists()


def test_a_vehicle_card_on_the_public_list_is_named_by_its_title_once(client):
    _published_with_photos(make="Toyota", model="RAV4")
    page = client.get(reverse("vehicles:list")).content.decode()
    card = re.search(r'<a class="card[^>]*>.*?</a>', page, re.S).group(0)
    # The photo only shows the vehicle whose title is the card's heading: its alt would repeat it.
    assert re.findall(r'<img [^>]*alt="([^"]*)"', card) == [""]
    assert card.count("RAV4") == 1


def test_sitemap_lists_every_published_vehicle(client):
    listed = [factories.vehicle() for _ in range(3)]
    sold = factories.vehicle()
    vehicle_transition(vehicle=sold, to_status=VehicleStatus.SOLD)
    factories.vehicle(published=False)
    response = client.get(reverse("vehicles:sitemap"))
    locations = [
        element.text
        for element in ElementTree.fromstring(response.content).iter(
            "{http://www.sitemaps.org/schemas/sitemap/0.9}loc"
        )
    ]
    assert sorted(locations) == sorted(f"http://testserver{v.get_absolute_url()}" for v in listed)


def test_json_feed_has_absolute_photo_urls_and_drops_sold_vehicles(client):
    vehicle = _published_with_photos(stock_number="F1")
    other = factories.vehicle(stock_number="F2")
    feed = client.get(reverse("vehicles:feed_json")).json()
    rows = {row["stock_number"]: row for row in feed["vehicles"]}
    assert set(rows) == {"F1", "F2"} and feed["count"] == 2
    photo = rows["F1"]["photos"][0]
    assert photo["large"]["webp"].startswith("http://testserver/media/inventory/")
    assert photo["thumb"]["jpeg"].endswith("-thumb.jpg")
    assert rows["F1"]["url"] == f"http://testserver{vehicle.get_absolute_url()}"
    vehicle_transition(vehicle=other, to_status=VehicleStatus.SOLD)
    assert [row["stock_number"] for row in client.get(reverse("vehicles:feed_json")).json()["vehicles"]] == [
        "F1"
    ]


def test_csv_feed(client):
    _published_with_photos(stock_number="C1", price="25000")
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("vehicles:feed_csv")).content.decode())))
    assert [row["stock_number"] for row in rows] == ["C1"]
    assert rows[0]["price"] == "25000.00"
    assert (
        rows[0]["main_photo"].startswith("http://testserver/media/")
        and len(rows[0]["photo_urls"].split()) == 2
    )


def test_since_feed_reports_new_price_changed_and_sold(client):
    old = factories.vehicle(stock_number="OLD")
    to_sell = factories.vehicle(stock_number="SELL")
    factories.vehicle_history_age()
    since = timezone.now()
    vehicle_price_set(vehicle=old, price=19999)
    vehicle_transition(vehicle=to_sell, to_status=VehicleStatus.SOLD)
    factories.vehicle(stock_number="NEW")
    feed = client.get(reverse("vehicles:feed_json"), {"since": since.isoformat()}).json()
    changes = {item["stock_number"]: item for item in feed["changes"]}
    assert {k: v["change"] for k, v in changes.items()} == {
        "OLD": "price_changed",
        "SELL": "sold",
        "NEW": "new",
    }
    assert changes["OLD"]["vehicle"]["price"] == "19999.00"
    assert changes["SELL"]["vehicle"] is None
    later = client.get(
        reverse("vehicles:feed_json"), {"since": (timezone.now() + FEED_SINCE_OVERLAP).isoformat()}
    )
    assert later.json()["changes"] == []


def test_a_sale_written_before_a_poll_but_committed_after_it_comes_with_the_next_poll(client):
    vehicle = factories.vehicle(stock_number="M2605")
    factories.vehicle_history_age()
    poll = client.get(reverse("vehicles:feed_json"), {"since": timezone.now().isoformat()}).json()
    assert poll["changes"] == []
    # A stock import, still open during that poll, had marked the vehicle sold a moment before it.
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    written = datetime.fromisoformat(poll["generated_at"]) - timedelta(seconds=5)
    VehicleEvent.objects.filter(created_at__gt=timezone.now() - timedelta(hours=1)).update(created_at=written)
    next_poll = client.get(reverse("vehicles:feed_json"), {"since": poll["generated_at"]}).json()
    assert [(item["stock_number"], item["change"]) for item in next_poll["changes"]] == [("M2605", "sold")]


def test_a_vehicle_whose_photos_change_is_updated_in_the_feed_and_the_sitemap(client):
    vehicle = _published_with_photos()
    last_week = timezone.now() - timedelta(days=7)

    def photos_change(change) -> None:
        Vehicle.objects.filter(pk=vehicle.pk).update(updated_at=last_week)
        change()
        row = client.get(reverse("vehicles:feed_json")).json()["vehicles"][0]
        sitemap = ElementTree.fromstring(client.get(reverse("vehicles:sitemap")).content)
        lastmod = sitemap.find(".//{http://www.sitemaps.org/schemas/sitemap/0.9}lastmod").text
        assert row["updated_at"] > last_week.isoformat()
        assert lastmod == timezone.localdate().isoformat()

    second, first = vehicle.photos.order_by("-position")
    photos_change(lambda: photo_make_main(photo=second))
    photos_change(lambda: photo_delete(photo=first))
    photos_change(
        lambda: photos_upload(
            vehicle=vehicle, files=[images.upload("c.png", images.shot(3))], process_now=True
        )
    )


def test_the_feeds_answer_a_head_request_as_the_sitemap_does(client):
    factories.vehicle()
    for name in ("vehicles:feed_json", "vehicles:feed_csv", "vehicles:sitemap"):
        response = client.head(reverse(name))
        assert response.status_code == 200 and response.content == b"", name


def test_since_feed_explains_a_bad_date(client):
    response = client.get(reverse("vehicles:feed_json"), {"since": "yesterday"})
    assert response.status_code == 400 and "ISO 8601" in response.json()["error"]


def test_photos_in_processing_are_not_published(client):
    vehicle = factories.vehicle()
    photos_upload(vehicle=vehicle, files=[images.upload("a.png", images.encoded("PNG"))])
    assert vehicle.photos.get().status == PhotoStatus.UPLOADED
    row = client.get(reverse("vehicles:feed_json")).json()["vehicles"][0]
    assert row["photos"] == []


def test_a_sold_vehicle_page_stays_reachable_saying_so(client):
    vehicle = factories.vehicle(make="Toyota", model="RAV4")
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    page = client.get(vehicle.get_absolute_url()).content.decode()
    assert "This vehicle has been sold" in page
    assert structured_data(page)["offers"]["availability"] == "https://schema.org/SoldOut"
    assert "RAV4" not in client.get(reverse("vehicles:list")).content.decode()


def test_a_vehicle_on_hold_keeps_its_page_saying_a_sale_is_pending_until_it_is_back(client):
    vehicle = factories.vehicle(make="Toyota", model="RAV4")
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.ON_HOLD)
    page = client.get(vehicle.get_absolute_url()).content.decode()
    assert "A sale is pending on this vehicle" in page
    assert 'id="contact"' in page  # the customer can still ask to hear if it comes back
    assert structured_data(page)["offers"]["availability"] == "https://schema.org/Reserved"
    assert "RAV4" not in client.get(reverse("vehicles:list")).content.decode()

    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.IN_STOCK)
    page = client.get(vehicle.get_absolute_url()).content.decode()
    assert "A sale is pending" not in page
    assert structured_data(page)["offers"]["availability"] == "https://schema.org/InStock"


@pytest.mark.parametrize("typed", ["1HGCM826 33A004352", "1HGCM-82633-A004352", " 1hgcm82633a004352 "])
def test_a_vin_typed_with_spaces_or_dashes_is_taken_as_its_17_characters(supervisor_client, typed):
    page = supervisor_client.get(reverse("inventory:vehicle_create")).content.decode()
    assert 'maxlength="17"' not in page  # the phone's keyboard must not cut a VIN typed with spaces
    supervisor_client.post(
        reverse("inventory:vehicle_create"),
        {"vin": typed, "stock_number": "SP1", "condition": "used", "status": "in_stock", "published": "on"},
    )
    assert Vehicle.objects.get().vin == "1HGCM82633A004352"


@pytest.mark.parametrize(
    ("typed", "price"), [("$29,995", "29995.00"), ("29 995,50 $", "29995.50"), ("29995.5", "29995.50")]
)
def test_a_price_is_taken_as_typed_in_english_or_french(supervisor_client, typed, price):
    supervisor_client.post(
        reverse("inventory:vehicle_create"),
        {
            "vin": factories.vin(),
            "stock_number": "P1",
            "condition": "used",
            "price": typed,
            "status": "in_stock",
        },
    )
    assert str(Vehicle.objects.get().price) == price


def test_a_price_that_reads_two_ways_is_refused_and_the_form_kept(supervisor_client):
    response = supervisor_client.post(
        reverse("inventory:vehicle_create"),
        {
            "vin": factories.vin(),
            "stock_number": "P2",
            "condition": "used",
            "price": "29.995",
            "status": "in_stock",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Vehicle.objects.exists()
    assert "decimal places" in page and 'value="29.995"' in page and 'value="P2"' in page


@pytest.mark.parametrize(
    ("typed", "km"), [("61.000", 61000), ("61 200 km", 61200), ("45,000", 45000), ("1.234.567", 1234567)]
)
def test_kilometres_are_taken_as_typed_with_their_thousands_grouped(supervisor_client, typed, km):
    vehicle = factories.vehicle(odometer_km=5)
    supervisor_client.post(
        reverse("inventory:vehicle_edit", args=[vehicle.pk]),
        {"vin": vehicle.vin, "stock_number": vehicle.stock_number, "condition": "used", "odometer_km": typed},
    )
    vehicle.refresh_from_db()
    assert vehicle.odometer_km == km


@pytest.mark.parametrize("typed", ["61.0", "45 000,5", "61.5 km"])
def test_kilometres_with_decimals_are_refused_and_the_form_kept(supervisor_client, typed):
    vehicle = factories.vehicle(odometer_km=5)
    stock_number = vehicle.stock_number
    response = supervisor_client.post(
        reverse("inventory:vehicle_edit", args=[vehicle.pk]),
        {"vin": vehicle.vin, "stock_number": "KM1", "condition": "used", "odometer_km": typed},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter whole kilometres" in page and f'value="{typed}"' in page and 'value="KM1"' in page
    vehicle.refresh_from_db()
    assert (vehicle.odometer_km, vehicle.stock_number) == (5, stock_number)  # nothing saved


@pytest.mark.parametrize(
    "query",
    [{"price_max": "NaN"}, {"price_min": "1e999999"}, {"make": "\x00"}, {"model": "RAV4\x00"}, {"page": "x"}],
)
def test_a_public_list_address_edited_by_hand_still_lists_the_stock(client, query):
    factories.vehicle(model="RAV4")
    response = client.get(reverse("vehicles:list"), query)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("inventory:index", {"days": "99999999999"}),
        ("inventory:index", {"days": "-3000000"}),
        ("inventory:index", {"days": "-99999999999"}),
        ("inventory:index", {"q": "rav4\x00"}),
        ("inventory:freshness", {"price_days": "99999999999", "min_photos": "99999999999"}),
        # "²".isdigit() is True, yet int() refuses it.
        ("inventory:freshness", {"min_photos": "²"}),
        ("inventory:freshness", {"price_days": "²"}),
    ],
)
def test_a_staff_list_address_edited_by_hand_answers(supervisor_client, name, query):
    factories.vehicle(model="RAV4")
    assert supervisor_client.get(reverse(name), query).status_code == 200


def test_a_phone_may_take_photos_or_pick_several_from_its_library(supervisor_client):
    vehicle = factories.vehicle()
    page = supervisor_client.get(reverse("inventory:vehicle_detail", args=[vehicle.pk])).content.decode()
    picker = re.search(r'<input[^>]*name="photos"[^>]*>', page).group()
    assert 'accept="image/*"' in picker and "multiple" in picker
    assert "capture" not in picker  # capture would open the camera alone, one shot at a time
