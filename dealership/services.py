"""Writes for the store-wide records: departments, staff, their roles and the directory."""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from .models import LEAD_OWNER_ROLES, Department, Objective, ObjectiveEvent, Role, StaffMember
from .queueing import queue_now
from .selectors import period_for, staff_directory
from .transitions import transition_check

if TYPE_CHECKING:
    from leads.models import Appointment, Lead, Task

DEFAULT_DEPARTMENTS = [
    (Department.Code.SALES, "sales"),
    (Department.Code.SERVICE, "service"),
    (Department.Code.PARTS, "parts"),
    (Department.Code.FINANCE, "finance"),
    (Department.Code.BODY_SHOP, "bodyshop"),
]

# Supervisors and managers edit how inbound mail is routed.
ROUTING_RULE_PERMISSIONS = [
    "leads.view_routingrule",
    "leads.add_routingrule",
    "leads.change_routingrule",
    "leads.delete_routingrule",
]
# Model permissions each role's group holds, as "app_label.codename".
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.SUPERVISOR: [
        "dealership.send_directory",
        "dealership.view_staffmember",
        "dealership.propose_objective",
        "promotions.send_campaign",
        *ROUTING_RULE_PERMISSIONS,
    ],
    Role.ADVISOR: ["dealership.view_staffmember"],
    Role.MANAGER: [
        "dealership.send_directory",
        "dealership.view_staffmember",
        "dealership.propose_objective",
        "dealership.approve_objective",
        "promotions.send_campaign",
        *ROUTING_RULE_PERMISSIONS,
    ],
    Role.DEPARTMENT: ["dealership.view_staffmember"],
    Role.ADMIN: [
        "dealership.send_directory",
        "dealership.view_staffmember",
        "dealership.change_staffmember",
        "dealership.propose_objective",
        "dealership.approve_objective",
        "promotions.send_campaign",
    ],
}


# Each role's permission group, by name: the same in every language the application is read in (a
# name that followed the reader's language would make a second group per role, and a role changed
# in the other language would leave the old role's group and its access). They are the roles' English
# labels, so that gettext can translate them where a group is shown.
ROLE_GROUP_NAMES: dict[str, str] = {
    Role.SUPERVISOR: "Internet sales supervisor",
    Role.ADVISOR: "Sales advisor",
    Role.MANAGER: "Sales manager",
    Role.DEPARTMENT: "Department staff",
    Role.ADMIN: "Administrator",
}


@transaction.atomic
def departments_ensure(*, email_domain: str) -> list[Department]:
    """Create the five standard departments if missing; never touches existing ones."""
    return [
        Department.objects.get_or_create(
            code=code, defaults={"name": code.label, "forward_email": f"{mailbox}@{email_domain}"}
        )[0]
        for code, mailbox in DEFAULT_DEPARTMENTS
    ]


@transaction.atomic
def role_groups_ensure() -> dict[str, Group]:
    """One group per role, holding exactly that role's permissions."""
    names = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    permissions = {
        f"{permission.content_type.app_label}.{permission.codename}": permission
        for permission in Permission.objects.filter(
            codename__in={name.split(".")[1] for name in names}
        ).select_related("content_type")
    }
    if missing := names - permissions.keys():
        raise LookupError(f"Unknown permissions: {', '.join(sorted(missing))} (run migrate first).")
    groups = {}
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=ROLE_GROUP_NAMES[role])
        group.permissions.set([permissions[name] for name in perms])
        groups[role] = group
    return groups


@transaction.atomic
def staff_create(
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    department: Department,
    password: str | None = None,
    phone: str = "",
    title: str = "",
) -> StaffMember:
    user = get_user_model().objects.create_user(
        username=username, email=email, password=password, first_name=first_name, last_name=last_name
    )
    _role_access_set(user=user, role=role)
    staff = StaffMember.objects.create(user=user, role=role, department=department, phone=phone, title=title)
    _advisor_hours_ensure(staff)
    _lead_owners_changed()
    return staff


@transaction.atomic
def staff_role_change(*, staff: StaffMember, role: str, actor=None) -> StaffMember:
    """Give the person a new role, and with it exactly that role's access: the old role's
    permissions go, groups an administrator added by hand stay, and so does admin access the
    account had before any role gave it (a superuser). Someone who no longer takes leads gives
    their open leads back to the inbox (the change on each lead's timeline with `actor`) and hands
    their open customer tasks on, as when leaving the store. The booked appointments still to come
    of someone no longer an advisor stay booked, and the appointment calendar lists them as needing
    a new advisor."""
    from leads.services.leads import OWNER_ROLE_CHANGED  # leads builds on this app

    stops_taking_leads = staff.role in LEAD_OWNER_ROLES and role not in LEAD_OWNER_ROLES
    leads = _open_leads_locked(staff=staff) if stops_taking_leads else []
    staff.role = Role(role)
    staff.save(update_fields=["role"])
    _role_access_set(user=staff.user, role=staff.role)
    _advisor_hours_ensure(staff)
    if stops_taking_leads:
        _work_handed_back(user=staff.user, leads=leads, actor=actor, reason=OWNER_ROLE_CHANGED)
    _lead_owners_changed()
    return staff


def _open_leads_locked(*, staff: StaffMember) -> list["Lead"]:
    """The person's open leads, then their staff record and account, locked until the change is
    committed: in the order a booking, a merge or an assignment locks a lead, then the person, so
    that none of them deadlocks with this one. Whoever gives them a lead or books them meanwhile
    waits, then is refused. A lead that became theirs while the others were being locked is locked
    too: everything is let go and taken again, in order."""
    from leads.models import Lead  # leads builds on this app
    from leads.models.leads import OPEN_LEAD_STATUSES

    open_leads = Lead.objects.filter(owner=staff.user, status__in=OPEN_LEAD_STATUSES).order_by("pk")
    while True:
        attempt = transaction.savepoint_create()
        leads = list(open_leads.select_for_update())
        # Both rows, as a booking locks its advisor.
        StaffMember.objects.select_for_update().select_related("user").filter(pk=staff.pk).first()
        if not open_leads.exclude(pk__in=[lead.pk for lead in leads]).exists():
            transaction.savepoint_commit(attempt)
            return leads
        transaction.savepoint_rollback(attempt)  # lets go of the rows locked since `attempt`


def _work_handed_back(*, user, leads: list["Lead"], actor, reason: str) -> list["Task"]:
    """Someone who no longer takes leads (already so in the database: nothing comes back to them)
    gives `leads`, their open leads as _open_leads_locked read them, back to the inbox with no owner,
    the change on each lead's timeline with `actor` and `reason`; their open tasks and next steps
    are handed over (tasks_hand_over), and returned."""
    from leads.services.leads import lead_assign  # leads builds on this app
    from leads.services.loyalty import tasks_hand_over

    for lead in leads:
        lead_assign(lead=lead, owner=None, actor=actor, reason=reason)
    return tasks_hand_over(user=user)


def _lead_owners_changed() -> None:
    """Who may own a lead changed: the inbox and the lead pages offer the owners as they are now."""
    from leads.selectors.leads import lead_owners_changed  # leads builds on this app

    lead_owners_changed()


def _advisor_hours_ensure(staff: StaffMember) -> None:
    """An advisor can be booked from their first day: the store's usual week, until someone sets theirs."""
    if staff.role == Role.ADVISOR:
        from leads.services.appointments import working_hours_ensure_defaults  # leads builds on this app

        working_hours_ensure_defaults(advisor=staff)


@transaction.atomic
def staff_remove(*, staff: StaffMember, actor=None) -> None:
    """Take the person off the staff: their account keeps no role's access (it may still sign in,
    and sees what an account with no role sees), their open leads go back to the inbox (the change
    on each lead's timeline with `actor`), and their open customer tasks go to someone who will do
    them."""
    from leads.services.leads import OWNER_REMOVED  # leads builds on this app

    leads = _open_leads_locked(staff=staff)
    _role_access_set(user=staff.user, role=None)
    staff.delete()
    # After the delete: nothing is handed back to them.
    _work_handed_back(user=staff.user, leads=leads, actor=actor, reason=OWNER_REMOVED)
    _lead_owners_changed()


class StaffLeaveError(ValueError):
    pass


@dataclass(frozen=True)
class LeaveResult:
    """What became of a person's work as they left the store (staff_leave)."""

    staff: StaffMember
    leads: list["Lead"]  # their open leads, back in the inbox with nobody as owner
    tasks: list["Task"]  # their open tasks, handed over
    appointments: list["Appointment"]  # booked, to come, still theirs: each needs a new advisor


@transaction.atomic
def staff_leave(*, staff: StaffMember, actor) -> LeaveResult:
    """The person has left the store. Their login is switched off (an open session ends at the next
    page they open) and their role's access goes; their record stays, so their name stays on the
    leads they sold or lost, their appointments, objectives and figures.

    Their open leads go back to the inbox with no owner, as a new lead waits for the supervisor,
    the change on each lead's timeline with `actor` and why; their open tasks and next steps are
    handed over (tasks_hand_over). Their booked appointments still to come stay booked: who meets
    each customer is the desk's choice, so they are returned, and the appointment calendar lists
    them as needing a new advisor until each is moved to one (appointment_reschedule)."""
    from leads.selectors.appointments import advisor_appointments_to_come  # leads builds on this app
    from leads.services.leads import OWNER_LEFT

    user = staff.user
    if actor is not None and actor.pk == user.pk:
        raise StaffLeaveError(
            gettext(
                "You cannot mark yourself as having left the store: another manager or an administrator does."
            )
        )
    leads = _open_leads_locked(staff=staff)
    # First, so that nothing below hands anything back to them.
    user.is_active = False
    user.save(update_fields=["is_active"])
    _role_access_set(user=user, role=None)
    tasks = _work_handed_back(user=user, leads=leads, actor=actor, reason=OWNER_LEFT)
    _lead_owners_changed()
    return LeaveResult(
        staff=staff,
        leads=leads,
        tasks=tasks,
        appointments=list(advisor_appointments_to_come(advisor=staff, now=timezone.now())),
    )


def _role_access_set(*, user, role: str | None) -> None:
    """Put the account in its role's group (if any) and no other role's; the administrator role
    gives the admin site and every permission, and leaving that role takes them away.

    Admin access the account had from outside the roles (a superuser made with createsuperuser,
    flags set by hand on the Users page) stays, as groups added by hand do: the store's first
    account, giving itself a staff record as a manager, does not lock itself out of the admin."""
    groups = role_groups_ensure()
    access_from_role = user.groups.filter(pk=groups[Role.ADMIN].pk).exists()
    user.groups.remove(*(group for other, group in groups.items() if other != role))
    if role is not None:
        user.groups.add(groups[role])
    if role == Role.ADMIN or access_from_role:
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])


# vCard lines are folded to this many octets (RFC 6350 §3.2, RFC 2426 §2.6): phones may cut longer ones.
VCARD_LINE_OCTETS = 75


def _vcard_text(value: str) -> str:
    """A text value escaped as vCard 3.0 and 4.0 read it; a line break of any kind is \\n."""
    escaped = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return "\\n".join(escaped.splitlines())


def _vcard_folded(line: str) -> str:
    """A content line as lines of at most VCARD_LINE_OCTETS octets, each after the first starting
    with a space; a character is never split across two lines (a phone would show it garbled)."""
    folded, chunk, octets = [], "", 0
    for char in line:
        size = len(char.encode())
        if octets + size > VCARD_LINE_OCTETS:
            folded.append(chunk)
            chunk, octets = "", 1  # the space that starts the next line
        chunk += char
        octets += size
    return "\r\n ".join([*folded, chunk])


def directory_vcard(*, staff: list[StaffMember]) -> str:
    """The directory as vCard 3.0 cards, one per person, for phones and mail clients."""
    org = _vcard_text(settings.STORE["name"])
    lines = []
    for member in staff:
        user = member.user
        lines += [
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"N:{_vcard_text(user.last_name)};{_vcard_text(user.first_name)};;;",
            f"FN:{_vcard_text(member.name)}",
            f"ORG:{org};{_vcard_text(member.department.name)}",
            f"TITLE:{_vcard_text(member.title or member.get_role_display())}",
        ]
        if user.email:
            lines.append(f"EMAIL;TYPE=INTERNET,WORK:{user.email}")
        if member.phone:
            lines.append(f"TEL;TYPE=WORK,VOICE:{_vcard_text(member.phone)}")
        lines.append("END:VCARD")
    return "".join(f"{_vcard_folded(line)}\r\n" for line in lines)


# Asked again this soon (a double click, a second tab), the directory is not sent again: everyone
# would get it twice.
DIRECTORY_RESEND_SECONDS = 5 * 60
DIRECTORY_SENT_KEY = "directory:sent-at"


def directory_send_claim() -> datetime | None:
    """Claim the sending of the directory: None when it may go now (it is then claimed for
    DIRECTORY_RESEND_SECONDS), else when it was last sent. While the cache is down every claim is
    granted: the directory can still be sent, at the risk of a double click sending it twice."""
    now = timezone.now()
    if cache.add(DIRECTORY_SENT_KEY, now, DIRECTORY_RESEND_SECONDS):
        return None
    return cache.get(DIRECTORY_SENT_KEY, now)


class DirectoryNotQueued(Exception):
    """The broker could not take the directory's sending: nothing went, and it may be asked for again."""


def directory_send_queue(*, sent_by_id: int | None, language: str | None) -> None:
    """Queue the sending of the directory, once claimed (directory_send_claim). Nothing would pick up
    a sending the broker never took: the claim is given back and DirectoryNotQueued says so, for the
    page to tell the person to try again."""
    from .tasks import directory_send_task

    def not_queued(_error: Exception) -> None:
        cache.delete(DIRECTORY_SENT_KEY)
        raise DirectoryNotQueued(
            gettext(
                "The staff directory was not sent: the background worker cannot be reached just now. "
                "Nothing was sent; try again in a minute."
            )
        )

    queue_now(directory_send_task, sent_by_id=sent_by_id, language=language, on_broker_down=not_queued)


def directory_send(*, sent_by: StaffMember | None = None, language: str | None = None) -> int:
    """Email the directory to every active staff member, in the body and as a .vcf, once per address
    (people who share a mailbox get one); returns how many messages went.

    `language`: the one the page that sent it was read in (None: English)."""
    staff = list(staff_directory())
    with translation.override(language):
        body = render_to_string("dealership/directory_email.txt", {"staff": staff, "store": settings.STORE})
        vcard = directory_vcard(staff=staff)
        subject = gettext("%(store)s staff directory") % {"store": settings.STORE["name"]}
    reply_to = [sent_by.email] if sent_by and sent_by.email else []
    addresses: dict[str, str] = {}
    for member in staff:
        if member.email:
            addresses.setdefault(member.email.lower(), member.email)
    for address in addresses.values():
        message = EmailMessage(subject=subject, body=body, to=[address], reply_to=reply_to)
        message.attach("staff-directory.vcf", vcard, "text/vcard")
        message.send()
    return len(addresses)


# Objectives: the supervisor proposes (and may withdraw while it waits), the manager approves or
# sends back.
OBJECTIVE_TRANSITIONS: dict[str, set[str]] = {
    Objective.Status.PROPOSED: {
        Objective.Status.APPROVED,
        Objective.Status.REJECTED,
        Objective.Status.WITHDRAWN,
    },
    Objective.Status.REJECTED: {Objective.Status.PROPOSED},
    Objective.Status.APPROVED: set(),
    Objective.Status.WITHDRAWN: set(),
}


class ObjectiveTakenError(ValueError):
    pass


# The statuses that hold a metric's one target for a person and period (the model's constraint).
OPEN_STATUSES = (Objective.Status.PROPOSED, Objective.Status.APPROVED)


def _taken_reason(taken: Objective) -> str:
    then = (
        gettext("The manager approves or rejects it; once rejected, another target may be proposed.")
        if taken.status == Objective.Status.PROPOSED
        else gettext("An approved target stays for its period.")
    )
    return gettext("This objective is already %(status)s (%(objective)s, target %(target)s). %(then)s") % {
        "status": taken.get_status_display().lower(),
        "objective": taken,
        "target": f"{taken.target.normalize():f}",
        "then": then,
    }


@transaction.atomic
def objective_propose(
    *, metric: str, period_kind: str, period_start, target, person: StaffMember | None, actor, note: str = ""
) -> Objective:
    scope = {
        "metric": metric,
        "period_kind": period_kind,
        "period_start": period_for(kind=period_kind, anchor=period_start).start,
        "person": person,
    }
    try:
        with transaction.atomic():
            objective = Objective.objects.create(**scope, target=target, note=note)
    except IntegrityError:
        taken = Objective.objects.filter(**scope, status__in=OPEN_STATUSES).first()
        if taken is None:
            raise
        raise ObjectiveTakenError(_taken_reason(taken)) from None
    ObjectiveEvent.objects.create(
        objective=objective, actor=actor, type="proposed", params={"target": str(target), "note": note}
    )
    return objective


class ObjectiveTransitionError(ValueError):
    pass


def objective_unchangeable(objective: Objective) -> str | None:
    """Why this objective's target can no longer be changed (None while it waits for a decision)."""
    if objective.status == Objective.Status.PROPOSED:
        return None
    return gettext("Only a proposed objective can be changed; this one is %(status)s.") % {
        "status": objective.get_status_display().lower()
    }


@transaction.atomic
def objective_revise(*, objective: Objective, target, note: str, actor) -> Objective:
    """Change the target (and note) of an objective still waiting for the manager's decision."""
    objective = Objective.objects.select_for_update().get(pk=objective.pk)
    if refusal := objective_unchangeable(objective):
        raise ObjectiveTransitionError(refusal)
    before = {"target": f"{objective.target.normalize():f}", "note": objective.note}
    objective.target, objective.note = target, note
    objective.save(update_fields=["target", "note"])
    after = {"target": f"{objective.target.normalize():f}", "note": objective.note}
    if after != before:
        ObjectiveEvent.objects.create(
            objective=objective, actor=actor, type="revised", params={"from": before, "to": after}
        )
    return objective


@transaction.atomic
def objective_transition(*, objective: Objective, to_status: str, actor, note: str = "") -> Objective:
    objective = Objective.objects.select_for_update().get(pk=objective.pk)
    transition_check(
        machine=OBJECTIVE_TRANSITIONS,
        choices=Objective.Status,
        refused=gettext("An objective that is %(from)s cannot become %(to)s."),
        unknown=gettext("An objective cannot become %(to)s: its statuses are %(known)s."),
        from_status=objective.status,
        to_status=to_status,
        error=ObjectiveTransitionError,
    )
    from_status, objective.status = objective.status, to_status
    objective.save(update_fields=["status"])
    ObjectiveEvent.objects.create(
        objective=objective,
        actor=actor,
        type="status_changed",
        params={"from": from_status, "to": to_status, "note": note},
    )
    return objective
