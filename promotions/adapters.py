"""What promotions needs from other parts of the CRM that may not be installed yet.

The consent ledger (leads.selectors.consent) and its unsubscribe links (leads.consent_links) are
used when present; until then a conservative CASL reading of the store's own records stands in.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from leads.models import Customer, LeadStatus

# CASL implied consent: an inquiry counts for 6 months, a purchase for 2 years.
INQUIRY_CONSENT = timedelta(days=183)
PURCHASE_CONSENT = timedelta(days=730)
UNSUBSCRIBE_SALT = "promotions.unsubscribe"


@dataclass(frozen=True)
class Consent:
    allowed: bool
    reason: str


def consent_for_email(*, customer: Customer, at=None) -> Consent:
    """May the store send this customer commercial email now, and why (not)."""
    try:
        from leads.selectors.consent import consent_check
    except ImportError:
        return _implied_consent(customer=customer, at=at or timezone.now())
    result = consent_check(customer=customer, channel="email", at=at)
    allowed = bool(getattr(result, "allowed", result))
    return Consent(allowed, getattr(result, "reason", "") or ("" if allowed else "No consent to email."))


def _implied_consent(*, customer: Customer, at) -> Consent:
    if hasattr(customer, "promotion_opt_out"):
        return Consent(False, "Unsubscribed from the store's email.")
    leads = customer.leads.filter(received_at__lte=at)
    if leads.filter(status=LeadStatus.SOLD, updated_at__gte=at - PURCHASE_CONSENT).exists():
        return Consent(True, "Implied consent: purchase in the last 2 years.")
    if leads.filter(received_at__gte=at - INQUIRY_CONSENT).exists():
        return Consent(True, "Implied consent: inquiry in the last 6 months.")
    return Consent(False, "No consent on record (no purchase in 2 years, no inquiry in 6 months).")


def unsubscribe_token(recipient_id: int) -> str:
    return signing.dumps(recipient_id, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, customer: Customer, recipient_id: int, website: str) -> str:
    try:
        from leads.consent_links import unsubscribe_url as ledger_unsubscribe_url
    except ImportError:
        path = reverse("offers:unsubscribe", args=[unsubscribe_token(recipient_id)])
        return website.rstrip("/") + path
    return ledger_unsubscribe_url(customer)
