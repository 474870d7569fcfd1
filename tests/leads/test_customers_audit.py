"""Every change to customer data is recorded with who, when, and each value before and after."""

import pytest
from django.urls import reverse

from leads.models import AuditEntry, Customer
from leads.services.customers import MergeError, customer_merge
from leads.services.leads import customer_find_or_create
from tests import factories
from tests.french import flash_text

pytestmark = pytest.mark.django_db


def test_an_edit_shows_before_and_after_on_the_audit_page(supervisor, supervisor_client):
    customer = factories.customer(
        first_name="Liam", last_name="Brown", email="liam@example.com", phone="905 555 0155"
    )
    form = {
        "first_name": "Liam", "last_name": "Brown-Smith", "email": "Liam.Brown@Example.com", "phone": "905-555-0156",
        "preferred_channel": "text", "language": "en", "street": "", "city": "Oakville", "province": "ON",
        "postal_code": "", "household": "", "notes": "",
    }  # fmt: skip
    response = supervisor_client.post(reverse("leads:customer_edit", args=[customer.pk]), form)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email == "liam.brown@example.com" and customer.phone == "+19055550156"
    entry = AuditEntry.objects.get(customer=customer, action="edit")
    assert entry.actor == supervisor.user
    assert entry.changes == {
        "city": ["", "Oakville"],
        "email": ["liam@example.com", "liam.brown@example.com"],
        "last_name": ["Brown", "Brown-Smith"],
        "phone": ["+19055550155", "+19055550156"],
        "preferred_channel": ["email", "text"],
        "province": ["", "ON"],
    }
    page = supervisor_client.get(reverse("leads:customer_audit", args=[customer.pk])).content.decode()
    assert "Brown-Smith" in page and "+19055550155" in page and supervisor.user.get_full_name() in page


def test_a_bad_phone_is_refused_with_a_clear_message_and_nothing_changes(supervisor_client):
    customer = factories.customer(first_name="Liam", last_name="Brown", phone="905 555 0155")
    form = {"first_name": "Liam", "last_name": "Brown", "email": customer.email, "phone": "12",
            "preferred_channel": "email", "language": "en"}  # fmt: skip
    page = supervisor_client.post(reverse("leads:customer_edit", args=[customer.pk]), form).content.decode()
    assert "“12” is not a phone number with its area code." in page
    customer.refresh_from_db()
    assert customer.phone == "+19055550155" and not AuditEntry.objects.filter(action="edit").exists()


def test_a_merge_is_audited_on_both_records_and_reviewable(supervisor, supervisor_client):
    target = factories.customer(first_name="Olivier", last_name="Côté", email="olivier@example.com", phone="")
    duplicate = factories.customer(
        first_name="Olivier", last_name="Cote", email="o.cote@example.com", phone="514 555 0122"
    )
    Customer.objects.filter(pk=target.pk).update(city="")
    Customer.objects.filter(pk=duplicate.pk).update(city="Laval")
    response = supervisor_client.post(
        reverse("leads:customer_merge"), {"target": target.pk, "duplicate": duplicate.pk}
    )
    assert response["Location"] == reverse("leads:customer_detail", args=[target.pk])
    entry = AuditEntry.objects.get(customer=target, action="merge")
    assert entry.actor == supervisor.user
    assert entry.changes["phone"] == ["", "+15145550122"]
    assert entry.changes["city"] == ["", "Laval"]
    assert entry.changes["other_emails"] == [[], ["o.cote@example.com"]]
    assert entry.changes["merged_customer"] == [None, duplicate.pk]
    assert AuditEntry.objects.get(customer=duplicate, action="merged_into").changes == {
        "merged_into": [None, target.pk]
    }
    page = supervisor_client.get(reverse("leads:customer_audit", args=[target.pk])).content.decode()
    assert "merge" in page and "Laval" in page and f"(customer {duplicate.pk})" in page
    tombstone = supervisor_client.get(reverse("leads:customer_detail", args=[duplicate.pk])).content.decode()
    assert "This record was merged into" in tombstone


def test_merge_needs_a_supervisor(client):
    advisor = factories.staff("advisor")
    first, second = factories.customer(), factories.customer()
    client.force_login(advisor.user)
    assert (
        client.post(reverse("leads:customer_merge"), {"target": first.pk, "duplicate": second.pk}).status_code
        == 403
    )
    with pytest.raises(MergeError, match="into itself"):
        customer_merge(target=first, duplicate=first, actor=advisor.user)
    assert not Customer.objects.filter(merged_into__isnull=False).exists()


@pytest.mark.parametrize(
    ("duplicate", "refusal"),
    [
        ("abc", "That customer no longer exists; reload the duplicates list."),
        ("999999", "That customer no longer exists; reload the duplicates list."),
        ("", "Choose both records to merge."),
    ],
)
def test_a_merge_of_a_customer_that_is_not_there_is_refused_in_words(supervisor_client, duplicate, refusal):
    target = factories.customer()
    response = supervisor_client.post(
        reverse("leads:customer_merge"), {"target": target.pk, "duplicate": duplicate}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("leads:customer_duplicates")
    assert flash_text(response) == refusal
    assert not AuditEntry.objects.filter(action="merge").exists()


def test_an_inquiry_that_fills_in_a_missing_phone_is_audited():
    customer = factories.customer(email="noah@example.com", phone="")
    assert AuditEntry.objects.filter(customer=customer, action="created").exists()
    customer_find_or_create(email="NOAH@example.com", phone="647 555 0133")
    entry = AuditEntry.objects.get(customer=customer, action="filled_from_inquiry")
    assert entry.changes == {"phone": ["", "+16475550133"]} and entry.actor is None
