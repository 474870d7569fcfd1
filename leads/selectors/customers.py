"""Reads for customers: matching, search, likely duplicates, the shared timeline, exports."""

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from itertools import combinations

from django.db.models import Q, QuerySet
from django.forms.models import model_to_dict

from dealership.models import Role

from ..models import (
    AuditEntry,
    ConsentRecord,
    Customer,
    CustomerHistoryItem,
    CustomerMerge,
    Lead,
    Message,
    Task,
)
from ..normalize import normalize_email, normalize_phone

# The customer's own fields shown, edited, audited and exported.
CUSTOMER_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_channel",
    "language",
    "street",
    "city",
    "province",
    "postal_code",
    "household",
    "notes",
]


def can_manage_customers(user) -> bool:
    """Merging, importing and loyalty rules are for supervisors, managers and admins."""
    staff = getattr(user, "staff", None)
    return user.is_superuser or bool(staff and staff.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN))


def name_key(first_name: str, last_name: str) -> str:
    """A name without accents, case or extra spaces: "Chloé  Gauthier" and "chloe gauthier" match."""
    text = unicodedata.normalize("NFKD", f"{first_name} {last_name}")
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().replace("-", " ").split())


def address_key(customer: Customer) -> str:
    street = " ".join(name_key(customer.street, "").replace(".", "").replace(",", "").split())
    postal = customer.postal_code.replace(" ", "").upper()
    return f"{street}|{postal}" if street and postal else ""


def customer_active() -> QuerySet[Customer]:
    """Customers that are not merged tombstones."""
    return Customer.objects.filter(merged_into__isnull=True)


def customers_with_email(email: str) -> QuerySet[Customer]:
    return customer_active().filter(Q(email=email) | Q(extra_emails__email=email)).distinct()


def customers_with_phone(phone: str) -> QuerySet[Customer]:
    return customer_active().filter(Q(phone=phone) | Q(extra_phones__phone=phone)).distinct()


def customer_match(
    *, email: str = "", phone: str = "", first_name: str = "", last_name: str = ""
) -> Customer | None:
    """The customer these contact details belong to, or None for someone new.

    Any of a customer's emails identifies them. A phone alone is weaker: households share one,
    so when an email was given that nobody has, the phone only matches a customer with no email
    or with the same name; with several people on that phone, only the one with the same name.
    """
    email, phone = normalize_email(email), normalize_phone(phone)
    if email and (by_email := customers_with_email(email).order_by("pk").first()):
        return by_email
    if not phone:
        return None
    candidates = list(customers_with_phone(phone).order_by("pk"))
    wanted = name_key(first_name, last_name)
    same_name = [c for c in candidates if wanted and name_key(c.first_name, c.last_name) == wanted]
    if same_name:
        return same_name[0]
    if len(candidates) != 1:
        return None
    only = candidates[0]
    if email and only.email and wanted:
        return None  # another address and another name: a household member, not the same person
    return only


def customer_search(*, query: str = "") -> QuerySet[Customer]:
    customers = customer_active().select_related("household")
    query = " ".join(query.split())
    if not query:
        return customers
    condition = Q()
    for word in query.split(" "):
        condition &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    condition |= Q(email__icontains=query) | Q(extra_emails__email__icontains=query.lower())
    if phone := normalize_phone(query):
        condition |= Q(phone=phone) | Q(extra_phones__phone=phone)
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 4:  # part of a number, as staff often type it
        condition |= Q(phone__contains=digits) | Q(extra_phones__phone__contains=digits)
    return customers.filter(condition).distinct()


def customer_get(*, pk: int) -> Customer:
    return Customer.objects.select_related("household", "merged_into").get(pk=pk)


@dataclass(frozen=True)
class DuplicatePair:
    first: Customer
    second: Customer
    reason: str


def customer_duplicates() -> list[DuplicatePair]:
    """Pairs that are probably one person: same name and a shared phone or email, or nearly the
    same name (accents, typos) at the same address. People who only share a phone are left alone."""
    customers = list(customer_active().prefetch_related("extra_emails", "extra_phones"))
    groups: dict[tuple, list[Customer]] = {}
    for customer in customers:
        key = name_key(customer.first_name, customer.last_name)
        phones = {customer.phone, *(p.phone for p in customer.extra_phones.all())} - {""}
        emails = {customer.email, *(e.email for e in customer.extra_emails.all())} - {""}
        for phone in phones:
            if key:
                groups.setdefault(("same name and phone", key, phone), []).append(customer)
        for email in emails:
            groups.setdefault(("same email", email), []).append(customer)
        if address := address_key(customer):
            groups.setdefault(("similar name at the same address", address), []).append(customer)
    pairs: dict[tuple[int, int], DuplicatePair] = {}
    for key, members in groups.items():
        reason = key[0]
        for first, second in combinations(sorted(members, key=lambda c: c.pk), 2):
            if (first.pk, second.pk) in pairs:
                continue
            if reason == "similar name at the same address" and not _similar_names(first, second):
                continue
            pairs[(first.pk, second.pk)] = DuplicatePair(first, second, reason)
    return sorted(pairs.values(), key=lambda pair: (pair.first.pk, pair.second.pk))


def _similar_names(first: Customer, second: Customer) -> bool:
    a, b = name_key(first.first_name, first.last_name), name_key(second.first_name, second.last_name)
    return bool(a and b) and SequenceMatcher(None, a, b).ratio() >= 0.85


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    department: str
    summary: str
    link: str = ""


def customer_timeline(*, customer: Customer) -> list[TimelineEntry]:
    """Everything that happened with a customer, newest first: leads, messages, history items."""
    entries = [
        TimelineEntry(
            lead.received_at,
            "Lead",
            "Sales",
            f"{lead.get_inquiry_type_display()} via {lead.source or 'unknown source'} — {lead.get_status_display()}",
            f"/leads/{lead.pk}/",
        )
        for lead in Lead.objects.filter(customer=customer)
    ]
    entries += [
        TimelineEntry(
            message.occurred_at,
            f"{message.get_channel_display()} ({message.get_direction_display().lower()})",
            "",
            message.subject or message.new_text[:120] or message.body_text[:120],
        )
        for message in Message.objects.filter(customer=customer)
    ]
    entries += [
        TimelineEntry(item.occurred_at, item.get_kind_display(), item.get_department_display(), item.summary)
        for item in CustomerHistoryItem.objects.filter(customer=customer)
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def customer_audit(*, customer: Customer) -> QuerySet[AuditEntry]:
    """Audit entries of this customer and of every record merged into it."""
    ids = [customer.pk, *customer.merged_duplicates.values_list("pk", flat=True)]
    return AuditEntry.objects.filter(customer_id__in=ids).select_related("actor")


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _rows(queryset) -> list[dict]:
    return [{key: _plain(value) for key, value in row.items()} for row in queryset.values()]


def customer_data_export(*, customer: Customer) -> dict:
    """Everything the store holds on a customer, for a request to see their data."""
    leads = Lead.objects.filter(customer=customer)
    return {
        "customer": {
            "id": customer.pk,
            **{k: _plain(v) for k, v in model_to_dict(customer, fields=CUSTOMER_FIELDS).items()},
            "household": str(customer.household) if customer.household else "",
            "created_at": customer.created_at.isoformat(),
            "updated_at": customer.updated_at.isoformat(),
        },
        "emails": _rows(customer.extra_emails.all()),
        "phones": _rows(customer.extra_phones.all()),
        "leads": [
            {**row, "vehicles": _rows(lead.vehicles.all()), "events": _rows(lead.events.all())}
            for lead, row in zip(leads, _rows(leads), strict=True)
        ],
        "messages": _rows(Message.objects.filter(customer=customer)),
        "history": _rows(CustomerHistoryItem.objects.filter(customer=customer)),
        "consent": _rows(ConsentRecord.objects.filter(customer=customer)),
        "tasks": _rows(Task.objects.filter(customer=customer)),
        "merges": _rows(CustomerMerge.objects.filter(Q(target=customer) | Q(duplicate=customer))),
        "audit": _rows(customer_audit(customer=customer)),
    }


EXPORT_COLUMNS = ["id", *CUSTOMER_FIELDS[:-2], "household", "other_emails", "other_phones"]


def customer_export_rows() -> list[list]:
    """One row per active customer for a CSV export, header first."""
    rows = [EXPORT_COLUMNS]
    customers = customer_active().select_related("household").prefetch_related("extra_emails", "extra_phones")
    for customer in customers.order_by("pk"):
        rows.append(
            [
                customer.pk,
                *(getattr(customer, field) for field in CUSTOMER_FIELDS[:-2]),
                customer.household.name if customer.household else "",
                " ".join(e.email for e in customer.extra_emails.all()),
                " ".join(p.phone for p in customer.extra_phones.all()),
            ]
        )
    return rows
