"""Loyalty moments become tasks for the right person, once per moment, when their rule is on."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from dealership.services import staff_remove, staff_role_change
from leads.models import AuditEntry, HistoryKind, Lead, LeadEvent, LoyaltyKind, LoyaltyRule, Task
from leads.services.customers import history_item_add
from leads.services.leads import lead_transition
from leads.services.loyalty import loyalty_rule_set, loyalty_rules_ensure, loyalty_tasks_create
from leads.tasks import loyalty_tasks_create_task
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 1)
noon = factories.noon


@pytest.fixture
def store_staff(db):
    return {
        "supervisor": factories.staff(Role.SUPERVISOR),
        "finance": factories.staff(Role.DEPARTMENT, department_code="finance"),
        "service": factories.staff(Role.DEPARTMENT, department_code="service"),
        "advisor": factories.staff(Role.ADVISOR),
    }


def moments(store_staff):
    """One customer with every kind of loyalty moment falling due around TODAY."""
    customer = factories.customer(first_name="Grace", last_name="Lee")
    factories.financed_rav4_2023(customer)
    history_item_add(
        customer=customer, kind=HistoryKind.SERVICE_VISIT, occurred_at=noon(date(2026, 11, 20)),
        summary="Brakes", vehicle="2015 Honda Civic", vin="2HGFB2F50FH000001", odometer_km=182_000,
    )  # fmt: skip
    lost = factories.lead(
        customer_obj=factories.customer(first_name="Ravi"), received_at=noon(date(2026, 8, 1))
    )
    Lead.objects.filter(pk=lost.pk).update(owner=store_staff["advisor"].user)
    lost = lead_transition(lead=lost, to_status="lost", actor=None, reason="Bought elsewhere")
    LeadEvent.objects.filter(lead=lost).update(created_at=noon(TODAY - timedelta(days=95)))
    return customer, lost


def test_every_kind_of_moment_makes_one_task_for_the_right_person(store_staff):
    customer, lost = moments(store_staff)
    created = loyalty_tasks_create(today=TODAY)
    by_kind = {task.kind: task for task in created}
    assert set(by_kind) == set(LoyaltyKind.values)
    anniversary = by_kind[LoyaltyKind.PURCHASE_ANNIVERSARY]
    assert anniversary.due_on == date(2026, 12, 10) and anniversary.title.startswith("3-year anniversary")
    assert (
        anniversary.assignee == store_staff["supervisor"].user
    )  # no salesperson on record: sales supervisor
    assert by_kind[LoyaltyKind.TERM_ENDING].assignee == store_staff["finance"].user
    assert "Financing term ends 2027-02-15" in by_kind[LoyaltyKind.TERM_ENDING].title
    assert by_kind[LoyaltyKind.WARRANTY_ENDING].assignee == store_staff["service"].user
    assert "182,000 km" in by_kind[LoyaltyKind.HIGH_MILEAGE].title
    revival = by_kind[LoyaltyKind.LOST_LEAD_REVIVAL]
    assert revival.customer == lost.customer and revival.assignee == store_staff["advisor"].user


def test_running_again_creates_nothing_new(store_staff):
    moments(store_staff)
    first = loyalty_tasks_create(today=TODAY)
    assert loyalty_tasks_create(today=TODAY) == []
    assert loyalty_tasks_create(today=TODAY + timedelta(days=1)) == []  # same moments, next morning
    assert Task.objects.count() == len(first) == 5
    # The Celery task (as beat runs it) is just as idempotent.
    assert loyalty_tasks_create_task.apply().get() == 0


def test_a_rule_switched_off_makes_no_tasks_and_the_switch_is_audited(store_staff):
    moments(store_staff)
    loyalty_rules_ensure()
    rule = LoyaltyRule.objects.get(kind=LoyaltyKind.HIGH_MILEAGE)
    loyalty_rule_set(rule=rule, enabled=False, actor=store_staff["supervisor"].user)
    assert LoyaltyKind.HIGH_MILEAGE not in {task.kind for task in loyalty_tasks_create(today=TODAY)}


def test_moments_outside_their_window_make_no_task(store_staff):
    customer = factories.customer()
    history_item_add(
        customer=customer, kind=HistoryKind.LEASE, occurred_at=noon(date(2024, 3, 1)), summary="Lease",
        term_ends_on=TODAY + timedelta(days=91),
    )  # fmt: skip
    assert loyalty_tasks_create(today=TODAY) == []
    assert [t.kind for t in loyalty_tasks_create(today=TODAY + timedelta(days=1))] == [
        LoyaltyKind.TERM_ENDING
    ]


def test_a_customer_who_asked_for_no_more_messages_is_pitched_nothing_and_staff_see_what_they_withdrew(
    store_staff, client
):
    from leads.services.consent import consent_withdraw

    customer, lost = moments(store_staff)
    consent_withdraw(customer=customer, channels=["email", "text", "phone"], source="unsubscribe link")
    consent_withdraw(customer=lost.customer, channels=["phone"], source="told staff")
    created = loyalty_tasks_create(today=TODAY)
    assert [task.customer for task in created] == [lost.customer]  # Grace asked for nothing more
    client.force_login(store_staff["advisor"].user)
    page = client.get(reverse("leads:my_tasks")).content.decode()
    assert "Asked not to be called" in page and "No commercial email" not in page


def test_daily_run_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["loyalty-tasks-daily"]
    assert entry["task"] == loyalty_tasks_create_task.name


def test_rules_page_toggles_and_my_tasks_marks_done(store_staff, client):
    moments(store_staff)
    loyalty_tasks_create(today=TODAY)
    supervisor = store_staff["supervisor"].user
    client.force_login(supervisor)
    page = client.get(reverse("leads:loyalty_rules")).content.decode()
    assert "Purchase anniversary" in page and "On — switch off" in page
    rule = LoyaltyRule.objects.get(kind=LoyaltyKind.WARRANTY_ENDING)
    client.post(reverse("leads:loyalty_rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.enabled
    fragment = client.post(
        reverse("leads:loyalty_rule_toggle", args=[rule.pk]), {"enabled": "on"}, HTTP_HX_REQUEST="true"
    )
    assert "On — switch off" in fragment.content.decode() and "<html" not in fragment.content.decode()
    mine = client.get(reverse("leads:my_tasks")).content.decode()
    task = Task.objects.filter(assignee=supervisor).first()
    assert task.title in mine and Task.objects.filter(assignee=supervisor).count() == 2
    client.post(reverse("leads:task_done", args=[task.pk]))
    task.refresh_from_db()
    assert task.done_at is not None
    # Someone else's task cannot be ticked off.
    other = Task.objects.exclude(assignee=supervisor).first()
    assert client.post(reverse("leads:task_done", args=[other.pk])).status_code == 404


# --- someone taken off the staff (their login kept) ------------------------------------------------


def _task(assignee, kind=LoyaltyKind.PURCHASE_ANNIVERSARY, *, done: bool = False, **customer) -> Task:
    customer = factories.customer(**customer)
    return Task.objects.create(
        assignee=assignee, customer=customer, kind=kind, title=str(kind.label), due_on=TODAY,
        moment_key=f"test:{customer.pk}", done_at=noon(TODAY) if done else None,
    )  # fmt: skip


def _handed_over() -> dict[str, dict]:
    return {
        entry.object_id: entry.changes
        for entry in AuditEntry.objects.filter(model="leads.task", action="task_reassigned")
    }


def test_an_account_with_no_staff_role_sees_no_customer_contact_details_on_its_task_list(client):
    factories.staff(Role.SUPERVISOR)
    ann = factories.staff(Role.ADVISOR)
    customer = factories.customer(first_name="Lucie", last_name="Gagnon", email="lucie.g@example.com")
    loyalty_rules_ensure()
    Task.objects.create(
        assignee=ann.user, customer=customer, kind=LoyaltyKind.PURCHASE_ANNIVERSARY,
        title="Purchase anniversary", due_on=timezone.localdate(), moment_key="x:1",
    )  # fmt: skip
    staff_remove(staff=ann)
    client.force_login(ann.user)
    assert client.get(reverse("leads:customer_list")).status_code == 403
    response = client.get(reverse("leads:my_tasks"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "lucie.g@example.com" not in page and "Gagnon" not in page
    # Nor does the menu offer the page: the staff directory, which they may still open, does not.
    directory = client.get(reverse("dealership:directory")).content.decode()
    assert reverse("leads:my_tasks") not in directory


def test_someone_taken_off_the_staff_hands_their_open_tasks_to_whoever_gets_the_departments_tasks(
    store_staff,
):
    advisor, supervisor = store_staff["advisor"].user, store_staff["supervisor"].user
    finance = store_staff["finance"].user
    anniversary = _task(advisor)
    term = _task(advisor, LoyaltyKind.TERM_ENDING)  # a finance task: the finance department's person
    done = _task(advisor, LoyaltyKind.LOST_LEAD_REVIVAL, done=True)
    others = _task(supervisor, LoyaltyKind.HIGH_MILEAGE)

    staff_remove(staff=store_staff["advisor"])

    for task in (anniversary, term, done, others):
        task.refresh_from_db()
    assert anniversary.assignee == supervisor and term.assignee == finance
    assert anniversary.done_at is None and term.done_at is None
    assert done.assignee == advisor and done.done_at == noon(TODAY)  # done: history, left as it was
    assert others.assignee == supervisor
    # Each handover is in the audit trail, beside the loyalty rules' switches.
    assert _handed_over() == {
        str(anniversary.pk): {"assignee": [advisor.pk, supervisor.pk]},
        str(term.pk): {"assignee": [advisor.pk, finance.pk]},
    }


def test_the_person_who_gets_the_departments_tasks_hands_them_to_the_next_one_when_taken_off(store_staff):
    supervisor, advisor = store_staff["supervisor"], store_staff["advisor"]
    task = _task(supervisor.user)  # a sales task nobody in particular owned: the supervisor's

    staff_remove(staff=supervisor)

    task.refresh_from_db()
    assert task.assignee == advisor.user  # the only one left in sales, never the supervisor again


def test_with_no_one_left_in_the_department_its_tasks_wait_unassigned_on_the_customers_page(
    store_staff, client
):
    task = _task(store_staff["finance"].user, LoyaltyKind.TERM_ENDING, last_name="Okafor")

    staff_remove(staff=store_staff["finance"])

    task.refresh_from_db()
    assert task.assignee is None and task.done_at is None
    assert _handed_over() == {str(task.pk): {"assignee": [store_staff["finance"].user_id, None]}}
    client.force_login(store_staff["supervisor"].user)
    page = client.get(reverse("leads:customer_detail", args=[task.customer_id])).content.decode()
    assert "Lease or finance term ending · due" in page and "unassigned" in page


def test_tasks_left_unassigned_go_to_whoever_joins_the_department_at_the_next_daily_run(store_staff):
    task = _task(store_staff["finance"].user, LoyaltyKind.TERM_ENDING, last_name="Okafor")
    staff_remove(staff=store_staff["finance"])
    loyalty_tasks_create(today=TODAY)  # nobody in finance yet: it waits
    task.refresh_from_db()
    assert task.assignee is None
    newcomer = factories.staff(Role.DEPARTMENT, department_code="finance")
    loyalty_tasks_create(today=TODAY + timedelta(days=1))
    task.refresh_from_db()
    assert task.assignee == newcomer.user and task.done_at is None


def test_an_advisor_moved_to_a_department_hands_their_sales_tasks_on(store_staff):
    advisor = store_staff["advisor"]
    task = _task(advisor.user, LoyaltyKind.PURCHASE_ANNIVERSARY)
    done = _task(advisor.user, LoyaltyKind.PURCHASE_ANNIVERSARY, done=True)
    staff_role_change(staff=advisor, role=Role.MANAGER)  # still takes leads: keeps them
    task.refresh_from_db()
    assert task.assignee == advisor.user
    staff_role_change(staff=advisor, role=Role.DEPARTMENT)  # now in a department: handed on
    task.refresh_from_db(), done.refresh_from_db()
    assert task.assignee == store_staff["supervisor"].user and done.assignee == advisor.user
    assert _handed_over() == {str(task.pk): {"assignee": [advisor.user_id, store_staff["supervisor"].user_id]}}


def test_someone_with_no_tasks_is_taken_off_the_staff_and_nobody_elses_tasks_move(store_staff):
    task = _task(store_staff["service"].user, LoyaltyKind.WARRANTY_ENDING)

    staff_remove(staff=store_staff["advisor"])

    task.refresh_from_db()
    assert task.assignee == store_staff["service"].user and _handed_over() == {}


def test_an_account_with_no_staff_role_cannot_tick_off_a_task(store_staff, client):
    advisor = store_staff["advisor"]
    staff_remove(staff=advisor)
    task = _task(advisor.user)  # still theirs, however it got there
    client.force_login(advisor.user)

    assert client.post(reverse("leads:task_done", args=[task.pk])).status_code == 403
    task.refresh_from_db()
    assert task.done_at is None
    # Department staff keep their task list: they work from the contact details shown there.
    client.force_login(store_staff["finance"].user)
    assert client.get(reverse("leads:my_tasks")).status_code == 200


@pytest.mark.parametrize(
    ("change", "assignee"),
    [("none", "advisor"), ("taken off the staff", "supervisor"), ("made department staff", "supervisor")],
)
def test_a_purchase_anniversary_goes_to_the_salesperson_only_while_they_take_leads(
    store_staff, change, assignee
):
    customer = factories.customer()
    factories.financed_rav4_2023(customer)  # its third anniversary falls on 2026-12-10
    lead = factories.lead(customer_obj=customer, received_at=noon(date(2023, 11, 20)))
    Lead.objects.filter(pk=lead.pk).update(owner=store_staff["advisor"].user)
    if change == "taken off the staff":
        staff_remove(staff=store_staff["advisor"])
    elif change == "made department staff":
        staff_role_change(staff=store_staff["advisor"], role=Role.DEPARTMENT)

    [task] = [
        task for task in loyalty_tasks_create(today=TODAY) if task.kind == LoyaltyKind.PURCHASE_ANNIVERSARY
    ]
    assert task.assignee == store_staff[assignee].user


def test_a_sale_whose_deal_fell_through_has_no_purchase_anniversary(store_staff):
    from dateutil.relativedelta import relativedelta

    sold = {}
    for name in ("Kept", "Undone"):
        lead = lead_transition(
            lead=factories.lead(customer_obj=factories.customer(first_name=name)), to_status="contacted"
        )
        sold[name] = lead_transition(lead=lead, to_status="sold")
    lead_transition(
        lead=sold["Undone"],
        to_status="lost",
        actor=store_staff["supervisor"].user,
        reason="Customer backed out",
    )
    a_year_on = timezone.localtime(sold["Kept"].sold_at).date() + relativedelta(years=1)
    created = loyalty_tasks_create(today=a_year_on)
    anniversaries = [task.customer for task in created if task.kind == LoyaltyKind.PURCHASE_ANNIVERSARY]
    assert anniversaries == [sold["Kept"].customer]


def test_a_loyalty_rule_cannot_be_deleted_in_the_admin_only_switched_off(client):
    from django.urls import reverse

    from dealership.models import Role
    from leads.services.loyalty import loyalty_rules_ensure

    rule = loyalty_rules_ensure()[0]
    client.force_login(factories.staff(Role.ADMIN).user)
    response = client.post(reverse("admin:leads_loyaltyrule_delete", args=[rule.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert type(rule).objects.filter(pk=rule.pk).exists()
