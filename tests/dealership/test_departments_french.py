"""A department reads by its name in the page's language wherever it shows: the directory, the
promotions, the promotion form's choices."""

import pytest
from django.urls import reverse

from dealership.models import Role
from tests import factories
from tests.french import ENGLISH, FRENCH, page_text

pytestmark = pytest.mark.django_db


def test_departments_read_in_french_on_french_pages(client):
    manager = factories.staff(Role.MANAGER)
    factories.staff(Role.DEPARTMENT, department_code="body_shop", first_name="Pierre", last_name="Lavoie")
    factories.staff(Role.DEPARTMENT, department_code="parts", first_name="Omar", last_name="Haddad")
    promotion = factories.promotion(name="Vente d’hiver")  # of the sales department
    client.force_login(manager.user)
    directory = page_text(client, reverse("dealership:directory"), FRENCH)
    assert "Carrosserie" in directory and "Pièces" in directory
    assert "Body shop" not in directory and ">Parts<" not in directory
    detail = page_text(client, reverse("promotions:detail", args=[promotion.pk]), FRENCH)
    assert "Ventes" in detail and "Sales" not in detail
    form = page_text(client, reverse("promotions:new"), FRENCH)
    assert ">Ventes</option>" in form and ">Sales</option>" not in form
    english = page_text(client, reverse("dealership:directory"), ENGLISH)
    assert "Body shop" in english and "Parts" in english
