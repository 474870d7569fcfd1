"""Mail in end to end: Dovecot polled by a real Celery worker (with beat) on Redis and PostgreSQL."""

import random
import shutil
import subprocess
import time
from types import SimpleNamespace

import pytest

from leads.models import (
    ForwardedMail,
    InboundMail,
    InboundOutcome,
    InboundStatus,
    Lead,
    LeadEvent,
    Mailbox,
    Message,
)
from tests import factories
from tests.conftest import free_port, service_missing
from tests.leads.conftest import Worker, wait_for_port

pytestmark = pytest.mark.django_db(transaction=True)

SETTLED = (InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.QUARANTINED)


def wait_until(check, *, seconds: float, worker) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting after {seconds} s; worker output:\n{worker.output()[-4000:]}")
        time.sleep(0.2)


def all_settled(count: int):
    def check():
        return InboundMail.objects.filter(status__in=SETTLED).count() >= count

    return check


def progress() -> str:
    stored = InboundMail.objects.count()
    settled = InboundMail.objects.filter(status__in=SETTLED).count()
    return f"{stored} stored, {settled} routed"


def backlog(size: int) -> list[bytes]:
    """Mostly new leads from different people, some service mail to forward, some automatic replies."""
    messages = []
    for n in range(size):
        if n % 10 == 3:
            raw = factories.raw_mail(
                from_address=f"owner{n}@example.org",
                subject=f"Oil change #{n}",
                body="Hello, I need an oil change and a brake inspection. Can I book a service appointment?",
            )
        elif n % 10 == 7:
            raw = factories.raw_mail(
                from_address=f"away{n}@example.org",
                subject=f"Out of office #{n}",
                body="I am away until Monday.",
                headers={"Auto-Submitted": "auto-replied"},
            )
        else:
            # Customers at a big mail provider, each acknowledged (a company's domain has a few an hour).
            raw = factories.raw_mail(from_address=f"buyer{n}@gmail.com", subject=f"Price of a RAV4 #{n}")
        messages.append(raw)
    return messages


def assert_each_message_became_exactly_one_record(count: int) -> None:
    rows = list(InboundMail.objects.all())
    assert len(rows) == count
    assert {row.status for row in rows} <= set(SETTLED)
    by_outcome = {outcome: [row for row in rows if row.outcome == outcome] for outcome in InboundOutcome}
    settled_rows = [row for row in rows if row.status != InboundStatus.QUARANTINED]
    assert sum(len(group) for group in by_outcome.values()) == len(settled_rows)
    # One lead per new-lead message, one created event each, one conversation entry per message.
    assert Lead.objects.count() == len(by_outcome[InboundOutcome.NEW_LEAD])
    assert LeadEvent.objects.filter(type="created").count() == Lead.objects.count()
    assert ForwardedMail.objects.count() == len(by_outcome[InboundOutcome.FORWARDED])
    inbound_entries = Message.objects.filter(direction="in")
    assert inbound_entries.count() == len(settled_rows) - len(by_outcome[InboundOutcome.AUTO_REPLY])
    assert inbound_entries.values("message_id").distinct().count() == inbound_entries.count()
    # One acknowledgement per new lead, no more.
    assert Message.objects.filter(direction="out").count() == Lead.objects.count()


def test_a_message_appended_to_the_mailbox_becomes_a_lead_and_is_acknowledged(
    dovecot, smtp_sink, celery_worker
):
    dovecot.append(
        factories.raw_mail(from_address="amelie@example.ca", subject="Test drive of the Corolla?"),
        folder="Leads",
    )
    wait_until(all_settled(1), seconds=60, worker=celery_worker)
    inbound = InboundMail.objects.get()
    assert inbound.outcome == InboundOutcome.NEW_LEAD
    assert inbound.lead.customer.email == "amelie@example.ca"
    [(recipients, sent)] = smtp_sink.wait_for(1)
    assert recipients == ["amelie@example.ca"]
    assert sent["In-Reply-To"] == inbound.message_id


def test_killing_the_worker_mid_backlog_loses_and_duplicates_nothing(dovecot, celery_worker):
    """kill -9 the worker at random points while it works through a backlog, restart it, again; then
    the same after the folder is recreated (new UIDVALIDITY) with the same messages."""
    factories.department("service")
    size = 200
    messages = backlog(size)
    dovecot.append(*messages, folder="Leads")
    chance = random.Random()
    seed = chance.randrange(1_000_000)
    chance.seed(seed)
    print(f"kill points seed {seed}")

    for _ in range(3):
        time.sleep(chance.uniform(1.0, 4.0))
        celery_worker.kill()
        print(f"{time.monotonic():.1f} killed with {progress()}")
        celery_worker.start()
    wait_until(all_settled(size), seconds=180, worker=celery_worker)
    print(f"{time.monotonic():.1f} all routed")
    assert_each_message_became_exactly_one_record(size)
    first_uidvalidity = Mailbox.objects.get().uidvalidity

    celery_worker.kill()
    dovecot.recreate_folder("Leads", *messages)
    celery_worker.start()
    time.sleep(chance.uniform(1.5, 3.0))
    celery_worker.kill()
    print(f"{time.monotonic():.1f} killed after the reset at UID {Mailbox.objects.get().last_uid}")
    celery_worker.start()
    wait_until(
        lambda: Mailbox.objects.filter(last_uid__gte=size).exclude(uidvalidity=first_uidvalidity).exists(),
        seconds=120,
        worker=celery_worker,
    )
    assert_each_message_became_exactly_one_record(size)


@pytest.fixture
def private_redis():
    """A Redis server of this test's own on a free loopback port, which the test may restart."""
    server_binary = shutil.which("redis-server")
    if not server_binary:
        service_missing("needs redis-server (apt-get install redis-server)")
    port = free_port()

    def start():
        process = subprocess.Popen(
            [server_binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port)
        return process

    server = SimpleNamespace(process=start(), url=f"redis://127.0.0.1:{port}/0")

    def restart():
        """Stop it hard (everything queued in it is gone, as it keeps nothing on disk), start it again."""
        server.process.kill()
        server.process.wait()
        server.process = start()

    server.restart = restart
    yield server
    server.process.kill()
    server.process.wait()


def test_restarting_redis_mid_backlog_loses_and_duplicates_nothing(dovecot, celery_worker_env, private_redis):
    """Redis restarted twice while a backlog is read and routed: what its queues held is lost, and every
    message still becomes exactly one record. A worker that gives up on the lost broker exits, and is
    started again as its supervisor would (docker-compose's restart policy)."""
    worker = Worker({**celery_worker_env, "CELERY_BROKER_URL": private_redis.url})
    worker.start()

    def settled_with_a_supervised_worker():
        if worker.process.poll() is not None:
            print(f"{time.monotonic():.1f} worker exited; started again")
            worker.start()
        return all_settled(size)()

    try:
        size = 100
        dovecot.append(*backlog(size), folder="Leads")
        for _ in range(2):
            time.sleep(2.5)
            private_redis.restart()
            print(f"{time.monotonic():.1f} Redis restarted with {progress()}")
        wait_until(settled_with_a_supervised_worker, seconds=180, worker=worker)
        assert_each_message_became_exactly_one_record(size)
    finally:
        worker.stop()


def test_a_new_inquiry_does_not_wait_behind_the_acknowledgements_a_backlog_queued(
    dovecot, smtp_sink, celery_worker
):
    """A busy mail server slows the backlog's acknowledgements. Once the backlog is routed, a new inquiry
    becomes a lead without waiting for the acknowledgements still to go: routing has a queue of its own,
    which every worker takes turns with, so the backlog's acknowledgements go as it is routed."""
    smtp_sink.seconds_per_message = 0.4
    size = 30
    dovecot.append(
        *(
            factories.raw_mail(from_address=f"buyer{n}@gmail.com", subject=f"RAV4 #{n}")
            for n in range(size)
        ),
        folder="Leads",
    )
    wait_until(all_settled(size), seconds=60, worker=celery_worker)
    sent_before = len(smtp_sink.received)
    dovecot.append(
        factories.raw_mail(from_address="latecomer@example.ca", subject="Is the Tacoma still there?"),
        folder="Leads",
    )
    wait_until(
        Lead.objects.filter(customer__email="latecomer@example.ca").exists, seconds=60, worker=celery_worker
    )
    sent_meanwhile = len(smtp_sink.received) - sent_before
    print(f"acknowledgements sent: {sent_before} before the new inquiry, {sent_meanwhile} while it waited")
    assert sent_meanwhile < size // 2
    assert len(smtp_sink.wait_for(size + 1, seconds=60)) == size + 1
