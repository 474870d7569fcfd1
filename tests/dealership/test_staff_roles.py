"""A person's access follows their role: changing the role takes the old role's access away."""

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from dealership.models import Metric, Objective, Role, StaffMember
from dealership.services import ROLE_GROUP_NAMES, objective_propose, staff_remove, staff_role_change
from tests import factories

pytestmark = pytest.mark.django_db

RULES = "/leads/rules/"
NEW_OBJECTIVE = "/store/objectives/new/"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block as a committed change, as a request or the admin does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _admin_change(client, staff: StaffMember, role: str):
    """An administrator changes the person's role on the staff member's admin page."""
    client.force_login(factories.staff(Role.ADMIN).user)
    response = client.post(
        reverse("admin:dealership_staffmember_change", args=[staff.pk]),
        {"role": role, "department": staff.department_id, "title": staff.title, "phone": staff.phone},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()


@pytest.mark.parametrize(
    ("before", "after", "status_before", "status_after"),
    [
        (Role.SUPERVISOR, Role.ADVISOR, 200, 403),  # a supervisor made an advisor loses the pages
        (Role.ADVISOR, Role.MANAGER, 403, 200),  # an advisor made a manager gets what managers get
    ],
)
def test_the_rules_page_and_objectives_follow_a_role_change(
    client, committed, before, after, status_before, status_after
):
    member = factories.staff(before)
    client.force_login(member.user)
    assert client.get(RULES).status_code == status_before
    assert client.get(NEW_OBJECTIVE).status_code == status_before

    with committed():
        staff_role_change(staff=member, role=after)

    assert client.get(RULES).status_code == status_after
    assert client.get(NEW_OBJECTIVE).status_code == status_after
    assert StaffMember.objects.get(pk=member.pk).role == after


def test_a_demoted_administrator_loses_the_admin_site_and_every_permission(client, committed):
    member = factories.staff(Role.ADMIN)
    client.force_login(member.user)
    assert client.get("/admin/").status_code == 200

    with committed():
        staff_role_change(staff=member, role=Role.ADVISOR)

    assert client.get("/admin/").status_code == 302
    assert client.get(NEW_OBJECTIVE).status_code == 403


def test_groups_given_by_hand_stay_after_a_role_change(client, committed):
    member = factories.staff(Role.SUPERVISOR)
    rule_viewers = Group.objects.create(name="Rule viewers")
    rule_viewers.permissions.add(Permission.objects.get(codename="view_routingrule"))
    member.user.groups.add(rule_viewers)

    with committed():
        staff_role_change(staff=member, role=Role.ADVISOR)

    client.force_login(member.user)
    assert client.get(RULES).status_code == 200
    assert client.get(NEW_OBJECTIVE).status_code == 403
    assert set(member.user.groups.values_list("name", flat=True)) == {"Sales advisor", "Rule viewers"}


def test_changing_the_role_in_the_admin_changes_access(client, committed):
    supervisor = factories.staff(Role.SUPERVISOR)
    advisor = factories.staff(Role.ADVISOR)

    with committed():
        _admin_change(client, supervisor, Role.ADVISOR)
        _admin_change(client, advisor, Role.MANAGER)

    client.force_login(supervisor.user)
    assert client.get(RULES).status_code == 403
    assert client.get(NEW_OBJECTIVE).status_code == 403
    client.force_login(advisor.user)
    assert client.get(RULES).status_code == 200
    assert client.get(NEW_OBJECTIVE).status_code == 200


def test_an_advisor_made_an_administrator_in_the_admin_can_open_it(client, committed):
    advisor = factories.staff(Role.ADVISOR)
    with committed():
        _admin_change(client, advisor, Role.ADMIN)
    client.force_login(advisor.user)
    assert client.get("/admin/").status_code == 200


def test_the_admin_does_not_move_a_staff_record_to_another_account(client):
    member = factories.staff(Role.SUPERVISOR)
    other = get_user_model().objects.create_user(username="newcomer", password=factories.PASSWORD)
    client.force_login(factories.staff(Role.ADMIN).user)
    client.post(
        reverse("admin:dealership_staffmember_change", args=[member.pk]),
        {"user": other.pk, "role": Role.SUPERVISOR, "department": member.department_id},
    )
    assert StaffMember.objects.get(pk=member.pk).user_id == member.user_id


def test_people_whose_role_changed_before_get_their_role_access_once_migrated(client):
    demoted = factories.staff(Role.SUPERVISOR)
    promoted = factories.staff(Role.ADVISOR)
    former_admin = factories.staff(Role.ADMIN)
    # What a role change did before it carried its access.
    for member, role in ((demoted, Role.ADVISOR), (promoted, Role.MANAGER), (former_admin, Role.ADVISOR)):
        member.role = role
        member.save()

    migration = importlib.import_module("dealership.migrations.0004_staff_role_access")
    migration.staff_role_access_set(apps, None)
    migration.staff_role_access_set(apps, None)  # once more: nothing changes

    client.force_login(demoted.user)
    assert client.get(RULES).status_code == 403
    assert client.get(NEW_OBJECTIVE).status_code == 403
    client.force_login(promoted.user)
    assert client.get(RULES).status_code == 200
    assert client.get(NEW_OBJECTIVE).status_code == 200
    client.force_login(former_admin.user)
    assert client.get("/admin/").status_code == 302
    assert client.get(NEW_OBJECTIVE).status_code == 403


@pytest.mark.parametrize("how", ["delete page", "delete action"])
def test_deleting_a_staff_record_in_the_admin_takes_its_access_away(client, committed, how):
    supervisor = factories.staff(Role.SUPERVISOR)
    user = supervisor.user
    lead = factories.lead()
    client.force_login(user)
    assert client.get(f"/leads/{lead.pk}/").status_code == 200
    client.force_login(factories.staff(Role.ADMIN).user)
    with committed():
        if how == "delete page":
            response = client.post(
                reverse("admin:dealership_staffmember_delete", args=[supervisor.pk]), {"post": "yes"}
            )
        else:
            response = client.post(
                reverse("admin:dealership_staffmember_changelist"),
                {"action": "delete_selected", "_selected_action": [supervisor.pk], "post": "yes"},
            )
    assert response.status_code == 302
    assert not StaffMember.objects.filter(pk=supervisor.pk).exists()

    client.force_login(get_user_model().objects.get(pk=user.pk))
    assert client.get(RULES).status_code == 403
    assert client.get(f"/leads/{lead.pk}/").status_code == 404
    assert not user.groups.exists()


@pytest.mark.parametrize("how", ["delete page", "delete action"])
def test_an_advisor_taken_off_the_staff_in_the_admin_gives_their_open_leads_back_to_the_inbox(
    client, committed, how
):
    from leads.models import LeadStatus
    from leads.services.leads import lead_assign, lead_transition

    supervisor = factories.staff(Role.SUPERVISOR)
    administrator = factories.staff(Role.ADMIN).user
    alex = factories.advisor(first_name="Alex", last_name="Chen")
    called = lead_assign(lead=factories.lead(), owner=alex.user, actor=supervisor.user)
    lost = lead_assign(lead=factories.lead(), owner=alex.user, actor=supervisor.user)
    lead_transition(lead=lost, to_status=LeadStatus.LOST, actor=alex.user, reason="Bought elsewhere")

    client.force_login(administrator)
    with committed():
        if how == "delete page":
            response = client.post(
                reverse("admin:dealership_staffmember_delete", args=[alex.pk]), {"post": "yes"}
            )
        else:
            response = client.post(
                reverse("admin:dealership_staffmember_changelist"),
                {"action": "delete_selected", "_selected_action": [alex.pk], "post": "yes"},
            )
    assert response.status_code == 302

    # Back in the inbox for the supervisor to give out, the timeline saying who did it and why.
    called.refresh_from_db()
    assert called.owner is None
    assert called.events.filter(type="assigned").latest("pk").actor == administrator
    client.force_login(supervisor.user)
    page = client.get(reverse("leads:lead_detail", args=[called.pk])).content.decode()
    assert "No longer assigned to Alex Chen, who was taken off the staff" in page
    lost.refresh_from_db()
    assert lost.owner == alex.user  # a closed lead keeps the name of who worked it


def test_deleting_the_record_of_someone_with_objectives_is_refused_and_keeps_them(client):
    advisor = factories.staff(Role.ADVISOR)
    objective = objective_propose(
        metric=Metric.LEADS_ANSWERED,
        period_kind="month",
        period_start=date(2026, 11, 1),
        target=40,
        person=advisor,
        actor=factories.staff(Role.SUPERVISOR).user,
    )
    client.force_login(factories.staff(Role.ADMIN).user)
    page = client.post(
        reverse("admin:dealership_staffmember_delete", args=[advisor.pk]), {"post": "yes"}
    ).content.decode()
    assert "would require deleting the following protected related objects" in page
    assert (
        StaffMember.objects.filter(pk=advisor.pk).exists()
        and Objective.objects.filter(pk=objective.pk).exists()
    )


def test_a_new_advisor_can_be_booked_on_the_stores_usual_week_from_their_first_day(db):
    from dealership.services import staff_create

    department = factories.department("sales")
    advisor = staff_create(
        username="nadia", first_name="Nadia", last_name="New", email="nadia@store.test", role=Role.ADVISOR,
        department=department,
    )  # fmt: skip
    assert advisor.working_hours.exists()
    supervisor = factories.staff(Role.SUPERVISOR)
    assert not supervisor.working_hours.exists()
    staff_role_change(staff=supervisor, role=Role.ADVISOR)  # moved to the floor
    assert supervisor.working_hours.exists()


def test_the_first_account_giving_itself_a_staff_record_keeps_the_admin(client, committed):
    """createsuperuser, then in the admin a department and a staff record for oneself as manager:
    the account keeps the admin site, and gets what managers get."""
    boss = get_user_model().objects.create_superuser(
        username="boss", email="boss@store.test", password=factories.PASSWORD
    )
    department = factories.department("sales")
    client.force_login(boss)
    with committed():
        response = client.post(
            reverse("admin:dealership_staffmember_add"),
            {"user": boss.pk, "role": Role.MANAGER, "department": department.pk, "title": "", "phone": ""},
        )
    assert response.status_code == 302, response.content.decode()[:2000]

    boss.refresh_from_db()
    assert boss.is_staff and boss.is_superuser
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
    assert client.get("/admin/").status_code == 200
    assert client.get(RULES).status_code == 200
    assert set(boss.groups.values_list("name", flat=True)) == {"Sales manager"}

    # Moved to another role, or off the staff, it stays the store's superuser.
    with committed():
        staff_role_change(staff=boss.staff, role=Role.ADVISOR)
        _admin_change(client, StaffMember.objects.get(user=boss), Role.SUPERVISOR)
    boss.refresh_from_db()
    assert boss.is_staff and boss.is_superuser
    staff_remove(staff=StaffMember.objects.get(user=boss))
    boss.refresh_from_db()
    assert boss.is_staff and boss.is_superuser and not boss.groups.exists()


def test_admin_access_given_by_the_administrator_role_still_goes_with_it(client, committed):
    """A superuser made an administrator, then given another role, loses what the role gave."""
    member = factories.staff(Role.ADVISOR)
    with committed():
        staff_role_change(staff=member, role=Role.ADMIN)
    member.user.refresh_from_db()
    assert member.user.is_staff and member.user.is_superuser
    with committed():
        staff_role_change(staff=member, role=Role.MANAGER)
    member.user.refresh_from_db()
    assert not member.user.is_staff and not member.user.is_superuser


def test_an_advisor_moved_to_a_department_in_the_admin_hands_their_open_tasks_on(client, committed):
    from leads.models import Task
    from leads.services.leads import contact_log

    supervisor = factories.staff(Role.SUPERVISOR).user
    advisor = factories.staff(Role.ADVISOR)
    lead = factories.lead()
    tomorrow = date.today().toordinal() + 1
    contact_log(
        lead=lead, author=advisor.user, channel="phone", outcome="reached", next_step="Call back",
        next_step_on=date.fromordinal(tomorrow),
    )  # fmt: skip
    task = Task.objects.get(lead=lead)
    assert task.assignee == advisor.user

    with committed():
        _admin_change(client, advisor, Role.DEPARTMENT)

    task.refresh_from_db()
    assert task.assignee == supervisor and task.done_at is None


def _needs_a_new_advisor(client, supervisor: StaffMember) -> str:
    """The "Needs a new advisor" part of the appointment calendar, as the supervisor sees it."""
    client.force_login(supervisor.user)
    calendar = client.get(reverse("leads:appointment_calendar")).content.decode()
    return calendar.partition("Needs a new advisor")[2]


def test_an_advisor_moved_to_the_service_department_in_the_admin_gives_their_open_leads_back_to_the_inbox(
    client, committed
):
    from leads.models import Appointment, LeadStatus
    from leads.services.leads import lead_assign, lead_transition

    supervisor = factories.staff(Role.SUPERVISOR)
    alex = factories.advisor(first_name="Alex", last_name="Chen")
    upcoming = factories.test_drive(factories.lead(), alex, hour=10)  # the lead becomes Alex's
    called = lead_assign(lead=factories.lead(), owner=alex.user, actor=supervisor.user)
    lost = lead_assign(lead=factories.lead(), owner=alex.user, actor=supervisor.user)
    lead_transition(lead=lost, to_status=LeadStatus.LOST, actor=alex.user, reason="Bought elsewhere")

    with committed():
        _admin_change(client, alex, Role.DEPARTMENT)

    # Back in the inbox for the supervisor to give out, the timeline saying who did it and why.
    for lead in (upcoming.lead, called):
        lead.refresh_from_db()
        assert lead.owner is None
        event = lead.events.filter(type="assigned").latest("pk")
        assert event.actor.staff.role == Role.ADMIN
    client.force_login(supervisor.user)
    page = client.get(reverse("leads:lead_detail", args=[called.pk])).content.decode()
    assert "No longer assigned to Alex Chen, who moved to a role that takes no leads" in page
    lost.refresh_from_db()
    assert lost.owner == alex.user  # a closed lead keeps the name of who worked it
    # The test drive stays booked with Alex until the desk gives it to an advisor.
    upcoming.refresh_from_db()
    assert upcoming.status == Appointment.Status.BOOKED and upcoming.advisor == alex
    assert f'id="needs-advisor-{upcoming.pk}"' in _needs_a_new_advisor(client, supervisor)


def test_an_advisor_made_a_supervisor_keeps_their_leads_and_their_appointments_need_a_new_advisor(
    client, committed
):
    supervisor = factories.staff(Role.SUPERVISOR)
    alex = factories.advisor(first_name="Alex", last_name="Chen")
    upcoming = factories.test_drive(factories.lead(), alex, hour=10)

    with committed():
        _admin_change(client, alex, Role.SUPERVISOR)

    upcoming.lead.refresh_from_db()
    assert upcoming.lead.owner == alex.user  # a supervisor still works leads
    assert f'id="needs-advisor-{upcoming.pk}"' in _needs_a_new_advisor(client, supervisor)


# A store in French (STORE_LANGUAGE=fr), its roles changed by people reading the site in English -----


def test_an_administrator_made_in_french_loses_the_admin_when_demoted_in_english():
    with translation.override("fr"):  # setup_store, or the admin read in French
        admin = factories.staff(Role.ADMIN)
    with translation.override("en"):  # a manager whose browser asks for English
        staff_role_change(staff=admin, role=Role.ADVISOR)
    admin.user.refresh_from_db()
    assert not admin.user.is_superuser and not admin.user.is_staff
    assert list(admin.user.groups.values_list("name", flat=True)) == ["Sales advisor"]


def test_the_role_groups_are_named_by_the_roles_english_labels_which_translate_them():
    with translation.override("en"):
        assert ROLE_GROUP_NAMES == {role: str(role.label) for role in Role}
    with translation.override("fr"):
        assert gettext(ROLE_GROUP_NAMES[Role.ADMIN]) == "Administrateur"


def test_one_group_per_role_named_the_same_whatever_the_language():
    with translation.override("fr"):
        factories.staff(Role.ADVISOR)
    with translation.override("en"):
        factories.staff(Role.SUPERVISOR)
    assert set(Group.objects.values_list("name", flat=True)) == set(ROLE_GROUP_NAMES.values())


FRENCH_GROUPS = {
    Role.SUPERVISOR: "Superviseur des ventes Internet",
    Role.ADVISOR: "Conseiller aux ventes",
    Role.MANAGER: "Directeur des ventes",
    Role.DEPARTMENT: "Personnel d’un service",
    Role.ADMIN: "Administrateur",
}


def test_role_groups_made_in_french_are_folded_into_one_group_per_role_once_migrated(client):
    """What a French store holds from before: groups named in French by setup_store, a second set in
    English made by role changes read in English, and people left in the old role's French group."""
    advisor = factories.staff(Role.ADVISOR)
    former_admin = factories.staff(Role.ADMIN)
    supervisor = factories.staff(Role.SUPERVISOR)
    boss = get_user_model().objects.create_superuser(username="boss", password=factories.PASSWORD)
    rule_viewers = Group.objects.create(name="Rule viewers")
    english = {group.name: group for group in Group.objects.all()}
    french = {}
    for role, name in FRENCH_GROUPS.items():
        french[role] = Group.objects.create(name=name)
        french[role].permissions.set(english[str(Role(role).label)].permissions.all())
    # The advisor and the supervisor were put in the French groups only (setup_store in French).
    advisor.user.groups.set([french[Role.ADVISOR]])
    supervisor.user.groups.set([french[Role.SUPERVISOR], rule_viewers])
    # The administrator, made one in French, then an advisor in English: still in the French
    # administrators' group, and still a superuser.
    former_admin.role = Role.ADVISOR
    former_admin.save()
    former_admin.user.groups.set([french[Role.ADMIN], english["Sales advisor"]])
    Group.objects.filter(name="Sales manager").delete()  # a role nobody held in English
    french[Role.MANAGER].user_set.add(boss)  # the store's superuser, put in a group by hand

    migration = importlib.import_module("dealership.migrations.0008_role_groups_in_one_language")
    state = MigrationLoader(connection).project_state(("dealership", "0008_role_groups_in_one_language"))
    migration.role_groups_fold(state.apps, None)
    migration.role_groups_fold(state.apps, None)  # once more: nothing changes

    assert set(Group.objects.values_list("name", flat=True)) == {*ROLE_GROUP_NAMES.values(), "Rule viewers"}
    assert Group.objects.get(name="Sales manager").permissions.filter(codename="approve_objective").exists()
    for member, names in (
        (advisor, {"Sales advisor"}),
        (supervisor, {"Internet sales supervisor", "Rule viewers"}),
        (former_admin, {"Sales advisor"}),
    ):
        assert set(member.user.groups.values_list("name", flat=True)) == names, member
    former_admin.user.refresh_from_db()
    assert not former_admin.user.is_staff and not former_admin.user.is_superuser
    boss.refresh_from_db()
    assert boss.is_superuser and set(boss.groups.values_list("name", flat=True)) == {"Sales manager"}
    client.force_login(supervisor.user)
    assert client.get(RULES).status_code == 200
    client.force_login(former_admin.user)
    assert client.get("/admin/").status_code == 302
