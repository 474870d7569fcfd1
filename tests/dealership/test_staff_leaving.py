"""Someone leaves the store: their login stops, their customers are handed on, their name stays on
what they did."""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from dealership.forms import ObjectiveForm
from dealership.models import Role, StaffMember
from dealership.selectors import staff_directory
from dealership.services import StaffLeaveError, staff_leave, staff_role_change
from leads.appointment_forms import AdvisorForm
from leads.business_hours import closed_all_day
from leads.forms import LeadAssignForm
from leads.models import Appointment, LeadEvent, LeadStatus, LoyaltyKind, Task
from leads.selectors.leads import lead_owner_choices
from leads.services.appointments import BookingError, appointment_book, appointment_transition
from leads.services.leads import AssignmentError, contact_log, lead_assign
from promotions.forms import InfoShareForm
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block as a committed change, as a request or the admin does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _last_weekday_at(hour: int) -> datetime:
    """A day last week the store was open, at `hour` store time."""
    day = timezone.localdate() - timedelta(days=7)
    while day.weekday() >= 5 or closed_all_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


def _sold_at_a_past_appointment(advisor: StaffMember, *, actor) -> Appointment:
    """A customer the advisor met last week and sold to: their lead stays the advisor's."""
    starts = _last_weekday_at(10)
    lead = factories.lead(received_at=starts - timedelta(days=2))
    appointment = appointment_book(
        lead=lead, advisor=advisor, starts_at=starts, purpose="test_drive", now=starts - timedelta(days=1),
        actor=actor,
    )  # fmt: skip
    return appointment_transition(appointment=appointment, to_status="sold", now=timezone.now(), actor=actor)


@pytest.fixture
def store(db):
    """A supervisor, a manager, and Robin, an advisor with a customer sold last week, a test drive
    booked for next weekday, a lead with a next step promised, and a loyalty task."""
    supervisor = factories.staff(Role.SUPERVISOR, first_name="Sophie", last_name="Desk")
    manager = factories.staff(Role.MANAGER, first_name="Marc", last_name="Boss")
    robin = factories.advisor(first_name="Robin", last_name="Gone")
    past = _sold_at_a_past_appointment(robin, actor=supervisor.user)
    upcoming = factories.test_drive(factories.lead(), robin, hour=10)  # the lead becomes Robin's
    called = lead_assign(lead=factories.lead(), owner=robin.user, actor=supervisor.user)
    contact_log(
        lead=called, author=robin.user, channel="phone", outcome="reached", next_step="Send the lease quote",
        next_step_on=timezone.localdate() + timedelta(days=1),
    )  # fmt: skip
    loyalty = Task.objects.create(
        assignee=robin.user, customer=factories.customer(), kind=LoyaltyKind.PURCHASE_ANNIVERSARY,
        title="Purchase anniversary", due_on=timezone.localdate(), moment_key="test:anniversary",
    )  # fmt: skip
    return {
        "supervisor": supervisor,
        "manager": manager,
        "robin": robin,
        "past": past,
        "upcoming": upcoming,
        "called": called,
        "next_step": Task.objects.get(lead=called),
        "loyalty": loyalty,
    }


def test_an_advisor_who_leaves_can_no_longer_sign_in_and_their_customers_are_handed_on(
    client, committed, store
):
    robin, supervisor, manager = store["robin"], store["supervisor"], store["manager"]
    client.force_login(robin.user)
    assert client.get(reverse("leads:my_appointments")).status_code == 200

    with committed():
        result = staff_leave(staff=robin, actor=manager.user)

    # Signed out at the next page, and the password no longer opens anything.
    assert client.get(reverse("leads:my_appointments")).status_code == 302
    client.logout()
    login = client.post(reverse("login"), {"username": robin.user.username, "password": factories.PASSWORD})
    assert login.status_code == 200 and "_auth_user_id" not in client.session
    robin_now = StaffMember.objects.select_related("user").get(pk=robin.pk)  # the record stays
    assert not robin_now.user.is_active and not robin_now.user.groups.exists()

    # Their open leads are back in the inbox, unassigned, the timeline saying who did it and why.
    leads = {store["upcoming"].lead_id, store["called"].pk}
    assert {lead.pk for lead in result.leads} == leads
    for lead_id in leads:
        event = LeadEvent.objects.filter(lead_id=lead_id, type="assigned").latest("pk")
        assert event.actor == manager.user
        assert event.params["previous_owner"] == "Robin Gone" and event.params["owner_id"] is None
        assert event.params["reason"] == "owner_left"
    client.force_login(manager.user)
    page = client.get(reverse("leads:lead_detail", args=[store["called"].pk])).content.decode()
    assert "No longer assigned to Robin Gone, who left the store" in page
    # The customer sold last week stays Robin's, and their appointment names Robin.
    past = Appointment.objects.select_related("lead", "advisor__user").get(pk=store["past"].pk)
    assert past.lead.status == LeadStatus.SOLD and past.lead.owner == robin.user
    assert past.advisor == robin and str(past.advisor) == "Robin Gone"

    # Their next step and their loyalty task are the supervisor's now.
    for task in (store["next_step"], store["loyalty"]):
        task.refresh_from_db()
        assert task.assignee == supervisor.user and task.done_at is None
    assert {task.pk for task in result.tasks} == {store["next_step"].pk, store["loyalty"].pk}

    # The test drive to come stays booked, and waits on the calendar for the desk to give it to
    # another advisor.
    upcoming = Appointment.objects.get(pk=store["upcoming"].pk)
    assert upcoming.status == Appointment.Status.BOOKED and upcoming.advisor == robin
    assert result.appointments == [upcoming]
    client.force_login(supervisor.user)
    calendar = client.get(reverse("leads:appointment_calendar")).content.decode()
    assert "Needs a new advisor" in calendar
    assert f'id="needs-advisor-{upcoming.pk}"' in calendar
    assert reverse("leads:appointment_reschedule", args=[upcoming.pk]) in calendar


def test_the_appointment_handed_to_another_advisor_takes_its_lead_and_leaves_the_list(
    client, committed, store
):
    with committed():
        staff_leave(staff=store["robin"], actor=store["manager"].user)
    alex = factories.advisor(first_name="Alex", last_name="Chen")
    upcoming = store["upcoming"]
    client.force_login(store["supervisor"].user)
    url = reverse("leads:appointment_reschedule", args=[upcoming.pk])
    day = timezone.localdate(upcoming.starts_at)
    response = client.post(f"{url}?advisor={alex.pk}&day={day}", {"slot": upcoming.starts_at.isoformat()})
    assert response.status_code == 302

    upcoming.refresh_from_db()
    assert upcoming.advisor == alex and upcoming.lead.owner == alex.user
    assert "Needs a new advisor" not in client.get(reverse("leads:appointment_calendar")).content.decode()


def test_someone_who_left_is_offered_nowhere_and_refused_if_chosen_anyway(store):
    robin = store["robin"]
    staff_leave(staff=robin, actor=store["manager"].user)

    lead = factories.lead()
    assert str(robin.user.pk) not in dict(lead_owner_choices())
    assert str(robin.user.pk) not in dict(LeadAssignForm(lead=lead).owner_choices)
    assert robin not in AdvisorForm().fields["advisor"].queryset
    assert robin not in ObjectiveForm().fields["person"].queryset
    assert robin not in InfoShareForm().fields["staff"].queryset
    assert robin not in staff_directory()
    with pytest.raises(AssignmentError, match="Robin Gone does not take leads"):
        lead_assign(lead=lead, owner=robin.user, actor=store["supervisor"].user)
    with pytest.raises(BookingError, match="Robin Gone is no longer active"):
        appointment_book(
            lead=lead, advisor=robin, starts_at=factories.next_weekday_at(14), purpose="test_drive",
            now=timezone.now(),
        )  # fmt: skip


def test_the_lead_page_stops_offering_someone_as_owner_as_soon_as_they_leave_or_move_out_of_sales(
    client, committed, store
):
    robin, manager = store["robin"], store["manager"]
    alex = factories.advisor(first_name="Alex", last_name="Chen")
    client.force_login(store["supervisor"].user)
    url = reverse("leads:lead_detail", args=[factories.lead().pk])

    def offered() -> str:
        return client.get(url).content.decode()

    page = offered()
    assert f'<option value="{robin.user.pk}">Robin Gone</option>' in page
    assert f'<option value="{alex.user.pk}">Alex Chen</option>' in page

    with committed():
        staff_leave(staff=robin, actor=manager.user)
    assert f'<option value="{robin.user.pk}">Robin Gone</option>' not in offered()

    with committed():
        staff_role_change(staff=alex, role=Role.DEPARTMENT)
    assert f'<option value="{alex.user.pk}">Alex Chen</option>' not in offered()


def test_a_supervisor_who_leaves_hands_their_leads_back_to_the_inbox(store):
    supervisor = store["supervisor"]
    theirs = lead_assign(lead=factories.lead(), owner=supervisor.user, actor=store["manager"].user)

    result = staff_leave(staff=supervisor, actor=store["manager"].user)

    theirs.refresh_from_db()
    assert theirs.owner is None and result.leads == [theirs] and result.appointments == []


def test_nobody_marks_themselves_as_having_left(client):
    admin = factories.staff(Role.ADMIN)
    client.force_login(admin.user)
    response = client.post(
        reverse("admin:dealership_staffmember_changelist"),
        {"action": "left_the_store", "_selected_action": [admin.pk]},
        follow=True,
    )
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [
        "You cannot mark yourself as having left the store: another manager or an administrator does."
    ]
    admin.user.refresh_from_db()
    assert admin.user.is_active and admin.user.groups.exists()
    with pytest.raises(StaffLeaveError):
        staff_leave(staff=admin, actor=admin.user)


# --- the directory ---------------------------------------------------------------------------------


def test_an_account_with_no_staff_role_opens_no_directory(client):
    factories.staff(Role.DEPARTMENT, department_code="parts", first_name="Omar", last_name="Haddad")
    client.force_login(factories.former_staff())
    for response in (
        client.get(reverse("dealership:directory")),
        client.post(reverse("dealership:directory_send")),
    ):
        page = response.content.decode()
        assert response.status_code == 403 and "no staff role" in page and "Omar Haddad" not in page


# --- the admin -------------------------------------------------------------------------------------


def _admin_client(client):
    client.force_login(factories.staff(Role.ADMIN).user)
    return client


def test_the_admin_records_several_people_leaving_at_once(client, committed, store):
    other = factories.advisor(first_name="Kim", last_name="Also")
    kims = lead_assign(lead=factories.lead(), owner=other.user, actor=store["supervisor"].user)
    admin = _admin_client(client)
    with committed():
        response = admin.post(
            reverse("admin:dealership_staffmember_changelist"),
            {"action": "left_the_store", "_selected_action": [store["robin"].pk, other.pk]},
            follow=True,
        )

    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert any(line.startswith("Robin Gone has left the store") for line in shown), shown
    assert any("1 booked appointment to come needs a new advisor" in line for line in shown), shown
    assert any(line.startswith("Kim Also has left the store") for line in shown), shown
    people = get_user_model().objects.filter(pk__in=[store["robin"].user_id, other.user_id])
    assert not people.filter(is_active=True).exists()
    assert StaffMember.objects.filter(pk__in=[store["robin"].pk, other.pk]).count() == 2
    kims.refresh_from_db()
    assert kims.owner is None


@pytest.mark.parametrize("how", ["delete page", "delete action"])
def test_deleting_an_advisor_who_had_appointments_is_refused_and_points_to_left_the_store(client, store, how):
    robin = store["robin"]
    admin = _admin_client(client)
    if how == "delete page":
        response = admin.post(
            reverse("admin:dealership_staffmember_delete", args=[robin.pk]), {"post": "yes"}
        )
    else:
        response = admin.post(
            reverse("admin:dealership_staffmember_changelist"),
            {"action": "delete_selected", "_selected_action": [robin.pk], "post": "yes"},
        )

    page = response.content.decode()
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in page
    assert "Left the store" in page
    robin.user.refresh_from_db()
    assert StaffMember.objects.filter(pk=robin.pk).exists() and robin.user.is_active


def test_the_staff_list_says_who_left_and_how_to_record_it(client, store):
    staff_leave(staff=store["robin"], actor=store["manager"].user)
    admin = _admin_client(client)
    url = reverse("admin:dealership_staffmember_changelist")
    assert 'id="left-the-store-help"' in admin.get(url).content.decode()
    left = admin.get(url, {"user__is_active__exact": "0"}).context["cl"].result_list
    assert list(left) == [store["robin"]]
