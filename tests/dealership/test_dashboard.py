"""The manager's dashboard on a hand-made data set whose right answers are known."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealership.models import Metric, Objective, ObjectiveEvent, Role
from dealership.selectors import (
    GRAIN,
    _lead_groups,
    _summary_groups,
    appointments_by_advisor,
    dashboard_figures,
    dashboard_leads,
    objectives_progress,
    percentile,
    period_for,
    response_target,
)
from dealership.services import objective_propose, objective_transition
from leads.models import Appointment, Lead, LeadStatus
from leads.services.leads import lead_merge, lead_transition
from tests import factories

pytestmark = pytest.mark.django_db


def objective_progress(*, objective, today):
    """One objective's progress, as the objectives page measures it among the others."""
    [progress] = objectives_progress(objectives=[objective], today=today)
    return progress


TORONTO = ZoneInfo("America/Toronto")
NOVEMBER = {"period": "month", "date": "2026-11-15"}
STAGES = ["contacted_at", "appointment_set_at", "shown_at", "sold_at"]


def _lead(*, source, received, minutes, reached, owner=None, status=LeadStatus.NEW):
    lead = factories.lead(source=source, received_at=received)
    stamp = received + timedelta(hours=2)
    Lead.objects.filter(pk=lead.pk).update(
        owner=owner,
        sold_by=owner if reached == len(STAGES) else None,  # sold by its owner, as lead_transition has it
        status=status,
        first_response_business_minutes=minutes,
        first_response_at=received + timedelta(minutes=minutes) if minutes is not None else None,
        **{field: stamp for field in STAGES[:reached]},
    )
    return lead


@pytest.fixture
def store():
    """Six November leads from two sources and two advisors, and one October lead that must not count."""
    x = factories.staff(Role.ADVISOR, username="xavier")
    y = factories.staff(Role.ADVISOR, username="yasmin")
    nov = datetime(2026, 11, 10, 10, 0, tzinfo=TORONTO)  # a Tuesday, 10:00
    _lead(source="AutoTrader", received=nov, minutes=3, reached=4, owner=x.user, status=LeadStatus.SOLD)
    _lead(source="AutoTrader", received=nov + timedelta(hours=1), minutes=10, reached=3, owner=x.user)
    _lead(source="AutoTrader", received=nov + timedelta(days=1), minutes=40, reached=2, owner=y.user)
    _lead(source="AutoTrader", received=nov + timedelta(days=2), minutes=None, reached=0)
    _lead(source="Website", received=nov + timedelta(days=5), minutes=20, reached=1, owner=x.user)
    _lead(source="Website", received=nov + timedelta(days=6), minutes=100, reached=1, status=LeadStatus.LOST)
    _lead(source="Website", received=datetime(2026, 10, 20, 12, tzinfo=TORONTO), minutes=1, reached=4)
    return {"x": x, "y": y}


def _dashboard(client, user, **params):
    client.force_login(user)
    return client.get(reverse("dealership:dashboard"), {**NOVEMBER, **params})


def _mid_november(metric: str, *, target: int, person=None):
    """Progress on 15 November of a November objective of the department (or of `person`)."""
    objective = objective_propose(
        metric=metric,
        period_kind="month",
        period_start=date(2026, 11, 1),
        target=target,
        person=person,
        actor=None,
    )
    return objective_progress(objective=objective, today=date(2026, 11, 15))


def test_funnel_and_rates_for_the_month(client, store):
    manager = factories.staff(Role.MANAGER)
    context = _dashboard(client, manager.user).context
    overall = context["overall"]
    assert (
        overall["leads"],
        overall["contacted"],
        overall["appointment_set"],
        overall["shown"],
        overall["sold"],
    ) == (
        6,
        5,
        3,
        2,
        1,
    )
    assert (overall["appointment_rate"], overall["show_rate"], overall["close_rate"]) == (50.0, 66.7, 16.7)
    by_source = {row["key"]: row for row in context["by_source"]}
    assert by_source["AutoTrader"]["leads"] == 4 and by_source["AutoTrader"]["sold"] == 1
    assert by_source["Website"]["leads"] == 2 and by_source["Website"]["appointment_rate"] == 0.0
    by_person = {row["key"]: row for row in context["by_person"]}
    assert by_person["xavier"]["leads"] == 3 and by_person["yasmin"]["appointment_set"] == 1
    assert by_person[""]["leads"] == 2  # unassigned leads are shown too


def test_a_merged_duplicate_counts_once_with_what_it_reached(client, store):
    manager = factories.staff(Role.MANAGER)
    kept = Lead.objects.get(source="AutoTrader", first_response_business_minutes__isnull=True)
    duplicate = factories.lead(
        customer_obj=kept.customer, source="Website", received_at=datetime(2026, 11, 20, 9, tzinfo=TORONTO)
    )
    lead_transition(lead=duplicate, to_status=LeadStatus.APPOINTMENT_SET)
    overall = _dashboard(client, manager.user).context["overall"]
    assert (overall["leads"], overall["appointment_set"]) == (7, 4)
    lead_merge(target=kept, duplicate=duplicate)
    context = _dashboard(client, manager.user).context
    overall = context["overall"]
    assert (overall["leads"], overall["contacted"], overall["appointment_set"]) == (6, 6, 4)
    by_source = {row["key"]: row for row in context["by_source"]}
    assert by_source["Website"]["leads"] == 2 and by_source["AutoTrader"]["appointment_set"] == 4
    # The figure's link opens the inbox on the same leads: the duplicate is listed with the lost.
    inbox = client.get(context["overall_links"]["appointment_set"]).content.decode()
    assert f'href="/leads/{kept.pk}/"' in inbox and f'href="/leads/{duplicate.pk}/"' not in inbox


def test_an_inquiry_closed_as_not_a_lead_counts_in_no_figure(client, store):
    """Spam answered late, by Xavier, from the website: counted, it would bring the close rate down to
    14.3 % and the median first response up to 30 minutes."""
    supervisor = factories.staff(Role.SUPERVISOR).user
    spam = _lead(
        source="Website",
        received=datetime(2026, 11, 13, 10, tzinfo=TORONTO),
        minutes=500,
        reached=1,
        owner=store["x"].user,
        status=LeadStatus.CONTACTED,
    )
    lead_transition(lead=spam, to_status=LeadStatus.NOT_A_LEAD, actor=supervisor, reason="Spam")
    manager = factories.staff(Role.MANAGER)
    page = _dashboard(client, manager.user)
    context = page.context
    overall = context["overall"]
    assert (overall["leads"], overall["contacted"]) == (6, 5)
    assert (overall["appointment_rate"], overall["close_rate"]) == (50.0, 16.7)
    assert (context["response"]["median"], context["response"]["share_within_target"]) == (20, 50.0)
    assert {row["key"]: row["leads"] for row in context["by_source"]} == {"AutoTrader": 4, "Website": 2}
    assert {row["key"]: row["leads"] for row in context["by_person"]}["xavier"] == 3
    assert sum(day["leads"] for day in context["volume_days"]) == 6
    assert _inbox_rows(client, context["overall_links"]["leads"]) == 6
    # The spam is not hidden from the manager: how much came is said apart, with its link.
    html = unescape(page.content.decode())
    assert "Not counted: 1 inquiry closed as not a lead" in html
    assert _inbox_rows(client, context["not_a_lead_link"]) == 1
    # Xavier's own page, and his objectives, leave it out too.
    own = _dashboard(client, store["x"].user).context
    assert (own["overall"]["leads"], own["response"]["median"]) == (3, 10)
    assert _mid_november(Metric.MEDIAN_RESPONSE, target=30).actual == 20
    assert _mid_november(Metric.LEADS_ANSWERED, target=5, person=store["x"]).actual == 3


def test_first_response_median_90th_percentile_and_share_within_target(client, store):
    manager = factories.staff(Role.MANAGER)
    response = _dashboard(client, manager.user).context["response"]
    # answered in 3, 10, 20, 40, 100 business minutes; one unanswered
    assert response["answered"] == 5 and response["unanswered"] == 1
    assert response["median"] == 20
    assert response["p90"] == pytest.approx(76.0)  # 40 + 0.6 × (100 − 40)
    # 3 within 30 minutes of the 6 whose answer is decided: 5 answered, 1 never answered in time
    assert response["missed"] == 1 and response["share_within_target"] == 50.0
    counts = {bucket["label"]: bucket["count"] for bucket in response["buckets"]}
    assert (
        counts["0–5 min"] == 1
        and counts["5–15 min"] == 1
        and counts["15–30 min"] == 1
        and counts["60–240 min"] == 1
    )


def test_leads_nobody_answered_count_against_the_share_once_their_target_time_has_passed(client, store):
    # Sold or lost, a lead nobody ever answered was still missed.
    nov = datetime(2026, 11, 20, 10, tzinfo=TORONTO)
    _lead(source="Website", received=nov, minutes=None, reached=4, status=LeadStatus.SOLD)
    _lead(source="Website", received=nov, minutes=None, reached=0, status=LeadStatus.LOST)
    manager = factories.staff(Role.MANAGER)
    page = _dashboard(client, manager.user)
    response = page.context["response"]
    assert (response["answered"], response["within_target"], response["missed"]) == (5, 3, 3)
    assert response["share_within_target"] == 37.5  # 3 of 8, not 3 of the 5 answered
    assert "37.5\u00a0%</div>within 30 min · 3 never answered in time" in page.content.decode()


def test_the_target_time_of_a_lead_nobody_answered_runs_in_business_minutes(db):
    """Received ten minutes before the store closes on Saturday, it has waited 25 business minutes at
    9:15 on Monday (closed on Sunday): not counted yet; at 9:20 its 30 minutes have passed."""
    manager = factories.staff(Role.MANAGER)
    factories.lead(received_at=datetime(2026, 11, 14, 16, 50, tzinfo=TORONTO))
    monday = datetime(2026, 11, 16, 9, tzinfo=TORONTO)

    def response_at(now):
        figures = dashboard_figures(
            user=manager.user,
            period=period_for(kind="month", anchor=date(2026, 11, 1)),
            filters={},
            target=response_target(minutes=30, now=now),
        )
        return figures["response"]

    waiting = response_at(monday + timedelta(minutes=15))
    assert (waiting["missed"], waiting["share_within_target"]) == (0, None)
    missed = response_at(monday + timedelta(minutes=20))
    assert (missed["missed"], missed["share_within_target"]) == (1, 0.0)


def test_every_breakdown_and_objective_reads_the_share_within_target_the_same_way(client, store):
    # The lead nobody answered came on Thursday at 10:00, in opening hours.
    client.force_login(factories.staff(Role.MANAGER).user)
    context = client.get(reverse("dealership:dashboard"), NOVEMBER).context
    ten = next(row for row in context["by_hour"] if row["slot"] == 10)
    assert (ten["answered"], ten["missed"], ten["share_within_target"]) == (4, 1, 40.0)
    thursday = next(row for row in context["by_weekday"] if row["label"] == "Thu")
    assert (thursday["answered"], thursday["missed"], thursday["share_within_target"]) == (0, 1, 0.0)
    opening = next(row for row in context["opening_hours"] if row["key"] == "opening hours")
    assert opening["share_within_target"] == 40.0  # 3 and 10 minutes, of 4 answered and 1 missed
    exported = client.get(reverse("dealership:dashboard"), {**NOVEMBER, "export": "response_hour"})
    rows = {row["hour"]: row for row in csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))}
    assert (rows["10"]["missed"], rows["10"]["share_within_target"]) == ("1", "40.0")
    assert _mid_november(Metric.SHARE_WITHIN_TARGET, target=80).actual == 50.0


def test_response_by_hour_and_weekday_in_the_store_time_zone(client, store):
    manager = factories.staff(Role.MANAGER)
    context = _dashboard(client, manager.user).context
    by_hour = {row["slot"]: row for row in context["by_hour"]}
    assert (by_hour[10]["leads"], by_hour[10]["answered"], by_hour[10]["within"]) == (5, 4, 2)
    assert (by_hour[11]["leads"], by_hour[11]["within"]) == (1, 1)
    assert sum(row["leads"] for row in context["by_hour"]) == 6
    by_day = {row["label"]: row["leads"] for row in context["by_weekday"]}
    assert by_day == {"Mon": 1, "Tue": 2, "Wed": 1, "Thu": 1, "Fri": 0, "Sat": 0, "Sun": 1}


def test_a_csv_opened_in_a_spreadsheet_runs_no_formula_and_shows_accents(client, store):
    """Anyone who writes to the store names the source of their lead."""
    nov = datetime(2026, 11, 12, 10, 0, tzinfo=TORONTO)
    _lead(source='=HYPERLINK("http://evil.example","Click")', received=nov, minutes=3, reached=1)
    _lead(source="Québec Auto", received=nov, minutes=3, reached=1)
    client.force_login(factories.staff(Role.MANAGER).user)
    exported = client.get(reverse("dealership:dashboard"), {**NOVEMBER, "export": "funnel_source"}).content
    assert exported.startswith(b"\xef\xbb\xbf")  # UTF-8, said so to Excel
    sources = {row["source"] for row in csv.DictReader(io.StringIO(exported.decode("utf-8-sig")))}
    assert '\'=HYPERLINK("http://evil.example","Click")' in sources and "Québec Auto" in sources


def test_a_csv_asked_for_in_french_opens_in_columns_in_a_french_excel(client, store):
    client.force_login(factories.staff(Role.MANAGER).user)
    url = reverse("dealership:dashboard")
    english = client.get(url, {**NOVEMBER, "export": "funnel_source"}).content.decode("utf-8-sig")
    french = client.get(
        url, {**NOVEMBER, "export": "funnel_source"}, headers={"Accept-Language": "fr-CA,fr;q=0.9"}
    ).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(french), delimiter=";"))
    assert rows[0] == next(csv.reader(io.StringIO(english)))  # the same columns, split by semicolons
    by_source = {row[0]: row for row in rows[1:]}
    english_rows = {row[0]: row for row in list(csv.reader(io.StringIO(english)))[1:]}
    rate = rows[0].index("appointment_rate")
    assert english_rows["AutoTrader"][rate] == "75.0" and by_source["AutoTrader"][rate] == "75,0"


def test_the_previous_and_next_periods_keep_the_source_and_person(client, store):
    page = _dashboard(client, factories.staff(Role.MANAGER).user, source="Website", person="xavier")
    html = page.content.decode()
    assert 'href="?period=month&date=2026-10-01&source=Website&amp;person=xavier"' in html
    assert 'href="?period=month&date=2026-12-01&source=Website&amp;person=xavier"' in html


class _InsideImages(HTMLParser):
    """The words and links inside elements given to assistive technology as a single image
    (role="img"): a screen reader reads the image's name and nothing of these."""

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.depth = 0
        self.hidden: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
            if tag == "a":
                self.hidden.append(f"link {dict(attrs).get('href')}")
        elif dict(attrs).get("role") == "img":
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and data.strip():
            self.hidden.append(data.strip())


def test_the_charts_figures_and_links_are_read_out_not_hidden_in_an_image(client, store):
    html = _dashboard(client, factories.staff(Role.MANAGER).user).content.decode()
    assert _InsideImages(html).hidden == []
    # Each chart is still named as a whole, and its bars still say what they count.
    assert '<div class="bar-chart" role="group" aria-label="First-response time distribution">' in html
    assert '<div class="bar-chart" role="group" aria-label="Funnel">' in html
    assert 'role="group" aria-label="Leads received per day">' in html
    assert '<span class="bar-label">Contacted</span>' in html


def test_the_dashboards_filters_are_named_for_a_screen_reader(client, store):
    html = _dashboard(client, factories.staff(Role.MANAGER).user).content.decode()
    for name, label in (("period", "Period"), ("date", "From"), ("source", "Source"), ("person", "Username")):
        control = re.search(rf'<(select|input)[^>]* name="{name}"[^>]*>', html).group(0)
        assert f'aria-label="{label}"' in control, control


@pytest.mark.parametrize("url_name", ["dealership:dashboard", "dealership:objective_list"])
def test_the_period_shown_is_marked_current_at_full_contrast_not_faded_as_disabled(client, store, url_name):
    client.force_login(factories.staff(Role.MANAGER).user)
    html = client.get(reverse(url_name), NOVEMBER).content.decode()
    # Bootstrap's .disabled fades a label to 2.5:1; the current period is no button anyway.
    assert '<span class="btn btn-secondary pe-none" aria-current="true">November 2026</span>' in html
    assert "disabled" not in re.search(r'role="group" aria-label="Period">.*?</div>', html, re.S).group(0)


def test_dashboard_and_csv_agree(client, store):
    manager = factories.staff(Role.MANAGER)
    page = _dashboard(client, manager.user)
    exported = client.get(reverse("dealership:dashboard"), {**NOVEMBER, "export": "funnel_source"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    for row in rows:
        shown = next(r for r in page.context["by_source"] if r["key"] == row["source"])
        assert int(row["leads"]) == shown["leads"] and int(row["sold"]) == shown["sold"]
        assert float(row["appointment_rate"]) == shown["appointment_rate"]
    assert {row["source"] for row in rows} == {"AutoTrader", "Website"}
    html = page.content.decode()
    assert "AutoTrader" in html and "66.7\u00a0%" in html


def test_the_csv_by_person_names_people_as_the_page_does(client, store):
    manager = factories.staff(Role.MANAGER)
    client.force_login(manager.user)
    exported = client.get(reverse("dealership:dashboard"), {**NOVEMBER, "export": "funnel_person"})
    rows = {row["person"]: row for row in csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))}
    xavier = store["x"].user.get_full_name()
    assert set(rows) == {xavier, store["y"].user.get_full_name(), "(unassigned)"}
    assert rows[xavier]["username"] == "xavier" and rows[xavier]["leads"] == "3"
    assert rows["(unassigned)"]["username"] == "" and rows["(unassigned)"]["leads"] == "2"


def test_every_figure_links_to_the_leads_behind_it(client, store):
    manager = factories.staff(Role.MANAGER)
    context = _dashboard(client, manager.user).context
    autotrader = next(row for row in context["by_source"] if row["key"] == "AutoTrader")
    assert "source=AutoTrader" in autotrader["href"] and "received_from=2026-11-01" in autotrader["href"]
    assert "reached=sold" in context["overall_links"]["sold"]


def test_an_advisor_sees_only_their_own_figures(client, store):
    response = _dashboard(client, store["x"].user)
    context = response.context
    assert context["overall"]["leads"] == 3
    assert "My figures — November 2026" in response.content.decode()
    assert (
        "Internet department — November 2026"
        in _dashboard(client, factories.staff(Role.MANAGER).user).content.decode()
    )
    assert {row["key"] for row in context["by_person"]} == {"xavier"}


def test_an_advisors_figures_leave_out_a_colleagues_lead_whose_customer_they_meet(client, store):
    from leads.models import Appointment

    yasmins = Lead.objects.get(owner=store["y"].user)
    visit = datetime(2026, 11, 12, 10, tzinfo=TORONTO)
    Appointment.objects.create(
        lead=yasmins, advisor=store["x"], starts_at=visit, ends_at=visit + timedelta(minutes=30)
    )
    client.force_login(store["x"].user)
    assert client.get(reverse("leads:lead_detail", args=[yasmins.pk])).status_code == 200  # they may open it
    context = _dashboard(client, store["x"].user).context
    assert context["overall"]["leads"] == 3  # Xavier's own three, not Yasmin's
    assert {row["key"] for row in context["by_person"]} == {"xavier"}


def test_department_staff_see_no_sales_figures(client, store):
    service = factories.staff(Role.DEPARTMENT, department_code="service")
    assert _dashboard(client, service.user).context["overall"]["leads"] == 0


def test_period_filters_are_in_the_url_and_other_months_are_excluded(client, store):
    manager = factories.staff(Role.MANAGER)
    october = _dashboard(client, manager.user, date="2026-10-03").context
    assert october["overall"]["leads"] == 1
    website = _dashboard(client, manager.user, source="Website").context
    assert website["overall"]["leads"] == 2


def test_the_answer_time_buckets_hold_their_upper_edge_as_the_target_does():
    from dealership.selectors import response_summary

    summary = response_summary(
        distribution=[(0, 1), (5, 1), (15, 1), (30, 1), (31, 1)], total=5, missed=0, target_minutes=30
    )
    counts = {bucket["label"]: bucket["count"] for bucket in summary["buckets"]}
    assert (counts["0–5 min"], counts["5–15 min"], counts["15–30 min"], counts["30–60 min"]) == (2, 1, 1, 1)
    assert summary["within_target"] == 4 == counts["0–5 min"] + counts["5–15 min"] + counts["15–30 min"]


def test_a_date_that_cannot_be_read_is_said_not_silently_replaced(client, store):
    manager = factories.staff(Role.MANAGER)
    page = unescape(_dashboard(client, manager.user, date="2026-02-30").content.decode())
    assert "Left out, as it could not be read: Date (2026-02-30)" in page
    assert "Left out" not in _dashboard(client, manager.user).content.decode()


def test_a_lead_counts_in_the_month_it_came_in_store_time_and_its_sale_in_the_month_it_was_made(client):
    """Received at 23:30 on October 31 in Toronto (already November in UTC), sold this month: the
    funnel of October holds the lead and how far it got; the sales objective of this month counts
    the sale. The page says which is which."""
    manager = factories.staff(Role.MANAGER)
    lead = factories.lead(received_at=datetime(2026, 10, 31, 23, 30, tzinfo=TORONTO))
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD)
    october = _dashboard(client, manager.user, date="2026-10-15")
    assert (october.context["overall"]["leads"], october.context["overall"]["sold"]) == (1, 1)
    assert _dashboard(client, manager.user, date="2026-11-15").context["overall"]["leads"] == 0
    this_month = period_for(kind="month", anchor=timezone.localdate())
    for start, sold in ((date(2026, 10, 1), 0), (this_month.start, 1)):
        objective = objective_propose(
            metric=Metric.VEHICLES_SOLD,
            period_kind="month",
            period_start=start,
            target=1,
            person=None,
            actor=None,
        )
        assert objective_progress(objective=objective, today=start).actual == sold
    assert "each followed to where it has got since" in october.content.decode()


def test_lead_transition_keeps_the_funnel_milestones(db):
    lead = factories.lead()
    lead_transition(lead=lead, to_status=LeadStatus.APPOINTMENT_SET)
    lead.refresh_from_db()
    assert lead.contacted_at is not None and lead.appointment_set_at == lead.contacted_at
    assert lead.shown_at is None and lead.sold_at is None
    lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    lead.refresh_from_db()
    assert lead.lost_at is not None and lead.appointment_set_at is not None


def test_a_sale_without_an_appointment_is_no_appointment_set_nor_shown(db):
    lead = factories.lead()
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD)  # a walk-in, or a deal done by phone
    lead.refresh_from_db()
    assert lead.sold_at is not None and lead.contacted_at is not None
    assert lead.appointment_set_at is None and lead.shown_at is None


def test_a_lead_whose_only_appointment_was_cancelled_is_no_appointment_set(db):
    from leads.models import Appointment
    from leads.services.appointments import appointment_transition

    advisor = factories.advisor()
    lead = factories.lead()
    first = factories.test_drive(lead, advisor, hour=10)
    appointment_transition(appointment=first, to_status=Appointment.Status.CANCELLED, now=timezone.now())
    lead.refresh_from_db()
    assert (lead.status, lead.appointment_set_at) == (LeadStatus.CONTACTED, None)
    # Booked again, it counts again; a no-show then stays counted, against the show rate.
    second = factories.test_drive(lead, advisor, hour=11)
    Appointment.objects.filter(pk=second.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    second.refresh_from_db()
    appointment_transition(appointment=second, to_status=Appointment.Status.NO_SHOW, now=timezone.now())
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED and lead.appointment_set_at is not None


def test_booking_an_appointment_for_a_lead_nobody_answered_records_the_answer(db):
    lead = factories.lead(received_at=timezone.now() - timedelta(minutes=20))
    factories.test_drive(lead, factories.advisor(), hour=10)
    lead.refresh_from_db()
    assert lead.first_response_at is not None and lead.contacted_at is not None
    assert lead.events.get(type="first_response").params["channel"] == "appointment"


def test_percentile_matches_linear_interpolation_over_counted_values():
    assert percentile([], 0.5) is None
    assert percentile([(7, 1)], 0.9) == 7
    assert percentile([(1, 1), (2, 1), (3, 1), (4, 1)], 0.5) == 2.5
    assert percentile([(1, 3), (10, 1)], 0.9) == pytest.approx(7.3)  # ranks 1 1 1 10


def test_objective_progress_and_pace(store):
    supervisor = factories.staff(Role.SUPERVISOR)
    objective = objective_propose(
        metric=Metric.VEHICLES_SOLD,
        period_kind="month",
        period_start=date(2026, 11, 20),
        target=4,
        person=None,
        actor=supervisor.user,
    )
    assert objective.period_start == date(2026, 11, 1)
    Lead.objects.filter(sold_at__isnull=False, received_at__month=11).update(
        sold_at=datetime(2026, 11, 12, tzinfo=TORONTO)
    )
    progress = objective_progress(objective=objective, today=date(2026, 11, 15))
    assert progress.actual == 1 and progress.percent == 25.0
    assert progress.on_track is False  # half the month gone, a quarter of the target
    assert progress.needed_per_day == pytest.approx(3 / 15)


@pytest.mark.parametrize("decision", [Objective.Status.REJECTED, Objective.Status.WITHDRAWN])
def test_an_objective_no_one_pursues_any_more_gives_no_pace(store, decision):
    """A rejected or withdrawn target still shows its figure, but neither "behind" nor what each
    day would need: nobody is working toward it."""
    supervisor = factories.staff(Role.SUPERVISOR)
    objective = objective_propose(
        metric=Metric.VEHICLES_SOLD,
        period_kind="month",
        period_start=date(2026, 11, 1),
        target=400,
        person=None,
        actor=supervisor.user,
    )
    objective = objective_transition(objective=objective, to_status=decision, actor=supervisor.user)
    progress = objective_progress(objective=objective, today=date(2026, 11, 15))
    assert progress.actual == 1 and progress.percent == 0.2
    assert progress.on_track is None and progress.needed_per_day is None


def test_an_objective_shows_on_every_page_its_period_overlaps(client, store):
    quarter = objective_propose(
        metric=Metric.LEADS_ANSWERED,
        period_kind="quarter",
        period_start=date(2026, 10, 1),
        target=120,
        person=None,
        actor=None,
    )
    month = objective_propose(
        metric=Metric.LEADS_ANSWERED,
        period_kind="month",
        period_start=date(2026, 11, 1),
        target=40,
        person=None,
        actor=None,
    )
    manager = factories.staff(Role.MANAGER).user
    week_of_the_10th = _dashboard(client, manager, period="week", date="2026-11-10").context
    november = _dashboard(client, manager).context
    december = _dashboard(client, manager, period="month", date="2026-12-15").context
    shown = lambda context: {progress.objective.pk for progress in context["objectives"]}  # noqa: E731
    assert shown(week_of_the_10th) == shown(november) == {quarter.pk, month.pk}
    assert shown(december) == {quarter.pk}
    # A far-off or malformed date is left out, and the other filters still apply.
    for day in ("9999-12-15", "0001-01-01", "2026-3-1x"):
        assert (
            _dashboard(client, manager, date=day, source="Website").context["filters"]["source"] == "Website"
        )


def test_objective_progress_lower_is_better_for_response_time(store):
    progress = _mid_november(Metric.MEDIAN_RESPONSE, target=30)
    assert progress.actual == 20 and progress.on_track is True


def test_personal_objective_counts_only_that_persons_leads(store):
    assert _mid_november(Metric.LEADS_ANSWERED, target=5, person=store["x"]).actual == 3


def test_the_shown_objective_counts_a_visit_in_the_month_it_took_place(db):
    from leads.services.appointments import appointment_book, appointment_transition

    advisor = factories.advisor()
    visit = datetime(2025, 10, 31, 16, tzinfo=TORONTO)  # the last day of October
    lead = factories.lead(received_at=visit - timedelta(days=2), owner=advisor.user)
    appointment = appointment_book(
        lead=lead, advisor=advisor, starts_at=visit, purpose="test_drive", now=visit - timedelta(days=1)
    )
    appointment_transition(appointment=appointment, to_status="shown", now=timezone.now())  # recorded later
    october = period_for(kind="month", anchor=visit.date())
    objective = objective_propose(
        metric=Metric.APPOINTMENTS_SHOWN,
        period_kind="month",
        period_start=october.start,
        target=1,
        person=advisor,
        actor=None,
    )
    manager = factories.staff(Role.MANAGER).user
    [row] = appointments_by_advisor(user=manager, period=october, filters={})
    assert row["shown"] == objective_progress(objective=objective, today=october.end).actual == 1


def test_a_persons_shown_objective_agrees_with_their_appointments_row(client, store):
    """An advisor who met a colleague's customer is credited with the visit, as in the table."""
    yasmins = Lead.objects.get(owner=store["y"].user)
    visit = datetime(2026, 11, 12, 10, tzinfo=TORONTO)
    Appointment.objects.create(
        lead=yasmins,
        advisor=store["x"],
        starts_at=visit,
        ends_at=visit + timedelta(minutes=30),
        status="shown",
    )
    [row] = _dashboard(client, store["x"].user).context["appointments_by_advisor"]
    assert row["shown"] == 1
    assert _mid_november(Metric.APPOINTMENTS_SHOWN, target=1, person=store["x"]).actual == 1
    assert _mid_november(Metric.APPOINTMENTS_SHOWN, target=1, person=store["y"]).actual == 0


def test_a_sale_whose_deal_fell_through_no_longer_counts_as_sold_in_the_appointments_table(client):
    """The customer came, so the visit still counts as shown; the sale taken back counts nowhere."""
    from leads.services.appointments import appointment_transition

    advisor = factories.advisor()
    manager = factories.staff(Role.MANAGER).user
    lead = lead_transition(lead=factories.lead(owner=advisor.user), to_status=LeadStatus.CONTACTED)
    lead = lead_transition(lead=lead, to_status=LeadStatus.APPOINTMENT_SET)
    starts = timezone.now() - timedelta(hours=2)
    visit = Appointment.objects.create(
        lead=lead, advisor=advisor, starts_at=starts, ends_at=starts + timedelta(minutes=30)
    )
    appointment_transition(appointment=visit, to_status="sold", now=timezone.now(), actor=advisor.user)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD
    lead_transition(
        lead=lead, to_status=LeadStatus.LOST, actor=manager, reason="Financing refused", by_hand=True
    )
    month = period_for(kind="month", anchor=timezone.localdate(starts))
    [row] = appointments_by_advisor(user=manager, period=month, filters={})
    assert (row["booked"], row["shown"], row["sold"]) == (1, 1, 0)
    client.force_login(manager)
    exported = client.get(
        reverse("dealership:dashboard"),
        {"period": "month", "date": timezone.localdate(starts).isoformat(), "export": "appointments_advisor"},
    )
    [line] = csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))
    assert (line["shown"], line["sold"]) == ("1", "0")


def test_supervisor_proposes_manager_approves_and_the_history_is_kept(client):
    supervisor = factories.staff(Role.SUPERVISOR)
    manager = factories.staff(Role.MANAGER)
    client.force_login(supervisor.user)
    response = client.post(
        reverse("dealership:objective_create"),
        {
            "metric": Metric.APPOINTMENTS_SET,
            "period_kind": "month",
            "period_start": "2026-11-15",
            "target": "40",
        },
    )
    assert response.status_code == 302
    objective = Objective.objects.get()
    assert objective.status == Objective.Status.PROPOSED
    # the supervisor may not approve their own proposal
    assert (
        client.post(
            reverse("dealership:objective_decide", args=[objective.pk]), {"decision": "approved"}
        ).status_code
        == 403
    )
    client.force_login(manager.user)
    client.post(reverse("dealership:objective_decide", args=[objective.pk]), {"decision": "approved"})
    objective.refresh_from_db()
    assert objective.status == Objective.Status.APPROVED
    events = list(ObjectiveEvent.objects.filter(objective=objective).values_list("type", "actor"))
    assert events == [("proposed", supervisor.user.pk), ("status_changed", manager.user.pk)]
    # approved is final: it cannot be rejected afterwards
    page = client.post(
        reverse("dealership:objective_decide", args=[objective.pk]), {"decision": "rejected"}, follow=True
    )
    assert "cannot become rejected" in page.content.decode()


def test_an_unknown_decision_on_an_objective_is_refused_in_words(client):
    manager = factories.staff(Role.MANAGER)
    objective = objective_propose(
        metric=Metric.APPOINTMENTS_SET,
        period_kind="month",
        period_start=date(2026, 11, 1),
        target=40,
        person=None,
        actor=None,
    )
    client.force_login(manager.user)
    page = client.post(
        reverse("dealership:objective_decide", args=[objective.pk]), {"decision": "bogus"}, follow=True
    ).content.decode()
    assert (
        "An objective cannot become &#x27;bogus&#x27;: its statuses are proposed, approved, rejected, withdrawn."
        in page
    )
    objective.refresh_from_db()
    assert objective.status == Objective.Status.PROPOSED


def test_objective_form_refuses_bad_targets(client):
    supervisor = factories.staff(Role.SUPERVISOR)
    client.force_login(supervisor.user)
    response = client.post(
        reverse("dealership:objective_create"),
        {
            "metric": Metric.SHARE_WITHIN_TARGET,
            "period_kind": "month",
            "period_start": "2026-11-15",
            "target": "120",
        },
    )
    assert response.status_code == 200 and "at most 100" in response.content.decode()
    assert Objective.objects.count() == 0


def test_period_boundaries():
    assert period_for(kind="week", anchor=date(2026, 11, 29)).start == date(2026, 11, 23)
    quarter = period_for(kind="quarter", anchor=date(2026, 11, 29))
    assert (quarter.start, quarter.end) == (date(2026, 10, 1), date(2027, 1, 1))
    december = period_for(kind="month", anchor=date(2026, 12, 31))
    assert december.end == date(2027, 1, 1) and december.shifted(-1).start == date(2026, 11, 1)


def _same_groups(summed: list[dict], live: list[dict]) -> None:
    def key(groups):
        return sorted(repr(sorted(group.items())) for group in groups)

    assert key(summed) == key(live)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary rows are kept by PostgreSQL")
def test_summary_rows_follow_every_change_to_leads(store):
    period = period_for(kind="month", anchor=date(2026, 11, 15))

    def same_figures():
        leads = Lead.objects.filter(
            received_at__gte=period.bounds[0], received_at__lt=period.bounds[1], merged_into__isnull=True
        )
        target = response_target(minutes=30)
        live = _lead_groups(leads=leads, target=target)
        _same_groups(_summary_groups(period=period, filters={}, target=target), live)
        return live

    assert sum(g["leads"] for g in same_figures()) == 6
    lead = Lead.objects.filter(source="AutoTrader", owner__isnull=True).get()
    lead.owner = store["y"].user  # reassigned
    lead.save()
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)  # a milestone reached
    Lead.objects.filter(source="Website").update(source="Website form")  # a bulk change
    Lead.objects.filter(first_response_business_minutes=40).update(first_response_business_minutes=25)
    Lead.objects.filter(first_response_business_minutes=100).delete()
    moved = Lead.objects.filter(first_response_business_minutes=3).get()
    moved.received_at += timedelta(hours=30)  # received at another hour
    moved.save()
    live = same_figures()
    assert sum(g["leads"] for g in live) == 5 and sum(g["within"] for g in live) == 4
    duplicate = factories.lead(customer_obj=moved.customer, source="Email", received_at=moved.received_at)
    assert sum(g["leads"] for g in same_figures()) == 6
    # Only a closed duplicate goes into a closed lead: a merge never closes an inquiry being worked.
    lead_transition(lead=duplicate, to_status=LeadStatus.LOST, reason="The same inquiry")
    lead_merge(target=moved, duplicate=duplicate)  # the pair counts once
    assert sum(g["leads"] for g in same_figures()) == 5
    # The lead nobody answered, reassigned above, is missed under its new owner.
    assert [(g["owner_id"], g["missed"]) for g in same_figures() if g["missed"]] == [(store["y"].user.pk, 1)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary rows are kept by PostgreSQL")
def test_summary_rows_and_leads_give_the_same_figures_for_every_breakdown_and_filter(store):
    """With leads nobody answered, closed or open, in time or not, and two spellings of a source."""
    nov = datetime(2026, 11, 20, 9, tzinfo=TORONTO)
    y = store["y"].user
    _lead(source="autotrader", received=nov, minutes=None, reached=4, owner=y, status=LeadStatus.SOLD)
    _lead(source="autotrader", received=nov, minutes=None, reached=0, status=LeadStatus.LOST)
    _lead(source="Website", received=nov + timedelta(minutes=50), minutes=None, reached=0)  # in time
    target = response_target(minutes=30, now=nov + timedelta(hours=1))
    manager = factories.staff(Role.MANAGER).user
    period = period_for(kind="month", anchor=date(2026, 11, 15))
    for filters in ({}, {"source": "AUTOTRADER"}, {"owner_id": store["y"].user.pk}):
        leads = dashboard_leads(user=manager, period=period, filters=filters)
        for by in (GRAIN, ("day", "local_hour"), ("day", "source"), ("owner_id",)):
            live = _lead_groups(leads=leads, target=target, by=by)
            summed = _summary_groups(period=period, filters=filters, target=target, by=by)
            _same_groups(summed, live)
    figures = dashboard_figures(user=manager, period=period, filters={}, target=target)
    assert (figures["overall"]["missed"], figures["response"]["missed"]) == (3, 3)


def test_photo_coverage_objective_measures_the_stock_today(db):
    factories.vehicle(stock_number="A1")
    progress = _mid_november(Metric.PHOTO_COVERAGE, target=90)
    assert progress.actual == 0.0 and progress.on_track is False


def test_following_a_figure_opens_the_inbox_on_exactly_those_leads(client, store):
    manager = factories.staff(Role.MANAGER)
    context = _dashboard(client, manager.user).context
    autotrader = next(row for row in context["by_source"] if row["key"] == "AutoTrader")
    xavier = next(row for row in context["by_person"] if row["key"] == "xavier")
    for href, expected in [
        (autotrader["href"], 4),
        (xavier["href"], 3),
        (context["overall_links"]["appointment_set"], 3),
        (context["overall_links"]["leads"], 6),
    ]:
        page = client.get(href).content.decode()
        assert page.count('class="lead-row') == expected, href


def _inbox_rows(client, href: str) -> int:
    return client.get(unescape(href)).content.decode().count('class="lead-row')


# A bar of a chart that links to its leads, and the number it shows.
LINKED_BAR = re.compile(r'<a class="bar-row" href="([^"]+)">.*?<span class="bar-value">(\d+)</span>', re.S)


def test_every_bar_that_links_to_the_inbox_lists_as_many_leads_as_it_shows(client, store):
    page = _dashboard(client, factories.staff(Role.MANAGER).user).content.decode()
    bars = LINKED_BAR.findall(page)
    # The funnel's five; the inbox cannot narrow leads to a first-response time, so those bars are no links.
    assert len(bars) == 5
    for href, shown in bars:
        assert _inbox_rows(client, href) == int(shown), href


def test_two_spellings_of_a_source_are_one_source_and_its_link_lists_both(client, store):
    nov = datetime(2026, 11, 20, 10, tzinfo=TORONTO)
    for _ in range(2):
        _lead(source="autotrader", received=nov, minutes=5, reached=1)
    manager = factories.staff(Role.MANAGER)
    context = _dashboard(client, manager.user).context
    [autotrader] = [row for row in context["by_source"] if row["key"].lower() == "autotrader"]
    # Named as most of its leads spell it.
    assert (autotrader["label"], autotrader["leads"], autotrader["contacted"]) == ("AutoTrader", 6, 5)
    assert _inbox_rows(client, autotrader["href"]) == 6
    day = next(day for day in context["volume_days"] if day["day"] == date(2026, 11, 20))
    assert day["sources"] == {"AutoTrader": 2}
    # Asked for in any spelling, the dashboard shows that source, and its link lists the same leads.
    narrowed = _dashboard(client, manager.user, source="AUTOTRADER").context
    assert narrowed["overall"]["leads"] == 6 and _inbox_rows(client, narrowed["overall_links"]["leads"]) == 6


def test_a_source_named_by_its_web_address_is_the_same_source(client, store):
    """AutoTrader's ADF names itself "AutoTrader"; its mailed forms come from autotrader.ca, and a
    provider may write www.AutoTrader.ca: one source, whose row and link hold all of them."""
    nov = datetime(2026, 11, 20, 10, tzinfo=TORONTO)
    for spelling in ("autotrader.ca", "autotrader.ca", "www.AutoTrader.ca"):
        _lead(source=spelling, received=nov, minutes=5, reached=1)
    _lead(source="Cars.com", received=nov, minutes=5, reached=1)  # another site, another source
    manager = factories.staff(Role.MANAGER)
    context = _dashboard(client, manager.user).context
    rows = {row["label"]: row for row in context["by_source"]}
    assert set(rows) == {"AutoTrader", "Website", "Cars.com"}
    assert (rows["AutoTrader"]["leads"], rows["AutoTrader"]["contacted"]) == (7, 6)
    assert _inbox_rows(client, rows["AutoTrader"]["href"]) == 7
    day = next(day for day in context["volume_days"] if day["day"] == date(2026, 11, 20))
    assert day["sources"] == {"AutoTrader": 3, "Cars.com": 1}
    # Asked for by its web address, the dashboard shows the same source, and so does its link.
    narrowed = _dashboard(client, manager.user, source="autotrader.ca").context
    assert narrowed["overall"]["leads"] == 7 and _inbox_rows(client, narrowed["overall_links"]["leads"]) == 7
    # An advisor's own figures, read from the leads rather than the summary rows, agree.
    mine = _dashboard(client, store["x"].user, source="AUTOTRADER.CA").context
    assert mine["overall"]["leads"] == 2


def test_leads_without_a_source_are_counted_in_a_row_that_is_no_link(client, store):
    _lead(source="", received=datetime(2026, 11, 20, 10, tzinfo=TORONTO), minutes=5, reached=1)
    page = _dashboard(client, factories.staff(Role.MANAGER).user)
    [none] = [row for row in page.context["by_source"] if row["label"] == "(none)"]
    # The inbox cannot ask for leads without a source: a link would list every lead.
    assert none["leads"] == 1 and not none["href"] and ">(none)</a>" not in page.content.decode()


def test_a_deactivated_persons_figures_still_list_their_leads(client, store):
    xavier = store["x"].user
    xavier.is_active = False
    xavier.save()
    manager = factories.staff(Role.MANAGER)
    [row] = [row for row in _dashboard(client, manager.user).context["by_person"] if row["key"] == "xavier"]
    inbox = client.get(unescape(row["href"])).content.decode()
    assert row["leads"] == 3 and inbox.count('class="lead-row') == 3
    assert "Not applied" not in inbox and "(no longer takes leads)</option>" in inbox
    narrowed = _dashboard(client, manager.user, person="xavier").context
    assert narrowed["overall"]["leads"] == 3 and _inbox_rows(client, narrowed["overall_links"]["leads"]) == 3


def test_a_person_no_one_is_has_no_leads_and_no_link_to_any(client, store):
    page = _dashboard(client, factories.staff(Role.MANAGER).user, person="nobody")
    html = page.content.decode()
    # Two leads are unassigned: a link must not list them for someone who does not exist.
    assert page.context["overall"]["leads"] == 0 and "/leads/?" not in html


def test_a_person_filter_costs_the_same_queries_for_a_month_as_for_a_quarter(client, store):
    manager = factories.staff(Role.MANAGER)
    _dashboard(client, manager.user)  # the first page also reads the user's permissions
    counts = {}
    for period in ("month", "quarter"):
        with CaptureQueriesContext(connection) as queries:
            context = _dashboard(client, manager.user, period=period, person="xavier").context
        counts[period] = len(queries)
        assert context["overall"]["leads"] == 3
        page = client.get(context["overall_links"]["leads"]).content.decode()
        assert page.count('class="lead-row') == 3
    assert counts["month"] == counts["quarter"]


def _objectives_of_everyone_measured(person) -> None:
    for metric in Metric.values:
        objective_propose(
            metric=metric,
            period_kind="month",
            period_start=date(2026, 11, 1),
            target=5,
            person=person,
            actor=None,
        )


def test_the_objectives_cost_the_same_queries_for_one_person_as_for_the_whole_team(client, store):
    """Each advisor's objectives in every metric: the page reads each metric once for everyone."""
    manager = factories.staff(Role.MANAGER)
    _objectives_of_everyone_measured(None)
    _objectives_of_everyone_measured(store["x"])
    _dashboard(client, manager.user)  # the first page also reads the user's permissions
    with CaptureQueriesContext(connection) as queries:
        one = _dashboard(client, manager.user).context
    for username in ("zoe", "yannick", "william"):
        advisor = factories.staff(Role.ADVISOR, username=username)
        _lead(
            source="Website",
            received=datetime(2026, 11, 18, 10, tzinfo=TORONTO),
            minutes=5,
            reached=4,
            owner=advisor.user,
        )
        _objectives_of_everyone_measured(advisor)
    _objectives_of_everyone_measured(store["y"])
    with CaptureQueriesContext(connection) as more:
        team = _dashboard(client, manager.user).context
    assert len(team["objectives"]) == 6 * len(one["objectives"]) // 2
    assert len(more) == len(queries)
    # Each measured as before: xavier's sale and answers, a newcomer's, the department's.
    actual = {
        (p.objective.person and p.objective.person.user.username, p.objective.metric): p.actual
        for p in team["objectives"]
    }
    assert actual["xavier", Metric.VEHICLES_SOLD] == 1 and actual["zoe", Metric.VEHICLES_SOLD] == 1
    assert actual["xavier", Metric.LEADS_ANSWERED] == 3 and actual[None, Metric.LEADS_ANSWERED] == 8
    assert actual["yasmin", Metric.MEDIAN_RESPONSE] == 40 and actual[None, Metric.VEHICLES_SOLD] == 4
    assert actual["william", Metric.SHARE_WITHIN_TARGET] == 100.0


def test_leads_received_after_hours_show_separately(client, store):
    # Five leads came while the store was open; the Sunday one (closed all day) after hours.
    manager = factories.staff(Role.MANAGER)
    rows = {row["key"]: row for row in _dashboard(client, manager.user).context["opening_hours"]}
    assert rows["opening hours"]["leads"] == 5 and rows["after hours"]["leads"] == 1
    assert rows["after hours"]["answered"] == 1 and rows["after hours"]["share_within_target"] == 100.0


def test_a_lead_received_on_a_holiday_at_the_usual_hours_came_after_hours(client, store, settings):
    christmas = datetime(2025, 12, 25, 11, tzinfo=TORONTO)  # a Thursday, 11:00: the store is closed
    _lead(source="Website", received=christmas, minutes=5, reached=1)
    manager = factories.staff(Role.MANAGER)
    december = {"period": "month", "date": "2025-12-15"}
    rows = {row["key"]: row for row in _dashboard(client, manager.user, **december).context["opening_hours"]}
    assert rows["after hours"]["leads"] == 1 and rows.get("opening hours", {}).get("leads", 0) == 0
    settings.BUSINESS_CLOSED_DAYS = []  # a store open on holidays
    rows = {row["key"]: row for row in _dashboard(client, manager.user, **december).context["opening_hours"]}
    assert rows["opening hours"]["leads"] == 1


def test_appointments_by_advisor_with_their_show_rate(client, store):
    from leads.models import Appointment

    start = datetime(2026, 11, 20, 10, tzinfo=TORONTO)
    for n, status in enumerate(["shown", "sold", "no_show", "cancelled", "booked"]):
        Appointment.objects.create(
            lead=factories.lead(**({"sold_at": start} if status == "sold" else {})),
            advisor=store["x"],
            starts_at=start + timedelta(hours=n),
            ends_at=start + timedelta(hours=n, minutes=30),
            status=status,
        )
    manager = factories.staff(Role.MANAGER)
    [row] = _dashboard(client, manager.user).context["appointments_by_advisor"]
    assert (row["booked"], row["shown"], row["no_show"], row["sold"]) == (4, 2, 1, 1)
    assert row["show_rate"] == 66.7  # two of the three that came due showed
    # An advisor sees their own; another advisor sees none of them.
    assert _dashboard(client, store["y"].user).context["appointments_by_advisor"] == []
    # The page's source and person filters narrow the table as they narrow the funnel.
    assert _dashboard(client, manager.user, source="Kijiji").context["appointments_by_advisor"] == []
    assert _dashboard(client, manager.user, person="yasmin").context["appointments_by_advisor"] == []
    Lead.objects.filter(appointments__status="sold").update(source="Kijiji", owner=store["y"].user)
    [kijiji] = _dashboard(client, manager.user, source="kijiji").context["appointments_by_advisor"]
    [yasmins] = _dashboard(client, manager.user, person="yasmin").context["appointments_by_advisor"]
    assert (kijiji["booked"], kijiji["sold"]) == (yasmins["booked"], yasmins["sold"]) == (1, 1)


def test_mail_routed_to_each_department_is_counted(client, store):
    factories.department("service")
    for subject, body in [
        ("Oil change", "I need an oil change and new brake pads for my car."),
        ("RAV4 price", "What is your best price on the RAV4?"),
    ]:
        factories.inbound_mail(factories.raw_mail(subject=subject, body=body))
    manager = factories.staff(Role.MANAGER)
    today = timezone.localdate().isoformat()
    rows = _dashboard(client, manager.user, date=today).context["mail_by_department"]
    assert {(row["kind"], row["department"]): row["messages"] for row in rows} == {
        ("forward", "service"): 1,
        ("lead", "sales"): 1,
    }
    # In words on the page, not as stored.
    page = _dashboard(client, manager.user, date=today).content.decode()
    assert "<td>Forward to a department</td><td>Service</td>" in page
    assert "<td>forward</td>" not in page
    assert _dashboard(client, store["x"].user, date=today).context["mail_by_department"] == []


def test_funnel_by_promotion(client, store):
    promotion = factories.promotion(name="Winter tires")
    lead = Lead.objects.filter(source="AutoTrader", sold_at__isnull=False).get()
    Lead.objects.filter(pk=lead.pk).update(promotion=promotion)
    manager = factories.staff(Role.MANAGER)
    [row] = _dashboard(client, manager.user).context["by_promotion"]
    assert (row["label"], row["leads"], row["sold"]) == ("Winter tires", 1, 1)
    assert row["href"] == f"/promotions/{promotion.pk}/"


def test_followup_tasks_done_on_time_objective(db):
    from leads.models import FollowUpStep, FollowUpStepRun
    from leads.services.followup import followup_enroll, followup_plans_ensure_defaults

    factories.staff(Role.SUPERVISOR)
    plan = followup_plans_ensure_defaults()
    received = datetime(2026, 10, 1, 10, tzinfo=TORONTO)  # a past month: every task has fallen due
    for _ in range(2):
        followup_enroll(lead=factories.lead(received_at=received), plan=plan, now=received)
    tasks = list(
        FollowUpStepRun.objects.filter(
            step__kind__in=[FollowUpStep.Kind.CALL, FollowUpStep.Kind.DRAFT_EMAIL],
            due_at__month=10,
            due_at__year=2026,
        ).order_by("pk")
    )
    assert len(tasks) >= 3
    on_time, late, *left_open = tasks
    FollowUpStepRun.objects.filter(pk=on_time.pk).update(
        status="done", status_changed_at=on_time.due_at + timedelta(hours=2)
    )
    FollowUpStepRun.objects.filter(pk=late.pk).update(
        status="done", status_changed_at=late.due_at + timedelta(days=3)
    )
    objective = objective_propose(
        metric=Metric.FOLLOWUPS_ON_TIME,
        period_kind="month",
        period_start=date(2026, 10, 1),
        target=90,
        person=None,
        actor=None,
    )
    progress = objective_progress(objective=objective, today=date(2026, 10, 31))
    assert progress.actual == round(100 / len(tasks), 1) and progress.on_track is False


def test_an_advisor_sees_only_their_own_objectives_and_history(client, store):
    supervisor = factories.staff(Role.SUPERVISOR)
    for person, month in [(store["x"], 10), (store["y"], 10), (store["y"], 11)]:
        objective_propose(
            metric=Metric.APPOINTMENTS_SET,
            period_kind="month",
            period_start=date(2026, month, 1),
            target=10,
            person=person,
            actor=supervisor.user,
        )
    client.force_login(store["x"].user)
    page = client.get(reverse("dealership:objective_list"), NOVEMBER)
    assert page.context["progress"] == [] and [o.person for o in page.context["history"]] == [store["x"]]


def test_a_sale_whose_deal_fell_through_leaves_the_sales_the_close_rates_and_the_objective(client, store):
    manager = factories.staff(Role.MANAGER)
    sold = Lead.objects.get(status=LeadStatus.SOLD)
    objective = _mid_november(Metric.VEHICLES_SOLD, target=2).objective
    assert objective_progress(objective=objective, today=date(2026, 11, 15)).actual == 1
    lead_transition(
        lead=sold, to_status=LeadStatus.LOST, actor=manager.user, reason="Financing refused", by_hand=True
    )
    context = _dashboard(client, manager.user).context
    overall = context["overall"]
    assert (overall["leads"], overall["shown"], overall["sold"], overall["close_rate"]) == (6, 2, 0, 0.0)
    by_source = {row["key"]: row for row in context["by_source"]}
    assert (by_source["AutoTrader"]["sold"], by_source["AutoTrader"]["close_rate"]) == (0, 0.0)
    by_person = {row["key"]: row for row in context["by_person"]}
    assert (by_person["xavier"]["sold"], by_person["xavier"]["close_rate"]) == (0, 0.0)
    assert objective_progress(objective=objective, today=date(2026, 11, 15)).actual == 0


def test_a_sale_counts_for_who_made_it_after_a_colleague_takes_the_lead_for_the_delivery(client):
    from leads.services.leads import lead_assign

    alice = factories.staff(Role.ADVISOR, username="alice")
    bob = factories.staff(Role.ADVISOR, username="bob")
    supervisor, manager = factories.staff(Role.SUPERVISOR).user, factories.staff(Role.MANAGER).user
    lead = factories.lead(owner=alice.user)
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=supervisor)  # recorded for Alice
    lead_assign(lead=lead, owner=bob.user, actor=supervisor)  # Bob delivers the car
    today = timezone.localdate()
    this_month = {"period": "month", "date": today.isoformat()}
    objectives = {
        person: objective_propose(
            metric=Metric.VEHICLES_SOLD,
            period_kind="month",
            period_start=today,
            target=2,
            person=person,
            actor=supervisor,
        )
        for person in (alice, bob)
    }

    def figures(user, **params) -> tuple:
        """(leads, sold) of the page, its rows by person as (leads, sold, close rate), and the
        Vehicles sold objectives shown (None: not shown)."""
        client.force_login(user)
        context = client.get(reverse("dealership:dashboard"), {**this_month, **params}).context
        shown = {progress.objective.pk: progress.actual for progress in context["objectives"]}
        return (
            (context["overall"]["leads"], context["overall"]["sold"]),
            {row["key"]: (row["leads"], row["sold"], row["close_rate"]) for row in context["by_person"]},
            {person: shown.get(objective.pk) for person, objective in objectives.items()},
        )

    assert figures(manager) == ((1, 1), {"alice": (0, 1, None), "bob": (1, 0, 0.0)}, {alice: 1, bob: 0})
    exported = client.get(reverse("dealership:dashboard"), {**this_month, "export": "funnel_person"})
    rows = {row["username"]: row for row in csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))}
    assert (rows["alice"]["leads"], rows["alice"]["sold"], rows["bob"]["sold"]) == ("0", "1", "0")
    # The page narrowed to one person, and each advisor's own figures, say the same.
    assert figures(manager, person="alice")[0] == (0, 1) and figures(manager, person="bob")[0] == (1, 0)
    assert figures(alice.user) == ((0, 1), {"alice": (0, 1, None)}, {alice: 1, bob: None})
    assert figures(bob.user) == ((1, 0), {"bob": (1, 0, 0.0)}, {alice: None, bob: 0})

    def sold_and_listed(user, **params) -> tuple[int, int]:
        """The page's Sold figure, and the leads its link opens the inbox on."""
        client.force_login(user)
        context = client.get(reverse("dealership:dashboard"), {**this_month, **params}).context
        return context["overall"]["sold"], _inbox_rows(client, context["overall_links"]["sold"])

    assert sold_and_listed(manager, person="alice") == (1, 1)
    assert sold_and_listed(manager, person="bob") == (0, 0)
    assert sold_and_listed(alice.user) == (1, 1)
    assert sold_and_listed(bob.user) == (0, 0)

    lead_transition(lead=lead, to_status=LeadStatus.LOST, actor=manager, reason="Financing refused")
    assert figures(manager) == ((1, 0), {"bob": (1, 0, 0.0)}, {alice: 0, bob: 0})
    assert figures(alice.user)[0] == (0, 0)


def test_the_page_says_a_sale_counts_for_who_made_it(client, store):
    html = _dashboard(client, factories.staff(Role.MANAGER).user).content.decode()
    assert "A sale counts for the person who made it" in html


def _booked(lead, advisor, *, at: datetime, booked_at: datetime | None = None) -> Appointment:
    """A test drive booked on the lead, the day before it unless `booked_at` says when."""
    from leads.services.appointments import appointment_book

    return appointment_book(
        lead=lead,
        advisor=advisor,
        starts_at=at,
        purpose="test_drive",
        now=booked_at or at - timedelta(days=1),
    )


def test_the_show_rate_counts_only_the_appointments_that_have_come(client):
    """November closed: one visit came, one customer did not; one appointment is next week's, and
    one was called off when its customer bought elsewhere (no appointment set any more). The
    customer still to come is no visit missed: one of the two that came due showed, as the
    appointments table says."""
    from leads.services.appointments import appointment_transition

    advisor = factories.advisor(username="celine")
    manager = factories.staff(Role.MANAGER).user
    now = timezone.now()
    came = factories.lead(received_at=datetime(2026, 11, 3, 9, tzinfo=TORONTO), owner=advisor.user)
    visit = _booked(came, advisor, at=datetime(2026, 11, 5, 10, tzinfo=TORONTO))
    appointment_transition(appointment=visit, to_status="shown", now=now)
    missed = factories.lead(received_at=datetime(2026, 11, 4, 9, tzinfo=TORONTO), owner=advisor.user)
    no_show = _booked(missed, advisor, at=datetime(2026, 11, 6, 10, tzinfo=TORONTO))
    appointment_transition(appointment=no_show, to_status="no_show", now=now)
    to_come = factories.lead(received_at=datetime(2026, 11, 27, 9, tzinfo=TORONTO), owner=advisor.user)
    factories.test_drive(to_come, advisor, hour=10)
    called_off = factories.lead(received_at=datetime(2026, 11, 27, 11, tzinfo=TORONTO), owner=advisor.user)
    factories.test_drive(called_off, advisor, hour=14)
    lead_transition(lead=called_off, to_status=LeadStatus.LOST, reason="Bought elsewhere")

    manager_page = _dashboard(client, manager).context
    overall = manager_page["overall"]
    assert (overall["appointment_set"], overall["shown"], overall["show_rate"]) == (3, 1, 50.0)
    [celine] = manager_page["by_person"]
    [website] = manager_page["by_source"]
    assert celine["show_rate"] == website["show_rate"] == 50.0
    [table] = manager_page["appointments_by_advisor"]
    assert table["show_rate"] == 50.0
    # The advisor's own page reads the leads themselves, not the summary rows: the same rate.
    assert _dashboard(client, advisor.user).context["overall"]["show_rate"] == 50.0
    page = _dashboard(client, manager).content.decode()
    assert "once its appointment has come" in page  # the page says how the rate is read
    exported = _dashboard(client, manager, export="funnel_person").content.decode("utf-8-sig")
    [line] = csv.DictReader(io.StringIO(exported))
    assert (line["appointment_set"], line["appointment_due"], line["show_rate"]) == ("3", "2", "50.0")
