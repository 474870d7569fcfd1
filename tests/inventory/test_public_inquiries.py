"""A website visitor's message about a vehicle or an offer is never lost, and is in their language."""

from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import VehicleStatus
from inventory.services.vehicles import vehicle_transition, vehicle_update
from leads.models import Lead, LeadStatus
from leads.services.leads import RESENT_WITHIN, lead_transition
from promotions.services.promotions import promotion_transition
from tests import factories
from tests.french import ENGLISH, FRENCH

pytestmark = pytest.mark.django_db

MESSAGE = {"first_name": "Jean", "email": "jean@example.com", "inquiry_type": "price"}


def test_a_message_sent_from_a_page_opened_before_the_vehicle_was_renamed_is_taken(client):
    vehicle = factories.vehicle(make="Toyota", model="RAV4")
    old_address = vehicle.get_absolute_url()
    vehicle_update(vehicle=vehicle, trim="XLE")  # the staff adds the trim meanwhile
    vehicle.refresh_from_db()
    assert client.get(old_address).status_code == 301  # a page view moves to the new address
    response = client.post(old_address, MESSAGE)
    assert response["Location"] == f"{vehicle.get_absolute_url()}?sent=1#contact"
    assert Lead.objects.get().customer.email == "jean@example.com"


def test_a_message_sent_from_a_page_opened_before_the_vehicle_was_unpublished_is_taken(client):
    vehicle = factories.vehicle(make="Subaru", model="Forester")
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    assert client.get(vehicle.get_absolute_url()).status_code == 200  # the visitor opens its page
    vehicle_update(vehicle=vehicle, published=False)  # the manager unpublishes it meanwhile
    typo = client.post(
        vehicle.get_absolute_url(), MESSAGE | {"email": "jean@", "message": "Another one like it?"}
    )
    assert typo.status_code == 400 and "Another one like it?" in typo.content.decode()  # kept to correct
    response = client.post(vehicle.get_absolute_url(), MESSAGE | {"message": "Another one like it?"})
    assert response["Location"] == f"{reverse('vehicles:list')}?sent=1"
    assert "Thank you! We will answer you shortly." in client.get(response["Location"]).content.decode()
    lead = Lead.objects.get()
    assert (lead.customer.email, lead.comments) == ("jean@example.com", "Another one like it?")
    assert lead.vehicles.get().stock_number == vehicle.stock_number
    assert client.get(vehicle.get_absolute_url()).status_code == 404  # the page itself is gone


@pytest.mark.parametrize("hidden", [{"published": False}, {"status": VehicleStatus.ON_ORDER}])
def test_a_message_to_correct_about_a_vehicle_off_the_website_shows_nothing_of_the_vehicle(client, hidden):
    vehicle = factories.vehicle(
        make="Lexus", model="RX", price="61995.00", description="Trade-in, not yet reconditioned", **hidden
    )
    address = f"/vehicles/{vehicle.pk}-anything/"
    assert client.get(address).status_code == 404
    typo = client.post(address, MESSAGE | {"email": "jean@", "message": "Still available?"})
    page = typo.content.decode()
    # What the visitor wrote comes back to be put right...
    assert (
        typo.status_code == 400
        and "Still available?" in page
        and "This vehicle is not on our website" in page
    )
    # ...and nothing of a vehicle kept off the website: no price, VIN, stock number or description.
    for hidden_text in (
        vehicle.vin,
        vehicle.stock_number,
        "Lexus",
        "not yet reconditioned",
        "61,995",
        "61995",
    ):
        assert hidden_text not in page
    client.post(address, MESSAGE | {"message": "Still available?"})
    assert Lead.objects.get().vehicles.get().stock_number == vehicle.stock_number  # still taken


def test_a_message_about_a_vehicle_that_no_longer_exists_is_not_found(client):
    vehicle = factories.vehicle()
    address = vehicle.get_absolute_url()
    vehicle.delete()
    assert client.post(address, MESSAGE).status_code == 404
    assert not Lead.objects.exists()


def test_the_same_question_sent_twice_is_one_lead_that_says_the_customer_wrote_again(client):
    vehicle = factories.vehicle(make="Ford", model="F-150")
    question = MESSAGE | {"message": "Best price on this F-150?"}
    first, second = (
        client.post(vehicle.get_absolute_url(), question),
        client.post(vehicle.get_absolute_url(), question),
    )
    assert first["Location"] == second["Location"] == f"{vehicle.get_absolute_url()}?sent=1#contact"
    lead = Lead.objects.get()
    assert (lead.comments, lead.vehicles.count()) == ("Best price on this F-150?", 1)
    assert list(lead.events.values_list("type", "params__source")) == [
        ("created", "Website"),
        ("customer_wrote", "Website"),
    ]


def test_another_question_about_the_same_vehicle_keeps_its_words_in_its_own_lead(client):
    vehicle = factories.vehicle()
    client.post(vehicle.get_absolute_url(), MESSAGE | {"message": "Is it still there?"})
    client.post(vehicle.get_absolute_url(), MESSAGE | {"message": "Can I see it Saturday?"})
    assert sorted(Lead.objects.values_list("comments", flat=True)) == [
        "Can I see it Saturday?",
        "Is it still there?",
    ]


@pytest.mark.parametrize("phone", ["514 555-0100 ext. 12", "514-555-0100 poste 12", "514 555 0100 x12"])
def test_a_phone_extension_sent_from_a_vehicle_page_is_on_the_customer_card_once(client, supervisor, phone):
    vehicle = factories.vehicle()
    # Sent, sent again, then another question with the same number.
    for message in ("Is it still there?", "Is it still there?", "Can I see it Saturday?"):
        client.post(vehicle.get_absolute_url(), MESSAGE | {"phone": phone, "message": message})
    [customer] = {lead.customer_id for lead in Lead.objects.all()}
    client.force_login(supervisor.user)
    card = client.get(reverse("leads:customer_detail", args=[customer])).content.decode()
    assert card.count("Phone: (514) 555-0100, extension 12") == 1
    # Where the lead is answered from, too.
    lead_page = client.get(reverse("leads:lead_detail", args=[Lead.objects.first().pk])).content.decode()
    assert lead_page.count("Phone: (514) 555-0100, extension 12") == 1


@pytest.mark.parametrize("meanwhile", ["time passed", "lead closed"])
def test_the_same_question_sent_again_later_or_once_its_lead_is_closed_is_a_new_lead(client, meanwhile):
    vehicle = factories.vehicle()
    client.post(vehicle.get_absolute_url(), MESSAGE)
    lead = Lead.objects.get()
    if meanwhile == "time passed":
        Lead.objects.filter(pk=lead.pk).update(received_at=timezone.now() - RESENT_WITHIN)
    else:
        lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    client.post(vehicle.get_absolute_url(), MESSAGE)
    assert Lead.objects.count() == 2


@pytest.mark.parametrize(("headers", "language"), [(FRENCH, "fr"), (ENGLISH, "en")])
def test_a_vehicle_message_is_in_the_language_of_the_page(client, headers, language):
    vehicle = factories.vehicle()
    client.post(vehicle.get_absolute_url(), MESSAGE, headers=headers)
    lead = Lead.objects.get()
    assert (lead.language, lead.customer.language) == (language, language)


def test_an_offers_form_starts_in_the_language_of_the_page(client):
    promotion = factories.promotion(landing_slug="crv-fr")
    promotion_transition(promotion=promotion, to_status="running")
    url = reverse("offers:landing", args=["crv-fr"])
    assert '<option value="fr" selected>' in client.get(url, headers=FRENCH).content.decode()
    assert '<option value="en" selected>' in client.get(url, headers=ENGLISH).content.decode()


# Past the calendar's end; or so early that the FEED_SINCE_OVERLAP read before it is before its start.
@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z"])
def test_a_feed_asked_for_changes_since_a_moment_off_the_calendar_is_refused_not_a_server_error(
    client, since
):
    response = client.get(reverse("vehicles:feed_json"), {"since": since})
    assert response.status_code == 400 and "ISO 8601" in response.json()["error"]
    assert (
        client.get(reverse("vehicles:feed_json"), {"since": datetime(2026, 1, 1).isoformat()}).status_code
        == 200
    )
