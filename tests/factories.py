"""Builders for test data, going through the real services."""

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from dealership.models import Department, Role, StaffMember
from dealership.services import departments_ensure, staff_create
from leads.models import Channel, Customer, Direction, Lead, Message
from leads.services.appointments import working_hours_ensure_defaults
from leads.services.leads import customer_find_or_create, lead_create

_sequence = itertools.count(1)
PASSWORD = "test-pass-123"


def department(code: str = "sales") -> Department:
    departments_ensure(email_domain="store.test")
    return Department.objects.get(code=code)


def staff(
    role: str = Role.SUPERVISOR, *, username: str | None = None, department_code: str = "sales", **fields
) -> StaffMember:
    n = next(_sequence)
    username = username or f"{role}{n}"
    return staff_create(
        username=username,
        first_name=fields.pop("first_name", role.title()),
        last_name=fields.pop("last_name", f"Person{n}"),
        email=fields.pop("email", f"{username}@store.test"),
        role=role,
        department=department(department_code),
        password=PASSWORD,
        **fields,
    )


def customer(**fields) -> Customer:
    n = next(_sequence)
    fields.setdefault("email", f"customer{n}@example.com")
    fields.setdefault("first_name", "Pat")
    fields.setdefault("last_name", f"Customer{n}")
    return customer_find_or_create(**fields)[0]


def lead(*, customer_obj: Customer | None = None, **fields) -> Lead:
    fields.setdefault("received_at", timezone.now())
    fields.setdefault("source", "Website")
    return lead_create(customer=customer_obj or customer(), **fields)


def advisor(**fields) -> StaffMember:
    """A sales advisor with the store's default working week."""
    member = staff(Role.ADVISOR, **fields)
    working_hours_ensure_defaults(advisor=member)
    return member


def next_weekday_at(hour: int) -> datetime:
    """Tomorrow, or the next Monday-to-Friday day, at `hour` store time: always bookable."""
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_default_timezone())


def inbound_email(*, lead: Lead, body: str = "Is it still available?", **fields) -> Message:
    """A customer's mail on a lead, as mail ingestion stores it."""
    n = next(_sequence)
    fields.setdefault("occurred_at", lead.received_at)
    return Message.objects.create(
        lead=lead,
        customer=lead.customer,
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        from_address=lead.customer.email,
        to_addresses=["internet@maplemotors.example"],
        subject=fields.pop("subject", "Question"),
        body_text=body,
        new_text=body,
        message_id=fields.pop("message_id", f"<customer{n}@example.com>"),
        **fields,
    )
