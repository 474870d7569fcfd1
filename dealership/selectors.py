"""Reads for the store-wide pages: the staff directory, and the figures on the manager's dashboard."""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate

from leads.models import Lead
from leads.selectors.leads import lead_visible_to

from .models import LOWER_IS_BETTER, Metric, Objective, PeriodKind, Role, StaffMember


def staff_directory(*, department_code: str | None = None) -> QuerySet[StaffMember]:
    """Every active person at the store, grouped by department then name."""
    staff = StaffMember.objects.filter(user__is_active=True).select_related("user", "department")
    if department_code:
        staff = staff.filter(department__code=department_code)
    return staff.order_by("department__name", "user__last_name", "user__first_name")


def store_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.WEEK:
            return f"Week of {self.start:%B %-d, %Y}"
        if self.kind == PeriodKind.QUARTER:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return f"{self.start:%B %Y}"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        zone = store_zone()
        return datetime.combine(self.start, time(), zone), datetime.combine(self.end, time(), zone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def days_left(self, today: date) -> int:
        return max(0, (self.end - max(today, self.start)).days)

    def shifted(self, steps: int) -> "Period":
        anchor = self.start if steps < 0 else self.end
        if steps < 0:
            anchor -= timedelta(days=1)
        return period_for(kind=self.kind, anchor=anchor)


def period_for(*, kind: str, anchor: date) -> Period:
    """The week (Monday first), month or quarter that holds `anchor`."""
    if kind == PeriodKind.WEEK:
        start = anchor - timedelta(days=anchor.weekday())
        return Period(kind, start, start + timedelta(days=7))
    first_month = anchor.month if kind == PeriodKind.MONTH else 3 * ((anchor.month - 1) // 3) + 1
    start = date(anchor.year, first_month, 1)
    months = 1 if kind == PeriodKind.MONTH else 3
    end_month = first_month + months
    end = date(anchor.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return Period(kind, start, end)


# Funnel stages in order, with the milestone field a lead carries when it reached the stage.
FUNNEL_STAGES = [
    ("contacted", "contacted_at"),
    ("appointment_set", "appointment_set_at"),
    ("shown", "shown_at"),
    ("sold", "sold_at"),
]
FUNNEL_DIMENSIONS = {"source": "source", "person": "owner__username"}
# Extra columns that name a group for people (a person's name rather than their username).
DIMENSION_LABEL_FIELDS = {"person": ["owner__first_name", "owner__last_name"]}


def _dimension_label(dimension: str, row: dict) -> str:
    if dimension == "person":
        name = " ".join(filter(None, (row.pop("owner__first_name"), row.pop("owner__last_name"))))
        return name or row["key"] or "(unassigned)"
    return row["key"] or "(none)"


STAGE_LABELS = {
    "leads": "Leads",
    "contacted": "Contacted",
    "appointment_set": "Appointment set",
    "shown": "Shown",
    "sold": "Sold",
}


def dashboard_leads(*, user, period: Period, filters: dict | None = None):
    """Leads received in the period that this person may see, narrowed by the dashboard's filters."""
    filters = filters or {}
    start, end = period.bounds
    leads = lead_visible_to(user=user).filter(received_at__gte=start, received_at__lt=end)
    if filters.get("source"):
        leads = leads.filter(source=filters["source"])
    if filters.get("person"):
        leads = leads.filter(owner__username=filters["person"])
    return leads.order_by()


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def funnel(*, leads, dimension: str | None = None) -> list[dict]:
    """Leads → contacted → appointment set → shown → sold, overall or per source or person, with rates."""
    counts = {"leads": Count("pk")} | {stage: Count(field) for stage, field in FUNNEL_STAGES}
    if dimension:
        field = FUNNEL_DIMENSIONS[dimension]
        rows = [
            {"key": row.pop(field) or "", **row}
            for row in leads.values(field, *DIMENSION_LABEL_FIELDS.get(dimension, []))
            .annotate(**counts)
            .order_by("-leads", field)
        ]
        for row in rows:
            row["label"] = _dimension_label(dimension, row)
    else:
        rows = [{"key": "all", **leads.aggregate(**counts)}]
    for row in rows:
        row["appointment_rate"] = _rate(row["appointment_set"], row["leads"])
        row["show_rate"] = _rate(row["shown"], row["appointment_set"])
        row["close_rate"] = _rate(row["sold"], row["leads"])
    return rows


def percentile(sorted_values: list[int], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (the same as PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)


RESPONSE_BUCKETS = [(0, 5), (5, 15), (15, 30), (30, 60), (60, 240), (240, 1440), (1440, None)]


def response_times(*, leads, target_minutes: int) -> dict:
    """First-response time in business minutes: distribution, median, 90th percentile, share within target."""
    minutes = sorted(
        leads.filter(first_response_business_minutes__isnull=False).values_list(
            "first_response_business_minutes", flat=True
        )
    )
    total = leads.count()
    within = sum(1 for value in minutes if value <= target_minutes)
    buckets = [
        {
            "label": f"{low}–{high} min" if high is not None else f"over {low // 60} h",
            "low": low,
            "high": high,
            "count": sum(1 for value in minutes if value >= low and (high is None or value < high)),
        }
        for low, high in RESPONSE_BUCKETS
    ]
    return {
        "leads": total,
        "answered": len(minutes),
        "unanswered": total - len(minutes),
        "median": percentile(minutes, 0.5),
        "p90": percentile(minutes, 0.9),
        "within_target": within,
        "share_within_target": _rate(within, len(minutes)),
        "target_minutes": target_minutes,
        "buckets": buckets,
    }


def response_by_time_received(*, leads, target_minutes: int, part: str) -> list[dict]:
    """Leads and how many were answered within target, by hour of the day or ISO day of the week received."""
    extract = ExtractHour if part == "hour" else ExtractIsoWeekDay
    rows = (
        leads.annotate(slot=extract("received_at", tzinfo=store_zone()))
        .values("slot")
        .annotate(
            leads=Count("pk"),
            answered=Count("first_response_business_minutes"),
            within=Count("pk", filter=Q(first_response_business_minutes__lte=target_minutes)),
        )
        .order_by("slot")
    )
    by_slot = {row["slot"]: row for row in rows}
    slots = range(24) if part == "hour" else range(1, 8)
    return [
        {
            "slot": slot,
            "leads": by_slot.get(slot, {}).get("leads", 0),
            "answered": by_slot.get(slot, {}).get("answered", 0),
            "within": by_slot.get(slot, {}).get("within", 0),
            "share_within_target": _rate(
                by_slot.get(slot, {}).get("within", 0), by_slot.get(slot, {}).get("answered", 0)
            ),
        }
        for slot in slots
    ]


def volume_by_source(*, leads) -> list[dict]:
    """Leads per day received, per source."""
    return list(
        leads.annotate(day=TruncDate("received_at", tzinfo=store_zone()))
        .values("day", "source")
        .annotate(leads=Count("pk"))
        .order_by("day", "source")
    )


def volume_by_day(*, volume: list[dict], period: Period) -> list[dict]:
    """Every day of the period with its leads per source (zero days included), for the chart."""
    days: dict[date, dict] = {period.start + timedelta(days=n): {} for n in range(period.days)}
    for row in volume:
        days.setdefault(row["day"], {})[row["source"] or "(none)"] = row["leads"]
    return [{"day": day, "sources": sources, "leads": sum(sources.values())} for day, sources in days.items()]


def _leads_of(objective: Objective):
    leads = Lead.objects.all()
    return leads.filter(owner=objective.person.user) if objective.person else leads


def _received_in(objective: Objective, period: Period):
    start, end = period.bounds
    return _leads_of(objective).filter(received_at__gte=start, received_at__lt=end)


def _reached_in(objective: Objective, period: Period, field: str) -> int:
    start, end = period.bounds
    return _leads_of(objective).filter(**{f"{field}__gte": start, f"{field}__lt": end}).count()


def _response(objective: Objective, period: Period, key: str):
    return response_times(
        leads=_received_in(objective, period), target_minutes=settings.RESPONSE_TARGET_MINUTES
    )[key]


# How each metric is measured for an objective's period; a metric missing here is not measured yet.
METRIC_ACTUALS = {
    Metric.LEADS_ANSWERED: lambda o, p: _received_in(o, p).filter(first_response_at__isnull=False).count(),
    Metric.MEDIAN_RESPONSE: lambda o, p: _response(o, p, "median"),
    Metric.SHARE_WITHIN_TARGET: lambda o, p: _response(o, p, "share_within_target"),
    Metric.APPOINTMENTS_SET: lambda o, p: _reached_in(o, p, "appointment_set_at"),
    Metric.APPOINTMENTS_SHOWN: lambda o, p: _reached_in(o, p, "shown_at"),
    Metric.VEHICLES_SOLD: lambda o, p: _reached_in(o, p, "sold_at"),
}


@dataclass(frozen=True)
class Progress:
    objective: Objective
    period: Period
    actual: float | None
    percent: float | None  # of the target reached (or, lower-is-better, how close)
    on_track: bool | None
    needed_per_day: float | None  # count metrics: what each remaining day must bring


def objective_progress(*, objective: Objective, today: date) -> Progress:
    period = period_for(kind=objective.period_kind, anchor=objective.period_start)
    measure = METRIC_ACTUALS.get(objective.metric)
    actual = measure(objective, period) if measure else None
    target = float(objective.target)
    if actual is None:
        return Progress(objective, period, None, None, None, None)
    if objective.metric in LOWER_IS_BETTER:
        return Progress(
            objective, period, actual, _rate(target, actual) if actual else 100.0, actual <= target, None
        )
    percent = _rate(actual, target) if target else 100.0
    if objective.metric == Metric.SHARE_WITHIN_TARGET:
        return Progress(objective, period, actual, percent, actual >= target, None)
    elapsed = min(period.days, max(0, (today - period.start).days + 1))
    expected_by_now = target * elapsed / period.days
    days_left = period.days_left(today + timedelta(days=1))
    needed = max(0.0, target - actual) / days_left if days_left else None
    return Progress(objective, period, actual, percent, actual >= expected_by_now, needed)


def objectives_visible_to(*, user) -> QuerySet[Objective]:
    """Everyone's objectives for supervisors and managers; an advisor sees only their own."""
    objectives = Objective.objects.select_related("person__user")
    staff = getattr(user, "staff", None)
    if user.is_superuser or (staff and staff.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)):
        return objectives
    return objectives.filter(person=staff) if staff else objectives.none()


def objectives_for(*, user, period: Period) -> QuerySet[Objective]:
    return objectives_visible_to(user=user).filter(
        period_start__gte=period.start, period_start__lt=period.end
    )
