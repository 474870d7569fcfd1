import re
from datetime import datetime

from django import template
from django.utils import formats, timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from dealership.models import Department
from dealership.templatetags.store_tags import tel_link
from dealership.text import mid_sentence
from inventory.models import Condition

from ..customer_forms import CustomerForm
from ..models.appointments import Appointment
from ..models.consent import ConsentBasis
from ..models.customers import Language, PreferredChannel
from ..models.followup import StopReason, plan_text
from ..models.leads import LEAD_SOURCE_LABELS, InquiryType, LeadStatus, VehicleInterest
from ..models.routing import MailKind
from ..normalize import phone_display
from ..selectors.consent import CHANNEL_NAMES
from ..services.followup import SENDING_FAILED, SUBJECT_TOO_LONG, WORKER_NOTES
from ..services.leads import OWNER_LEFT, OWNER_REMOVED, OWNER_ROLE_CHANGED, ContactOutcome
from ..services.replies import INTERRUPTED_SEND, UNCERTAIN_SEND, WAITED_TOO_LONG

register = template.Library()

CALL_OUTCOMES = {label for _value, label in ContactOutcome.CHOICES}


# Why the store took a lead from its owner (lead_assign's reasons), as the timeline says it.
OWNER_GONE = {
    OWNER_LEFT: gettext_lazy("No longer assigned to %(previous)s, who left the store"),
    OWNER_ROLE_CHANGED: gettext_lazy(
        "No longer assigned to %(previous)s, who moved to a role that takes no leads"
    ),
    OWNER_REMOVED: gettext_lazy("No longer assigned to %(previous)s, who was taken off the staff"),
}


register.filter("phone", phone_display)
register.filter("plan_text", plan_text)


@register.filter
def phone_call(number: str) -> str:
    """A customer's number as people read it aloud (phone), tapped to call."""
    return tel_link(number, phone_display(number))


@register.filter
def task_note(note: str) -> str:
    """A follow-up task's note: the worker's own in the reader's language, a person's as written."""
    return _(note) if note in WORKER_NOTES else stored_sentence(note, TASK_NOTES)


@register.filter
def minutes_span(minutes: int | None) -> str:
    """12 → "12 min", 135 → "2 h 15", 3000 → "50 h"."""
    if minutes is None:
        return "—"
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, rest = divmod(minutes, 60)
    if hours < 10:
        return _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": rest}
    return _("%(hours)d h") % {"hours": hours}


# Each event's title: all its line says when its details add nothing (an id, a message shown anyway).
EVENT_TITLES = {
    "acknowledged": gettext_lazy("Acknowledgement sent to the customer"),
    "appointment_booked": gettext_lazy("Appointment booked"),
    "appointment_cancelled": gettext_lazy("Appointment cancelled"),
    "appointment_no_show": gettext_lazy("Customer did not come to the appointment"),
    "appointment_rescheduled": gettext_lazy("Appointment rescheduled"),
    "appointment_shown": gettext_lazy("Customer came to the appointment"),
    "appointment_sold": gettext_lazy("Sold at the appointment"),
    "customer_replied": gettext_lazy("Customer replied"),
    "customer_wrote": gettext_lazy("Customer wrote"),
    "followup_completed": gettext_lazy("Follow-up completed"),
    "followup_held": gettext_lazy("Not put in a follow-up plan: the customer is in touch"),
    "followup_sent": gettext_lazy("Follow-up email sent"),
    "followup_started": gettext_lazy("Follow-up started"),
    "followup_stopped": gettext_lazy("Follow-up stopped"),
    "followup_task_done": gettext_lazy("Follow-up task done"),
    "promotion_attributed": gettext_lazy("Credited to an offer"),
    "public_form": gettext_lazy("Sent from the website"),
    "unsubscribed": gettext_lazy(
        "The customer asked by email for no more mail: no commercial mail goes to them now"
    ),
}
# The channel of a first answer, as stored.
ANSWER_CHANNELS = {
    "email": pgettext_lazy("channel of a first answer", "email"),
    "phone": pgettext_lazy("channel of a first answer", "phone"),
    "text": pgettext_lazy("channel of a first answer", "text"),
    "visit": pgettext_lazy("channel of a first answer", "visit"),
    "appointment": pgettext_lazy("channel of a first answer", "appointment booked"),
}


@register.filter
def message_subject(message) -> str:
    """A message's subject; a call's outcome (kept in English) in the reader's language."""
    if message.channel == "phone" and message.subject in CALL_OUTCOMES:
        return _(message.subject)
    return message.subject


def _local_datetime(value) -> str:
    """A stored ISO time as the page shows its times: the store's date and time, in the reader's language."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return ""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def choice_label(choices, value, empty: str = "—") -> str:
    """A stored choice as its label in the reader's language; an unknown one as stored."""
    return str(choices(value).label) if value in choices.values else value or empty


def status_change(line: str, choices, params: dict, *, reason: str | None = None) -> str:
    """A timeline's status change: `line` (translated, "Status: %(before)s → %(after)s") with the
    stored statuses as their labels, and the reason in brackets when there is one (`reason`: the
    stored one in other words, else as stored)."""
    reason = params.get("reason") or "" if reason is None else reason
    change = line % {
        "before": choice_label(choices, params.get("from_status")),
        "after": choice_label(choices, params.get("to_status")),
    }
    return _("%(change)s (%(reason)s)") % {"change": change, "reason": reason} if reason else change


def stored_sentence(text: str, sentences) -> str:
    """A sentence the system stored in English (kept so for the audit trail) in the reader's language:
    the first of `sentences` (pattern, translation) to match it gives it, its groups as written (an
    address, a server's own words); an unknown one as stored."""
    for pattern, shown in sentences:
        if match := pattern.fullmatch(text):
            if callable(shown):
                return shown(match)
            # A part may itself be a known sentence ("no valid consent: no consent recorded").
            parts = {name: stored_sentence(part or "", sentences) for name, part in match.groupdict().items()}
            return str(shown) % parts
    return text


def sentences(*pairs) -> tuple:
    return tuple((re.compile(pattern, re.DOTALL), translation) for pattern, translation in pairs)


# Why mail did not reach its recipient, as the senders (replies, mail) and bounces store it.
SEND_ERRORS = sentences(
    (re.escape(UNCERTAIN_SEND), gettext_lazy(UNCERTAIN_SEND)),
    (
        re.escape(UNCERTAIN_SEND) + r" \((?P<error>.*)\)",
        format_lazy("{} (%(error)s)", gettext_lazy(UNCERTAIN_SEND)),
    ),
    (r"The mail server refused it: (?P<reply>.*)", gettext_lazy("The mail server refused it: %(reply)s")),
    (
        r"The mail server could not be reached: (?P<error>.*)",
        gettext_lazy("The mail server could not be reached: %(error)s"),
    ),
    (r"Will try again: (?P<error>.*)", gettext_lazy("Will try again: %(error)s")),
    (re.escape(INTERRUPTED_SEND), gettext_lazy(INTERRUPTED_SEND)),
    (re.escape(WAITED_TOO_LONG), gettext_lazy(WAITED_TOO_LONG)),
    (
        r"Returned undelivered to (?P<addresses>.*?) \(inbound mail (?P<mail>\d+)\): (?P<diagnostics>.*)",
        gettext_lazy("Returned undelivered to %(addresses)s (inbound mail %(mail)s): %(diagnostics)s"),
    ),
    (
        r"Returned undelivered to (?P<addresses>.*?) \(inbound mail (?P<mail>\d+)\)\.",
        gettext_lazy("Returned undelivered to %(addresses)s (inbound mail %(mail)s)."),
    ),
    (
        r"Permanent delivery failure reported on (?P<day>[\d-]+) \(inbound mail (?P<mail>\d+)\)\.",
        gettext_lazy("Permanent delivery failure reported on %(day)s (inbound mail %(mail)s)."),
    ),
)


# The worker's notes that carry a value.
TASK_NOTES = sentences(
    (
        r"Once filled in, the subject is longer than (?P<max>\d+) characters: shorten the step's subject\.",
        lambda match: _(SUBJECT_TOO_LONG) % {"max": int(match["max"])},
    ),
    (r"Sending failed: (?P<error>.*)", gettext_lazy(SENDING_FAILED)),
)


@register.filter
def send_error(error: str) -> str:
    """Why mail was not sent, or an address marked undeliverable, in the reader's language."""
    return stored_sentence(error, SEND_ERRORS)


def _basis_named(stored: str) -> str:
    """A consent basis stored as its English label, lower case, in the reader's language."""
    with translation.override("en"):
        bases = {str(label).lower(): ConsentBasis(value) for value, label in ConsentBasis.choices}
    basis = bases.get(stored)
    return basis.label.lower() if basis else stored


def _lapsed_consent(match) -> str:
    """ "implied: inquiry (six months) expired on …": the basis is stored as its English label."""
    return _("%(basis)s expired on %(when)s") % {"basis": _basis_named(match["basis"]), "when": match["when"]}


def _ended_consent(match) -> str:
    """ "implied: purchase or lease (two years) ended on …": the purchase did not happen after all."""
    return _("%(basis)s ended on %(when)s") % {"basis": _basis_named(match["basis"]), "when": match["when"]}


# Where consent came from or was withdrawn, as the system records it (a person's words are kept as typed).
CONSENT_SOURCES = sentences(
    (r"Told staff", gettext_lazy("Told staff")),
    (r"unsubscribe link", gettext_lazy("unsubscribe link")),
    (r"inquiry", pgettext_lazy("consent source", "inquiry")),
    (
        r"email asking for no more mail: (?P<subject>.*)",
        gettext_lazy("email asking for no more mail: %(subject)s"),
    ),
    (r"Purchase: (?P<vehicle>.*)", gettext_lazy("Purchase: %(vehicle)s")),
    (r"Lease: (?P<vehicle>.*)", gettext_lazy("Lease: %(vehicle)s")),
)


@register.filter
def consent_source(source: str) -> str:
    return stored_sentence(source, CONSENT_SOURCES)


# Why the store may not email a customer, as consent checks store it (campaigns, the timeline); a
# withdrawal's source among them.
CONSENT_REFUSALS = CONSENT_SOURCES + sentences(
    (r"no valid consent: (?P<reason>.*)", gettext_lazy("no valid consent: %(reason)s")),
    (r"no consent recorded", gettext_lazy("no consent recorded")),
    (r"withdrawn on (?P<when>.*?) \((?P<source>.*)\)", gettext_lazy("withdrawn on %(when)s (%(source)s)")),
    (r"(?P<basis>.*) expired on (?P<when>.*)", _lapsed_consent),
    (r"(?P<basis>.*) ended on (?P<when>.*)", _ended_consent),
    (r"record merged into customer (?P<id>\d+)", gettext_lazy("record merged into customer %(id)s")),
    (r"no email address", gettext_lazy("no email address")),
    (r"address (?P<email>.*) is undeliverable", gettext_lazy("address %(email)s is undeliverable")),
)


@register.filter
def consent_refusal(reason: str) -> str:
    """Why no commercial mail may go to a customer, in the reader's language."""
    return stored_sentence(reason, CONSENT_REFUSALS)


def _purpose_label(purpose) -> str:
    return choice_label(Appointment.Purpose, purpose, empty="")


def _appointment_summary(event_type: str, params: dict) -> str:
    """A booked or moved appointment: with whom, when (store time), what for; never its id."""
    advisor, start = params.get("advisor") or "", _local_datetime(params.get("starts_at"))
    purpose = _purpose_label(params.get("purpose"))
    booked = event_type == "appointment_booked"
    if advisor and start:
        if booked:
            line = _("Appointment booked with %(advisor)s for %(start)s")
        else:
            line = _("Appointment moved to %(start)s, with %(advisor)s")
        line %= {"advisor": advisor, "start": start}
    elif advisor:
        line = (
            _("Appointment booked with %(advisor)s") if booked else _("Appointment moved, with %(advisor)s")
        )
        line %= {"advisor": advisor}
    elif start:
        line = _("Appointment booked for %(start)s") if booked else _("Appointment moved to %(start)s")
        line %= {"start": start}
    else:
        line = str(EVENT_TITLES[event_type])
    if purpose:
        return _("%(appointment)s (%(purpose)s)") % {"appointment": line, "purpose": purpose}
    return line


def _followup_summary(event_type: str, params: dict) -> str:
    """A follow-up plan's course: which plan, why it stopped, why a lead was kept out of one; never
    a step's or a message's id (the message sent is on the timeline itself)."""
    plan = plan_text(params.get("plan") or "")
    match event_type:
        case "followup_started" if plan:
            return _("Follow-up plan “%(plan)s” started") % {"plan": plan}
        case "followup_completed" if plan:
            return _("Follow-up plan “%(plan)s” completed") % {"plan": plan}
        case "followup_stopped" if plan and params.get("reason") in StopReason.values:
            reason = _(StopReason(params["reason"]).label)
            summary = {"plan": plan, "reason": mid_sentence(reason)}
            if params.get("on_lead"):  # the customer answered, booked or bought on another lead
                return _("Follow-up plan “%(plan)s” stopped: %(reason)s (lead %(number)s)") % {
                    **summary,
                    "number": params["on_lead"],
                }
            return _("Follow-up plan “%(plan)s” stopped: %(reason)s") % summary
        case "followup_held" if params.get("on_lead") and params.get("reason") in StopReason.values:
            reason = _(StopReason(params["reason"]).label)
            return _(
                "Not put in a follow-up plan because the customer is in touch: their plan on lead "
                "%(number)s stopped (%(reason)s)"
            ) % {"number": params["on_lead"], "reason": mid_sentence(reason)}
        case "followup_task_done" if params.get("note"):
            return _("Follow-up task done: %(note)s") % {"note": params["note"]}
    return str(EVENT_TITLES[event_type])


def _arrival_summary(event_type: str, params: dict) -> str:
    """How the customer came back or in: through whom, about what, from which offer."""
    source, vehicles = lead_source(params.get("source")), params.get("vehicles")
    code, link = params.get("promotion"), params.get("src")
    match event_type:
        case "customer_wrote" if source and vehicles:
            return _("Customer wrote through %(source)s about %(vehicles)s") % {
                "source": source,
                "vehicles": vehicles,
            }
        case "customer_wrote" if source:
            return _("Customer wrote through %(source)s") % {"source": source}
        case "customer_wrote" if vehicles:
            return _("Customer wrote about %(vehicles)s") % {"vehicles": vehicles}
        case "public_form" if params.get("vehicle_page"):
            return _vehicle_page_off_website(params)
        case "public_form" if code:
            line = _("Sent from the page of offer %(code)s") % {"code": code}
        case "public_form":
            line = _("Sent from the website")
        case "promotion_attributed" if code and params.get("how") == "code quoted":
            return _("Credited to offer %(code)s: the customer quoted its code") % {"code": code}
        case "promotion_attributed" if code:
            return _("Credited to offer %(code)s") % {"code": code}
        case _:
            return str(EVENT_TITLES[event_type])
    return _("%(line)s (link %(link)s)") % {"line": line, "link": link} if link else line


def _vehicle_page_off_website(params: dict) -> str:
    """A message from the page of a vehicle the website no longer shows (inventory's
    vehicle_inquiry_create): which page, and the vehicle as it was then, if one had that number."""
    number, stock = params["vehicle_page"], params.get("stock_number")
    if not stock:
        return _("Sent from the website page of vehicle no. %(number)s, which is not in stock") % {
            "number": number
        }
    vehicle = (
        _("%(vehicle)s, stock %(stock)s") % {"vehicle": params["vehicle"], "stock": stock}
        if params.get("vehicle")
        else _("stock %(stock)s") % {"stock": stock}
    )
    return _(
        "Sent from the website page of vehicle no. %(number)s (%(vehicle)s), no longer on the website"
    ) % {
        "number": number,
        "vehicle": vehicle,
    }


@register.filter
def event_summary(event) -> str:
    """One readable line for a timeline event."""
    params = event.params or {}
    match event.type:
        case "created":
            if params.get("source"):
                return _("Lead received from %(source)s") % {"source": lead_source(params["source"])}
            return _("Lead received from an unknown source")
        case "status_changed":
            reason = stored_sentence(params.get("reason") or "", LEAD_REASONS)
            return status_change(_("Status: %(before)s → %(after)s"), LeadStatus, params, reason=reason)
        case "first_response":
            line = (
                _("First answer (%(channel)s, logged later) after %(span)s of business time")
                if params.get("logged_later")
                else _("First answer (%(channel)s) after %(span)s of business time")
            )
            return line % {
                "channel": ANSWER_CHANNELS.get(params.get("channel"), params.get("channel")),
                "span": minutes_span(params.get("business_minutes")),
            }
        case "merged" if "into_lead" in params:
            return _("Merged into lead %(number)s") % {"number": params["into_lead"]}
        case "merged" if params.get("first_response_business_minutes") is not None:
            return _(
                "Lead %(number)s merged into this one: the first answer now counts from the earlier "
                "inquiry, after %(span)s of business time"
            ) % {
                "number": params.get("merged_lead"),
                "span": minutes_span(params["first_response_business_minutes"]),
            }
        case "merged":
            return _("Lead %(number)s merged into this one") % {"number": params.get("merged_lead")}
        case "assigned" if params.get("reason") in OWNER_GONE and params.get("previous_owner"):
            return OWNER_GONE[params["reason"]] % {"previous": params["previous_owner"]}
        case "assigned" if params.get("owner") and params.get("previous_owner"):
            return _("Reassigned from %(previous)s to %(owner)s") % {
                "previous": params["previous_owner"],
                "owner": params["owner"],
            }
        case "assigned" if params.get("owner"):
            return _("Assigned to %(owner)s") % {"owner": params["owner"]}
        case "assigned" if params.get("previous_owner"):
            return _("No longer assigned to %(previous)s") % {"previous": params["previous_owner"]}
        case "appointment_booked" | "appointment_rescheduled":
            return _appointment_summary(event.type, params)
        case type if type.startswith("followup_") and type in EVENT_TITLES:
            return _followup_summary(type, params)
        case "customer_wrote" | "public_form" | "promotion_attributed":
            return _arrival_summary(event.type, params)
        case type if type in EVENT_TITLES:
            # What came of an appointment, an acknowledgement, a reply: the title says it all.
            return str(EVENT_TITLES[type])
    return event_as_stored(event)


def event_as_stored(event) -> str:
    """An event of a kind this version does not write (an older one's, or one made by hand): as stored."""
    details = ", ".join(
        f"{key}: {value}" for key, value in (event.params or {}).items() if value not in ("", None)
    )
    title = event.type.replace("_", " ").capitalize()
    return f"{title} ({details})" if details else title


# Why a lead changed status, as the system writes it (a person's reason is kept as typed).
LEAD_REASONS = sentences((r"Merged into lead (?P<number>\d+)", gettext_lazy("Merged into lead %(number)s")))

# Codes that pages show by name: {{ value|choice_of:"language" }}.
NAMED_CHOICES = {
    "language": Language,
    "inquiry_type": InquiryType,
    "interest": VehicleInterest,
    "condition": Condition,
}


@register.filter
def choice_of(value: str, kind: str) -> str:
    return choice_label(NAMED_CHOICES[kind], value)


@register.filter
def lead_source(source: str) -> str:
    return str(LEAD_SOURCE_LABELS.get(source, source or ""))


@register.filter
def mail_kind(kind: str) -> str:
    """What triage made of a message ("forward" → "Forward to a department"); "—" for nothing yet."""
    return choice_label(MailKind, kind)


@register.filter
def department_name(code: str | None) -> str:
    return choice_label(Department.Code, code)


# What decided a message's route, as triage records it.
TRIAGE_REASONS = {
    "adf": gettext_lazy("ADF lead data"),
    "adf-unreadable": gettext_lazy("ADF lead data that could not be read"),
    "default": gettext_lazy("no words pointing to another department"),
    "reply-token": gettext_lazy("sent to a lead's reply address"),
    "in-reply-to": gettext_lazy("answers mail the store sent"),
    "open-lead-reply": gettext_lazy("answers the store's mail on the customer's open lead"),
    "own-mail": gettext_lazy("the store's own mail come back"),
    "bounce-report": gettext_lazy("delivery failure report"),
    "bounce-sender": gettext_lazy("sent by a mail server"),
    "bounce-subject": gettext_lazy("subject of a delivery failure"),
    "auto-submitted": gettext_lazy("automatic mail headers"),
    "x-autoreply": gettext_lazy("automatic reply headers"),
    "x-auto-response-suppress": gettext_lazy("automatic reply headers"),
    "out-of-office-subject": gettext_lazy("absence notice (subject)"),
    "out-of-office-body": gettext_lazy("absence notice (message)"),
    "challenge-response": gettext_lazy("a spam filter asking the sender to prove they are a person"),
    "precedence": gettext_lazy("bulk mail headers"),
    "mailing-list": gettext_lazy("mailing list"),
    "staff-mail": gettext_lazy("mail from the store's staff"),
    "provider-notice": gettext_lazy("a lead provider's own notice, with no customer in it"),
    "calendar-reply": gettext_lazy("a calendar's answer to an invitation"),
}


@register.filter
def triage_reason(rule: str) -> str:
    """What decided a message's route, in words: "keywords:service" → "words about Service"."""
    if not rule:
        return "—"
    if rule.startswith("rule:"):
        return _("rule “%(name)s”") % {"name": rule.removeprefix("rule:")}
    form, plus, rest = rule.partition("+")
    if form == "web-form" and plus:
        return _("website form, %(reason)s") % {"reason": triage_reason(rest)}
    if rule.startswith("keywords:"):
        return _("words about %(department)s") % {
            "department": department_name(rule.removeprefix("keywords:"))
        }
    return str(TRIAGE_REASONS.get(rule, rule))


# What the audit trail records a customer change as.
AUDIT_ACTIONS = {
    "created": pgettext_lazy("audit action", "Created"),
    "edit": pgettext_lazy("audit action", "Edited"),
    "filled_from_inquiry": pgettext_lazy("audit action", "Filled in from an inquiry"),
    "email_replaced_bounced": pgettext_lazy("audit action", "Bounced email replaced"),
    "email_added": pgettext_lazy("audit action", "Email added"),
    "phone_added": pgettext_lazy("audit action", "Phone added"),
    "consent_grant": pgettext_lazy("audit action", "Consent given"),
    "consent_withdraw": pgettext_lazy("audit action", "Consent withdrawn"),
    "consent_end": pgettext_lazy("audit action", "Consent ended: the purchase did not happen"),
    "history_removed": pgettext_lazy("audit action", "Taken off the history: it did not happen"),
    "import_created": pgettext_lazy("audit action", "Created by an import"),
    "import_updated": pgettext_lazy("audit action", "Updated by an import"),
    "merge": pgettext_lazy("audit action", "Duplicate merged into it"),
    "merged_into": pgettext_lazy("audit action", "Merged into another record"),
}
# The customer's data as the audit names it: the customer form's labels, and what the form does not show.
AUDIT_FIELDS = {
    **{name: field.label for name, field in CustomerForm.base_fields.items()},
    "other_emails": pgettext_lazy("audit field", "Other emails"),
    "other_phones": pgettext_lazy("audit field", "Other phones"),
    "email_undeliverable": pgettext_lazy("audit field", "Address undeliverable"),
    "import": pgettext_lazy("audit field", "Import"),
    "merged_into": pgettext_lazy("audit field", "Merged into customer"),
    "history": pgettext_lazy("audit field", "History"),
    "vin": pgettext_lazy("audit field", "VIN"),
    "reference": pgettext_lazy("audit field", "DMS reference"),
    "lead": pgettext_lazy("audit field", "Lead"),
    "reason": pgettext_lazy("audit field", "Why"),
}
AUDIT_CHOICES = {"language": Language, "preferred_channel": PreferredChannel}


@register.filter
def audit_action(action: str) -> str:
    return str(AUDIT_ACTIONS.get(action, action))


@register.simple_tag
def audit_field(entry, field: str) -> str:
    """A changed field's name; a consent change's fields are its channels."""
    if entry.action.startswith("consent_"):
        return str(CHANNEL_NAMES.get(field, field)).capitalize()
    return str(AUDIT_FIELDS.get(field, field))


@register.simple_tag
def audit_value(entry, field: str, value) -> str:
    """A value before or after: a consent standing ("implied_inquiry", "none (no consent recorded)") or
    a choice in words, anything else as stored."""
    if value is None or value == "":
        return "—"
    if entry.action.startswith("consent_"):
        if value in ConsentBasis.values:
            return str(ConsentBasis(value).label)
        if match := re.fullmatch(r"none \((?P<reason>.*)\)", value, re.DOTALL):
            return _("none (%(reason)s)") % {"reason": consent_refusal(match["reason"])}
    if field in AUDIT_CHOICES:
        return choice_label(AUDIT_CHOICES[field], value)
    if field == "history":  # a history line taken off, stored in English as the consent report's
        return consent_source(value)
    return str(value)
