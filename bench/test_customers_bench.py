"""Customer matching, duplicate finding and DMS import speed, each as a ratio to a baseline
measured in the same run on the same rows. Run: .venv/bin/python -m pytest bench -s

Baselines: reading the same customers' columns (duplicates); one indexed
lookup by email (matching); inserting the same customers with bulk_create (import)."""

import time

import pytest

from leads.models import Customer, CustomerImport
from leads.selectors.customers import customer_duplicates, customer_match
from leads.services.customer_import import import_apply

pytestmark = pytest.mark.django_db
CUSTOMERS = 10_000
IMPORT_ROWS = 2_000


def timed(function, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - start) / repeat


@pytest.fixture
def many_customers():
    Customer.objects.bulk_create(
        Customer(
            first_name=f"First{n % 9000}",  # every 9000th repeats: some same-name pairs
            last_name="Person",
            email=f"person{n}@example.com",
            phone=f"+1416{n:07d}",
            street=f"{n % 5000} King Street",
            postal_code="M6K 1G4",
        )
        for n in range(CUSTOMERS)
    )


def report(name: str, measured: float, baseline: float) -> None:
    print(
        f"\n{name}: {measured * 1000:.2f} ms vs baseline {baseline * 1000:.2f} ms = ×{measured / baseline:.1f}"
    )


def test_duplicates_scan(many_customers):
    columns = ("pk", "first_name", "last_name", "email", "phone", "street", "postal_code")
    baseline = timed(lambda: list(Customer.objects.values_list(*columns)))
    measured = timed(customer_duplicates)
    report(f"customer_duplicates over {CUSTOMERS} customers", measured, baseline)


def test_match_by_email_and_phone(many_customers):
    baseline = timed(lambda: Customer.objects.filter(email="person7777@example.com").first(), repeat=200)
    by_email = timed(lambda: customer_match(email="Person7777@Example.com"), repeat=200)
    by_phone = timed(lambda: customer_match(email="new@example.com", phone="416 000 7777"), repeat=200)
    report("customer_match by email", by_email, baseline)
    report("customer_match by phone (email unknown)", by_phone, baseline)


def test_import(db):
    header = "name,email,phone,type,date,vehicle,deal number\n"
    rows = "".join(
        f"Person {n},import{n}@example.com,+1905{n:07d},sale,2025-01-{n % 28 + 1:02d},2025 Honda Civic,D{n}\n"
        for n in range(IMPORT_ROWS)
    )
    batch = CustomerImport.objects.create(filename="bench.csv", content=header + rows)
    mapping = {"name": "full_name", "email": "email", "phone": "phone", "type": "kind", "date": "date",
               "vehicle": "vehicle", "deal number": "reference"}  # fmt: skip
    baseline = timed(
        lambda: Customer.objects.bulk_create(
            Customer(first_name="Person", last_name=str(n), email=f"base{n}@example.com")
            for n in range(IMPORT_ROWS)
        )
    )
    measured = timed(lambda: import_apply(batch=batch, mapping=mapping, actor=None, dry_run=False))
    report(f"import of {IMPORT_ROWS} rows (customer + purchase + consent each)", measured, baseline)
    print(f"  {measured / IMPORT_ROWS * 1000:.2f} ms per row")
