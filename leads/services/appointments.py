"""Appointments with sales advisors: booking without double-booking, outcomes, calendar invitations.

Appointment status machine (APPOINTMENT_TRANSITIONS) and its events live here; every lead status
change goes through lead_transition. Emails go out from background tasks, each (appointment, kind,
sequence, recipient) at most once.
"""

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from icalendar import Calendar, Event, vCalAddress, vText

from dealership.models import Role, StaffMember
from dealership.queueing import queue_on_commit

from ..business_hours import closed_all_day, store_zone
from ..models import (
    BLOCKING_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentNotice,
    Channel,
    Customer,
    Direction,
    Language,
    Lead,
    LeadStatus,
    LeadVehicle,
    Message,
    StopReason,
    WorkingHours,
)
from ..models.leads import OPEN_LEAD_STATUSES
from ..selectors.appointments import SLOT, advisor_free_until, advisors, local_day_bounds
from ..threading import new_message_id, reply_address, store_address
from .followup import followup_stop_for_lead
from .leads import (
    TransitionError,
    lead_assign,
    lead_event_add,
    lead_merged_refusal,
    lead_record_answer,
    lead_transition,
)
from .replies import MailServerUnavailable, mail_send

logger = logging.getLogger(__name__)
Status = Appointment.Status

APPOINTMENT_TRANSITIONS: dict[str, set[str]] = {
    Status.BOOKED: {Status.SHOWN, Status.NO_SHOW, Status.SOLD, Status.CANCELLED},
    Status.SHOWN: {Status.SOLD},
    Status.NO_SHOW: set(),
    Status.SOLD: set(),
    Status.CANCELLED: set(),
}
# Where each outcome takes a lead whose appointment is set, step by step through the lead machine.
OUTCOME_LEAD_PATH: dict[str, list[str]] = {
    Status.SHOWN: [LeadStatus.SHOWN],
    Status.SOLD: [LeadStatus.SHOWN, LeadStatus.SOLD],
    Status.NO_SHOW: [LeadStatus.CONTACTED],
}
# Lead statuses before an appointment is set: a visit or sale goes through appointment_set first.
BEFORE_APPOINTMENT = (LeadStatus.NEW, LeadStatus.CONTACTED)
# Default working hours for advisors (store time), Monday first; None = day off.
DEFAULT_WORKING_HOURS = [(time(9), time(18))] * 5 + [(time(9), time(17)), None]
# The purpose as a customer reads it, in each language.
PURPOSE_WORDS = {
    Language.ENGLISH: {
        Appointment.Purpose.TEST_DRIVE: "test drive",
        Appointment.Purpose.PURCHASE: "purchase discussion",
        Appointment.Purpose.APPRAISAL: "trade-in appraisal",
        Appointment.Purpose.DELIVERY: "vehicle delivery",
    },
    Language.FRENCH: {
        Appointment.Purpose.TEST_DRIVE: "essai routier",
        Appointment.Purpose.PURCHASE: "discussion d'achat",
        Appointment.Purpose.APPRAISAL: "évaluation de votre échange",
        Appointment.Purpose.DELIVERY: "livraison du véhicule",
    },
}
# Reminders go out the day before, from this time of day.
REMINDER_FROM = time(9)


# The channel of a first answer that was the booking itself (the call or message was not logged).
BOOKING_ANSWER = "appointment"


class BookingError(ValueError):
    """A booking refused; `field` names the input at fault, when one is."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def _event(appointment: Appointment, type: str, actor=None, **params) -> AppointmentEvent:
    return AppointmentEvent.objects.create(appointment=appointment, type=type, actor=actor, params=params)


def _lock_advisor(advisor: StaffMember) -> StaffMember:
    """One booking per advisor at a time: the check for overlaps and the insert are serialised."""
    advisor = StaffMember.objects.select_for_update().select_related("user").get(pk=advisor.pk)
    if advisor.role != Role.ADVISOR:
        raise BookingError(gettext("%(advisor)s is not a sales advisor.") % {"advisor": advisor})
    if not advisor.user.is_active:
        raise BookingError(gettext("%(advisor)s is no longer active.") % {"advisor": advisor})
    return advisor


def _check_customer_free(
    *, lead: Lead, starts_at: datetime, ends_at: datetime, exclude: int | None = None
) -> None:
    """One customer in one place: no two appointments of theirs overlap, whichever advisor or lead."""
    Customer.objects.select_for_update().get(pk=lead.customer_id)  # their bookings, one at a time
    clash = (
        Appointment.objects.filter(
            lead__customer_id=lead.customer_id,
            status__in=BLOCKING_STATUSES,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        )
        .exclude(pk=exclude)
        .select_related("advisor__user", "lead__customer")
        .first()
    )
    if clash is not None:
        raise BookingError(
            gettext(
                "%(customer)s already has an appointment with %(advisor)s at %(time)s that overlaps this time."
            )
            % {
                "customer": clash.lead.customer,
                "advisor": clash.advisor,
                "time": f"{timezone.localtime(clash.starts_at):%Y-%m-%d %H:%M}",
            }
        )


def _check_bookable(
    *, advisor: StaffMember, starts_at: datetime, ends_at: datetime, now: datetime, exclude: int | None = None
) -> None:
    if timezone.is_naive(starts_at):
        raise BookingError(gettext("The time needs a time zone."))
    if starts_at < now:
        raise BookingError(gettext("That time has passed."))
    local_start = starts_at.astimezone(store_zone())
    if closed_all_day(local_start.date()):
        raise BookingError(
            gettext("The store is closed on %(day)s: choose another day.")
            % {"day": formats.date_format(local_start.date(), gettext("l, F j"))}
        )
    hours = advisor.working_hours.filter(weekday=local_start.weekday()).first()
    if hours is None or not hours.start <= local_start.time() < hours.end:
        raise BookingError(gettext("%(advisor)s does not work at that time.") % {"advisor": advisor})
    until = advisor_free_until(advisor=advisor, starts_at=starts_at, exclude=exclude)
    if until is None:
        raise BookingError(
            gettext("%(advisor)s already has an appointment at that time.") % {"advisor": advisor}
        )
    if ends_at > until:
        raise BookingError(
            gettext(
                "%(advisor)s is free at %(time)s only until %(until)s: choose a shorter length or another time."
            )
            % {
                "advisor": advisor,
                "time": f"{starts_at.astimezone(store_zone()):%H:%M}",
                "until": f"{until.astimezone(store_zone()):%H:%M}",
            },
            field="duration",
        )


def _save_guarded(appointment: Appointment) -> None:
    # On PostgreSQL an exclusion constraint also refuses overlaps: the last word if a check was bypassed.
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        raise BookingError(
            gettext("%(advisor)s already has an appointment at that time.") % {"advisor": appointment.advisor}
        ) from error


def _notify(appointment: Appointment, kind: str) -> None:
    from ..tasks import appointment_notify_task

    # The broker down (Redis restarting) keeps the booking: appointment_notices_missing sends it later.
    queue_on_commit(
        appointment_notify_task, appointment_id=appointment.pk, kind=kind, sequence=appointment.sequence
    )


def _move_lead(*, lead: Lead, path: list[str], actor, reason: str) -> None:
    for to_status in path:
        lead.refresh_from_db(fields=["status"])
        if lead.status == to_status:
            continue
        try:
            lead_transition(lead=lead, to_status=to_status, actor=actor, reason=reason)
        except TransitionError as error:
            raise BookingError(str(error)) from error


def _move_lead_if_allowed(*, lead: Lead, path: list[str], actor, reason: str) -> None:
    """Like _move_lead, but a step the lead machine refuses leaves the lead where it was (no step
    of the path taken, no event) instead of refusing what the caller records."""
    try:
        with transaction.atomic():
            _move_lead(lead=lead, path=path, actor=actor, reason=reason)
    except BookingError as error:
        lead.refresh_from_db(fields=["status"])
        logger.info("Lead %s stays %s (%s): %s", lead.pk, lead.status, reason, error)


def _other_booked(appointment: Appointment) -> bool:
    return appointment.lead.appointments.filter(status=Status.BOOKED).exclude(pk=appointment.pk).exists()


def _outcome_lead_path(*, appointment: Appointment, outcome: str) -> list[str]:
    """Where the appointment's outcome takes its lead; [] where the lead stays as it is.

    A no-show takes the lead back to contacted only if nothing else is booked for it and it had
    not got further (a visit or a sale that happened still counts). A visit or sale takes a lead
    not (or no longer) at appointment_set through it first, and reopens a lost one; a sold lead
    stays sold.
    """
    lead = appointment.lead
    if outcome == Status.CANCELLED:
        # Back to contacted, unless another appointment still holds it at appointment_set.
        if lead.status == LeadStatus.APPOINTMENT_SET and not _other_booked(appointment):
            return [LeadStatus.CONTACTED]
        return []
    if outcome == Status.NO_SHOW:
        if lead.status in (*BEFORE_APPOINTMENT, LeadStatus.APPOINTMENT_SET) and not _other_booked(
            appointment
        ):
            return OUTCOME_LEAD_PATH[outcome]
        return []
    if lead.status == LeadStatus.LOST:
        return [LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_SET, *OUTCOME_LEAD_PATH[outcome]]
    if lead.status in BEFORE_APPOINTMENT:
        return [LeadStatus.APPOINTMENT_SET, *OUTCOME_LEAD_PATH[outcome]]
    if lead.status in OPEN_LEAD_STATUSES:
        return OUTCOME_LEAD_PATH[outcome]
    return []


@transaction.atomic
def appointment_book(
    *,
    lead: Lead,
    advisor: StaffMember,
    starts_at: datetime,
    purpose: str,
    now: datetime,
    actor=None,
    duration: timedelta = SLOT,
    lead_vehicle: LeadVehicle | None = None,
    vehicle_text: str = "",
    notes: str = "",
) -> Appointment:
    # The lead first, then the advisor and the customer: the order every service changing a lead
    # locks in (a merge takes both leads), so a booking and a merge of the lead at the same moment
    # wait for each other instead of deadlocking. What is checked next is read under the lock: a
    # booking that waited for a merge is refused, one a merge waited for goes with the lead.
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if refusal := lead_merged_refusal(lead):
        raise BookingError(refusal)
    if lead.status == LeadStatus.LOST:
        raise BookingError(
            gettext("This lead is lost: set it back to contacted before booking an appointment.")
        )
    advisor = _lock_advisor(advisor)
    ends_at = starts_at + duration
    _check_bookable(advisor=advisor, starts_at=starts_at, ends_at=ends_at, now=now)
    _check_customer_free(lead=lead, starts_at=starts_at, ends_at=ends_at)
    if lead_vehicle is not None and lead_vehicle.lead_id != lead.pk:
        raise BookingError(gettext("That vehicle belongs to another lead."))
    # An advisor sees only the leads they own: an unassigned lead becomes theirs, so they can open
    # it (its owner was read under the lead's lock: two bookings at once assign it once).
    if lead.owner_id is None:
        lead = lead_assign(lead=lead, owner=advisor.user, actor=actor)
    if lead.first_response_at is None:
        # Whoever booked it reached the customer: the answer clock stops now at the latest.
        lead_record_answer(lead=lead, answered_at=now, actor=actor, channel=BOOKING_ANSWER)
    # A sold customer's later visit (a delivery, say) leaves the sale as it is.
    if lead.status != LeadStatus.SOLD:
        _move_lead(lead=lead, path=[LeadStatus.APPOINTMENT_SET], actor=actor, reason="appointment booked")
    appointment = Appointment(
        lead=lead,
        advisor=advisor,
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=purpose,
        lead_vehicle=lead_vehicle,
        vehicle_text=vehicle_text.strip(),
        notes=notes.strip(),
        booked_by=actor,
    )
    _save_guarded(appointment)
    _event(appointment, "booked", actor, starts_at=starts_at.isoformat(), advisor=advisor.pk)
    lead_event_add(
        lead=lead,
        type="appointment_booked",
        actor=actor,
        appointment=appointment.pk,
        advisor=advisor.name,
        starts_at=starts_at.isoformat(),
        purpose=purpose,
    )
    followup_stop_for_lead(lead=lead, reason=StopReason.APPOINTMENT_BOOKED, now=now, actor=actor)
    _notify(appointment, AppointmentNotice.Kind.INVITATION)
    return appointment


def _lock(appointment: Appointment) -> Appointment:
    """The appointment's lead, then the appointment, locked until the change is committed: the lead
    first, as every service changing a lead locks it (a booking, a merge, a lead closed with its
    appointments to come cancelled), so that a change of the appointment and one of its lead at the
    same moment wait for each other instead of deadlocking. The appointment is read under both
    locks; one that a merge moved to the kept lead meanwhile is let go and taken again with that lead."""
    while True:
        lead_id = Appointment.objects.values_list("lead_id", flat=True).get(pk=appointment.pk)
        attempt = transaction.savepoint_create()
        Lead.objects.select_for_update().get(pk=lead_id)
        locked = Appointment.objects.select_for_update().select_related("lead").get(pk=appointment.pk)
        if locked.lead_id == lead_id:
            transaction.savepoint_commit(attempt)
            return locked
        transaction.savepoint_rollback(attempt)  # lets go of the lead it no longer belongs to


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: datetime,
    now: datetime,
    actor=None,
    duration: timedelta | None = None,
    advisor: StaffMember | None = None,
) -> Appointment:
    """A new time for the same appointment: same invitation UID, next SEQUENCE. `advisor`: who takes
    it over from an advisor no longer active."""
    appointment = _lock(appointment)
    if appointment.status != Status.BOOKED:
        raise BookingError(
            gettext("A %(status)s appointment cannot be moved.")
            % {"status": appointment.get_status_display().lower()}
        )
    previous_advisor = appointment.advisor
    # Only a departed advisor's appointment changes hands: one still here would keep it in their
    # calendar, with nobody telling them.
    if advisor and advisor != previous_advisor and advisors().filter(pk=previous_advisor.pk).exists():
        raise BookingError(
            gettext(
                "%(advisor)s is still active: the appointment stays theirs. To change advisor,"
                " cancel it and book another."
            )
            % {"advisor": previous_advisor}
        )
    advisor = _lock_advisor(advisor or previous_advisor)
    ends_at = starts_at + (duration or (appointment.ends_at - appointment.starts_at))
    _check_bookable(advisor=advisor, starts_at=starts_at, ends_at=ends_at, now=now, exclude=appointment.pk)
    _check_customer_free(lead=appointment.lead, starts_at=starts_at, ends_at=ends_at, exclude=appointment.pk)
    previous = appointment.starts_at
    appointment.advisor, appointment.starts_at, appointment.ends_at = advisor, starts_at, ends_at
    appointment.sequence += 1
    _save_guarded(appointment)
    _event(
        appointment,
        "rescheduled",
        actor,
        from_time=previous.isoformat(),
        to_time=starts_at.isoformat(),
        from_advisor=previous_advisor.pk,
        advisor=advisor.pk,
    )
    lead_event_add(
        lead=appointment.lead,
        type="appointment_rescheduled",
        actor=actor,
        appointment=appointment.pk,
        starts_at=starts_at.isoformat(),
        advisor=advisor.name,
    )
    # The lead the departed advisor worked (or nobody did) goes with the appointment, so that the
    # advisor taking it over can open it; one another advisor owns stays theirs.
    if advisor != previous_advisor and appointment.lead.owner_id in (None, previous_advisor.user_id):
        lead_assign(lead=appointment.lead, owner=advisor.user, actor=actor)
    _notify(appointment, AppointmentNotice.Kind.INVITATION)
    return appointment


@transaction.atomic
def appointment_transition(
    *, appointment: Appointment, to_status: str, now: datetime, actor=None
) -> Appointment:
    """Record what came of an appointment (shown, no-show, sold) or cancel it; the lead follows.
    An outcome someone has just recorded (the advisor and the desk both at once) is left as it is."""
    appointment = _lock(appointment)
    if to_status == appointment.status:
        return appointment
    if to_status not in APPOINTMENT_TRANSITIONS[appointment.status]:
        raise BookingError(
            gettext("A %(status)s appointment cannot become %(to_status)s.")
            % {
                "status": appointment.get_status_display().lower(),
                "to_status": Status(to_status).label.lower()
                if to_status in Status.values
                else repr(to_status),
            }
        )
    if to_status != Status.CANCELLED and now < appointment.starts_at:
        raise BookingError(
            gettext(
                "The appointment has not started yet (%(time)s): what came of it is recorded once it has."
            )
            % {"time": f"{timezone.localtime(appointment.starts_at):%Y-%m-%d %H:%M}"}
        )
    # The appointment gets its outcome whatever the lead can do: a lead step the machine refuses
    # leaves the lead where it is.
    _move_lead_if_allowed(
        lead=appointment.lead,
        path=_outcome_lead_path(appointment=appointment, outcome=to_status),
        actor=actor,
        reason=f"appointment {to_status}",
    )
    if to_status == Status.CANCELLED:
        appointment.sequence += 1
    from_status = appointment.status
    appointment.status = to_status
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    _event(appointment, to_status, actor, from_status=from_status)
    lead_event_add(
        lead=appointment.lead, type=f"appointment_{to_status}", actor=actor, appointment=appointment.pk
    )
    if to_status == Status.SOLD:
        followup_stop_for_lead(lead=appointment.lead, reason=StopReason.SOLD, now=now, actor=actor)
    if to_status == Status.CANCELLED:
        _appointment_set_withdrawn(appointment)
        _notify(appointment, AppointmentNotice.Kind.CANCELLATION)
    return appointment


def _appointment_set_withdrawn(cancelled: Appointment) -> None:
    """A lead back to contacted, or lost, whose every appointment was cancelled before it came has
    no appointment set: the funnel stops counting it (a no-show still counts, against the show
    rate; a visit keeps it, as shown implies set)."""
    lead = cancelled.lead
    lead.refresh_from_db(fields=["status", "appointment_set_at", "shown_at"])
    kept = lead.appointments.exclude(status=Status.CANCELLED).exists()
    withdrawn = lead.status in (LeadStatus.CONTACTED, LeadStatus.LOST) and lead.shown_at is None
    if withdrawn and lead.appointment_set_at is not None and not kept:
        lead.appointment_set_at = None
        lead.save(update_fields=["appointment_set_at", "updated_at"])


@transaction.atomic
def appointments_cancel_upcoming(*, lead: Lead, now: datetime, actor=None) -> int:
    """Cancel the lead's booked appointments that have not started (it was lost), each as a person
    would; one already started stays, for its outcome to be recorded. Returns how many."""
    upcoming = list(lead.appointments.filter(status=Status.BOOKED, starts_at__gt=now))
    for appointment in upcoming:
        appointment_transition(appointment=appointment, to_status=Status.CANCELLED, now=now, actor=actor)
    return len(upcoming)


@transaction.atomic
def working_hours_ensure_defaults(*, advisor: StaffMember) -> int:
    """Give an advisor the store's default week if they have no hours yet; returns rows created."""
    if advisor.working_hours.exists():
        return 0
    rows = [
        WorkingHours(advisor=advisor, weekday=weekday, start=window[0], end=window[1])
        for weekday, window in enumerate(DEFAULT_WORKING_HOURS)
        if window
    ]
    WorkingHours.objects.bulk_create(rows)
    return len(rows)


# --- calendar invitations and emails --------------------------------------------------------------


def appointment_ics(*, appointment: Appointment, cancelled: bool = False, for_advisor: bool = False) -> bytes:
    """An iCalendar invitation (METHOD REQUEST) or cancellation (CANCEL), in the store's time zone."""
    zone = store_zone()
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.STORE['name']}//Dealership CRM//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"appointment-{appointment.uid}@{store_address().partition('@')[2]}")
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", appointment.ends_at.astimezone(zone))
    customer = appointment.lead.customer
    # The advisor's calendar says who is coming; the customer's, where.
    event.add(
        "summary",
        f"{appointment.get_purpose_display()} — {customer if for_advisor else settings.STORE['name']}",
    )
    event.add("location", settings.STORE["address"])
    details = [appointment.vehicle]
    if for_advisor:
        details += [customer.phone, customer.email, appointment.notes]
    if description := "\n".join(detail for detail in details if detail):
        event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # A calendar's Accept or Decline goes to the organizer: the lead's reply address brings it back
    # to the lead (a decline is the customer's answer, for the desk to see).
    organizer = vCalAddress(f"mailto:{reply_address(appointment.lead_id)}")
    organizer.params["cn"] = vText(settings.STORE["name"])
    event.add("organizer", organizer)
    for name, email in (
        (str(appointment.lead.customer), appointment.lead.customer.email),
        (appointment.advisor.name, appointment.advisor.email),
    ):
        if email:
            attendee = vCalAddress(f"mailto:{email}")
            attendee.params["cn"] = vText(name)
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _render_mail(template: str, context: dict) -> tuple[str, str]:
    """Mail templates hold the subject on their first line and the body below."""
    subject, _, body = render_to_string(template, context).strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def _mail_for(appointment: Appointment, kind: str, recipient: str) -> EmailMessage | None:
    lead, zone = appointment.lead, store_zone()
    if recipient == AppointmentNotice.Recipient.CUSTOMER:
        language = lead.language if lead.language in Language.values else Language.ENGLISH
        template, to = f"leads/mail/appointment_{kind}_{language}.txt", lead.customer.email
    else:
        language = Language.ENGLISH
        template, to = f"leads/mail/appointment_advisor_{kind}.txt", appointment.advisor.email
    if not to:
        return None
    with translation.override(language):
        subject, body = _render_mail(
            template,
            {
                "appointment": appointment,
                "purpose": PURPOSE_WORDS[language][appointment.purpose],
                "customer": lead.customer,
                "starts_at": appointment.starts_at.astimezone(zone),
                "store": settings.STORE,
            },
        )
        ics = appointment_ics(
            appointment=appointment,
            cancelled=kind == AppointmentNotice.Kind.CANCELLATION,
            for_advisor=recipient == AppointmentNotice.Recipient.ADVISOR,
        )
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[to],
        reply_to=[reply_address(lead.pk)] if recipient == AppointmentNotice.Recipient.CUSTOMER else [],
        headers={"Message-ID": new_message_id(lead.pk)},
    )
    cancelled = kind == AppointmentNotice.Kind.CANCELLATION
    method = "CANCEL" if cancelled else "REQUEST"
    message.attach("invite.ics", ics.decode(), f"text/calendar; method={method}")
    return message


def _claim_notice(
    appointment: Appointment, kind: str, sequence: int, recipient: str
) -> AppointmentNotice | None:
    """The notice row to send, or None if it went (or may have gone) already."""
    with transaction.atomic():
        notice, created = AppointmentNotice.objects.select_for_update().get_or_create(
            appointment=appointment, kind=kind, sequence=sequence, recipient=recipient
        )
        if created:
            return notice
        if notice.status == AppointmentNotice.Status.SENDING:
            notice.status = AppointmentNotice.Status.NEEDS_REVIEW
            notice.save(update_fields=["status"])
        return None


def appointment_notices_send(*, appointment_id: int, kind: str, sequence: int) -> int:
    """Send one version's email to the customer and the advisor (reminders: customer only), once."""
    appointment = Appointment.objects.select_related("lead__customer", "advisor__user", "lead_vehicle").get(
        pk=appointment_id
    )
    if appointment.sequence != sequence:
        return 0  # a newer version has its own notices
    recipients = [AppointmentNotice.Recipient.CUSTOMER]
    if kind != AppointmentNotice.Kind.REMINDER:
        recipients.append(AppointmentNotice.Recipient.ADVISOR)
    sent = 0
    for recipient in recipients:
        notice = _claim_notice(appointment, kind, sequence, recipient)
        if notice is None:
            continue
        message = _mail_for(appointment, kind, recipient)
        if message is None:
            notice.status = AppointmentNotice.Status.SKIPPED
            notice.save(update_fields=["status"])
            continue
        try:
            mail_send(message)
        except MailServerUnavailable:
            notice.delete()  # nothing reached the server: free the claim so the retry sends it
            raise
        except Exception as error:  # whatever else happened, a person decides about a resend
            logger.warning("Appointment notice %s failed: %s", notice.pk, error)
            notice.status = AppointmentNotice.Status.NEEDS_REVIEW
            notice.save(update_fields=["status"])
            continue
        with transaction.atomic():
            notice.status, notice.sent_at = AppointmentNotice.Status.SENT, timezone.now()
            notice.save(update_fields=["status", "sent_at"])
            if recipient == AppointmentNotice.Recipient.CUSTOMER:
                Message.objects.create(
                    lead=appointment.lead,
                    customer=appointment.lead.customer,
                    channel=Channel.EMAIL,
                    direction=Direction.OUTBOUND,
                    from_address=settings.DEFAULT_FROM_EMAIL,
                    to_addresses=message.to,
                    subject=message.subject,
                    body_text=message.body,
                    message_id=message.extra_headers["Message-ID"],
                    send_status=Message.SendStatus.SENT,
                    occurred_at=notice.sent_at,
                )
        sent += 1
    return sent


# An invitation or a cancellation whose task was lost (the broker was down when the appointment was
# booked, moved or cancelled) or ran out of retries (the mail server was down longer than they last,
# about 45 minutes) is sent by the reminders' sweep: once NOTICE_GRACE has passed since the change,
# when no task may still be at it, and within NOTICE_GIVE_UP_AFTER, as other mail (replies).
NOTICE_GRACE = timedelta(hours=1)
NOTICE_GIVE_UP_AFTER = timedelta(days=2)
_NOTICE_OF_STATUS = {
    Status.BOOKED: AppointmentNotice.Kind.INVITATION,
    Status.CANCELLED: AppointmentNotice.Kind.CANCELLATION,
}


def appointment_notices_missing(*, now: datetime) -> list[tuple[int, str, int]]:
    """(appointment id, kind, sequence) of the invitations and cancellations still to send: of
    appointments to come, changed between NOTICE_GIVE_UP_AFTER and NOTICE_GRACE ago, whose current
    version has no notice recorded for the customer or for the advisor. A notice recorded in any
    state (sent, skipped, or in doubt) is never sent again; the task claims each one once."""
    missing = []
    for status, kind in _NOTICE_OF_STATUS.items():
        notices = AppointmentNotice.objects.filter(
            appointment=OuterRef("pk"), kind=kind, sequence=OuterRef("sequence")
        )
        rows = (
            Appointment.objects.filter(
                status=status,
                starts_at__gt=now,
                updated_at__lt=now - NOTICE_GRACE,
                updated_at__gte=now - NOTICE_GIVE_UP_AFTER,
            )
            .exclude(
                Exists(notices.filter(recipient=AppointmentNotice.Recipient.CUSTOMER))
                & Exists(notices.filter(recipient=AppointmentNotice.Recipient.ADVISOR))
            )
            .order_by("pk")
            .values_list("pk", "sequence")
        )
        missing += [(pk, str(kind), sequence) for pk, sequence in rows[:500]]
    return missing


def appointment_reminders_due(*, now: datetime) -> list[tuple[int, int]]:
    """(appointment id, sequence) of tomorrow's appointments whose reminder has not gone out.

    From REMINDER_FROM the day before; an appointment booked or moved that day needs none (its
    confirmation, or its updated invitation, is fresh).
    """
    zone = store_zone()
    local_now = now.astimezone(zone)
    from_moment = datetime.combine(local_now.date(), REMINDER_FROM, tzinfo=zone)
    if local_now < from_moment:
        return []
    day_before, _ = local_day_bounds(local_now.date())
    start, end = local_day_bounds(local_now.date() + timedelta(days=1))
    candidates = (
        Appointment.objects.filter(
            status=Status.BOOKED, starts_at__gte=start, starts_at__lt=end, updated_at__lt=day_before
        )
        .exclude(lead__status=LeadStatus.LOST)  # bought elsewhere, or merged: no reminder to come
        .values_list("pk", "sequence")
    )
    reminded = set(
        AppointmentNotice.objects.filter(
            kind=AppointmentNotice.Kind.REMINDER,
            appointment__starts_at__gte=start,
            appointment__starts_at__lt=end,
        ).values_list("appointment_id", "sequence")
    )
    return [candidate for candidate in candidates if candidate not in reminded]
