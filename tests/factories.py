"""Builders for test data, going through the real services."""

import itertools
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils import timezone

from dealership.models import Department, Role, StaffMember
from dealership.services import departments_ensure, staff_create, staff_remove
from leads.business_hours import closed_all_day
from leads.mail.text import new_text_of
from leads.models import Channel, Customer, Direction, Lead, Message
from leads.services.appointments import working_hours_ensure_defaults
from leads.services.leads import customer_find_or_create, lead_create

_sequence = itertools.count(1)
PASSWORD = "test-pass-123"


def noon(day) -> datetime:
    """Noon of that day at the store (Toronto time, as the test settings have it)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("America/Toronto"))


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


def former_staff():
    """The login account of someone taken off the staff: it may still sign in, with no role."""
    member = staff(Role.ADVISOR)
    staff_remove(staff=member)
    return member.user


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


def promotion(**fields):
    """A draft promotion of the sales department, running this week on the website by default."""
    from promotions.services.promotions import promotion_create

    n = next(_sequence)
    today = timezone.localdate()
    fields.setdefault("name", f"Promotion {n}")
    fields.setdefault("starts_on", today)
    fields.setdefault("ends_on", today + timedelta(days=6))
    fields.setdefault("channels", ["website"])
    fields.setdefault("department", department(fields.pop("department_code", "sales")))
    fields.setdefault("landing_slug", f"promotion-{n}")
    return promotion_create(**fields)


def crossing_cr_v_offers(day, *, names: tuple[str, str]) -> None:
    """Two offers on the Honda CR-V from two departments whose dates cross: the calendar flags them."""
    first, second = names
    cr_v = [{"make": "Honda", "model": "CR-V"}]
    promotion(name=first, starts_on=day, ends_on=day + timedelta(days=5), models=cr_v)
    promotion(
        name=second,
        starts_on=day + timedelta(days=2),
        ends_on=day + timedelta(days=20),
        department_code="finance",
        models=cr_v,
    )


def vin(serial: int | None = None, *, prefix: str = "2T3W1RFV", year_code: str = "R") -> str:
    """A valid North American VIN (check digit computed) that no other test uses."""
    from inventory.vin import vin_check_digit

    body = f"{prefix}0{year_code}W{(serial if serial is not None else next(_sequence)):06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def vehicle(**fields):
    """A stock vehicle made through the inventory service."""
    from inventory.services.vehicles import vehicle_create

    n = next(_sequence)
    fields.setdefault("vin", vin(n))
    fields.setdefault("stock_number", f"S{n:05d}")
    fields.setdefault("condition", "used")
    fields.setdefault("model", "RAV4")
    fields.setdefault("price", "29995.00")
    return vehicle_create(**fields)


def vehicle_history_age(days: int = 1) -> None:
    """Date every vehicle event so far that many days back: stock listed a while ago, whose changes
    a listing site polling now has had long since."""
    from inventory.models import VehicleEvent

    VehicleEvent.objects.update(created_at=timezone.now() - timedelta(days=days))


def mail(
    *,
    sender: str = "Pat Customer <pat@example.com>",
    to: str = "Maple Motors <internet@maplemotors.example>",
    subject: str = "Question",
    text: str | None = "Hello",
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> bytes:
    """A raw inbound message, built as a mail client would (attachments: filename, MIME type, data)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Mon, 30 Nov 2026 10:00:00 -0500"
    message["Message-ID"] = f"<test-{next(_sequence)}@example.com>"
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments or []:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


MAIL_SAMPLES = Path(__file__).parent / "leads" / "mail_samples"


def sample_mail(name: str) -> bytes:
    """A real-shaped message kept as a file under tests/leads/mail_samples/."""
    return (MAIL_SAMPLES / name).read_bytes()


def advisor(**fields) -> StaffMember:
    """A sales advisor with the store's default working week."""
    member = staff(Role.ADVISOR, **fields)
    working_hours_ensure_defaults(advisor=member)
    return member


def next_weekday_at(hour: int) -> datetime:
    """Tomorrow, or the next Monday-to-Friday day the store is open (no holiday), at `hour` store
    time: always bookable."""
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() >= 5 or closed_all_day(day):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_default_timezone())


def appointment_unrecorded(advisor, *, days_ago: int):
    """A test drive booked with the advisor, then moved back in time, as if its outcome had been left
    unrecorded."""
    from leads.models import Appointment
    from leads.services.appointments import appointment_book

    appointment = appointment_book(
        lead=lead(), advisor=advisor, starts_at=next_weekday_at(10), purpose="test_drive", now=timezone.now()
    )
    starts_at = timezone.now() - timedelta(days=days_ago)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30)
    )
    appointment.refresh_from_db()
    return appointment


def financed_rav4_2023(customer):
    """The customer's 2023 RAV4, financed for 36 months: term ends 2027-02-15, warranty 2027-01-20."""
    from leads.models import HistoryKind
    from leads.services.customers import history_item_add

    return history_item_add(
        customer=customer, kind=HistoryKind.PURCHASE, occurred_at=noon(date(2023, 12, 10)),
        summary="2023 Toyota RAV4 purchase", vehicle="2023 Toyota RAV4", deal_type="finance",
        term_months=36, term_ends_on=date(2027, 2, 15), warranty_ends_on=date(2027, 1, 20),
    )  # fmt: skip


def test_drive(lead, advisor, *, hour: int):
    """A test drive booked now for the lead, at that hour of the next weekday."""
    from leads.services.appointments import appointment_book

    return appointment_book(
        lead=lead, advisor=advisor, starts_at=next_weekday_at(hour), purpose="test_drive", now=timezone.now()
    )


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
        new_text=new_text_of(body),
        message_id=fields.pop("message_id", f"<customer{n}@example.com>"),
        **fields,
    )


def outbound_email(*, lead: Lead, subject: str = "Your quote", **fields) -> Message:
    """The store's mail on a lead, as sending stores it: to the customer, sent, now."""
    fields.setdefault("to_addresses", [lead.customer.email])
    fields.setdefault("send_status", Message.SendStatus.SENT)
    fields.setdefault("occurred_at", timezone.now())
    return Message.objects.create(
        lead=lead,
        customer=lead.customer,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        subject=subject,
        **fields,
    )


def customer_with_email_consent(**fields) -> Customer:
    """A customer who asked the store something last month: CASL's implied consent to email."""
    from leads.services.consent import consent_record_inquiry

    found = customer(**fields)
    consent_record_inquiry(customer=found, at=timezone.now() - timedelta(days=30), source="web inquiry")
    return found


def running_promotion(**fields):
    """A promotion whose offer page is open (running), for this week unless told."""
    from promotions.services.promotions import promotion_transition

    made = promotion(**fields)
    return promotion_transition(promotion=made, to_status="running")


def campaign(promotion=None, **fields):
    """A draft email campaign, in English and French, to every customer unless `audience` says;
    of a running promotion around its send day unless one is given."""
    from promotions.services.campaigns import campaign_create

    fields.setdefault("name", f"Mailing {next(_sequence)}")
    fields.setdefault("send_on", timezone.localdate())
    if promotion is None:
        today, send_on = timezone.localdate(), fields["send_on"]
        promotion = running_promotion(
            starts_on=min(today, send_on), ends_on=max(today, send_on) + timedelta(days=6)
        )
    fields.setdefault("subject_en", "{first_name}, an offer for you")
    fields.setdefault("body_en", "Hello {first_name}")
    fields.setdefault("subject_fr", "{first_name}, une offre pour vous")
    fields.setdefault("body_fr", "Bonjour {first_name}")
    return campaign_create(promotion=promotion, **fields)


def raw_mail(
    *,
    from_address: str = "pat.buyer@example.com",
    from_name: str = "Pat Buyer",
    subject: str = "Price of the 2024 RAV4",
    body: str = "Hello, what is your best price on the 2024 Toyota RAV4 in stock? Thanks.",
    message_id: str | None = "",
    **fields,
) -> bytes:
    """A customer's inquiry (a sales lead unless told otherwise), built with mail().

    message_id: "" a fresh one, None none at all, anything else that one."""
    sender = f"{from_name} <{from_address}>" if from_name else from_address
    raw = mail(sender=sender, subject=subject, text=body, **fields)
    if message_id == "":
        return raw
    message = message_from_bytes(raw, policy=policy.default)
    del message["Message-ID"]
    if message_id is not None:
        message["Message-ID"] = message_id
    return message.as_bytes()


def inbound_mail(raw: bytes | None = None, *, process: bool = True):
    """A message stored as a poll stores it, then routed as the worker routes it (unless process=False)."""
    from leads.mail.rawmail import RawMail
    from leads.models import InboundMail
    from leads.services.mail import InboundRetry, inbound_process, inbound_store, mailbox_ensure, mailbox_lock

    raw = raw or raw_mail()
    mailbox = mailbox_ensure(name="maildir:///test/mailbox")
    token = mailbox_lock(mailbox=mailbox)
    [pk] = inbound_store(mailbox=mailbox, token=token, messages=[RawMail(raw=raw, size=len(raw))])
    mailbox.__class__.objects.filter(pk=mailbox.pk).update(lock_token="", locked_until=None)
    if process:
        try:
            inbound_process(inbound_id=pk)
        except InboundRetry:
            pass
    return InboundMail.objects.get(pk=pk)
