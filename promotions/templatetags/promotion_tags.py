"""Promotion and campaign records as a reader reads them: in words, in their language."""

from django import template
from django.utils.translation import gettext as _

from dealership.text import mid_sentence
from leads.models import Language
from leads.templatetags.lead_tags import choice_label, consent_refusal, event_as_stored, status_change

from ..models import CampaignStatus, PromotionStatus
from ..services.campaigns import INTERRUPTED

register = template.Library()


@register.filter
def audience_summary(audience: dict) -> str:
    """A campaign's audience: "bought a Toyota RAV4 · French · lease ending within 30 days"."""
    parts = []
    if vehicle := " ".join(filter(None, (audience.get("make"), audience.get("model")))):
        parts.append(_("bought a %(vehicle)s") % {"vehicle": vehicle})
    if language := audience.get("language"):
        parts.append(choice_label(Language, language))
    if days := audience.get("lease_ending_within_days"):
        parts.append(_("lease ending within %(days)s days") % {"days": days})
    return " · ".join(parts) or _("every customer with an email")


@register.filter
def recipient_reason(reason: str) -> str:
    """Why a campaign skipped a customer ("No valid consent: no consent recorded.", as the campaign
    stores a consent refusal) or failed to send to them ("Not sent: …"), in the reader's language."""
    if not reason:
        return ""
    if reason == INTERRUPTED:
        return _(INTERRUPTED)
    if reason.startswith("Not sent: "):
        return _("Not sent: %(reason)s.") % {"reason": reason.removeprefix("Not sent: ").rstrip(".")}
    refusal = reason.removesuffix(".")
    refusal = consent_refusal(mid_sentence(refusal))
    return f"{refusal[:1].upper()}{refusal[1:]}."


@register.filter
def promotion_event_summary(event) -> str:
    """One line of a promotion's timeline."""
    params = event.params or {}
    match event.type:
        case "created":
            return _("Promotion created")
        case "status_changed":
            # Reasons the calendar gives are stored in English (marked for translation); a person's
            # own words are shown as written.
            reason = _(params["reason"]) if params.get("reason") else ""
            return status_change(_("Status: %(before)s → %(after)s"), PromotionStatus, params, reason=reason)
        case "updated":
            return _("Details changed: %(fields)s") % {"fields": ", ".join(params.get("fields", []))}
        case "campaign_created":
            return _("Email campaign created")
        case "campaign_status_changed":
            return status_change(_("Email campaign: %(before)s → %(after)s"), CampaignStatus, params)
        case "start_refused":
            return _("Could not start on its day: %(reason)s") % {"reason": params.get("reason", "")}
    return event_as_stored(event)
