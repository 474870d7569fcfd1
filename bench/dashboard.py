"""The manager's dashboard at 1,000,000 lead events, beside the plain SQL that computes the same numbers.

    .venv/bin/python bench/dashboard.py [--events 1000000] [--runs 9]

Uses a throwaway PostgreSQL database (BENCH_DATABASE_URL, default crm_bench_dashboard on 127.0.0.1);
the data stays between runs, so only the first run pays for building it.
"""

import argparse

from _setup import django_on_throwaway_database, timings

PLAIN_SQL = """
SELECT source,
       count(*), count(contacted_at), count(appointment_set_at), count(shown_at), count(sold_at),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_business_minutes),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response_business_minutes),
       count(*) FILTER (WHERE first_response_business_minutes <= %(target)s)
FROM leads_lead
WHERE received_at >= %(start)s AND received_at < %(end)s
GROUP BY ROLLUP (source)
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    django_on_throwaway_database("crm_bench_dashboard")

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from dealership.management.commands.seed_demo import Command as Seed
    from dealership.models import StaffMember
    from dealership.selectors import period_for
    from leads.models import Lead, LeadEvent

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    # About 2.3 events a lead (created plus each stage reached): grow until the target is met,
    # all inside the current quarter so that the dashboard's quarter view aggregates every event.
    quarter = period_for(kind="quarter", anchor=timezone.localdate())
    days = max(1, (timezone.localdate() - quarter.start).days)
    while (events := LeadEvent.objects.count()) < args.events:
        have = Lead.objects.filter(customer__email__startswith="benchq").count()
        more = max(10_000, int((args.events - events) / 2.3))
        Seed()._bulk_leads(have + more, prefix="benchq", days=days)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    start, end = quarter.bounds
    leads_in_period = Lead.objects.filter(received_at__gte=start, received_at__lt=end).count()
    events_in_period = LeadEvent.objects.filter(
        lead__received_at__gte=start, lead__received_at__lt=end
    ).count()

    client = Client()
    client.force_login(StaffMember.objects.get(user__username="manager").user)
    params = {"period": "quarter", "date": quarter.start.isoformat()}

    def dashboard():
        response = client.get("/store/dashboard/", params)
        assert response.status_code == 200

    def plain_sql():
        with connection.cursor() as cursor:
            cursor.execute(
                PLAIN_SQL, {"start": start, "end": end, "target": settings.RESPONSE_TARGET_MINUTES}
            )
            cursor.fetchall()

    page = timings(dashboard, runs=args.runs)
    sql = timings(plain_sql, runs=args.runs)
    print(f"lead events in the period: {events_in_period:,} ({leads_in_period:,} leads)")
    print(f"{'':28}{'median ms':>12}{'p95 ms':>10}")
    print(f"{'dashboard page (whole)':28}{page['median_ms']:>12.1f}{page['p95_ms']:>10.1f}")
    print(f"{'plain aggregate SQL':28}{sql['median_ms']:>12.1f}{sql['p95_ms']:>10.1f}")
    print(f"ratio page / plain SQL (median): {page['median_ms'] / sql['median_ms']:.2f}")


if __name__ == "__main__":
    main()
