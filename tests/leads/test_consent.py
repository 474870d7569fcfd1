"""The consent ledger: expiry at its exact boundaries, withdrawal, restoration, append-only rows.

Boundaries (store time zone, America/Toronto): implied consent is valid up to, not including, the
same local clock time six calendar months (inquiry) or two calendar years (purchase) later.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leads.models import ConsentBasis, ConsentRecord
from leads.models.append_only import AppendOnlyError
from leads.selectors.consent import consent_check, consent_expiry
from leads.services.consent import (
    consent_grant,
    consent_record_inquiry,
    consent_record_purchase,
    consent_withdraw,
)
from tests import factories

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")
SECOND = timedelta(seconds=1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TORONTO)


def test_inquiry_consent_lasts_six_calendar_months_to_the_second():
    customer = factories.customer()
    inquiry = at(2026, 3, 15, 14, 30, 0)
    consent_record_inquiry(customer=customer, at=inquiry, source="AutoTrader lead")
    end = at(2026, 9, 15, 14, 30, 0)  # across the November DST change the local time still holds
    assert consent_check(customer=customer, channel="email", at=inquiry).valid
    last = consent_check(customer=customer, channel="email", at=end - SECOND)
    assert last.valid and last.basis == ConsentBasis.IMPLIED_INQUIRY and last.expires_at == end
    lapsed = consent_check(customer=customer, channel="email", at=end)
    assert not lapsed.valid and "expired on 2026-09-15 14:30" in lapsed.reason
    assert not consent_check(customer=customer, channel="email", at=inquiry - SECOND).valid


def test_six_months_from_the_31st_ends_on_the_last_day_of_a_short_month():
    assert consent_expiry(basis=ConsentBasis.IMPLIED_INQUIRY, starts_at=at(2026, 8, 31, 9, 0)) == at(
        2027, 2, 28, 9, 0
    )
    assert consent_expiry(basis=ConsentBasis.IMPLIED_INQUIRY, starts_at=at(2027, 8, 31, 9, 0)) == at(
        2028, 2, 29, 9, 0
    )


def test_purchase_consent_lasts_two_years_to_the_day():
    customer = factories.customer()
    bought = at(2024, 2, 29, 10, 0)  # a leap day: two years later is 28 February
    consent_record_purchase(customer=customer, at=bought, source="Sale of a 2024 RAV4")
    assert consent_check(customer=customer, channel="email", at=at(2026, 2, 28, 9, 59, 59)).valid
    assert not consent_check(customer=customer, channel="email", at=at(2026, 2, 28, 10, 0)).valid
    # The day before the boundary day is fine all day; the day after is not.
    assert consent_check(customer=customer, channel="email", at=at(2026, 2, 27, 23, 59, 59)).valid
    assert not consent_check(customer=customer, channel="email", at=at(2026, 3, 1, 0, 0)).valid


def test_phone_calls_need_express_consent():
    customer = factories.customer(phone="416 555 0101")
    consent_record_inquiry(customer=customer, at=at(2026, 1, 5, 9), source="Website")
    status = consent_check(customer=customer, channel="phone", at=at(2026, 1, 6, 9))
    assert not status.valid and status.reason == "no consent recorded"


def test_unsubscribe_wins_and_only_new_express_consent_restores():
    customer = factories.customer()
    consent_grant(
        customer=customer, channels=["email"], basis=ConsentBasis.EXPRESS, at=at(2026, 1, 1, 9),
        source="Showroom tablet", wording="Yes, send me offers from Maple Motors.", proof_form="showroom-optin-v2",
        proof_ip="203.0.113.9",
    )  # fmt: skip
    assert consent_check(
        customer=customer, channel="email", at=at(2030, 1, 1)
    ).valid  # express does not expire
    consent_withdraw(customer=customer, channels=["email"], source="unsubscribe link", at=at(2026, 2, 1, 9))
    withdrawn = consent_check(customer=customer, channel="email", at=at(2026, 2, 1, 9))
    assert not withdrawn.valid and withdrawn.reason.startswith("withdrawn on 2026-02-01 09:00")
    # Still valid before the withdrawal: the ledger answers for any moment.
    assert consent_check(customer=customer, channel="email", at=at(2026, 2, 1, 8, 59, 59)).valid
    # A later purchase implies consent, but it does not undo an unsubscribe.
    consent_record_purchase(customer=customer, at=at(2026, 3, 1, 9), source="Sale")
    assert not consent_check(customer=customer, channel="email", at=at(2026, 3, 2)).valid
    consent_grant(
        customer=customer, channels=["email"], basis=ConsentBasis.EXPRESS, at=at(2026, 4, 1, 9),
        source="Web form", wording="Yes, send me offers.", proof_form="web-optin", proof_ip="198.51.100.4",
    )  # fmt: skip
    restored = consent_check(customer=customer, channel="email", at=at(2026, 4, 1, 9))
    assert restored.valid and restored.basis == ConsentBasis.EXPRESS and restored.expires_at is None


def test_contract_consent_counts_two_years_from_the_contract_end():
    customer = factories.customer()
    consent_grant(
        customer=customer, channels=["email"], basis=ConsentBasis.BUSINESS_RELATIONSHIP, at=at(2020, 5, 1, 12),
        source="Extended warranty contract", relationship_ends_at=at(2025, 5, 1, 12),
    )  # fmt: skip
    assert consent_check(customer=customer, channel="email", at=at(2027, 5, 1, 11, 59, 59)).valid
    assert not consent_check(customer=customer, channel="email", at=at(2027, 5, 1, 12)).valid


def test_express_consent_needs_its_wording():
    with pytest.raises(ValueError, match="wording"):
        consent_grant(
            customer=factories.customer(), channels=["email"], basis=ConsentBasis.EXPRESS, at=at(2026, 1, 1),
            source="Web form",
        )  # fmt: skip


def test_the_ledger_is_never_edited_or_deleted_and_every_change_is_audited():
    customer = factories.customer()
    [record] = consent_withdraw(customer=customer, channels=["email"], source="phone call")
    record.source = "something else"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.filter(pk=record.pk).update(source="x")
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.filter(pk=record.pk).delete()
    entry = customer.audit_entries.get(action="consent_withdraw")
    assert entry.changes == {"email": ["none (no consent recorded)", entry.changes["email"][1]]}
    assert entry.changes["email"][1].startswith("none (withdrawn on")


def test_recording_the_same_inquiry_twice_adds_nothing():
    customer = factories.customer(phone="416 555 0102")
    when = at(2026, 6, 1, 10)
    assert len(consent_record_inquiry(customer=customer, at=when, source="Website")) == 2  # email and text
    assert consent_record_inquiry(customer=customer, at=when, source="Website") == []
