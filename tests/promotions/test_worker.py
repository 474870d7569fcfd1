"""A real Celery worker on Redis sends a campaign; killed mid-way and restarted, nobody gets it twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from promotions.models import CampaignRecipient, RecipientStatus
from promotions.services.campaigns import campaign_start
from tests import factories
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env(tmp_path, worker_broker):
    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL (DATABASE_URL) so a worker process shares the test database")
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key not in {"EMAIL_HOST", "MAILBOX_URL"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "dealership.settings.base",
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        **worker_broker.env,
        # One mail every 0.4 s: slow enough to stop the worker in the middle.
        "PROMOTIONS_CAMPAIGN_BATCH_SIZE": "1",
        "PROMOTIONS_CAMPAIGN_PER_MINUTE": "150",
    }
    return env


def _worker(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dealership", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def _sent_to(outbox: Path) -> list[str]:
    return [
        line.removeprefix("To: ").strip()
        for path in sorted(outbox.glob("*.log"))
        if outbox.exists()
        for line in path.read_text().splitlines()
        if line.startswith("To: ")
    ]


def _enqueue_batch(worker_broker) -> None:
    from promotions.tasks import campaigns_send_task

    with worker_broker.connection() as broker:
        campaigns_send_task.apply_async(connection=broker)


def _wait(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_worker_killed_mid_campaign_and_restarted_sends_each_customer_once(worker_env, worker_broker):
    for n in range(8):
        factories.customer_with_email_consent(first_name=f"C{n}")
    factories.customer(first_name="No consent")
    campaign = factories.campaign()
    assert campaign_start(campaign=campaign) == {"queued": 8, "skipped": 1}
    outbox = Path(worker_env["VAR_DIR"]) / "outbox"

    first = _worker(worker_env)
    try:
        _enqueue_batch(worker_broker)
        _wait(lambda: len(_sent_to(outbox)) >= 2, 60, "the first worker sent nothing")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # a crash: no warm shutdown, the task is not acknowledged
        first.wait(timeout=30)
    sent_before_restart = len(_sent_to(outbox))
    assert sent_before_restart < 8, "the worker finished before it could be stopped"

    second = _worker(worker_env)
    try:
        _enqueue_batch(worker_broker)  # what the campaigns-resume beat entry does
        _wait(
            lambda: (
                not CampaignRecipient.objects.filter(
                    campaign=campaign, status=RecipientStatus.QUEUED
                ).exists()
            ),
            60,
            "the restarted worker did not finish the campaign",
        )
        time.sleep(1)  # let a second chain of batches, if any, find nothing left to send
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    sent_to = _sent_to(outbox)
    assert len(sent_to) == len(set(sent_to)), f"someone got it twice: {sent_to}"
    statuses = dict(campaign.recipients.values_list("email", "status"))
    assert {email for email, status in statuses.items() if status == RecipientStatus.SENT} <= set(sent_to)
    # At most the one mail in flight when the worker died is left unconfirmed; every other is sent.
    unconfirmed = [email for email, status in statuses.items() if status == RecipientStatus.SENDING]
    assert len(unconfirmed) <= 1
    assert len([s for s in statuses.values() if s == RecipientStatus.SENT]) + len(unconfirmed) == 8


def test_two_workers_claiming_at_once_never_take_the_same_recipient():
    """skip_locked: while one worker holds its batch, another gets the next rows, never the same."""
    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL (DATABASE_URL): SQLite has no row locks to skip")
    import threading

    from django.db import connections, transaction

    from promotions.services.campaigns import _claim

    for n in range(6):
        factories.customer_with_email_consent(first_name=f"P{n}")
    campaign = factories.campaign()
    campaign_start(campaign=campaign)
    holding, release, claimed = threading.Event(), threading.Event(), {}

    def slow_worker():
        # Holds the lock on its rows, as a worker in the middle of its claim does.
        with transaction.atomic():
            rows = list(
                CampaignRecipient.objects.select_for_update(skip_locked=True)
                .filter(campaign=campaign, status=RecipientStatus.QUEUED)
                .order_by("pk")[:3]
            )
            claimed["slow"] = {row.pk for row in rows}
            holding.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=slow_worker)
    thread.start()
    assert holding.wait(10)
    claimed["fast"] = {row.pk for row in _claim(campaign=campaign, limit=6, interval=0)}
    release.set()
    thread.join(10)
    assert len(claimed["slow"]) == 3 and len(claimed["fast"]) == 3
    assert not claimed["slow"] & claimed["fast"]


def test_two_campaigns_claiming_at_the_same_moment_send_one_batch_between_them(monkeypatch):
    """The store's pace holds across workers: the second claim waits for the first, then sees it."""
    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL (DATABASE_URL): SQLite has no row locks to wait on")
    import threading

    from django.db import connections

    from promotions.services import campaigns as campaign_service

    factories.customer_with_email_consent()
    promotion = factories.running_promotion()
    first, second = factories.campaign(promotion), factories.campaign(promotion, name="Second")
    campaign_start(campaign=first)
    campaign_start(campaign=second)
    holding, release, outcome = threading.Event(), threading.Event(), {}
    wait = campaign_service.campaign_batch_too_soon

    def first_pauses_inside_its_claim(*, interval):
        if threading.current_thread().name == "first":
            holding.set()
            release.wait(10)
        return wait(interval=interval)

    monkeypatch.setattr(campaign_service, "campaign_batch_too_soon", first_pauses_inside_its_claim)

    def worker(campaign):
        outcome[campaign] = campaign_service._claim(campaign=campaign, limit=1, interval=60)
        connections.close_all()

    threads = {
        name: threading.Thread(target=worker, args=(campaign,), name=name)
        for name, campaign in (("first", first), ("second", second))
    }
    threads["first"].start()
    assert holding.wait(10)
    threads["second"].start()
    threads["second"].join(0.5)  # time enough to claim, were it not made to wait
    release.set()
    for thread in threads.values():
        thread.join(10)
    assert [row.campaign_id for row in outcome[first]] == [first.pk]
    assert outcome[second] is None  # it waited for the first claim, then found it
    assert second.recipients.get().status == RecipientStatus.QUEUED
