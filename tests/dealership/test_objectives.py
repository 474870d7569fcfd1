"""Proposing objectives: one target at a time for a metric, a person (or the department) and a period."""

import pytest
from django.urls import reverse

from dealership.models import Metric, Objective, Role
from tests import factories
from tests.french import flash_text

pytestmark = pytest.mark.django_db


def _propose(client, **fields):
    data = {
        "metric": Metric.APPOINTMENTS_SET,
        "period_kind": "month",
        "period_start": "2026-11-15",
        "target": "40",
    }
    return client.post(reverse("dealership:objective_create"), data | fields)


def test_proposing_the_same_objective_twice_keeps_one_and_says_why(client):
    supervisor = factories.staff(Role.SUPERVISOR)
    client.force_login(supervisor.user)
    assert _propose(client).status_code == 302
    # a double click, or the same objective proposed again from another day of the month
    again = _propose(client, period_start="2026-11-03", target="45")
    assert again.status_code == 200
    assert "already proposed" in again.content.decode()
    assert 'value="45"' in again.content.decode()  # the form keeps what was typed
    assert Objective.objects.count() == 1


@pytest.mark.parametrize("kind", ["week", "month", "quarter"])
def test_an_objective_for_a_period_out_of_the_calendars_reach_is_refused_on_the_form(client, kind):
    client.force_login(factories.staff(Role.SUPERVISOR).user)
    # The date picker takes year 9999: the period after it would be past the calendar's end.
    response = _propose(client, period_kind=kind, period_start="9999-12-31", note="Q4 push")
    html = response.content.decode()
    assert response.status_code == 200 and not Objective.objects.exists()
    assert "Ensure this value is less than or equal to 9998-12-31." in html
    assert 'value="9999-12-31"' in html and "Q4 push" in html and 'value="40"' in html


def test_an_approved_objective_is_not_doubled_by_another_target(client):
    supervisor = factories.staff(Role.SUPERVISOR)
    advisor = factories.staff(Role.ADVISOR)
    manager = factories.staff(Role.MANAGER)
    client.force_login(supervisor.user)
    _propose(client, person=advisor.pk)
    objective = Objective.objects.get()
    client.force_login(manager.user)
    client.post(reverse("dealership:objective_decide", args=[objective.pk]), {"decision": "approved"})
    again = _propose(client, person=advisor.pk, target="50")
    assert "already approved" in again.content.decode()
    assert list(Objective.objects.values_list("target", flat=True)) == [40]


def test_other_periods_people_and_metrics_are_other_objectives_and_a_rejected_one_may_come_back(client):
    supervisor = factories.staff(Role.SUPERVISOR)
    advisor = factories.staff(Role.ADVISOR)
    manager = factories.staff(Role.MANAGER)
    client.force_login(supervisor.user)
    for fields in (
        {},
        {"person": advisor.pk},
        {"period_kind": "quarter"},
        {"period_start": "2026-12-01"},
        {"metric": Metric.VEHICLES_SOLD},
    ):
        assert _propose(client, **fields).status_code == 302
    first = Objective.objects.get(
        person=None, metric=Metric.APPOINTMENTS_SET, period_kind="month", period_start="2026-11-01"
    )
    client.force_login(manager.user)
    client.post(reverse("dealership:objective_decide", args=[first.pk]), {"decision": "rejected"})
    client.force_login(supervisor.user)
    assert _propose(client, target="30").status_code == 302
    assert Objective.objects.count() == 6


def test_an_objective_still_running_is_not_listed_among_the_earlier_ones(client):
    """The quarter's and the month's objectives are in progress on a week's page, not earlier."""
    supervisor = factories.staff(Role.SUPERVISOR)
    client.force_login(supervisor.user)
    _propose(client, period_kind="quarter")
    _propose(client)
    _propose(client, period_start="2026-10-15")  # October's: earlier than the week of 9 November
    page = client.get(reverse("dealership:objective_list"), {"period": "week", "date": "2026-11-10"})
    running = {(p.objective.period_kind, str(p.objective.period_start)) for p in page.context["progress"]}
    earlier = {(o.period_kind, str(o.period_start)) for o in page.context["history"]}
    assert running == {("quarter", "2026-10-01"), ("month", "2026-11-01")}
    assert earlier == {("month", "2026-10-01")}


def test_every_column_of_the_objectives_table_has_a_heading_a_screen_reader_reads(client):
    client.force_login(factories.staff(Role.SUPERVISOR).user)
    _propose(client)
    page = client.get(reverse("dealership:objective_list"), {"date": "2026-11-15"}).content.decode()
    assert "Approve" in page or "Withdraw" in page  # the column of what may be done with a proposal
    assert "<th></th>" not in page
    assert '<span class="visually-hidden">Action</span></th>' in page


def test_a_proposed_target_is_changed_before_the_decision_and_the_change_is_kept(client):
    supervisor, manager = factories.staff(Role.SUPERVISOR), factories.staff(Role.MANAGER)
    client.force_login(supervisor.user)
    _propose(client, target="400")  # one zero too many
    objective = Objective.objects.get()
    page = client.get(reverse("dealership:objective_list"), {"date": "2026-11-15"}).content.decode()
    change = reverse("dealership:objective_revise", args=[objective.pk])
    assert f'href="{change}"' in page
    refused = client.post(change, {"target": "-4"})
    assert "A target cannot be negative." in refused.content.decode()
    saved = client.post(change, {"target": "40", "note": "typo"}, follow=True)
    assert "Objective changed; the manager will review it." in saved.content.decode()
    objective.refresh_from_db()
    assert (objective.target, objective.note, objective.status) == (40, "typo", "proposed")
    revised = objective.events.get(type="revised")
    assert (revised.actor, revised.params["from"]["target"], revised.params["to"]["target"]) == (
        supervisor.user, "400", "40",
    )  # fmt: skip
    # Once the manager decides, the target stays as decided.
    client.force_login(manager.user)
    client.post(reverse("dealership:objective_decide", args=[objective.pk]), {"decision": "approved"})
    client.force_login(supervisor.user)
    late = client.post(change, {"target": "30"}, follow=True)
    assert "Only a proposed objective can be changed; this one is approved." in late.content.decode()
    assert Objective.objects.get().target == 40


def test_a_withdrawn_objective_frees_its_place_and_an_advisor_cannot_withdraw_one(client):
    supervisor, advisor = factories.staff(Role.SUPERVISOR), factories.staff(Role.ADVISOR)
    client.force_login(supervisor.user)
    _propose(client, person=advisor.pk)
    objective = Objective.objects.get()
    client.force_login(advisor.user)
    withdraw = reverse("dealership:objective_withdraw", args=[objective.pk])
    assert client.post(withdraw).status_code == 403
    assert client.get(reverse("dealership:objective_revise", args=[objective.pk])).status_code == 403
    client.force_login(supervisor.user)
    page = client.post(withdraw, follow=True).content.decode()
    assert "Objective withdrawn." in page and "Withdrawn" in page
    assert Objective.objects.get().status == "withdrawn"
    assert _propose(client, person=advisor.pk, target="35").status_code == 302  # its place is free
    again = client.post(withdraw, follow=True)
    assert "An objective that is withdrawn cannot become withdrawn." in flash_text(again)
    assert Objective.objects.filter(status="withdrawn").count() == 1
