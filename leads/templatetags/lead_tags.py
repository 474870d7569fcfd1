from django import template

from ..models.leads import LEAD_STATUS_LABELS
from ..normalize import phone_display

register = template.Library()


register.filter("phone", phone_display)


@register.filter
def minutes_span(minutes: int | None) -> str:
    """12 → "12 min", 135 → "2 h 15", 3000 → "50 h"."""
    if minutes is None:
        return "—"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if hours < 10 else f"{hours} h"


@register.filter
def event_summary(event) -> str:
    """One readable line for a timeline event."""
    params = event.params or {}
    match event.type:
        case "created":
            return f"Lead received from {params.get('source') or 'an unknown source'}"
        case "status_changed":
            before, after = params.get("from_status"), params.get("to_status")
            text = (
                f"Status: {LEAD_STATUS_LABELS.get(before, before)} → {LEAD_STATUS_LABELS.get(after, after)}"
            )
            return f"{text} ({params['reason']})" if params.get("reason") else text
        case "first_response":
            return f"First answer ({params.get('channel')}) after {minutes_span(params.get('business_minutes'))} of business time"
        case "merged" if "into_lead" in params:
            return f"Merged into lead {params['into_lead']}"
        case "merged":
            return f"Lead {params.get('merged_lead')} merged into this one"
    details = ", ".join(f"{key}: {value}" for key, value in params.items() if value not in ("", None))
    return event.type.replace("_", " ").capitalize() + (f" ({details})" if details else "")
