"""Reads for customers: matching, search, likely duplicates, the shared timeline, exports.

Who sees what: one customer record is shared by the people who work leads, for loyalty, but a
customer's leads and conversations follow the lead rules (`lead_visible_to`)."""

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from itertools import combinations

from django.contrib.auth.models import AbstractUser
from django.db.models import Prefetch, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from dealership.models import Role, oversees_store

from ..models import (
    Appointment,
    AuditEntry,
    ConsentRecord,
    Customer,
    CustomerEmail,
    CustomerHistoryItem,
    CustomerMerge,
    CustomerPhone,
    HistoryKind,
    Household,
    Lead,
    LeadEvent,
    LeadVehicle,
    Message,
    Task,
)
from ..models.leads import LEAD_SOURCE_LABELS
from ..normalize import SearchForm, normalize_email, normalize_phone, search_form
from .consent import customers_channels_withdrawn

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
    """Merging, importing, exports and loyalty rules are for supervisors, managers and admins."""
    return oversees_store(user)


def can_use_customers(user) -> bool:
    """Customer pages are for the people who work leads: sales advisors, and those who oversee the
    store. Department staff see only the mail forwarded to them, and an account with no staff
    profile has no role: neither opens customer records."""
    staff = getattr(user, "staff", None)
    return oversees_store(user) or bool(staff and staff.role == Role.ADVISOR)


def _leads_visible_to(user) -> QuerySet[Lead]:
    # The lead selectors import this module (customers_with_contact): import them when called.
    from .leads import lead_visible_to

    return lead_visible_to(user=user)


def customer_visible_to(*, user) -> QuerySet[Customer]:
    """Every customer record for those who may use customer pages; none for anyone else."""
    return Customer.objects.all() if can_use_customers(user) else Customer.objects.none()


def customer_leads(*, user, customer: Customer) -> QuerySet[Lead]:
    """The customer's leads this person may see: all of them when they oversee the store, an
    advisor's own, none for anyone else."""
    return _leads_visible_to(user).filter(customer=customer)


def can_change_customer(*, user, customer: Customer) -> bool:
    """Who may correct a customer's contact details and record or withdraw their consent: those who
    oversee the store, for every customer; an advisor, for a customer one of whose leads they may
    see (assigned to them). Others may read the record but not change it; department staff and
    accounts with no staff profile may do neither. A merged record changes no more: its surviving
    record is the one senders and matching read."""
    if customer.merged_into_id or not can_use_customers(user):
        return False
    return oversees_store(user) or customer_leads(user=user, customer=customer).exists()


def name_key(first_name: str, last_name: str) -> str:
    """A name without accents, case or extra spaces: "Chloé  Gauthier" and "chloe gauthier" match."""
    text = unicodedata.normalize("NFKD", f"{first_name} {last_name}")
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().replace("-", " ").split())


def postal_key(postal_code: str) -> str:
    return postal_code.replace(" ", "").upper()


def address_key(street: str, postal_code: str) -> str:
    street = " ".join(name_key(street, "").replace(".", "").replace(",", "").split())
    postal = postal_key(postal_code)
    return f"{street}|{postal}" if street and postal else ""


def customer_active() -> QuerySet[Customer]:
    """Customers that are not merged tombstones."""
    return Customer.objects.filter(merged_into__isnull=True)


# Where a customer's further emails and phones are kept, by the customer field they add to.
EXTRA_CONTACTS = {"email": CustomerEmail, "phone": CustomerPhone}


def customers_with_contact(field: str, value: str) -> QuerySet[Customer]:
    """Active customers whose `field` ("email" or "phone") is `value`, or who have it besides.

    The two tables are looked up apart, each on its index, and the ids joined with UNION: an OR
    across the join would let SQLite scan every customer."""
    own = Customer.objects.filter(**{field: value}).values("pk")
    extra = EXTRA_CONTACTS[field].objects.filter(**{field: value}).values("customer_id")
    return customer_active().filter(pk__in=own.union(extra))


def customer_match(
    *, email: str = "", phone: str = "", first_name: str = "", last_name: str = ""
) -> Customer | None:
    """The customer these contact details belong to, or None for someone new.

    Any of a customer's emails identifies them. A phone alone is weaker: households share one and
    numbers are given up and reassigned, so the phone only matches someone whose name agrees
    (see names_agree); when an email was given that nobody has, only a customer with no email or
    with the same name; with several people on that phone, only the one with the same name.
    """
    email, phone = normalize_email(email), normalize_phone(phone)
    if email and (by_email := customers_with_contact("email", email).order_by("pk").first()):
        return by_email
    if not phone:
        return None
    candidates = list(customers_with_contact("phone", phone).order_by("pk"))
    wanted = name_key(first_name, last_name)
    same_name = [c for c in candidates if wanted and name_key(c.first_name, c.last_name) == wanted]
    if same_name:
        return same_name[0]
    if len(candidates) != 1:
        return None
    only = candidates[0]
    if email and only.email and wanted:
        return None  # another address and another name: a household member, not the same person
    if not names_agree(first_name, last_name, only.first_name, only.last_name):
        return None
    return only


def names_agree(first_name: str, last_name: str, other_first: str, other_last: str) -> bool:
    """Whether two names may be one person's: one of them is blank, or the family names are the
    same (a first name is often shortened: "Bob", "Robert"); with a family name missing on a side,
    the first names are compared."""
    if not name_key(first_name, last_name) or not name_key(other_first, other_last):
        return True
    if name_key("", last_name) and name_key("", other_last):
        return name_key("", last_name) == name_key("", other_last)
    return name_key(first_name, "") == name_key(other_first, "")


def customer_match_by_name(*, first_name: str, last_name: str, postal_code: str = "") -> Customer | None:
    """For details with neither email nor phone (a DMS row): the customer of that name at that
    postal code; without a postal code, the one of that name known by nothing else either. People
    share names, so a bare name never finds someone known by an address or a contact."""
    if not name_key(first_name, last_name):
        return None
    postal = postal_key(postal_code)
    namesakes = customer_active().filter(
        first_name__iexact=first_name.strip(), last_name__iexact=last_name.strip()
    )
    for namesake in namesakes.order_by("pk"):
        if postal_key(namesake.postal_code) == postal and (postal or not (namesake.email or namesake.phone)):
            return namesake
    return None


def customers_language_chosen() -> set[int]:
    """The customers whose language someone on staff set on their record: there it is the
    customer's word, not a guess from an inquiry's words or the default. Read once for a whole import."""
    return set(
        AuditEntry.objects.filter(
            action="edit", changes__has_key="language", customer__isnull=False
        ).values_list("customer_id", flat=True)
    )


def customer_search(*, user, query: str = "") -> QuerySet[Customer]:
    # By name, then by record: two people of one name keep their order from one page to the next.
    customers = (
        (customer_visible_to(user=user) & customer_active())
        .select_related("household")
        .order_by("last_name", "first_name", "pk")
    )
    query = " ".join(query.split())
    if not query:
        return customers
    # Names compared without accents, case or punctuation: "helene cote" finds "Hélène Côté",
    # "cote, marie-eve" finds "Marie Ève Côté".
    customers = customers.alias(search_name=SearchForm(Concat("first_name", Value(" "), "last_name")))
    condition = Q()
    for word in search_form(query).split():
        condition &= Q(search_name__contains=word)
    condition |= Q(email__icontains=query) | Q(extra_emails__email__icontains=query.lower())
    if phone := normalize_phone(query):
        condition |= Q(phone=phone) | Q(extra_phones__phone=phone)
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 4:  # part of a number, as staff often type it
        condition |= Q(phone__contains=digits) | Q(extra_phones__phone__contains=digits)
    return customers.filter(condition).distinct()


def customer_get(*, pk: int, user) -> Customer:
    return customer_visible_to(user=user).select_related("household", "merged_into").get(pk=pk)


@dataclass(frozen=True)
class DuplicatePair:
    first: Customer
    second: Customer
    reason: str

    @property
    def reason_label(self) -> str:
        """Why the pair looks like one person, in the page's language."""
        return str(DUPLICATE_REASONS.get(self.reason, self.reason))


DUPLICATE_REASONS = {
    "similar name at the same address": gettext_lazy("similar name at the same address"),
    "same name and phone": gettext_lazy("same name and phone"),
    "same email": gettext_lazy("same email"),
}


def customer_duplicates() -> list[DuplicatePair]:
    """Pairs that are probably one person: same name and a shared phone or email, or nearly the
    same name (accents, typos) at the same address. People who only share a phone are left alone."""
    # Plain values, not model instances: this reads every customer.
    rows = customer_active().values_list(
        "pk", "first_name", "last_name", "email", "phone", "street", "postal_code"
    )
    names, emails, phones, groups = {}, {}, {}, {}
    for pk, first, last, email, phone, street, postal_code in rows:
        names[pk] = name_key(first, last)
        emails[pk], phones[pk] = {email} - {""}, {phone} - {""}
        if address := address_key(street, postal_code):
            groups.setdefault(("similar name at the same address", address), []).append(pk)
    for pk, email in CustomerEmail.objects.filter(customer__in=customer_active()).values_list(
        "customer_id", "email"
    ):
        emails[pk].add(email)
    for pk, phone in CustomerPhone.objects.filter(customer__in=customer_active()).values_list(
        "customer_id", "phone"
    ):
        phones[pk].add(phone)
    for pk, name in names.items():
        for phone in phones[pk]:
            if name:
                groups.setdefault(("same name and phone", name, phone), []).append(pk)
        for email in emails[pk]:
            groups.setdefault(("same email", email), []).append(pk)
    found: dict[tuple[int, int], str] = {}
    for key, members in groups.items():
        for first, second in combinations(sorted(members), 2):
            if (first, second) in found:
                continue
            if key[0] == "similar name at the same address" and not _similar_names(
                names[first], names[second]
            ):
                continue
            found[(first, second)] = key[0]
    customers = Customer.objects.in_bulk({pk for pair in found for pk in pair})
    return [DuplicatePair(customers[a], customers[b], reason) for (a, b), reason in sorted(found.items())]


def _similar_names(a: str, b: str) -> bool:
    return bool(a and b) and SequenceMatcher(None, a, b).ratio() >= 0.85


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    department: str
    summary: str
    link: str = ""


def customer_messages(*, customer: Customer, user) -> QuerySet[Message]:
    """The customer's messages, including those filed only under one of their leads.

    Those who oversee the store see them all; anyone else only the messages of leads they may see
    (a message filed under no lead is not theirs to read)."""
    messages = Message.objects.filter(Q(customer=customer) | Q(lead__customer=customer))
    if not oversees_store(user):
        messages = messages.filter(lead__in=_leads_visible_to(user))
    return messages.distinct()


def _history_summary(item: CustomerHistoryItem) -> str:
    """A history item's line; a withheld mail's (stored in English) in the reader's language."""
    if item.kind == HistoryKind.MAIL_WITHHELD and "subject" in item.details:
        return gettext("Not sent: %(subject)s") % {"subject": item.details["subject"]}
    return item.summary


def customer_timeline(*, customer: Customer, user) -> list[TimelineEntry]:
    """Everything that happened with a customer, newest first: leads, messages, history items.

    The leads and messages are those `user` may see; the other departments' history is shared."""
    entries = [
        TimelineEntry(
            lead.received_at,
            gettext("Lead"),
            gettext("Sales"),
            gettext("%(inquiry)s via %(source)s — %(status)s")
            % {
                "inquiry": lead.get_inquiry_type_display(),
                "source": LEAD_SOURCE_LABELS.get(lead.source, lead.source) or gettext("unknown source"),
                "status": lead.get_status_display(),
            },
            reverse("leads:lead_detail", args=[lead.pk]),
        )
        for lead in customer_leads(user=user, customer=customer)
    ]
    entries += [
        TimelineEntry(
            message.occurred_at,
            f"{message.get_channel_display()} ({message.get_direction_display().lower()})",
            "",
            message.subject or message.new_text[:120] or message.body_text[:120],
        )
        for message in customer_messages(customer=customer, user=user)
    ]
    entries += [
        TimelineEntry(
            item.occurred_at, item.get_kind_display(), item.get_department_display(), _history_summary(item)
        )
        for item in CustomerHistoryItem.objects.filter(customer=customer)
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def customer_audit(*, customer: Customer) -> QuerySet[AuditEntry]:
    """Audit entries of this customer and of every record merged into it."""
    ids = [customer.pk, *customer.merged_duplicates.values_list("pk", flat=True)]
    return AuditEntry.objects.filter(customer_id__in=ids).select_related("actor")


@dataclass(frozen=True)
class AddressNotOnFile:
    """An address answers to a customer go to that is not their address on file (`on_file`), and
    how it first came to their record as their audit trail tells it. `way`: "inquiry" (given with a
    form or a mail, by whoever sent it), "person" (added by `by`), "import", "merge" (with a
    duplicate record merged into this one), "was_on_file" (their address on file until `at`), or ""
    when nothing tells."""

    on_file: str
    way: str = ""
    at: datetime | None = None
    by: AbstractUser | None = None


# How an address came to a customer's other addresses, by the audit action that put it there.
ADDRESS_ADDED_BY_ACTION = {"import_created": "import", "import_updated": "import", "merge": "merge"}


def customer_address_not_on_file(*, customer: Customer, address: str) -> AddressNotOnFile | None:
    """None when `address` is the customer's address on file, or they have none (nothing goes out by
    email then), without a query; else how `address` came to their record, in one query."""
    if not customer.email or address == customer.email:
        return None
    entries = (
        AuditEntry.objects.filter(customer=customer)
        .filter(Q(changes__has_key="email") | Q(changes__has_key="other_emails"))
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    for entry in entries:
        if way := _address_came(entry, address):
            return AddressNotOnFile(on_file=customer.email, way=way, at=entry.created_at, by=entry.actor)
    return AddressNotOnFile(on_file=customer.email)


def _address_came(entry: AuditEntry, address: str) -> str:
    """How this change brought `address` to the customer's record as another address; "" when it
    did not, or does not tell how."""
    if (entry.changes.get("email") or [None])[0] == address:
        return "was_on_file"
    before, after = entry.changes.get("other_emails") or [None, None]
    if address not in (after or []) or address in (before or []):
        return ""
    if entry.action in ADDRESS_ADDED_BY_ACTION:
        return ADDRESS_ADDED_BY_ACTION[entry.action]
    if entry.actor_id:
        return "person"
    # Learned from what a known customer sent (customer_contacts_learned): nobody at the store added it.
    return "inquiry" if entry.action == "email_added" else ""


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _rows(queryset) -> list[dict]:
    return [{key: _plain(value) for key, value in row.items()} for row in queryset.values()]


def _rows_by_lead(queryset) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = {}
    for row in _rows(queryset):
        grouped.setdefault(row["lead_id"], []).append(row)
    return grouped


def customer_data_export(*, customer: Customer, user) -> dict:
    """Everything the store holds on a customer, for a request to see their data.

    The export is for those who oversee the store (see can_manage_customers); the leads and
    messages in it are anyway only those `user` may see."""
    leads = customer_leads(user=user, customer=customer).order_by("-received_at", "-pk")
    # Each lead's vehicles, appointments and events: one query each for all the leads.
    related = {
        name: _rows_by_lead(model.objects.filter(lead__in=leads))
        for name, model in (("vehicles", LeadVehicle), ("appointments", Appointment), ("events", LeadEvent))
    }
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
            {**row, **{name: by_lead.get(row["id"], []) for name, by_lead in related.items()}}
            for row in _rows(leads)
        ],
        "messages": _rows(customer_messages(customer=customer, user=user)),
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


def households_to_choose() -> QuerySet[Household]:
    """Households and companies with their members (merged-away records left out), for a choice
    that must tell two Tremblay households apart."""
    return Household.objects.prefetch_related(
        Prefetch("members", queryset=Customer.objects.filter(merged_into__isnull=True).order_by("first_name"))
    )


def tasks_to_do(*, user) -> list[tuple[Task, list[str]]]:
    """The person's open tasks, each with what its customer asked for no more of (channels
    withdrawn), shown beside the contact details; the ledgers read in one query."""
    tasks = list(Task.objects.filter(assignee=user, done_at__isnull=True).select_related("customer"))
    withdrawn = customers_channels_withdrawn(customer_ids={task.customer_id for task in tasks})
    return [(task, withdrawn[task.customer_id]) for task in tasks]


def tasks_done(*, user, limit: int = 20) -> QuerySet[Task]:
    """The person's most recently done tasks, latest first."""
    return (
        Task.objects.filter(assignee=user, done_at__isnull=False)
        .select_related("customer")
        .order_by("-done_at")[:limit]
    )
