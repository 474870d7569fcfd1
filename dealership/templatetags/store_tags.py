"""Display helpers every app's pages share."""

from urllib.parse import urlsplit, urlunsplit

from django import template
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from dealership.text import in_both_languages
from leads.normalize import normalize_phone

register = template.Library()


@register.filter
def money(amount) -> str:
    """An amount in dollars as the reader writes it: "$41,990" in English, "41 990 $" in French; the
    cents only when there are some ("$41,990.50")."""
    if amount is None or amount == "":
        return ""
    return _("$%(price)s") % {"price": floatformat(amount, "-2g")}


@register.filter
def km(distance) -> str:
    """A distance in kilometres, grouped as the reader writes numbers: "38,700 km", "38 700 km"."""
    if distance is None or distance == "":
        return ""
    return _("%(km)s km") % {"km": floatformat(distance, "0g")}


@register.filter
def percent(rate, decimals=None) -> str:
    """A rate in percent, its number as the reader writes it ("33.3", "33,3"; `decimals`: rounded to
    that many) and its sign kept on the same line by a no-break space, as French typography wants;
    "—" for no rate (nothing to divide)."""
    if rate is None or rate == "":
        return "—"
    number = formats.localize(rate) if decimals is None else floatformat(rate, decimals)
    return f"{number}\u00a0%"


def tel_link(number: str, shown: str) -> str:
    """`shown` in a link a phone taps to call `number`; `shown` alone when the number cannot be
    dialled from afar (no area code)."""
    dialable = normalize_phone(number)
    return format_html('<a href="tel:{}">{}</a>', dialable, shown) if dialable else shown


@register.filter
def phone_link(number: str) -> str:
    """A phone number as written (the store's), tapped to call."""
    return tel_link(number, number)


# The short formats pages write dates in, each translated as a date format. Written out here so
# that they are found for translation: the templates only name them.
DATE_FORMATS = {
    "M j": pgettext_lazy("date format", "M j"),
    "D M j": pgettext_lazy("date format", "D M j"),
    "M j, g:i A": pgettext_lazy("date format", "M j, g:i A"),
    "D M j, g:i A": pgettext_lazy("date format", "D M j, g:i A"),
    "D M j, Y, g:i A": pgettext_lazy("date format", "D M j, Y, g:i A"),
}


@register.filter(expects_localtime=True)
def local_date(value, english_format: str) -> str:
    """A date or time in the store's time zone, in one of DATE_FORMATS, given in English: French
    writes its short months in lower case ("1 déc."), which Django's M does not."""
    if value in (None, ""):
        return ""
    return formats.date_format(value, str(DATE_FORMATS[english_format]))


@register.simple_tag(takes_context=True)
def language_switch_next(context) -> str:
    """Where the menu's language switch brings the person back: this page, in the other language. A
    page shown in answer to a form is often at an address that takes forms only (a refused answer
    at /leads/5/reply/); then the page's own address when its view gives one (`page_address`: the
    lead, the customer, the vehicle), else the page they came from when it is on this site, else
    the home page."""
    request = context["request"]
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    if context.get("page_address"):
        return context["page_address"]
    came_from = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(
        came_from, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        address = urlsplit(came_from)
        return urlunsplit(("", "", address.path or "/", address.query, ""))
    return reverse("home")


register.simple_tag(in_both_languages)
