"""Follow-up plans: enrolling leads, scheduling steps on business hours, sending exactly once, stopping.

Every step of an enrollment is one FollowUpStepRun row (unique per enrollment and step), scheduled
when the lead enters the plan. The beat claims due rows under a row lock (skip_locked): an automatic
email goes scheduled → queued → sending → sent; a call or a draft opens a task for the supervisor.
A run found "sending" means a worker stopped mid-send: it goes to review, never out again by itself.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dealership.models import OVERSEEING_ROLES
from dealership.outgoing_mail import StoreEmailMessage

from ..business_hours import next_open_moment, store_closed_days, store_hours, store_zone
from ..inventory_link import leads_vehicles_with_stock
from ..models import (
    BLOCKING_STATUSES,
    Appointment,
    Channel,
    ConsentChannel,
    Direction,
    FollowUpEnrollment,
    FollowUpPlan,
    FollowUpStep,
    FollowUpStepRun,
    Language,
    Lead,
    LeadEvent,
    LeadStatus,
    Message,
    ReplyTemplate,
    StopReason,
)
from ..models.followup import DEFAULT_CALL_NOTES, DEFAULT_PLAN_NAME
from ..models.leads import OPEN_LEAD_STATUSES
from ..normalize import source_key
from ..selectors.appointments import followup_plans_active, followup_tasks_changed
from ..selectors.consent import (
    ConsentStatus,
    consent_check,
    consent_withdrawn,
    email_consent,
    email_ledger_prefetch,
    ledger_prefetch,
    prefetched_consent,
)
from ..threading import new_message_id, reply_address
from .consent import commercial_email_headers_matching, commercial_email_refusal, commercial_footer
from .leads import lead_event_add
from .mail import DIRECT_MAIL_SOURCE, acknowledgement_held_record, acknowledgements_held_back
from .replies import (
    ANSWERED_IN_PERSON,
    ANSWERS,
    MailServerUnavailable,
    mail_send,
    merge_fields_for,
    merge_fields_render,
)

logger = logging.getLogger(__name__)
Run = FollowUpStepRun
Enrollment = FollowUpEnrollment

# How many due steps one beat tick claims; the rest wait for the next tick.
DISPATCH_BATCH = 200
# A run left "queued" this long lost its task (broker restart): queue it again. Left "sending": review.
STALE_AFTER = timedelta(minutes=10)
# New leads received within this window enter a plan; older ones only by hand.
ARRIVAL_WINDOW = timedelta(days=1)
SUBJECT_MAX = Run._meta.get_field("subject").max_length
NO_ADDRESS = gettext_noop("No email address to write to (none, or it bounced): the email step was skipped.")
# Mail ingestion may have acknowledged the inquiry already: the customer gets one acknowledgement.
ALREADY_ACKNOWLEDGED = gettext_noop(
    "The store had already written to the customer; no second acknowledgement."
)
# A person answered the customer (by mail, phone, text or in person) after the inquiry came in, before
# the acknowledgement was sent: "we will answer you shortly" would come after the answer.
ANSWERED_BEFORE_ACKNOWLEDGEMENT = gettext_noop(
    "Someone had already answered the customer; the acknowledgement was not sent."
)
INTERRUPTED_SEND = gettext_noop(
    "Sending was interrupted after the email was handed over; the customer may or may not have it. "
    "Check before sending it again."
)
DO_NOT_CALL = gettext_noop("The customer asked not to be called: the call step was skipped.")
NO_SIGNER = gettext_noop("No one to sign the email: the store has no active supervisor.")
# Acknowledgements to the sender's domain had reached their hourly allowance when the inquiry came in
# (mail.ACKNOWLEDGEMENTS_PER_DOMAIN): a help desk answering each one would loop.
ACKNOWLEDGEMENT_HELD = gettext_noop(
    "Enough acknowledgements had gone to the same sender domain within the hour; this one was held back."
)
SUBJECT_TOO_LONG = gettext_noop(
    "Once filled in, the subject is longer than %(max)d characters: shorten the step's subject."
)
SENDING_FAILED = gettext_noop("Sending failed: %(error)s")
# The notes the worker leaves on a task: stored in English, shown in the reader's language.
WORKER_NOTES = frozenset(
    {
        NO_ADDRESS,
        ALREADY_ACKNOWLEDGED,
        ANSWERED_BEFORE_ACKNOWLEDGEMENT,
        INTERRUPTED_SEND,
        DO_NOT_CALL,
        NO_SIGNER,
        ACKNOWLEDGEMENT_HELD,
    }
)


# Why a plan stops when the customer is in touch with the store: their other inquiries are then left
# to the staff, not put in a plan (followup_enroll_arrivals).
IN_TOUCH_REASONS = frozenset({StopReason.CUSTOMER_REPLIED, StopReason.APPOINTMENT_BOOKED, StopReason.SOLD})


class FollowUpError(ValueError):
    pass


# --- consent --------------------------------------------------------------------------------------


def commercial_email_consent(*, customer, at: datetime, consent: ConsentStatus) -> tuple[bool, str]:
    """(may we send commercial email, the basis recorded on the run or why not). `consent`: the
    customer's email standing at `at` (email_consent)."""
    if refusal := commercial_email_refusal(customer=customer, at=at, consent=consent):
        return False, refusal
    return True, consent.basis_label or "consent checked"


def _commercial_email_consent_now(*, customer, now: datetime) -> tuple[bool, str]:
    """commercial_email_consent as the customer's ledger stands now, read for this one customer:
    checked again at send time, since they may have unsubscribed after the step came due."""
    return commercial_email_consent(
        customer=customer,
        at=now,
        consent=consent_check(customer=customer, channel=ConsentChannel.EMAIL, at=now),
    )


# --- rendering ------------------------------------------------------------------------------------


def store_signer():
    """Who signs the emails of leads no current staff member owns or enrolled: the first active
    supervisor, else manager, else administrator (who answer for the store); None if there is none."""
    role_rank = Case(
        *(When(staff__role=role, then=Value(rank)) for rank, role in enumerate(OVERSEEING_ROLES))
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, staff__role__in=OVERSEEING_ROLES)
        .order_by(role_rank, "pk")
        .first()
    )


def _still_on_staff(user) -> bool:
    """Active and with a role: staff_remove takes a person off the staff but keeps their login."""
    return user.is_active and getattr(user, "staff", None) is not None


def step_render(
    *, step: FollowUpStep, enrollment: Enrollment, store_signer, vehicles: list[tuple] | None = None
) -> tuple[str, str]:
    """The step's subject and body in the lead's language (English when the French is empty),
    merge fields filled as in the workbench's replies, with the commercial footer (unsubscribe).
    `vehicles`: the lead's vehicles beside their stock, when the caller read them already."""
    lead = enrollment.lead
    if step.reply_template is not None:
        chosen = step.reply_template
        translations = ReplyTemplate.objects.filter(language=lead.language, active=True).order_by("pk")
        template = (
            (chosen if chosen.language == lead.language else None)
            or translations.filter(name=chosen.name).first()
            or translations.filter(inquiry_type=chosen.inquiry_type).first()
            or chosen
        )
        language, subject, body = template.language, template.subject, template.body
    else:
        french = lead.language == Language.FRENCH and step.subject_fr.strip() and step.body_fr.strip()
        language = Language.FRENCH if french else Language.ENGLISH
        subject, body = (step.subject_fr, step.body_fr) if french else (step.subject_en, step.body_en)
    # The lead's owner signs, else whoever enrolled it, else the store's signer. Not someone who has
    # left (inactive, or off the staff): nobody would read the replies or answer the phone.
    signer = next(
        (user for user in (lead.owner, enrollment.enrolled_by) if user and _still_on_staff(user)),
        store_signer,
    )
    if signer is None:
        raise FollowUpError(NO_SIGNER)  # a task's note: stored in English
    fields = merge_fields_for(lead=lead, sender=signer, language=language, vehicles=vehicles)
    footer = commercial_footer(lead.customer, language=language)
    subject = merge_fields_render(subject, fields)
    if len(subject) > SUBJECT_MAX:
        raise FollowUpError(SUBJECT_TOO_LONG % {"max": SUBJECT_MAX})
    return subject, f"{merge_fields_render(body, fields)}\n\n{footer}"


# --- enrolling and stopping -----------------------------------------------------------------------


def _enrollments_to_stop(enrollments: QuerySet[Enrollment]) -> dict[int, tuple[str, int | None]]:
    """Which of these active enrollments must stop: why (first reason wins), and the customer's other
    lead it happened on (None: on the plan's own lead)."""
    since = OuterRef("enrolled_at")
    # The customer bought, booked or answered on another of their leads: a sale there, a visit
    # booked there, their reply there or a call or visit logged there. Not any message in: that
    # lead's own inquiry would stop the plan of every customer who writes in again.
    elsewhere = Q(lead__customer_id=OuterRef("lead__customer_id")) & ~Q(lead_id=OuterRef("lead_id"))
    replied = LeadEvent.objects.filter(elsewhere, type="customer_replied", created_at__gt=since)
    answered = Message.objects.filter(elsewhere, ANSWERED_IN_PERSON, occurred_at__gte=since)
    # A visit booked there since, or one to come or held since (booked before, or moved).
    booked = Appointment.objects.filter(
        elsewhere, Q(created_at__gte=since) | Q(starts_at__gte=since), status__in=BLOCKING_STATUSES
    )
    sold = Lead.objects.filter(
        customer_id=OuterRef("lead__customer_id"), sold_at__gte=since, status=LeadStatus.SOLD
    ).exclude(pk=OuterRef("lead_id"))
    enrollments = enrollments.annotate(
        sold_on=Subquery(sold.order_by("sold_at").values("pk")[:1]),
        booked_on=Subquery(booked.order_by("created_at").values("lead_id")[:1]),
        answered_on=Coalesce(
            Subquery(replied.order_by("created_at").values("lead_id")[:1]),
            Subquery(answered.order_by("occurred_at").values("lead_id")[:1]),
        ),
    )
    # The inquiry of a duplicate merged into the plan's lead moved there with it: not an answer.
    merged_inquiry = Lead.objects.filter(
        merged_into=OuterRef(OuterRef("lead")), received_at=OuterRef("occurred_at")
    )
    # (reason, on the plan's own lead, the annotation naming another lead of the customer's)
    checks = [
        (StopReason.SOLD, Q(lead__status=LeadStatus.SOLD), "sold_on"),
        (StopReason.LOST, Q(lead__status=LeadStatus.LOST), None),
        (StopReason.NOT_A_LEAD, Q(lead__status=LeadStatus.NOT_A_LEAD), None),
        (
            StopReason.APPOINTMENT_BOOKED,
            Q(lead__status__in=[LeadStatus.APPOINTMENT_SET, LeadStatus.SHOWN])
            | Q(
                Exists(
                    Appointment.objects.filter(
                        lead=OuterRef("lead"), created_at__gte=since, status__in=BLOCKING_STATUSES
                    )
                )
            ),
            "booked_on",
        ),
        (
            StopReason.CUSTOMER_REPLIED,
            Q(
                Exists(
                    LeadEvent.objects.filter(
                        lead=OuterRef("lead"), type="customer_replied", created_at__gt=since
                    )
                )
            )
            # The inquiry itself came in at enrolled_at (an automatic enrollment starts at the
            # lead's arrival): only the customer's later messages count. A call or visit logged in
            # the arrival minute is stamped with the arrival time: it counts.
            | Q(
                Exists(
                    Message.objects.filter(
                        lead=OuterRef("lead"), direction=Direction.INBOUND, occurred_at__gt=since
                    ).exclude(Exists(merged_inquiry))
                )
            )
            | Q(
                Exists(
                    Message.objects.filter(ANSWERED_IN_PERSON, lead=OuterRef("lead"), occurred_at__gte=since)
                )
            ),
            "answered_on",
        ),
    ]
    stops: dict[int, tuple[str, int | None]] = {}
    for reason, on_own_lead, on_other_lead in checks:
        for pk in enrollments.filter(on_own_lead).values_list("pk", flat=True):
            stops.setdefault(pk, (reason, None))
        if on_other_lead:
            other = enrollments.filter(**{f"{on_other_lead}__isnull": False})
            for pk, other_lead in other.values_list("pk", on_other_lead):
                stops.setdefault(pk, (reason, other_lead))
    return stops


def plan_for_source(*, source: str, plans: list[FollowUpPlan]) -> FollowUpPlan | None:
    """Of these active plans, the one naming this source (however either is written: source_key),
    else the one for all internet leads."""
    wanted = source_key(source)
    for plan in plans:
        if wanted and wanted in (source_key(name) for name in plan.sources):
            return plan
    return next((plan for plan in plans if plan.all_internet_leads), None)


def _customer_plans_running(customer_id) -> QuerySet[Enrollment]:
    """The customer's active plans, whatever their lead's status (the beat stops those of a lead
    sold or lost at its next tick)."""
    return Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, lead__customer_id=customer_id)


def _customer_followed(customer_id) -> QuerySet[Enrollment]:
    """The customer's active plans on their open leads (a merged duplicate is lost)."""
    return _customer_plans_running(customer_id).filter(lead__status__in=OPEN_LEAD_STATUSES)


@transaction.atomic
def followup_enroll(
    *, lead: Lead, plan: FollowUpPlan, now: datetime, actor=None, starts_now: bool = False
) -> Enrollment:
    """Put a lead in a plan and schedule every step; refused when the lead needs no follow-up or its
    customer follows a plan already. `starts_now`: schedule from now even when no one enrolls it."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.followups.filter(status=Enrollment.Status.ACTIVE).exists():
        raise FollowUpError(_("This lead already follows a plan; stop it first."))
    if lead.status not in (LeadStatus.NEW, LeadStatus.CONTACTED):
        raise FollowUpError(
            _("A lead that is %(status)s needs no follow-up plan.")
            % {"status": lead.get_status_display().lower()}
        )
    # One plan per customer at a time: their second open inquiry waits, not enrolled, and so enters
    # (followup_enroll_arrivals, or by hand) once that plan ends without the customer in touch, or
    # that lead is merged or lost.
    followed = _customer_followed(lead.customer_id).values_list("lead_id", flat=True).first()
    if followed:
        raise FollowUpError(
            _("The customer already follows a plan on lead %(number)s; stop it first.") % {"number": followed}
        )
    steps = list(plan.steps.all())
    if not steps:
        raise FollowUpError(_("This plan has no steps."))
    # A lead that arrives by itself starts at its inquiry; one enrolled by hand, or that waited for
    # the customer's other plan, starts now.
    start = now if actor is not None or starts_now else lead.received_at
    enrollment = Enrollment.objects.create(lead=lead, plan=plan, enrolled_at=start, enrolled_by=actor)
    runs, previous_due, previous_email_due = [], start, None
    hours, zone, closed = store_hours(), store_zone(), store_closed_days()
    for step in steps:
        anchor = previous_due if step.anchor == FollowUpStep.Anchor.PREVIOUS else start
        # Days count on the store's calendar, so "3 days later" keeps its time of day across a
        # clock change (not an hour off, past closing); hours count as time elapsed.
        later = anchor.astimezone(zone) + timedelta(days=step.delay_days)
        wanted = later.astimezone(UTC) + timedelta(hours=step.delay_hours)
        due = next_open_moment(wanted, hours=hours, zone=zone, closed=closed)
        if step.is_email and previous_email_due and (due != wanted or due <= previous_email_due):
            # A closed stretch (long weekend, holidays) moves several emails to the same opening:
            # one moved there, or caught up by the email before it, goes a business day after that.
            day_after = previous_email_due.astimezone(zone) + timedelta(days=1)
            due = max(due, next_open_moment(day_after, hours=hours, zone=zone, closed=closed))
        runs.append(Run(enrollment=enrollment, step=step, due_at=due, status_changed_at=now))
        previous_due = due
        if step.is_email:
            previous_email_due = due
    Run.objects.bulk_create(runs)
    lead_event_add(lead=lead, type="followup_started", actor=actor, plan=plan.name, plan_id=plan.pk)
    return enrollment


def _plans_ended_since_arrival() -> QuerySet[Enrollment]:
    """The customer's plans that ended after the lead came in, for a subquery over leads."""
    return Enrollment.objects.filter(
        lead__customer_id=OuterRef("customer_id"), stopped_at__gt=OuterRef("received_at")
    )


def _arrivals_held_record(*, since: datetime) -> None:
    """Note once on each inquiry held back (followup_enroll_arrivals) why it has no plan, so that the
    supervisor knows it is the staff's to answer."""
    in_touch = (
        _plans_ended_since_arrival()
        .filter(stopped_at__gte=since, stop_reason__in=IN_TOUCH_REASONS)
        .order_by("-stopped_at")
    )
    with transaction.atomic():
        held = (
            # Locked: a tick running late beside the next one does not write it twice.
            Lead.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=LeadStatus.NEW, followups__isnull=True)
            .annotate(
                on_lead=Subquery(in_touch.values("lead_id")[:1]),
                reason=Subquery(in_touch.values("stop_reason")[:1]),
            )
            .filter(on_lead__isnull=False)
            .exclude(Exists(LeadEvent.objects.filter(lead=OuterRef("pk"), type="followup_held")))
            .values_list("pk", "on_lead", "reason")[:DISPATCH_BATCH]
        )
        LeadEvent.objects.bulk_create(
            LeadEvent(lead_id=pk, type="followup_held", params={"on_lead": on_lead, "reason": reason})
            for pk, on_lead, reason in held
        )


def followup_enroll_arrivals(*, now: datetime) -> int:
    """New leads that have never followed a plan enter the one their source picks; one held back
    because its customer is in touch with the store says so on its timeline instead."""
    since = now - ARRIVAL_WINDOW
    # A customer's second inquiry waits while their plan runs (followup_enroll). Once that plan ends
    # (completed, stopped by hand, its lead lost or merged) the inquiry arrives, as it were: it enters
    # within ARRIVAL_WINDOW of that end however old it is, starting now, else every step would be due
    # at once.
    ended = _plans_ended_since_arrival()
    # Unless it ended because the customer answered, booked or bought: someone is talking with them,
    # and automatic mail on this inquiry would talk past it. It is left to the staff, for good.
    _arrivals_held_record(since=since)
    recent = list(
        Lead.objects.filter(status=LeadStatus.NEW, followups__isnull=True)
        .annotate(waited=Exists(ended.filter(stopped_at__gte=since)))
        .filter(Q(received_at__gte=since) | Q(waited=True))
        .exclude(Exists(ended.filter(stop_reason__in=IN_TOUCH_REASONS)))
        # Out of the batch while it waits, so that it never holds back the leads after it. It waits
        # on a plan whose lead was just sold or lost too, until the beat records why that plan stopped.
        .exclude(Exists(_customer_plans_running(OuterRef("customer_id"))))
        .order_by("received_at")[:DISPATCH_BATCH]
    )
    plans = (
        # The oldest matching plan wins.
        list(followup_plans_active().order_by("pk").prefetch_related("steps")) if recent else []
    )
    enrolled = 0
    for lead in recent:
        plan = plan_for_source(source=lead.source, plans=plans)
        if plan is None:
            continue
        try:
            followup_enroll(lead=lead, plan=plan, now=now, starts_now=lead.waited)
        except FollowUpError:
            continue
        enrolled += 1
    return enrolled


@transaction.atomic
def followup_stop(
    *,
    enrollment: Enrollment,
    reason: str,
    now: datetime,
    actor=None,
    detail: str = "",
    on_lead: int | None = None,
) -> bool:
    """Stop an active enrollment, cancel what has not gone out, and record why. False if not active.
    `on_lead`: the customer's other lead the reason happened on, named on the timeline where the
    staff will find what the customer did."""
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("lead", "plan")
        .get(pk=enrollment.pk)
    )
    if enrollment.status != Enrollment.Status.ACTIVE:
        return False
    finished = reason == StopReason.COMPLETED
    enrollment.status = Enrollment.Status.COMPLETED if finished else Enrollment.Status.STOPPED
    enrollment.stopped_at = now
    enrollment.stop_reason = reason
    enrollment.save(update_fields=["status", "stopped_at", "stop_reason"])
    enrollment.runs.filter(status__in=[Run.Status.SCHEDULED, Run.Status.QUEUED, Run.Status.OPEN]).update(
        status=Run.Status.CANCELLED, status_changed_at=now
    )
    transaction.on_commit(followup_tasks_changed)
    lead_event_add(
        lead=enrollment.lead,
        type="followup_completed" if finished else "followup_stopped",
        actor=actor,
        plan=enrollment.plan.name,
        reason=reason,
        reason_label=StopReason(reason).label,
        detail=detail,
        **({"on_lead": on_lead} if on_lead else {}),
    )
    return True


def followup_stop_for_lead(*, lead: Lead, reason: str, now: datetime, actor=None) -> int:
    stopped = 0
    for enrollment in lead.followups.filter(status=Enrollment.Status.ACTIVE):
        stopped += followup_stop(enrollment=enrollment, reason=reason, now=now, actor=actor)
    return stopped


def followup_stop_finished(*, now: datetime, enrollments: QuerySet[Enrollment] | None = None) -> int:
    """Stop every active enrollment whose lead replied, booked, was sold or lost, or whose customer
    answered on another of their leads."""
    active = (enrollments if enrollments is not None else Enrollment.objects).filter(
        status=Enrollment.Status.ACTIVE
    )
    stops = _enrollments_to_stop(active)
    for pk, (reason, other_lead) in stops.items():
        followup_stop(enrollment=Enrollment(pk=pk), reason=reason, now=now, on_lead=other_lead)
    return len(stops)


def _complete_if_done(*, enrollment: Enrollment, now: datetime) -> None:
    pending = [Run.Status.SCHEDULED, Run.Status.QUEUED, Run.Status.SENDING, Run.Status.OPEN]
    if not enrollment.runs.filter(status__in=pending).exists():
        followup_stop(enrollment=enrollment, reason=StopReason.COMPLETED, now=now)


# --- the beat: due steps --------------------------------------------------------------------------


def _set_status(run: Run, status: str, now: datetime, **fields) -> None:
    if Run.TASK_STATUSES & {run.status, status}:  # the supervisor's task count changes
        transaction.on_commit(followup_tasks_changed)
    run.status = status
    run.status_changed_at = now
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=["status", "status_changed_at", *fields])


def followup_dispatch_due(*, now: datetime, enqueue_send) -> dict[str, int]:
    """One beat tick: enroll arrivals, stop finished plans, claim due steps.

    `enqueue_send(run_id)` is called after commit for each automatic email claimed.
    """
    counts = {"enrolled": followup_enroll_arrivals(now=now), "stopped": followup_stop_finished(now=now)}
    counts |= {"queued": 0, "opened": 0, "no_consent": 0, "requeued": 0, "to_review": 0}
    with transaction.atomic():
        due = list(
            Run.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Run.Status.SCHEDULED, due_at__lte=now, enrollment__status=Enrollment.Status.ACTIVE)
            .select_related(
                "step__reply_template",
                "enrollment__lead__customer",
                "enrollment__lead__owner__staff",
                "enrollment__enrolled_by__staff",
                "enrollment__plan",
            )
            .prefetch_related(
                "enrollment__lead__vehicles",
                email_ledger_prefetch("enrollment__lead__customer__"),
                ledger_prefetch(ConsentChannel.PHONE, "enrollment__lead__customer__"),
            )
            .annotate(
                # The store's email on any open lead of the customer, this one or another inquiry of
                # theirs: one acknowledgement per customer.
                store_wrote_already=Exists(
                    Message.objects.filter(
                        lead__customer=OuterRef("enrollment__lead__customer"),
                        lead__status__in=OPEN_LEAD_STATUSES,
                        channel=Channel.EMAIL,
                        direction=Direction.OUTBOUND,
                    )
                )
            )
            .order_by("due_at", "pk")[:DISPATCH_BATCH]
        )
        signer = store_signer() if due else None
        vehicles = leads_vehicles_with_stock({run.enrollment.lead for run in due})
        stopped_by_consent: set[int] = set()
        # Acknowledgements to the sender's domain, counted up to when each lead was made (the store's
        # clock): past the hourly allowance mail-in held its own back, and the plan does the same.
        held = acknowledgements_held_back(
            {
                run.pk: (run.enrollment.lead.customer.email, run.enrollment.lead.created_at)
                for run in due
                if run.step.is_acknowledgement
                and not run.store_wrote_already
                and run.enrollment.lead.source == DIRECT_MAIL_SOURCE  # as mail-in's guard
            }
        )
        for run in due:
            enrollment, lead = run.enrollment, run.enrollment.lead
            if enrollment.pk in stopped_by_consent:
                continue
            if run.step.kind == FollowUpStep.Kind.CALL:
                phone = prefetched_consent(lead.customer, channel=ConsentChannel.PHONE, at=now)
                if consent_withdrawn(phone):  # the emails still go on, if allowed
                    _set_status(run, Run.Status.CANCELLED, now, note=DO_NOT_CALL)
                    _complete_if_done(enrollment=enrollment, now=now)
                    continue
                _set_status(run, Run.Status.OPEN, now, subject=run.step.call_notes)
                counts["opened"] += 1
                continue
            if run.step.is_acknowledgement and run.store_wrote_already:
                _set_status(run, Run.Status.DONE, now, note=ALREADY_ACKNOWLEDGED)
                continue
            if held.get(run.pk):
                _set_status(run, Run.Status.DONE, now, note=ACKNOWLEDGEMENT_HELD)
                acknowledgement_held_record(lead=lead, count=held[run.pk])
                continue
            if not lead.customer.email or lead.customer.email_undeliverable:  # the calls still go on
                _set_status(run, Run.Status.CANCELLED, now, note=NO_ADDRESS)
                _complete_if_done(enrollment=enrollment, now=now)
                continue
            allowed, basis = commercial_email_consent(
                customer=lead.customer, at=now, consent=email_consent(lead.customer, at=now)
            )
            if not allowed:
                followup_stop(enrollment=enrollment, reason=StopReason.UNSUBSCRIBED, now=now, detail=basis)
                stopped_by_consent.add(enrollment.pk)
                counts["no_consent"] += 1
                continue
            try:
                subject, body = step_render(
                    step=run.step, enrollment=enrollment, store_signer=signer, vehicles=vehicles[lead.pk]
                )
            except FollowUpError as error:
                _set_status(run, Run.Status.NEEDS_REVIEW, now, note=str(error))
                continue
            if run.step.kind == FollowUpStep.Kind.DRAFT_EMAIL:
                _set_status(run, Run.Status.OPEN, now, subject=subject, body=body, consent_basis=basis)
                counts["opened"] += 1
            else:
                _set_status(run, Run.Status.QUEUED, now, subject=subject, body=body, consent_basis=basis)
                transaction.on_commit(lambda pk=run.pk: enqueue_send(pk))
                counts["queued"] += 1
        # Rows left behind by a worker or broker that stopped.
        stale = now - STALE_AFTER
        for run in Run.objects.select_for_update(skip_locked=True).filter(
            status=Run.Status.QUEUED, status_changed_at__lt=stale
        ):
            _set_status(run, Run.Status.QUEUED, now)
            transaction.on_commit(lambda pk=run.pk: enqueue_send(pk))
            counts["requeued"] += 1
        counts["to_review"] = Run.objects.filter(
            status=Run.Status.SENDING, status_changed_at__lt=stale
        ).update(status=Run.Status.NEEDS_REVIEW, status_changed_at=now, note=INTERRUPTED_SEND)
        if counts["to_review"]:
            transaction.on_commit(followup_tasks_changed)
    return counts


def _send_email(*, run: Run, message_id: str) -> None:
    lead = run.enrollment.lead
    mail_send(
        StoreEmailMessage(
            subject=run.subject,
            body=run.body,
            to=[lead.customer.email],
            reply_to=[reply_address(lead.pk)],
            headers={
                "Message-ID": message_id,
                **commercial_email_headers_matching(lead.customer, body=run.body),
            },
        )
    )


def _acknowledgement_too_late(*, lead: Lead) -> str:
    """Why the acknowledgement of this lead's inquiry, about to go, would come too late, as a note
    for its run ("" if it would not): a person answered the customer by any means since the inquiry
    came in (before the beat claimed the acknowledgement or after), on it or another open lead of
    theirs; or the store wrote to them on one of their open leads, at any time: one acknowledgement
    per customer (the beat checks that when it claims the acknowledgement). An answer to an earlier
    inquiry, before this one came, is no answer to it."""
    on_open_leads = Message.objects.filter(
        lead__customer_id=lead.customer_id, lead__status__in=OPEN_LEAD_STATUSES
    )
    if on_open_leads.filter(ANSWERS, occurred_at__gte=lead.received_at).exists():
        return ANSWERED_BEFORE_ACKNOWLEDGEMENT
    if on_open_leads.filter(channel=Channel.EMAIL, direction=Direction.OUTBOUND).exists():
        return ALREADY_ACKNOWLEDGED
    return ""


def followup_run_send(*, run_id: int, now: datetime | None = None) -> str:
    """Send one queued email step, exactly once; returns the run's status afterwards."""
    now = now or timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("enrollment__lead__customer").get(pk=run_id)
        if run.status == Run.Status.SENDING:
            # A previous attempt stopped mid-send: the customer may have it already.
            _set_status(run, Run.Status.NEEDS_REVIEW, now, note=INTERRUPTED_SEND)
            return run.status
        if run.status != Run.Status.QUEUED:
            return run.status
        enrollments = Enrollment.objects.filter(pk=run.enrollment_id)
        if run.enrollment.status != Enrollment.Status.ACTIVE or followup_stop_finished(
            now=now, enrollments=enrollments
        ):
            run.refresh_from_db()
            return run.status
        # Consent as it is now: the customer may have unsubscribed since the step was queued or drafted.
        customer = run.enrollment.lead.customer
        allowed, basis = _commercial_email_consent_now(customer=customer, now=now)
        if not allowed:
            followup_stop(enrollment=run.enrollment, reason=StopReason.UNSUBSCRIBED, now=now, detail=basis)
            run.refresh_from_db()
            return run.status
        # Someone may have answered since the inquiry came in: by phone, text or in person before the
        # beat claimed the acknowledgement (it looks only for the store's email), or in any way since
        # (a backlog, a mail server asking to try later). "We will answer you shortly" would come
        # after the answer. Unless a person sent this very email on purpose, after reviewing it.
        if run.step.is_acknowledgement and run.done_by_id is None:
            if note := _acknowledgement_too_late(lead=run.enrollment.lead):
                _set_status(run, Run.Status.DONE, now, note=note)
                _complete_if_done(enrollment=run.enrollment, now=now)
                return run.status
        _set_status(run, Run.Status.SENDING, now)
    message_id = new_message_id(run.enrollment.lead_id)
    try:
        _send_email(run=run, message_id=message_id)
    except MailServerUnavailable:
        # Nothing reached the server: back to the queue, the task retries later.
        _set_status(run, Run.Status.QUEUED, timezone.now())
        raise
    except Exception as error:  # whatever else happened, a person decides about a resend
        logger.warning("Follow-up email %s failed: %s", run.pk, error)
        _set_status(run, Run.Status.NEEDS_REVIEW, timezone.now(), note=SENDING_FAILED % {"error": error})
        return run.status
    return _record_sent(run=run, message_id=message_id, actor=None, now=timezone.now())


@transaction.atomic
def _record_sent(*, run: Run, message_id: str, actor, now: datetime) -> str:
    lead = run.enrollment.lead
    message = Message.objects.create(
        lead=lead,
        customer=lead.customer,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        author=actor,
        from_address=settings.DEFAULT_FROM_EMAIL,
        to_addresses=[lead.customer.email],
        subject=run.subject,
        body_text=run.body,
        message_id=message_id,
        send_status=Message.SendStatus.SENT,
        occurred_at=now,
    )
    _set_status(run, Run.Status.SENT, now, message=message, done_by=actor)
    lead_event_add(lead=lead, type="followup_sent", actor=actor, step=run.step_id, message=message.pk)
    _complete_if_done(enrollment=run.enrollment, now=now)
    return run.status


# --- the supervisor's tasks -----------------------------------------------------------------------


@transaction.atomic
def followup_task_done(*, run: Run, actor, now: datetime, note: str = "") -> Run:
    """A call made (or a draft or a reviewed email dealt with by hand)."""
    run = Run.objects.select_for_update().select_related("enrollment").get(pk=run.pk)
    if run.status not in Run.TASK_STATUSES:
        raise FollowUpError(_("This task is no longer open."))
    _set_status(run, Run.Status.DONE, now, done_by=actor, note=note.strip() or run.note)
    lead_event_add(
        lead=run.enrollment.lead, type="followup_task_done", actor=actor, step=run.step_id, note=note
    )
    _complete_if_done(enrollment=run.enrollment, now=now)
    return run


@transaction.atomic
def followup_draft_approve(*, run: Run, actor, subject: str, body: str, now: datetime, enqueue_send) -> Run:
    """Send a reviewed draft (or a run in review, on purpose) with the supervisor's final text."""
    run = Run.objects.select_for_update().select_related("enrollment__lead__customer", "step").get(pk=run.pk)
    if run.status not in Run.TASK_STATUSES or not run.step.is_email:
        raise FollowUpError(_("This email is no longer waiting for review."))
    if run.enrollment.status != Enrollment.Status.ACTIVE:
        raise FollowUpError(
            _("This lead's follow-up has stopped (%(reason)s): nothing more is sent. Mark the task done.")
            % {"reason": _(StopReason(run.enrollment.stop_reason).label).lower()}
        )
    if not subject.strip() or not body.strip():
        raise FollowUpError(_("The email needs a subject and a message."))
    customer = run.enrollment.lead.customer
    allowed, basis = _commercial_email_consent_now(customer=customer, now=now)
    if not allowed:
        raise FollowUpError(_("Not sent: %(reason)s.") % {"reason": basis})
    # The sender's identification and the unsubscribe link stay, whatever was edited.
    footer = commercial_footer(customer, language=run.enrollment.lead.language)
    body = body.strip() if footer in body else f"{body.strip()}\n\n{footer}"
    _set_status(run, Run.Status.QUEUED, now, subject=subject.strip(), body=body, done_by=actor)
    transaction.on_commit(lambda: enqueue_send(run.pk))
    return run


@transaction.atomic
def followup_plan_save(*, plan_form, steps_formset) -> FollowUpPlan:
    """Save a plan and its steps from validated forms. Steps that already ran stay (their history)."""
    used = [
        form.instance
        for form in steps_formset.deleted_forms
        if form.instance.pk and form.instance.runs.exists()
    ]
    if used:
        raise FollowUpError(
            _(
                "Steps leads already went through cannot be deleted; make the plan inactive and create a new one."
            )
        )
    plan = plan_form.save(commit=False)
    plan.sources = plan_form.cleaned_data["sources_text"]
    plan.save()
    steps_formset.instance = plan
    steps_formset.save()
    return plan


# --- plans ----------------------------------------------------------------------------------------

_ACK = (
    "Your inquiry at {{ store_name }}",
    "Hello {{ first_name }},\n\nThank you for your inquiry about the {{ vehicle }}. We received it and "
    "will answer you shortly.\n\n{{ signature }}",
    "Votre demande chez {{ store_name }}",
    "Bonjour {{ first_name }},\n\nMerci de votre demande au sujet du {{ vehicle }}. Nous l'avons bien "
    "reçue et vous répondrons sous peu.\n\n{{ signature }}",
)
_ANGLES = [
    (
        1,
        "Photos and details of the {{ vehicle }}",
        "Hello {{ first_name }},\n\nI put together the details of the {{ vehicle }} for you. Would you "
        "like to see it in person this week?\n\n{{ signature }}",
        "Photos et détails du {{ vehicle }}",
        "Bonjour {{ first_name }},\n\nJ'ai rassemblé les détails du {{ vehicle }} pour vous. Aimeriez-vous "
        "le voir en personne cette semaine\u00a0?\n\n{{ signature }}",
    ),
    (
        3,
        "What is your current vehicle worth?",
        "Hello {{ first_name }},\n\nIf you have a vehicle to trade, we can appraise it in ten minutes "
        "when you visit {{ store_address }}.\n\n{{ signature }}",
        "Quelle est la valeur de votre véhicule actuel\u00a0?",
        "Bonjour {{ first_name }},\n\nSi vous avez un véhicule à échanger, nous pouvons l'évaluer en dix "
        "minutes lors de votre visite au {{ store_address }}.\n\n{{ signature }}",
    ),
    (
        14,
        "Book a test drive of the {{ vehicle }}",
        "Hello {{ first_name }},\n\nThe best way to decide is behind the wheel. Answer this email with a "
        "day and time and I will have the {{ vehicle }} ready.\n\n{{ signature }}",
        "Réservez un essai routier du {{ vehicle }}",
        "Bonjour {{ first_name }},\n\nLa meilleure façon de décider, c'est au volant. Répondez à ce courriel "
        "avec un jour et une heure et le {{ vehicle }} sera prêt.\n\n{{ signature }}",
    ),
    (
        30,
        "Still looking for a vehicle?",
        "Hello {{ first_name }},\n\nAre you still looking? New vehicles arrive every week; tell me what "
        "you need and I will let you know.\n\n{{ signature }}",
        "Toujours à la recherche d'un véhicule\u00a0?",
        "Bonjour {{ first_name }},\n\nÊtes-vous toujours à la recherche\u00a0? De nouveaux véhicules arrivent "
        "chaque semaine\u00a0; dites-moi ce qu'il vous faut.\n\n{{ signature }}",
    ),
]
_CHECK_IN = (
    "Following up on your inquiry",
    "Hello {{ first_name }},\n\nI wanted to check in personally about the {{ vehicle }}. Do you have any "
    "questions about price, financing or availability?\n\n{{ signature }}",
    "Suivi de votre demande",
    "Bonjour {{ first_name }},\n\nJe voulais faire un suivi personnel au sujet du {{ vehicle }}. Avez-vous "
    "des questions sur le prix, le financement ou la disponibilité\u00a0?\n\n{{ signature }}",
)
_MONTHLY = (
    "News from {{ store_name }}",
    "Hello {{ first_name }},\n\nA short note to say we are here when you are ready. Reply to this email "
    "or call {{ store_phone }}.\n\n{{ signature }}",
    "Des nouvelles de {{ store_name }}",
    "Bonjour {{ first_name }},\n\nUn petit mot pour vous dire que nous sommes là quand vous serez prêt. "
    "Répondez à ce courriel ou appelez au {{ store_phone }}.\n\n{{ signature }}",
)
DEFAULT_PLAN_CODE = "internet-default"
MONTHLY_EMAILS = 3


def _default_steps() -> list[dict]:
    def email(kind, days, texts, anchor=FollowUpStep.Anchor.INQUIRY, hours=0):
        subject_en, body_en, subject_fr, body_fr = texts
        return {
            "kind": kind,
            "delay_days": days,
            "delay_hours": hours,
            "anchor": anchor,
            "subject_en": subject_en,
            "body_en": body_en,
            "subject_fr": subject_fr,
            "body_fr": body_fr,
        }

    auto, draft = FollowUpStep.Kind.AUTO_EMAIL, FollowUpStep.Kind.DRAFT_EMAIL
    steps = [
        email(auto, 0, _ACK),
        {
            "kind": FollowUpStep.Kind.CALL,
            "delay_hours": 2,
            "call_notes": DEFAULT_CALL_NOTES,
        },
        *(email(auto, days, texts) for days, *texts in _ANGLES[:2]),
        email(draft, 7, _CHECK_IN),
        *(email(auto, days, texts) for days, *texts in _ANGLES[2:]),
        *(email(auto, 30, _MONTHLY, anchor=FollowUpStep.Anchor.PREVIOUS) for _ in range(MONTHLY_EMAILS)),
    ]
    return [{**step, "position": position} for position, step in enumerate(steps)]


@transaction.atomic
def followup_plans_ensure_defaults() -> FollowUpPlan:
    """The plan for new internet leads that ships with the product; never touches an edited one."""
    plan, created = FollowUpPlan.objects.get_or_create(
        code=DEFAULT_PLAN_CODE,
        defaults={"name": DEFAULT_PLAN_NAME, "all_internet_leads": True},
    )
    if created:
        FollowUpStep.objects.bulk_create(FollowUpStep(plan=plan, **step) for step in _default_steps())
    return plan
