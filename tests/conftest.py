"""Shared fixtures, and the rule for tests that need an outside program.

A test that needs Chromium, Dovecot or Redis is skipped, with the reason in the summary,
when that program is missing; with REQUIRE_ALL_SERVICES=1 (CI) the skip becomes a failure.
"""

import asyncio
import os
import shutil
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests import factories


def service_missing(reason: str):
    if os.environ.get("REQUIRE_ALL_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_ALL_SERVICES=1: nothing may be skipped)")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """A request leaves its language active in the thread (LocaleMiddleware): a page asked for in
    French must not turn the next test's messages French."""
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: counts cached by one test never show in the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not port_open("127.0.0.1", int(url.split(":")[2].split("/")[0])):
        service_missing("needs a Redis server on 127.0.0.1:6379")
    return url


@dataclass
class WorkerBroker:
    """Where this test's worker processes take their tasks: the test Redis, under a key prefix no
    other test or test run uses, so suites running side by side never take or drop each other's
    tasks, and nothing else kept in that Redis is touched."""

    url: str
    prefix: str

    @property
    def env(self) -> dict[str, str]:
        return {"CELERY_BROKER_URL": self.url, "CELERY_KEY_PREFIX": self.prefix}

    def connection(self):
        """A connection of this process to the same queues, to enqueue tasks for the worker."""
        from dealership.celery import app

        return app.connection_for_write(self.url, transport_options={"global_keyprefix": self.prefix})


@pytest.fixture
def worker_broker(redis_url):
    import redis

    broker = WorkerBroker(url=redis_url, prefix=f"test-{uuid.uuid4().hex}:")
    yield broker
    client = redis.Redis.from_url(redis_url)
    if keys := list(client.scan_iter(match=f"{broker.prefix}*")):
        client.delete(*keys)


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium")
    if not path:
        service_missing("needs Debian's Chromium (apt-get install chromium)")
    return path


@pytest.fixture
def supervisor(db):
    return factories.staff("supervisor", username="sup")


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor.user)
    return client


@pytest.fixture
def eager_celery():
    """Run Celery tasks in the calling thread (for browser tests, where no worker runs)."""
    from dealership.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


class SmtpSink:
    """A real SMTP server on a free loopback port that keeps what it receives.

    Recipients whose address starts with "refused" are rejected with 550, as a real server would;
    those starting with "greylisted" get 451 (try again later) the first time, then are taken.
    `messages` holds the raw messages; `received` each one's recipients and parsed message.
    Set `hang_up_after` to a number of messages and the server goes away, once, while taking the
    next one: the connection drops before any answer and that message is lost.
    Set `seconds_per_message` and it takes that long over each message, as a busy server does.
    """

    def __init__(self):
        self.messages: list[bytes] = []
        self.received: list[tuple[list[str], object]] = []
        self.port = 0
        self.hang_up_after: int | None = None
        self.seconds_per_message = 0.0
        self.greylisted: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refused"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such mailbox"
        if address.lower().startswith("greylisted") and address not in self.greylisted:
            self.greylisted.add(address)
            return f"451 4.7.1 <{address}>: Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        if len(self.messages) == self.hang_up_after:
            self.hang_up_after = None
            server.transport.abort()
            return "421 4.3.2 Shutting down"  # never reaches the client: the connection is gone
        await asyncio.sleep(self.seconds_per_message)
        self.messages.append(envelope.content)
        self.received.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted for delivery"

    def parsed(self):
        return [message for _, message in self.received]

    def wait_for(self, count: int, *, seconds: float = 30.0) -> list:
        """What has arrived once `count` messages have (or the time is up), for mail sent by workers."""
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_mailers(port: int, *, timeout: int = 10) -> dict:
    """MAILERS that send by SMTP to 127.0.0.1:port."""
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": timeout},
        }
    }


def unreachable_smtp() -> dict:
    """MAILERS aimed at a port nothing listens on: the mail server is down."""
    return smtp_mailers(free_port(), timeout=2)


@contextmanager
def mail_server_down(settings):
    """The mail server is down inside the block (unreachable_smtp), back as it was after it."""
    working = settings.MAILERS
    settings.MAILERS = unreachable_smtp()
    try:
        yield
    finally:
        settings.MAILERS = working


@pytest.fixture
def smtp_sink(settings):
    """Outgoing mail goes by SMTP to a sink on 127.0.0.1 for the length of the test."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.MAILERS = smtp_mailers(sink.port)
    yield sink
    controller.stop()
