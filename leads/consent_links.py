"""Signed unsubscribe links: the token carries only the customer's id."""

import re
from urllib.parse import urlencode

from django.core import signing
from django.urls import reverse

from .models import Language

UNSUBSCRIBE_SALT = "unsubscribe"


def unsubscribe_token(customer) -> str:
    """The same token every time for the same customer (no timestamp: the links never expire), so
    a mail's footer and its List-Unsubscribe header always agree, whenever each is made."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"c": customer.pk})


def unsubscribe_url(customer, *, language: str = "") -> str:
    """The unsubscribe page's path (no host); senders make it absolute with SITE_URL. `language`,
    the mail's, rides beside the token and never in it: the page opens in the mail's language, and
    a link without it (or mailed before it existed) still works."""
    path = reverse("unsubscribe", args=[unsubscribe_token(customer)])
    language = unsubscribe_link_language(language)
    return f"{path}?{urlencode({'lang': language})}" if language else path


def unsubscribe_link_language(value: str | None) -> str:
    """The mail's language a link carries: "" when it carries none, or none of ours."""
    return value if value in Language.values else ""


# The language an unsubscribe link carries, as unsubscribe_url writes it.
LINK_LANGUAGE = re.compile(rf"/\?lang=({'|'.join(Language.values)})\b")


def unsubscribe_language_in(text: str) -> str:
    """The language of the last unsubscribe link in a mail's text (its footer's); "" without one."""
    found = LINK_LANGUAGE.findall(text)
    return found[-1] if found else ""
