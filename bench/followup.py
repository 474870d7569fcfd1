"""Benchmark of one follow-up beat tick on a busy store.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_followup_bench .venv/bin/python bench/followup.py

Fills a throwaway PostgreSQL database with ACTIVE leads each following the default plan (ten steps
each), DUE of them with their acknowledgement due now, then times one beat tick (arrivals, the
stop checks over every active enrollment, claiming, consent, rendering in the customer's language)
beside a baseline measured in the same run: locking the same due rows and writing each once, the
least any exactly-once claim must do. The goal: a tick costs at most 2.5 × that baseline.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealership.settings.test")
os.environ.setdefault("CONN_MAX_AGE", "600")

from bench.workbench import ensure_database  # noqa: E402

ACTIVE = 5_000
DUE = 200
GOAL = 2.5


def fill(active: int, due: int):
    from django.utils import timezone

    from leads.models import Customer, FollowUpEnrollment, FollowUpStepRun, Lead
    from leads.services.followup import followup_plans_ensure_defaults
    from tests import factories

    factories.staff("supervisor", username=f"benchsup{time.time_ns()}")
    plan = followup_plans_ensure_defaults()
    steps = list(plan.steps.all())
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(
            first_name=f"Bench{n}",
            last_name="Customer",
            email=f"bench{n}@example.net",
            language="fr" if n % 4 == 0 else "en",
        )
        for n in range(active)
    )
    leads = Lead.objects.bulk_create(
        Lead(
            customer=c,
            source="Website",
            status="contacted",
            language=c.language,
            received_at=now - timedelta(days=2),
        )
        for c in customers
    )
    enrollments = FollowUpEnrollment.objects.bulk_create(
        FollowUpEnrollment(lead=lead, plan=plan, enrolled_at=now - timedelta(days=2)) for lead in leads
    )
    runs = []
    for index, enrollment in enumerate(enrollments):
        for step in steps:
            soon = index < due and step.position == 0
            due_at = now - timedelta(minutes=1) if soon else now + timedelta(days=1 + step.position)
            runs.append(
                FollowUpStepRun(enrollment=enrollment, step=step, due_at=due_at, status_changed_at=now)
            )
    FollowUpStepRun.objects.bulk_create(runs, batch_size=5000)
    return list(FollowUpStepRun.objects.filter(due_at__lte=now).values_list("pk", flat=True))


def reset(run_ids):
    from leads.models import FollowUpStepRun

    FollowUpStepRun.objects.filter(pk__in=run_ids).update(status="scheduled", subject="", body="")


def tick() -> float:
    from django.utils import timezone

    from leads.services.followup import followup_dispatch_due

    queued = []
    started = time.perf_counter()
    counts = followup_dispatch_due(now=timezone.now(), enqueue_send=queued.append)
    elapsed = time.perf_counter() - started
    assert counts["queued"] == DUE, counts
    return elapsed


def baseline(run_ids) -> float:
    from django.db import transaction
    from django.utils import timezone

    from leads.models import FollowUpStepRun

    started = time.perf_counter()
    with transaction.atomic():
        rows = list(
            FollowUpStepRun.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=run_ids, status="scheduled")
            .select_related("step", "enrollment__lead__customer")
        )
        for run in rows:
            run.status, run.status_changed_at = "queued", timezone.now()
            run.save(update_fields=["status", "status_changed_at"])
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a throwaway PostgreSQL database.")
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    from leads.models import Customer, FollowUpEnrollment, Lead

    call_command("migrate", verbosity=0)
    # Start from an empty store each run.
    FollowUpEnrollment.objects.all().delete()
    Lead.objects.filter(customer__email__startswith="bench").delete()
    Customer.objects.filter(email__startswith="bench").delete()
    run_ids = fill(ACTIVE, DUE)
    ticks, baselines = [], []
    for _ in range(args.repeat):
        reset(run_ids)
        baselines.append(baseline(run_ids))
        reset(run_ids)
        ticks.append(tick())
    tick_ms, base_ms = statistics.median(ticks) * 1000, statistics.median(baselines) * 1000
    ratio = tick_ms / base_ms
    print(
        f"{ACTIVE} active enrollments, {DUE} due: tick {tick_ms:.0f} ms, baseline {base_ms:.0f} ms, ratio {ratio:.2f}"
    )
    print("OK" if ratio <= GOAL else f"SLOWER than {GOAL} × baseline")
    sys.exit(0 if ratio <= GOAL else 1)


if __name__ == "__main__":
    main()
