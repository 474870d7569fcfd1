"""Mail in and the settings pages (reply templates, mail rules, follow-up plans and tasks) in French
for a browser that asks for it; English otherwise, as before."""

import pytest
from django.urls import reverse

from dealership.models import Department
from leads.models import InboundStatus
from leads.services.mail import MAX_TRIES, InboundRetry, inbound_process
from tests import factories

pytestmark = pytest.mark.django_db

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en-CA,en;q=0.9"}
NBSP = "\u00a0"


def _page(client, url, headers=None, status=200) -> str:
    response = client.get(url, headers=headers or {})
    assert response.status_code == status
    return response.content.decode()


def _flash(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def _quarantined_mail():
    """Service mail while the service department has no forward address: it cannot be routed."""
    factories.department("service")
    Department.objects.filter(code="service").update(forward_email="")
    inbound = factories.inbound_mail(factories.raw_mail(subject="Oil change", body="I need an oil change and new brakes, can I book a service appointment?"), process=False)  # fmt: skip
    for _ in range(MAX_TRIES):
        try:
            inbound_process(inbound_id=inbound.pk)
        except InboundRetry:
            pass
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.QUARANTINED
    return inbound


# a. Mail in


def test_mail_in_list_in_french_for_a_french_browser_in_english_otherwise(supervisor_client):
    factories.inbound_mail(factories.raw_mail(subject="Price of the 2024 RAV4"))
    _quarantined_mail()
    url = reverse("leads:inbound_mail_list")
    page = _page(supervisor_client, url, FRENCH)
    for text in (
        "<title>Courriels reçus",
        '<h1 class="h3">Courriels reçus</h1>',
        f"maildir:///test/mailbox{NBSP}: pas encore lue",
        ">Tous</a>",
        ">Quarantaine <span",
        ">En attente <span",
        ">Laissés sans réponse</a>",
        "<th>Reçu</th><th>De</th><th>Objet</th><th>Type</th><th>Service</th><th>Langue</th><th>Règle</th>"
        "<th>Résultat</th>",
        "Nouvelle demande",
        '<span class="badge text-bg-danger">En quarantaine</span>',
    ):
        assert text in page, text
    assert "Not answered" not in page and "New lead" not in page
    assert "Aucun courriel." in _page(supervisor_client, url + "?status=ignored", FRENCH)
    for headers in (ENGLISH, {}):
        page = _page(supervisor_client, url, headers)
        for text in (
            '<h1 class="h3">Mail in</h1>',
            "maildir:///test/mailbox: not read yet",
            ">Not answered</a>",
            "<th>Received</th><th>From</th><th>Subject</th><th>Kind</th><th>Department</th><th>Language</th>"
            "<th>Rule</th><th>Result</th>",
            "New lead",
            '<span class="badge text-bg-danger">Quarantined</span>',
        ):
            assert text in page, text
        assert "Courriels reçus" not in page


def test_mail_in_detail_replay_and_its_refusal_in_french(supervisor_client):
    inbound = _quarantined_mail()
    url = reverse("leads:inbound_mail_detail", args=[inbound.pk])
    page = _page(supervisor_client, url, FRENCH)
    for text in (
        ">← Courriels reçus</a>",
        '<dt class="col-sm-4">De</dt>',
        '<dt class="col-sm-4">Taille</dt>',
        f"En quarantaine après {MAX_TRIES} tentatives",
        '<dt class="col-sm-4">Décidé par</dt>',
        ">Voir l’original</a>",
        '<button class="btn btn-primary" type="submit">Traiter de nouveau</button>',
        "Le traiter de nouveau (après avoir corrigé ce qui l’a arrêté).",
    ):
        assert text in page, text
    english = _page(supervisor_client, url)
    assert f"Quarantined after {MAX_TRIES} attempts" in english and ">Replay</button>" in english
    assert ">View original</a>" in english and "Traiter" not in english

    Department.objects.filter(code="service").update(forward_email="service@store.test")
    replay = reverse("leads:inbound_mail_replay", args=[inbound.pk])
    response = supervisor_client.post(replay, headers=FRENCH, follow=True)
    assert _flash(response) == "Le message a été remis en file d’attente pour être traité de nouveau."

    done = factories.inbound_mail()
    response = supervisor_client.post(
        reverse("leads:inbound_mail_replay", args=[done.pk]), headers=FRENCH, follow=True
    )
    assert _flash(response) == "Seuls les courriels en quarantaine peuvent être traités de nouveau."
    detail = _page(supervisor_client, reverse("leads:inbound_mail_detail", args=[done.pk]), FRENCH)
    assert "Traité" in detail and "Nouvelle demande" in detail and "demande de " in detail
    response = supervisor_client.post(reverse("leads:inbound_mail_replay", args=[done.pk]), follow=True)
    assert _flash(response) == "Only quarantined mail can be replayed."
