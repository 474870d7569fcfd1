"""A lost lead worth another try: never a duplicate merged into another lead, nor a customer being
worked on another lead or who bought since."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role, StaffMember
from dealership.services import staff_remove
from leads.models import Lead, LeadStatus, LoyaltyKind, Task
from leads.services.leads import lead_merge, lead_transition
from leads.services.loyalty import loyalty_tasks_create
from tests import factories
from tests.french import ENGLISH, FRENCH, page_text

pytestmark = pytest.mark.django_db

LATER = timedelta(days=95)  # past the 90 days a lost lead waits before it is worth another try


@pytest.fixture
def advisor(db):
    factories.staff(Role.SUPERVISOR)  # who gets the sales tasks nobody owns
    return factories.staff(Role.ADVISOR)


def _lead(customer, advisor, *, days_ago: int, **fields) -> Lead:
    lead = factories.lead(
        customer_obj=customer, received_at=timezone.now() - timedelta(days=days_ago), **fields
    )
    Lead.objects.filter(pk=lead.pk).update(owner=advisor.user)
    lead.refresh_from_db()
    return lead


def _sell(lead: Lead) -> Lead:
    lead = lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    return lead_transition(lead=lead, to_status=LeadStatus.SOLD)


def _revivals(today=None) -> list[Task]:
    created = loyalty_tasks_create(today=today or timezone.localdate() + LATER)
    return [task for task in created if task.kind == LoyaltyKind.LOST_LEAD_REVIVAL]


def _my_tasks(client, advisor) -> tuple[str, str]:
    client.force_login(advisor.user)
    url = reverse("leads:my_tasks")
    return page_text(client, url, FRENCH), page_text(client, url, ENGLISH)


def test_a_merged_duplicate_of_a_sold_lead_is_no_lead_to_revive(client, advisor):
    customer = factories.customer(first_name="Ravi", last_name="Patel")
    kept = _lead(customer, advisor, days_ago=3)
    duplicate = _lead(customer, advisor, days_ago=1)
    lead_merge(target=kept, duplicate=duplicate)
    _sell(kept)

    assert _revivals() == []
    for page in _my_tasks(client, advisor):
        assert "worth another try" not in page and "Merged into lead" not in page
        assert "Ravi Patel" not in page


def test_a_lost_lead_of_a_customer_who_bought_on_another_is_no_lead_to_revive(client, advisor):
    customer = factories.customer(first_name="Ravi", last_name="Patel")
    bought = _lead(customer, advisor, days_ago=3)
    lost = _lead(customer, advisor, days_ago=2)  # the same inquiry, by phone, never merged
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Bought with us")
    _sell(bought)

    assert _revivals() == []
    for page in _my_tasks(client, advisor):
        assert "Ravi Patel" not in page


def test_a_customer_still_worked_on_another_lead_is_not_offered_again(advisor):
    customer = factories.customer()
    _lead(customer, advisor, days_ago=3)  # still new
    lost = _lead(customer, advisor, days_ago=2)
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Duplicate")

    assert _revivals() == []


def test_a_message_closed_as_not_a_lead_is_never_revived_nor_keeps_the_customers_lost_lead_from_it(advisor):
    supervisor = StaffMember.objects.get(role=Role.SUPERVISOR).user
    customer = factories.customer()
    lost = _lead(customer, advisor, days_ago=3)
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Too expensive")
    about_service = _lead(customer, advisor, days_ago=2)  # they wrote to book an oil change
    lead_transition(
        lead=about_service, to_status=LeadStatus.NOT_A_LEAD, actor=supervisor, reason="For service only"
    )

    [task] = _revivals()
    assert task.moment_key == str(lost.pk)


def test_a_customer_who_bought_before_a_new_inquiry_they_gave_up_is_offered_again(client, advisor):
    customer = factories.customer(first_name="Ravi", last_name="Patel")
    earlier = _sell(_lead(customer, advisor, days_ago=400))  # their last car, bought more than a year ago
    Lead.objects.filter(pk=earlier.pk).update(sold_at=timezone.now() - timedelta(days=399))
    lost = _lead(customer, advisor, days_ago=2)
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Too expensive")

    [task] = _revivals()
    assert task.customer == customer and task.assignee == advisor.user
    french, english = _my_tasks(client, advisor)
    assert "Ravi Patel" in french and "Ravi Patel" in english
    assert "worth another try" in english


def test_an_advisor_taken_off_the_staff_is_given_no_more_customers_to_call(client, advisor):
    customer = factories.customer(
        first_name="Ravi", last_name="Patel", email="ravi.patel@example.com", phone="416 555 0199"
    )
    lost = _lead(customer, advisor, days_ago=3)
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Went elsewhere")
    staff_remove(staff=advisor)  # her login kept: she may still sign in

    [task] = _revivals()
    assert task.assignee_id != advisor.user_id
    assert task.assignee == StaffMember.objects.get(role=Role.SUPERVISOR).user  # sales tasks nobody owns
    client.force_login(advisor.user)
    page = client.get(reverse("leads:my_tasks")).content.decode()
    assert "ravi.patel@example.com" not in page and "Patel" not in page
