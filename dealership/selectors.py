"""Reads for the store-wide pages: the staff directory, and the figures on the manager's dashboard."""

import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, ExtractHour, Now, TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from inventory.selectors import photo_coverage
from leads.business_hours import (
    business_moment_before,
    closed_all_day,
    store_closed_days,
    store_hours,
    store_zone,
)
from leads.models import Appointment, InboundMail, Lead, LeadHourStats, LeadStatus
from leads.models.leads import FUNNEL_MILESTONES, LEAD_SOURCE_LABELS, LEADS_COUNTED
from leads.normalize import source_key
from leads.selectors.appointments import followup_tasks_due_and_on_time
from leads.selectors.leads import lead_visible_to, sees_every_lead, source_matching

from .models import LOWER_IS_BETTER, SHARES, Metric, Objective, PeriodKind, StaffMember, oversees_store


def staff_directory(*, department_code: str | None = None) -> QuerySet[StaffMember]:
    """Every active person at the store, grouped by department then name."""
    staff = StaffMember.objects.filter(user__is_active=True).select_related("user", "department")
    if department_code:
        staff = staff.filter(department__code=department_code)
    return staff.order_by("department__name", "user__last_name", "user__first_name")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        # In the page's language: "Week of November 2, 2026", "Semaine du 2 novembre 2026".
        if self.kind == PeriodKind.WEEK:
            return gettext("Week of %(day)s") % {"day": date_format(self.start, gettext("F j, Y"))}
        if self.kind == PeriodKind.QUARTER:
            return gettext("Q%(quarter)s %(year)s") % {
                "quarter": (self.start.month - 1) // 3 + 1,
                "year": self.start.year,
            }
        return date_format(self.start, "F Y")

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


FUNNEL_STAGES = [(str(stage), field) for stage, field in FUNNEL_MILESTONES]
STAGE_LABELS = {
    "leads": gettext_lazy("Leads"),
    "contacted": gettext_lazy("Contacted"),
    "appointment_set": gettext_lazy("Appointment set"),
    "shown": pgettext_lazy("funnel", "Shown"),
    "sold": pgettext_lazy("funnel", "Sold"),
}
COUNTED = [
    "leads",
    *(stage for stage, _ in FUNNEL_STAGES),
    "appointment_to_come",
    "answered",
    "within",
    "missed",
]
RESPONSE_BUCKETS = [(0, 5), (5, 15), (15, 30), (30, 60), (60, 240), (240, 1440), (1440, None)]
# Targets the hourly summary rows can answer for ("answered within N minutes" columns).
SUMMARY_EDGES = {5, 15, 30, 60, 240, 1440}
# An appointment the customer came to: a sale counts as shown.
SHOWED = Q(status__in=[Appointment.Status.SHOWN, Appointment.Status.SOLD])
# A lead whose appointment has not come: set, not shown, and none of its appointments has started
# yet, cancelled ones aside (they never come). The show rate leaves it out: it is no visit missed.
# A lead set to "appointment set" without booking one has no time to wait for: it counts as come.
_APPOINTMENT_CAME = Appointment.objects.filter(lead=OuterRef("pk"), starts_at__lte=Now()).exclude(
    status=Appointment.Status.CANCELLED
)
APPOINTMENT_TO_COME = (
    Q(appointment_set_at__isnull=False, shown_at__isnull=True)
    & Exists(Appointment.objects.filter(lead=OuterRef("pk")))
    & ~Exists(_APPOINTMENT_CAME)
)


def _leads_of(user):
    """The leads whose figures this person sees: every lead for those who see every lead, an
    advisor's own leads."""
    # An advisor may open a colleague's lead whose customer they meet; it counts for its owner.
    return lead_visible_to(user=user) if sees_every_lead(user) else Lead.objects.filter(owner=user)


def dashboard_leads(*, user, period: Period, filters: dict | None = None):
    """Leads received in the period that count in this person's figures (_leads_of), narrowed by
    the dashboard's filters."""
    return _narrowed(_leads_of(user), period=period, filters=filters or {})


def dashboard_not_a_lead(*, user, period: Period, filters: dict) -> int:
    """How many inquiries received in the period were closed as not a lead, of those dashboard_leads
    would count: counted in no figure, and said apart, so that the manager sees how much spam came."""
    not_a_lead = _leads_of(user).filter(status=LeadStatus.NOT_A_LEAD)
    return _received_in(not_a_lead, period=period, filters=filters).count()


def dashboard_sales(*, user, period: Period, filters: dict | None = None):
    """Leads received in the period and sold whose sale counts in this person's figures, narrowed
    by the dashboard's filters: a sale counts for the person who made it (sold_by), whoever owns the
    lead now. Every sale for those who see every lead (a person's, for the page narrowed to them),
    an advisor's own sales."""
    leads = lead_visible_to(user=user) if sees_every_lead(user) else Lead.objects.filter(sold_by=user)
    return _narrowed(
        leads.filter(sold_at__isnull=False), period=period, filters=filters or {}, person="sold_by"
    )


def _filtered(filters: dict, *, lead: str = "", person: str = "owner") -> Q:
    """The dashboard's filters on leads (`lead`: the path to the lead, for rows of another model):
    the source, however it is written (source_matching), and the person's leads (`person`: the
    lead's field naming them, "sold_by" for their sales); none for a person no one is."""
    condition = Q()
    if filters.get("source"):
        condition &= source_matching(filters["source"], field=f"{lead}source")
    if "owner_id" in filters:
        condition &= Q(**{f"{lead}{person}_id": filters["owner_id"]}) if filters["owner_id"] else Q(pk__in=[])
    return condition


def _received_in(leads, *, period: Period, filters: dict, person: str = "owner"):
    """Those of `leads` received in the period, narrowed by the dashboard's filters (`person`: as
    _filtered reads it)."""
    start, end = period.bounds
    leads = leads.filter(received_at__gte=start, received_at__lt=end)
    return leads.filter(_filtered(filters, person=person)).order_by()


def _narrowed(leads, *, period: Period, filters: dict, person: str = "owner"):
    """Those of `leads` the figures count (LEADS_COUNTED) received in the period, narrowed by the
    dashboard's filters."""
    return _received_in(leads.filter(LEADS_COUNTED), period=period, filters=filters, person=person)


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _with_rates(row: dict) -> dict:
    row["appointment_rate"] = _rate(row["appointment_set"], row["leads"])
    # Of the leads whose appointment has come (standard: shown / appointments due).
    row["appointment_due"] = row["appointment_set"] - row["appointment_to_come"]
    row["show_rate"] = _rate(row["shown"], row["appointment_due"])
    row["close_rate"] = _rate(row["sold"], row["leads"])
    row["share_within_target"] = _rate(row["within"], row["answered"] + row["missed"])
    return row


@dataclass(frozen=True)
class ResponseTarget:
    """The first-response target in business minutes, judged at one moment: a lead received at or
    before `overdue_before` and never answered has missed it (None: the store is never open)."""

    minutes: int
    overdue_before: datetime | None


def response_target(*, minutes: int, now: datetime | None = None) -> ResponseTarget:
    """The target as the inbox's overdue clock reads it (leads.selectors.leads.response_deadlines)."""
    return ResponseTarget(minutes, business_moment_before(now or timezone.now(), minutes))


def _missed_q(target: ResponseTarget) -> Q:
    """Leads nobody answered whose target time has passed, whatever their status (a sold or lost lead
    nobody answered was missed too): with the answered ones, the leads whose answer is decided.
    Unanswered is read on the column "answered" counts, so that a lead is one or the other."""
    if target.overdue_before is None:
        return Q(pk__in=[])
    return Q(first_response_business_minutes__isnull=True, received_at__lte=target.overdue_before)


def _counts(target: ResponseTarget) -> dict:
    counts = {"leads": Count("pk")} | {stage: Count(field) for stage, field in FUNNEL_STAGES}
    return counts | {
        "appointment_to_come": Count("pk", filter=APPOINTMENT_TO_COME),
        "answered": Count("first_response_business_minutes"),
        "within": Count("pk", filter=Q(first_response_business_minutes__lte=target.minutes)),
        "missed": Count("pk", filter=_missed_q(target)),
    }


# The finest grain of the dashboard's counts; each breakdown asks only for the fields it needs.
GRAIN = ("day", "local_hour", "source", "owner_id")


def _day_and_hour(field: str) -> dict:
    """The day and the hour of `field` in store time, for the groups "day" and "local_hour"."""
    zone = store_zone()
    return {"day": TruncDate(field, tzinfo=zone), "local_hour": ExtractHour(field, tzinfo=zone)}


def _lead_groups(*, leads, target: ResponseTarget, by=GRAIN) -> list[dict]:
    """Counts per group of leads: by day and hour received (store time), source and/or owner."""
    return list(
        leads.annotate(**_day_and_hour("received_at")).values(*by).annotate(**_counts(target)).order_by()
    )


# The groups of the funnel by promotion.
BY_PROMOTION = ("promotion_id", "promotion__name")


def _promotion_groups(*, leads, target: ResponseTarget) -> list[dict]:
    """Counts per promotion, for the leads that came through one."""
    return list(
        leads.filter(promotion__isnull=False).values(*BY_PROMOTION).annotate(**_counts(target)).order_by()
    )


def _sale_groups(*, sales, by) -> list[dict]:
    """Sales per group, as _lead_groups (or _promotion_groups) groups leads, but for the person who
    made each sale where those group by the lead's owner: "owner_id" is the seller's here."""
    fields = ["sold_by_id" if field == "owner_id" else field for field in by]
    groups = list(
        sales.annotate(**_day_and_hour("received_at")).values(*fields).annotate(sold=Count("pk")).order_by()
    )
    if "owner_id" in by:
        for group in groups:
            group["owner_id"] = group.pop("sold_by_id")
    return groups


def _sales_credited(groups: list[dict], *, sales: list[dict], by) -> list[dict]:
    """`groups` of leads with their "sold" counted from `sales` (_sale_groups of the same `by`):
    by person, a sale counts for whoever made it, and someone who made a sale of a lead they no
    longer own has a group all the same, with no leads."""
    by_key = {tuple(group[field] for field in by): group | {"sold": 0} for group in groups}
    for sale in sales:
        key = tuple(sale[field] for field in by)
        group = by_key.setdefault(key, dict.fromkeys(COUNTED, 0) | dict(zip(by, key, strict=True)))
        group["sold"] = sale["sold"]
    return list(by_key.values())


def after_hours(group: dict, hours, closed) -> bool:
    """Received in an hour the store is not open at all (BUSINESS_HOURS, read to the hour), or on a
    day it is closed (a holiday, a date of BUSINESS_CLOSED_DAYS)."""
    window = hours[group["day"].weekday()]
    if window is None or closed_all_day(group["day"], closed=closed):
        return True
    opens, closes = window
    return not (opens.hour <= group["local_hour"] < closes.hour + (1 if closes.minute else 0))


def _roll_up(groups: list[dict], key) -> dict:
    totals: dict = {}
    for group in groups:
        row = totals.setdefault(key(group), dict.fromkeys(COUNTED, 0))
        for name in COUNTED:
            row[name] += group[name]
    return totals


def funnel(*, groups: list[dict], key=None, labels: dict | None = None) -> list[dict]:
    """Leads → contacted → appointment set → shown → sold with rates, overall or per key, most leads first."""
    totals = _roll_up(groups, key or (lambda group: "all"))
    if not totals:
        totals = {"all": dict.fromkeys(COUNTED, 0)} if key is None else {}
    rows = [
        _with_rates({"key": name, "label": (labels or {}).get(name, name), **row})
        for name, row in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row["leads"], str(row["label"])))


def percentile(distribution: list[tuple[int, int]], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont) over (value, count) pairs."""
    total = sum(count for _, count in distribution)
    if not total:
        return None
    position = (total - 1) * fraction
    lower_rank, upper_rank = math.floor(position), math.ceil(position)
    lower = upper = None
    seen = 0
    for value, count in distribution:
        if lower is None and lower_rank < seen + count:
            lower = value
        if upper_rank < seen + count:
            upper = value
            break
        seen += count
    return lower + (upper - lower) * (position - lower_rank)


def response_distribution(*, leads) -> list[tuple[int, int]]:
    """How many leads were first answered after each number of business minutes, ascending."""
    return sorted(
        leads.filter(first_response_business_minutes__isnull=False)
        .values_list("first_response_business_minutes")
        .annotate(count=Count("pk"))
        .order_by()
    )


def response_summary(
    *, distribution: list[tuple[int, int]], total: int, missed: int, target_minutes: int
) -> dict:
    """First-response time in business minutes: median, 90th percentile, share within target, buckets.

    The share is of the leads whose answer is decided: the answered ones, and the `missed` ones
    (never answered, target time passed); a lead still inside its target time counts for neither."""
    answered = sum(count for _, count in distribution)
    within = sum(count for value, count in distribution if value <= target_minutes)
    return {
        "leads": total,
        "answered": answered,
        "unanswered": total - answered,
        "missed": missed,
        "median": percentile(distribution, 0.5),
        "p90": percentile(distribution, 0.9),
        "within_target": within,
        "share_within_target": _rate(within, answered + missed),
        "target_minutes": target_minutes,
        "buckets": [
            {
                "label": gettext("%(low)s–%(high)s min") % {"low": low, "high": high}
                if high is not None
                else gettext("over %(hours)s h") % {"hours": low // 60},
                # A bucket holds its upper edge, as the target does: an answer in 30 minutes is
                # within a 30-minute target and in the 15–30 bucket.
                "count": sum(
                    c for v, c in distribution if (low == 0 or v > low) and (high is None or v <= high)
                ),
            }
            for low, high in RESPONSE_BUCKETS
        ],
    }


def _by_slot(groups: list[dict], slot, slots) -> list[dict]:
    totals = _roll_up(groups, slot)
    return [_with_rates({"slot": n, **totals.get(n, dict.fromkeys(COUNTED, 0))}) for n in slots]


def source_names(groups: list[dict]) -> dict[str, str]:
    """Each source as leads spell it → the source it is counted as. Spellings of one source
    (source_key: "AutoTrader", "autotrader", "autotrader.ca") are one, as the inbox's source filter
    takes them, named as most of its leads spell it."""
    spellings = Counter()
    for group in groups:
        spellings[group["source"] or ""] += group["leads"]
    names: dict[str, str] = {}
    for spelling, _ in sorted(spellings.items(), key=lambda item: (-item[1], item[0])):
        names.setdefault(source_key(spelling), spelling)
    return {spelling: names[source_key(spelling)] for spelling in spellings}


def volume_by_day(*, groups: list[dict], period: Period, names: dict[str, str]) -> list[dict]:
    """Every day of the period with its leads per source (days without leads included).

    `names`: as source_names gives them."""
    days: dict[date, dict] = {period.start + timedelta(days=n): {} for n in range(period.days)}
    # A group may hold only sales (_sales_credited), of leads counted under another person.
    for group in (group for group in groups if group["leads"]):
        sources = days.setdefault(group["day"], {})
        source = names[group["source"] or ""] or "(none)"
        sources[source] = sources.get(source, 0) + group["leads"]
    return [{"day": day, "sources": sources, "leads": sum(sources.values())} for day, sources in days.items()]


def _owner_labels(owner_ids) -> dict:
    users = get_user_model().objects.filter(pk__in=[pk for pk in owner_ids if pk])
    labels = {user.pk: (user.username, user.get_full_name() or user.username) for user in users}
    return {pk: labels.get(pk, ("", gettext("(unassigned)"))) for pk in owner_ids}


def dashboard_filters(*, source: str = "", person: str = "") -> dict:
    """The dashboard's filters as its selectors read them: the source, and the person by username
    (to show) and by user id, looked up once for every query and link ("owner_id"; None when no one
    has that username, and then no lead matches)."""
    filters = {"source": source} if source else {}
    if person:
        owner_id = get_user_model().objects.filter(username=person).values_list("pk", flat=True).first()
        filters |= {"person": person, "owner_id": owner_id}
    return filters


def _summary_groups(*, period: Period, filters: dict, target: ResponseTarget, by=GRAIN) -> list[dict] | None:
    """The same groups as _lead_groups, added up from the hourly summary rows (PostgreSQL keeps them).

    `filters`: as dashboard_filters makes them.
    """
    if connection.vendor != "postgresql" or target.minutes not in SUMMARY_EDGES:
        return None
    start, end = period.bounds
    rows = LeadHourStats.objects.filter(hour__gte=start, hour__lt=end, leads__gt=0)
    if filters.get("source"):
        rows = rows.filter(source_matching(filters["source"]))
    if "owner_id" in filters:
        rows = rows.filter(owner_key=filters["owner_id"] or -1)
    # The rows cannot tell which unanswered leads have passed their target since. A row holds the
    # leads of a quarter hour counted from a UTC midnight (migration 0021), so none straddles a UTC
    # hour: in the rows before the UTC hour of `overdue_before`, every lead nobody answered has
    # missed it; those received since, an hour's worth at most, are read from the leads.
    settled = start
    if target.overdue_before:
        settled = target.overdue_before.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    counts = {name: Sum(name) for name in ("leads", *(stage for stage, _ in FUNNEL_STAGES), "answered")}
    counts |= {
        "within": Sum(f"answered_within_{target.minutes}"),
        "missed": Coalesce(Sum("unanswered", filter=Q(hour__lt=settled)), 0),
    }
    fields = ["owner_key" if field == "owner_id" else field for field in by]
    groups = list(
        rows.annotate(**_day_and_hour("hour"))
        .alias(unanswered=F("leads") - F("answered"))
        .values(*fields)
        .annotate(**counts)
        .order_by()
    )
    if "owner_id" in by:
        for group in groups:
            group["owner_id"] = group.pop("owner_key") or None
    leads = _narrowed(Lead.objects.all(), period=period, filters=filters)
    # What the rows cannot say, read from the few leads it concerns: the unanswered ones received
    # since `settled`, and those whose appointment is still to come (that depends on when it is read).
    recent = leads.filter(_missed_q(target), received_at__gte=settled)
    _add_lead_counts(groups, by=by, name="missed", leads=recent)
    _add_lead_counts(groups, by=by, name="appointment_to_come", leads=leads.filter(APPOINTMENT_TO_COME))
    return groups


def _add_lead_counts(groups: list[dict], *, by, name: str, leads) -> None:
    """Add to each group the number of `leads` in it, as `name`."""
    by_key = {tuple(group[field] for field in by): group for group in groups}
    for group in groups:
        group.setdefault(name, 0)
    counted = leads.annotate(**_day_and_hour("received_at")).values_list(*by).annotate(count=Count("pk"))
    for *key, count in counted:
        if group := by_key.get(tuple(key)):  # else received after the rows were read: not counted yet
            group[name] += count


def dashboard_figures(*, user, period: Period, filters: dict, target: ResponseTarget) -> dict:
    """Every figure of the dashboard, from a handful of grouped queries whatever the number of leads.

    For people who see every lead, the funnel and time breakdowns add up the hourly summary rows.
    `filters`: as dashboard_filters makes them; `target`: as response_target makes it.
    """
    leads = dashboard_leads(user=user, period=period, filters=filters)
    sales = dashboard_sales(user=user, period=period, filters=filters)
    # Leads count for their owner, sales for whoever made them: the two part where figures are a
    # person's (the rows by person, an advisor's own page, the page narrowed to one person).
    persons = not sees_every_lead(user) or "owner_id" in filters

    def credited(groups: list[dict], *, by, sales=sales) -> list[dict]:
        if persons or "owner_id" in by:
            return _sales_credited(groups, sales=_sale_groups(sales=sales, by=by), by=by)
        return groups

    def groups(by) -> list[dict]:
        summed = None
        if sees_every_lead(user):
            summed = _summary_groups(period=period, filters=filters, target=target, by=by)
        counted = summed if summed is not None else _lead_groups(leads=leads, target=target, by=by)
        return credited(counted, by=by)

    by_time, by_day_source, by_owner = (
        groups(("day", "local_hour")),
        groups(("day", "source")),
        groups(("owner_id",)),
    )
    owners = _owner_labels({group["owner_id"] for group in by_owner})
    sources = source_names(by_day_source)
    week, closed = store_hours(), store_closed_days()
    promotions = credited(
        _promotion_groups(leads=leads, target=target),
        by=BY_PROMOTION,
        sales=sales.filter(promotion__isnull=False),
    )
    overall = funnel(groups=by_time)[0]
    return {
        "overall": overall,
        "not_a_lead": dashboard_not_a_lead(user=user, period=period, filters=filters),
        "by_source": funnel(
            groups=by_day_source,
            key=lambda g: sources[g["source"] or ""],
            labels={"": gettext("(none)"), **LEAD_SOURCE_LABELS},
        ),
        "by_person": [
            row | {"key": owners[row["key"]][0], "label": owners[row["key"]][1], "owner_id": row["key"]}
            for row in funnel(groups=by_owner, key=lambda g: g["owner_id"])
        ],
        "response": response_summary(
            distribution=response_distribution(leads=leads),
            total=overall["leads"],
            missed=overall["missed"],
            target_minutes=target.minutes,
        ),
        "by_promotion": funnel(
            groups=promotions,
            key=lambda g: g["promotion_id"],
            labels={g["promotion_id"]: g["promotion__name"] for g in promotions},
        ),
        "opening_hours": funnel(
            groups=by_time,
            key=lambda g: "after hours" if after_hours(g, week, closed) else "opening hours",
            labels={"after hours": gettext("after hours"), "opening hours": gettext("opening hours")},
        ),
        "appointments_by_advisor": appointments_by_advisor(user=user, period=period, filters=filters),
        "mail_by_department": mail_by_department(user=user, period=period),
        "by_hour": _by_slot(by_time, lambda g: g["local_hour"], range(24)),
        "by_weekday": _by_slot(by_time, lambda g: g["day"].isoweekday(), range(1, 8)),
        "volume_days": volume_by_day(groups=by_day_source, period=period, names=sources),
    }


@dataclass(frozen=True)
class Actuals:
    """A metric measured over one period for everyone at once: each person's figure by their user id,
    the department's (`everyone`), and that of a person none of it is about (`nobody`)."""

    by_person: dict
    everyone: float | None
    nobody: float | None = None

    def of(self, objective: Objective) -> float | None:
        if objective.person is None:
            return self.everyone
        return self.by_person.get(objective.person.user_id, self.nobody)


def _counted(counts: dict) -> Actuals:
    """Actuals of a count, from the counts per person (None: nobody's, in the department's only)."""
    return Actuals(by_person=counts, everyone=sum(counts.values()), nobody=0)


def _shared(parts: dict[int | None, tuple[int, int]]) -> Actuals:
    """Actuals of a share (%), from the (whole, part) per person."""
    whole, part = sum(w for w, _ in parts.values()), sum(p for _, p in parts.values())
    return Actuals(by_person={pk: _rate(p, w) for pk, (w, p) in parts.items()}, everyone=_rate(part, whole))


def _leads_in(period: Period, field: str = "received_at"):
    """Leads the figures count (LEADS_COUNTED) whose `field` falls in the period."""
    start, end = period.bounds
    return Lead.objects.filter(LEADS_COUNTED, **{f"{field}__gte": start, f"{field}__lt": end})


def _reached_in(period: Period, field: str, *, person: str = "owner") -> Actuals:
    """Leads that reached a stage in the period, whenever they were received, per owner (`person`:
    per the person another of the lead's fields names, "sold_by" for who made the sale)."""
    reached = _leads_in(period, field).values_list(f"{person}_id")
    return _counted(dict(reached.annotate(Count("pk")).order_by()))


def _shown_in(period: Period) -> Actuals:
    """Appointments that took place in the period and showed, when they took place (not when the
    outcome was recorded), as appointments_by_advisor counts them; a person's: those they held as
    the advisor, whoever owns the lead, so that it agrees with their row of that table."""
    start, end = period.bounds
    shown = Appointment.objects.filter(SHOWED, starts_at__gte=start, starts_at__lt=end)
    return _counted(dict(shown.values_list("advisor__user_id").annotate(Count("pk")).order_by()))


def _median_response(period: Period) -> Actuals:
    answered = _leads_in(period).filter(first_response_business_minutes__isnull=False)
    rows = (
        answered.values_list("owner_id", "first_response_business_minutes").annotate(Count("pk")).order_by()
    )
    per_person: dict[int | None, Counter] = {}
    for owner_id, minutes, count in rows:
        per_person.setdefault(owner_id, Counter())[minutes] += count
    everyone = sum(per_person.values(), Counter())
    return Actuals(
        by_person={pk: percentile(sorted(counts.items()), 0.5) for pk, counts in per_person.items()},
        everyone=percentile(sorted(everyone.items()), 0.5),
    )


def _answered(period: Period, figure: str) -> Actuals:
    """Leads of the period answered, or the share answered within target, per owner (as the
    dashboard's rows by person read them)."""
    target = response_target(minutes=settings.RESPONSE_TARGET_MINUTES)
    groups = _summary_groups(period=period, filters={}, target=target, by=("owner_id",))
    if groups is None:
        groups = _lead_groups(leads=_leads_in(period), target=target, by=("owner_id",))
    rows = funnel(groups=groups, key=lambda group: group["owner_id"])
    everyone = funnel(groups=groups)[0][figure]
    return Actuals(
        {row["key"]: row[figure] for row in rows}, everyone, nobody=0 if figure == "answered" else None
    )


def _same_for_everyone(value: float | None) -> Actuals:
    return Actuals(by_person={}, everyone=value, nobody=value)


# How each metric is measured over a period, for everyone at once; a metric missing here is not
# measured yet.
METRIC_ACTUALS = {
    Metric.LEADS_ANSWERED: lambda p: _answered(p, "answered"),
    Metric.MEDIAN_RESPONSE: _median_response,
    Metric.SHARE_WITHIN_TARGET: lambda p: _answered(p, "share_within_target"),
    Metric.APPOINTMENTS_SET: lambda p: _reached_in(p, "appointment_set_at"),
    Metric.APPOINTMENTS_SHOWN: _shown_in,
    # A sale is the seller's, whoever owns the lead since (a colleague delivering the car).
    Metric.VEHICLES_SOLD: lambda p: _reached_in(p, "sold_at", person="sold_by"),
    Metric.PHOTO_COVERAGE: lambda p: _same_for_everyone(photo_coverage()),
    Metric.FOLLOWUPS_ON_TIME: lambda p: _shared(
        followup_tasks_due_and_on_time(since=p.bounds[0], until=p.bounds[1])
    ),
}


@dataclass(frozen=True)
class Progress:
    objective: Objective
    period: Period
    actual: float | None
    percent: float | None  # of the target reached (or, lower-is-better, how close)
    on_track: bool | None
    needed_per_day: float | None  # count metrics: what each remaining day must bring


# Objectives nobody works toward any more: their figure still shows, but no pace.
NOT_PURSUED = {Objective.Status.REJECTED, Objective.Status.WITHDRAWN}


def objectives_progress(*, objectives, today: date) -> list[Progress]:
    """Each objective's progress. A metric is measured once per period for everyone: the queries do
    not grow with the number of people who have objectives."""
    measured: dict[tuple[str, Period], Actuals | None] = {}
    progress = []
    for objective in objectives:
        period = period_for(kind=objective.period_kind, anchor=objective.period_start)
        if (objective.metric, period) not in measured:
            measure = METRIC_ACTUALS.get(objective.metric)
            measured[objective.metric, period] = measure(period) if measure else None
        actuals = measured[objective.metric, period]
        reached = _progress(objective, period, actuals.of(objective) if actuals else None, today)
        if objective.status in NOT_PURSUED:
            reached = replace(reached, on_track=None, needed_per_day=None)
        progress.append(reached)
    return progress


def _progress(objective: Objective, period: Period, actual: float | None, today: date) -> Progress:
    target = float(objective.target)
    if actual is None:
        return Progress(objective, period, None, None, None, None)
    if objective.metric in LOWER_IS_BETTER:
        return Progress(
            objective, period, actual, _rate(target, actual) if actual else 100.0, actual <= target, None
        )
    percent = _rate(actual, target) if target else 100.0
    if objective.metric in SHARES:
        return Progress(objective, period, actual, percent, actual >= target, None)
    elapsed = min(period.days, max(0, (today - period.start).days + 1))
    expected_by_now = target * elapsed / period.days
    days_left = period.days_left(today + timedelta(days=1))
    needed = max(0.0, target - actual) / days_left if days_left else None
    return Progress(objective, period, actual, percent, actual >= expected_by_now, needed)


def objectives_visible_to(*, user) -> QuerySet[Objective]:
    """Everyone's objectives for supervisors and managers; an advisor sees only their own."""
    objectives = Objective.objects.select_related("person__user")
    if oversees_store(user):
        return objectives
    staff = getattr(user, "staff", None)
    return objectives.filter(person=staff) if staff else objectives.none()


def objectives_before(*, user, period: Period) -> QuerySet[Objective]:
    """Earlier objectives: started before this period and over by then (a quarter's objective still
    running shows on its months' and weeks' pages, not here)."""
    return (
        objectives_visible_to(user=user)
        .filter(period_start__lt=period.start)
        .exclude(pk__in=objectives_for(user=user, period=period))
    )


def objectives_for(*, user, period: Period) -> QuerySet[Objective]:
    """The objectives whose period overlaps this one: a quarter's objective shows in each of its
    months and weeks, a month's in each of its weeks."""
    overlapping = Q()
    for kind in PeriodKind.values:  # it starts no earlier than its own period holding our first day
        overlapping |= Q(period_kind=kind, period_start__gte=period_for(kind=kind, anchor=period.start).start)
    return objectives_visible_to(user=user).filter(overlapping, period_start__lt=period.end)


def appointments_by_advisor(*, user, period: Period, filters: dict) -> list[dict]:
    """Appointments of the period per advisor, and how many showed (a sale counts as shown).
    `filters` (dashboard_filters): of the leads from that source, or that person's, as the funnel."""
    start, end = period.bounds
    appointments = Appointment.objects.filter(
        _filtered(filters, lead="lead__"), starts_at__gte=start, starts_at__lt=end
    ).exclude(lead__status=LeadStatus.NOT_A_LEAD)  # as the funnel, an inquiry that was no lead counts nowhere
    if not sees_every_lead(user):
        appointments = appointments.filter(advisor__user=user)
    status = Appointment.Status
    rows = (
        appointments.values("advisor_id", "advisor__user__first_name", "advisor__user__last_name")
        .annotate(
            booked=Count("pk", filter=~Q(status=status.CANCELLED)),
            shown=Count("pk", filter=SHOWED),
            no_show=Count("pk", filter=Q(status=status.NO_SHOW)),
            # A sale whose deal fell through keeps its appointment's outcome (the customer did
            # come) but no longer counts as sold, as in the funnel.
            sold=Count("pk", filter=Q(status=status.SOLD, lead__sold_at__isnull=False)),
        )
        .order_by("-booked")
    )
    return [
        {
            "advisor": f"{row['advisor__user__first_name']} {row['advisor__user__last_name']}".strip(),
            **{key: row[key] for key in ("booked", "shown", "no_show", "sold")},
            "show_rate": _rate(row["shown"], row["shown"] + row["no_show"]),
        }
        for row in rows
    ]


def mail_by_department(*, user, period: Period) -> list[dict]:
    """Inbound mail of the period by what it was and the department it went to."""
    if not sees_every_lead(user):
        return []
    start, end = period.bounds
    return list(
        InboundMail.objects.filter(received_at__gte=start, received_at__lt=end)
        .values("kind", "department")
        .annotate(messages=Count("pk"))
        .order_by("-messages", "kind", "department")
    )
