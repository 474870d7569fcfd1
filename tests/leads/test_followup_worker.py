"""A real Celery worker on Redis, killed with SIGKILL mid-send: the follow-up email goes out once.

The mail server holds the message's DATA without answering, so the worker is caught between
"sending" and "sent"; it is killed there, and a fresh worker receives the redelivered task.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from leads.models import FollowUpStepRun, Message
from leads.services.followup import followup_dispatch_due, followup_enroll, followup_plans_ensure_defaults
from leads.tasks import followup_send_step_task
from tests import factories
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
# The worker redelivers a task left unacknowledged this many seconds after it was taken.
VISIBILITY_TIMEOUT = 2
WORKER = (
    "import django; django.setup()\n"
    "from dealership.celery import app\n"
    # Look for unacknowledged tasks every second (the default is every 100 s).
    "app.conf.broker_transport_options = {**app.conf.broker_transport_options, "
    f"'visibility_timeout': {VISIBILITY_TIMEOUT}, 'unacked_restore_interval': 1, 'unacked_restore_throttle': 1"
    "}\n"
    "app.worker_main(['worker', '--pool=solo', '--loglevel=WARNING', '--without-heartbeat',"
    " '--without-mingle', '--without-gossip'])\n"
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


class HoldingMailServer:
    """Keeps every message it receives; holds the answer to DATA until released."""

    def __init__(self):
        self.received: list[bytes] = []
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return "250 OK"


def _wait_for(condition, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def mail_server():
    handler = HoldingMailServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    handler.release.set()
    controller.stop()


def test_a_worker_killed_mid_send_does_not_send_the_email_twice(
    mail_server, tmp_path, supervisor, worker_broker
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process shares the test database: run with DATABASE_URL=postgres://…")
    handler, smtp_port = mail_server
    database = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"MAILBOX_URL", "DJANGO_SETTINGS_MODULE"}},
        "DJANGO_SETTINGS_MODULE": "dealership.settings.base",
        "DATABASE_URL": (
            f"postgres://{quote(database['USER'])}:{quote(database['PASSWORD'] or '')}"
            f"@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        **worker_broker.env,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "VAR_DIR": str(tmp_path),
    }

    plan = followup_plans_ensure_defaults()
    now = timezone.now()
    lead = factories.lead(received_at=now - timedelta(minutes=1))
    followup_enroll(lead=lead, plan=plan, now=now)
    FollowUpStepRun.objects.filter(enrollment__lead=lead).update(due_at=now - timedelta(minutes=1))
    FollowUpStepRun.objects.filter(enrollment__lead=lead, step__position__gt=0).update(status="cancelled")

    with worker_broker.connection() as broker:
        followup_dispatch_due(
            now=now,
            enqueue_send=lambda pk: followup_send_step_task.apply_async(
                kwargs={"run_id": pk}, connection=broker
            ),
        )
    run = FollowUpStepRun.objects.get(enrollment__lead=lead, step__position=0)

    def status():
        run.refresh_from_db()
        return run.status

    first = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env)
    try:
        assert _wait_for(lambda: handler.received and status() == "sending"), (
            "the worker never reached the send"
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    handler.release.set()

    second = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env)
    try:
        assert _wait_for(lambda: status() == "needs_review"), (
            f"the task was not redelivered (status {status()})"
        )
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert len(handler.received) == 1
    assert not Message.objects.filter(lead=lead).exists()
    assert "interrupted" in run.note
