from datetime import timedelta
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from leads.models import LeadStatus
from leads.selectors.leads import sees_every_lead

from .access import staff_role_required
from .csv_download import csv_download
from .forms import DashboardFilterForm, ObjectiveForm, ObjectiveReviseForm
from .models import Objective, PeriodKind, Role
from .selectors import (
    FUNNEL_STAGES,
    STAGE_LABELS,
    dashboard_figures,
    dashboard_filters,
    objectives_before,
    objectives_for,
    objectives_progress,
    period_for,
    response_target,
    staff_directory,
)
from .services import (
    DIRECTORY_RESEND_SECONDS,
    DirectoryNotQueued,
    ObjectiveTakenError,
    ObjectiveTransitionError,
    directory_send_claim,
    directory_send_queue,
    objective_propose,
    objective_revise,
    objective_transition,
    objective_unchangeable,
)

# Where each role starts its day.
ROLE_HOME = {
    Role.SUPERVISOR: "leads:inbox",
    Role.ADVISOR: "leads:my_appointments",
    Role.MANAGER: "dealership:dashboard",
    Role.DEPARTMENT: "leads:department_mail",
    Role.ADMIN: "admin:index",
}


@login_required
def home(request):
    staff = getattr(request.user, "staff", None)
    if staff is None:
        return redirect("admin:index" if request.user.is_staff else "dealership:directory")
    return redirect(ROLE_HOME[staff.role])


# Names, phones and addresses of everyone at the store: for the staff, not for an account taken off it.
@staff_role_required
def directory(request):
    return render(request, "dealership/staffmember_list.html", {"staff": staff_directory()})


@staff_role_required
@require_POST
@permission_required("dealership.send_directory", raise_exception=True)
def directory_send_view(request):
    if sent_at := directory_send_claim():
        resend_at = sent_at + timedelta(seconds=DIRECTORY_RESEND_SECONDS)
        messages.info(
            request,
            gettext(
                "The staff directory was already sent at %(sent)s; so that nobody gets it twice, it can be "
                "sent again from %(resend)s."
            )
            % {
                "sent": f"{timezone.localtime(sent_at):%H:%M}",
                "resend": f"{timezone.localtime(resend_at):%H:%M}",
            },
        )
        return redirect("dealership:directory")
    try:
        directory_send_queue(
            sent_by_id=getattr(request.user, "staff", None) and request.user.staff.pk,
            # In the language the page was read in: the one of the person who sends it.
            language=get_language(),
        )
    except DirectoryNotQueued as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, gettext("The staff directory is being sent to every active staff member."))
    return redirect("dealership:directory")


def _dashboard_scope(request):
    form = DashboardFilterForm(request.GET or None)
    form.is_valid()  # a malformed field is left out; the others still apply
    values = getattr(form, "cleaned_data", {})
    today = timezone.localdate()
    period = period_for(kind=values.get("period") or PeriodKind.MONTH, anchor=values.get("date") or today)
    filters = dashboard_filters(source=values.get("source") or "", person=values.get("person") or "")
    return form, period, filters, today


def _leads_link(period, filters: dict, **more) -> str:
    """The lead inbox narrowed to the leads behind a figure; "" when the dashboard is asked for a
    person no one is (it counts no lead: the inbox has no filter that lists none). A person's sales
    are the leads they sold, whoever owns them now; their other figures, the leads they own."""
    if "owner_id" in filters and filters["owner_id"] is None:
        return ""
    params = {
        "status": "all",
        "received_from": period.start.isoformat(),
        "received_to": (period.end - timedelta(days=1)).isoformat(),
    }
    if filters.get("source"):
        params["source"] = filters["source"]
    if "owner_id" in filters:
        params["seller" if more.get("reached") == "sold" else "owner"] = filters["owner_id"]
    params |= {key: value for key, value in more.items() if value not in (None, "")}
    return f"{reverse('leads:inbox')}?{urlencode(params)}"


def _bars(rows: list[dict], *, value: str, label: str, link=None) -> list[dict]:
    """Rows of a horizontal bar chart drawn in SVG on the server: width in percent of the largest;
    `link`: each row's leads in the inbox, when the inbox can list exactly them."""
    largest = max((row[value] or 0 for row in rows), default=0) or 1
    return [
        {
            "label": row[label],
            "value": row[value],
            "width": round(100 * (row[value] or 0) / largest, 1),
            "href": link(row) if link else "",
        }
        for row in rows
    ]


def _columns(days: list[dict], link) -> list[dict]:
    """Daily columns of an SVG chart: x position and height in viewBox units (100 high)."""
    tallest = max((day["leads"] for day in days), default=0) or 1
    width = 100 / max(len(days), 1)
    return [
        day
        | {
            "x": round(index * width, 2),
            "width": round(width * 0.8, 2),
            "height": round(100 * day["leads"] / tallest, 1),
            "y": round(100 - 100 * day["leads"] / tallest, 1),
            "href": link(received_from=day["day"].isoformat(), received_to=day["day"].isoformat()),
        }
        for index, day in enumerate(days)
    ]


# The weekdays as the CSV names them (in English whatever the page's language).
DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _dashboard_tables(request, period, filters, today) -> dict:
    figures = dashboard_figures(
        user=request.user,
        period=period,
        filters=filters,
        target=response_target(minutes=settings.RESPONSE_TARGET_MINUTES),
    )
    overall = figures["overall"]
    for row in figures["by_weekday"]:
        row["label"] = str(WEEKDAYS_ABBR[row["slot"] - 1])
    for row in figures["by_hour"]:
        row["label"] = f"{row['slot']:02d}:00"
    # An advisor's figures are their own: their links name them, as the page narrowed to a person does.
    person = {} if sees_every_lead(request.user) else {"owner_id": request.user.pk}
    link = partial(_leads_link, period, filters | person)
    stages = ["leads", *(stage for stage, _ in FUNNEL_STAGES)]
    return figures | {
        "overall_links": {stage: link(reached=stage if stage != "leads" else None) for stage in stages},
        "funnel_bars": _bars(
            [{"stage": stage, "label": STAGE_LABELS[stage], "count": overall[stage]} for stage in stages],
            value="count",
            label="label",
            link=lambda row: link(reached=row["stage"] if row["stage"] != "leads" else None),
        ),
        # The inbox cannot ask for leads without a source: that row is no link.
        "by_source": [
            row | {"href": link(source=row["key"]) if row["key"] else ""} for row in figures["by_source"]
        ],
        "by_person": [row | {"href": link(owner=row["owner_id"] or "none")} for row in figures["by_person"]],
        "not_a_lead_link": link(status=LeadStatus.NOT_A_LEAD),
        "by_promotion": [
            row | {"href": reverse("promotions:detail", args=[row["key"]])} for row in figures["by_promotion"]
        ],
        # No links: the inbox cannot narrow its leads to a first-response time.
        "response_bars": _bars(figures["response"]["buckets"], value="count", label="label"),
        "volume_days": _columns(figures["volume_days"], link),
        "objectives": objectives_progress(
            objectives=objectives_for(user=request.user, period=period), today=today
        ),
    }


FUNNEL_COLUMNS = [
    "leads",
    "contacted",
    "appointment_set",
    "appointment_due",  # the show rate's base: the leads whose appointment has come
    "shown",
    "sold",
    "appointment_rate",
    "show_rate",
    "close_rate",
]
APPOINTMENT_COLUMNS = ["booked", "shown", "no_show", "sold", "show_rate"]
SLOT_COLUMNS = ["leads", "answered", "missed", "within", "share_within_target"]

# Each table of the dashboard as CSV: its header, and its rows from the figures on the page.
CSV_TABLES = {
    "funnel_source": (
        ["source", *FUNNEL_COLUMNS],
        lambda t: ([r["key"], *map(r.get, FUNNEL_COLUMNS)] for r in t["by_source"]),
    ),
    "funnel_person": (
        ["person", "username", *FUNNEL_COLUMNS],
        lambda t: ([r["label"], r["key"], *map(r.get, FUNNEL_COLUMNS)] for r in t["by_person"]),
    ),
    "funnel_promotion": (
        ["promotion", *FUNNEL_COLUMNS],
        lambda t: ([r["label"], *map(r.get, FUNNEL_COLUMNS)] for r in t["by_promotion"]),
    ),
    "appointments_advisor": (
        ["advisor", *APPOINTMENT_COLUMNS],
        lambda t: ([r["advisor"], *map(r.get, APPOINTMENT_COLUMNS)] for r in t["appointments_by_advisor"]),
    ),
    "mail_department": (
        ["kind", "department", "messages"],
        lambda t: ([r["kind"], r["department"], r["messages"]] for r in t["mail_by_department"]),
    ),
    "response_hour": (
        ["hour", *SLOT_COLUMNS],
        lambda t: ([r["slot"], *map(r.get, SLOT_COLUMNS)] for r in t["by_hour"]),
    ),
    "response_weekday": (
        ["weekday", *SLOT_COLUMNS],
        lambda t: ([DAY_NAMES[r["slot"] - 1], *map(r.get, SLOT_COLUMNS)] for r in t["by_weekday"]),
    ),
    "volume": (
        ["day", "source", "leads"],
        lambda t: (
            [d["day"], source, count] for d in t["volume_days"] for source, count in d["sources"].items()
        ),
    ),
}


def _csv_response(name: str, tables: dict, period) -> HttpResponse:
    header, rows = CSV_TABLES[name]
    return csv_download(f"{name}-{period.start}.csv", [header, *rows(tables)])


@login_required
def dashboard(request):
    form, period, filters, today = _dashboard_scope(request)
    tables = _dashboard_tables(request, period, filters, today)
    if (export := request.GET.get("export")) in CSV_TABLES:
        return _csv_response(export, tables, period)
    query = request.GET.copy()
    query.pop("export", None)
    return render(
        request,
        "dealership/dashboard.html",
        {
            "form": form,
            "period": period,
            # An advisor's figures are their own leads', not the department's.
            "whose": gettext("Internet department")
            if sees_every_lead(request.user)
            else gettext("My figures"),
            "filters": filters,
            "query": query.urlencode(),
            "filter_query": urlencode(
                {name: filters[name] for name in ("source", "person") if filters.get(name)}
            ),
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            **tables,
        },
    )


@login_required
def objective_list(request):
    form, period, _, today = _dashboard_scope(request)
    objectives = objectives_for(user=request.user, period=period)
    return render(
        request,
        "dealership/objective_list.html",
        {
            "period": period,
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            "progress": objectives_progress(objectives=objectives, today=today),
            "history": objectives_before(user=request.user, period=period)[:50],
        },
    )


@login_required
@permission_required("dealership.propose_objective", raise_exception=True)
def objective_create(request):
    form = ObjectiveForm(request.POST or None, initial={"period_start": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            objective_propose(**form.cleaned_data, actor=request.user)
        except ObjectiveTakenError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, gettext("Objective proposed; the manager will review it."))
            return redirect("dealership:objective_list")
    return render(request, "dealership/objective_form.html", {"form": form})


DECIDED = {
    Objective.Status.APPROVED: _("Objective approved."),
    Objective.Status.REJECTED: _("Objective rejected."),
    Objective.Status.PROPOSED: _("Objective proposed."),
    Objective.Status.WITHDRAWN: _("Objective withdrawn."),
}


def _objective_period_page(objective: Objective):
    return redirect(
        f"{reverse('dealership:objective_list')}?date={objective.period_start}&period={objective.period_kind}"
    )


def _objective_moved(request, objective: Objective, to_status: str):
    try:
        objective = objective_transition(objective=objective, to_status=to_status, actor=request.user)
    except ObjectiveTransitionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, DECIDED[objective.status])
    return _objective_period_page(objective)


@login_required
@require_POST
@permission_required("dealership.approve_objective", raise_exception=True)
def objective_decide(request, pk: int):
    return _objective_moved(request, get_object_or_404(Objective, pk=pk), request.POST.get("decision", ""))


@login_required
@require_POST
@permission_required("dealership.propose_objective", raise_exception=True)
def objective_withdraw(request, pk: int):
    return _objective_moved(request, get_object_or_404(Objective, pk=pk), Objective.Status.WITHDRAWN)


@login_required
@permission_required("dealership.propose_objective", raise_exception=True)
def objective_revise_view(request, pk: int):
    objective = get_object_or_404(Objective, pk=pk)
    if refusal := objective_unchangeable(objective):
        messages.error(request, refusal)
        return _objective_period_page(objective)
    form = ObjectiveReviseForm(request.POST or None, instance=objective)
    if request.method == "POST" and form.is_valid():
        try:
            objective_revise(objective=objective, actor=request.user, **form.cleaned_data)
        except ObjectiveTransitionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, gettext("Objective changed; the manager will review it."))
        return _objective_period_page(objective)
    return render(request, "dealership/objective_form.html", {"form": form, "objective": objective})
