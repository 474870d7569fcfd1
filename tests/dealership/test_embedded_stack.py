"""The embedded defaults of `make run`, for real: SQLite, the filesystem broker, worker and beat."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded_env(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "MAILBOX_URL", "EMAIL_HOST"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "dealership.settings.base",
        "VAR_DIR": str(tmp_path / "var"),
        "CELERY_RESULT_BACKEND": f"file://{tmp_path / 'results'}",
    }
    (tmp_path / "results").mkdir()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def test_a_worker_on_the_embedded_broker_executes_a_task(embedded_env):
    for folder in ("celery/queue", "celery/processed"):
        (Path(embedded_env["VAR_DIR"]) / folder).mkdir(parents=True, exist_ok=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dealership", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env=embedded_env,
    )
    try:
        client = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from dealership.tasks import ping; "
                "print(ping.delay().get(timeout=60))",
            ],
            cwd=ROOT,
            env=embedded_env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert client.returncode == 0, client.stderr
    assert client.stdout.strip().endswith("pong")


def test_runstack_serves_pages_and_one_interrupt_stops_web_worker_and_beat(embedded_env):
    port = free_port()
    stack = subprocess.Popen(
        [sys.executable, "manage.py", "runstack", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=embedded_env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert stack.poll() is None, stack.stdout.read()
                assert time.monotonic() < deadline, "the web server never answered"
                time.sleep(0.5)
        children = subprocess.run(
            ["pgrep", "-g", str(os.getpgid(stack.pid))], capture_output=True, text=True
        ).stdout.split()
        assert len(children) >= 4  # runstack itself, web, worker (and its pool), beat
        os.killpg(stack.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        stack.wait(timeout=60)
        # The worker finishes the task in hand first (a warm shutdown): on a busy machine, a while.
        deadline = time.monotonic() + 30
        while left := subprocess.run(
            ["pgrep", "-g", str(stack.pid)], capture_output=True, text=True
        ).stdout.split():
            assert time.monotonic() < deadline, f"still running after the interrupt: {left}"
            time.sleep(0.5)
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)
