"""The store's public forms (a vehicle's page, the offers pages): how many messages one address may
send. Each message becomes a lead and an acknowledgement by mail; a robot filling the forms would
otherwise make both without end."""

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext

# A person writes the store a few messages at most; an office or a phone network shares one address
# among many people, hence a day's limit well above one person's. Each window starts at the first
# message counted in it.
PUBLIC_FORM_LIMITS = ((timedelta(minutes=10), 5), (timedelta(days=1), 20))
# An IPv6 connection is given a whole network of this size (a home's, a phone's): each of its
# addresses is the same visitor.
IPV6_VISITOR_PREFIX = 64


def _visitor(address: str) -> str:
    """Who sends from `address`, as counted: the address itself, or its IPv6 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:  # an IPv4 visitor, as an IPv6 server sees them
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/{IPV6_VISITOR_PREFIX}", strict=False))


def _counted(key: str, window: timedelta) -> int:
    """The count at `key` with one more message; 0 while the cache cannot keep it."""
    seconds = int(window.total_seconds())
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # the cache cannot be reached, or let the count go meanwhile
        return 0


def public_form_message_admit(*, address: str) -> bool:
    """Count a message sent through a public form from `address` (dealership.client_address) and
    tell whether it is within PUBLIC_FORM_LIMITS; a message beyond them must be neither stored nor
    answered. Refused messages count too: a robot sending again gains nothing. While the cache is
    down every message is let through: a customer's inquiry is never lost to an outage."""
    visitor = _visitor(address)
    counts = [
        (_counted(f"public-form-messages:{int(window.total_seconds())}:{visitor}", window), limit)
        for window, limit in PUBLIC_FORM_LIMITS
    ]
    return all(count <= limit for count, limit in counts)


def public_form_refusal() -> str:
    """What a visitor beyond PUBLIC_FORM_LIMITS reads, in the page's language: the form comes back
    with what they typed, to send later or to call about."""
    return gettext(
        "We have received many messages from your connection recently, so this one was not sent. "
        "Please try again later, or call us at %(phone)s."
    ) % {"phone": settings.STORE["phone"]}
