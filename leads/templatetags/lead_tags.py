from django import template

register = template.Library()


@register.filter
def minutes_span(minutes: int | None) -> str:
    """12 → "12 min", 135 → "2 h 15", 3000 → "50 h"."""
    if minutes is None:
        return "—"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if hours < 10 else f"{hours} h"
