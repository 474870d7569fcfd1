"""Reads for appointments, advisors' free time and follow-up tasks, scoped to who is asking."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from dealership.cache_generations import cached_in_generation, generation_next
from dealership.models import Role, StaffMember, oversees_store

from ..business_hours import closed_all_day
from ..inventory_link import lead_vehicles_with_stock, photo_links
from ..models import (
    BLOCKING_STATUSES,
    Appointment,
    FollowUpEnrollment,
    FollowUpPlan,
    FollowUpStep,
    FollowUpStepRun,
    LeadEvent,
)

SLOT = timedelta(minutes=30)
AGENDA_DAYS = 7
# How far back an appointment still booked is offered for its outcome to be recorded.
UNRECORDED_REACH = timedelta(days=30)


def sees_all_appointments(user) -> bool:
    """Supervisors, managers and admins see (and book) every advisor's appointments."""
    return oversees_store(user)


def advisors() -> QuerySet[StaffMember]:
    return StaffMember.objects.filter(role=Role.ADVISOR, user__is_active=True).select_related("user")


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """From midnight to the next midnight, store time (23 or 25 hours on daylight-saving days)."""
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def advisor_free_slots(
    *, advisor: StaffMember, day: date, now: datetime, length: timedelta = SLOT, exclude: int | None = None
) -> list[datetime]:
    """Starts, every half hour, of the times of `length` within the advisor's hours that day, not
    taken and not past; none on a day the store is closed (a holiday, a date of
    BUSINESS_CLOSED_DAYS), whatever the advisor's week. `exclude`: the appointment being moved,
    whose own time is free for it."""
    hours = advisor.working_hours.filter(weekday=day.weekday()).first()
    if hours is None or closed_all_day(day):
        return []
    zone = timezone.get_default_timezone()
    day_start, day_end = local_day_bounds(day)
    taken = list(
        Appointment.objects.filter(
            advisor=advisor, status__in=BLOCKING_STATUSES, starts_at__lt=day_end, ends_at__gt=day_start
        )
        .exclude(pk=exclude)
        .values_list("starts_at", "ends_at")
    )
    slots = []
    start = datetime.combine(day, hours.start, tzinfo=zone)
    close = datetime.combine(day, hours.end, tzinfo=zone)
    while start + length <= close:
        end = start + length
        if start >= now and not any(begin < end and start < finish for begin, finish in taken):
            slots.append(start)
        start += SLOT
    return slots


def slots_fitting(slots: list[datetime], length: timedelta) -> list[datetime]:
    """Of the free half-hour starts, those from which `length` (a whole number of half hours) is
    free throughout: the same as advisor_free_slots for that length, without reading them again."""
    free = set(slots)
    steps = range(length // SLOT)
    return [start for start in slots if all(start + step * SLOT in free for step in steps)]


def advisor_free_until(
    *, advisor: StaffMember, starts_at: datetime, exclude: int | None = None
) -> datetime | None:
    """Until when the advisor is free from `starts_at` on: the end of their hours that day or the
    start of their next appointment, whichever comes first; None when they are not free then, or
    the store is closed that day. `exclude`: the appointment being moved, whose own time is free
    for it."""
    zone = timezone.get_default_timezone()
    local = starts_at.astimezone(zone)
    hours = advisor.working_hours.filter(weekday=local.weekday()).first()
    if hours is None or closed_all_day(local.date()) or not hours.start <= local.time() < hours.end:
        return None
    close = datetime.combine(local.date(), hours.end, tzinfo=zone)
    later = (
        Appointment.objects.filter(
            advisor=advisor, status__in=BLOCKING_STATUSES, starts_at__lt=close, ends_at__gt=starts_at
        )
        .exclude(pk=exclude)
        .values_list("starts_at", flat=True)
    )
    until = min([close, *later])
    return until if until > starts_at else None


def appointment_visible_to(*, user) -> QuerySet[Appointment]:
    appointments = Appointment.objects.select_related(
        "lead__customer", "advisor__user", "lead_vehicle", "booked_by"
    )
    if sees_all_appointments(user):
        return appointments
    staff = getattr(user, "staff", None)
    if staff and staff.role == Role.ADVISOR:
        return appointments.filter(advisor=staff)
    return appointments.none()


def appointment_get(*, user, pk: int) -> Appointment:
    return appointment_visible_to(user=user).get(pk=pk)


def lead_appointments(*, lead, now: datetime) -> list[Appointment]:
    """The lead's appointments for its page: the booked ones still to come first, soonest first;
    then the others (under way, past, cancelled), latest first."""
    appointments = list(
        lead.appointments.select_related("advisor__user", "lead_vehicle").order_by("starts_at", "pk")
    )
    to_come, others = [], []
    for appointment in appointments:
        coming = appointment.status == Appointment.Status.BOOKED and appointment.starts_at > now
        (to_come if coming else others).append(appointment)
    return to_come + others[::-1]


def _unrecorded(now: datetime) -> Q:
    """Still booked though it started before today (and within UNRECORDED_REACH): nobody has said
    what came of it."""
    today_start, _ = local_day_bounds(timezone.localdate(now))
    return Q(
        status=Appointment.Status.BOOKED, starts_at__gte=now - UNRECORDED_REACH, starts_at__lt=today_start
    )


def appointments_unrecorded(*, user, now: datetime) -> QuerySet[Appointment]:
    """The appointments whose outcome is still to record, oldest first."""
    return appointment_visible_to(user=user).filter(_unrecorded(now)).order_by("starts_at", "pk")


def _to_come(now: datetime) -> Q:
    return Q(status=Appointment.Status.BOOKED, starts_at__gt=now)


def advisor_appointments_to_come(*, advisor: StaffMember, now: datetime) -> QuerySet[Appointment]:
    """The advisor's booked appointments that have not started yet, soonest first."""
    return (
        advisor.appointments.filter(_to_come(now))
        .select_related("lead__customer", "advisor__user")
        .order_by("starts_at", "pk")
    )


def appointments_needing_advisor(*, user, now: datetime) -> QuerySet[Appointment]:
    """Booked appointments still to come whose advisor has left the store (or no longer works as an
    advisor), soonest first: the customer still comes, and the desk chooses who takes each over
    (appointment_reschedule)."""
    return (
        appointment_visible_to(user=user)
        .filter(_to_come(now))
        .exclude(advisor__in=advisors())
        .order_by("starts_at", "pk")
    )


@dataclass
class Agenda:
    """An advisor's page: the appointments whose outcome they have yet to record, then today and
    the week ahead by day."""

    unrecorded: list[Appointment]
    days: list[tuple[date, list[Appointment]]]


def advisor_agenda(*, user, now: datetime) -> Agenda:
    """The advisor's own appointments, with the lead's history and the vehicle's photo."""
    today = timezone.localdate(now)
    start, _ = local_day_bounds(today)
    _, end = local_day_bounds(today + timedelta(days=AGENDA_DAYS))
    staff = getattr(user, "staff", None)
    if staff is None or staff.role != Role.ADVISOR:
        return Agenda(unrecorded=[], days=[])
    appointments = (
        appointment_visible_to(user=user)
        .filter(advisor=staff)
        .filter(
            _unrecorded(now)
            | Q(starts_at__gte=start, starts_at__lt=end) & ~Q(status=Appointment.Status.CANCELLED)
        )
        .prefetch_related(
            Prefetch(
                "lead__events", queryset=LeadEvent.objects.select_related("actor").order_by("-created_at")
            )
        )
        .order_by("starts_at")
    )
    appointments = list(appointments)
    stock = lead_vehicles_with_stock(appointment.lead_vehicle for appointment in appointments)
    agenda = Agenda(unrecorded=[], days=[])
    days: dict[date, list[Appointment]] = {}
    for appointment, (_, stock_vehicle) in zip(appointments, stock, strict=True):
        appointment.photo_url = next(iter(photo_links(stock_vehicle)), "")
        if appointment.starts_at < start:
            agenda.unrecorded.append(appointment)
        else:
            days.setdefault(timezone.localdate(appointment.starts_at), []).append(appointment)
    agenda.days = sorted(days.items())
    return agenda


@dataclass
class CalendarGrid:
    """Rows (times of day, or days of the week) × one column per advisor; each cell a list.
    Its first day, and the first days of the spans before and after it. `former`: the columns of
    people no longer active as advisors."""

    advisors: list[StaffMember]
    start: date
    previous: date
    next: date
    rows: list[tuple[object, list[list[Appointment]]]] = field(default_factory=list)
    former: set[int] = field(default_factory=set)


def appointment_calendar(*, user, day: date, week: bool) -> CalendarGrid:
    """Every advisor's appointments on `day` by half hour, or in its week (Monday first) by day."""
    zone = timezone.get_default_timezone()
    days = 7 if week else 1
    start_day = day - timedelta(days=day.weekday()) if week else day
    start, _ = local_day_bounds(start_day)
    _, end = local_day_bounds(start_day + timedelta(days=days - 1))
    appointments = list(
        appointment_visible_to(user=user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("starts_at")
    )
    columns = list(advisors())
    # A deactivated advisor (or one no longer in that role) keeps a column while they have
    # appointments here: their customers still come, and the desk hands them to someone else.
    current = {advisor.pk for advisor in columns}
    former = {
        appointment.advisor_id: appointment.advisor
        for appointment in appointments
        if appointment.advisor_id not in current
    }
    columns += sorted(former.values(), key=str)
    index = {advisor.pk: position for position, advisor in enumerate(columns)}
    if not week:
        keys = [
            (datetime.combine(start_day, time(8), tzinfo=zone) + SLOT * n).timetz().replace(tzinfo=None)
            for n in range(2 * 13)
        ]

        def key(appointment):
            local = appointment.starts_at.astimezone(zone)
            return local.replace(minute=0 if local.minute < 30 else 30, second=0, microsecond=0).time()
    else:
        keys = [start_day + timedelta(days=n) for n in range(days)]

        def key(appointment):
            return appointment.starts_at.astimezone(zone).date()

    cells = {row: [[] for _ in columns] for row in keys}
    for appointment in appointments:
        row = key(appointment)
        if row not in cells:  # outside the day's grid (very early or late): its own row
            cells[row] = [[] for _ in columns]
        cells[row][index[appointment.advisor_id]].append(appointment)
    return CalendarGrid(
        advisors=columns,
        start=start_day,
        previous=start_day - timedelta(days=days),
        next=start_day + timedelta(days=days),
        rows=sorted(cells.items()),
        former=set(former),
    )


# --- follow-up ------------------------------------------------------------------------------------


def followup_plan_list() -> QuerySet[FollowUpPlan]:
    return FollowUpPlan.objects.prefetch_related("steps").order_by("name")


def followup_plans_active() -> QuerySet[FollowUpPlan]:
    """The plans leads may enter, by name."""
    return FollowUpPlan.objects.filter(active=True).order_by("name")


def followup_tasks(*, user) -> QuerySet[FollowUpStepRun]:
    """Calls to make, drafts to review and interrupted sends to check, oldest first."""
    if not sees_all_appointments(user):
        return FollowUpStepRun.objects.none()
    return (
        FollowUpStepRun.objects.filter(status__in=FollowUpStepRun.TASK_STATUSES)
        .select_related("step", "enrollment__lead__customer", "enrollment__plan")
        .order_by("due_at", "pk")
    )


# The inbox's follow-up badge: kept this long, and dropped whenever a step run changes status
# (see followup_tasks_changed); steps fall due on the beat, which changes their status too.
FOLLOWUP_COUNT_SECONDS = 15
FOLLOWUP_COUNT = "leads:followup-count"


def followup_due_count(*, user) -> int:
    if not sees_all_appointments(user):
        return 0
    return cached_in_generation(
        FOLLOWUP_COUNT, "all", lambda: followup_tasks(user=user).count(), FOLLOWUP_COUNT_SECONDS
    )


def followup_tasks_changed() -> None:
    generation_next(FOLLOWUP_COUNT)


def lead_followups(*, lead) -> QuerySet[FollowUpEnrollment]:
    return lead.followups.select_related("plan").prefetch_related(
        Prefetch("runs", queryset=FollowUpStepRun.objects.select_related("step"))
    )


# A follow-up task done within this long of falling due counts as done on time.
TASK_ON_TIME = timedelta(hours=24)


def followup_tasks_due_and_on_time(*, since: datetime, until: datetime) -> dict[int | None, tuple[int, int]]:
    """The calls and drafts that fell due in the period (and are due by now), and how many of them
    were done within a day, per owner of their lead (their user id; None: leads nobody owns)."""
    runs = FollowUpStepRun.objects.filter(
        step__kind__in=[FollowUpStep.Kind.CALL, FollowUpStep.Kind.DRAFT_EMAIL],
        due_at__gte=since,
        due_at__lt=min(until, timezone.now()),
    ).exclude(status=FollowUpStepRun.Status.CANCELLED)
    counts = runs.values_list("enrollment__lead__owner_id").annotate(
        due=Count("pk"),
        on_time=Count(
            "pk",
            filter=Q(
                status__in=[FollowUpStepRun.Status.DONE, FollowUpStepRun.Status.SENT],
                status_changed_at__lte=F("due_at") + TASK_ON_TIME,
            ),
        ),
    )
    return {owner_id: (due, on_time) for owner_id, due, on_time in counts.order_by()}
