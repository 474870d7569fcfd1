"""Words the project translates its own way win over Django's catalog for the same English word."""

import pytest

from tests import factories
from tests.french import FRENCH, page_text

pytestmark = pytest.mark.django_db


def test_a_home_phone_is_domicile_not_a_reception_desk(supervisor_client):
    customer = factories.customer()
    page = page_text(supervisor_client, f"/leads/customers/{customer.pk}/", FRENCH)
    assert '<option value="home">Domicile</option>' in page and "Accueil" not in page


def test_the_inbox_chip_for_every_lead_reads_toutes(supervisor_client):
    factories.lead()
    page = page_text(supervisor_client, "/leads/", FRENCH)
    assert "Toutes <span" in page and "Tout <span" not in page
