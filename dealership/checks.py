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

# The development defaults of dealership/settings/base.py: the demo store.
DEMO_STORE = {
    "name": "Maple Motors",
    "address": "1200 King Street West, Toronto, ON M6K 1G4",
    "phone": "+1 416 555 0100",
    "website": "https://www.maplemotors.example",
}
DEMO_FROM_EMAIL = "Maple Motors <internet@maplemotors.example>"
# Top-level domains that never reach anyone (RFC 2606, RFC 6761).
RESERVED_DOMAINS = ("example", "test", "invalid", "localhost", "local")
# What each STORE_* setting holds, for the hint.
STORE_FIELDS = {
    "name": "name, as customers know it",
    "address": "street address, as printed on its mail",
    "phone": "phone number",
    "website": "website, such as https://www.yourstore.ca",
}


def _unreachable(host: str) -> bool:
    """A host customers cannot reach from the internet: loopback, any-address, a private network's
    address, or a reserved domain."""
    host = host.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host.rpartition(".")[2] in RESERVED_DOMAINS
    return address.is_loopback or address.is_unspecified or address.is_private or address.is_link_local


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
        website_unreachable = field == "website" and _unreachable(urlsplit(value).hostname or "")
        if value == demo or website_unreachable:
            messages.append(
                checks.Error(
                    f"{name} is still the demo store's ({value!r}): every message and printed item "
                    "would name another company.",
                    hint=f"Set {name} to the store's {STORE_FIELDS[field]}.",
                    obj=name,
                    id="dealership.E002",
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
    if settings.DEBUG:
        messages.append(
            checks.Error(
                "DEBUG is on: error pages would show the settings, mailbox and broker passwords "
                "included, to anyone.",
                hint="Set DEBUG=false.",
                obj="DEBUG",
                id="dealership.E005",
            )
        )
    return messages + _site_url_messages() + _store_messages() + _sender_messages() + _mailbox_messages()
