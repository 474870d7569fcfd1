"""In Chromium: the supervisor books a test drive, the advisor finds it on their page and marks it shown."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Appointment, LeadStatus
from leads.selectors.appointments import local_day_bounds
from leads.services.appointments import appointment_book
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_supervisor_books_a_test_drive_and_the_advisor_marks_it_shown(login, live_server):
    factories.staff("supervisor", username="desk")
    advisor = factories.advisor(username="alex", first_name="Alex", last_name="Chen")
    customer = factories.customer(first_name="Emma", last_name="Johnson", phone="+14165550111")
    lead = factories.lead(
        customer_obj=customer, vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4", "trim": "XLE"}]
    )
    starts = factories.next_weekday_at(10)

    page = login("desk", factories.PASSWORD)
    page.goto(f"{live_server.url}/leads/{lead.pk}/appointments/new/")
    page.get_by_label("Day").fill(starts.date().isoformat())
    page.get_by_label("Advisor").select_option(label="Alex Chen")
    page.get_by_role("button", name="Show free times").click()
    page.get_by_label("10:00").check()
    page.get_by_label("Purpose").select_option(label="Test drive")
    page.get_by_role("button", name="Book").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/leads/{lead.pk}/"
    assert "Booked" in page.locator(".alert-success").inner_text()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()

    booked = Appointment.objects.get()
    assert (booked.advisor_id, booked.starts_at) == (advisor.pk, starts)
    # The test drive has started: what came of it can be recorded (not before).
    Appointment.objects.filter(lead=lead).update(
        starts_at=max(timezone.now() - timedelta(minutes=1), local_day_bounds(timezone.localdate())[0])
    )
    page = login("alex", factories.PASSWORD)
    assert page.url == f"{live_server.url}/leads/appointments/mine/"
    card = page.locator("article.appointment").filter(has_text="Emma Johnson")
    assert "Test drive" in card.inner_text() and "2026 Toyota RAV4 XLE" in card.inner_text()
    assert "(416) 555-0111" in card.inner_text()
    card.get_by_role("button", name="Shown").click()
    page.wait_for_load_state()
    assert page.locator("article.appointment .appointment-status").first.inner_text() == "Shown"

    appointment = Appointment.objects.get()
    lead.refresh_from_db()
    assert (appointment.status, lead.status) == (Appointment.Status.SHOWN, LeadStatus.SHOWN)


def test_the_desk_cancels_an_appointment_from_the_lead_page_and_stays_on_it(login, live_server):
    factories.staff("supervisor", username="desk")
    advisor = factories.advisor(first_name="Alex", last_name="Chen")
    lead = factories.lead(customer_obj=factories.customer(first_name="Emma", last_name="Johnson"))
    appointment = appointment_book(
        lead=lead,
        advisor=advisor,
        starts_at=factories.next_weekday_at(10),
        purpose="test_drive",
        now=timezone.now(),
    )

    page = login("desk", factories.PASSWORD)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    card = page.locator(f"#appointment-{appointment.pk}")  # in the panel htmx loads
    assert "Alex Chen" in card.inner_text() and "Booked" in card.inner_text()
    card.get_by_role("button", name="Cancel").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/leads/{lead.pk}/"
    assert "Emma Johnson: cancelled." in page.locator(".alert-success").inner_text()
    assert "Cancelled" in page.locator(f"#appointment-{appointment.pk}").inner_text()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_each_advisor_picked_replaces_the_address_so_back_returns_to_the_lead(login, live_server):
    factories.staff("supervisor", username="desk")
    factories.advisor(first_name="Alex", last_name="Chen")
    bea = factories.advisor(first_name="Bea", last_name="Roy")
    lead = factories.lead(customer_obj=factories.customer(first_name="Emma", last_name="Johnson"))
    day = factories.next_weekday_at(10).date().isoformat()

    page = login("desk", factories.PASSWORD)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.goto(f"{live_server.url}/leads/{lead.pk}/appointments/new/")
    page.get_by_label("Day").fill(day)
    page.get_by_label("Advisor").select_option(label="Alex Chen")
    page.wait_for_url("**advisor=*")
    page.get_by_label("Advisor").select_option(label="Bea Roy")
    page.wait_for_url(f"**advisor={bea.pk}*")

    page.reload()  # the address is the page shown: Bea's free times, beside her name
    assert page.get_by_label("Advisor").locator("option:checked").inner_text() == "Bea Roy"
    assert page.locator("#slots input[type=radio]").count() > 0
    page.go_back()
    page.wait_for_url(f"{live_server.url}/leads/{lead.pk}/")
