"""The supervisor's workbench in French for a browser that asks for it (Accept-Language), or for a
person who chose it (set_language); English otherwise, as before."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from leads.models import LeadStatus
from leads.services.leads import lead_transition
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db


def _supervisor(client):
    member = factories.staff(Role.SUPERVISOR)
    client.force_login(member.user)
    return member.user


def test_inbox_in_french_for_a_french_browser_in_english_otherwise(client):
    _supervisor(client)
    factories.lead(
        received_at=timezone.now() - timedelta(minutes=5),
        customer_obj=factories.customer(first_name="Josée", last_name="Tremblay"),
    )
    page = page_text(client, "/leads/", FRENCH)
    for text in (
        "Demandes reçues",  # the heading
        "Ouvertes",  # the chips
        "Sans réponse",
        "En retard",
        "Client a réécrit",
        "Nouvelle",
        "Perdue",
        "Client</th>",  # column heads
        "Première réponse</th>",
        "Reçue</th>",
        "Responsable",
        "Tâches de relance",
        "Filtrer",
        "Plus récentes d’abord",
        "Tous les responsables",
        "en attente depuis",  # the clock
        "il y a ",
    ):
        assert text in page, text
    for english in ("Lead inbox", "Unanswered", "First answer", "waiting ", " ago", "Newest first"):
        assert english not in page, english
    # What htmx and tests read stays as it was.
    assert 'data-filter="unanswered"' in page and 'data-filter="overdue"' in page
    # An English browser, or one that asks for nothing, reads the page as before.
    for headers in (ENGLISH, {}):
        page = page_text(client, "/leads/", headers)
        for text in ("Lead inbox", "Unanswered", "First answer", "waiting ", " ago", "Newest first"):
            assert text in page, text
        assert "Demandes reçues" not in page


def test_inbox_refresh_in_french(client):
    _supervisor(client)
    factories.lead(received_at=timezone.now() - timedelta(minutes=5))
    page = page_text(client, "/leads/", {**FRENCH, "HX-Request": "true"})
    assert "en attente depuis" in page and "Ouvertes" in page


def test_a_customer_known_only_by_phone_is_named_by_it_as_the_lead_page_shows_it(client):
    _supervisor(client)
    lead = factories.lead(
        customer_obj=factories.customer(first_name="", last_name="", email="", phone="905 555 0100")
    )
    for headers in (FRENCH, ENGLISH):
        page = page_text(client, "/leads/", headers)
        assert f'<a href="/leads/{lead.pk}/" id="lead-link-{lead.pk}">(905) 555-0100</a>' in page and "+19055550100" not in page


def test_language_chosen_with_set_language_sticks(client):
    _supervisor(client)
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/leads/"}, headers=ENGLISH)
    assert response.status_code == 302 and response["Location"] == "/leads/"
    # The browser still asks for English: the choice wins, on this page and the next ones.
    assert "Demandes reçues" in page_text(client, "/leads/", ENGLISH)
    assert "Demandes reçues" in page_text(client, "/leads/?status=all", ENGLISH)
    client.post("/i18n/setlang/", {"language": "en", "next": "/leads/"})
    assert "Lead inbox" in page_text(client, "/leads/", FRENCH)


def _lead_with_history():
    lead = factories.lead(
        customer_obj=factories.customer(first_name="Josée", last_name="Tremblay", email="josee@example.test"),
        vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4"}],
    )
    lead.customer.preferred_channel = "phone"
    lead.customer.save(update_fields=["preferred_channel"])
    factories.inbound_email(lead=lead)
    return lead


def test_lead_page_in_french_for_a_french_browser_in_english_otherwise(client):
    _supervisor(client)
    lead = _lead_with_history()
    page = page_text(client, reverse("leads:lead_detail", args=[lead.pk]), FRENCH)
    for text in (
        "Moyen préféré",  # the customer card
        "<strong>téléphone</strong>",
        "Courriel commercial",
        "Responsable\u00a0:",
        "Véhicules",
        "Consigner un appel, un texto, une visite ou une note",  # the log form
        'placeholder="Prochaine étape"',
        "— résultat de l’appel —",
        "A parlé au client",
        ">Ajouter</button>",
        "Répondre par courriel",  # the composer
        ">Objet</label>",
        ">Envoyer</button>",
        "Aucun modèle",
        "Nouvel état",  # the status form
        "Changer l’état",
        "Perdue",
        "Conversation",  # the timeline
        f"Demande reçue (source{NBSP}: Site Web)",
        "du client",
        "en attente depuis",
    ):
        assert text in page, text
    for english in ("Prefers", "Log a call", "Answer by email", "Change status", "Lead received from"):
        assert english not in page, english
    page = page_text(client, reverse("leads:lead_detail", args=[lead.pk]))
    for text in (
        "Prefers <strong>phone</strong>",
        "Log a call, text, visit or note",
        "— call outcome —",
        "Answer by email",
        "Change status",
        "Lead received from Website",
        "from the customer",
    ):
        assert text in page, text


def test_logging_a_call_in_french_says_so_and_shows_the_outcome_in_french(client):
    _supervisor(client)
    lead = _lead_with_history()
    response = client.post(
        reverse("leads:lead_log", args=[lead.pk]),
        {"channel": "phone", "outcome": "reached", "notes": "Intéressée", "next_step": "Rappeler jeudi"},
        headers=FRENCH,
        follow=True,
    )
    page = response.content.decode()
    assert "Ajouté à la conversation." in page
    assert "Intéressée\n\nProchaine étape\u00a0: Rappeler jeudi" in page  # written as the supervisor reads
    # The call's outcome and channel in the timeline (the log form offers every one of them).
    timeline = page[page.index("timeline-message") :]
    assert "<strong>Appel</strong>" in timeline and "A parlé au client" in timeline
    # What is kept is the English text, whoever logged it: follow-up and reports look for it.
    assert lead.messages.get(channel="phone").subject == "Spoke with the customer"
    # A call logged without saying how it went: the error, in French.
    response = client.post(
        reverse("leads:lead_log", args=[lead.pk]), {"channel": "phone", "outcome": ""}, headers=FRENCH
    )
    assert response.status_code == 400
    assert "Dites comment l’appel s’est passé." in response.content.decode()


def test_status_change_refused_by_the_machine_explains_itself_in_french(client):
    _supervisor(client)
    from leads.services.leads import lead_transition

    lead = lead_transition(lead=_lead_with_history(), to_status="contacted")  # it cannot be marked shown
    response = client.post(
        reverse("leads:lead_transition", args=[lead.pk]),
        {"status": "appointment_set"},
        headers=FRENCH,
        follow=True,
    )
    assert "État changé." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == "appointment_set"
    # Lost without a reason: refused by the machine, in French.
    response = client.post(
        reverse("leads:lead_transition", args=[lead.pk]), {"status": "lost"}, headers=FRENCH, follow=True
    )
    page = response.content.decode()
    assert "Dites pourquoi la demande a été perdue." in page
    assert "État\u00a0: Contactée → Rendez-vous fixé" in page  # the timeline line of the change


def test_a_sale_asks_for_the_deal_signed_in_french(client):
    from leads.services.leads import lead_transition

    _supervisor(client)
    lead = lead_transition(lead=_lead_with_history(), to_status="contacted")
    page = page_text(client, reverse("leads:lead_detail", args=[lead.pk]), FRENCH)
    assert "L’entente est signée (pour Vendue)" in page
    response = client.post(
        reverse("leads:lead_transition", args=[lead.pk]), {"status": "sold"}, headers=FRENCH, follow=True
    )
    assert (
        "Cochez «\u00a0L’entente est signée\u00a0» pour marquer la demande vendue\u00a0: seul un superviseur"
        " ou un directeur peut annuler une vente." in response.content.decode()
    )


def test_transition_error_names_the_statuses_in_french():
    from django.utils import translation

    from leads.services.leads import TransitionError, lead_transition

    lead = factories.lead()
    with translation.override("fr"), pytest.raises(TransitionError) as refused:
        lead_transition(lead=lead, to_status="sold")
    assert (
        str(refused.value)
        == "Une demande à l’état «\u00a0nouvelle\u00a0» ne peut pas passer à l’état «\u00a0vendue\u00a0»."
    )
    with translation.override("en"), pytest.raises(TransitionError) as refused:
        lead_transition(lead=lead, to_status="sold")
    assert str(refused.value) == "A lead that is new cannot become sold."


def test_my_appointments_in_french_with_dates_in_french(client):
    from django.utils import translation
    from django.utils.formats import date_format

    from leads.services.appointments import appointment_book

    advisor = factories.advisor(first_name="Alex", last_name="Chen")
    lead = factories.lead(vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4"}])
    starts = factories.next_weekday_at(14)
    appointment_book(
        lead=lead,
        advisor=advisor,
        starts_at=starts,
        purpose="test_drive",
        now=timezone.now(),
        lead_vehicle=lead.vehicles.get(),
    )
    client.force_login(advisor.user)
    page = page_text(client, reverse("leads:my_appointments"), FRENCH)
    with translation.override("fr"):
        day = date_format(timezone.localtime(starts), "l j F")  # e.g. « mercredi 2 décembre »
    for text in (
        "Mes rendez-vous",
        "Aujourd’hui et la semaine à venir.",
        day,
        "14:00–14:30",
        "Essai routier",
        ">Prévu</span>",  # the status badge
        ">Annuler</button>",
        ">Déplacer</a>",
        "Véhicule\u00a0: 2026 Toyota RAV4",
        "Historique de la demande",
    ):
        assert text in page, text
    for english in (">My appointments</h1>", "Test drive", "2:00 PM", "Reschedule"):
        assert english not in page, english
    # Recording what came of it before it started: refused, and said in French.
    appointment = lead.appointments.get()
    response = client.post(
        reverse("leads:appointment_outcome", args=[appointment.pk]),
        {"outcome": "shown"},
        headers=FRENCH,
        follow=True,
    )
    assert "Le rendez-vous n’a pas encore commencé" in response.content.decode()
    # An English browser still reads English.
    page = page_text(client, reverse("leads:my_appointments"), ENGLISH)
    assert "My appointments" in page and "2:00 PM" in page and "Test drive" in page


def test_booking_page_in_french_and_a_taken_time_refused_in_french(client):
    _supervisor(client)
    advisor = factories.advisor(first_name="Alex", last_name="Chen")
    lead = factories.lead()
    starts = factories.next_weekday_at(10)
    url = reverse("leads:appointment_book", args=[lead.pk]) + f"?advisor={advisor.pk}&day={starts.date()}"
    page = page_text(client, url, FRENCH)
    for text in (
        "Prendre un rendez-vous pour",
        "Voir les heures libres",
        ">Réserver</button>",
        "Discussion d’achat",
    ):
        assert text in page, text
    booked = client.post(
        url,
        {"slot": starts.isoformat(), "duration": 30, "purpose": "test_drive"},
        headers=FRENCH,
        follow=True,
    )
    assert "Rendez-vous pris\u00a0: Essai routier avec Alex Chen" in booked.content.decode()
    again = client.post(
        url, {"slot": starts.isoformat(), "duration": 30, "purpose": "test_drive"}, headers=FRENCH
    )
    assert "Choisissez une des heures libres." in again.content.decode()


def test_calendar_in_french(client):
    _supervisor(client)
    factories.advisor(first_name="Alex", last_name="Chen")
    page = page_text(client, reverse("leads:appointment_calendar") + "?view=week", FRENCH)
    for text in ("semaine du", "Aujourd’hui", "Semaine", "Jour</th>", "← Précédent"):
        assert text in page, text


def test_login_page_in_french(client):
    page = page_text(client, "/login/", FRENCH)
    assert "— connexion</h1>" in page and ">Se connecter</button>" in page
    assert "Log in" not in page.split("<main", 1)[-1]
    assert ">Log in</button>" in page_text(client, "/login/", ENGLISH)


@pytest.mark.parametrize(
    ("customer_fields", "reply", "refusal"),
    [
        ({}, {"subject": "Votre\nRAV4", "body": "Bonjour"}, "Écrivez l’objet sur une seule ligne."),
        ({}, {"subject": "Votre RAV4", "body": "Bonjour {{ prenom }}"}, "À remplir ou à retirer\u00a0: {{ prenom }}."),
        (
            {"email": ""},
            {"subject": "Votre RAV4", "body": "Bonjour"},
            "Non envoyé\u00a0: aucune adresse courriel. Appelez ou textez plutôt le client.",
        ),
    ],
)
def test_a_refused_answer_says_why_in_french(client, customer_fields, reply, refusal):
    _supervisor(client)
    lead = factories.lead(customer_obj=factories.customer(**({"email": "josee@example.test"} | customer_fields)))
    response = client.post(
        reverse("leads:lead_reply", args=[lead.pk]), reply | {"language": "fr"}, headers=FRENCH
    )
    assert refusal in response.content.decode()
    assert not lead.messages.filter(direction="out").exists()


def test_the_owner_choice_and_a_second_number_read_in_french_on_the_lead_page(client):
    from leads.services.customers import customer_phone_add

    _supervisor(client)
    lead = _lead_with_history()
    customer_phone_add(customer=lead.customer, phone="647-555-0188")
    page = page_text(client, reverse("leads:lead_detail", args=[lead.pk]), FRENCH)
    assign_form = page.split('id="assign-form"')[1].split("</form>")[0]
    assert 'aria-label="Responsable"' in assign_form
    assert '<option value="">Non attribuée</option>' in assign_form
    assert "Responsable\u00a0: <span" in page and ">non attribuée</span>" in page
    assert "(647) 555-0188</a> (cellulaire)" in page


def test_a_sale_taken_back_reads_in_french_in_the_customers_audit_trail(client):
    supervisor = factories.staff(Role.SUPERVISOR).user
    client.force_login(supervisor)
    lead = lead_transition(lead=factories.lead(), to_status=LeadStatus.CONTACTED)
    lead = lead_transition(lead=lead, to_status=LeadStatus.SOLD)
    lead_transition(lead=lead, to_status=LeadStatus.LOST, actor=supervisor, reason="Refus", by_hand=True)
    page = client.get(reverse("leads:customer_audit", args=[lead.customer_id]), headers=FRENCH)
    audit = html.unescape(page.content.decode())
    assert "Retiré de l’historique" in audit
    assert "Achat\u00a0:" in audit and "Purchase:" not in audit
