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
        headers={"Referer": f"http://testserver{lead_page}?tab=messages"},
    )
    assert refused.status_code == 400
    assert _switch_back_to(refused) == f"{lead_page}?tab=messages"
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": _switch_back_to(refused)}, follow=True
    )
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


@pytest.mark.parametrize("came_from", [{"Referer": "http://evil.example/leads/"}, {}])
def test_switching_language_on_a_refused_form_from_elsewhere_comes_back_to_the_home_page(client, came_from):
    _login(client)
    lead = factories.lead()
    refused = client.post(reverse("leads:lead_reply", args=[lead.pk]), MISTAKEN_REPLY, headers=came_from)
    assert refused.status_code == 400
    assert _switch_back_to(refused) == "/"


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
