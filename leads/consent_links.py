"""Signed unsubscribe links: the token carries only the customer's id."""

from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "unsubscribe"


def unsubscribe_token(customer) -> str:
    """The same token every time for the same customer (no timestamp: the links never expire), so
    a mail's footer and its List-Unsubscribe header always agree, whenever each is made."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"c": customer.pk})


def unsubscribe_url(customer) -> str:
    """The unsubscribe page's path (no host); senders make it absolute with SITE_URL."""
    return reverse("unsubscribe", args=[unsubscribe_token(customer)])
