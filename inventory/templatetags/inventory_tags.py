"""Vehicle records as a reader reads them: in words, in their language."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from dealership.templatetags.store_tags import money
from leads.templatetags.lead_tags import choice_label, event_as_stored, status_change

from ..forms import VehicleForm
from ..models import PhotoStatus, VehicleStatus

register = template.Library()


def _money_or_dash(amount) -> str:
    return money(amount) or "—"


@register.filter
def vehicle_event_summary(event) -> str:
    """One line of a vehicle's timeline."""
    params = event.params or {}
    match event.type:
        case "created":
            return _("Vehicle added (%(status)s)") % {
                "status": choice_label(VehicleStatus, params.get("status"))
            }
        case "updated":
            form_fields = VehicleForm.base_fields
            fields = ", ".join(
                str(form_fields[name].label) if name in form_fields else name for name in params.get("fields") or []
            )
            return _("Details changed: %(fields)s") % {"fields": fields}
        case "price_changed":
            return _("Price changed: %(before)s → %(after)s") % {
                "before": _money_or_dash(params.get("old_price")),
                "after": _money_or_dash(params.get("new_price")),
            }
        case "status_changed":
            return status_change(pgettext("vehicle", "Status: %(before)s → %(after)s"), VehicleStatus, params)
        case "listed":
            return _("Shown on the website")
        case "unlisted":
            return _("Taken off the website")
        case "photos_uploaded":
            count = params.get("count") or 0
            return ngettext("%(count)d photo added", "%(count)d photos added", count) % {"count": count}
        case "photos_reordered":
            return _("Photos reordered")
        case "photo_deleted":
            return _("Photo deleted")
        case "photo_status":
            return status_change(_("Photo: %(before)s → %(after)s"), PhotoStatus, params)
    return event_as_stored(event)
