"""Codes and system words read by name on French pages: the inbox's filter warnings, the rule test,
a merged lead's reason, the website's source."""

import re

import pytest
from django.urls import reverse

from leads.services.leads import lead_merge
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db


def test_the_inbox_names_each_filter_it_could_not_apply_in_french(supervisor_client):
    url = "/leads/?received_from=2026-13-45&status=bogus&reached=bogus&page=0"
    page = page_text(supervisor_client, url, FRENCH)
    warning = page[page.index('id="inbox-filter-errors"') :][:1500]
    for label in ("État", "Reçue du", "Étape atteinte", "Page"):
        assert f"{label}{NBSP}: " in warning, label
    for english in ("Status:", "Reached:", "Page:", "status:", "reached:"):
        assert english not in warning, english
    assert "Status: " in page_text(supervisor_client, url, ENGLISH)


def test_the_rule_test_names_the_language_inquiry_and_vehicles_in_french(supervisor_client):
    raw = factories.sample_mail("autotrader_adf.eml").decode()
    response = supervisor_client.post(reverse("leads:rule_test"), {"raw": raw}, headers=FRENCH)
    page = re.sub(r"\s+", " ", response.content.decode())
    for text in (
        '<dt class="col-sm-4">Langue</dt><dd class="col-sm-8">Anglais</dd>',
        '<dt class="col-sm-4">Type de demande</dt><dd class="col-sm-8">Prix et disponibilité</dd>',
        "<tr><td>Achat</td><td>D’occasion</td>",
        "<tr><td>Échange</td><td>D’occasion</td>",
    ):
        assert text in page, text
    for raw_code in (
        ">en<",
        ">fr<",
        ">price<",
        ">general<",
        "<td>buy</td>",
        "<td>used</td>",
        "<td>trade-in</td>",
    ):
        assert raw_code not in page, raw_code


def test_a_merged_leads_reason_and_a_website_source_read_in_french(supervisor_client):
    customer = factories.customer()
    target = factories.lead(customer_obj=customer, source="Website")
    duplicate = factories.lead(customer_obj=customer)
    lead_merge(target=target, duplicate=duplicate)
    page = page_text(supervisor_client, reverse("leads:lead_detail", args=[duplicate.pk]), FRENCH)
    assert f"(Fusionnée avec la demande {target.pk})" in page and "Merged into lead" not in page
    page = page_text(supervisor_client, reverse("leads:lead_detail", args=[target.pk]), FRENCH)
    assert f"Source{NBSP}: Site Web" in page and f"Demande reçue (source{NBSP}: Site Web)" in page
    assert "Website" not in page
    assert "Source: Website" in page_text(
        supervisor_client, reverse("leads:lead_detail", args=[target.pk]), ENGLISH
    )
