"""Reads of the consent ledger. `consent_check` is the one question every commercial sender asks.

Expiry, precisely: an implied consent is valid from the moment it was given up to, not including,
the same local clock time in the store's time zone six calendar months (an inquiry) or two calendar
years (a purchase or lease; a written contract counts from the day it ends) later. A day that does
not exist in the later month is the month's last day (31 August + 6 months = 28 or 29 February).
Express consent lasts until withdrawn. A withdrawal beats every consent given before it, and only a
new express consent restores the channel afterwards: a later purchase or inquiry does not. A purchase
that did not happen after all (the deal fell through) gives no consent from the moment its end is
recorded; what it allowed until then stays as it was, and so does every other consent.
"""

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext_lazy

from ..models import ConsentAction, ConsentBasis, ConsentChannel, ConsentRecord, Customer

IMPLIED_VALIDITY = {
    ConsentBasis.IMPLIED_INQUIRY: relativedelta(months=6),
    ConsentBasis.IMPLIED_PURCHASE: relativedelta(years=2),
    ConsentBasis.BUSINESS_RELATIONSHIP: relativedelta(years=2),
}


def consent_expiry(*, basis: str, starts_at: datetime) -> datetime | None:
    """When consent on this basis, counted from starts_at, stops being valid (None: never)."""
    if basis == ConsentBasis.EXPRESS:
        return None
    local = timezone.localtime(starts_at)
    # Calendar arithmetic on the local wall clock, then back to an aware time (DST-proof).
    wall = local.replace(tzinfo=None) + IMPLIED_VALIDITY[basis]
    return timezone.make_aware(wall, local.tzinfo)


@dataclass(frozen=True)
class ConsentStatus:
    valid: bool
    channel: str
    basis: str = ""
    expires_at: datetime | None = None
    reason: str = ""
    record: ConsentRecord | None = None

    @property
    def basis_label(self) -> str:
        return ConsentBasis(self.basis).label if self.basis else ""

    @property
    def channel_label(self) -> str:
        """The channel's name, in the page's language."""
        return str(CHANNEL_NAMES[self.channel]) if self.channel in CHANNEL_NAMES else self.channel


def _refusal(*, record: ConsentRecord | None, basis: str, expires_at: datetime | None) -> str:
    """Why a standing allows nothing, in the active language: withdrawn, lapsed, ended or never given.
    Stored in English; pages show it in their language (lead_tags.consent_refusal)."""
    if record is not None and record.action == ConsentAction.WITHDRAW:
        return gettext("withdrawn on %(when)s (%(source)s)") % {
            "when": _local_minute(record.given_at),
            "source": record.source,
        }
    if record is not None and record.action == ConsentAction.END:
        return gettext("%(basis)s ended on %(when)s") % {
            "basis": ConsentBasis(record.basis).label.lower(),
            "when": _local_minute(record.given_at),
        }
    if record is not None and basis and expires_at:
        return gettext("%(basis)s expired on %(when)s") % {
            "basis": ConsentBasis(basis).label.lower(),
            "when": _local_minute(expires_at),
        }
    return gettext("no consent recorded")


def _refused(
    channel: str, *, record: ConsentRecord | None = None, basis: str = "", expires_at=None
) -> ConsentStatus:
    """A standing that allows nothing, its reason in English (it is stored)."""
    with translation.override("en"):
        reason = _refusal(record=record, basis=basis, expires_at=expires_at)
    return ConsentStatus(False, channel, basis, expires_at, reason=reason, record=record)


CHANNEL_NAMES = {
    ConsentChannel.EMAIL: pgettext_lazy("consent channel", "email"),
    ConsentChannel.TEXT: pgettext_lazy("consent channel", "text"),
    ConsentChannel.PHONE: pgettext_lazy("consent channel", "phone"),
}


def _local_minute(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def consent_ledger(*, customer: Customer, channel: str | None = None) -> QuerySet[ConsentRecord]:
    records = ConsentRecord.objects.filter(customer=customer).select_related("recorded_by")
    return records.filter(channel=channel) if channel else records


def ledger_prefetch(channel: str, path: str = "") -> Prefetch:
    """Prefetch for a batch of customers' ledgers of one channel in one query (read by
    prefetched_consent); `path` leads from the queryset's model to the customer, e.g. "customer__"."""
    return Prefetch(
        f"{path}consent_records",
        queryset=ConsentRecord.objects.filter(channel=channel),
        to_attr=f"{channel}_ledger",
    )


def email_ledger_prefetch(path: str = "") -> Prefetch:
    return ledger_prefetch(ConsentChannel.EMAIL, path)


def prefetched_consent(customer: Customer, *, channel: str, at: datetime) -> ConsentStatus:
    """consent_check from the ledger ledger_prefetch read with the customer."""
    return consent_status(getattr(customer, f"{channel}_ledger"), channel=channel, at=at)


def email_consent(customer: Customer, *, at: datetime) -> ConsentStatus:
    return prefetched_consent(customer, channel=ConsentChannel.EMAIL, at=at)


def consent_check(*, customer: Customer, channel: str, at: datetime | None = None) -> ConsentStatus:
    """May the store send this customer a commercial message on this channel at this moment?"""
    at = at or timezone.now()
    return consent_status(list(consent_ledger(customer=customer, channel=channel)), channel=channel, at=at)


def consent_withdrawn(status: ConsentStatus) -> bool:
    """Has the customer asked for no more on this channel (and not granted it again since)? On
    the phone that is the store's do-not-call list: no sales call, whatever else allows one."""
    return not status.valid and status.record is not None and status.record.action == ConsentAction.WITHDRAW


def _endings(records: list[ConsentRecord]) -> dict[tuple[str, datetime], ConsentRecord]:
    """The end rows among these, by the grants they end: (basis, given at the purchase's moment)."""
    return {
        (r.basis, datetime.fromisoformat(r.evidence["purchase_at"])): r
        for r in records
        if r.action == ConsentAction.END
    }


def consent_status(records: list[ConsentRecord], *, channel: str, at: datetime) -> ConsentStatus:
    """consent_check's answer from ledger rows already loaded (ordered by given_at, pk)."""
    records = [r for r in records if r.channel == channel and r.given_at <= at]
    withdrawals = [r for r in records if r.action == ConsentAction.WITHDRAW]
    last_withdrawal = withdrawals[-1] if withdrawals else None
    endings = _endings(records)
    grants = [r for r in records if r.action == ConsentAction.GRANT]
    ended = [endings[(r.basis, r.given_at)] for r in grants if (r.basis, r.given_at) in endings]
    grants = [r for r in grants if (r.basis, r.given_at) not in endings]
    if last_withdrawal:
        # Ordered by (given_at, pk): a grant recorded after the withdrawal at the same instant counts.
        grants = [r for r in grants if (r.given_at, r.pk) > (last_withdrawal.given_at, last_withdrawal.pk)]
        grants = [r for r in grants if r.basis == ConsentBasis.EXPRESS]
    if express := [r for r in grants if r.basis == ConsentBasis.EXPRESS]:
        return ConsentStatus(True, channel, ConsentBasis.EXPRESS, None, record=express[-1])
    current = [r for r in grants if r.expires_at and r.expires_at > at]
    if current:
        best = max(current, key=lambda r: r.expires_at)
        return ConsentStatus(True, channel, best.basis, best.expires_at, record=best)
    if last_withdrawal:
        return _refused(channel, record=last_withdrawal)
    # Nothing allows it any more: the last consent to lapse or to end says why.
    lapsed = max(grants, key=lambda r: r.expires_at) if grants else None
    last_end = max(ended, key=lambda r: r.given_at) if ended else None
    if last_end and not (lapsed and lapsed.expires_at > last_end.given_at):
        return _refused(channel, record=last_end, basis=last_end.basis)
    if lapsed:
        return _refused(channel, record=lapsed, basis=lapsed.basis, expires_at=lapsed.expires_at)
    return _refused(channel)


def consent_overview(*, customer: Customer, at: datetime | None = None) -> list[ConsentStatus]:
    """The standing of every channel, from one read of the ledger."""
    records, at = list(consent_ledger(customer=customer)), at or timezone.now()
    return [consent_status(records, channel=channel, at=at) for channel in ConsentChannel.values]


def consent_channels_withdrawn(*, customer: Customer) -> list[str]:
    """The channels on which the customer asked for no more messages, and has not asked again since."""
    return customers_channels_withdrawn(customer_ids=[customer.pk])[customer.pk]


def customers_channels_withdrawn(*, customer_ids) -> dict[int, list[str]]:
    """consent_channels_withdrawn for many customers, from one read of their ledgers."""
    ledgers: dict[int, list[ConsentRecord]] = {pk: [] for pk in customer_ids}
    for record in ConsentRecord.objects.filter(customer_id__in=ledgers):
        ledgers[record.customer_id].append(record)
    now = timezone.now()
    return {
        pk: [
            channel
            for channel in ConsentChannel.values
            if consent_withdrawn(consent_status(records, channel=channel, at=now))
        ]
        for pk, records in ledgers.items()
    }
