"""The address a request comes from, as every part of the product reads it: log-in throttling
(django-axes), the proof of an unsubscribe (CASL) and the limits of the public forms."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The visitor's IP address; "" when the server gives none.

    Without a proxy (TRUSTED_PROXIES=0) it is the address that connected: X-Forwarded-For is then
    whatever the visitor chose to send, and ignored. Behind TRUSTED_PROXIES reverse proxies, each
    appends the address it was reached from, so the visitor's is that many places from the right;
    anything further left was sent by the visitor and may be forged."""
    connected = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",")] if header else []
    if not proxies or len(forwarded) < proxies:
        # Fewer addresses than proxies: the request did not come through them all (a health check on
        # the server itself), and only the address that connected is known.
        return connected
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:  # not an address: none of the proxies wrote it
        return connected
