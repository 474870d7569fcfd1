"""The supervisor answers an overdue French lead from the browser; the customer gets the mail."""

import os
import tempfile

import pytest
from django.db import connections
from django.utils import timezone

from dealership.models import Role
from leads.business_hours import business_moment_before
from leads.models import LeadStatus, ReplyTemplate
from leads.services.replies import reply_templates_ensure_defaults
from leads.threading import lead_id_from_address
from tests import factories

# Playwright's sync API keeps an event loop running in this thread; the ORM must still work here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page()
        try:
            yield page
        finally:
            browser.close()
            # Database connections opened while Playwright runs belong to its context, not the
            # test's; close them here or they outlive the test database.
            connections.close_all()


@pytest.fixture
def screenshot_on_failure(page, request):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        path = os.path.join(tempfile.mkdtemp(prefix="workbench-"), "failure.png")
        page.screenshot(path=path, full_page=True)
        print(f"Screenshot of the failure: {path}")


def test_supervisor_answers_an_overdue_french_lead(
    live_server, page, smtp_sink, settings, screenshot_on_failure
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    reply_templates_ensure_defaults()
    supervisor = factories.staff(
        Role.SUPERVISOR, username="sophie", first_name="Sophie", last_name="Tremblay"
    )
    customer = factories.customer(first_name="Olivier", last_name="Côté", email="olivier@example.com")
    lead = factories.lead(
        customer_obj=customer,
        inquiry_type="price",
        received_at=business_moment_before(timezone.now(), 90),
        vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4", "price": "38995"}],
    )
    factories.inbound_email(
        lead=lead,
        message_id="<question@client.example>",
        subject="RAV4 disponible?",
        body="Bonjour, est-ce que le RAV4 est encore disponible? Quel est votre meilleur prix?",
    )
    on_time = factories.lead(customer_obj=factories.customer(first_name="Emma", last_name="Johnson"))

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "sophie")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/leads/")
    assert page.locator("tr.lead-row").count() == 2

    page.click("a[data-filter=overdue]")
    page.wait_for_url("**/leads/?overdue=on")
    assert page.locator("tr.lead-row").count() == 1
    assert page.locator(f"tr[data-lead='{on_time.pk}']").count() == 0

    page.click("text=Olivier Côté")
    page.wait_for_url(f"**/leads/{lead.pk}/")
    french = ReplyTemplate.objects.get(inquiry_type="price", language="fr")
    assert page.input_value("#id_template") == str(french.pk)
    assert page.input_value("#id_subject") == "Votre 2026 Toyota RAV4 chez Maple Motors"
    assert "Bonjour Olivier" in page.input_value("#id_body")

    page.click("#send-reply")
    page.wait_for_selector("text=is being sent")

    [received] = smtp_sink.parsed()
    assert received["To"] == "olivier@example.com"
    assert received["Subject"] == "Votre 2026 Toyota RAV4 chez Maple Motors"
    assert received["In-Reply-To"] == "<question@client.example>"
    assert received["References"] == "<question@client.example>"
    assert received["Message-ID"].startswith(f"<lead{lead.pk}.")
    assert lead_id_from_address(received["Reply-To"]) == lead.pk
    assert "Pour ne plus recevoir nos courriels" in received.get_content()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED and lead.first_response_at is not None
    assert supervisor.pk
