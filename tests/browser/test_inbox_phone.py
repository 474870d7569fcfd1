"""The supervisor checks the inbox on a phone: every lead reads without scrolling sideways."""

import pytest

from dealership.models import Role
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def test_the_inbox_fits_a_phone_and_still_says_what_each_lead_wants_and_where_it_stands(login, page):
    factories.lead(
        customer_obj=factories.customer(first_name="Maximilien-Alexandre", last_name="Beauchemin-Laframboise"),
        source="Toyota Canada lead program",
        vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4 XLE Hybrid AWD"}],
    )
    page.set_viewport_size(PHONE)
    member = factories.staff(Role.SUPERVISOR, username="phone-supervisor")
    login(member.user.username, factories.PASSWORD)

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    row = page.locator(".lead-row").first
    assert "2026 Toyota RAV4 XLE Hybrid AWD · New" in row.inner_text()
    row.get_by_role("link", name="Maximilien-Alexandre Beauchemin-Laframboise").click()
    page.wait_for_load_state()
    assert "Beauchemin-Laframboise" in page.locator("h1").first.inner_text()


def test_staff_pages_fit_a_phone_and_wide_tables_scroll_in_their_own_box(login, live_server, page):
    factories.customer(first_name="Emma", last_name="Johnson", email="emma.johnson@gmail.com")
    lead = factories.lead(customer_obj=factories.customer(first_name="Olivier", last_name="Côté"))
    factories.inbound_email(
        lead=lead,
        body="See: https://www.autotrader.ca/a/toyota/rav4/toronto/ontario/"
        "5_64123456_20240101120000/?showcpo=1&ncse=no&orup=1_15_3&sprx=100&utm_source=email",
    )
    page.set_viewport_size(PHONE)
    member = factories.staff(Role.SUPERVISOR, username="phone-supervisor")
    login(member.user.username, factories.PASSWORD)

    widths = {}
    for path in [
        "/leads/customers/",
        "/store/dashboard/",
        "/store/objectives/",
        f"/leads/{lead.pk}/",  # a long link in the customer's mail
        "/leads/templates/",
        "/leads/mail/",
        "/store/directory/",
        "/promotions/",
    ]:
        page.goto(live_server.url + path)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
    assert all(width <= PHONE["width"] for width in widths.values()), widths
