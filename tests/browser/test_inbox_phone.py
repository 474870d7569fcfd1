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
