"""Benchmark of the supervisor's workbench on a large store's history.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench .venv/bin/python bench/workbench.py

Fills a throwaway PostgreSQL database (created if missing) with 100,000 leads and 1,000,000
messages by INSERT … SELECT generate_series, then times the inbox and a lead page through the
Django test client (server time: median and p95, queries per page) beside the time to render the
same rows, already in memory (a fresh copy for each render), with the same templates. The goal:
database, permissions and logic cost at most half as much again as that render (page ≤ 1.5 × render).
"""

import argparse
import os
import pickle
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealership.settings.test")
# Persistent connections, as a deployment sets them: each page pays for its queries, not for a new
# PostgreSQL connection.
os.environ.setdefault("CONN_MAX_AGE", "600")

LEADS = 100_000
MESSAGES_PER_LEAD = 10
# A page that only checks the login and renders a short template: the cost every request pays.
FLOOR_URL = "/leads/appointments/mine/"


def ensure_database(url: str, *, fresh: bool) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        if fresh:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def fill(leads: int) -> float:
    """Customers, leads, vehicles, events and messages in a handful of set-based inserts."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        # A throwaway database: no need to wait for the disk, and indexes are built once at the end.
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN %s AND indexname NOT LIKE %s",
            [("leads_message", "leads_leadevent", "leads_leadvehicle"), "%pkey"],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT id FROM auth_user WHERE username LIKE %s ORDER BY id", ["benchadvisor%"])
        advisors = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """
            INSERT INTO leads_customer (first_name, last_name, email, phone, preferred_channel, language,
                street, city, province, postal_code, notes, email_undeliverable, email_undeliverable_reason,
                created_at, updated_at)
            SELECT (ARRAY['Emma', 'Olivia', 'Noah', 'Liam', 'Léa', 'Chloé', 'William', 'Thomas', 'Alice',
                          'Jacob', 'Zoé', 'Nathan', 'Sofia', 'Samuel', 'Charlotte', 'Félix', 'Mia', 'Gabriel',
                          'Priya', 'Wei'])[1 + g %% 20],
                   (ARRAY['Tremblay', 'Gagnon', 'Roy', 'Côté', 'Bouchard', 'Gauthier', 'Morin', 'Lavoie',
                          'Fortin', 'Gagné', 'Smith', 'Brown', 'Wilson', 'Patel', 'Chen', 'Singh', 'Martin',
                          'Campbell', 'Anderson', 'Nguyen', 'Lee', 'Taylor', 'Thompson', 'White', 'Pelletier',
                          'Bélanger', 'Lévesque', 'Bergeron', 'Leblanc', 'Girard'])[1 + (g / 20) %% 30],
                   'customer' || g || '@example.net',
                   '+1416' || lpad(g::text, 7, '0'),
                   (ARRAY['email', 'email', 'phone', 'text'])[1 + g %% 4],
                   CASE WHEN g %% 4 = 0 THEN 'fr' ELSE 'en' END, '', 'Toronto', 'ON', '', '', false, '',
                   now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [leads],
        )
        # One lead per customer, one every five minutes back from now; the newest ones still open,
        # most of them answered, older ones closed.
        cursor.execute(
            """
            INSERT INTO leads_lead (customer_id, status, lost_reason, source, inquiry_type, language, comments,
                owner_id, received_at, first_response_at, first_response_business_minutes, created_at, updated_at,
                vehicle_wanted)
            SELECT c.id,
                   CASE WHEN c.rn <= 3000 THEN (ARRAY['new', 'contacted', 'appointment_set', 'shown'])[1 + c.rn %% 4]
                        ELSE (ARRAY['sold', 'lost', 'lost', 'contacted'])[1 + c.rn %% 4] END,
                   CASE WHEN c.rn > 3000 AND c.rn %% 4 IN (1, 2) THEN 'Bought elsewhere' ELSE '' END,
                   (ARRAY['AutoTrader', 'Cars.com', 'Kijiji Autos', 'CarGurus', 'Website', 'Toyota.ca'])[1 + c.rn %% 6],
                   (ARRAY['price', 'trade_in', 'financing', 'test_drive', 'general'])[1 + c.rn %% 5],
                   c.language, 'Is this vehicle still available? What is your best price?',
                   (%s::bigint[])[1 + c.rn %% 4],
                   now() - c.rn * interval '5 minutes',
                   CASE WHEN c.rn %% 10 = 0 THEN NULL ELSE now() - c.rn * interval '5 minutes' + interval '17 minutes' END,
                   CASE WHEN c.rn %% 10 = 0 THEN NULL ELSE 17 END,
                   now(), now(), ''
            FROM (SELECT id, language, row_number() OVER (ORDER BY id) AS rn FROM leads_customer) AS c
            """,
            [advisors + [None]],
        )
        cursor.execute(
            """
            INSERT INTO leads_leadvehicle (lead_id, interest, condition, year, make, model, trim, vin,
                stock_number, odometer_km, price)
            SELECT id, 'buy', 'new', 2026, (ARRAY['Toyota', 'Honda', 'Ford', 'Hyundai'])[1 + id % 4],
                   (ARRAY['RAV4', 'Civic', 'F-150', 'Tucson'])[1 + id % 4], 'Base',
                   upper(substr(md5(id::text), 1, 17)), 'STK' || id, NULL, 30000 + id % 20000
            FROM leads_lead
            """
        )
        cursor.execute(
            """
            INSERT INTO leads_leadevent (lead_id, actor_id, type, params, created_at)
            SELECT id, NULL, 'created', jsonb_build_object('source', source), received_at FROM leads_lead
            """
        )
        cursor.execute(
            """
            INSERT INTO leads_message (lead_id, customer_id, channel, direction, author_id, from_address,
                to_addresses, subject, body_text, body_html, new_text, message_id, in_reply_to, "references",
                send_status, send_error, occurred_at, created_at)
            SELECT l.id, l.customer_id,
                   CASE WHEN k %% 3 = 0 THEN 'phone' ELSE 'email' END,
                   CASE WHEN k %% 2 = 1 THEN 'in' ELSE 'out' END,
                   NULL, 'customer' || l.customer_id || '@example.net', '[]'::jsonb,
                   'Re: your inquiry #' || k,
                   repeat('Thank you for the information about the vehicle. ', 6),
                   '', 'Is it still available?', '<m' || l.id || '.' || k || '@example.net>', '', '',
                   CASE WHEN k %% 2 = 0 THEN 'sent' ELSE '' END, '',
                   l.received_at + k * interval '20 minutes', now()
            FROM leads_lead AS l CROSS JOIN generate_series(1, %s) AS k
            """,
            [MESSAGES_PER_LEAD],
        )
        for _, definition in indexes:
            cursor.execute(definition)
        # Each lead's one vehicle as the inbox line (what lead_create writes).
        cursor.execute(
            """
            UPDATE leads_lead AS l SET vehicle_wanted = concat_ws(' ', v.year, v.make, v.model, v.trim)
            FROM leads_leadvehicle AS v WHERE v.lead_id = l.id
            """
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def mail_lead_extras_add(pk: int) -> None:
    """Give one lead what most leads that came by mail have besides their messages: the mail
    received (its "View original" list), an attachment and an earlier inquiry of the same customer.
    Done once; the lead page reads each of these only when the lead has it."""
    from django.core.files.base import ContentFile

    from leads.models import Attachment, InboundMail, Lead, Message
    from tests import factories

    lead = Lead.objects.get(pk=pk)
    if lead.inbound_mail.exists():
        return
    inbound = factories.inbound_mail(factories.raw_mail(subject="Price of the 2024 RAV4"), process=False)
    InboundMail.objects.filter(pk=inbound.pk).update(lead=lead, status="processed")
    first = Message.objects.filter(lead=lead).order_by("occurred_at").first()
    Attachment.objects.create(
        message=first,
        filename="trade-in.jpg",
        content_type="image/jpeg",
        size=4,
        file=ContentFile(b"jpeg", "t.jpg"),
    )
    factories.lead(customer_obj=lead.customer, received_at=lead.received_at - timedelta(days=40))


def interleaved_timings(first, second, repeat: int) -> tuple[list[float], list[float]]:
    """Milliseconds of each of two callables, run turn about so a busy machine slows both alike."""
    first(), second()  # warm caches, templates and connections
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, bucket in ((first, samples[0]), (second, samples[1])):
            started = time.perf_counter()
            fn()
            bucket.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def frozen_context(context: dict) -> dict:
    """The page's context with every database-backed value already evaluated into memory."""
    from django.db.models import QuerySet
    from django.forms import Form

    frozen = {}
    for key, value in context.items():
        if isinstance(value, QuerySet):
            value = list(value)
        elif isinstance(value, Form):
            for field in value.fields.values():
                if hasattr(field, "queryset"):
                    field.choices = list(field.choices)
        frozen[key] = value
    return frozen


def unrendered_copy(context: dict) -> dict:
    """A copy of the page's context, made before timing: forms and rows that were rendered once
    keep what they worked out (bound fields, widgets), and a render of those is cheaper than the
    page's own first render. Pickled and unpickled, so that querysets keep their rows (a deep copy
    drops them). Values that cannot be pickled (the request) are shared."""
    copied = {}
    for key, value in context.items():
        try:
            copied[key] = pickle.loads(pickle.dumps(value))
        except (TypeError, AttributeError, pickle.PicklingError):
            copied[key] = value
    return copied


def measure(client, url: str, repeat: int) -> dict:
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import setup_test_environment, teardown_test_environment

    # Record the page's template and context once; the instrumentation stays off while timing.
    setup_test_environment()
    response = client.get(url)
    teardown_test_environment()
    assert response.status_code == 200, response.status_code
    executed = []
    with connection.execute_wrapper(lambda execute, sql, *args: executed.append(sql) or execute(sql, *args)):
        client.get(url)

    # The same rows, from memory, through the same template and context processors.
    template_name = response.templates[0].name
    request = response.wsgi_request
    context = frozen_context(response.context[0].flatten())
    render_queries = []
    contexts = iter([unrendered_copy(context) for _ in range(repeat + 2)])
    with connection.execute_wrapper(
        lambda execute, sql, *args: render_queries.append(sql) or execute(sql, *args)
    ):
        render_to_string(template_name, next(contexts), request=request)
    assert not render_queries, render_queries
    database_ms: list[float] = []

    def timed_execute(execute, sql, *args):
        started = time.perf_counter()
        try:
            return execute(sql, *args)
        finally:
            database_ms[-1] += (time.perf_counter() - started) * 1000

    def page_with_database_time():
        database_ms.append(0.0)
        with connection.execute_wrapper(timed_execute):
            client.get(url)

    page, render = interleaved_timings(
        page_with_database_time,
        lambda: render_to_string(template_name, next(contexts), request=request),
        repeat,
    )
    page_median, page_p95 = summary(page)
    render_median, render_p95 = summary(render)
    return {
        "url": url,
        "queries": len(executed),
        "database_median": statistics.median(database_ms),
        "page_median": page_median,
        "page_p95": page_p95,
        "render_median": render_median,
        "render_p95": render_p95,
        "overhead": (page_median - render_median) / render_median,
    }


def query_cost(pk: int, repeat: int) -> tuple[float, float]:
    """Median milliseconds of one small query through the ORM, and of the same SQL on a raw cursor:
    what every query of a page costs before its rows are even used."""
    from django.db import connection

    from leads.models import Lead

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    sql, params = Lead.objects.filter(pk=pk).query.sql_with_params()
    orm, raw_times = interleaved_timings(lambda: Lead.objects.get(pk=pk), raw, repeat * 5)
    return statistics.median(orm), statistics.median(raw_times)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--leads", type=int, default=LEADS)
    parser.add_argument("--fresh", action="store_true", help="drop the database first and fill it again")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit(
            "Set DATABASE_URL to a throwaway PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/crm_bench"
        )
    ensure_database(url, fresh=args.fresh)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from dealership.models import Role
    from dealership.services import departments_ensure
    from leads.models import Lead, Message
    from leads.services.replies import reply_templates_ensure_defaults
    from tests import factories

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False  # as in production: no query log kept
    call_command("migrate", verbosity=0)
    departments_ensure(email_domain="store.test")
    reply_templates_ensure_defaults()
    if not Lead.objects.exists():
        factories.staff(Role.SUPERVISOR, username="benchsupervisor")
        for n in range(3):
            factories.staff(Role.ADVISOR, username=f"benchadvisor{n}")
        seconds = fill(args.leads)
        print(
            f"Filled {Lead.objects.count():,} leads and {Message.objects.count():,} messages in {seconds:.1f} s"
        )
    else:
        print(f"Reusing {Lead.objects.count():,} leads and {Message.objects.count():,} messages")
    supervisor = get_user_model().objects.get(username="benchsupervisor")
    client = Client()
    client.force_login(supervisor)
    busy_lead, mail_lead = (
        Lead.objects.filter(status="new").order_by("-received_at").values_list("pk", flat=True)[:2]
    )
    mail_lead_extras_add(mail_lead)

    pages = [
        ("Inbox (open, newest first)", "/leads/"),
        ("Inbox (unanswered, most urgent)", "/leads/?unanswered=on&sort=urgent"),
        ("Inbox (overdue)", "/leads/?overdue=on"),
        ("Inbox (search by phone)", "/leads/?q=416+000+1234"),
        ("Inbox (search by email)", "/leads/?q=customer1234%40example.net"),
        ("Inbox (search by name)", "/leads/?q=Chloé+Pelletier"),
        ("Inbox (search by stock #)", "/leads/?q=STK12345"),
        ("Lead page (10 messages)", f"/leads/{busy_lead}/"),
        ("Lead page (+ mail, file, 2nd lead)", f"/leads/{mail_lead}/"),
    ]
    # What any page pays beyond its own render and its database time: the request, session, user
    # and middleware, measured on a page that reads nothing.
    floor = measure(client, FLOOR_URL, args.repeat)
    request_ms = floor["page_median"] - floor["render_median"] - floor["database_median"]
    print(
        f"\n{'page':34} {'queries':>7} {'page med':>9} {'p95':>7} {'in DB':>7} {'render med':>11} {'p95':>7}"
        f" {'rest':>7} {'overhead':>9} {'bound':>6}"
    )
    for label, url in pages:
        result = measure(client, url, args.repeat)
        rest = result["page_median"] - result["database_median"] - result["render_median"]
        bound = (request_ms + result["database_median"]) / result["render_median"]
        print(
            f"{label:34} {result['queries']:>7} {result['page_median']:>7.1f}ms {result['page_p95']:>5.1f}ms"
            f" {result['database_median']:>5.1f}ms {result['render_median']:>9.1f}ms {result['render_p95']:>5.1f}ms"
            f" {rest:>5.1f}ms {result['overhead']:>8.0%} {bound:>5.0%}"
        )
    print(
        f"{'Floor: logged-in page, no data':34} {floor['queries']:>7} {floor['page_median']:>7.1f}ms"
        f" {floor['page_p95']:>5.1f}ms {floor['database_median']:>5.1f}ms {floor['render_median']:>9.1f}ms"
        f" {floor['render_p95']:>5.1f}ms {request_ms:>5.1f}ms   (request, session, user, middleware)"
    )
    orm_ms, raw_ms = query_cost(busy_lead, args.repeat)
    print(
        f"{'One lead read by primary key':34} {'':>7} {orm_ms:>7.2f}ms          "
        f"(raw cursor: {raw_ms:.2f}ms; the rest is Django building the query and the object)"
    )
    print("\nin DB = time inside the database calls of the page (median);")
    print("rest = page − in DB − render: Django's request, query building and the view's own work;")
    print("overhead = (page − render) / render; goal ≤ 50 %")
    print(
        "bound = the least overhead the page could have with its database time as it is and no Python"
        " of its own:\n        (the floor's rest + in DB) / render"
    )


if __name__ == "__main__":
    main()
