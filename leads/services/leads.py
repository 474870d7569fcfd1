"""Writes for customers and leads. Every status change goes through lead_transition."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_noop, pgettext

from dealership.models import Department, oversees_store

from ..business_hours import business_minutes_between
from ..language import store_language
from ..models import (
    Appointment,
    Channel,
    Customer,
    Direction,
    HistoryKind,
    InboundMail,
    Lead,
    LeadEvent,
    LeadStatus,
    LeadVehicle,
    Message,
    Task,
)
from ..models.leads import FUNNEL_MILESTONES, OPEN_LEAD_STATUSES, vehicle_wanted_line
from ..models.loyalty import NEXT_STEP, task_title_stored
from ..normalize import normalize_email, normalize_name, normalize_phone, phone_extension_of
from ..selectors.consent import consent_check, consent_withdrawn
from ..selectors.customers import customer_match
from ..selectors.leads import (
    NEXT_STEPS_OPEN,
    lead_owners_possible,
    lead_resent,
    leads_counts_changed,
    person_name,
)
from .audit import audit_record, changes_between
from .consent import consent_record_inquiry
from .customer_import import IMPORT_SOURCE
from .customers import (
    customer_email_add,
    customer_fill_blanks,
    customer_phone_add,
    customer_phone_extension_keep,
    customer_snapshot,
    customer_update,
    history_item_add,
    history_item_remove,
)
from .loyalty import task_reassign

# The lead status machine: which status may follow which.
LEAD_TRANSITIONS: dict[str, set[str]] = {
    LeadStatus.NEW: {
        LeadStatus.CONTACTED,
        LeadStatus.APPOINTMENT_SET,
        LeadStatus.LOST,
        LeadStatus.NOT_A_LEAD,
    },
    LeadStatus.CONTACTED: {
        LeadStatus.APPOINTMENT_SET,
        LeadStatus.SOLD,
        LeadStatus.LOST,
        LeadStatus.NOT_A_LEAD,
    },
    LeadStatus.APPOINTMENT_SET: {LeadStatus.SHOWN, LeadStatus.CONTACTED, LeadStatus.LOST},
    LeadStatus.SHOWN: {LeadStatus.SOLD, LeadStatus.APPOINTMENT_SET, LeadStatus.LOST},
    LeadStatus.SOLD: {LeadStatus.LOST},  # the deal fell through (see OVERSEER_MOVES)
    LeadStatus.LOST: {LeadStatus.CONTACTED},
    # It was a lead after all: back to where it was, new, or contacted once someone had reached the
    # customer (see _by_hand_refusal). A lead that got as far as an appointment was real: never "not a lead".
    LeadStatus.NOT_A_LEAD: {LeadStatus.NEW, LeadStatus.CONTACTED},
}


def lead_vehicle_wanted_refresh(*, lead: Lead) -> None:
    """Write the lead's inbox line from its vehicles as they are now (after a merge or an edit)."""
    lead.vehicle_wanted = vehicle_wanted_line(lead.vehicles.all())
    lead.save(update_fields=["vehicle_wanted", "updated_at"])


class TransitionError(ValueError):
    pass


def lead_event_add(*, lead: Lead, type: str, actor=None, **params) -> LeadEvent:
    return LeadEvent.objects.create(lead=lead, type=type, actor=actor, params=params)


@transaction.atomic
def customer_contacts_learned(
    *, customer: Customer, email: str = "", phone: str = "", first_name: str = "", last_name: str = ""
) -> Customer:
    """What a known customer just told the store of themselves (already normalised): blanks filled,
    a new address or number added to their record, never lost."""
    values = {"email": email, "phone": phone, "first_name": first_name, "last_name": last_name}
    if changed := customer_fill_blanks(customer=customer, values=values):
        filled = {field: ["", getattr(customer, field)] for field in changed}
        audit_record(customer=customer, action="filled_from_inquiry", changes=filled)
    try:
        if email and email != customer.email and customer.email_undeliverable:
            # The address on file bounced and the customer writes from another: that one works,
            # and answers go to it. The bounced one stays known as theirs.
            bounced = customer.email
            customer.extra_emails.filter(email=email).delete()
            customer = customer_update(
                customer=customer, actor=None, action="email_replaced_bounced", email=email
            )
            customer_email_add(customer=customer, email=bounced)
        elif email and email != customer.email:
            customer_email_add(customer=customer, email=email)
        if phone and phone != customer.phone:
            customer_phone_add(customer=customer, phone=phone)
    except ValidationError:
        pass  # a malformed address from a lead provider must not stop the lead itself
    return customer


@transaction.atomic
def customer_find_or_create(
    *,
    email: str = "",
    phone: str = "",
    phone_extension: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
) -> tuple[Customer, bool]:
    """The customer these details belong to (any of their emails, else a phone that is really
    theirs: see customer_match); created when nobody matches. A new address or number of a known
    customer is added to their record, never lost; so is the number's extension (written with it, or
    read apart from it: `phone_extension`), which the stored number has no room for: it goes to the
    customer's notes."""
    phone_extension = phone_extension or phone_extension_of(phone)
    email, phone = normalize_email(email), normalize_phone(phone)
    first_name, last_name = normalize_name(first_name), normalize_name(last_name)
    customer = customer_match(email=email, phone=phone, first_name=first_name, last_name=last_name)
    created = customer is None
    if customer is not None:
        customer = customer_contacts_learned(
            customer=customer, email=email, phone=phone, first_name=first_name, last_name=last_name
        )
    else:
        customer = Customer.objects.create(
            email=email,
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            language=language or store_language(),
        )
        audit_record(
            customer=customer, action="created", changes=changes_between({}, customer_snapshot(customer))
        )
    customer = customer_phone_extension_keep(customer=customer, phone=phone, extension=phone_extension)
    return customer, created


@transaction.atomic
def lead_create(
    *,
    customer: Customer,
    source: str = "",
    inquiry_type: str = "general",
    language: str | None = None,
    comments: str = "",
    received_at=None,
    vehicles: list[dict] | None = None,
    actor=None,
    **extra,
) -> Lead:
    vehicles = [LeadVehicle(**vehicle) for vehicle in vehicles or []]
    lead = Lead.objects.create(
        customer=customer,
        source=source,
        inquiry_type=inquiry_type,
        language=language or customer.language,
        comments=comments,
        received_at=received_at or timezone.now(),
        vehicle_wanted=vehicle_wanted_line(vehicles),
        **extra,
    )
    for vehicle in vehicles:
        vehicle.lead = lead
    LeadVehicle.objects.bulk_create(vehicles)
    lead_event_add(lead=lead, type="created", actor=actor, source=source)
    # An inquiry implies consent to write back for six months (CASL); the ledger records it once.
    consent_record_inquiry(customer=customer, at=lead.received_at, source=source or "inquiry")
    transaction.on_commit(leads_counts_changed)
    return lead


# The same form sent again within this (a double click, Send pressed again) is one inquiry.
RESENT_WITHIN = timedelta(minutes=10)


@transaction.atomic
def form_lead_submit(
    *,
    customer: Customer,
    source: str,
    inquiry_type: str,
    language: str | None,
    comments: str,
    vehicles: list[dict],
    **extra,
) -> tuple[Lead, bool]:
    """A lead from a form of the store's website, and whether it is new: the same form sent again
    while its lead is open joins that lead, as the mail pipeline joins a customer writing again
    (one lead, one response clock, one advisor calling)."""
    # Two sends at once wait for each other here, so the second finds the lead of the first.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    now = timezone.now()
    asked = {"source": source, "inquiry_type": inquiry_type, "comments": comments, "vehicles": vehicles}
    sent_before = lead_resent(customer=customer, since=now - RESENT_WITHIN, **asked)
    if sent_before is not None:
        lead_event_add(lead=sent_before, type="customer_wrote", source=source)
        return lead_customer_wrote(lead=sent_before, at=now), False
    return lead_create(customer=customer, language=language, **asked, **extra), True


# A sale straight from contacted (a walk-in, a deal by phone) had no appointment behind it: the
# funnel's "appointment set" and "shown" count appointments, so that the show rate reads the shown
# among the appointments set.
NOT_PASSED: dict[tuple[str, str], set[str]] = {
    (LeadStatus.CONTACTED, LeadStatus.SOLD): {"appointment_set_at", "shown_at"},
}


def _milestones_reached(*, lead: Lead, from_status: str, status: str) -> list[str]:
    """Stamp the milestones up to `status` that the lead had not reached yet, but for those a move
    from `from_status` does not pass through; returns the fields set."""
    stages = [stage for stage, _ in FUNNEL_MILESTONES]
    if status not in stages:
        return []
    now = timezone.now()
    skipped = NOT_PASSED.get((from_status, status), set())
    stamped = []
    for _, field in FUNNEL_MILESTONES[: stages.index(status) + 1]:
        if getattr(lead, field) is None and field not in skipped:
            setattr(lead, field, now)
            stamped.append(field)
    return stamped


def lead_kept(lead: Lead) -> Lead:
    """The lead that carries on this one: itself, or the lead it was merged into (and so on)."""
    while lead.merged_into_id:
        lead = Lead.objects.get(pk=lead.merged_into_id)
    return lead


def lead_merged_refusal(lead: Lead) -> str:
    """Why nothing more is done on this lead, or "": a merged lead is worked on the one it went into."""
    return (
        gettext("This lead was merged into lead %(number)s: work on that one.")
        % {"number": lead.merged_into_id}
        if lead.merged_into_id
        else ""
    )


# Moves nobody makes by hand, each with what to do instead: a new lead moves on when an answer is
# recorded (mail sent, call, text or visit logged, appointment booked), so that its response time
# is a real answer's and it never sits answered-looking in the unanswered list.
ANSWER_MOVES = {
    (LeadStatus.NEW, LeadStatus.CONTACTED): gettext_noop(
        "Log the call, text or visit that reached the customer: the lead becomes contacted with it."
    ),
    (LeadStatus.NEW, LeadStatus.APPOINTMENT_SET): gettext_noop(
        "Book the appointment from this page: the lead becomes appointment set with it, answered."
    ),
}


# Moves only someone who oversees the store makes, never an automatic one, each with what anyone
# else is told: a sale undone (the deal fell through) comes off the figures, the customer's history
# and the consent it gave.
OVERSEER_MOVES = {
    (LeadStatus.SOLD, LeadStatus.LOST): gettext_noop(
        "Only a supervisor or a manager can record that a deal fell through: ask one of them."
    ),
    # Every move into or out of "not a lead": an inquiry closed so leaves every figure its owner is
    # judged on.
    **{
        (from_status, LeadStatus.NOT_A_LEAD): gettext_noop(
            "Only a supervisor or a manager can close an inquiry as not a lead: ask one of them."
        )
        for from_status, to_statuses in LEAD_TRANSITIONS.items()
        if LeadStatus.NOT_A_LEAD in to_statuses
    },
    **{
        (LeadStatus.NOT_A_LEAD, to_status): gettext_noop(
            "Only a supervisor or a manager can reopen an inquiry closed as not a lead: ask one of them."
        )
        for to_status in LEAD_TRANSITIONS[LeadStatus.NOT_A_LEAD]
    },
}


def _oversees(actor) -> bool:
    return actor is not None and oversees_store(actor)


def lead_next_statuses(lead: Lead, *, by_hand: bool = False, actor=None) -> set[str]:
    """The statuses the lead may move to now (`by_hand`: chosen by a person on its page; `actor`:
    who moves it, see OVERSEER_MOVES); none once it has been merged into another."""
    statuses = set() if lead.merged_into_id else LEAD_TRANSITIONS.get(lead.status, set())
    return {
        status
        for status in statuses
        if not (by_hand and (lead.status, status) in ANSWER_MOVES)
        and not ((lead.status, status) in OVERSEER_MOVES and not _oversees(actor))
    }


# A lead nobody ever reached becomes contacted only once someone has: a lost one is reopened after
# the answer is logged (offered all the same, so that the page says why).
UNANSWERED_REOPEN = gettext_noop(
    "Nobody has reached this customer yet: log the call, text or visit that does, then reopen the lead."
)
# A lead someone has answered is never new again: it would stay new, its answer recorded already.
ANSWERED_REOPEN = gettext_noop("Someone has reached this customer already: reopen the lead as contacted.")


def _by_hand_refusal(lead: Lead, to_status: str) -> str:
    """Why a person may not make this move on the lead's page, or "" when they may."""
    if instead := ANSWER_MOVES.get((lead.status, to_status)):
        return instead
    if to_status == LeadStatus.CONTACTED and lead.first_response_at is None:
        return UNANSWERED_REOPEN
    if lead.status == LeadStatus.NOT_A_LEAD and to_status == LeadStatus.NEW and lead.first_response_at:
        return ANSWERED_REOPEN
    return ""


# The statuses that close a lead unsold, each with what a person is asked when they give no reason:
# the reason is kept on the lead (lost_reason) and with the change on its timeline.
REASON_ASKED = {
    LeadStatus.LOST: gettext_noop("Say why the lead was lost."),
    LeadStatus.NOT_A_LEAD: gettext_noop("Say why this inquiry is not a lead."),
}


@transaction.atomic
def lead_transition(
    *,
    lead: Lead,
    to_status: str,
    actor=None,
    reason: str = "",
    shown_status: str | None = None,
    by_hand: bool = False,
) -> Lead:
    """Move a lead to another status if the machine allows it, recording who and why.

    `shown_status`: the status the person saw when they chose; someone else changed it since, and
    the change is refused, so that a page left open never reopens a lead another person closed.
    The booked appointments still to come of a lead closed unsold (lost, or not a lead) are
    cancelled (customer and advisor told); the lead returned says how many in `appointments_cancelled`."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if refusal := lead_merged_refusal(lead):
        raise TransitionError(refusal)
    if shown_status and shown_status != lead.status:
        raise TransitionError(
            gettext("Someone changed this lead meanwhile: it is %(status)s now. Check it, then choose again.")
            % {"status": LeadStatus(lead.status).label.lower()}
        )
    if by_hand and (instead := _by_hand_refusal(lead, to_status)):
        raise TransitionError(gettext(instead))
    if (refusal := OVERSEER_MOVES.get((lead.status, to_status))) and not _oversees(actor):
        raise TransitionError(gettext(refusal))
    if to_status not in lead_next_statuses(lead, by_hand=by_hand, actor=actor):
        raise TransitionError(
            gettext("A lead that is %(status)s cannot become %(to_status)s.")
            % {
                "status": LeadStatus(lead.status).label.lower(),
                "to_status": LeadStatus(to_status).label.lower()
                if to_status in LeadStatus.values
                else repr(to_status),
            }
        )
    if (asked := REASON_ASKED.get(to_status)) and not reason.strip():
        raise TransitionError(gettext(asked))
    from_status, sold_at = lead.status, lead.sold_at
    sale_undone = from_status == LeadStatus.SOLD  # the deal fell through
    lead.status = to_status
    lead.lost_reason = reason.strip() if to_status in REASON_ASKED else ""
    lead.lost_at = timezone.now() if to_status == LeadStatus.LOST else None
    milestones = _milestones_reached(lead=lead, from_status=from_status, status=to_status)
    if sale_undone:
        lead.sold_at = None  # the sale no longer counts: the dashboard and objectives count sold_at
    # The figures credit a sale to its seller (sold_by) while the lead is sold; a sale undone is nobody's.
    lead.sold_by_id = _seller(lead=lead, actor=actor) if to_status == LeadStatus.SOLD else None
    cleared = ["sold_at"] if sale_undone else []
    lead.save(
        update_fields=["status", "lost_reason", "lost_at", *milestones, *cleared, "sold_by", "updated_at"]
    )
    undone = {"history_taken_off": _sale_taken_off(lead=lead, actor=actor)} if sale_undone else {}
    lead_event_add(
        lead=lead,
        type="status_changed",
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        reason=lead.lost_reason,  # the form's reason is for a lead closed unsold only
        # When the sale undone was made, kept with the change: the lead's sold_at is cleared.
        **({"sold_at": sold_at.isoformat()} if sale_undone and sold_at else {}),
        **undone,
        # Whose sale it is, kept with the sale: the lead may go to someone else since.
        **({"sold_by": lead.sold_by_id} if to_status == LeadStatus.SOLD else {}),
    )
    if to_status == LeadStatus.SOLD:
        # The sale joins the customer's history, shared by every department, and gives the store
        # the two years of implied consent a purchase does (CASL).
        wanted = next((vehicle for vehicle in lead.vehicles.all() if not vehicle.is_offered), None)
        history_item_add(
            customer=lead.customer,
            kind=HistoryKind.PURCHASE,
            occurred_at=lead.sold_at,
            summary=lead.vehicle_wanted or f"#{lead.pk}",
            department=Department.Code.SALES,
            details={"lead": lead.pk},
            vehicle=lead.vehicle_wanted[:120],
            vin=wanted.vin if wanted else "",
            actor=actor,
        )
    lead.appointments_cancelled = 0
    if to_status in REASON_ASKED:
        from .appointments import appointments_cancel_upcoming  # imported here: that module imports this one

        lead.appointments_cancelled = appointments_cancel_upcoming(lead=lead, now=timezone.now(), actor=actor)
    transaction.on_commit(leads_counts_changed)
    return lead


def _seller(*, lead: Lead, actor) -> int | None:
    """Who a sale is credited to: the lead's owner when it is made (a supervisor recording it on
    an advisor's lead records the advisor's sale); on a lead nobody owns, whoever records it, when
    they may own leads (not a department's staff, nor an automatic move)."""
    if lead.owner_id is not None:
        return lead.owner_id
    if actor is not None and lead_owners_possible().filter(pk=actor.pk).exists():
        return actor.pk
    return None


# How far apart the DMS may date a deal and the lead's sale of the same vehicle.
SAME_DEAL_DAYS = timedelta(days=31)


def _sale_taken_off(*, lead: Lead, actor) -> int:
    """The purchase the sale added to the customer's history comes off it, and with it the implied
    consent it gave; the customer's audit trail keeps it, with the lead's lost reason. The same deal
    brought in by the DMS import (a purchase or lease of the same VIN, dated within a month of the
    sale) comes off too: left, it would keep that consent and the customer's place in "by model
    bought" audiences. An older deal of that VIN (the lease of the car now bought) stays. Returns how
    many."""
    history = lead.customer.history_items
    sale = list(history.filter(kind=HistoryKind.PURCHASE, details__lead=lead.pk))
    imported = [
        item
        for deal in sale
        if deal.vin  # without one, nothing says which imported deal it is
        for item in history.filter(
            kind__in=(HistoryKind.PURCHASE, HistoryKind.LEASE),
            source=IMPORT_SOURCE,
            vin=deal.vin,
            occurred_at__range=(deal.occurred_at - SAME_DEAL_DAYS, deal.occurred_at + SAME_DEAL_DAYS),
        )
    ]
    taken_off = [*sale, *imported]
    for item in taken_off:
        history_item_remove(item=item, reason=lead.lost_reason, actor=actor)
    return len(taken_off)


@transaction.atomic
def lead_record_answer(*, lead: Lead, answered_at, actor=None, channel: str) -> Lead:
    """Note that a person answered the customer: sets the first-response time (an answer logged
    later but made before the one recorded takes its place), a new lead becomes contacted, and a
    customer who had written again no longer waits. Called by every service that records a real
    answer (mail sent, call, text, visit) and never for notes or automatic acknowledgements."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.customer_waiting_since is not None and answered_at >= lead.customer_waiting_since:
        lead.customer_waiting_since = None
        lead.save(update_fields=["customer_waiting_since", "updated_at"])
        transaction.on_commit(leads_counts_changed)
    earlier_than_recorded = lead.first_response_at is not None and answered_at < lead.first_response_at
    if lead.first_response_at is not None and not earlier_than_recorded:
        return lead
    lead.first_response_at = answered_at
    lead.first_response_business_minutes = business_minutes_between(lead.received_at, answered_at)
    lead.save(update_fields=["first_response_at", "first_response_business_minutes", "updated_at"])
    lead_event_add(
        lead=lead,
        type="first_response",
        actor=actor,
        channel=channel,
        business_minutes=lead.first_response_business_minutes,
        logged_later=earlier_than_recorded,
    )
    transaction.on_commit(leads_counts_changed)
    if lead.status == LeadStatus.NEW:
        lead = lead_transition(lead=lead, to_status=LeadStatus.CONTACTED, actor=actor)
    return lead


@transaction.atomic
def lead_customer_wrote(*, lead: Lead, at) -> Lead:
    """The customer wrote again on a lead a person had answered: it waits for an answer from then
    (the earliest such message counts), whatever the lead's status, until a person answers."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.first_response_at is None or lead.customer_waiting_since is not None:
        return lead  # still waiting for its first answer, or already waiting: nothing changes
    # Mail is dated to the whole second: one of the answer's own second may have come after it.
    if at < lead.first_response_at.replace(microsecond=0):
        return lead  # an older message fetched late: the answer came after it
    lead.customer_waiting_since = at
    lead.save(update_fields=["customer_waiting_since", "updated_at"])
    transaction.on_commit(leads_counts_changed)
    return lead


class AssignmentError(ValueError):
    pass


# lead_assign's reasons for a lead taken from its owner by the store: they left it (dealership's
# staff_leave), moved to a role that takes no leads (staff_role_change), or were taken off the
# staff (staff_remove).
OWNER_LEFT = "owner_left"
OWNER_ROLE_CHANGED = "owner_role_changed"
OWNER_REMOVED = "owner_removed"


@transaction.atomic
def lead_assign(*, lead: Lead, owner, actor, shown_owner: int | None = None, reason: str = "") -> Lead:
    """Give the lead to `owner` (None: to nobody), recorded on its timeline with the owner before,
    and its open next steps with it. Only an active advisor, supervisor or manager may own a lead;
    the same owner again changes nothing.

    `shown_owner`: the id of the owner the page it was chosen on showed, 0 for nobody; someone
    having given the lead to another owner since refuses it, naming them. None: not checked.
    `reason`: why, when the store made the change rather than a person's choice (OWNER_LEFT,
    OWNER_ROLE_CHANGED, OWNER_REMOVED), kept with the timeline's line."""
    # The owner is read once the row is locked, never joined to the lock: a lock that waited for
    # another assignment sees that one's owner, which the timeline names as the owner before.
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if refusal := lead_merged_refusal(lead):
        raise AssignmentError(refusal)
    if (owner.pk if owner else None) == lead.owner_id:
        return lead
    if shown_owner is not None and shown_owner != (lead.owner_id or 0):
        raise AssignmentError(
            gettext(
                "Someone assigned this lead to %(name)s meanwhile: nothing was changed. Check it, then choose again."
            )
            % {"name": person_name(lead.owner)}
            if lead.owner
            else gettext(
                "Someone unassigned this lead meanwhile: nothing was changed. Check it, then choose again."
            )
        )
    if owner is not None and not _takes_leads(owner.pk):
        raise AssignmentError(
            gettext("%(name)s does not take leads: choose a sales advisor, a supervisor or a manager.")
            % {"name": person_name(owner)}
        )
    previous = lead.owner
    lead.owner = owner
    lead.save(update_fields=["owner", "updated_at"])
    _owner_change_record(lead=lead, previous=previous, actor=actor, reason=reason)
    _next_steps_to_owner(lead=lead, actor=actor)
    transaction.on_commit(leads_counts_changed)  # the inbox counts an advisor's own leads
    return lead


def _takes_leads(user_id: int) -> bool:
    """Whether the person may own a lead, their account's row locked until the change is committed:
    someone leaving the store or moving out of sales at that moment (who locks it once their open
    leads are locked) is waited for, then refused, so that no lead comes to them after their open
    leads were handed back."""
    get_user_model().objects.select_for_update().filter(pk=user_id).first()
    return lead_owners_possible().filter(pk=user_id).exists()


def _owner_change_record(*, lead: Lead, previous, actor, reason: str = "") -> None:
    """The timeline's line for a change of owner, naming the owner before and after (as the
    timeline shows them) and keeping who they were (their user ids, None for nobody): a name may
    change, or be someone else's too (lead_taken_from)."""
    lead_event_add(
        lead=lead,
        type="assigned",
        actor=actor,
        owner=person_name(lead.owner),
        previous_owner=person_name(previous),
        owner_id=lead.owner_id,
        previous_owner_id=previous.pk if previous else None,
        **({"reason": reason} if reason else {}),
    )


class ContactOutcome:
    """What came of a call; only a conversation or a message left counts as an answer."""

    REACHED = "reached"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    # In English: the text a call keeps as its subject (and follow-up looks for); shown translated.
    CHOICES = [
        (REACHED, gettext_noop("Spoke with the customer")),
        (VOICEMAIL, gettext_noop("Left a voicemail")),
        (NO_ANSWER, gettext_noop("No answer, no message left")),
        (WRONG_NUMBER, gettext_noop("Wrong number")),
    ]
    ANSWERED = {REACHED, VOICEMAIL}


# Channels a person can log by hand; email goes through the reply composer.
LOGGABLE_CHANNELS = [Channel.PHONE, Channel.TEXT, Channel.VISIT, Channel.NOTE]


class ContactLogError(ValueError):
    """A contact that cannot be logged as given; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str | None):
        super().__init__(message)
        self.field = field


# A form sent twice by a double click arrives within this.
RELOGGED_WITHIN = timedelta(seconds=20)
# A call or text logged although the customer had withdrawn consent to them (they may have called
# the store) says so; the message channels are the consent ledger's channels of the same name.
ASKED_FOR_NONE = {
    Channel.PHONE: gettext_noop("The customer had asked not to be called."),
    Channel.TEXT: gettext_noop("The customer had asked for no texts."),
}


@transaction.atomic
def contact_log(
    *,
    lead: Lead,
    author,
    channel: str,
    notes: str = "",
    outcome: str = "",
    next_step: str = "",
    next_step_on: date | None = None,
    occurred_at=None,
) -> Message:
    """Record a call, a text sent from a phone, a visit or a note on the lead's conversation, at
    `occurred_at` (now by default): a call made earlier and logged later answered the customer then.
    A next step given a day (`next_step_on`) is also a task, due that day, of the lead's owner (else
    of whoever logs it)."""
    if refusal := lead_merged_refusal(lead):
        raise ContactLogError(refusal, field=None)
    if channel not in LOGGABLE_CHANNELS:
        raise ContactLogError(
            gettext("Cannot log a %(channel)r by hand.") % {"channel": channel}, field="channel"
        )
    if channel == Channel.PHONE and outcome not in dict(ContactOutcome.CHOICES):
        raise ContactLogError(gettext("Say how the call went."), field="outcome")
    if channel == Channel.NOTE and not notes.strip():
        raise ContactLogError(gettext("Write the note."), field="notes")
    # A text counts as the answer to the customer: what it said is kept as the proof of it.
    if channel == Channel.TEXT and not notes.strip():
        raise ContactLogError(
            gettext("Write what you texted: the text counts as an answer to the customer."), field="notes"
        )
    step = next_step.strip()
    if next_step_on is not None and not step:
        raise ContactLogError(gettext("Say what the next step is."), field="next_step")
    if next_step_on is not None and next_step_on < timezone.localdate():
        raise ContactLogError(gettext("Choose today or a later day."), field="next_step_on")
    now = timezone.now()
    given_at, occurred_at = occurred_at, occurred_at or now
    if occurred_at > now:
        raise ContactLogError(
            gettext("That time is still to come: give the time it happened, or leave it empty for now."),
            field="occurred_at",
        )
    # Times are given to the minute: one in the minute the lead came in is not before it.
    if occurred_at < lead.received_at.replace(second=0, microsecond=0):
        raise ContactLogError(
            gettext("The lead came in on %(received)s: what is logged on it happened after that.")
            % {"received": formats.date_format(timezone.localtime(lead.received_at), "DATETIME_FORMAT")},
            field="occurred_at",
        )
    occurred_at = max(occurred_at, lead.received_at)  # never above the lead's arrival on its timeline
    body = notes.strip()
    # In the words of whoever logs it, as the notes themselves are.
    if step:
        line = (
            gettext("Next step on %(day)s: %(step)s") % {"day": _day_named(next_step_on), "step": step}
            if next_step_on is not None
            else gettext("Next step: %(step)s") % {"step": step}
        )
        body = f"{body}\n\n{line}".strip()
    if channel in ASKED_FOR_NONE and consent_withdrawn(
        consent_check(customer=lead.customer, channel=channel, at=occurred_at)
    ):
        body = f"{body}\n\n{gettext(ASKED_FOR_NONE[channel])}".strip()
    entry = {
        "lead": lead,
        "channel": channel,
        "author": author,
        "subject": dict(ContactOutcome.CHOICES).get(outcome, "") if channel == Channel.PHONE else "",
        "body_text": body,
    }
    # The same entry sent again at once (a double click) is the one logged; the lead's row is
    # locked so that two such requests take turns. A second call a minute later is its own, and so
    # is one said to have happened at another time.
    Lead.objects.select_for_update().get(pk=lead.pk)
    same = Message.objects.filter(**entry, created_at__gte=timezone.now() - RELOGGED_WITHIN)
    if already := (same.filter(occurred_at=occurred_at) if given_at else same).first():
        return already
    message = Message.objects.create(
        **entry,
        customer=lead.customer,
        direction=Direction.INTERNAL if channel == Channel.NOTE else Direction.OUTBOUND,
        occurred_at=occurred_at,
    )
    if next_step_on is not None:
        _next_step_task_add(message=message, step=step, due_on=next_step_on)
    answered = channel in (Channel.TEXT, Channel.VISIT) or (
        channel == Channel.PHONE and outcome in ContactOutcome.ANSWERED
    )
    if answered:
        lead_record_answer(lead=lead, answered_at=occurred_at, actor=author, channel=channel)
    return message


def _day_named(day: date) -> str:
    """ "Thursday, December 3" in the active language; with the year when it is not this year's."""
    if day.year == timezone.localdate().year:
        return formats.date_format(day, pgettext("date format", "l, F j"))
    return formats.date_format(day, pgettext("date format", "l, F j, Y"))


def _next_step_task_add(*, message: Message, step: str, due_on: date) -> Task:
    """The next step a logged contact promised, as a task of whoever works the lead: its owner, else
    whoever logged it (they said what they will do). Its key is the logged contact's: the same entry
    never makes two."""
    params = {"step": step}
    title = task_title_stored(NEXT_STEP, params)
    return Task.objects.create(
        kind=NEXT_STEP,
        moment_key=str(message.pk),
        lead_id=message.lead_id,
        assignee_id=_owner_taking_leads(lead_id=message.lead_id) or message.author_id,
        customer=message.customer,
        title=title[:300],
        params=params,
        due_on=due_on,
    )


def _owner_taking_leads(*, lead_id: int) -> int | None:
    """The lead's owner as the lead's row says now, while they still take leads (not someone who
    left, or was taken off the staff, whose tasks were handed over)."""
    owners = Lead.objects.filter(pk=lead_id, owner__in=lead_owners_possible())
    return owners.values_list("owner_id", flat=True).first()


def _next_steps_to_owner(*, lead: Lead, actor) -> None:
    """The lead's open next steps are its owner's, whoever promised them: each one that is not yet
    theirs is handed to them, recorded as a hand-over is. With no owner (or one who no longer takes
    leads), they stay with whoever has them until the lead has one."""
    if (owner_id := _owner_taking_leads(lead_id=lead.pk)) is None:
        return
    steps = NEXT_STEPS_OPEN.select_for_update().filter(lead=lead)
    for task in steps.exclude(assignee_id=owner_id):
        task_reassign(task=task, assignee_id=owner_id, actor=actor)


class MergeError(ValueError):
    pass


@transaction.atomic
def lead_merge(*, target: Lead, duplicate: Lead, actor=None) -> Lead:
    """Fold a duplicate lead of the same customer into another: its conversation, vehicles, events,
    received mail, appointments and the customer's words move over, the target is dated and
    attributed (source, promotion) as the earlier inquiry and keeps the earlier of each funnel
    milestone, and an unassigned target takes the duplicate's owner while they still take leads (else
    it stays in the inbox for the supervisor); the target's owner then has every open next step of
    the pair. The duplicate stays, lost and marked as merged into the target, so that figures count
    the pair once. An open target moves on to where the pair had got: the duplicate's further
    status, or contacted once either was answered."""
    if target.pk == duplicate.pk:
        raise MergeError(gettext("A lead cannot be merged into itself."))
    # Both rows in the order of their ids, as every service locking several leads takes them: a
    # merge and someone leaving the store at that moment wait for each other, never deadlock.
    rows = Lead.objects.select_for_update().filter(pk__in=[target.pk, duplicate.pk]).order_by("pk")
    locked = {lead.pk: lead for lead in rows}
    target, duplicate = locked[target.pk], locked[duplicate.pk]
    if target.customer_id != duplicate.customer_id:
        raise MergeError(gettext("Only leads of the same customer can be merged."))
    if duplicate.status == LeadStatus.SOLD:
        raise MergeError(gettext("A sold lead cannot be merged into another."))
    if LeadStatus.NOT_A_LEAD in (target.status, duplicate.status):
        raise MergeError(gettext("An inquiry closed as not a lead is merged with no other: reopen it first."))
    for lead in (duplicate, target):
        if lead.merged_into_id:
            raise MergeError(
                gettext("Lead %(number)s was already merged into lead %(into)s.")
                % {"number": lead.pk, "into": lead.merged_into_id}
            )
    if target.status not in OPEN_LEAD_STATUSES and duplicate.status in OPEN_LEAD_STATUSES:
        raise MergeError(
            (
                gettext(
                    "Lead %(number)s is still being worked and this one is lost: merging would close it."
                    " Open lead %(number)s and merge this one into it instead."
                )
                if target.status == LeadStatus.LOST
                else gettext(
                    "Lead %(number)s is still being worked and this one is sold: it is an inquiry of its own."
                )
            )
            % {"number": duplicate.pk}
        )
    moved = {
        "messages": Message.objects.filter(lead=duplicate).update(lead=target),
        "vehicles": LeadVehicle.objects.filter(lead=duplicate).update(lead=target),
        "events": LeadEvent.objects.filter(lead=duplicate).update(lead=target),
        "received_mail": InboundMail.objects.filter(lead=duplicate).update(lead=target),
        "appointments": Appointment.objects.filter(lead=duplicate).update(lead=target),
        # A next step promised on the duplicate is the target's now, as the contact that promised it is.
        "tasks": Task.objects.filter(lead=duplicate).update(lead=target),
    }
    # An inquiry nobody answered, or a customer who wrote again, still waits once the two are one.
    waiting = [lead.customer_waiting_since for lead in (target, duplicate) if lead.customer_waiting_since]
    unanswered = [lead.received_at for lead in (target, duplicate) if lead.first_response_at is None]
    # The customer's own words of both inquiries, the earlier first.
    earlier, later = sorted((target, duplicate), key=lambda lead: lead.received_at)
    target.comments = "\n\n".join(dict.fromkeys(text for text in (earlier.comments, later.comments) if text))
    # The customer has waited since the earlier inquiry and was answered at the earlier answer. The
    # pair is counted as that inquiry, from where it came: its period's figures by source and by
    # promotion hold it, not a later promotion that had not brought it.
    target.received_at = earlier.received_at
    target.source = earlier.source or later.source
    target.promotion_id = earlier.promotion_id or later.promotion_id
    for _, field in FUNNEL_MILESTONES:
        reached = [at for at in (getattr(target, field), getattr(duplicate, field)) if at]
        setattr(target, field, min(reached) if reached else None)
    answers = [at for at in (target.first_response_at, duplicate.first_response_at) if at]
    target.first_response_at = min(answers) if answers else None
    if target.first_response_at:
        target.first_response_business_minutes = business_minutes_between(
            target.received_at, target.first_response_at
        )
    if target.first_response_at:
        waiting += [at for at in unanswered if at > target.first_response_at]
    target.customer_waiting_since = min(waiting) if target.first_response_at and waiting else None
    # A sold target's sale stays with whoever made it (its sold_by, left as it is), whoever owns it now.
    takes_owner = (
        target.owner_id is None and duplicate.owner_id is not None and _takes_leads(duplicate.owner_id)
    )
    if takes_owner:
        target.owner = duplicate.owner
    target.vehicle_wanted = vehicle_wanted_line(target.vehicles.all())
    target.save(
        update_fields=[
            "owner",
            "comments",
            "received_at",
            "source",
            "customer_waiting_since",
            *(field for _, field in FUNNEL_MILESTONES),
            "first_response_at",
            "first_response_business_minutes",
            "promotion",
            "vehicle_wanted",
            "updated_at",
        ]
    )
    # The first answer is counted again from the earlier inquiry: the timeline says so, beside the
    # "first answer" lines the two leads had.
    lead_event_add(
        lead=target,
        type="merged",
        actor=actor,
        merged_lead=duplicate.pk,
        first_response_business_minutes=target.first_response_business_minutes,
        **moved,
    )
    lead_event_add(lead=duplicate, type="merged", actor=actor, into_lead=target.pk, **moved)
    if takes_owner:  # the advisor working the customer goes on with them, as the timeline says
        _owner_change_record(lead=target, previous=None, actor=actor)
    _next_steps_to_owner(lead=target, actor=actor)  # the duplicate's, and the target's if it took an owner
    if target.status in OPEN_LEAD_STATUSES:
        reached = [target.status, LeadStatus.CONTACTED if target.first_response_at else LeadStatus.NEW]
        if duplicate.status in OPEN_LEAD_STATUSES:
            reached.append(duplicate.status)
        furthest = max(map(OPEN_LEAD_STATUSES.index, reached))
        # Step by step along the funnel, each step an allowed one, recorded like any other.
        for status in OPEN_LEAD_STATUSES[OPEN_LEAD_STATUSES.index(target.status) + 1 : furthest + 1]:
            target = lead_transition(lead=target, to_status=status, actor=actor)
    if duplicate.status != LeadStatus.LOST:
        lead_transition(
            lead=duplicate, to_status=LeadStatus.LOST, actor=actor, reason=f"Merged into lead {target.pk}"
        )
    # Every vehicle of the duplicate has moved: it asks about none any more. Marked merged last,
    # as a merged lead takes no more status changes.
    Lead.objects.filter(pk=duplicate.pk).update(vehicle_wanted="", merged_into=target)
    transaction.on_commit(leads_counts_changed)
    return target
