"""A sold lead whose deal fell through (financing refused, the customer backed out, a sale clicked by
mistake): a supervisor or a manager marks it lost, and the sale comes off the figures, the customer's
history and the implied consent it gave, every step of it recorded."""

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from leads.models import ConsentAction, ConsentBasis, ConsentChannel, HistoryKind, LeadStatus
from leads.selectors.consent import consent_check, consent_overview
from leads.selectors.customers import customer_audit, customer_timeline
from leads.services.consent import consent_grant
from leads.services.customer_import import IMPORT_SOURCE, import_apply, import_create
from leads.services.customers import customer_merge, history_item_add, history_item_remove
from leads.services.leads import TransitionError, contact_log, lead_transition
from tests import factories

pytestmark = pytest.mark.django_db


def _sold(**fields):
    """A lead sold by its advisor, who reached the customer first; an inquiry received now unless told."""
    advisor = factories.advisor().user
    fields.setdefault("vehicles", [{"year": 2025, "make": "Toyota", "model": "RAV4"}])
    lead = factories.lead(owner=advisor, **fields)
    contact_log(lead=lead, author=advisor, channel="phone", outcome="reached")
    lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=advisor, by_hand=True)
    lead.refresh_from_db()
    return lead


def _fell_through(lead, *, reason="Financing refused", role=Role.SUPERVISOR):
    """The lead marked lost from its page by a new supervisor (or manager), who is returned with it."""
    person = factories.staff(role).user
    lead = lead_transition(lead=lead, to_status=LeadStatus.LOST, actor=person, reason=reason, by_hand=True)
    lead.refresh_from_db()
    return lead, person


def _email_standing(customer, at=None):
    return consent_check(customer=customer, channel=ConsentChannel.EMAIL, at=at)


def test_a_supervisor_records_that_the_deal_fell_through_and_the_timeline_keeps_the_sale_and_why():
    lead = _sold()
    sold_at = lead.sold_at
    lead, supervisor = _fell_through(lead)
    assert (lead.status, lead.lost_reason, lead.sold_at) == (LeadStatus.LOST, "Financing refused", None)
    assert lead.contacted_at is not None  # the customer was reached all the same
    event = lead.events.filter(type="status_changed").last()
    assert event.actor == supervisor
    assert event.params == {
        "from_status": LeadStatus.SOLD,
        "to_status": LeadStatus.LOST,
        "reason": "Financing refused",
        "sold_at": sold_at.isoformat(),
        "history_taken_off": 1,
    }


def test_a_manager_may_too_and_the_lead_reopens_as_contacted_then_sells_again_as_any_lost_lead():
    lead, _ = _fell_through(_sold(), role=Role.MANAGER, reason="Customer backed out")
    manager = factories.staff(Role.MANAGER).user
    lead = lead_transition(lead=lead, to_status=LeadStatus.CONTACTED, actor=manager, by_hand=True)
    lead = lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=manager, by_hand=True)
    lead.refresh_from_db()
    assert lead.sold_at is not None
    [purchase] = lead.customer.history_items.filter(kind=HistoryKind.PURCHASE)
    assert purchase.occurred_at == lead.sold_at
    # The new sale gives its own two years, which the first one's end does not touch.
    standing = _email_standing(lead.customer, at=lead.sold_at + timedelta(days=400))
    assert standing.valid and standing.basis == ConsentBasis.IMPLIED_PURCHASE


def test_a_deal_that_fell_through_is_nobodys_sale_until_the_lead_sells_again():
    from leads.services.leads import lead_assign

    lead = _sold()
    assert lead.sold_by == lead.owner
    lead, manager = _fell_through(lead, role=Role.MANAGER)
    assert lead.sold_by is None
    bob = factories.advisor(first_name="Bob", last_name="Roy").user
    lead_assign(lead=lead, owner=bob, actor=manager)
    lead = lead_transition(lead=lead, to_status=LeadStatus.CONTACTED, actor=manager, by_hand=True)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=bob, by_hand=True)
    lead.refresh_from_db()
    assert lead.sold_by == bob


def test_a_deal_fell_through_needs_a_reason_and_changes_nothing_without_one():
    lead = _sold()
    with pytest.raises(TransitionError, match="Say why the lead was lost."):
        _fell_through(lead, reason="  ")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD and lead.sold_at is not None
    assert lead.customer.history_items.filter(kind=HistoryKind.PURCHASE).exists()


@pytest.mark.parametrize("who", ["advisor", "nobody"])
def test_only_a_supervisor_or_a_manager_takes_a_sale_back(who):
    lead = _sold()
    actor = lead.owner if who == "advisor" else None
    with pytest.raises(
        TransitionError, match="Only a supervisor or a manager can record that a deal fell through"
    ):
        lead_transition(lead=lead, to_status=LeadStatus.LOST, actor=actor, reason="Financing refused")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SOLD and lead.sold_at is not None
    assert lead.customer.history_items.filter(kind=HistoryKind.PURCHASE).exists()


def test_the_purchase_comes_off_the_customers_history_and_the_audit_trail_keeps_it_with_why():
    lead = _sold(vehicles=[{"year": 2025, "make": "Toyota", "model": "RAV4", "vin": factories.vin(11)}])
    customer = lead.customer
    lead, supervisor = _fell_through(lead)
    assert not customer.history_items.filter(kind=HistoryKind.PURCHASE).exists()
    supervisor_view = [
        (entry.kind, entry.summary) for entry in customer_timeline(customer=customer, user=supervisor)
    ]
    assert ("Purchase", "2025 Toyota RAV4") not in supervisor_view
    removed = customer_audit(customer=customer).get(action="history_removed")
    assert removed.actor == supervisor
    assert removed.changes["history"][0].startswith("Purchase: 2025 Toyota RAV4 (")
    assert removed.changes["history"][1] is None
    assert removed.changes["vin"] == [factories.vin(11), None]
    assert removed.changes["lead"] == [lead.pk, None]
    assert removed.changes["reason"] == [None, "Financing refused"]
    # The consent the purchase gave ends beside it, its standing before and after audited.
    ended = customer_audit(customer=customer).get(action="consent_end")
    assert ended.changes == {"email": ["implied_purchase", "implied_inquiry"]}


def test_the_purchase_consent_ends_from_now_and_the_inquirys_six_months_are_what_is_left():
    lead = _sold(customer_obj=factories.customer(phone="514 555-0123"))
    customer, sold_at = lead.customer, lead.sold_at
    _fell_through(lead)
    now = _email_standing(customer)
    assert now.valid and now.basis == ConsentBasis.IMPLIED_INQUIRY
    assert now.expires_at < sold_at + timedelta(days=200)
    # Mail sent while the sale stood was sent under the consent it gave then: the ledger says so still.
    then = _email_standing(customer, at=sold_at)
    assert then.valid and then.basis == ConsentBasis.IMPLIED_PURCHASE
    # Texts too: the end is a row of its own on each channel the purchase gave, never an edit.
    ends = customer.consent_records.filter(action=ConsentAction.END)
    assert sorted((end.channel, end.basis, end.source) for end in ends) == [
        ("email", ConsentBasis.IMPLIED_PURCHASE, "Purchase: 2025 Toyota RAV4"),
        ("text", ConsentBasis.IMPLIED_PURCHASE, "Purchase: 2025 Toyota RAV4"),
    ]
    standing = {status.channel: status for status in consent_overview(customer=customer)}
    assert standing["text"].valid and standing["text"].basis == ConsentBasis.IMPLIED_INQUIRY


def test_with_the_inquiry_long_lapsed_nothing_allows_commercial_email_once_the_deal_fell_through():
    lead = _sold(received_at=timezone.now() - timedelta(days=220))
    customer = lead.customer
    assert _email_standing(customer).valid  # the sale's two years
    _fell_through(lead)
    standing = _email_standing(customer)
    assert not standing.valid
    assert standing.reason.startswith("implied: purchase or lease (two years) ended on ")


def test_express_consent_given_after_the_sale_and_an_earlier_purchase_outlive_the_deal_falling_through():
    lead = _sold(received_at=timezone.now() - timedelta(days=220))
    customer = lead.customer
    consent_grant(
        customer=customer,
        channels=[ConsentChannel.EMAIL],
        basis=ConsentBasis.EXPRESS,
        at=timezone.now(),
        source="Told staff",
        wording="Yes, send me your offers.",
    )
    bought_before = _sold(customer_obj=factories.customer(), received_at=timezone.now() - timedelta(days=220))
    history_item_add(
        customer=bought_before.customer,
        kind=HistoryKind.PURCHASE,
        occurred_at=timezone.now() - timedelta(days=300),
        summary="2019 Honda Civic",
    )
    _fell_through(lead)
    _fell_through(bought_before)
    assert _email_standing(customer).basis == ConsentBasis.EXPRESS and _email_standing(customer).valid
    earlier = _email_standing(bought_before.customer)
    assert earlier.valid and earlier.basis == ConsentBasis.IMPLIED_PURCHASE
    assert earlier.expires_at < timezone.now() + timedelta(
        days=500
    )  # the 2019 Civic's, not the undone sale's


def _imported_deal(customer, *, vin: str, reference: str, kind=HistoryKind.PURCHASE):
    """The store's DMS import bringing a deal of today, at noon as imports do."""
    noon = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    return history_item_add(
        customer=customer,
        kind=kind,
        occurred_at=min(noon, timezone.now()),
        summary=f"Purchase 2025 Toyota RAV4 #{reference}",
        source=IMPORT_SOURCE,
        external_ref=reference,
        vin=vin,
    )


def test_once_the_deal_fell_through_the_dms_copy_of_the_same_sale_gives_no_consent_either():
    vin = factories.vin(7)
    lead = _sold(
        received_at=timezone.now() - timedelta(days=220),  # the inquiry's six months are over
        vehicles=[{"year": 2025, "make": "Toyota", "model": "RAV4", "vin": vin}],
    )
    customer = lead.customer
    _imported_deal(customer, vin=vin, reference="D1234")
    lead, supervisor = _fell_through(lead)
    assert not _email_standing(customer).valid
    # The DMS copy comes off as the lead's own purchase does, each with its audit entry and its end.
    assert not customer.history_items.filter(kind=HistoryKind.PURCHASE).exists()
    removed = customer_audit(customer=customer).filter(action="history_removed")
    assert sorted(entry.changes["vin"][0] for entry in removed) == [vin, vin]
    assert {entry.actor for entry in removed} == {supervisor}
    ends = customer.consent_records.filter(action=ConsentAction.END, channel=ConsentChannel.EMAIL)
    assert ends.count() == 2
    assert lead.events.filter(type="status_changed").last().params["history_taken_off"] == 2


@pytest.mark.parametrize(
    ("sold_vin", "imported_vin"),
    [("", ""), (factories.vin(21), factories.vin(22))],
    ids=["the sale has no vin", "another vehicle"],
)
def test_an_imported_deal_not_known_to_be_the_same_vehicle_stays_with_its_consent(sold_vin, imported_vin):
    lead = _sold(
        received_at=timezone.now() - timedelta(days=220),
        vehicles=[{"year": 2025, "make": "Toyota", "model": "RAV4", "vin": sold_vin}],
    )
    customer = lead.customer
    imported = _imported_deal(customer, vin=imported_vin, reference="D2000", kind=HistoryKind.LEASE)
    lead, _ = _fell_through(lead)
    deals = customer.history_items.filter(kind__in=[HistoryKind.PURCHASE, HistoryKind.LEASE])
    assert list(deals) == [imported]
    standing = _email_standing(customer)
    assert standing.valid and standing.basis == ConsentBasis.IMPLIED_PURCHASE
    assert lead.events.filter(type="status_changed").last().params["history_taken_off"] == 1


def test_an_older_imported_deal_of_the_same_vehicle_stays_when_its_sale_falls_through():
    # The customer leased the car two years ago and was buying it out.
    vin = factories.vin(31)
    lead = _sold(vehicles=[{"year": 2024, "make": "Toyota", "model": "RAV4", "vin": vin}])
    customer = lead.customer
    lease = history_item_add(
        customer=customer,
        kind=HistoryKind.LEASE,
        occurred_at=timezone.now() - timedelta(days=700),
        summary="Lease 2024 Toyota RAV4 #D0700",
        source=IMPORT_SOURCE,
        external_ref="D0700",
        vin=vin,
    )
    lead, _ = _fell_through(lead)
    assert list(customer.history_items.filter(kind__in=[HistoryKind.PURCHASE, HistoryKind.LEASE])) == [lease]
    assert lead.events.filter(type="status_changed").last().params["history_taken_off"] == 1


def test_a_deal_that_fell_through_stays_off_when_the_dms_still_lists_it(client):
    vin = factories.vin(41)
    lead = _sold(
        received_at=timezone.now() - timedelta(days=220),
        vehicles=[{"year": 2025, "make": "Toyota", "model": "RAV4", "vin": vin}],
    )
    customer = lead.customer
    deal_day = timezone.localdate().isoformat()
    dms = f"Name,Email,Type,Date,Vehicle,VIN,Number\n{customer.first_name} {customer.last_name},{customer.email},Sale,{deal_day},2025 RAV4,{vin},D4100\n"
    mapping = {"Name": "full_name", "Email": "email", "Type": "kind", "Date": "date", "Vehicle": "vehicle",
               "VIN": "vin", "Number": "reference"}  # fmt: skip

    def dms_import():
        upload = import_create(filename="dms.csv", data=dms.encode(), actor=None)
        return upload, import_apply(batch=upload, mapping=mapping, actor=None, dry_run=False)

    assert dms_import()[1].history_added == 1
    _fell_through(lead)
    assert not customer.history_items.exists()

    upload, summary = dms_import()  # the DMS still lists the deal the next night

    assert (summary.history_added, summary.history_already_there, summary.history_taken_back) == (0, 0, 1)
    assert not customer.history_items.exists()
    assert not _email_standing(customer).valid
    removed = customer_audit(customer=customer).filter(
        action="history_removed", changes__reference__0="D4100"
    )
    assert removed.count() == 1
    client.force_login(factories.staff(Role.SUPERVISOR).user)
    page = client.get(reverse("leads:customer_import_mapping", args=[upload.pk])).content.decode()
    assert (
        "1 deal in the file fell through after it was recorded: it stays off its customer's history." in page
    )


def test_an_other_kind_of_item_numbered_like_a_deal_that_fell_through_is_imported():
    lead = _sold(vehicles=[{"year": 2025, "make": "Toyota", "model": "RAV4", "vin": factories.vin(42)}])
    customer = lead.customer
    _imported_deal(customer, vin=factories.vin(42), reference="5500")
    _fell_through(lead)
    service = f"Name,Email,Type,Date,Summary,Number\n{customer.first_name} {customer.last_name},{customer.email},Service,2025-06-10,Brake pads,5500\n"
    mapping = {"Name": "full_name", "Email": "email", "Type": "kind", "Date": "date", "Summary": "summary",
               "Number": "reference"}  # fmt: skip
    upload = import_create(filename="ro.csv", data=service.encode(), actor=None)
    summary = import_apply(batch=upload, mapping=mapping, actor=None, dry_run=False)
    assert (summary.history_added, summary.history_taken_back) == (1, 0)
    assert list(customer.history_items.values_list("kind", flat=True)) == [HistoryKind.SERVICE_VISIT]


_DMS_MAPPING = {"Name": "full_name", "Email": "email", "Type": "kind", "Date": "date", "Vehicle": "vehicle",
                "Number": "reference"}  # fmt: skip


def _dms_import(*sales):
    """The DMS file of the night listing each (customer, deal number) as a sale of today."""
    day = timezone.localdate().isoformat()
    lines = [f"{c.first_name} {c.last_name},{c.email},Sale,{day},2025 RAV4,{number}\n" for c, number in sales]
    upload = import_create(
        filename="dms.csv",
        data=("Name,Email,Type,Date,Vehicle,Number\n" + "".join(lines)).encode(),
        actor=None,
    )
    return import_apply(batch=upload, mapping=_DMS_MAPPING, actor=None, dry_run=False)


def _taken_back(customer, number: str) -> None:
    """The customer's deal `number`, imported once, then taken off because it fell through."""
    deal = _imported_deal(customer, vin="", reference=number)
    history_item_remove(item=deal, reason="Financing refused")


def test_another_customers_deal_under_a_number_that_fell_through_is_imported():
    fell_through, other = factories.customer(), factories.customer()
    _taken_back(fell_through, "D5100")
    # The DMS numbers its deals again: D5100 is now another customer's sale, and still the first one's.
    summary = _dms_import((fell_through, "D5100"), (other, "D5100"))
    assert (summary.history_added, summary.history_taken_back) == (1, 1)
    assert not fell_through.history_items.exists()
    [deal] = other.history_items.all()
    assert (deal.kind, deal.external_ref) == (HistoryKind.PURCHASE, "D5100")


def test_a_deal_that_fell_through_stays_off_the_customer_its_record_was_merged_into():
    duplicate, kept = factories.customer(), factories.customer()
    _taken_back(duplicate, "D5200")
    customer_merge(target=kept, duplicate=duplicate, actor=factories.staff(Role.SUPERVISOR).user)
    summary = _dms_import((kept, "D5200"))
    assert (summary.history_added, summary.history_taken_back) == (0, 1)
    assert not kept.history_items.exists()


def test_the_deals_that_fell_through_are_read_once_per_import():
    customers = [factories.customer() for _ in range(3)]
    _taken_back(customers[0], "D5300")
    with CaptureQueriesContext(connection) as captured:
        summary = _dms_import(*((customer, f"D53{n}0") for n, customer in enumerate(customers)))
    assert (summary.history_added, summary.history_taken_back) == (2, 1)
    assert sum("history_removed" in query["sql"] for query in captured) == 1
