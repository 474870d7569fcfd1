"""The public unsubscribe page, the consent report and the customer's data export."""

import json
import re
import time
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.consent_links import UNSUBSCRIBE_SALT, unsubscribe_url
from leads.models import ConsentRecord
from leads.selectors.consent import consent_check
from leads.services.appointments import appointment_book
from leads.services.consent import commercial_email_headers, commercial_footer, consent_record_inquiry
from leads.services.customers import customer_merge
from tests import factories

pytestmark = pytest.mark.django_db


class NinetyDaysAgoSigner(signing.TimestampSigner):
    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 90 * 24 * 3600)


def test_unsubscribe_page_works_without_login_and_records_each_chosen_channel(client):
    customer = factories.customer(phone="416 555 0111")
    consent_record_inquiry(customer=customer, at=timezone.now() - timedelta(days=1), source="Website")
    url = unsubscribe_url(customer)
    page = client.get(url)
    assert page.status_code == 200 and "Choose the messages you no longer want" in page.content.decode()
    done = client.post(url, {"channels": ["email", "text"]}, REMOTE_ADDR="198.51.100.7")
    assert "will no longer send you: email, text messages. This takes effect now." in done.content.decode()
    for channel in ("email", "text"):
        assert not consent_check(customer=customer, channel=channel).valid
    record = ConsentRecord.objects.filter(action="withdraw").first()
    assert (
        record.source == "unsubscribe link"
        and record.proof_ip == "198.51.100.7"
        and record.recorded_by is None
    )


def test_all_channels_and_french_confirmation(client):
    customer = factories.customer(language="fr", first_name="Olivier", last_name="Côté")
    page = client.get(unsubscribe_url(customer)).content.decode()
    assert "Choisissez les messages que vous ne voulez plus recevoir" in page
    done = client.post(unsubscribe_url(customer), {"all": "1"}).content.decode()
    assert "Votre désabonnement est confirmé" in done and "courriels, textos, appels téléphoniques" in done
    assert set(ConsentRecord.objects.values_list("channel", flat=True)) == {"email", "text", "phone"}


def test_the_link_opened_again_says_what_is_already_unsubscribed_and_offers_the_rest(client):
    customer = factories.customer(language="fr")
    url = unsubscribe_url(customer)
    client.post(url, {"channels": ["email"]})
    again = client.get(url).content.decode()
    assert "Votre désabonnement est déjà en vigueur pour\u00a0: courriels." in again
    assert 'value="email"' not in again and 'value="text"' in again and 'value="phone"' in again
    client.post(url, {"all": "1"})
    done = client.get(url).content.decode()
    assert "Votre désabonnement est confirmé" in done and "<form" not in done
    assert "déjà en vigueur pour\u00a0: courriels, textos, appels téléphoniques." in done


def test_the_link_in_a_french_mail_opens_a_french_page_whatever_the_record_says(client):
    customer = factories.customer()  # on record in English: first known from an English inquiry
    in_the_footer = urlsplit(
        re.search(r"https?://\S+/u/\S+", commercial_footer(customer, language="fr")).group()
    )
    in_the_header = urlsplit(
        commercial_email_headers(customer, language="fr")["List-Unsubscribe"].strip("<>")
    )
    assert in_the_header == in_the_footer  # a French follow-up's or campaign's footer and header agree
    link = f"{in_the_footer.path}?{in_the_footer.query}"
    page = client.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Choisissez les messages que vous ne voulez plus recevoir" in page and "Me désabonner" in page
    form_action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    done = client.post(form_action.replace("&amp;", "&"), {"channels": ["email"]}).content.decode()
    assert "Votre désabonnement est confirmé" in done
    # The mail program's one-click unsubscribe still works on the link as it is.
    assert client.post(link, {"List-Unsubscribe": "One-Click"}).status_code == 200
    # Links mailed before they carried a language, or carrying one not ours, speak the record's.
    for older in (unsubscribe_url(customer), f"{in_the_footer.path}?lang=de"):
        assert "Choose the messages you no longer want" in client.get(older).content.decode()


def test_nothing_chosen_is_refused_and_records_nothing(client):
    customer = factories.customer()
    response = client.post(unsubscribe_url(customer), {})
    assert response.status_code == 400 and "Choose at least one kind of message." in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_forged_token_is_refused_and_links_stay_valid_long_after_sending(client):
    customer = factories.customer()
    # Links are signed without a timestamp now, with one before: neither kind may be forged.
    for forged in (
        signing.dumps({"c": customer.pk}, salt="something-else"),
        signing.Signer(salt="something-else").sign_object({"c": customer.pk}),
    ):
        assert client.post(reverse("unsubscribe", args=[forged]), {"all": "1"}).status_code == 404
    assert not ConsentRecord.objects.exists()
    # A link mailed 90 days ago still works (CASL: at least 60 days).
    token = NinetyDaysAgoSigner(salt=UNSUBSCRIBE_SALT).sign_object({"c": customer.pk})
    assert client.post(reverse("unsubscribe", args=[token]), {"all": "1"}).status_code == 200
    assert not consent_check(customer=customer, channel="email").valid


def test_a_customer_has_one_unsubscribe_link_however_much_later_it_is_made(client, monkeypatch):
    customer = factories.customer()
    in_the_footer = unsubscribe_url(customer)
    an_hour_later = time.time() + 3600
    with monkeypatch.context() as later:
        # Signing's clock moves on: a link carrying the time it was made would differ.
        later.setattr(signing, "time", SimpleNamespace(time=lambda: an_hour_later))
        in_the_header = unsubscribe_url(customer)
    assert in_the_header == in_the_footer  # footer and header always agree
    assert client.post(in_the_footer, {"all": "1"}).status_code == 200
    assert not consent_check(customer=customer, channel="email").valid


def test_a_link_sent_to_a_merged_record_unsubscribes_the_surviving_customer(client, supervisor):
    target, duplicate = factories.customer(), factories.customer()
    link = unsubscribe_url(duplicate)
    customer_merge(target=target, duplicate=duplicate, actor=supervisor.user)
    client.post(link, {"channels": ["email"]})
    assert ConsentRecord.objects.get().customer == target


def test_consent_report_shows_standing_reason_and_history(supervisor_client):
    customer = factories.customer(email="report@example.com")
    consent_record_inquiry(customer=customer, at=timezone.now() - timedelta(days=10), source="Kijiji Autos")
    page = supervisor_client.get(reverse("leads:customer_consent", args=[customer.pk])).content.decode()
    assert (
        "Implied: inquiry (six months)" in page
        and "Kijiji Autos" in page
        and "no consent recorded" in page.lower()
    )
    response = supervisor_client.post(
        reverse("leads:customer_consent_grant", args=[customer.pk]),
        {"channels": ["phone"], "basis": "express", "at": "2026-11-01 10:00", "source": "Phone call",
         "wording": "May we call you about offers?", "proof_form": "call recording 1234"},
    )  # fmt: skip
    assert response.status_code == 302
    assert consent_check(customer=customer, channel="phone").valid
    refused = supervisor_client.post(
        reverse("leads:customer_consent_grant", args=[customer.pk]),
        {"channels": ["text"], "basis": "express", "at": "2026-11-01 10:00", "source": "Showroom"},
    )
    assert "needs the wording" in refused.content.decode()


def test_customer_data_export_holds_everything(supervisor_client):
    customer = factories.customer(first_name="Léa", last_name="Morin")
    lead = factories.lead(customer_obj=customer)
    consent_record_inquiry(customer=customer, at=lead.received_at, source="Website")
    response = supervisor_client.get(reverse("leads:customer_export_json", args=[customer.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}.json"'
    data = json.loads(response.content)
    assert data["customer"]["last_name"] == "Morin"
    assert data["leads"][0]["id"] == lead.pk and data["leads"][0]["events"][0]["type"] == "created"
    assert data["consent"][0]["basis"] == "implied_inquiry"
    assert {"emails", "phones", "messages", "history", "tasks", "merges", "audit"} <= data.keys()


def test_customer_data_export_holds_each_leads_appointments_and_vehicles(supervisor_client):
    """Appointments (when, with whom, the notes taken) are the customer's data too; two leads
    received at the same moment each keep their own vehicles."""
    customer = factories.customer(first_name="Léa", last_name="Morin")
    received = timezone.now() - timedelta(days=2)
    civic, rav4 = (
        factories.lead(customer_obj=customer, received_at=received, vehicles=[{"make": make, "model": model}])
        for make, model in (("Honda", "Civic"), ("Toyota", "RAV4"))
    )
    appointment_book(
        lead=rav4, advisor=factories.advisor(), starts_at=factories.next_weekday_at(10), purpose="test_drive",
        now=timezone.now(), notes="Wants to bring her père along",
    )  # fmt: skip
    data = json.loads(
        supervisor_client.get(reverse("leads:customer_export_json", args=[customer.pk])).content
    )
    leads = {lead["id"]: lead for lead in data["leads"]}
    assert [v["model"] for v in leads[civic.pk]["vehicles"]] == ["Civic"] and leads[civic.pk][
        "appointments"
    ] == []
    assert [v["model"] for v in leads[rav4.pk]["vehicles"]] == ["RAV4"]
    assert [a["notes"] for a in leads[rav4.pk]["appointments"]] == ["Wants to bring her père along"]


def test_the_data_export_reads_as_many_times_for_one_lead_as_for_five(supervisor_client):
    customer = factories.customer()
    url = reverse("leads:customer_export_json", args=[customer.pk])

    def queries_made() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert supervisor_client.get(url).status_code == 200
        return len(queries)

    factories.lead(customer_obj=customer, vehicles=[{"make": "Honda", "model": "Civic"}])
    queries_made()  # the first page of a session reads what later ones find in the cache
    one = queries_made()
    for _ in range(4):
        factories.lead(customer_obj=customer, vehicles=[{"make": "Toyota", "model": "RAV4"}])
    assert queries_made() == one
