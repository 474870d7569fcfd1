"""The language switch in the menu brings the person back to a page they can see in the other
language, also from a page shown in answer to a form."""

import re

import pytest
from django.urls import reverse

from dealership.models import Role
from tests import factories
from tests.french import FRENCH

pytestmark = pytest.mark.django_db

MISTAKEN_REPLY = {"subject": "Hello", "body": "Dear {{ frist_name }}, my long answer", "language": "en"}
MISTAKEN_INQUIRY = {"first_name": "Jean", "email": "jean@", "inquiry_type": "price"}


def _switch_back_to(response) -> str:
    """The page the language switch of a page brings back to."""
    page = response.content.decode()
    switch = page[page.index('id="language-switch"') :]
    return re.search(r'name="next" value="([^"]*)"', switch[: switch.index("</form>")]).group(1)


def _login(client):
    client.force_login(factories.staff(Role.SUPERVISOR).user)


def test_switching_language_on_a_refused_reply_comes_back_to_the_lead_in_french(client):
    _login(client)
    lead = factories.lead()
    lead_page = reverse("leads:lead_detail", args=[lead.pk])
    refused = client.post(
        reverse("leads:lead_reply", args=[lead.pk]),
        MISTAKEN_REPLY,
        headers={"Referer": f"http://testserver{lead_page}"},
    )
    assert refused.status_code == 400
    assert _switch_back_to(refused) == lead_page
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": _switch_back_to(refused)}, follow=True
    )
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


@pytest.mark.parametrize("came_from", [{"Referer": "http://evil.example/leads/"}, {}])
def test_switching_language_on_a_refused_reply_from_elsewhere_still_comes_back_to_the_lead(client, came_from):
    _login(client)
    lead = factories.lead()
    refused = client.post(reverse("leads:lead_reply", args=[lead.pk]), MISTAKEN_REPLY, headers=came_from)
    assert refused.status_code == 400
    assert _switch_back_to(refused) == reverse("leads:lead_detail", args=[lead.pk])


@pytest.mark.parametrize("came_from", [{"Referer": "http://evil.example/staff/"}, {}])
def test_switching_language_on_a_refused_form_of_a_page_without_address_comes_back_home(client, came_from):
    _login(client)
    refused = client.post(reverse("leads:replytemplate_create"), {"name": ""}, headers=came_from)
    assert _switch_back_to(refused) == "/"


def test_switching_language_on_a_refused_form_of_a_page_without_address_comes_back_to_where_it_was_sent(
    client,
):
    _login(client)
    came_from = reverse("leads:replytemplate_list")
    refused = client.post(
        reverse("leads:replytemplate_create"),
        {"name": ""},
        headers={"Referer": f"http://testserver{came_from}"},
    )
    assert _switch_back_to(refused) == came_from


def test_switching_language_on_a_page_keeps_the_page_and_its_filters(client):
    _login(client)
    page = client.get(f"{reverse('leads:inbox')}?status=new&q=Roy", headers=FRENCH)
    assert _switch_back_to(page) == f"{reverse('leads:inbox')}?status=new&amp;q=Roy"


def test_switching_language_on_a_refused_vehicle_inquiry_comes_back_to_the_vehicle_in_french(client):
    vehicle = factories.vehicle()
    refused = client.post(
        vehicle.get_absolute_url(),
        MISTAKEN_INQUIRY,
        headers={"Referer": f"http://testserver{vehicle.get_absolute_url()}"},
    )
    assert refused.status_code == 400
    assert _switch_back_to(refused) == vehicle.get_absolute_url()
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": _switch_back_to(refused)}, follow=True
    )
    assert response.status_code == 200 and "Renseignez-vous sur ce véhicule" in response.content.decode()


def test_switching_language_on_a_refused_vehicle_inquiry_from_elsewhere_stays_on_the_vehicle(client):
    # The vehicle page takes its form at its own address: the visitor comes back to it, Referer or not.
    vehicle = factories.vehicle()
    refused = client.post(
        vehicle.get_absolute_url(), MISTAKEN_INQUIRY, headers={"Referer": "https://evil.example/"}
    )
    assert refused.status_code == 400
    assert _switch_back_to(refused) == vehicle.get_absolute_url()


def _refused_lead_reply(lead) -> tuple[str, dict, str]:
    return (
        reverse("leads:lead_reply", args=[lead.pk]),
        MISTAKEN_REPLY,
        reverse("leads:lead_detail", args=[lead.pk]),
    )


def _refused_contact(lead) -> tuple[str, dict, str]:
    customer = lead.customer
    return (
        reverse("leads:customer_contact_add", args=[customer.pk]),
        {"phone": "12345"},
        reverse("leads:customer_detail", args=[customer.pk]),
    )


def _refused_vehicle_status(lead) -> tuple[str, dict, str]:
    vehicle = factories.vehicle()
    # A date in the future is refused on its field, and the page comes back with it.
    return (
        reverse("inventory:vehicle_transition", args=[vehicle.pk]),
        {"status": "sold", "on": "2999-01-01"},
        reverse("inventory:vehicle_detail", args=[vehicle.pk]),
    )


@pytest.mark.parametrize("refused_form", [_refused_lead_reply, _refused_contact, _refused_vehicle_status])
def test_switching_language_after_the_same_form_is_refused_twice_comes_back_to_its_page(client, refused_form):
    _login(client)
    form_address, typed, page_address = refused_form(factories.lead())
    first = client.post(form_address, typed, headers={"Referer": f"http://testserver{page_address}"})
    # Sent again from the refused page, whose address takes forms only.
    again = client.post(form_address, typed, headers={"Referer": f"http://testserver{form_address}"})
    assert first.status_code == again.status_code == 400
    assert _switch_back_to(again) == page_address
    response = client.post("/i18n/setlang/", {"language": "fr", "next": _switch_back_to(again)}, follow=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()
