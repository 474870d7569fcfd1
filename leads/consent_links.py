"""Signed unsubscribe links: the token carries only the customer's id."""

from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "unsubscribe"


def unsubscribe_token(customer) -> str:
    return signing.dumps({"c": customer.pk}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(customer) -> str:
    """The unsubscribe page's path (no host); senders make it absolute with SITE_URL."""
    return reverse("unsubscribe", args=[unsubscribe_token(customer)])
