"""Mail-in throughput and latency, against the ceiling of merely parsing the same messages.

    .venv/bin/python bench/mail_ingest.py [--backlog 5000] [--singles 50]

Starts a throwaway Dovecot, a throwaway PostgreSQL database and one Celery worker (concurrency 2,
Redis db 12), then measures:
- the rate at which the `email` package alone parses the backlog (the ceiling);
- the rate at which the worker stores and routes a backlog that lands in the mailbox at once;
- the time from APPEND to the lead being visible, for single messages (IMAP IDLE).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
KEY_PREFIX = "mailingest-bench:"
DB_NAME = f"bench_mailingest_{os.getpid()}"


def psql(sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{PG}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def backlog(size: int) -> list[bytes]:
    """The test suite's mix: mostly leads from different people, some service mail, some auto-replies."""
    from tests.leads.test_mail_tasks import backlog as mixed_backlog

    return mixed_backlog(size)


def parse_rate(messages: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in messages:
        message = message_from_bytes(raw, policy=policy.default)
        for part in message.walk():
            if part.get_content_maintype() == "text":
                part.get_content()
    return len(messages) / (time.perf_counter() - start)


def percentile(values: list[float], rank: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(rank / 100 * len(ordered)) - 1)]


def wait_for(check, *, seconds: float, poll: float = 0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(poll)
    raise TimeoutError("the worker did not finish in time")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--singles", type=int, default=50)
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="bench-mail-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "dealership.settings.base",
            "DATABASE_URL": f"{PG}/{DB_NAME}",
            "VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
        }
    )
    psql(f'CREATE DATABASE "{DB_NAME}"')
    import django

    django.setup()
    from tests.leads.conftest import Dovecot

    dovecot = Dovecot()
    worker = None
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from dealership.services import departments_ensure
        from leads.models import InboundMail, InboundStatus, Lead

        departments_ensure(email_domain="store.test")
        dovecot.start()
        dovecot.recreate_folder("Staging")
        dovecot.recreate_folder("Leads")

        messages = backlog(args.backlog)
        ceiling = parse_rate(messages)
        dovecot.append(*messages, folder="Staging")

        import redis

        # Tasks an interrupted run left behind; nothing else in that Redis is touched.
        broker = redis.Redis.from_url(REDIS)
        if leftovers := list(broker.scan_iter(match=f"{KEY_PREFIX}*")):
            broker.delete(*leftovers)
        env = {
            **os.environ,
            "CELERY_BROKER_URL": REDIS,
            "CELERY_KEY_PREFIX": KEY_PREFIX,
            "MAILBOX_URL": dovecot.url_for("Leads"),
            "MAILBOX_POLL_SECONDS": "30",
            "MAILBOX_IDLE_SECONDS": "25",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dealership", "worker", "--beat", "--concurrency=2",
             f"--schedule={var_dir}/celerybeat-schedule", "--loglevel=WARNING", "--without-gossip",
             "--without-mingle"],
            cwd=ROOT, env=env, stdout=open(f"{var_dir}/worker.log", "w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        from leads.models import Mailbox

        wait_for(lambda: Mailbox.objects.filter(locked_until__isnull=False).exists(), seconds=60)

        # The whole backlog lands in the watched folder in one command.
        with dovecot.client() as client:
            client.select_folder("Staging")
            start = time.perf_counter()
            client.move(client.search("ALL"), "Leads")
        wait_for(lambda: InboundMail.objects.count() >= args.backlog, seconds=3600, poll=0.1)
        stored_seconds = time.perf_counter() - start
        settled = (InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.QUARANTINED)
        wait_for(
            lambda: InboundMail.objects.filter(status__in=settled).count() >= args.backlog,
            seconds=3600,
            poll=0.1,
        )
        routed_seconds = time.perf_counter() - start

        from tests import factories

        stored_latencies, latencies = [], []
        for n in range(args.singles):
            address = f"single{n}@example.net"
            subject = f"Best price on a Corolla? #{n}"
            raw = factories.raw_mail(from_address=address, subject=subject)
            start = time.perf_counter()
            dovecot.append(raw, folder="Leads")
            wait_for(
                lambda subject=subject: InboundMail.objects.filter(subject=subject).exists(), seconds=120
            )
            stored_latencies.append(time.perf_counter() - start)
            wait_for(
                lambda address=address: Lead.objects.filter(customer__email=address).exists(), seconds=120
            )
            latencies.append(time.perf_counter() - start)

        rows = [
            ("parse only (email package, the ceiling)", f"{ceiling:,.0f} msg/s", "1.00"),
            (
                f"stored from IMAP ({args.backlog:,} backlog)",
                f"{args.backlog / stored_seconds:,.0f} msg/s",
                f"{args.backlog / stored_seconds / ceiling:.3f}",
            ),
            (
                "stored and routed (lead/forward/ignored)",
                f"{args.backlog / routed_seconds:,.0f} msg/s",
                f"{args.backlog / routed_seconds / ceiling:.3f}",
            ),
        ]
        print(f"\nMail in, one worker (concurrency 2), {args.backlog:,}-message backlog\n")
        print(f"{'':45} {'rate':>14} {'vs ceiling':>11}")
        for label, rate, ratio in rows:
            print(f"{label:45} {rate:>14} {ratio:>11}")
        print(f"\nOne message at a time, {len(latencies)} messages (IMAP IDLE):")
        for label, values in (("APPEND → stored", stored_latencies), ("APPEND → lead visible", latencies)):
            print(
                f"  {label:24} median {statistics.median(values) * 1000:7,.0f} ms, "
                f"95th percentile {percentile(values, 95) * 1000:7,.0f} ms"
            )
        counts = {
            status: InboundMail.objects.filter(status=status).count() for status in InboundStatus.values
        }
        print(f"Outcome of the backlog and singles: {counts}")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        dovecot.stop()
        from django.db import connections

        connections.close_all()
        psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
