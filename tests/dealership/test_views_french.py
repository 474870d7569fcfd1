"""The manager's pages (dashboard, objectives, staff directory) and the refusal page in French for
a browser that asks for it; English otherwise, as before."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import translation

from dealership.models import Metric, Objective, Role
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, flash_text, page_text

pytestmark = pytest.mark.django_db


def _login(client, role):
    member = factories.staff(role)
    client.force_login(member.user)
    return member


DASHBOARD = "/store/dashboard/?period=month&date=2026-11-15"


def test_dashboard_in_french_for_a_french_browser(client):
    _login(client, Role.MANAGER)
    page = page_text(client, DASHBOARD, FRENCH)
    for text in (
        "<title>Tableau de bord",
        "Service Internet — novembre 2026",  # the heading, with the month in French
        "‹ octobre 2026",  # the period navigation
        "décembre 2026 ›",
        'aria-label="Période"',
        '<option value="month" selected>Mois</option>',  # the period choice
        '<option value="quarter">Trimestre</option>',
        'placeholder="Nom d’utilisateur"',
        ">Afficher</button>",
        ">Entonnoir</h2>",
        "obtiennent un rendez-vous",
        "(moyenne du secteur ≈ 33 %)",
        "Première réponse (minutes ouvrables, cible",
        "médiane",
        "90e centile",
        f"plus de 24{NBSP}h",  # a bar of the first-response chart
        "Contactées",  # a bar of the funnel
        ">Par source</h2>",
        ">Par personne</h2>",
        ">Par promotion</h2>",
        '<th class="text-end">Taux de présence</th>',  # table heads
        '<th class="text-end">Taux de conclusion</th>',
        "<th>Responsable</th>",
        "Aucune demande durant cette période.",
        "Rendez-vous par conseiller",
        '<th class="text-end">Clients absents</th>',
        "Aucun rendez-vous durant cette période.",
        "Selon le jour de la semaine de réception",
        "<td>lun</td>",  # the weekdays
        "Demandes par jour",
        "Télécharger en CSV",
        "Aucun objectif pour cette période.",
    ):
        assert text in page, text
    for english in (
        "Funnel",
        "By source",
        "November",
        "Show rate",
        "Download CSV",
        "No leads in this period",
    ):
        assert english not in page, english
    # What links and scripts read stays as it was; so do the CSV files' heads and weekdays.
    assert "export=funnel_source" in page and 'name="period"' in page
    response = client.get(f"{DASHBOARD}&export=response_weekday", headers=FRENCH)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "weekday" and rows[1][0] == "Mon"


def test_dashboard_in_english_for_an_english_browser_or_one_that_asks_for_nothing(client):
    _login(client, Role.MANAGER)
    for headers in (ENGLISH, {}):
        page = page_text(client, DASHBOARD, headers)
        for text in (
            "<title>Dashboard",
            "Internet department — November 2026",
            "‹ October 2026",
            '<option value="month" selected>Month</option>',
            ">Funnel</h2>",
            "over 24 h",
            '<th class="text-end">Show rate</th>',
            "<td>Mon</td>",
            "Download CSV",
        ):
            assert text in page, text
        assert "Tableau de bord" not in page and "novembre" not in page


def test_a_rate_keeps_its_percent_sign_on_its_line_in_both_languages(client):
    """ "33,3 %" in French, with the non-breaking space French typography puts before %: a narrow
    column never leaves the sign alone on the next line."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from leads.models import LeadStatus
    from leads.services.leads import lead_transition

    received = datetime(2026, 11, 10, 10, tzinfo=ZoneInfo("America/Toronto"))
    leads = [factories.lead(received_at=received) for _ in range(3)]
    lead_transition(lead=leads[0], to_status=LeadStatus.APPOINTMENT_SET)
    _login(client, Role.MANAGER)
    french = page_text(client, DASHBOARD, FRENCH)
    assert f'<div class="kpi">33,3{NBSP}%</div>' in french and "33,3 %" not in french
    assert f'<td class="text-end">33,3{NBSP}%</td>' in french  # the funnel tables
    english = page_text(client, DASHBOARD, ENGLISH)
    assert f'<div class="kpi">33.3{NBSP}%</div>' in english and "33.3 %" not in english


def test_week_and_quarter_labels_in_french(client):
    _login(client, Role.MANAGER)
    week = page_text(client, "/store/dashboard/?period=week&date=2026-11-04", FRENCH)
    assert "Semaine du 2 novembre 2026" in week and "Week of" not in week
    quarter = page_text(client, "/store/dashboard/?period=quarter&date=2026-11-04", FRENCH)
    assert "Service Internet — T4 2026" in quarter and "‹ T3 2026" in quarter
    assert "Week of November 2, 2026" in page_text(client, "/store/dashboard/?period=week&date=2026-11-04")
    assert "Q4 2026" in page_text(client, "/store/dashboard/?period=quarter&date=2026-11-04")


def test_an_advisor_reads_my_figures_in_french(client):
    _login(client, Role.ADVISOR)
    assert "Mes résultats — novembre 2026" in page_text(client, DASHBOARD, FRENCH)


def test_objectives_in_french_proposed_then_approved(client):
    supervisor = _login(client, Role.SUPERVISOR)
    form = page_text(client, reverse("dealership:objective_create"), FRENCH)
    for text in (
        "<title>Proposer un objectif",
        "Indicateur",
        "Un jour de la période",
        "Période",
        "Cible",
        "Service Internet (tout le monde)",
        "Rendez-vous fixés",  # the metrics
        "Délai médian de première réponse (minutes ouvrables)",
        ">Trimestre</option>",
        ">Proposer</button>",
    ):
        assert text in form, text
    assert "Metric" not in form and "Appointments set" not in form
    data = {"metric": Metric.APPOINTMENTS_SET, "period_kind": "month", "period_start": "2026-11-15"}
    refused = client.post(reverse("dealership:objective_create"), data | {"target": "-1"}, headers=FRENCH)
    assert "Une cible ne peut pas être négative." in refused.content.decode()
    response = client.post(
        reverse("dealership:objective_create"), data | {"target": "40"}, headers=FRENCH, follow=True
    )
    assert f"Objectif proposé{NBSP}; le directeur l’examinera." in response.content.decode()  # the flash
    page = page_text(client, "/store/objectives/?period=month&date=2026-11-15", FRENCH)
    for text in (
        "Objectifs — novembre 2026",
        "<th>Objectif</th>",
        "<th>Rythme</th>",
        '<th class="text-end">Réel</th>',
        "Rendez-vous fixés",
        "Service Internet",
        "<th>Progression</th>",
        ">Proposé</span>",
        "Objectifs antérieurs",
        "Aucun pour l’instant.",
    ):
        assert text in page, text
    later = page_text(client, "/store/objectives/?period=month&date=2027-01-15", FRENCH)
    assert f"Rendez-vous fixés — Service Internet, mois du 2026-11-01</a>{NBSP}: cible 40 (proposé)" in later
    again = client.post(reverse("dealership:objective_create"), data | {"target": "45"}, headers=FRENCH)
    assert (
        "Cet objectif est déjà proposé (Rendez-vous fixés — Service Internet, mois du"
        in again.content.decode()
    )
    objective = Objective.objects.get()
    with translation.override("en"):
        assert str(objective).startswith("Appointments set — Internet department, month of")

    _login(client, Role.MANAGER)
    assert ">Approuver</button>" in page_text(
        client, "/store/objectives/?period=month&date=2026-11-15", FRENCH
    )
    response = client.post(
        reverse("dealership:objective_decide", args=[objective.pk]),
        {"decision": "approved"},
        headers=FRENCH,
        follow=True,
    )
    assert "Objectif approuvé." in response.content.decode()
    # The same decision from a page left open: refused in French, naming both statuses.
    stale = client.post(
        reverse("dealership:objective_decide", args=[objective.pk]),
        {"decision": "rejected"},
        headers=FRENCH,
        follow=True,
    )
    assert (
        f"Un objectif à l’état «{NBSP}approuvé{NBSP}» ne peut pas passer à l’état «{NBSP}refusé{NBSP}»."
        in flash_text(stale)
    )
    # The proposal stays the supervisor's on the objective's history.
    assert objective.events.get(type="proposed").actor == supervisor.user
    english = client.get("/store/objectives/?period=month&date=2026-11-15").content.decode()
    assert "Objectives — November 2026" in english and ">Approved</span>" in english


def test_staff_directory_and_its_mail_in_french(client, django_capture_on_commit_callbacks, eager_celery):
    _login(client, Role.SUPERVISOR)
    factories.staff(Role.DEPARTMENT, department_code="parts", first_name="Omar", last_name="Haddad")
    page = page_text(client, reverse("dealership:directory"), FRENCH)
    for text in (
        "<title>Répertoire du personnel",
        "Envoyer le répertoire à tout le personnel",
        "<th>Nom</th><th>Rôle</th><th>Service</th><th>Courriel</th><th>Téléphone</th>",
        "Superviseur des ventes Internet",
        "Personnel d’un service",
    ):
        assert text in page, text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dealership:directory_send"), headers=FRENCH, follow=True)
    assert "Le répertoire du personnel est en cours d’envoi" in response.content.decode()
    message = mail.outbox[0]
    assert message.subject.startswith("Répertoire du personnel — ")
    assert message.body.startswith("Bonjour,") and "Voici le répertoire du personnel de" in message.body
    assert "Omar Haddad (Personnel d’un service)" in message.body
    again = client.post(reverse("dealership:directory_send"), headers=FRENCH, follow=True)
    assert "Le répertoire du personnel a déjà été envoyé à" in again.content.decode()


def test_staff_directory_mail_in_english_from_an_english_page(
    client, django_capture_on_commit_callbacks, eager_celery
):
    _login(client, Role.SUPERVISOR)
    page = page_text(client, reverse("dealership:directory"), ENGLISH)
    assert "Send the directory to all staff" in page and "<th>Role</th>" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dealership:directory_send"), headers=ENGLISH)
    message = mail.outbox[0]
    assert message.subject.endswith(" staff directory") and message.body.startswith("Hello,")
    assert "(Internet sales supervisor)" in message.body


def test_refusals_in_french(client):
    _login(client, Role.ADVISOR)
    refused = client.post(reverse("dealership:directory_send"), headers=FRENCH)
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "Page non accessible pour vous" in page and "Vous ne pouvez pas ouvrir cette page." in page
    refused = client.get(reverse("leads:replytemplate_list"), headers=FRENCH)
    assert refused.status_code == 403
    assert (
        "Seuls les superviseurs et les directeurs gèrent les modèles de réponse." in refused.content.decode()
    )
    english = client.get(reverse("leads:replytemplate_list"), headers=ENGLISH).content.decode()
    assert (
        "Not available to you" in english
        and "Only supervisors and managers manage reply templates." in english
    )


def test_no_staff_role_refusal_in_french(client):
    nobody = get_user_model().objects.create_user(username="newcomer", password=factories.PASSWORD)
    client.force_login(nobody)
    refused = client.get(reverse("inventory:index"), headers=FRENCH)
    assert refused.status_code == 403
    assert "Votre compte n’a aucun rôle dans le personnel de ce concessionnaire." in refused.content.decode()
    english = client.get(reverse("inventory:index"), headers=ENGLISH).content.decode()
    assert "Your account has no staff role at this store." in english
