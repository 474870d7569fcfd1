"""Loyalty moments (anniversaries, terms and warranties ending, high mileage, lost leads worth a
second try) turned into tasks for the right person. Idempotent: a moment has a key and the table
holds each (kind, key) once, so the daily run may repeat without making a task twice."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from dealership.models import Department, Role, StaffMember

from ..models import (
    ConsentChannel,
    CustomerHistoryItem,
    HistoryKind,
    Lead,
    LeadStatus,
    LoyaltyKind,
    LoyaltyRule,
    Task,
)
from ..models.leads import OPEN_LEAD_STATUSES
from ..models.loyalty import NEXT_STEP, task_title_stored
from ..selectors.consent import customers_channels_withdrawn
from ..selectors.leads import lead_owners_possible
from .audit import audit_record

RULE_DEFAULTS = {
    LoyaltyKind.PURCHASE_ANNIVERSARY: {"days": 14, "department": Department.Code.SALES},
    LoyaltyKind.TERM_ENDING: {"days": 90, "department": Department.Code.FINANCE},
    LoyaltyKind.WARRANTY_ENDING: {"days": 60, "department": Department.Code.SERVICE},
    LoyaltyKind.HIGH_MILEAGE: {"days": 30, "department": Department.Code.SALES, "mileage_km": 100_000},
    LoyaltyKind.LOST_LEAD_REVIVAL: {"days": 90, "department": Department.Code.SALES},
}
# A lost lead is offered for revival during this many days after its waiting period, not forever.
REVIVAL_WINDOW_DAYS = 30


def loyalty_rules_ensure() -> list[LoyaltyRule]:
    return [LoyaltyRule.objects.get_or_create(kind=kind, defaults=d)[0] for kind, d in RULE_DEFAULTS.items()]


@transaction.atomic
def loyalty_rule_set(*, rule: LoyaltyRule, enabled: bool, actor) -> LoyaltyRule:
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.save(update_fields=["enabled"])
        audit_record(
            customer=None,
            model="leads.loyaltyrule",
            object_id=rule.pk,
            action="rule_switched",
            changes={"enabled": [not enabled, enabled]},
            actor=actor,
        )
    return rule


@dataclass(frozen=True)
class Moment:
    """A moment's title is made from its params in the reader's language (see Task.display_title)."""

    customer_id: int
    key: str
    due_on: date
    params: dict
    assignee_id: int | None = None


def _department_person(code: str) -> int | None:
    """Who gets a department's tasks nobody in particular owns: its supervisor (sales) or its staff."""
    staff = StaffMember.objects.filter(user__is_active=True, department__code=code).order_by("pk")
    preferred = staff.filter(role__in=[Role.SUPERVISOR, Role.DEPARTMENT]).values_list("user_id", flat=True)
    return preferred.first() or staff.values_list("user_id", flat=True).first()


def _salesperson(customer_id: int) -> int | None:
    # Only someone who still takes leads: not who left, or was taken off the staff (login kept).
    return (
        Lead.objects.filter(customer_id=customer_id, owner__in=lead_owners_possible())
        .order_by("-received_at")
        .values_list("owner_id", flat=True)
        .first()
    )


def _history(today: date) -> QuerySet[CustomerHistoryItem]:
    return CustomerHistoryItem.objects.filter(
        customer__merged_into__isnull=True, occurred_at__date__lte=today
    )


def _anniversary(when: date, year: int) -> date:
    try:
        return when.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def _anniversaries(rule: LoyaltyRule, today: date) -> list[Moment]:
    moments = []
    items = _history(today).filter(kind__in=[HistoryKind.PURCHASE, HistoryKind.LEASE])
    for item in items.filter(occurred_at__date__lte=today - timedelta(days=365)):
        bought = timezone.localtime(item.occurred_at).date()
        for year in (today.year, today.year + 1):
            day = _anniversary(bought, year)
            if today <= day <= today + timedelta(days=rule.days) and year > bought.year:
                params = {
                    "years": year - bought.year,
                    "deal": item.kind,  # purchase or lease
                    "vehicle": item.vehicle,
                    "summary": item.summary,
                }
                moments.append(
                    Moment(item.customer_id, f"{item.pk}:{year}", day, params, _salesperson(item.customer_id))
                )
    return moments


def _ending(rule: LoyaltyRule, today: date, field: str) -> list[Moment]:
    window = {f"{field}__gte": today, f"{field}__lte": today + timedelta(days=rule.days)}
    moments = []
    for item in _history(today).filter(**window):
        ends = getattr(item, field)
        params = {"ends": ends.isoformat(), "vehicle": item.vehicle or item.summary}
        if field == "term_ends_on" and item.deal_type:
            params["deal"] = item.deal_type
        moments.append(Moment(item.customer_id, f"{item.pk}:{ends:%Y-%m-%d}", today, params))
    return moments


def _high_mileage(rule: LoyaltyRule, today: date) -> list[Moment]:
    items = _history(today).filter(
        kind=HistoryKind.SERVICE_VISIT,
        odometer_km__gte=rule.mileage_km,
        occurred_at__date__gte=today - timedelta(days=rule.days),
    )
    return [
        Moment(
            item.customer_id,
            f"{item.customer_id}:{item.vin or item.pk}",
            today,
            {"km": item.odometer_km, "vehicle": item.vehicle},
            _salesperson(item.customer_id),
        )
        for item in items
    ]


def _lost_leads(rule: LoyaltyRule, today: date) -> list[Moment]:
    newest = today - timedelta(days=rule.days)
    oldest = newest - timedelta(days=REVIVAL_WINDOW_DAYS)
    leads = (
        # A duplicate merged into another lead is worked there: it is no lead to revive.
        Lead.objects.filter(
            status=LeadStatus.LOST, merged_into__isnull=True, customer__merged_into__isnull=True
        )
        .annotate(
            last_lost_event_at=Max(
                "events__created_at",
                filter=Q(events__type="status_changed", events__params__to_status=LeadStatus.LOST),
            )
        )
        .filter(last_lost_event_at__date__gte=oldest, last_lost_event_at__date__lte=newest)
        # Not worth reviving when the customer has come back with a newer inquiry since, is being
        # worked on another lead, or bought on one since this inquiry came in. A message of theirs
        # closed as not a lead (for service, say) is no inquiry: the lost sale is still worth a try.
        .exclude(
            Exists(
                Lead.objects.filter(
                    customer=OuterRef("customer"), received_at__gt=OuterRef("received_at")
                ).exclude(status=LeadStatus.NOT_A_LEAD)
            )
        )
        .exclude(Exists(Lead.objects.filter(customer=OuterRef("customer"), status__in=OPEN_LEAD_STATUSES)))
        .exclude(
            Exists(
                Lead.objects.filter(customer=OuterRef("customer"), status=LeadStatus.SOLD).filter(
                    Q(sold_at__gte=OuterRef("received_at")) | Q(sold_at__isnull=True)
                )
            )
        )
    )
    # The lead's owner while they still take leads (as in _salesperson), else the department's person.
    owners = set(lead_owners_possible().values_list("pk", flat=True))
    return [
        Moment(
            lead.customer_id,
            str(lead.pk),
            today,
            {"received": timezone.localtime(lead.received_at).date().isoformat(), "reason": lead.lost_reason},
            lead.owner_id if lead.owner_id in owners else None,
        )
        for lead in leads
    ]


FINDERS = {
    LoyaltyKind.PURCHASE_ANNIVERSARY: _anniversaries,
    LoyaltyKind.TERM_ENDING: lambda rule, today: _ending(rule, today, "term_ends_on"),
    LoyaltyKind.WARRANTY_ENDING: lambda rule, today: _ending(rule, today, "warranty_ends_on"),
    LoyaltyKind.HIGH_MILEAGE: _high_mileage,
    LoyaltyKind.LOST_LEAD_REVIVAL: _lost_leads,
}


@transaction.atomic
def loyalty_tasks_create(*, today: date | None = None) -> list[Task]:
    """Create the tasks for every moment of every enabled rule; returns only the new ones."""
    today = today or timezone.localdate()
    created = []
    # Tasks left with nobody when nobody was there to take them: someone may be now.
    _tasks_give(Task.objects.filter(assignee__isnull=True, done_at__isnull=True))
    for rule in loyalty_rules_ensure():
        if not rule.enabled:
            continue
        fallback = _department_person(rule.department)
        moments = FINDERS[rule.kind](rule, today)
        # A customer who asked for no more messages of any kind is no one to pitch to.
        withdrawn = customers_channels_withdrawn(customer_ids={moment.customer_id for moment in moments})
        for moment in moments:
            if set(withdrawn[moment.customer_id]) >= set(ConsentChannel.values):
                continue
            title = task_title_stored(rule.kind, moment.params)
            task, new = Task.objects.get_or_create(
                kind=rule.kind,
                moment_key=moment.key,
                defaults={
                    "customer_id": moment.customer_id,
                    "title": title[:300],
                    "params": moment.params,
                    "due_on": moment.due_on,
                    "assignee_id": moment.assignee_id or fallback,
                },
            )
            if new:
                created.append(task)
    return created


@transaction.atomic
def task_done(*, task: Task, user) -> Task:
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
    return task


@transaction.atomic
def tasks_hand_over(*, user) -> list[Task]:
    """Give the person's open tasks to whoever the daily run gives a task of that kind nobody owns:
    its rule's department's person; a next step promised on a lead, which no rule makes, to the
    lead's owner when that is someone else who still takes leads, else to sales' (None when no one
    is left there: the task waits, unassigned, on the lead's page until the lead has an owner or the
    daily run finds someone), each change in the audit trail. Done tasks stay theirs: what was
    done, by whom. Called once their staff record is gone or their new role set: they are that
    person only when their new role makes them so."""
    return _tasks_give(Task.objects.filter(assignee=user, done_at__isnull=True), leaving=user)


def _tasks_give(tasks: QuerySet[Task], *, leaving=None) -> list[Task]:
    """Give each task to whoever the daily run gives a task of its kind nobody owns (see
    tasks_hand_over), never to `leaving`; each change in the audit trail."""
    tasks = list(tasks.select_for_update(of=("self",)).select_related("lead"))
    departments = {rule.kind: rule.department for rule in loyalty_rules_ensure()}
    departments[NEXT_STEP] = Department.Code.SALES
    people = {code: _department_person(code) for code in {departments[task.kind] for task in tasks}}
    owners = set(lead_owners_possible().exclude(pk=getattr(leaving, "pk", None)).values_list("pk", flat=True))
    for task in tasks:
        lead_owner = task.lead.owner_id if task.lead else None
        assignee_id = lead_owner if lead_owner in owners else people[departments[task.kind]]
        if assignee_id != task.assignee_id:
            task_reassign(task=task, assignee_id=assignee_id)
    return tasks


@transaction.atomic
def task_reassign(*, task: Task, assignee_id: int | None, actor=None) -> Task:
    """Give the task to someone else (None: to nobody), the change in the audit trail: who had it,
    who has it now, and who made the change (None when the store's rules did)."""
    previous = task.assignee_id
    task.assignee_id = assignee_id
    task.save(update_fields=["assignee"])
    audit_record(
        customer=None,  # a store-side change, not of the customer's data (their audit page)
        model="leads.task",
        object_id=task.pk,
        action="task_reassigned",
        changes={"assignee": [previous, assignee_id]},
        actor=actor,
    )
    return task
