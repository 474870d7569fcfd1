"""Deployment checks of the store's settings (`manage.py check --deploy`).

Every commercial message names the store and carries an unsubscribe link (CASL, CAN-SPAM): a
deployment still on the demo store's identity, or on an address only this machine can reach, would
mail customers another company's name and a link that cannot work.
"""

import ipaddress
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.http.request import validate_host
from django.utils.http import is_same_domain

from .text import web_address

# The development defaults of dealership/settings/base.py: the demo store.
DEMO_STORE = {
    "name": "Maple Motors",
    "address": "1200 King Street West, Toronto, ON M6K 1G4",
    "phone": "+1 416 555 0100",
    "website": "https://www.maplemotors.example",
}
DEMO_FROM_EMAIL = "Maple Motors <internet@maplemotors.example>"
# Domains no customer reaches from the internet: reserved ones (RFC 2606, RFC 6761), and those of a
# home or company network only (home.arpa, RFC 8375; .internal, reserved by ICANN; the .lan, .home,
# .corp, .intranet, .private and .localdomain that routers and networks use, RFC 6762 appendix G).
RESERVED_DOMAINS = (
    *("example", "test", "invalid", "localhost", "local", "home.arpa", "internal"),
    *("lan", "home", "corp", "intranet", "private", "localdomain"),
)
# What each STORE_* setting holds, for the hint.
STORE_FIELDS = {
    "name": "name, as customers know it",
    "address": "street address, as printed on its mail",
    "phone": "phone number",
    "website": "website, such as https://www.yourstore.ca",
}


def _unreachable(host: str) -> bool:
    """A host customers cannot reach from the internet: an address that is not the internet's
    (loopback, any-address, a private network's, a carrier's shared ones), a name of one label only
    ("crm", which only the store's own network resolves), or one in a reserved or private domain."""
    host = host.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host or any(
            host == domain or host.endswith(f".{domain}") for domain in RESERVED_DOMAINS
        )
    return not address.is_global or address.is_multicast


def _answered_at(parts) -> bool:
    """Whether this application answers at SITE_URL (split in `parts`): its host is in ALLOWED_HOSTS,
    or, behind a proxy that sends its own Host header, its origin is in CSRF_TRUSTED_ORIGINS."""
    host = parts.hostname.rstrip(".")
    if validate_host(f"[{host}]" if ":" in host else host, settings.ALLOWED_HOSTS):
        return True
    netloc = parts.netloc.rpartition("@")[2].lower()
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        origin = urlsplit(trusted.lower())
        if origin.scheme == parts.scheme and (
            origin.netloc == netloc
            or ("*" in origin.netloc and is_same_domain(netloc, origin.netloc.lstrip("*")))
        ):
            return True
    return False


def _site_url_messages() -> list:
    value = settings.SITE_URL
    parts = urlsplit(value)
    hint = (
        "Set SITE_URL to the https:// address people reach this application at, such as "
        "https://crm.yourstore.ca: the unsubscribe link of every mail is made from it."
    )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            checks.Error(
                f"SITE_URL {value!r} is not a full address.", hint=hint, obj="SITE_URL", id="dealership.E001"
            )
        ]
    if _unreachable(parts.hostname):
        return [
            checks.Error(
                f"SITE_URL is {value!r}, an address the store's customers cannot reach: the "
                "unsubscribe links in its mail would not work.",
                hint=hint,
                obj="SITE_URL",
                id="dealership.E001",
            )
        ]
    if not _answered_at(parts):
        allowed = ", ".join(settings.ALLOWED_HOSTS) or "none"
        website = (urlsplit(web_address(settings.STORE["website"])).hostname or "").lower()
        mistaken = (
            " That is the store's website (STORE_WEBSITE), not this application's address."
            if parts.hostname == website
            else ""
        )
        return [
            checks.Error(
                f"SITE_URL is {value!r}, but this application answers only at ALLOWED_HOSTS ({allowed}): "
                "every QR code, campaign link and unsubscribe link would open another site or an error "
                f"page.{mistaken}",
                hint=(
                    "Set SITE_URL to the address people reach this application at, such as "
                    "https://crm.yourstore.ca, and put its host name in ALLOWED_HOSTS (behind a proxy "
                    "that sends its own Host header, put SITE_URL in CSRF_TRUSTED_ORIGINS instead)."
                ),
                obj="SITE_URL",
                id="dealership.E006",
            )
        ]
    if parts.scheme != "https":
        return [
            checks.Warning(
                f"SITE_URL {value!r} is not https: links in the store's mail would go through plain HTTP.",
                hint=hint,
                obj="SITE_URL",
                id="dealership.W001",
            )
        ]
    return []


def _store_messages() -> list:
    messages = []
    for field, demo in DEMO_STORE.items():
        name, value = f"STORE_{field.upper()}", settings.STORE[field]
        hint = f"Set {name} to the store's {STORE_FIELDS[field]}."
        if value == demo:
            messages.append(
                checks.Error(
                    f"{name} is still the demo store's ({value!r}): every message and printed item "
                    "would name another company.",
                    hint=hint,
                    obj=name,
                    id="dealership.E002",
                )
            )
        elif field == "website" and (host := urlsplit(web_address(value)).hostname) and _unreachable(host):
            messages.append(
                checks.Error(
                    f"{name} is {value!r}, an address the store's customers cannot reach: it is "
                    "printed on the store's cards and leaflets for them to visit.",
                    hint=hint,
                    obj=name,
                    id="dealership.E007",
                )
            )
    return messages


def _sender_messages() -> list:
    value = settings.DEFAULT_FROM_EMAIL
    local, at, domain = parseaddr(value)[1].rpartition("@")
    if value != DEMO_FROM_EMAIL and local and at and "." in domain and not _unreachable(domain):
        return []
    return [
        checks.Error(
            f"DEFAULT_FROM_EMAIL is {value!r}: the store's mail would leave from an address nobody "
            "can write back to.",
            hint=(
                "Set DEFAULT_FROM_EMAIL to the store's sending address, such as "
                '"Your Store <internet@yourstore.ca>"; replies to it must reach MAILBOX_URL.'
            ),
            obj="DEFAULT_FROM_EMAIL",
            id="dealership.E003",
        )
    ]


def _mailbox_messages() -> list:
    demo = f"maildir://{settings.VAR_DIR / 'mailbox'}"
    if demo not in (url.strip() for url in settings.MAILBOX_URLS):
        return []
    return [
        checks.Error(
            f"MAILBOX_URL is still the demo mailbox ({demo}), where no customer's mail arrives.",
            hint=(
                "Set MAILBOX_URL to the store's lead mailbox, such as "
                "imaps://leads%40yourstore.ca:password@imap.yourstore.ca/INBOX."
            ),
            obj="MAILBOX_URL",
            id="dealership.E004",
        )
    ]


def store_identity_check(app_configs, **kwargs) -> list:
    """The store's own identity, address and mailbox, and debug off, for a deployment."""
    messages = []
    # Django's own security.W018 says the same as a warning only, which `check --deploy` lets pass:
    # here it is an error, for Django's error pages hide only settings named like a password (not
    # the passwords inside MAILBOX_URL, CELERY_BROKER_URL and CACHE_URL).
    if settings.DEBUG:
        messages.append(
            checks.Error(
                "DEBUG is on: error pages would show the settings, mailbox and broker passwords "
                "included, to anyone.",
                hint=(
                    "Set DEBUG=false. Django's security.W018 warns of it too; here it is an error, so "
                    "that check --deploy fails on it."
                ),
                obj="DEBUG",
                id="dealership.E005",
            )
        )
    return messages + _site_url_messages() + _store_messages() + _sender_messages() + _mailbox_messages()
