"""The visitor's address behind the store's reverse proxy: log-in throttling locks out the one who
guessed, not everyone the proxy passes on, and an unsubscribe's proof names the customer's address."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from dealership.client_address import client_address
from dealership.models import Role
from leads.consent_links import unsubscribe_url
from leads.models import ConsentRecord
from tests import factories
from tests.dealership.test_settings_checks import _settings_read

pytestmark = pytest.mark.django_db

PROXY = "172.18.0.1"  # the reverse proxy: every request reaches the application from it
GUESSER, COLLEAGUE = "203.0.113.5", "198.51.100.9"


def _log_in(client, username: str, password: str, **addresses):
    return client.post(reverse("login"), {"username": username, "password": password}, **addresses)


def _through_the_proxy(address: str, *, forged: str = "") -> dict:
    """The request as the proxy passes it on: the address it was reached from appended to what the
    visitor sent."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{forged}, {address}" if forged else address}


def test_behind_the_proxy_a_lockout_of_one_address_leaves_the_same_login_open_from_another(client, settings):
    settings.TRUSTED_PROXIES = 1
    supervisor = factories.staff(Role.SUPERVISOR).user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, supervisor, "guess", **_through_the_proxy(GUESSER))
    assert _log_in(client, supervisor, factories.PASSWORD, **_through_the_proxy(GUESSER)).status_code == 429
    signed_in = _log_in(client, supervisor, factories.PASSWORD, **_through_the_proxy(COLLEAGUE))
    assert signed_in.status_code == 302


def test_behind_the_proxy_a_forged_address_before_the_proxys_own_does_not_escape_the_lockout(
    client, settings
):
    settings.TRUSTED_PROXIES = 1
    supervisor = factories.staff(Role.SUPERVISOR).user.username
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, supervisor, "guess", **_through_the_proxy(GUESSER, forged=f"192.0.2.{attempt}"))
    locked = _log_in(client, supervisor, factories.PASSWORD, **_through_the_proxy(GUESSER, forged=COLLEAGUE))
    assert locked.status_code == 429


def test_without_a_proxy_a_forged_forwarded_address_is_ignored(client, settings):
    settings.TRUSTED_PROXIES = 0
    supervisor = factories.staff(Role.SUPERVISOR).user.username
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, supervisor, "guess", REMOTE_ADDR=GUESSER, HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")
    locked = _log_in(
        client, supervisor, factories.PASSWORD, REMOTE_ADDR=GUESSER, HTTP_X_FORWARDED_FOR=COLLEAGUE
    )
    assert locked.status_code == 429
    assert _log_in(client, supervisor, factories.PASSWORD, REMOTE_ADDR=COLLEAGUE).status_code == 302


@pytest.mark.parametrize(
    ("proxies", "addresses", "proof"),
    [
        (1, _through_the_proxy("198.51.100.7", forged="10.0.0.1"), "198.51.100.7"),
        (0, {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}, "198.51.100.7"),
    ],
)
def test_the_proof_of_an_unsubscribe_names_the_customers_address(client, settings, proxies, addresses, proof):
    settings.TRUSTED_PROXIES = proxies
    customer = factories.customer()
    client.post(unsubscribe_url(customer), {"channels": ["email"]}, **addresses)
    assert ConsentRecord.objects.get(action="withdraw").proof_ip == proof


def test_the_number_of_proxies_is_read_from_the_environment(monkeypatch):
    assert _settings_read(monkeypatch, TRUSTED_PROXIES="1")["TRUSTED_PROXIES"] == 1
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert _settings_read(monkeypatch, DEBUG="true")["TRUSTED_PROXIES"] == 0
    # In production the store's proxy is assumed, as the HTTPS setup has it.
    production = {"DEBUG": "false", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "crm.example"}
    assert _settings_read(monkeypatch, **production)["TRUSTED_PROXIES"] == 1
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES: -1 is not a number of proxies"):
        _settings_read(monkeypatch, TRUSTED_PROXIES="-1")


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "address"),
    [
        (1, "", PROXY),  # reached on the server itself, not through the proxy (a health check)
        (1, "not-an-address", PROXY),
        (1, " 2001:DB8::7 ", "2001:db8::7"),
        (2, "192.0.2.1, 203.0.113.5, 10.0.0.2", "203.0.113.5"),  # a CDN, then the store's proxy
        (2, "203.0.113.5", PROXY),
    ],
)
def test_the_visitors_address_is_the_one_the_proxies_wrote(rf, settings, proxies, forwarded_for, address):
    settings.TRUSTED_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_address(request) == address
