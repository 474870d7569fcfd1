"""A customer clicks the unsubscribe link of a real email in Chromium; no further mail reaches them."""

import os
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from leads.services.consent import commercial_email_send, consent_record_inquiry
from tests import factories
from tests.conftest import service_missing

# Playwright's sync API keeps an event loop running in this thread; the ORM calls here are synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        service_missing("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_unsubscribe_link_in_a_browser_stops_further_mail(page, live_server, settings):
    settings.SITE_URL = live_server.url
    customer = factories.customer(
        first_name="Chloé", last_name="Gauthier", email="chloe@example.com", language="fr"
    )
    consent_record_inquiry(customer=customer, at=timezone.now() - timedelta(days=3), source="Website")
    assert commercial_email_send(
        customer=customer, subject="Offre d’hiver", body="Pneus d’hiver en promotion."
    ).sent
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    assert link in mail.outbox[0].body

    page.goto(link)  # not logged in
    assert page.locator("h1").inner_text() == "Vos messages de Maple Motors"
    assert page.get_by_label("Courriels").is_checked()
    page.get_by_role("button", name="Me désabonner").click()
    page.wait_for_selector("#confirmation")
    assert page.locator("h1").inner_text() == "Votre désabonnement est confirmé"
    assert "Cela prend effet immédiatement" in page.locator("#confirmation").inner_text()

    refused = commercial_email_send(customer=customer, subject="Encore une offre", body="…")
    assert not refused.sent and refused.reason.startswith("no valid consent: withdrawn on")
    assert len(mail.outbox) == 1
