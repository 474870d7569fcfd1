import pytest
from django.utils import timezone

from dealership.models import Metric, Objective, Role
from leads.models import Lead
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_supervisor_proposes_and_the_manager_reviews_objectives_against_the_dashboard(
    login, live_server, page
):
    factories.staff(Role.SUPERVISOR, username="sophie")
    factories.staff(Role.MANAGER, username="marc")
    for minutes in (4, 12, 50):
        lead = factories.lead(source="AutoTrader")
        Lead.objects.filter(pk=lead.pk).update(
            first_response_at=timezone.now(),
            first_response_business_minutes=minutes,
            contacted_at=timezone.now(),
        )

    login("sophie", factories.PASSWORD)
    page.get_by_role("link", name="Objectives").click()
    page.get_by_role("link", name="Propose an objective").click()
    page.get_by_label("Metric").select_option(Metric.LEADS_ANSWERED)
    page.get_by_label("Target").fill("6")
    page.get_by_role("button", name="Propose").click()
    assert "Objective proposed" in page.content()
    assert page.get_by_role("button", name="Approve").count() == 0  # only the manager approves

    page.get_by_role("button", name="Log out").click()
    login("marc", factories.PASSWORD)
    assert page.locator("h1").inner_text().startswith("Internet department")
    row = page.locator("tr", has_text="Leads answered")
    assert "Proposed" in row.inner_text() and "50\u00a0%" in row.inner_text()  # 3 of 6 answered
    page.get_by_role("link", name="review").click()
    page.get_by_role("button", name="Approve").click()
    assert "Objective approved" in page.content()
    assert Objective.objects.get().status == Objective.Status.APPROVED
    page.get_by_role("link", name="Dashboard").click()
    assert "Approved" in page.locator("tr", has_text="Leads answered").inner_text()
    assert page.get_by_text("within target").count() >= 1
