"""A lead's appointment events, on its timeline and on the advisor's "My appointments" page, read as
sentences in the reader's language: who, when (a local date and time), what for; no codes, no ids.
So do the follow-up's events and the customer's arrivals (mail, website, offers)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from leads.models import Appointment, LeadEvent
from leads.services.appointments import appointment_book, appointment_transition
from leads.templatetags.lead_tags import EVENT_TITLES, event_summary
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db

BOOKED = {
    "appointment": 1,
    "advisor": "Alex Chen",
    "starts_at": "2026-12-02T10:00:00-05:00",
    "purpose": "test_drive",
}


def _summary(type, language, **params) -> str:
    with translation.override(language):
        return event_summary(LeadEvent(type=type, params=params))


def test_a_booked_appointment_reads_who_when_and_what_for():
    assert _summary("appointment_booked", "fr", **BOOKED) == (
        "Rendez-vous pris avec Alex Chen pour le 2 décembre 2026 10:00 (Essai routier)"
    )
    assert _summary("appointment_booked", "en", **BOOKED) == (
        "Appointment booked with Alex Chen for Dec. 2, 2026, 10 a.m. (Test drive)"
    )


def test_the_time_is_the_stores_whatever_the_offset_it_was_stored_with():
    utc = {**BOOKED, "starts_at": "2026-12-02T15:30:00+00:00", "purpose": "appraisal"}
    assert _summary("appointment_booked", "fr", **utc) == (
        "Rendez-vous pris avec Alex Chen pour le 2 décembre 2026 10:30 (Évaluation d’échange)"
    )
    assert _summary("appointment_booked", "en", **utc) == (
        "Appointment booked with Alex Chen for Dec. 2, 2026, 10:30 a.m. (Trade-in appraisal)"
    )


def test_a_moved_appointment_reads_its_new_time_and_advisor():
    moved = {"appointment": 1, "starts_at": "2026-12-03T14:00:00-05:00", "advisor": "Alex Chen"}
    assert _summary("appointment_rescheduled", "fr", **moved) == (
        "Rendez-vous déplacé au 3 décembre 2026 14:00, avec Alex Chen"
    )
    assert _summary("appointment_rescheduled", "en", **moved) == (
        "Appointment moved to Dec. 3, 2026, 2 p.m., with Alex Chen"
    )


def test_what_came_of_an_appointment_reads_without_its_id():
    expected = {
        "appointment_cancelled": ("Rendez-vous annulé", "Appointment cancelled"),
        "appointment_shown": ("Client venu au rendez-vous", "Customer came to the appointment"),
        "appointment_no_show": ("Client absent au rendez-vous", "Customer did not come to the appointment"),
        "appointment_sold": ("Vente conclue au rendez-vous", "Sold at the appointment"),
    }
    for type, (french, english) in expected.items():
        assert _summary(type, "fr", appointment=7) == french
        assert _summary(type, "en", appointment=7) == english


def test_an_odd_or_partial_appointment_event_still_reads():
    # Only the parts that are there; a time that cannot be read is left out, an unknown purpose shown as is.
    assert _summary("appointment_booked", "fr", appointment=1, starts_at="garbage", purpose="other") == (
        "Rendez-vous pris (other)"
    )
    assert _summary("appointment_booked", "en", appointment=1, advisor="Alex Chen") == (
        "Appointment booked with Alex Chen"
    )
    assert _summary("appointment_rescheduled", "en", appointment=1) == "Appointment rescheduled"


@pytest.mark.parametrize(
    ("type", "params", "french", "english"),
    [
        (
            "followup_started",
            {"plan": "Nouveau client", "plan_id": 3},
            "Plan de relance « Nouveau client » lancé",
            "Follow-up plan “Nouveau client” started",
        ),
        ("followup_sent", {"step": 12, "message": 345}, "Courriel de relance envoyé", "Follow-up email sent"),
        (
            "followup_stopped",
            {"plan": "Web", "reason": "customer_replied", "reason_label": "The customer replied", "detail": ""},
            "Plan de relance « Web » arrêté : le client a répondu",
            "Follow-up plan “Web” stopped: the customer replied",
        ),
        (
            "followup_task_done",
            {"step": 4, "note": "Message laissé"},
            "Tâche de relance faite : Message laissé",
            "Follow-up task done: Message laissé",
        ),
        (
            "customer_wrote",
            {"message": 81, "inbound_mail": 9, "source": "AutoTrader.ca", "vehicles": "2024 Toyota Tacoma"},
            "Le client a écrit par AutoTrader.ca au sujet de : 2024 Toyota Tacoma",
            "Customer wrote through AutoTrader.ca about 2024 Toyota Tacoma",
        ),
        ("customer_replied", {"message": 81, "inbound_mail": 9}, "Le client a répondu", "Customer replied"),
        (
            "acknowledged",
            {"message": 82},
            "Accusé de réception envoyé au client",
            "Acknowledgement sent to the customer",
        ),
        (
            "public_form",
            {"src": "leaflet-K7P2QX", "promotion": "K7P2QX"},
            "Envoyé depuis la page de l’offre K7P2QX (lien leaflet-K7P2QX)",
            "Sent from the page of offer K7P2QX (link leaflet-K7P2QX)",
        ),
        ("public_form", {"src": "", "promotion": ""}, "Envoyé depuis le site Web", "Sent from the website"),
        (
            "promotion_attributed",
            {"promotion": "K7P2QX", "how": "code quoted", "src": ""},
            "Attribué à l’offre K7P2QX : le client en a cité le code",
            "Credited to offer K7P2QX: the customer quoted its code",
        ),
    ],
)
def test_follow_up_and_arrival_events_read_as_sentences_without_ids(type, params, french, english):
    assert _summary(type, "fr", **params).replace(NBSP, " ") == french
    assert _summary(type, "en", **params) == english


def test_every_event_the_services_write_has_a_french_title():
    # The events read by the generic line (a title and its details): each has its own title in French.
    for type in (
        "acknowledged",
        "customer_replied",
        "customer_wrote",
        "followup_completed",
        "followup_sent",
        "followup_started",
        "followup_stopped",
        "followup_task_done",
        "promotion_attributed",
        "public_form",
        "unsubscribed",
        "appointment_cancelled",
        "appointment_shown",
        "appointment_no_show",
        "appointment_sold",
    ):
        assert type in EVENT_TITLES, type
        with translation.override("en"):
            english = str(EVENT_TITLES[type])
        with translation.override("fr"):
            assert str(EVENT_TITLES[type]) not in ("", english), type


@pytest.fixture
def advisor(db):
    return factories.advisor(first_name="Alex", last_name="Chen")


def _booked(advisor, hour=10) -> Appointment:
    return appointment_book(
        lead=factories.lead(),
        advisor=advisor,
        starts_at=factories.next_weekday_at(hour),
        purpose="test_drive",
        now=timezone.now(),
    )


def _when(moment, language) -> str:
    with translation.override(language):
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def test_the_lead_page_reads_its_appointment_events_in_french_and_english(supervisor_client, advisor):
    appointment = _booked(advisor)
    appointment_transition(appointment=appointment, to_status="cancelled", now=timezone.now())
    url = reverse("leads:lead_detail", args=[appointment.lead.pk])

    page = page_text(supervisor_client, url, FRENCH)
    when = _when(appointment.starts_at, "fr")
    assert f"Rendez-vous pris avec Alex Chen pour le {when} (Essai routier)" in page
    assert "Rendez-vous annulé</strong>" in page
    for raw in ("Appointment cancelled", "rendez-vous:", "rendez-vous\u00a0:", "test_drive", "purpose"):
        assert raw not in page, raw
    assert appointment.starts_at.isoformat() not in page

    page = page_text(supervisor_client, url, ENGLISH)
    when = _when(appointment.starts_at, "en")
    assert f"Appointment booked with Alex Chen for {when} (Test drive)" in page
    assert "Appointment cancelled</strong>" in page
    assert "appointment:" not in page and "test_drive" not in page


def test_the_lead_history_on_my_appointments_reads_as_sentences(client, advisor):
    appointment = _booked(advisor, hour=11)
    appointment.lead.events.create(type="first_response", params={"channel": "phone", "business_minutes": 12})
    client.force_login(advisor.user)
    url = reverse("leads:my_appointments")

    page = page_text(client, url, FRENCH)
    assert "Rendez-vous pris avec Alex Chen pour le" in page
    assert "Première réponse" in page
    for raw in ("appointment_booked", "status_changed", "first_response", "created ·"):
        assert raw not in page, raw

    page = page_text(client, url, ENGLISH)
    assert "Appointment booked with Alex Chen for" in page
    assert "Lead received from" in page
    for raw in ("appointment_booked", "status_changed", "first_response"):
        assert raw not in page, raw


def test_a_past_outcome_reads_in_the_history(client, advisor):
    appointment = _booked(advisor, hour=11)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    appointment.refresh_from_db()
    appointment_transition(appointment=appointment, to_status="no_show", now=timezone.now())
    url = reverse("leads:lead_detail", args=[appointment.lead.pk])
    client.force_login(factories.staff("supervisor").user)
    assert "Client absent au rendez-vous</strong>" in page_text(client, url, FRENCH)
    assert "Customer did not come to the appointment</strong>" in page_text(client, url, ENGLISH)


def test_an_assignment_reads_who_the_lead_went_to_and_from_whom():
    assigned = {"owner": "Marc Roy", "previous_owner": ""}
    reassigned = {"owner": "Lina Haddad", "previous_owner": "Marc Roy"}
    unassigned = {"owner": "", "previous_owner": "Lina Haddad"}
    assert _summary("assigned", "en", **assigned) == "Assigned to Marc Roy"
    assert _summary("assigned", "en", **reassigned) == "Reassigned from Marc Roy to Lina Haddad"
    assert _summary("assigned", "en", **unassigned) == "No longer assigned to Lina Haddad"
    # In French too, a sentence with the names: never the stored keys.
    for params in (assigned, reassigned, unassigned):
        french = _summary("assigned", "fr", **params)
        assert all(name in french for name in params.values() if name), french
        assert "owner" not in french and "Assigned (" not in french, french
