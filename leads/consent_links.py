"""Signed unsubscribe links for commercial mail.

The token carries only the customer's id, signed with the "unsubscribe" salt; the page at
/u/<token>/ that reads it (signing.loads(token, salt=UNSUBSCRIBE_SALT)) and records the withdrawal
belongs to the consent ledger.
"""

from django.conf import settings
from django.core import signing

UNSUBSCRIBE_SALT = "unsubscribe"


def unsubscribe_token(customer) -> str:
    return signing.dumps({"c": customer.pk}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(customer) -> str:
    return f"{settings.SITE_URL}/u/{unsubscribe_token(customer)}/"
