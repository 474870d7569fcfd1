"""The pages: booking a slot, the advisor's week with outcome buttons, the calendar, follow-up screens."""

import html
from datetime import UTC, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from inventory.services.photos import photos_upload
from leads.models import (
    Appointment,
    FollowUpPlan,
    FollowUpStep,
    FollowUpStepRun,
    LeadStatus,
    ReplyTemplate,
    WorkingHours,
)
from leads.selectors.appointments import local_day_bounds
from leads.services.appointments import appointment_book, appointment_transition
from leads.services.followup import followup_enroll, followup_plans_ensure_defaults
from leads.services.replies import reply_templates_ensure_defaults
from tests import factories
from tests.formsets import formset_data
from tests.inventory import images


@pytest.fixture
def advisor(db):
    return factories.advisor(first_name="Alex", last_name="Chen")


def test_the_supervisor_books_a_free_slot(supervisor_client, advisor):
    lead = factories.lead(vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4"}])
    starts = factories.next_weekday_at(10)
    url = reverse("leads:appointment_book", args=[lead.pk]) + f"?advisor={advisor.pk}&day={starts.date()}"
    page = supervisor_client.get(url)
    assert page.status_code == 200
    assert starts.isoformat() in page.content.decode()
    response = supervisor_client.post(
        url,
        {
            "slot": starts.isoformat(),
            "duration": 30,
            "purpose": "test_drive",
            "lead_vehicle": lead.vehicles.get().pk,
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.starts_at == starts and appointment.vehicle == "2026 Toyota RAV4"
    # The slot is gone from the page; booking it again is refused with a clear message.
    assert starts.isoformat() not in supervisor_client.get(url).content.decode()
    again = supervisor_client.post(url, {"slot": starts.isoformat(), "duration": 30, "purpose": "test_drive"})
    assert again.status_code == 200 and "Choose one of the free times" in again.content.decode()


def test_the_booking_page_offers_no_time_on_a_day_the_store_is_closed(supervisor_client, advisor, settings):
    starts = factories.next_weekday_at(10)
    settings.BUSINESS_CLOSED_DAYS = ["holidays", starts.date()]  # closed that day, say for inventory
    page = supervisor_client.get(_booking_url(factories.lead(), advisor, starts))
    assert page.status_code == 200
    assert starts.isoformat() not in page.content.decode()
    closed = date_format(starts.date(), "l, F j")
    assert f"The store is closed on {closed}: choose another day." in page.content.decode()


def test_the_booking_page_says_the_store_is_closed_on_its_weekly_day_off(
    supervisor_client, advisor, settings
):
    settings.BUSINESS_HOURS = ["9-21"] * 5 + ["9-17", "closed"]
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() != 6:  # the next Sunday: the store does not open, whoever the advisor
        day += timedelta(days=1)
    url = reverse("leads:appointment_book", args=[factories.lead().pk]) + f"?advisor={advisor.pk}&day={day}"
    page = html.unescape(supervisor_client.get(url).content.decode())
    assert f"The store is closed on {date_format(day, 'l, F j')}: choose another day." in page
    assert "Try another day or advisor" not in page


def test_the_booking_page_asks_for_today_or_later_when_given_a_day_past(supervisor_client, advisor):
    yesterday = timezone.localdate() - timedelta(days=1)
    url = (
        reverse("leads:appointment_book", args=[factories.lead().pk])
        + f"?advisor={advisor.pk}&day={yesterday}"
    )
    page = html.unescape(supervisor_client.get(url).content.decode())
    assert "Choose today or a later day." in page
    assert "Try another day or advisor" not in page


def test_my_appointments_shows_the_photo_of_the_vehicle_in_stock(client, advisor):
    stock = factories.vehicle()
    photos_upload(vehicle=stock, files=[images.upload("a.png", images.encoded("PNG"))], process_now=True)
    lead = factories.lead(vehicles=[{"make": "Toyota", "vin": stock.vin}])
    appointment_book(
        lead=lead,
        advisor=advisor,
        starts_at=factories.next_weekday_at(11),
        purpose="test_drive",
        now=timezone.now(),
        lead_vehicle=lead.vehicles.get(),
    )
    client.force_login(advisor.user)
    page = client.get(reverse("leads:my_appointments")).content.decode()
    assert f'src="{stock.photo_urls()[0]}"' in page


def test_my_appointments_opens_the_lead_and_offers_the_customers_phone_and_email(client, advisor):
    customer = factories.customer(email="chloe@example.com", phone="438 555 0144")
    appointment = appointment_book(
        lead=factories.lead(customer_obj=customer),
        advisor=advisor,
        starts_at=factories.next_weekday_at(11),
        purpose="test_drive",
        now=timezone.now(),
    )
    client.force_login(advisor.user)
    page = client.get(reverse("leads:my_appointments")).content.decode()
    card = page[page.index(f'id="appointment-{appointment.pk}"') :]
    lead_url = reverse("leads:lead_detail", args=[appointment.lead_id])
    assert f'<a href="{lead_url}">{customer}</a>' in card
    assert '<a href="tel:+14385550144">(438) 555-0144</a>' in card
    assert '<a href="mailto:chloe@example.com">chloe@example.com</a>' in card
    assert client.get(lead_url).status_code == 200


def test_advisors_cannot_book_for_others_or_see_the_calendar(client, advisor):
    client.force_login(advisor.user)
    lead = factories.lead()
    assert client.get(reverse("leads:appointment_book", args=[lead.pk])).status_code in (403, 404)
    assert client.get(reverse("leads:appointment_calendar")).status_code == 403
    assert client.get(reverse("leads:task_list")).status_code == 403


def test_my_appointments_shows_only_mine_and_records_the_outcome(client, advisor):
    other = factories.advisor()
    starts = factories.next_weekday_at(11)
    mine = appointment_book(
        lead=factories.lead(), advisor=advisor, starts_at=starts, purpose="test_drive", now=timezone.now()
    )
    theirs = appointment_book(
        lead=factories.lead(), advisor=other, starts_at=starts, purpose="purchase", now=timezone.now()
    )
    client.force_login(advisor.user)
    page = client.get(reverse("leads:my_appointments")).content.decode()
    assert str(mine.lead.customer) in page and str(theirs.lead.customer) not in page
    assert (
        client.post(reverse("leads:appointment_outcome", args=[theirs.pk]), {"outcome": "shown"}).status_code
        == 404
    )
    assert 'value="shown"' not in page  # no outcome to record before it has started
    early = client.post(
        reverse("leads:appointment_outcome", args=[mine.pk]), {"outcome": "shown"}, follow=True
    )
    assert "has not started yet" in early.content.decode()  # a misclick on a later appointment
    Appointment.objects.filter(pk=mine.pk).update(
        starts_at=max(timezone.now() - timedelta(minutes=5), local_day_bounds(timezone.localdate())[0])
    )  # started, today
    assert 'value="shown"' in client.get(reverse("leads:my_appointments")).content.decode()
    response = client.post(reverse("leads:appointment_outcome", args=[mine.pk]), {"outcome": "shown"})
    assert response.status_code == 302
    mine.refresh_from_db()
    mine.lead.refresh_from_db()
    assert (mine.status, mine.lead.status) == (Appointment.Status.SHOWN, LeadStatus.SHOWN)


def test_odd_links_and_inputs_get_an_answer_not_an_error_page(supervisor_client, advisor):
    lead = factories.lead()
    for day in ("9999-12-31", "0001-01-01"):
        booking = supervisor_client.get(
            reverse("leads:appointment_book", args=[lead.pk]), {"day": day, "advisor": advisor.pk}
        )
        assert booking.status_code == 200
        for view in ("day", "week"):
            assert (
                supervisor_client.get(
                    reverse("leads:appointment_calendar"), {"day": day, "view": view}
                ).status_code
                == 200
            )
        assert (
            supervisor_client.get(reverse("leads:appointment_book", args=[lead.pk]), {"day": day}).status_code
            == 200
        )
    started = supervisor_client.post(
        reverse("leads:lead_followup_start", args=[lead.pk]), {"plan": "abc"}, follow=True
    )
    assert "Choose a plan." in started.content.decode()


def test_the_customers_trade_in_is_named_so_and_not_the_vehicle_chosen_for_the_visit(advisor):
    from leads.appointment_forms import BookingForm

    lead = factories.lead(
        vehicles=[
            {"interest": "trade-in", "year": 2015, "make": "Honda", "model": "Civic"},
            {"interest": "buy", "year": 2026, "make": "Toyota", "model": "RAV4"},
        ]
    )
    form = BookingForm(
        lead=lead, advisor=advisor, day=factories.next_weekday_at(10).date(), now=timezone.now()
    )
    trade_in, wanted = lead.vehicles.order_by("pk")
    assert form.fields["lead_vehicle"].initial == wanted
    labels = [label for _value, label in form.fields["lead_vehicle"].choices]
    assert "2015 Honda Civic (their trade-in)" in labels and "2026 Toyota RAV4" in labels


def test_appointment_notes_the_length_of_a_note_not_a_document(supervisor_client, advisor):
    lead = factories.lead()
    starts = factories.next_weekday_at(10)
    url = reverse("leads:appointment_book", args=[lead.pk]) + f"?advisor={advisor.pk}&day={starts.date()}"
    page = supervisor_client.post(
        url, {"slot": starts.isoformat(), "duration": 30, "purpose": "test_drive", "notes": "x" * 2001}
    )
    assert page.status_code == 200 and "at most 2000 characters" in page.content.decode()
    assert not lead.appointments.exists()


def test_an_appointment_names_its_time_in_the_stores_time_zone(advisor):
    ten = factories.next_weekday_at(10)
    appointment = Appointment(
        lead=factories.lead(), advisor=advisor, starts_at=ten.astimezone(UTC), purpose="test_drive"
    )
    assert str(appointment).endswith(f"{ten:%Y-%m-%d} 10:00")


def test_a_call_note_too_long_is_said_and_kept(supervisor_client):
    plan = followup_plans_ensure_defaults()
    lead = factories.lead()
    followup_enroll(lead=lead, plan=plan, now=timezone.now())
    call = FollowUpStepRun.objects.get(enrollment__lead=lead, step__kind="call")
    FollowUpStepRun.objects.filter(pk=call.pk).update(status=FollowUpStepRun.Status.OPEN)  # on the list
    note = "Talked about the trade-in. " * 25
    page = supervisor_client.post(
        reverse("leads:followup_task_done", args=[call.pk]), {"note": note}, follow=True
    )
    assert "Not done" in page.content.decode() and note.strip() in page.content.decode()
    call.refresh_from_db()
    assert call.status == FollowUpStepRun.Status.OPEN


def test_the_calendar_shows_every_advisor_by_day_and_week(client, advisor):
    manager = factories.staff("manager")
    starts = factories.next_weekday_at(14)
    appointment = appointment_book(
        lead=factories.lead(), advisor=advisor, starts_at=starts, purpose="delivery", now=timezone.now()
    )
    client.force_login(manager.user)
    for view in ("day", "week"):
        page = client.get(
            reverse("leads:appointment_calendar"), {"view": view, "day": starts.date()}
        ).content.decode()
        assert str(advisor) in page and str(appointment.lead.customer) in page


def test_a_plan_is_edited_with_its_steps(supervisor_client):
    plan = followup_plans_ensure_defaults()
    url = reverse("leads:followupplan_update", args=[plan.pk])
    form = supervisor_client.get(url).context["steps"]
    data = {
        "name": "Internet leads",
        "active": "on",
        "all_internet_leads": "on",
        "sources_text": "AutoTrader, Kijiji Autos",
        **formset_data(form),
    }
    last = len(form.forms) - 1
    data |= {
        f"steps-{last}-position": 20,
        f"steps-{last}-kind": "call",
        f"steps-{last}-delay_days": 60,
        f"steps-{last}-delay_hours": 0,
        f"steps-{last}-anchor": "inquiry",
        f"steps-{last}-call_notes": "Two-month check-in call",
    }
    response = supervisor_client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors or response.context["steps"].errors
    plan.refresh_from_db()
    assert plan.sources == ["AutoTrader", "Kijiji Autos"]
    assert plan.steps.filter(call_notes="Two-month check-in call").exists()
    # An email step without text is refused, and nothing is lost.
    data[f"steps-{last}-kind"] = "auto_email"
    data[f"steps-{last}-call_notes"] = "Another"
    refused = supervisor_client.post(url, data)
    assert (
        refused.status_code == 200
        and "needs a reply template, or at least its English subject" in refused.content.decode()
    )
    assert FollowUpPlan.objects.get().steps.count() == len(form.forms)
    # So is a step whose text holds markup no merge field fills: it would reach customers as it is.
    data |= {
        f"steps-{last}-subject_en": "Hi {{ first_name }}",
        f"steps-{last}-body_en": "Bonjour {{ prénom }}",
    }
    misspelt = supervisor_client.post(url, data).content.decode()
    assert "Not a merge field: {{ prénom }}." in misspelt
    # A French message without its subject would reach French customers with an empty subject.
    data |= {
        f"steps-{last}-body_en": "Hi",
        f"steps-{last}-subject_fr": "",
        f"steps-{last}-body_fr": "Bonjour",
    }
    assert "Write both the French subject and message" in supervisor_client.post(url, data).content.decode()
    assert FollowUpPlan.objects.get().steps.count() == len(form.forms)


def test_a_plan_saved_after_one_of_its_steps_was_deleted_meanwhile_says_so_and_keeps_the_changes(
    supervisor_client,
):
    plan = FollowUpPlan.objects.create(name="Web leads")
    first = FollowUpStep.objects.create(plan=plan, position=1, kind="call", call_notes="Call them")
    second = FollowUpStep.objects.create(plan=plan, position=2, kind="call", call_notes="Call again")
    url = reverse("leads:followupplan_update", args=[plan.pk])
    data = {
        "name": "Web leads (spring)",
        "active": "on",
        "sources_text": "",
        **formset_data(supervisor_client.get(url).context["steps"]),
        "steps-0-call_notes": "Call them before noon",
    }
    second.delete()  # the plan, open in another tab or by a colleague, lost its second step
    response = supervisor_client.post(url, data)
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert (
        '<div class="alert alert-danger">Nothing was saved: step 2 was deleted since this page was opened.'
        in page
    )
    assert "This step was deleted since the page was opened." in page  # beside the step itself
    assert 'value="Web leads (spring)"' in page and 'value="Call them before noon"' in page
    plan.refresh_from_db()
    first.refresh_from_db()
    assert plan.name == "Web leads" and first.call_notes == "Call them"
    # Deleted on the page too, as the message offers, the rest of the changes are saved.
    response = supervisor_client.post(url, {**data, "steps-1-DELETE": "on"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.name == "Web leads (spring)"
    assert list(plan.steps.values_list("call_notes", flat=True)) == ["Call them before noon"]


def test_the_plan_page_reads_the_reply_templates_once_whatever_the_number_of_steps(supervisor_client):
    reply_templates_ensure_defaults()
    template = ReplyTemplate.objects.get(name="Price and availability", language="en")
    short = FollowUpPlan.objects.create(name="Short")
    FollowUpStep.objects.create(plan=short, reply_template=template)
    long = followup_plans_ensure_defaults()
    assert long.steps.count() > 5

    def page_queries(plan):
        with CaptureQueriesContext(connection) as captured:
            page = supervisor_client.get(reverse("leads:followupplan_update", args=[plan.pk]))
        assert page.status_code == 200
        return page.content.decode(), len(captured.captured_queries)

    supervisor_client.get(reverse("leads:followupplan_list"))  # the first page also reads permissions
    short_page, short_queries = page_queries(short)
    assert f'<option value="{template.pk}" selected>' in short_page
    _, long_queries = page_queries(long)
    assert long_queries == short_queries


def test_a_lead_is_put_in_a_plan_by_hand_and_its_call_done_from_the_task_list(supervisor_client, supervisor):
    plan = followup_plans_ensure_defaults()
    lead = factories.lead()
    response = supervisor_client.post(reverse("leads:lead_followup_start", args=[lead.pk]), {"plan": plan.pk})
    assert response.status_code == 302
    page = supervisor_client.get(reverse("leads:lead_followup", args=[lead.pk])).content.decode()
    assert "Stop the follow-up" in page
    call = lead.followups.get().runs.get(step__kind="call")
    FollowUpStepRun.objects.filter(pk=call.pk).update(status="open")
    tasks = supervisor_client.get(reverse("leads:task_list")).content.decode()
    assert str(lead.customer) in tasks
    supervisor_client.post(reverse("leads:followup_task_done", args=[call.pk]), {"note": "Voicemail"})
    call.refresh_from_db()
    assert call.status == "done" and call.note == "Voicemail"
    supervisor_client.post(reverse("leads:lead_followup_stop", args=[lead.pk]))
    assert lead.followups.get().stop_reason == "by_hand"


def test_enrolling_a_lead_twice_says_why(supervisor_client, supervisor):
    plan = followup_plans_ensure_defaults()
    lead = factories.lead()
    followup_enroll(lead=lead, plan=plan, now=timezone.now(), actor=supervisor.user)
    response = supervisor_client.post(
        reverse("leads:lead_followup_start", args=[lead.pk]), {"plan": plan.pk}, follow=True
    )
    assert "already follows a plan" in response.content.decode()


def test_plan_pages_list_the_plans_and_offer_a_blank_form(supervisor_client):
    plan = followup_plans_ensure_defaults()
    listing = supervisor_client.get(reverse("leads:followupplan_list")).content.decode()
    assert plan.name in listing and "All internet leads" in listing
    assert supervisor_client.get(reverse("leads:followupplan_create")).status_code == 200


def test_putting_a_lead_in_a_plan_of_superscript_digits_asks_for_a_plan(supervisor_client):
    # "²".isdigit() is True, yet it is no plan's id: refused in words, never a server error.
    lead = factories.lead()
    response = supervisor_client.post(
        reverse("leads:lead_followup_start", args=[lead.pk]), {"plan": "²"}, follow=True
    )
    assert response.status_code == 200 and "Choose a plan." in response.content.decode()
    assert not lead.followups.exists()


def test_the_lead_page_slot_loads_the_panel_alone_for_htmx(supervisor_client):
    followup_plans_ensure_defaults()
    lead = factories.lead()
    url = reverse("leads:lead_followup", args=[lead.pk])
    panel = supervisor_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'id="followup-panel"' in panel and "<html" not in panel
    assert "Book an appointment" in panel


def test_marking_a_lead_lost_says_how_many_appointments_were_cancelled(supervisor_client, advisor):
    lead = factories.lead()
    for hour in (10, 14):
        appointment_book(
            lead=lead,
            advisor=advisor,
            starts_at=factories.next_weekday_at(hour),
            purpose="test_drive",
            now=timezone.now(),
        )
    page = supervisor_client.post(
        reverse("leads:lead_transition", args=[lead.pk]),
        {"status": "lost", "reason": "Bought elsewhere"},
        follow=True,
    ).content.decode()
    assert "Status changed; 2 appointments cancelled (the customer and the advisor are told)." in page
    assert set(lead.appointments.values_list("status", flat=True)) == {Appointment.Status.CANCELLED}


def _panel(client, lead, **headers) -> str:
    return client.get(reverse("leads:lead_followup", args=[lead.pk]), headers=headers).content.decode()


def test_the_lead_panel_lists_its_appointments_to_come_first_then_the_others(supervisor_client, advisor):
    lead = factories.lead(vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4"}])
    other = factories.advisor(first_name="Sam", last_name="Lee")
    now = timezone.now()

    def booked(hour, who=advisor, **fields):
        return appointment_book(
            lead=lead, advisor=who, starts_at=factories.next_weekday_at(hour), now=now, **fields
        )

    later = booked(14, other, purpose="purchase")
    sooner = booked(10, purpose="test_drive", lead_vehicle=lead.vehicles.get())
    cancelled = booked(16, purpose="test_drive")
    under_way = booked(11, purpose="test_drive")
    past = booked(15, purpose="appraisal")
    appointment_transition(appointment=cancelled, to_status=Appointment.Status.CANCELLED, now=now)
    Appointment.objects.filter(pk=under_way.pk).update(
        starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(minutes=25)
    )
    Appointment.objects.filter(pk=past.pk).update(
        starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2) + timedelta(minutes=30)
    )
    past.refresh_from_db()
    appointment_transition(appointment=past, to_status=Appointment.Status.SHOWN, now=now)

    for page in (_panel(supervisor_client, lead, **{"HX-Request": "true"}), _panel(supervisor_client, lead)):
        cards = {
            appointment.pk: page.index(f'id="appointment-{appointment.pk}"')
            for appointment in (sooner, later, cancelled, under_way, past)
        }
        assert sorted(cards, key=cards.get) == [sooner.pk, later.pk, cancelled.pk, under_way.pk, past.pk]
        card = page[cards[sooner.pk] : cards[later.pk]]
        assert "10:00 AM" in card and "Alex Chen" in card and "Test drive" in card
        assert "2026 Toyota RAV4" in card and "Booked" in card
        assert "Cancel" in card and "Reschedule" in card and 'value="shown"' not in card  # not started
        assert "Sam Lee" in page[cards[later.pk] : cards[cancelled.pk]]
        assert 'value="shown"' in page[cards[under_way.pk] : cards[past.pk]]  # started: its outcome
        done = page[cards[past.pk] :]
        assert "Trade-in appraisal" in done and "Shown" in done and 'value="sold"' in done
        assert "Cancelled" in page[cards[cancelled.pk] : cards[under_way.pk]]


def test_what_is_done_from_the_lead_panel_comes_back_to_the_lead_page(supervisor_client, advisor):
    lead = factories.lead()
    first, second = (factories.test_drive(lead, advisor, hour=hour) for hour in (10, 14))
    lead_page = reverse("leads:lead_detail", args=[lead.pk])
    panel = _panel(supervisor_client, lead, **{"HX-Request": "true"})
    assert f'name="next" value="{lead_page}"' in panel
    reschedule = reverse("leads:appointment_reschedule", args=[first.pk]) + f"?next={lead_page}"
    assert f'href="{reschedule.replace(lead_page, quote(lead_page, safe=""))}"' in panel
    # Moved: the time picker keeps where to go back to, and the person lands on the lead page.
    form = supervisor_client.get(reschedule).content.decode()
    assert f'name="next" value="{lead_page}"' in form
    assert f'value="{timezone.localdate(first.starts_at)}"' in form  # opens on the appointment's day
    new_time = factories.next_weekday_at(11)
    moved = supervisor_client.post(f"{reschedule}&day={new_time.date()}", {"slot": new_time.isoformat()})
    assert moved.status_code == 302 and moved.url == lead_page
    first.refresh_from_db()
    assert first.starts_at == new_time
    # Cancelled: the same.
    cancelled = supervisor_client.post(
        reverse("leads:appointment_outcome", args=[second.pk]), {"outcome": "cancelled", "next": lead_page}
    )
    assert cancelled.url == lead_page
    second.refresh_from_db()
    assert second.status == Appointment.Status.CANCELLED
    # Never to another site.
    elsewhere = supervisor_client.post(
        reverse("leads:appointment_outcome", args=[first.pk]),
        {"outcome": "shown", "next": "https://elsewhere.example/"},
    )
    assert elsewhere.url == reverse("leads:appointment_calendar")


def test_a_next_that_is_no_path_still_answers_the_change_recorded_with_the_calendar(
    supervisor_client, advisor
):
    appointment = factories.test_drive(factories.lead(), advisor, hour=10)
    calendar = reverse("leads:appointment_calendar")
    # A "next" without "/" (a shortened bookmark, a link edited by hand) is no page of this site.
    new_time = factories.next_weekday_at(11)
    moved = supervisor_client.post(
        reverse("leads:appointment_reschedule", args=[appointment.pk])
        + f"?next=calendar&day={new_time.date()}",
        {"slot": new_time.isoformat()},
    )
    assert moved.status_code == 302 and moved.url == calendar
    cancelled = supervisor_client.post(
        reverse("leads:appointment_outcome", args=[appointment.pk]),
        {"outcome": "cancelled", "next": "calendar"},
    )
    assert cancelled.status_code == 302 and cancelled.url == calendar
    appointment.refresh_from_db()
    assert appointment.starts_at == new_time and appointment.status == Appointment.Status.CANCELLED


def test_the_lead_panel_reads_the_same_whatever_the_number_of_appointments(supervisor_client, advisor):
    now = timezone.now()

    def lead_with(count):
        lead = factories.lead(vehicles=[{"make": "Toyota", "model": "RAV4"}])
        for hour in (10, 11, 14, 15)[:count]:
            appointment_book(
                lead=lead,
                advisor=factories.advisor(),
                starts_at=factories.next_weekday_at(hour),
                purpose="test_drive",
                now=now,
                lead_vehicle=lead.vehicles.get(),
            )
        return lead

    def queries(lead):
        with CaptureQueriesContext(connection) as captured:
            assert "Reschedule" in _panel(supervisor_client, lead, **{"HX-Request": "true"})
        return len(captured.captured_queries)

    one, four = lead_with(1), lead_with(4)
    queries(one)  # the first page also reads permissions
    assert queries(four) == queries(one)


def test_the_advisor_records_the_outcome_of_an_appointment_left_from_before(client, advisor):
    forgotten = factories.appointment_unrecorded(advisor, days_ago=2)
    client.force_login(advisor.user)
    page = client.get(reverse("leads:my_appointments")).content.decode()
    assert "Outcome not recorded" in page
    card = page[page.index(f'id="appointment-{forgotten.pk}"') :]
    assert str(forgotten.lead.customer) in card and 'value="no_show"' in card
    response = client.post(reverse("leads:appointment_outcome", args=[forgotten.pk]), {"outcome": "no_show"})
    assert response.url == reverse("leads:my_appointments")
    forgotten.refresh_from_db()
    assert forgotten.status == Appointment.Status.NO_SHOW
    assert "Outcome not recorded" not in client.get(reverse("leads:my_appointments")).content.decode()


def test_the_advisor_records_the_no_show_of_a_second_appointment_after_the_first_showed(client, advisor):
    lead = factories.lead()
    first, second = (factories.test_drive(lead, advisor, hour=hour) for hour in (10, 13))
    yesterday = timezone.now() - timedelta(days=1)
    for appointment, hours in ((first, 0), (second, 3)):
        starts_at = yesterday + timedelta(hours=hours)
        Appointment.objects.filter(pk=appointment.pk).update(
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30)
        )
    appointment_transition(
        appointment=first, to_status=Appointment.Status.SHOWN, now=timezone.now(), actor=advisor.user
    )
    client.force_login(advisor.user)
    response = client.post(
        reverse("leads:appointment_outcome", args=[second.pk]), {"outcome": "no_show"}, follow=True
    )
    page = response.content.decode()
    assert "cannot become" not in page
    assert f"{lead.customer}: no-show." in page
    second.refresh_from_db()
    lead.refresh_from_db()
    assert (second.status, lead.status) == (Appointment.Status.NO_SHOW, LeadStatus.SHOWN)


def test_the_desks_calendar_records_an_outcome_left_from_before_and_stays_on_its_day(
    supervisor_client, advisor
):
    forgotten = factories.appointment_unrecorded(advisor, days_ago=3)
    day = timezone.localdate(forgotten.starts_at)
    calendar = reverse("leads:appointment_calendar") + f"?view=week&day={day}"
    page = supervisor_client.get(calendar).content.decode()
    listed = page[page.index(f'id="unrecorded-{forgotten.pk}"') :]
    assert str(forgotten.lead.customer) in listed and 'value="shown"' in listed
    # Also in its cell of that week, with its buttons.
    cell = page[page.index('class="table') :]
    assert str(forgotten.lead.customer) in cell and 'value="shown"' in cell
    response = supervisor_client.post(
        reverse("leads:appointment_outcome", args=[forgotten.pk]), {"outcome": "shown", "next": calendar}
    )
    assert response.url == calendar
    forgotten.refresh_from_db()
    assert forgotten.status == Appointment.Status.SHOWN
    assert f'id="unrecorded-{forgotten.pk}"' not in supervisor_client.get(calendar).content.decode()


def test_rescheduling_a_long_appointment_offers_only_times_it_fits(supervisor_client, advisor):
    starts = factories.next_weekday_at(10)
    appointment = appointment_book(
        lead=factories.lead(),
        advisor=advisor,
        starts_at=starts,
        purpose="test_drive",
        now=timezone.now(),
        duration=timedelta(minutes=90),
    )
    url = reverse("leads:appointment_reschedule", args=[appointment.pk]) + f"?day={starts.date()}"
    page = supervisor_client.get(url).content.decode()
    # Half an hour later is free for it (it does not block itself); 17:00 would end after hours.
    later = starts + timedelta(minutes=30)
    assert later.isoformat() in page
    assert starts.replace(hour=16, minute=30).isoformat() in page
    assert starts.replace(hour=17).isoformat() not in page
    assert starts.replace(hour=17, minute=30).isoformat() not in page
    response = supervisor_client.post(url, {"slot": later.isoformat()})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.ends_at) == (later, later + timedelta(minutes=90))


def _booking_url(lead, advisor, starts) -> str:
    return reverse("leads:appointment_book", args=[lead.pk]) + f"?advisor={advisor.pk}&day={starts.date()}"


def test_a_length_that_does_not_fit_is_refused_saying_until_when_the_advisor_is_free(
    supervisor_client, advisor
):
    lead = factories.lead()
    five = factories.next_weekday_at(17)  # the advisor's day ends at 18:00
    url = _booking_url(lead, advisor, five)
    typed = {
        "slot": five.isoformat(),
        "duration": 90,
        "purpose": "appraisal",
        "notes": "Bring the winter tires",
    }
    refused = supervisor_client.post(url, typed)
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "Alex Chen is free at 17:00 only until 18:00: choose a shorter length or another time." in page
    assert "does not work at that time" not in page
    assert not Appointment.objects.exists()
    # Everything typed is kept: the time still chosen, the length, the purpose, the notes.
    assert (
        f'value="{five.isoformat()}"' in page
        and "checked" in page.split(f'value="{five.isoformat()}"')[1][:40]
    )
    assert "Bring the winter tires" in page
    form = refused.context["form"]
    assert (form["duration"].value(), form["purpose"].value()) == ("90", "appraisal")
    assert "only until 18:00" in form.errors["duration"][0]  # under the length, the input to change
    # The times offered now are those where 90 minutes fit.
    assert five.replace(hour=16, minute=30).isoformat() in page
    assert five.replace(hour=17, minute=30).isoformat() not in page
    # An hour fits: the same time is booked once the length is shortened.
    booked = supervisor_client.post(url, typed | {"duration": 60})
    assert booked.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.starts_at, appointment.ends_at) == (five, five + timedelta(hours=1))


def test_a_length_that_runs_into_the_next_appointment_says_when_that_one_starts(supervisor_client, advisor):
    two = factories.next_weekday_at(14)
    appointment_book(
        lead=factories.lead(), advisor=advisor, starts_at=two, purpose="purchase", now=timezone.now()
    )
    lead = factories.lead()
    half_past_one = two - timedelta(minutes=30)
    refused = supervisor_client.post(
        _booking_url(lead, advisor, two),
        {"slot": half_past_one.isoformat(), "duration": 60, "purpose": "test_drive"},
    )
    assert refused.status_code == 200
    assert "Alex Chen is free at 13:30 only until 14:00" in refused.content.decode()
    assert not lead.appointments.exists()


def test_changing_the_length_offers_the_times_it_fits_and_keeps_what_was_typed(supervisor_client, advisor):
    lead = factories.lead()
    five = factories.next_weekday_at(17)
    url = _booking_url(lead, advisor, five)
    assert five.isoformat() in supervisor_client.get(url).content.decode()  # 30 minutes fit at 17:00
    refreshed = supervisor_client.post(
        url,
        {"refresh": "1", "duration": 90, "purpose": "delivery", "notes": "Second key"},
        headers={"HX-Request": "true"},
    )
    part = refreshed.content.decode()
    assert refreshed.status_code == 200 and part.lstrip().startswith('<div id="slots">')
    assert five.replace(hour=16, minute=30).isoformat() in part and five.isoformat() not in part
    assert "Second key" in part and "This field is required" not in part
    assert refreshed.context["form"]["purpose"].value() == "delivery"
    assert not Appointment.objects.exists()


def test_the_desk_finds_a_deactivated_advisors_customer_and_hands_them_to_another(supervisor_client, advisor):
    gone = factories.advisor(first_name="Robin", last_name="Gone")
    appointment = appointment_book(
        lead=factories.lead(),
        advisor=gone,
        starts_at=factories.next_weekday_at(10),
        purpose="test_drive",
        now=timezone.now(),
    )
    gone.user.is_active = False
    gone.user.save(update_fields=["is_active"])
    day = timezone.localdate(appointment.starts_at)
    calendar = supervisor_client.get(reverse("leads:appointment_calendar"), {"day": day}).content.decode()
    assert "Robin Gone <span" in calendar and "(no longer active)" in calendar
    assert str(appointment.lead.customer) in calendar
    url = reverse("leads:appointment_reschedule", args=[appointment.pk])
    assert "Robin Gone is no longer active: choose who takes the appointment over." in (
        supervisor_client.get(url).content.decode()
    )
    with_alex = f"{url}?advisor={advisor.pk}&day={day}"
    assert appointment.starts_at.isoformat() in supervisor_client.get(with_alex).content.decode()
    response = supervisor_client.post(with_alex, {"slot": appointment.starts_at.isoformat()})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.advisor, appointment.sequence) == (advisor, 1)


def test_the_admin_names_advisors_working_hours_in_words(client, db):
    client.force_login(factories.staff("admin").user)
    index = client.get(reverse("admin:index")).content.decode()
    assert ">Working hours<" in index and "hourss" not in index
    with translation.override("fr"):
        assert str(WorkingHours._meta.verbose_name_plural) == "heures de travail"
