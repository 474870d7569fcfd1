"""What a customer sees without logging in, in French for a French browser: an unsubscribe link that
is not ours, the list of offers, the stock an offer shows."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db


def test_an_unsubscribe_link_that_is_not_valid_answers_a_french_browser_in_french(client):
    page = page_text(client, "/u/garbage/", FRENCH, status=404)
    assert "Ce lien de désabonnement n’est pas valide." in page and "This unsubscribe link" not in page
    assert "This unsubscribe link is not valid." in page_text(client, "/u/garbage/", ENGLISH, status=404)


def test_the_offers_list_says_until_in_both_languages(client):
    factories.running_promotion(name="Vente d’hiver RAV4")
    page = page_text(client, reverse("offers:index"), FRENCH)
    until = """<span lang="en">until</span> / <span lang="fr">jusqu'au</span>"""
    assert f"Vente d’hiver RAV4</a> · {until} " in page


def test_the_offers_and_thanks_pages_are_titled_in_both_languages(client):
    for url, title in ((reverse("offers:index"), "Offers / Offres"), (reverse("offers:thanks"), "Thank you / Merci")):
        for headers in (FRENCH, ENGLISH):
            assert f"<title>{title} · " in page_text(client, url, headers)


def test_an_offers_stock_prices_read_as_the_visitor_writes_them(client):
    promotion = factories.running_promotion(landing_slug="hiver-rav4")
    promotion.vehicles.add(
        factories.vehicle(stock_number="M2601", price=Decimal("41990.00")),
        factories.vehicle(stock_number="M2602", price=Decimal("38995.50")),
    )
    url = reverse("offers:landing", args=["hiver-rav4"])
    page = page_text(client, url, FRENCH)
    assert f" · 41{NBSP}990{NBSP}$ · M2601" in page and f" · 38{NBSP}995,50{NBSP}$ · M2602" in page
    assert "$41990" not in page
    english = page_text(client, url, ENGLISH)
    assert " · $41,990 · M2601" in english and " · $38,995.50 · M2602" in english
