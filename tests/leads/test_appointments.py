"""Booking with advisors: free slots, no double-booking, outcomes feeding the lead, invitations."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from leads.appointment_forms import BookingForm
from leads.models import Appointment, AppointmentNotice, LeadStatus
from leads.selectors.appointments import (
    advisor_agenda,
    advisor_free_slots,
    advisor_free_until,
    appointment_calendar,
    appointment_visible_to,
    appointments_unrecorded,
    slots_fitting,
)
from leads.services.appointments import (
    BookingError,
    appointment_book,
    appointment_ics,
    appointment_notices_send,
    appointment_reminders_due,
    appointment_reschedule,
    appointment_transition,
)
from leads.services.leads import lead_transition
from leads.threading import reply_address
from tests import factories

TORONTO = ZoneInfo("America/Toronto")
MONDAY = date(2026, 3, 16)
BEFORE = datetime(2026, 3, 13, 12, 0, tzinfo=TORONTO)  # the Friday before


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TORONTO)


def book(lead, advisor, starts_at, now=BEFORE, **fields):
    fields.setdefault("purpose", Appointment.Purpose.TEST_DRIVE)
    return appointment_book(lead=lead, advisor=advisor, starts_at=starts_at, now=now, **fields)


@pytest.fixture
def advisor(db):
    return factories.advisor(first_name="Alex", last_name="Chen")


def test_free_slots_are_the_advisors_half_hours_minus_what_is_booked(advisor):
    book(factories.lead(), advisor, at(MONDAY, 10, 0), duration=timedelta(hours=1))
    slots = [
        slot.astimezone(TORONTO).time().strftime("%H:%M")
        for slot in advisor_free_slots(advisor=advisor, day=MONDAY, now=BEFORE)
    ]
    assert slots[:4] == ["09:00", "09:30", "11:00", "11:30"]
    assert slots[-1] == "17:30" and len(slots) == 16
    assert advisor_free_slots(advisor=advisor, day=MONDAY + timedelta(days=6), now=BEFORE) == []  # Sunday off
    # Past slots are not offered.
    assert advisor_free_slots(advisor=advisor, day=MONDAY, now=at(MONDAY, 17, 10)) == [at(MONDAY, 17, 30)]


def test_free_times_to_move_a_long_appointment_fit_its_length_around_the_others(advisor):
    long = book(factories.lead(), advisor, at(MONDAY, 10, 0), duration=timedelta(minutes=90))
    book(factories.lead(), advisor, at(MONDAY, 14, 0))  # someone else's, 14:00–14:30
    slots = [
        slot.astimezone(TORONTO).strftime("%H:%M")
        for slot in advisor_free_slots(
            advisor=advisor, day=MONDAY, now=BEFORE, length=timedelta(minutes=90), exclude=long.pk
        )
    ]
    # Its own time and the times next to it are free for it; 90 minutes fit before 18:00 only
    # from 16:30; none of them runs into 14:00–14:30.
    assert slots[:5] == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert "13:00" not in slots and "13:30" not in slots and "14:00" not in slots
    assert "12:30" in slots and "14:30" in slots
    assert slots[-1] == "16:30"


def test_booking_sets_the_lead_and_records_the_event(advisor):
    supervisor = factories.staff("supervisor").user
    lead = factories.lead(vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4"}])
    appointment = book(lead, advisor, at(MONDAY, 14, 0), actor=supervisor, lead_vehicle=lead.vehicles.get())
    lead.refresh_from_db()
    assert lead.status == LeadStatus.APPOINTMENT_SET
    assert lead.events.filter(type="appointment_booked").exists()
    assert appointment.events.get().type == "booked"
    assert appointment.vehicle == "2026 Toyota RAV4"  # no text typed: the lead's vehicle


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (at(MONDAY, 10, 30), "already has an appointment"),  # overlaps 10:00–11:00
        (at(MONDAY, 9, 45), "free at 09:45 only until 10:00"),  # ends inside it
        (at(MONDAY, 18, 0), "does not work"),  # after hours
        (at(MONDAY + timedelta(days=6), 10), "does not work"),  # Sunday
        (at(MONDAY - timedelta(days=7), 10), "has passed"),
    ],
)
def test_double_booking_and_impossible_times_are_refused(advisor, starts_at, message):
    book(factories.lead(), advisor, at(MONDAY, 10, 0), duration=timedelta(hours=1))
    lead = factories.lead()
    with pytest.raises(BookingError, match=message):
        book(lead, advisor, starts_at)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW  # nothing half-done
    assert Appointment.objects.count() == 1


def test_a_cancelled_appointment_frees_the_time(advisor):
    first = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    appointment_transition(appointment=first, to_status=Appointment.Status.CANCELLED, now=BEFORE)
    second = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    booked = Appointment.objects.filter(
        advisor=advisor, starts_at=at(MONDAY, 10, 0), status=Appointment.Status.BOOKED
    )
    assert list(booked) == [second]


@pytest.mark.parametrize("outcome", [Appointment.Status.CANCELLED, Appointment.Status.SHOWN])
def test_an_outcome_recorded_twice_at_once_is_recorded_once_and_refuses_nothing(advisor, outcome):
    """The advisor and the supervisor both record it, one just after the other: the second finds it
    done, as they wanted, and nothing is recorded or sent again."""
    appointment = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    now = BEFORE if outcome == Appointment.Status.CANCELLED else at(MONDAY, 11, 0)
    appointment_transition(appointment=appointment, to_status=outcome, now=now)
    events = list(appointment.events.values_list("type", flat=True))
    timeline = appointment.lead.events.count()

    again = appointment_transition(appointment=appointment, to_status=outcome, now=now)
    assert again.status == outcome
    assert list(appointment.events.values_list("type", flat=True)) == events
    assert appointment.lead.events.count() == timeline
    assert (
        again.sequence
        == Appointment.objects.get(pk=appointment.pk).sequence
        == appointment.sequence + (outcome == Appointment.Status.CANCELLED)
    )


@pytest.mark.parametrize(
    ("outcome", "lead_status"),
    [
        (Appointment.Status.SHOWN, LeadStatus.SHOWN),
        (Appointment.Status.SOLD, LeadStatus.SOLD),
        (Appointment.Status.NO_SHOW, LeadStatus.CONTACTED),
        (Appointment.Status.CANCELLED, LeadStatus.CONTACTED),
    ],
)
def test_the_outcome_feeds_the_lead_status(advisor, outcome, lead_status):
    advisor_user = advisor.user
    appointment = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    appointment_transition(
        appointment=appointment, to_status=outcome, now=at(MONDAY, 10, 40), actor=advisor_user
    )
    appointment.refresh_from_db()
    appointment.lead.refresh_from_db()
    assert appointment.status == outcome
    assert appointment.lead.status == lead_status
    assert appointment.events.last().type == outcome
    # Another outcome is refused once one is recorded.
    other = Appointment.Status.SHOWN if outcome == Appointment.Status.NO_SHOW else Appointment.Status.NO_SHOW
    with pytest.raises(BookingError):
        appointment_transition(appointment=appointment, to_status=other, now=BEFORE)


def sold_lead():
    lead = factories.lead()
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    return lead_transition(lead=lead, to_status=LeadStatus.SOLD)


@pytest.mark.parametrize(
    "outcome", [Appointment.Status.SHOWN, Appointment.Status.NO_SHOW, Appointment.Status.SOLD]
)
def test_a_delivery_for_a_sold_lead_is_booked_and_recorded_and_the_lead_stays_sold(advisor, outcome):
    lead = sold_lead()
    appointment = book(lead, advisor, at(MONDAY, 10, 0), purpose=Appointment.Purpose.DELIVERY)
    lead.refresh_from_db()
    assert (appointment.status, lead.status) == (Appointment.Status.BOOKED, LeadStatus.SOLD)
    appointment_transition(appointment=appointment, to_status=outcome, now=at(MONDAY, 10, 30))
    appointment.refresh_from_db()
    lead.refresh_from_db()
    assert (appointment.status, lead.status) == (outcome, LeadStatus.SOLD)
    assert not lead.events.filter(type="status_changed", params__from_status=LeadStatus.SOLD).exists()


def test_no_appointment_for_a_lost_lead_and_the_refusal_says_what_to_do(advisor):
    lead = factories.lead()
    lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    with pytest.raises(BookingError, match="This lead is lost: set it back to contacted before booking"):
        book(lead, advisor, at(MONDAY, 10, 0))
    assert not Appointment.objects.exists()


def test_one_customer_is_not_booked_twice_at_once_with_two_advisors(advisor):
    other = factories.advisor(first_name="Sam", last_name="Lee")
    customer = factories.customer()
    first = book(
        factories.lead(customer_obj=customer), advisor, at(MONDAY, 10, 0), duration=timedelta(hours=1)
    )
    second_lead = factories.lead(customer_obj=customer)
    with pytest.raises(BookingError) as refused:
        book(second_lead, other, at(MONDAY, 10, 30))
    assert str(refused.value) == (
        f"{customer} already has an appointment with Alex Chen at 2026-03-16 10:00 that overlaps this time."
    )
    later = book(second_lead, other, at(MONDAY, 11, 0))  # right after: no overlap
    with pytest.raises(BookingError, match="already has an appointment with Alex Chen"):
        appointment_reschedule(appointment=later, starts_at=at(MONDAY, 10, 30), now=BEFORE)
    appointment_transition(appointment=first, to_status=Appointment.Status.CANCELLED, now=BEFORE)
    assert (
        appointment_reschedule(appointment=later, starts_at=at(MONDAY, 10, 30), now=BEFORE).advisor == other
    )


def test_rescheduling_keeps_the_invitation_and_refuses_a_taken_time(advisor):
    appointment = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    book(factories.lead(), advisor, at(MONDAY, 15, 0))
    with pytest.raises(BookingError):
        appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 15, 0), now=BEFORE)
    moved = appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 10, 30), now=BEFORE)
    assert (moved.uid, moved.sequence) == (appointment.uid, 1)
    assert moved.lead.status == LeadStatus.APPOINTMENT_SET
    assert moved.events.last().type == "rescheduled"


def _event_of(ics: bytes):
    calendar = icalendar.Calendar.from_ical(ics)
    return calendar, next(iter(calendar.walk("VEVENT")))


def test_the_invitation_keeps_the_wall_clock_across_the_daylight_saving_change(advisor):
    # Booked in October (EDT, UTC-4) for the Monday after the change back to EST (UTC-5).
    booked_on = datetime(2026, 10, 20, 11, 0, tzinfo=TORONTO)
    appointment = book(factories.lead(), advisor, datetime(2026, 11, 2, 10, 0, tzinfo=TORONTO), now=booked_on)
    calendar, event = _event_of(appointment_ics(appointment=appointment))
    assert calendar["METHOD"] == "REQUEST"
    start = event.decoded("DTSTART")
    assert event["DTSTART"].params["TZID"] == "America/Toronto"
    assert (start.hour, start.minute) == (10, 0)
    assert start.astimezone(ZoneInfo("UTC")).hour == 15  # EST, not EDT
    assert event.decoded("DTEND") - start == timedelta(minutes=30)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Toronto"]
    # Accept and Decline go to the organizer: the lead's reply address brings them to the lead.
    assert str(event["ORGANIZER"]) == f"mailto:{reply_address(appointment.lead_id)}"
    uid = str(event["UID"])

    moved = appointment_reschedule(
        appointment=appointment, starts_at=datetime(2026, 11, 2, 11, 0, tzinfo=TORONTO), now=booked_on
    )
    _, event = _event_of(appointment_ics(appointment=moved))
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (uid, 1)
    assert event.decoded("DTSTART").astimezone(ZoneInfo("UTC")).hour == 16

    cancelled = appointment_transition(
        appointment=moved, to_status=Appointment.Status.CANCELLED, now=booked_on
    )
    calendar, event = _event_of(appointment_ics(appointment=cancelled, cancelled=True))
    assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (uid, 2)


def test_confirmations_go_once_to_the_customer_in_french_and_to_the_advisor(advisor):
    customer = factories.customer(language="fr", first_name="Olivier")
    lead = factories.lead(customer_obj=customer, language="fr")
    appointment = book(lead, advisor, at(MONDAY, 10, 0))
    kind = AppointmentNotice.Kind.INVITATION
    assert appointment_notices_send(appointment_id=appointment.pk, kind=kind, sequence=0) == 2
    assert appointment_notices_send(appointment_id=appointment.pk, kind=kind, sequence=0) == 0
    to_customer, to_advisor = mail.outbox
    assert to_customer.to == [customer.email] and to_customer.subject.startswith("Votre rendez-vous")
    assert "lundi 16 mars" in to_customer.body and "essai routier" in to_customer.body
    assert to_advisor.to == [advisor.email] and str(customer) in to_advisor.subject
    filename, content, mimetype = to_customer.attachments[0]
    assert filename == "invite.ics" and mimetype.startswith("text/calendar")
    assert "METHOD:REQUEST" in content
    assert lead.messages.filter(subject=to_customer.subject).exists()
    # The advisor's calendar entry says who is coming; the customer's says where.
    _, advisor_event = _event_of(to_advisor.attachments[0][1].encode())
    _, customer_event = _event_of(content.encode())
    assert str(customer) in str(advisor_event["SUMMARY"]) and customer.email in str(
        advisor_event["DESCRIPTION"]
    )
    assert str(customer) not in str(customer_event["SUMMARY"])
    # A stale task for an older version sends nothing.
    appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 11, 0), now=BEFORE)
    assert appointment_notices_send(appointment_id=appointment.pk, kind=kind, sequence=0) == 0
    # The new version says it is a new time.
    mail.outbox.clear()
    assert appointment_notices_send(appointment_id=appointment.pk, kind=kind, sequence=1) == 2
    assert mail.outbox[0].subject.startswith("Nouvelle heure pour votre rendez-vous")
    assert "l'invitation jointe remplace la précédente" in mail.outbox[0].body


def test_a_notice_interrupted_mid_send_is_not_sent_again(advisor):
    appointment = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    AppointmentNotice.objects.create(
        appointment=appointment, kind="invitation", sequence=0, recipient="customer", status="sending"
    )
    assert appointment_notices_send(appointment_id=appointment.pk, kind="invitation", sequence=0) == 1
    assert [message.to for message in mail.outbox] == [[advisor.email]]
    assert AppointmentNotice.objects.get(recipient="customer").status == AppointmentNotice.Status.NEEDS_REVIEW


def test_the_reminder_goes_the_day_before_once(advisor):
    appointment = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    Appointment.objects.filter(pk=appointment.pk).update(created_at=BEFORE, updated_at=BEFORE)
    sunday = MONDAY - timedelta(days=1)
    assert appointment_reminders_due(now=at(sunday, 8, 0)) == []  # too early in the day
    assert appointment_reminders_due(now=at(sunday - timedelta(days=1), 12, 0)) == []  # two days before
    assert appointment_reminders_due(now=at(sunday, 9, 30)) == [(appointment.pk, 0)]
    appointment_notices_send(appointment_id=appointment.pk, kind="reminder", sequence=0)
    assert mail.outbox[0].subject.startswith("Reminder")
    assert appointment_reminders_due(now=at(sunday, 9, 35)) == []


def test_no_reminder_for_an_appointment_booked_or_moved_the_day_before(advisor):
    sunday = MONDAY - timedelta(days=1)
    booked = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    Appointment.objects.filter(pk=booked.pk).update(
        created_at=at(sunday, 8, 30), updated_at=at(sunday, 8, 30)
    )
    moved = book(factories.lead(), advisor, at(MONDAY, 14, 0))
    Appointment.objects.filter(pk=moved.pk).update(
        created_at=BEFORE, updated_at=at(sunday, 11, 0), sequence=1
    )
    assert appointment_reminders_due(now=at(sunday, 12, 0)) == []  # their confirmation is fresh


def test_no_reminder_for_the_appointment_of_a_lost_lead(advisor):
    appointment = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    Appointment.objects.filter(pk=appointment.pk).update(created_at=BEFORE, updated_at=BEFORE)
    lead_transition(lead=appointment.lead, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    assert appointment_reminders_due(now=at(MONDAY - timedelta(days=1), 9, 30)) == []


def test_losing_the_lead_cancels_its_appointments_to_come_and_tells_customer_and_advisor(
    advisor, eager_celery, django_capture_on_commit_callbacks
):
    lead = factories.lead()
    coming = book(lead, advisor, factories.next_weekday_at(10), now=timezone.now())
    started = book(lead, advisor, factories.next_weekday_at(14), now=timezone.now())
    Appointment.objects.filter(pk=started.pk).update(
        starts_at=timezone.now() - timedelta(minutes=10), ends_at=timezone.now() + timedelta(minutes=20)
    )
    supervisor = factories.staff("supervisor").user
    with django_capture_on_commit_callbacks(execute=True):
        lost = lead_transition(
            lead=lead, to_status=LeadStatus.LOST, actor=supervisor, reason="Bought elsewhere"
        )
    assert lost.appointments_cancelled == 1
    coming.refresh_from_db()
    started.refresh_from_db()
    assert (coming.status, started.status) == (Appointment.Status.CANCELLED, Appointment.Status.BOOKED)
    assert coming.events.last().type == "cancelled"
    assert lead.events.filter(type="appointment_cancelled", params__appointment=coming.pk).exists()
    assert sorted(message.to[0] for message in mail.outbox) == sorted([lead.customer.email, advisor.email])
    assert all(message.subject.startswith("Cancelled") for message in mail.outbox)
    assert coming.starts_at in advisor_free_slots(
        advisor=advisor, day=timezone.localdate(coming.starts_at), now=BEFORE
    )
    # The one under way keeps its outcome to record, and recording it leaves the lead lost.
    appointment_transition(appointment=started, to_status=Appointment.Status.NO_SHOW, now=timezone.now())
    lead.refresh_from_db()
    assert lead.status == LeadStatus.LOST


def test_a_lead_lost_before_its_appointment_came_has_no_appointment_set(advisor):
    """Called off with the lead, the appointment never came: as for a lead back to contacted, the
    funnel and the "appointments set" objective stop counting it. One that came stays counted."""
    called_off = factories.lead()
    book(called_off, advisor, factories.next_weekday_at(10), now=timezone.now())
    came = factories.lead()
    started = book(came, advisor, factories.next_weekday_at(14), now=timezone.now())
    Appointment.objects.filter(pk=started.pk).update(
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() - timedelta(minutes=30)
    )
    appointment_transition(appointment=started, to_status=Appointment.Status.NO_SHOW, now=timezone.now())
    for lead in (called_off, came):
        lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="Bought elsewhere")
        lead.refresh_from_db()
    assert (called_off.status, called_off.appointment_set_at) == (LeadStatus.LOST, None)
    assert came.appointment_set_at is not None


def test_a_lost_customer_who_comes_in_and_buys_after_all_counts_as_sold(advisor):
    lead = factories.lead()
    started = book(lead, advisor, factories.next_weekday_at(14), now=timezone.now())
    Appointment.objects.filter(pk=started.pk).update(
        starts_at=timezone.now() - timedelta(minutes=10), ends_at=timezone.now() + timedelta(minutes=20)
    )
    lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="No answer")
    appointment_transition(appointment=started, to_status=Appointment.Status.SOLD, now=timezone.now())
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD
    assert lead.sold_at is not None and lead.shown_at is not None  # the dashboard counts the visit and sale


def status_steps(lead) -> list[tuple[str, str]]:
    """The lead's timeline of status changes, oldest first."""
    return [
        (event.params["from_status"], event.params["to_status"])
        for event in lead.events.filter(type="status_changed").order_by("created_at", "pk")
    ]


def test_the_second_appointment_of_a_lead_that_showed_gets_its_no_show(advisor):
    lead = factories.lead()
    first, second = book(lead, advisor, at(MONDAY, 10, 0)), book(lead, advisor, at(MONDAY, 13, 0))
    appointment_transition(
        appointment=first, to_status=Appointment.Status.SHOWN, now=at(MONDAY, 10, 40), actor=advisor.user
    )
    appointment_transition(
        appointment=second, to_status=Appointment.Status.NO_SHOW, now=at(MONDAY, 13, 40), actor=advisor.user
    )
    second.refresh_from_db()
    lead.refresh_from_db()
    assert second.status == Appointment.Status.NO_SHOW
    assert lead.status == LeadStatus.SHOWN  # the visit that happened still counts
    assert status_steps(lead) == [
        (LeadStatus.NEW, LeadStatus.CONTACTED),  # booking it answered the customer
        (LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_SET),
        (LeadStatus.APPOINTMENT_SET, LeadStatus.SHOWN),
    ]
    assert lead.events.filter(type="appointment_no_show", params__appointment=second.pk).exists()


@pytest.mark.parametrize(
    ("outcome", "lead_status", "steps"),
    [
        (Appointment.Status.SHOWN, LeadStatus.SHOWN, [LeadStatus.SHOWN]),
        (Appointment.Status.SOLD, LeadStatus.SOLD, [LeadStatus.SHOWN, LeadStatus.SOLD]),
        (Appointment.Status.NO_SHOW, LeadStatus.CONTACTED, [LeadStatus.CONTACTED]),
    ],
)
def test_a_no_show_leaves_the_lead_set_while_another_appointment_is_booked(
    advisor, outcome, lead_status, steps
):
    lead = factories.lead()
    first, second = book(lead, advisor, at(MONDAY, 10, 0)), book(lead, advisor, at(MONDAY, 13, 0))
    appointment_transition(appointment=first, to_status=Appointment.Status.NO_SHOW, now=at(MONDAY, 10, 40))
    lead.refresh_from_db()
    assert lead.status == LeadStatus.APPOINTMENT_SET  # the 13:00 is still to come
    appointment_transition(appointment=second, to_status=outcome, now=at(MONDAY, 13, 40))
    second.refresh_from_db()
    lead.refresh_from_db()
    assert (second.status, lead.status) == (outcome, lead_status)
    # The last one missed takes the lead back to contacted; a visit or a sale moves it forward.
    path = [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_SET, *steps]
    assert status_steps(lead) == list(zip(path, path[1:], strict=False))


@pytest.mark.parametrize(
    ("outcome", "steps"),
    [
        (Appointment.Status.SHOWN, [LeadStatus.APPOINTMENT_SET, LeadStatus.SHOWN]),
        (Appointment.Status.SOLD, [LeadStatus.APPOINTMENT_SET, LeadStatus.SHOWN, LeadStatus.SOLD]),
    ],
)
def test_a_visit_to_a_lead_set_back_to_contacted_counts_through_its_appointment(advisor, outcome, steps):
    lead = factories.lead()
    appointment = book(lead, advisor, at(MONDAY, 10, 0))
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)  # a person set it back by hand
    appointment_transition(appointment=appointment, to_status=outcome, now=at(MONDAY, 10, 40))
    appointment.refresh_from_db()
    lead.refresh_from_db()
    assert (appointment.status, lead.status) == (outcome, steps[-1])
    assert lead.appointment_set_at is not None and lead.shown_at is not None
    path = [LeadStatus.CONTACTED, *steps]
    assert status_steps(lead)[3:] == list(zip(path, path[1:], strict=False))


def test_each_advisor_sees_only_their_own_week(advisor):
    other = factories.advisor()
    mine = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    book(factories.lead(), other, at(MONDAY, 10, 0))
    later = book(factories.lead(), advisor, at(MONDAY + timedelta(days=9), 10, 0))  # beyond the week
    agenda = advisor_agenda(user=advisor.user, now=at(MONDAY, 8, 0))
    assert (agenda.unrecorded, agenda.days) == ([], [(MONDAY, [mine])])
    assert set(appointment_visible_to(user=advisor.user)) == {mine, later}
    manager = factories.staff("manager").user
    grid = appointment_calendar(user=manager, day=MONDAY, week=False)
    ten = dict(grid.rows)[at(MONDAY, 10).time()]
    assert sum(len(cell) for cell in ten) == 2
    assert (grid.start, grid.previous, grid.next) == (
        MONDAY,
        MONDAY - timedelta(days=1),
        MONDAY + timedelta(days=1),
    )
    week = appointment_calendar(user=manager, day=MONDAY + timedelta(days=2), week=True)  # a Wednesday
    assert len(week.rows) == 7
    assert (week.start, week.previous, week.next) == (
        MONDAY,
        MONDAY - timedelta(days=7),
        MONDAY + timedelta(days=7),
    )


def test_an_appointment_whose_outcome_nobody_recorded_stays_on_the_advisors_page_for_a_month(advisor):
    forgotten = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    recorded = book(factories.lead(), advisor, at(MONDAY, 11, 0))
    cancelled = book(factories.lead(), advisor, at(MONDAY, 12, 0))
    theirs = book(factories.lead(), factories.advisor(), at(MONDAY, 10, 0))
    appointment_transition(appointment=recorded, to_status=Appointment.Status.SHOWN, now=at(MONDAY, 11, 5))
    appointment_transition(appointment=cancelled, to_status=Appointment.Status.CANCELLED, now=BEFORE)
    today = book(factories.lead(), advisor, at(MONDAY + timedelta(days=1), 9, 0))

    tuesday = advisor_agenda(user=advisor.user, now=at(MONDAY + timedelta(days=1), 9, 30))
    assert tuesday.unrecorded == [forgotten]
    assert tuesday.days == [(MONDAY + timedelta(days=1), [today])]  # today's, under way, is in the day
    assert advisor_agenda(user=advisor.user, now=at(MONDAY + timedelta(days=29), 9)).unrecorded == [
        forgotten,
        today,
    ]
    assert advisor_agenda(user=advisor.user, now=at(MONDAY + timedelta(days=32), 9)).unrecorded == []
    # The desk sees every advisor's.
    desk = factories.staff("supervisor").user
    assert list(appointments_unrecorded(user=desk, now=at(MONDAY + timedelta(days=1), 9, 30))) == [
        forgotten,
        theirs,
    ]


def deactivate(advisor) -> None:
    advisor.user.is_active = False
    advisor.user.save(update_fields=["is_active"])


def test_a_deactivated_advisors_appointments_keep_their_column_marked_as_former(advisor):
    gone = factories.advisor(first_name="Robin", last_name="Gone")
    idle = factories.advisor(first_name="Idle", last_name="Former")
    appointment = book(factories.lead(), gone, at(MONDAY, 10, 0))
    deactivate(gone)
    deactivate(idle)
    manager = factories.staff("manager").user
    for week in (False, True):
        grid = appointment_calendar(user=manager, day=MONDAY, week=week)
        assert [str(column) for column in grid.advisors] == [
            "Alex Chen",
            "Robin Gone",
        ]  # not Idle: nothing here
        assert grid.former == {gone.pk}
        row = dict(grid.rows)[at(MONDAY, 10).time() if not week else MONDAY]
        assert row[1] == [appointment]
    assert appointment_calendar(user=manager, day=MONDAY + timedelta(days=7), week=True).former == set()


def test_a_deactivated_advisors_appointment_is_handed_to_another_and_only_theirs(advisor):
    gone = factories.advisor(first_name="Robin", last_name="Gone")
    appointment = book(factories.lead(), gone, at(MONDAY, 10, 0))
    kept = book(factories.lead(), advisor, at(MONDAY, 11, 0))
    other = factories.advisor(first_name="Sam", last_name="Lee")
    with pytest.raises(BookingError, match="Alex Chen is still active: the appointment stays theirs"):
        appointment_reschedule(appointment=kept, starts_at=at(MONDAY, 14, 0), now=BEFORE, advisor=other)
    deactivate(gone)
    with pytest.raises(BookingError, match="Robin Gone is no longer active"):
        appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 14, 0), now=BEFORE)
    moved = appointment_reschedule(
        appointment=appointment, starts_at=at(MONDAY, 14, 0), now=BEFORE, advisor=other
    )
    moved.refresh_from_db()
    assert (moved.advisor, moved.starts_at, moved.sequence) == (other, at(MONDAY, 14, 0), 1)
    assert moved.events.last().params["from_advisor"] == gone.pk
    assert moved.lead.events.filter(type="appointment_rescheduled", params__advisor="Sam Lee").exists()
    # The lead Robin worked goes with the appointment, so that Sam can open it.
    assert moved.lead.owner == other.user
    assert moved.lead.events.filter(type="assigned", params__previous_owner="Robin Gone").exists()


def test_a_departed_advisors_sale_stays_theirs_when_the_delivery_goes_to_another_advisor(advisor):
    gone = factories.advisor(first_name="Robin", last_name="Gone")
    lead = factories.lead(owner=gone.user, received_at=BEFORE - timedelta(days=1))
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=gone.user)
    delivery = book(lead, gone, at(MONDAY, 10, 0), purpose=Appointment.Purpose.DELIVERY)
    deactivate(gone)
    appointment_reschedule(appointment=delivery, starts_at=at(MONDAY, 14, 0), now=BEFORE, advisor=advisor)
    lead.refresh_from_db()
    assert (lead.owner, lead.sold_by) == (advisor.user, gone.user)


def test_a_departed_advisors_appointment_on_a_lead_another_advisor_owns_leaves_it_theirs(advisor):
    gone = factories.advisor(first_name="Robin", last_name="Gone")
    lead = factories.lead(owner=advisor.user)
    appointment = book(lead, gone, at(MONDAY, 10, 0))
    deactivate(gone)
    other = factories.advisor(first_name="Sam", last_name="Lee")
    appointment_reschedule(appointment=appointment, starts_at=at(MONDAY, 14, 0), now=BEFORE, advisor=other)
    lead.refresh_from_db()
    assert lead.owner == advisor.user


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_of_one_slot_give_one_appointment():
    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections: run with DATABASE_URL=postgres://…")
    advisor = factories.advisor()
    leads = [factories.lead(), factories.lead()]
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(lead):
        try:
            barrier.wait()
            book(lead, advisor, at(MONDAY, 10, 0))
            outcomes.append("booked")
        except BookingError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(lead,)) for lead in leads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "refused"]
    assert Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_postgresql_itself_refuses_overlapping_appointments():
    if connection.vendor != "postgresql":
        pytest.skip("exclusion constraints exist on PostgreSQL only")
    advisor = factories.advisor()
    first = book(factories.lead(), advisor, at(MONDAY, 10, 0))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            lead=factories.lead(),
            advisor=advisor,
            starts_at=first.starts_at + timedelta(minutes=15),
            ends_at=first.ends_at + timedelta(minutes=15),
        )


def test_the_advisor_is_free_until_the_end_of_their_day_or_their_next_appointment(advisor):
    book(factories.lead(), advisor, at(MONDAY, 14, 0))  # 14:00–14:30
    assert advisor_free_until(advisor=advisor, starts_at=at(MONDAY, 17, 0)) == at(MONDAY, 18, 0)
    assert advisor_free_until(advisor=advisor, starts_at=at(MONDAY, 13, 0)) == at(MONDAY, 14, 0)
    assert advisor_free_until(advisor=advisor, starts_at=at(MONDAY, 14, 0)) is None  # taken
    assert advisor_free_until(advisor=advisor, starts_at=at(MONDAY, 18, 0)) is None  # after hours
    assert advisor_free_until(advisor=advisor, starts_at=at(MONDAY + timedelta(days=6), 10)) is None  # Sunday


def test_no_appointment_on_a_day_the_store_is_closed(advisor):
    christmas = date(2026, 12, 25)  # a Friday: the advisor works, the store is closed (Ontario holiday)
    before = at(date(2026, 12, 1), 9)
    assert advisor_free_slots(advisor=advisor, day=christmas, now=before) == []
    assert advisor_free_until(advisor=advisor, starts_at=at(christmas, 10)) is None
    lead = factories.lead()
    refused = "The store is closed on Friday, December 25: choose another day."
    with pytest.raises(BookingError, match=refused):
        book(lead, advisor, at(christmas, 10), now=before)
    christmas_eve = book(lead, advisor, at(christmas - timedelta(days=1), 10), now=before)
    with pytest.raises(BookingError, match=refused):
        appointment_reschedule(appointment=christmas_eve, starts_at=at(christmas, 10), now=before)
    christmas_eve.refresh_from_db()
    assert christmas_eve.starts_at == at(christmas - timedelta(days=1), 10)


def test_the_times_a_length_fits_are_those_read_for_that_length(advisor):
    # Taken: 9:30–10:00 and 11:00–12:30; the day ends at 18:00.
    book(factories.lead(), advisor, at(MONDAY, 9, 30))
    book(factories.lead(), advisor, at(MONDAY, 11, 0), duration=timedelta(minutes=90))
    half_hours = advisor_free_slots(advisor=advisor, day=MONDAY, now=BEFORE)
    for minutes in (30, 60, 90):
        length = timedelta(minutes=minutes)
        fitting = slots_fitting(half_hours, length)
        assert fitting == advisor_free_slots(advisor=advisor, day=MONDAY, now=BEFORE, length=length)
    assert at(MONDAY, 10, 0) in slots_fitting(half_hours, timedelta(minutes=60))  # 10:00–11:00
    assert at(MONDAY, 10, 0) not in slots_fitting(half_hours, timedelta(minutes=90))
    assert at(MONDAY, 17, 0) not in slots_fitting(half_hours, timedelta(minutes=90))


def test_the_booking_form_offers_the_times_the_chosen_length_fits(advisor):
    lead = factories.lead()
    book(factories.lead(), advisor, at(MONDAY, 9, 0), duration=timedelta(hours=8))  # free from 17:00

    def offered(minutes):
        form = BookingForm(lead=lead, advisor=advisor, day=MONDAY, now=BEFORE, initial={"duration": minutes})
        return form, [label for _, label in form.fields["slot"].choices]

    assert offered(30)[1] == ["17:00", "17:30"]
    assert offered(60)[1] == ["17:00"]
    form, times = offered(90)
    assert times == [] and form.free_any
    assert form.fields["slot"].help_text == "No free time that day is this long: choose a shorter length."


def test_booking_an_unassigned_lead_gives_it_to_the_advisor_and_an_owned_lead_keeps_its_owner(advisor):
    from leads.selectors.leads import lead_visible_to

    supervisor = factories.staff("supervisor").user
    unassigned = factories.lead()
    book(unassigned, advisor, at(MONDAY, 10), actor=supervisor)
    unassigned.refresh_from_db()
    assert unassigned.owner == advisor.user
    assert lead_visible_to(user=advisor.user).filter(pk=unassigned.pk).exists()  # their lead to open
    event = unassigned.events.get(type="assigned")
    assert (event.params, event.actor) == (
        {"owner": "Alex Chen", "previous_owner": "", "owner_id": advisor.user.pk, "previous_owner_id": None},
        supervisor,
    )
    owner = factories.advisor(first_name="Marc", last_name="Roy").user
    owned = factories.lead(owner=owner)
    book(owned, advisor, at(MONDAY, 14), actor=supervisor)
    owned.refresh_from_db()
    assert owned.owner == owner and not owned.events.filter(type="assigned").exists()
