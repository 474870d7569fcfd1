"""The shared cache (Redis) being down or restarting: staff keep working from the database, the log
says so once in a while, and the cache is used again as soon as it is back."""

import logging
import shutil
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from dealership.models import Role
from dealership.services import staff_role_change
from leads.selectors.leads import lead_sources
from tests import factories
from tests.conftest import free_port, service_missing
from tests.dealership.test_settings_checks import _settings_read

pytestmark = pytest.mark.django_db


def _caches(monkeypatch, url: str) -> dict:
    """CACHES as start-up reads them from this CACHE_URL."""
    return _settings_read(monkeypatch, CACHE_URL=url)["CACHES"]


@contextmanager
def _cache_at(monkeypatch, url: str, **more):
    """Every process's cache is the one CACHE_URL names inside the block (override_settings makes
    Django open the caches again, inside and after)."""
    caches = _caches(monkeypatch, url)
    caches["default"].update(more)
    with override_settings(CACHES=caches):
        yield


@pytest.fixture
def cache_down(monkeypatch):
    """Redis is down: CACHE_URL names a loopback port nothing listens on."""
    with _cache_at(monkeypatch, f"redis://127.0.0.1:{free_port()}/0"):
        yield


@pytest.fixture
def cache_up(monkeypatch, redis_url):
    """The test Redis, under keys of this test's own, which are removed afterwards."""
    import redis

    url = f"{redis_url.rpartition('/')[0]}/9"
    prefix = f"test-cache-{uuid.uuid4().hex}"
    with _cache_at(monkeypatch, url, KEY_PREFIX=prefix):
        yield
    client = redis.Redis.from_url(url)
    if keys := list(client.scan_iter(match=f"{prefix}:*")):
        client.delete(*keys)


@contextmanager
def _cache_warnings():
    """The warnings the log receives inside the block."""

    class Kept(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.records = []

        def emit(self, record):
            self.records.append(record)

    kept = Kept()
    root = logging.getLogger()
    root.addHandler(kept)
    try:
        yield kept.records
    finally:
        root.removeHandler(kept)


def test_a_redis_cache_url_gives_the_cache_a_short_wait_for_a_server_that_does_not_answer(monkeypatch):
    options = _caches(monkeypatch, "redis://:secret@redis:6379/1")["default"]["OPTIONS"]
    assert 0 < options["socket_connect_timeout"] <= 1 and 0 < options["socket_timeout"] <= 1


def test_the_inbox_and_a_lead_open_for_a_signed_in_supervisor_while_the_cache_is_down(client, monkeypatch):
    supervisor = factories.staff(Role.SUPERVISOR)
    lead = factories.lead(source="AutoTrader")
    client.force_login(supervisor.user)
    with _cache_at(monkeypatch, f"redis://127.0.0.1:{free_port()}/0"):
        inbox = client.get(reverse("leads:inbox"))
        page = client.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert inbox.status_code == 200 and lead.customer.last_name in inbox.text
    assert page.status_code == 200 and lead.customer.email in page.text


def test_signing_in_works_while_the_cache_is_down(client, cache_down):
    supervisor = factories.staff(Role.SUPERVISOR)
    response = client.post(
        reverse("login"), {"username": supervisor.user.username, "password": factories.PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("leads:inbox")
    assert response.context["user"] == supervisor.user


def test_a_staff_members_account_and_role_are_saved_while_the_cache_is_down(
    client, cache_down, django_capture_on_commit_callbacks
):
    member = factories.staff(Role.ADVISOR)
    with django_capture_on_commit_callbacks(execute=True):
        staff_role_change(staff=member, role=Role.SUPERVISOR)
    member.user.first_name = "Renée"
    with django_capture_on_commit_callbacks(execute=True):
        member.user.save()
    member.refresh_from_db()
    assert member.role == Role.SUPERVISOR and member.user.first_name == "Renée"
    client.force_login(member.user)
    assert client.get(reverse("leads:inbox")).status_code == 200  # a supervisor's page, from the database


def test_the_directory_can_be_sent_while_the_cache_is_down(client, cache_down):
    client.force_login(factories.staff(Role.MANAGER).user)
    response = client.post(reverse("dealership:directory_send"), follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["The staff directory is being sent to every active staff member."]


def test_a_value_read_through_the_cache_is_computed_while_it_is_down(cache_down):
    assert cache.get_or_set("answer", lambda: 42, 60) == 42
    factories.lead(source="Kijiji")
    assert lead_sources() == ["Kijiji"]
    factories.lead(source="AutoTrader")
    assert lead_sources() == ["AutoTrader", "Kijiji"]  # nothing kept: read again


def test_the_log_says_the_cache_is_down_once_not_at_every_read(cache_down):
    with _cache_warnings() as warnings:
        for _ in range(3):
            cache.get("answer")
            cache.set("answer", 42)
    [warning] = [record for record in warnings if "cache" in record.getMessage().lower()]
    assert "127.0.0.1" in warning.getMessage()


@pytest.mark.redis
def test_values_are_kept_in_redis_while_it_is_up(cache_up):
    factories.lead(source="Kijiji")
    assert lead_sources() == ["Kijiji"]
    factories.lead(source="AutoTrader")
    assert lead_sources() == ["Kijiji"]  # read from the cache, until it expires
    assert cache.add("claim", 1) is True and cache.add("claim", 2) is False
    assert cache.get("claim") == 1


@pytest.fixture
def redis_server_path():
    path = shutil.which("redis-server")
    if not path:
        service_missing("needs redis-server (apt-get install redis-server)")
    return path


@pytest.mark.redis
def test_the_cache_is_used_again_once_redis_is_back_without_a_restart(monkeypatch, redis_server_path):
    port = free_port()
    with _cache_at(monkeypatch, f"redis://127.0.0.1:{port}/0"):
        assert cache.get_or_set("answer", lambda: 42, 60) == 42  # down: computed, not kept
        arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        server = subprocess.Popen([redis_server_path, *arguments], stdout=subprocess.DEVNULL)
        try:
            # Back: kept again, once the cache tries it (it leaves a server that failed alone a moment).
            deadline = time.monotonic() + 30
            while cache.get("answer") != 43 and time.monotonic() < deadline and server.poll() is None:
                cache.set("answer", 43, 60)
                time.sleep(0.05)
            assert cache.get("answer") == 43
        finally:
            server.terminate()
            server.wait()


@contextmanager
def _own_redis(redis_server_path):
    """A Redis of this test's own, on a free port; its port once it answers."""
    import redis

    port = free_port()
    arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen([redis_server_path, *arguments], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=port).ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait()


@pytest.mark.redis
def test_a_sign_out_just_after_one_slow_answer_of_redis_still_ends_the_session(
    client, monkeypatch, redis_server_path
):
    import redis

    with _own_redis(redis_server_path) as port, _cache_at(monkeypatch, f"redis://127.0.0.1:{port}/0"):
        client.force_login(factories.staff(Role.SUPERVISOR).user)
        signed_in = client.cookies["sessionid"].value
        assert client.get(reverse("leads:inbox")).status_code == 200
        # Redis busy a moment (saving to disk, say): one read times out, and the cache leaves it
        # alone a second; a sign-out in that second must still reach it.
        redis.Redis(port=port).execute_command("CLIENT", "PAUSE", 700, "ALL")
        cache.get("anything")
        client.post(reverse("logout"))
        time.sleep(1.2)
        client.cookies["sessionid"] = signed_in  # the cookie of before, copied
        assert client.get(reverse("leads:inbox")).status_code == 302


def test_a_page_does_not_wait_on_a_cache_that_does_not_answer_at_every_read(client, monkeypatch):
    """A server that takes connections and never answers (a hung Redis): the page still opens, having
    tried it a few times, not at each of its dozens of cache reads and writes."""
    client.force_login(factories.staff(Role.SUPERVISOR).user)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(100)
        with _cache_at(monkeypatch, f"redis://127.0.0.1:{silent.getsockname()[1]}/0"):
            assert client.get(reverse("leads:inbox")).status_code == 200
        silent.setblocking(False)
        tries = 0
        while True:
            try:
                connection, _ = silent.accept()
            except BlockingIOError:
                break
            connection.close()
            tries += 1
    assert 1 <= tries < 10
