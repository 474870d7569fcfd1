"""In Chromium: the customer list's search, as the address and Back keep it."""

import pytest
from playwright.sync_api import expect

from dealership.models import Role
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_back_from_a_customer_brings_the_search_and_its_results_together(login, live_server, page):
    factories.staff(Role.SUPERVISOR, username="sophie")
    factories.customer(first_name="Emma", last_name="Johnson")
    for n in range(5):
        factories.customer(first_name="Pat", last_name=f"Other{n}")
    login("sophie", factories.PASSWORD)
    page.goto(f"{live_server.url}/leads/customers/")
    page.get_by_label("Search customers").press_sequentially("Emma", delay=50)
    page.wait_for_url("**/leads/customers/?q=Emma")
    expect(page.locator("#customer-table tbody tr")).to_have_count(1)

    page.get_by_role("link", name="Emma Johnson").click()
    page.wait_for_load_state()
    page.go_back()
    expect(page.get_by_label("Search customers")).to_have_value("Emma")
    expect(page.locator("#customer-table tbody tr")).to_have_count(1)
