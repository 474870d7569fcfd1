"""Finding the same person again, spotting likely duplicates, and merging them."""

import pytest
from django.utils import timezone

from leads.models import ConsentRecord, Customer, CustomerHistoryItem, CustomerMerge, HistoryKind, Message
from leads.selectors.consent import consent_check
from leads.selectors.customers import customer_duplicates, customer_match
from leads.services.consent import commercial_email_refusal, consent_withdraw
from leads.services.customers import (
    MergeError,
    customer_email_add,
    customer_merge,
    customer_phone_add,
    history_item_add,
)
from leads.services.leads import customer_find_or_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_same_person_writing_from_a_second_address_is_found_and_keeps_both():
    chloe = factories.customer(
        first_name="Chloé", last_name="Gauthier", email="chloe@home.example", phone="514 555 0144"
    )
    again, created = customer_find_or_create(
        email="Chloe.Gauthier@WORK.example",
        phone="+1 (514) 555-0144",
        first_name="Chloe",
        last_name="Gauthier",
    )
    assert not created and again == chloe
    assert list(chloe.extra_emails.values_list("email", flat=True)) == ["chloe.gauthier@work.example"]
    # From then on either address finds her, even without the phone.
    assert customer_match(email="chloe.gauthier@work.example") == chloe
    assert customer_match(email="CHLOE@home.example") == chloe


def test_household_sharing_a_phone_stays_two_people_and_email_wins_over_phone():
    marc = factories.customer(
        first_name="Marc", last_name="Roy", email="marc@roy.example", phone="416-555-0199"
    )
    julie, created = customer_find_or_create(
        email="julie@roy.example", phone="4165550199", first_name="Julie", last_name="Roy"
    )
    assert created and julie != marc
    # With two people on the phone, the email decides; the phone alone names nobody.
    assert customer_match(email="julie@roy.example", phone="416 555 0199") == julie
    assert customer_match(email="marc@roy.example", phone="416 555 0199") == marc
    assert customer_match(phone="416 555 0199") is None
    assert customer_match(phone="416 555 0199", first_name="Julie", last_name="Roy") == julie
    # Sharing a phone is not a reason to offer a merge.
    assert customer_duplicates() == []


def test_a_second_phone_finds_its_customer_in_one_query(django_assert_num_queries):
    nadia = factories.customer(first_name="Nadia", last_name="Haddad", email="", phone="613 555 0101")
    customer_phone_add(customer=nadia, phone="613 555 0102")
    with django_assert_num_queries(1):
        assert customer_match(phone="(613) 555-0102") == nadia


def test_a_phone_known_to_one_person_without_email_still_finds_them():
    walk_in = factories.customer(first_name="Sam", last_name="Lee", email="", phone="905 555 0155")
    found, created = customer_find_or_create(email="sam.lee@example.com", phone="(905) 555-0155")
    assert not created and found == walk_in and found.email == "sam.lee@example.com"


def test_a_phone_now_given_by_someone_with_another_family_name_is_a_new_customer():
    """Numbers are given up and reassigned: an inquiry from François Bélanger on Olivier Côté's old
    number is François's, not Olivier's. A nameless inquiry, or the same family name, still finds him."""
    olivier = factories.customer(
        first_name="Olivier", last_name="Côté", email="olivier@example.com", phone="514 555 0122"
    )
    francois, created = customer_find_or_create(
        phone="514.555.0122", first_name="François", last_name="Bélanger"
    )
    assert created and francois != olivier
    olivier.refresh_from_db()
    assert (olivier.first_name, olivier.last_name) == ("Olivier", "Côté")
    # With two people on the number, it names neither unless the name is one of theirs.
    assert customer_match(phone="514 555 0122", first_name="Olivier", last_name="Cote") == olivier
    assert customer_match(phone="514 555 0122") is None
    walk_in = factories.customer(first_name="Robert", last_name="Gagné", email="", phone="418 555 0177")
    assert customer_match(phone="4185550177", first_name="Bob", last_name="Gagne") == walk_in
    assert customer_match(phone="4185550177", first_name="Robert") == walk_in
    assert customer_match(phone="4185550177") == walk_in
    assert customer_match(phone="4185550177", first_name="Paul") is None


def test_accents_and_same_address_are_offered_as_duplicates():
    first = factories.customer(first_name="Chloé", last_name="Gauthier", email="chloe@a.example")
    second = factories.customer(first_name="Chloe", last_name="Gauthier", email="cg@b.example")
    for customer in (first, second):
        Customer.objects.filter(pk=customer.pk).update(street="12 Rue Saint-Denis", postal_code="H2X 1K4")
    other = factories.customer(first_name="Paul", last_name="Gauthier", email="paul@c.example")
    Customer.objects.filter(pk=other.pk).update(street="12 rue Saint-Denis", postal_code="h2x1k4")
    pairs = customer_duplicates()
    assert [(p.first, p.second, p.reason) for p in pairs] == [
        (first, second, "similar name at the same address")
    ]


def test_same_name_and_phone_are_offered_as_duplicates():
    first = factories.customer(first_name="Noah", last_name="Williams", phone="647 555 0133")
    # A walk-in written down with only a name; the number was added later by hand.
    second = factories.customer(first_name="NOAH", last_name="williams", email="", phone="")
    Customer.objects.filter(pk=second.pk).update(phone="+16475550133")
    assert [(p.first, p.second, p.reason) for p in customer_duplicates()] == [
        (first, second, "same name and phone")
    ]


def test_merge_moves_every_history_and_keeps_a_tombstone(supervisor):
    target = factories.customer(first_name="Léa", last_name="Morin", email="lea@a.example", phone="")
    duplicate = factories.customer(
        first_name="Lea", last_name="Morin", email="lea.morin@b.example", phone="819 555 0166"
    )
    customer_email_add(customer=duplicate, email="lea@work.example")
    lead = factories.lead(customer_obj=duplicate)
    message = Message.objects.create(
        customer=duplicate, lead=lead, direction="in", occurred_at=timezone.now()
    )
    item = history_item_add(
        customer=duplicate, kind=HistoryKind.SERVICE_VISIT, occurred_at=timezone.now(), summary="Oil change"
    )
    consent_withdraw(customer=duplicate, channels=["email"], source="phone call")

    merge = customer_merge(target=target, duplicate=duplicate, actor=supervisor.user)

    duplicate.refresh_from_db()
    target.refresh_from_db()
    assert duplicate.merged_into == target and duplicate.merged_at is not None
    assert Customer.objects.filter(pk=duplicate.pk).exists()  # kept, not deleted
    lead.refresh_from_db()
    message.refresh_from_db()
    assert lead.customer == target and message.customer == target
    assert CustomerHistoryItem.objects.get(pk=item.pk).customer == target
    assert target.phone == "+18195550166"
    assert sorted(target.extra_emails.values_list("email", flat=True)) == [
        "lea.morin@b.example",
        "lea@work.example",
    ]
    # The ledger is copied, never moved: the inquiry's consent and the later unsubscribe both come
    # along, and the unsubscribe still holds on the surviving record.
    originals = ConsentRecord.objects.filter(customer=duplicate)
    copies = ConsentRecord.objects.filter(customer=target)
    assert originals.count() == 3 and copies.count() == 3
    assert {copy.copied_from.customer for copy in copies} == {duplicate}
    assert consent_check(customer=target, channel="email").valid is False
    # The merge can be reviewed: who, what moved, before and after.
    assert merge.actor == supervisor.user and merge.moved["leads"] == [lead.pk]
    assert merge.before["phone"] == "" and merge.after["phone"] == "+18195550166"
    assert merge.duplicate_snapshot["email"] == "lea.morin@b.example"
    # Either of the duplicate's addresses now finds the target.
    assert customer_match(email="lea.morin@b.example") == target
    assert customer_match(email="lea@work.example") == target
    with pytest.raises(MergeError):
        customer_merge(target=target, duplicate=duplicate, actor=supervisor.user)
    assert CustomerMerge.objects.count() == 1


def test_a_merge_that_takes_a_bounced_address_keeps_it_marked_undeliverable(supervisor):
    """The target had no email and takes the duplicate's, which bounced: mail must not go back to it."""
    target = factories.customer(email="", phone="416 555 0999")
    duplicate = factories.customer(email="gone@example.com")
    Customer.objects.filter(pk=duplicate.pk).update(
        email_undeliverable=True, email_undeliverable_reason="550 no such user"
    )
    customer_merge(target=target, duplicate=duplicate, actor=supervisor.user)
    target.refresh_from_db()
    assert target.email == "gone@example.com"
    assert target.email_undeliverable and target.email_undeliverable_reason == "550 no such user"
    assert "undeliverable" in commercial_email_refusal(customer=target, at=timezone.now(), transactional=True)


def test_a_customer_whose_address_bounced_writing_from_a_new_one_is_answered_there():
    from leads.services.replies import reply_queue

    jean = factories.customer(
        first_name="Jean", last_name="Tremblay", email="jtremblay@oldisp.ca", phone="+15145550123"
    )
    Customer.objects.filter(pk=jean.pk).update(
        email_undeliverable=True, email_undeliverable_reason="550 no such user"
    )
    found, created = customer_find_or_create(
        email="jean.tremblay@nouveau.ca", phone="514-555-0123", first_name="Jean", last_name="Tremblay"
    )
    assert (found.pk, created) == (jean.pk, False)
    jean.refresh_from_db()
    assert (jean.email, jean.email_undeliverable) == ("jean.tremblay@nouveau.ca", False)
    assert list(jean.extra_emails.values_list("email", flat=True)) == ["jtremblay@oldisp.ca"]
    lead = factories.lead(customer_obj=jean)
    message = reply_queue(lead=lead, author=factories.staff().user, subject="Your RAV4", body="Hello Jean")
    assert message.to_addresses == ["jean.tremblay@nouveau.ca"]
