"""A website visitor's message about a vehicle or an offer is never lost, and is in their language."""

import re
from datetime import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from inventory.models import VehicleStatus
from inventory.services.vehicles import vehicle_transition, vehicle_update
from leads.models import Customer, FollowUpStepRun, Lead, LeadStatus
from leads.services.followup import (
    followup_dispatch_due,
    followup_enroll_arrivals,
    followup_plans_ensure_defaults,
    followup_run_send,
)
from leads.services.leads import RESENT_WITHIN, lead_transition
from promotions.services.promotions import promotion_transition
from tests import factories
from tests.dealership.test_cache import cache_down, cache_up  # noqa: F401 (fixtures)
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


def test_a_message_about_a_sold_vehicle_is_taken_while_its_page_is_on_the_website(client, acknowledged):
    vehicle = factories.vehicle(make="Subaru", model="Forester")
    vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    assert client.get(vehicle.get_absolute_url()).status_code == 200  # its page says it is sold
    typo = client.post(
        vehicle.get_absolute_url(), MESSAGE | {"email": "jean@", "message": "Another one like it?"}
    )
    assert typo.status_code == 400 and "Another one like it?" in typo.content.decode()  # kept to correct
    response = client.post(vehicle.get_absolute_url(), MESSAGE | {"message": "Another one like it?"})
    assert response["Location"] == f"{vehicle.get_absolute_url()}?sent=1#contact"
    lead = Lead.objects.get()
    assert (lead.customer.email, lead.comments) == ("jean@example.com", "Another one like it?")
    assert lead.vehicles.get().stock_number == vehicle.stock_number
    assert acknowledged() == ["jean@example.com"]


OFF_THE_WEBSITE = [
    {"published": False},
    {"status": VehicleStatus.ON_ORDER},
    {"status": VehicleStatus.SOLD, "published": False},
]
GONE = "This vehicle is not on our website"
STILL_REACHES_US = "Your message can still reach us"


def _hidden_vehicle(hidden: dict):
    return factories.vehicle(
        year=2024,
        make="Lexus",
        model="RX",
        price="61995.00",
        description="Trade-in, not yet reconditioned",
        **hidden,
    )


def _page_of(number: int) -> str:
    """The page address of vehicle no. `number`, as a page opened before it went would send to it."""
    return f"/vehicles/{number}-anything/"


def _no_vehicle_number() -> int:
    """A number that is no vehicle (one there was, since deleted)."""
    deleted = factories.vehicle()
    number = deleted.pk
    deleted.delete()
    return number


def _as_anyone_sees_it(response, address: str) -> tuple[int, str, str]:
    """A response without what differs from one request to the next whatever the vehicle: the
    form's security token, and the address the visitor sent to."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    return response.status_code, response.get("Location", ""), page.replace(address, "«address»")


def _shows_nothing_of(vehicle, page: str) -> None:
    for hidden_text in (
        vehicle.vin,
        vehicle.stock_number,
        "Lexus",
        "not yet reconditioned",
        "61,995",
        "61995",
    ):
        assert hidden_text not in page


@pytest.mark.parametrize("hidden", OFF_THE_WEBSITE)
@pytest.mark.parametrize(
    "message",
    [MESSAGE | {"message": "Still available?"}, MESSAGE | {"email": "jean@", "message": "Still available?"}],
    ids=["sent", "to correct"],
)
def test_a_message_about_a_vehicle_off_the_website_is_answered_as_one_about_a_number_that_is_no_vehicle(
    client, hidden, message
):
    vehicle = _hidden_vehicle(hidden)
    address, no_vehicle = _page_of(vehicle.pk), _page_of(_no_vehicle_number())
    # Their pages are not found alike...
    assert client.get(address).status_code == client.get(no_vehicle).status_code == 404
    # ...and a message sent to either is answered alike: whether the vehicle exists is not told...
    answer, other = client.post(address, message), client.post(no_vehicle, message)
    assert _as_anyone_sees_it(answer, address) == _as_anyone_sees_it(other, no_vehicle)
    # ...nor anything of a vehicle kept off the website: no make, price, VIN, stock number or description.
    _shows_nothing_of(vehicle, answer.content.decode())
    if message["email"] == "jean@":
        # What the visitor wrote comes back to be put right, with where it can still go.
        page = answer.content.decode()
        assert answer.status_code == 400
        assert GONE in page and STILL_REACHES_US in page and "Still available?" in page
        assert not Lead.objects.exists()
    else:
        assert answer["Location"] == f"{reverse('vehicles:list')}?sent=1"
        thanks = client.get(answer["Location"]).content.decode()
        assert "Thank you! We will answer you shortly." in thanks
        _shows_nothing_of(vehicle, thanks)


@pytest.mark.parametrize("hidden", [*OFF_THE_WEBSITE, None], ids=[*map(str, OFF_THE_WEBSITE), "no vehicle"])
def test_a_message_sent_from_the_page_of_a_vehicle_off_the_website_is_a_lead_that_names_the_page_to_staff_only(
    client, supervisor, acknowledged, hidden
):
    vehicle = _hidden_vehicle(hidden) if hidden is not None else None
    number = vehicle.pk if vehicle is not None else _no_vehicle_number()
    response = client.post(_page_of(number), MESSAGE | {"message": "Still available?"})
    assert response["Location"] == f"{reverse('vehicles:list')}?sent=1"
    lead = Lead.objects.get()
    assert (lead.customer.email, lead.comments, lead.source) == (
        "jean@example.com",
        "Still available?",
        "Website",
    )
    assert not lead.vehicles.exists()  # nothing of the vehicle goes to the visitor from the lead
    # The acknowledgement thanks the visitor for their inquiry about "the vehicle", and names none.
    assert acknowledged() == ["jean@example.com"]
    [acknowledgement] = mail.outbox
    assert "your inquiry about the vehicle." in acknowledgement.body
    if vehicle is not None:
        _shows_nothing_of(vehicle, acknowledgement.subject + acknowledgement.body)
    # The staff see which page it was sent from.
    client.force_login(supervisor.user)
    timeline = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    if vehicle is not None:
        assert (
            f"Sent from the website page of vehicle no. {number} (2024 Lexus RX, stock "
            f"{vehicle.stock_number}), no longer on the website"
        ) in timeline
    else:
        assert f"Sent from the website page of vehicle no. {number}, which is not in stock" in timeline


def test_the_same_message_sent_again_from_the_page_of_a_vehicle_off_the_website_joins_its_lead(
    client, supervisor
):
    vehicle, no_vehicle = _hidden_vehicle({"published": False}), _no_vehicle_number()
    question = MESSAGE | {"message": "Still available?"}
    for page in (
        _page_of(vehicle.pk),
        _page_of(vehicle.pk),
        _page_of(no_vehicle),
    ):  # Send pressed twice, then the same words from another page
        assert client.post(page, question)["Location"] == f"{reverse('vehicles:list')}?sent=1"
    lead = Lead.objects.get()
    assert list(lead.events.values_list("type", flat=True)) == [
        "created",
        "public_form",
        "customer_wrote",
        "customer_wrote",
        "public_form",
    ]
    # Each page it was sent from is told once.
    client.force_login(supervisor.user)
    timeline = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert timeline.count(f"Sent from the website page of vehicle no. {vehicle.pk} ") == 1
    assert timeline.count(f"vehicle no. {no_vehicle}, which is not in stock") == 1


@pytest.mark.parametrize("hidden", OFF_THE_WEBSITE)
def test_a_message_about_a_vehicle_off_the_website_beyond_the_limit_is_refused_as_on_any_page(client, hidden):
    vehicle = _hidden_vehicle(hidden)
    address, no_vehicle = _page_of(vehicle.pk), _page_of(_no_vehicle_number())
    for number in range(5):
        assert client.post(address, _inquiry(number), REMOTE_ADDR=SENDER).status_code == 302
    refused = client.post(address, _inquiry(5), REMOTE_ADDR=SENDER)
    also_refused = client.post(no_vehicle, _inquiry(5), REMOTE_ADDR=SENDER)
    assert _as_anyone_sees_it(refused, address) == _as_anyone_sees_it(also_refused, no_vehicle)
    page = refused.content.decode()
    assert refused.status_code == 429 and TOO_MANY in page and GONE in page
    assert "Question 5" in page and "visitor5@example5.com" in page  # what was typed is still there
    _shows_nothing_of(vehicle, page)
    assert not Customer.objects.filter(email="visitor5@example5.com").exists()
    assert Lead.objects.count() == 5


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


# A robot filling the public forms ----------------------------------------------------------------

SENDER, NEIGHBOUR = "203.0.113.5", "198.51.100.9"
TOO_MANY = "We have received many messages from your connection recently"


@pytest.fixture
def acknowledged(supervisor, django_capture_on_commit_callbacks):
    """Who gets an acknowledgement once the beat has put every lead so far in the follow-up plan
    and sent what is due (the supervisor signs the mail of leads nobody owns yet)."""
    followup_plans_ensure_defaults()

    def run() -> list[str]:
        followup_enroll_arrivals(now=timezone.now())
        runs = FollowUpStepRun.objects.filter(step__position=0)
        due = max((run.due_at for run in runs), default=timezone.now())
        queued = []
        with django_capture_on_commit_callbacks(execute=True):
            followup_dispatch_due(now=due, enqueue_send=queued.append)
        for run_id in queued:
            followup_run_send(run_id=run_id, now=due)
        return sorted(address for message in mail.outbox for address in message.to)

    return run


def _inquiry(number: int) -> dict:
    return MESSAGE | {"email": f"visitor{number}@example{number}.com", "message": f"Question {number}"}


def _offer_inquiry(number: int) -> dict:
    email = f"visitor{number}@example{number}.com"
    return {"first_name": "Jean", "email": email, "language": "en", "comments": f"Question {number}"}


def test_a_sixth_vehicle_inquiry_from_one_address_within_ten_minutes_is_refused_and_nothing_is_kept_or_sent(
    client, acknowledged
):
    page = factories.vehicle().get_absolute_url()
    for number in range(5):
        assert client.post(page, _inquiry(number), REMOTE_ADDR=SENDER).status_code == 302
    refused = client.post(page, _inquiry(5), REMOTE_ADDR=SENDER)
    shown = refused.content.decode()
    assert refused.status_code == 429 and TOO_MANY in shown
    assert "Question 5" in shown and "visitor5@example5.com" in shown  # what was typed is still there
    assert not Customer.objects.filter(email="visitor5@example5.com").exists()
    assert Lead.objects.count() == 5
    # Another visitor behind another address is not held back.
    assert client.post(page, _inquiry(6), REMOTE_ADDR=NEIGHBOUR).status_code == 302
    acknowledgements = acknowledged()
    assert "visitor6@example6.com" in acknowledgements and "visitor5@example5.com" not in acknowledgements
    assert len(acknowledgements) == 6


def test_the_offers_pages_and_the_vehicle_pages_count_together(client, acknowledged):
    promotion = factories.promotion(landing_slug="crv-spring")
    promotion_transition(promotion=promotion, to_status="running")
    landing, page = reverse("offers:landing", args=["crv-spring"]), factories.vehicle().get_absolute_url()
    for number in range(3):
        assert client.post(landing, _offer_inquiry(number), REMOTE_ADDR=SENDER).status_code == 302
    for number in range(3, 5):
        assert client.post(page, _inquiry(number), REMOTE_ADDR=SENDER).status_code == 302
    for offers in (landing, reverse("offers:index")):
        refused = client.post(offers, _offer_inquiry(5), REMOTE_ADDR=SENDER)
        assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
        # In both languages, as everything on these pages.
        assert "Nous avons reçu beaucoup de messages de votre connexion" in refused.content.decode()
        assert "Question 5" in refused.content.decode()
    assert Lead.objects.count() == 5
    assert client.post(landing, _offer_inquiry(6), REMOTE_ADDR=NEIGHBOUR).status_code == 302
    assert "visitor5@example5.com" not in acknowledged()


def test_a_message_with_a_mistake_does_not_count(client):
    page = factories.vehicle().get_absolute_url()
    for number in range(10):
        client.post(page, _inquiry(number) | {"email": "jean@"}, REMOTE_ADDR=SENDER)
    assert client.post(page, _inquiry(0), REMOTE_ADDR=SENDER).status_code == 302


def test_behind_the_stores_proxy_each_visitor_is_counted_apart(client, settings):
    settings.TRUSTED_PROXIES = 1
    page = factories.vehicle().get_absolute_url()
    for number in range(5):
        client.post(page, _inquiry(number), REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR=SENDER)
    neighbour = client.post(page, _inquiry(5), REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR=NEIGHBOUR)
    assert neighbour.status_code == 302
    # A forged address before the proxy's own does not reset the count.
    forged = client.post(
        page, _inquiry(6), REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.77, {SENDER}"
    )
    assert forged.status_code == 429


def test_an_ipv6_visitor_is_counted_by_the_network_their_provider_gives_them(client):
    # A home connection over IPv6 has a whole /64 to itself: changing address within it gains nothing.
    page = factories.vehicle().get_absolute_url()
    for number in range(5):
        assert (
            client.post(page, _inquiry(number), REMOTE_ADDR=f"2001:db8:1:2::{number + 1}").status_code == 302
        )
    assert client.post(page, _inquiry(5), REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    assert client.post(page, _inquiry(6), REMOTE_ADDR="2001:db8:1:3::1").status_code == 302  # a neighbour


def test_while_the_cache_is_down_every_inquiry_is_taken(client, cache_down):  # noqa: F811
    page = factories.vehicle().get_absolute_url()
    for number in range(7):
        assert client.post(page, _inquiry(number), REMOTE_ADDR=SENDER).status_code == 302
    assert Lead.objects.count() == 7


def test_with_the_cache_in_redis_the_count_is_shared_by_every_web_process(client, cache_up):  # noqa: F811
    page = factories.vehicle().get_absolute_url()
    for number in range(5):
        assert client.post(page, _inquiry(number), REMOTE_ADDR=SENDER).status_code == 302
    assert client.post(page, _inquiry(5), REMOTE_ADDR=SENDER).status_code == 429
