"""Customer records follow the lead rules: an advisor sees a customer's leads and conversations only
when the lead is theirs, department staff and accounts with no role have no customer pages, and
the per-customer data export is for supervisors and managers."""

import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dealership.models import Role
from leads.models import ConsentRecord, LoyaltyKind, Task
from tests import factories

pytestmark = pytest.mark.django_db

EDIT_FORM = {
    "first_name": "Emma", "last_name": "Changed", "email": "emma@example.com", "phone": "",
    "preferred_channel": "email", "language": "en", "street": "", "city": "", "province": "",
    "postal_code": "", "household": "", "notes": "",
}  # fmt: skip
GRANT_FORM = {
    "channels": ["phone"], "basis": "express", "at": "2026-11-01 10:00", "source": "Phone call",
    "wording": "May we call you about offers?", "proof_form": "call recording 1234",
}  # fmt: skip


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def advisors():
    return factories.staff(Role.ADVISOR), factories.staff(Role.ADVISOR)


@pytest.fixture
def customer_of_b(advisors):
    """Emma, whose only lead belongs to advisor B, with B's conversation on it."""
    _, advisor_b = advisors
    customer = factories.customer(first_name="Emma", last_name="Johnson", email="emma@example.com")
    lead = factories.lead(customer_obj=customer, owner=advisor_b.user, source="AutoTrader")
    factories.inbound_email(
        lead=lead, subject="Trade-in for my Civic", body="My budget is 31,000 at most, don't tell them."
    )
    return customer, lead


def test_the_data_export_is_for_supervisors_not_advisors(client, supervisor, advisors, customer_of_b):
    advisor_a, advisor_b = advisors
    customer, lead = customer_of_b
    url = reverse("leads:customer_export_json", args=[customer.pk])
    for advisor in (advisor_a, advisor_b):
        response = login(client, advisor.user).get(url)
        body = response.content.decode()
        assert response.status_code == 403
        assert "31,000" not in body and "supervisors and managers only" in body
        menu = client.get(reverse("leads:customer_detail", args=[customer.pk])).content.decode()
        assert url not in menu  # not offered where it would be refused
        edit = reverse("leads:customer_edit", args=[customer.pk])
        assert (edit in menu) == (advisor == advisor_b)
    assert (
        url
        in login(client, supervisor.user)
        .get(reverse("leads:customer_audit", args=[customer.pk]))
        .content.decode()
    )
    data = json.loads(client.get(url).content)
    assert [row["id"] for row in data["leads"]] == [lead.pk]
    assert "31,000" in data["messages"][0]["body_text"]


def test_an_advisor_sees_the_card_but_only_their_own_leads_and_conversations(client, advisors, customer_of_b):
    advisor_a, advisor_b = advisors
    customer, lead_b = customer_of_b
    lead_a = factories.lead(customer_obj=customer, owner=advisor_a.user, source="Kijiji Autos")
    factories.inbound_email(lead=lead_a, subject="Winter tires included?", body="Winter tires included?")
    url = reverse("leads:customer_detail", args=[customer.pk])

    page = login(client, advisor_a.user).get(url).content.decode()
    assert "Emma Johnson" in page and "emma@example.com" in page
    assert "Winter tires included?" in page and reverse("leads:lead_detail", args=[lead_a.pk]) in page
    assert "Trade-in for my Civic" not in page and "AutoTrader" not in page
    assert reverse("leads:lead_detail", args=[lead_b.pk]) not in page

    page = login(client, advisor_b.user).get(url).content.decode()
    assert "Trade-in for my Civic" in page and "Winter tires included?" not in page


def test_an_advisor_finds_customers_in_the_list_without_the_managers_tools(client, advisors, customer_of_b):
    advisor_a, _ = advisors
    page = (
        login(client, advisor_a.user).get(reverse("leads:customer_list"), {"q": "johnson"}).content.decode()
    )
    assert "Emma Johnson" in page
    assert reverse("leads:customers_export_csv") not in page


def test_an_advisor_corrects_contact_and_consent_only_for_a_customer_of_theirs(
    client, advisors, customer_of_b
):
    advisor_a, advisor_b = advisors
    customer, _ = customer_of_b
    consent_rows = ConsentRecord.objects.filter(customer=customer).count()

    login(client, advisor_a.user)
    detail = client.get(reverse("leads:customer_detail", args=[customer.pk])).content.decode()
    assert reverse("leads:customer_contact_add", args=[customer.pk]) not in detail
    refused = [
        client.post(reverse("leads:customer_contact_add", args=[customer.pk]), {"email": "a@example.com"}),
        client.post(reverse("leads:customer_edit", args=[customer.pk]), EDIT_FORM),
        client.post(reverse("leads:customer_consent_grant", args=[customer.pk]), GRANT_FORM),
        client.post(
            reverse("leads:customer_consent_withdraw", args=[customer.pk]),
            {"channels": ["email"], "source": "Told staff"},
        ),
    ]
    assert [response.status_code for response in refused] == [403] * 4
    assert "the advisor assigned to one of this customer" in refused[0].content.decode()
    customer.refresh_from_db()
    assert customer.last_name == "Johnson" and not customer.extra_emails.exists()
    assert ConsentRecord.objects.filter(customer=customer).count() == consent_rows

    login(client, advisor_b.user)
    client.post(reverse("leads:customer_contact_add", args=[customer.pk]), {"email": "b@example.com"})
    assert client.post(reverse("leads:customer_edit", args=[customer.pk]), EDIT_FORM).status_code == 302
    assert (
        client.post(reverse("leads:customer_consent_grant", args=[customer.pk]), GRANT_FORM).status_code
        == 302
    )
    customer.refresh_from_db()
    assert customer.last_name == "Changed"
    assert list(customer.extra_emails.values_list("email", flat=True)) == ["b@example.com"]
    assert ConsentRecord.objects.filter(customer=customer).count() == consent_rows + 1


@pytest.fixture(params=["department staff", "no staff profile"])
def roleless_user(request):
    if request.param == "department staff":
        return factories.staff(Role.DEPARTMENT, department_code="service").user, "Department mail"
    user = get_user_model().objects.create_user(username="nobody", password=factories.PASSWORD)
    return user, "no staff role"


def test_department_staff_and_accounts_without_a_role_have_no_customer_pages(
    client, roleless_user, customer_of_b
):
    user, reason = roleless_user
    customer, _ = customer_of_b
    login(client, user)
    for name in (
        "customer_detail",
        "customer_edit",
        "customer_consent",
        "customer_audit",
        "customer_export_json",
    ):
        response = client.get(reverse(f"leads:{name}", args=[customer.pk]))
        assert response.status_code == 403, name
        assert reason in response.content.decode() and "Trade-in" not in response.content.decode(), name
    listing = client.get(reverse("leads:customer_list"), {"q": "johnson"})
    assert listing.status_code == 403 and "Emma" not in listing.content.decode()


def test_department_staff_and_accounts_without_a_role_change_nothing(client, roleless_user, customer_of_b):
    user, _ = roleless_user
    customer, _ = customer_of_b
    consent_rows = ConsentRecord.objects.filter(customer=customer).count()
    login(client, user)
    responses = [
        client.post(reverse("leads:customer_edit", args=[customer.pk]), EDIT_FORM),
        client.post(reverse("leads:customer_contact_add", args=[customer.pk]), {"phone": "416-555-0188"}),
        client.post(reverse("leads:customer_consent_grant", args=[customer.pk]), GRANT_FORM),
        client.post(
            reverse("leads:customer_consent_withdraw", args=[customer.pk]),
            {"channels": ["email"], "source": "Told staff"},
        ),
    ]
    assert [response.status_code for response in responses] == [403] * 4
    customer.refresh_from_db()
    assert customer.last_name == "Johnson" and not customer.extra_phones.exists()
    assert ConsentRecord.objects.filter(customer=customer).count() == consent_rows


def test_the_customers_menu_item_shows_only_to_those_who_may_use_it(client, advisors, roleless_user):
    customers_link = f'href="{reverse("leads:customer_list")}"'
    advisor_a, _ = advisors
    assert customers_link in login(client, advisor_a.user).get(reverse("leads:my_tasks")).content.decode()
    user, _ = roleless_user
    assert customers_link not in login(client, user).get(reverse("leads:my_tasks")).content.decode()


def test_department_staff_do_their_tasks_from_the_contact_details_shown(client, customer_of_b):
    customer, _ = customer_of_b
    service = factories.staff(Role.DEPARTMENT, department_code="service")
    Task.objects.create(
        assignee=service.user, customer=customer, kind=LoyaltyKind.HIGH_MILEAGE, title="Book the oil change",
        due_on=date(2026, 12, 15), moment_key="service:test",
    )  # fmt: skip
    page = login(client, service.user).get(reverse("leads:my_tasks")).content.decode()
    assert "Book the oil change" in page and customer.email in page
    assert reverse("leads:customer_detail", args=[customer.pk]) not in page  # a page they would be refused
