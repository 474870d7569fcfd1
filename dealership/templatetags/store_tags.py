"""Display helpers every app's pages share."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def money(amount) -> str:
    """An amount in dollars as the reader writes it: "$41,990" in English, "41 990 $" in French; the
    cents only when there are some ("$41,990.50")."""
    if amount is None or amount == "":
        return ""
    return _("$%(price)s") % {"price": floatformat(amount, "-2g")}
