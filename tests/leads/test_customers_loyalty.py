"""Loyalty moments become tasks for the right person, once per moment, when their rule is on."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from dealership.models import Role
from leads.models import HistoryKind, Lead, LeadEvent, LoyaltyKind, LoyaltyRule, Task
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
