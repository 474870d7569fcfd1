from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from dealership.models import Department

from ..models.appointments import Appointment
from ..models.leads import LEAD_STATUS_LABELS
from ..models.routing import MailKind
from ..normalize import phone_display
from ..services.leads import ContactOutcome

register = template.Library()

CALL_OUTCOMES = {label for _value, label in ContactOutcome.CHOICES}


register.filter("phone", phone_display)


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


# Titles of the other events, in English as "type with spaces, capitalised" (how they always read).
EVENT_TITLES = {
    "acknowledged": gettext_lazy("Acknowledged"),
    "appointment_booked": gettext_lazy("Appointment booked"),
    "appointment_cancelled": gettext_lazy("Appointment cancelled"),
    "appointment_no_show": gettext_lazy("Customer did not come to the appointment"),
    "appointment_rescheduled": gettext_lazy("Appointment rescheduled"),
    "appointment_shown": gettext_lazy("Customer came to the appointment"),
    "appointment_sold": gettext_lazy("Sold at the appointment"),
    "customer_replied": gettext_lazy("Customer replied"),
    "customer_wrote": gettext_lazy("Customer wrote"),
    "followup_completed": gettext_lazy("Followup completed"),
    "followup_sent": gettext_lazy("Followup sent"),
    "followup_started": gettext_lazy("Followup started"),
    "followup_stopped": gettext_lazy("Followup stopped"),
    "followup_task_done": gettext_lazy("Followup task done"),
    "promotion_attributed": gettext_lazy("Promotion attributed"),
    "public_form": gettext_lazy("Public form"),
}
# Their parameters' names, as they are stored.
EVENT_PARAMS = {
    "advisor": pgettext_lazy("timeline event detail", "advisor"),
    "appointment": pgettext_lazy("timeline event detail", "appointment"),
    "detail": pgettext_lazy("timeline event detail", "detail"),
    "inbound_mail": pgettext_lazy("timeline event detail", "inbound_mail"),
    "message": pgettext_lazy("timeline event detail", "message"),
    "note": pgettext_lazy("timeline event detail", "note"),
    "plan": pgettext_lazy("timeline event detail", "plan"),
    "plan_id": pgettext_lazy("timeline event detail", "plan_id"),
    "promotion": pgettext_lazy("timeline event detail", "promotion"),
    "reason": pgettext_lazy("timeline event detail", "reason"),
    "reason_label": pgettext_lazy("timeline event detail", "reason_label"),
    "source": pgettext_lazy("timeline event detail", "source"),
    "starts_at": pgettext_lazy("timeline event detail", "starts_at"),
    "step": pgettext_lazy("timeline event detail", "step"),
}
# The channel of a first answer, as stored.
ANSWER_CHANNELS = {
    "email": pgettext_lazy("channel of a first answer", "email"),
    "phone": pgettext_lazy("channel of a first answer", "phone"),
    "text": pgettext_lazy("channel of a first answer", "text"),
    "visit": pgettext_lazy("channel of a first answer", "visit"),
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


def _choice_label(choices, value, empty: str = "—") -> str:
    """A stored choice as its label in the reader's language; an unknown one as stored."""
    return str(choices(value).label) if value in choices.values else value or empty


def _purpose_label(purpose) -> str:
    return _choice_label(Appointment.Purpose, purpose, empty="")


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
        line = _("Appointment booked with %(advisor)s") if booked else _("Appointment moved, with %(advisor)s")
        line %= {"advisor": advisor}
    elif start:
        line = _("Appointment booked for %(start)s") if booked else _("Appointment moved to %(start)s")
        line %= {"start": start}
    else:
        line = str(EVENT_TITLES[event_type])
    if purpose:
        return _("%(appointment)s (%(purpose)s)") % {"appointment": line, "purpose": purpose}
    return line


@register.filter
def event_summary(event) -> str:
    """One readable line for a timeline event."""
    params = event.params or {}
    match event.type:
        case "created":
            if params.get("source"):
                return _("Lead received from %(source)s") % {"source": params["source"]}
            return _("Lead received from an unknown source")
        case "status_changed":
            before, after = params.get("from_status"), params.get("to_status")
            text = _("Status: %(before)s → %(after)s") % {
                "before": LEAD_STATUS_LABELS.get(before, before),
                "after": LEAD_STATUS_LABELS.get(after, after),
            }
            if params.get("reason"):
                return _("%(change)s (%(reason)s)") % {"change": text, "reason": params["reason"]}
            return text
        case "first_response":
            return _("First answer (%(channel)s) after %(span)s of business time") % {
                "channel": ANSWER_CHANNELS.get(params.get("channel"), params.get("channel")),
                "span": minutes_span(params.get("business_minutes")),
            }
        case "merged" if "into_lead" in params:
            return _("Merged into lead %(number)s") % {"number": params["into_lead"]}
        case "merged":
            return _("Lead %(number)s merged into this one") % {"number": params.get("merged_lead")}
        case "appointment_booked" | "appointment_rescheduled":
            return _appointment_summary(event.type, params)
        case type if type.startswith("appointment_") and type in EVENT_TITLES:
            # What came of it (shown, no-show, sold) or its cancellation: the title says it all.
            return str(EVENT_TITLES[type])
    details = ", ".join(
        f"{EVENT_PARAMS.get(key, key)}: {value}" for key, value in params.items() if value not in ("", None)
    )
    title = EVENT_TITLES.get(event.type) or event.type.replace("_", " ").capitalize()
    return f"{title} ({details})" if details else str(title)


@register.filter
def mail_kind(kind: str) -> str:
    """What triage made of a message ("forward" → "Forward to a department"); "—" for nothing yet."""
    return _choice_label(MailKind, kind)


@register.filter
def department_name(code: str | None) -> str:
    return _choice_label(Department.Code, code)


# What decided a message's route, as triage records it.
TRIAGE_REASONS = {
    "adf": gettext_lazy("ADF lead data"),
    "adf-unreadable": gettext_lazy("ADF lead data that could not be read"),
    "default": gettext_lazy("no words pointing to another department"),
    "reply-token": gettext_lazy("sent to a lead's reply address"),
    "in-reply-to": gettext_lazy("answers mail the store sent"),
    "own-mail": gettext_lazy("the store's own mail come back"),
    "bounce-report": gettext_lazy("delivery failure report"),
    "bounce-sender": gettext_lazy("sent by a mail server"),
    "bounce-subject": gettext_lazy("subject of a delivery failure"),
    "auto-submitted": gettext_lazy("automatic mail headers"),
    "x-autoreply": gettext_lazy("automatic reply headers"),
    "x-auto-response-suppress": gettext_lazy("automatic reply headers"),
    "out-of-office-subject": gettext_lazy("absence notice (subject)"),
    "out-of-office-body": gettext_lazy("absence notice (message)"),
    "precedence": gettext_lazy("bulk mail headers"),
    "mailing-list": gettext_lazy("mailing list"),
    "staff-mail": gettext_lazy("mail from the store's staff"),
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
        return _("words about %(department)s") % {"department": department_name(rule.removeprefix("keywords:"))}
    return str(TRIAGE_REASONS.get(rule, rule))
