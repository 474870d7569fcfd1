"""Browser tests: Debian's Chromium driven by Playwright against the live server.

Screenshots of failing tests are kept under test-artifacts/ (pytest-playwright's --screenshot option).
"""

import os

import pytest
from django.db import connections

from tests.conftest import service_missing
from tests.leads.conftest import dovecot, dovecot_server  # noqa: F401  (mail in, for answers in the browser)

CHROMIUM = "/usr/bin/chromium"
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


@pytest.fixture(scope="session", autouse=True)
def allow_orm_beside_playwright():
    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the tests
    # make alongside it are ordinary synchronous calls.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(autouse=True)
def close_connections_after_the_test():
    # While Playwright's event loop runs, Django keeps the test's database connections in that
    # context rather than the thread; close them, or PostgreSQL cannot drop the test database.
    yield
    connections.close_all()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        service_missing("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def login(page, live_server):
    """Log in through the real form, as a person would."""

    def _login(username: str, password: str):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    return _login
