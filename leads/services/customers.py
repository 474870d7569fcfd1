"""Writes for customers: edits, extra emails and phones, history items, merges. All audited."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import (
    ConsentRecord,
    Customer,
    CustomerEmail,
    CustomerHistoryItem,
    CustomerMerge,
    CustomerPhone,
    HistoryKind,
    Household,
    Lead,
    Message,
    Task,
)
from ..normalize import normalize_email, normalize_name, normalize_phone, phone_display, phone_extension_of
from ..selectors.customers import CUSTOMER_FIELDS, customers_with_contact
from .audit import audit_record, changes_between
from .consent import consent_end_purchase, consent_record_purchase


def customer_snapshot(customer: Customer) -> dict:
    """The customer's own data as plain values, for audit entries and merge records."""
    snapshot = {field: getattr(customer, field) for field in CUSTOMER_FIELDS if field != "household"}
    snapshot["household"] = customer.household_id
    snapshot["other_emails"] = sorted(customer.extra_emails.values_list("email", flat=True))
    snapshot["other_phones"] = sorted(customer.extra_phones.values_list("phone", flat=True))
    return snapshot


def clean_contact(*, email: str = "", phone: str = "") -> tuple[str, str]:
    """Normalised email and phone, or a ValidationError saying which one is wrong."""
    errors = {}
    email = normalize_email(email)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("“%(email)s” is not an email address.") % {"email": email}
    normalized_phone = normalize_phone(phone)
    if extension := phone_extension_of(phone):  # E.164 has no room for it: say so, drop nothing
        errors["phone"] = _(
            "“%(phone)s” has an extension (%(extension)s): enter the number without it and keep the "
            "extension in the notes."
        ) % {"phone": phone, "extension": extension}
    elif phone and phone.strip() and not normalized_phone:
        errors["phone"] = _("“%(phone)s” is not a phone number with its area code.") % {"phone": phone}
    if errors:
        raise ValidationError(errors)
    return email, normalized_phone


def _extension_line(phone: str, extension: str) -> str:
    """The line of the notes keeping a number's extension (E.164 has no room for it)."""
    with translation.override(settings.LANGUAGE_CODE):  # stored: one language, so found again
        return _("Phone: %(phone)s, extension %(extension)s") % {
            "phone": phone_display(phone),
            "extension": extension,
        }


def _extension_line_pattern(phone: str) -> re.Pattern:
    """The line the store keeps for this number, whatever its extension. A line that says more or
    less is staff's own words, never the store's to change."""
    before, _placeholder, after = _extension_line(phone, "{extension}").partition("{extension}")
    return re.compile(rf"{re.escape(before)}\d+{re.escape(after)}")


@transaction.atomic
def customer_phone_extension_keep(*, customer: Customer, phone: str, extension: str) -> Customer:
    """Keep the extension a customer gave with their number (normalised, E.164, which has no room
    for it) in their notes, where staff keep the extensions they enter. One line for the number,
    with the extension given last: added once however often it is given again, and put in place of
    the line for an extension given before, which they no longer have."""
    if not (phone and extension):
        return customer
    line = _extension_line(phone, extension)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = customer.notes
    lines = before.splitlines(keepends=True)  # staff's own line breaks kept as they typed them
    stores_line = _extension_line_pattern(phone)
    if earlier := [i for i, written in enumerate(lines) if stores_line.fullmatch(written.rstrip("\r\n"))]:
        # The latest line becomes the current one, where it stands; any before it (kept side by side
        # once) go.
        *dropped, latest = earlier
        lines[latest] = line + lines[latest][len(lines[latest].rstrip("\r\n")) :]
        notes = "".join(written for i, written in enumerate(lines) if i not in dropped)
    else:
        notes = f"{before}\n{line}" if before else line
    if notes == before:
        return customer
    customer.notes = notes
    customer.save(update_fields=["notes", "updated_at"])
    audit_record(customer=customer, action="filled_from_inquiry", changes={"notes": [before, customer.notes]})
    return customer


def _email_unclaimed(*, customer: Customer, email: str) -> None:
    """Refuse an address another customer has: matching takes an email as the person, so a second
    record holding it would never get that person's mail or inquiries."""
    if email and (other := customers_with_contact("email", email).exclude(pk=customer.pk).first()):
        raise ValidationError(
            {
                "email": _(
                    "%(email)s is the address of %(other)s: if they are one person, merge the two records."
                )
                % {"email": email, "other": other}
            }
        )


FILLABLE_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "province",
    "postal_code",
    "language",
]


def customer_fill_blanks(*, customer: Customer, values: dict) -> list[str]:
    """Set the fields the store did not know yet; never overwrite what it holds. Returns them."""
    changed = [name for name in FILLABLE_FIELDS if values.get(name) and not getattr(customer, name)]
    for name in changed:
        setattr(customer, name, values[name])
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
    return changed


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    actor,
    action: str = "edit",
    new_household: str = "",
    new_household_kind: str = "",
    **data,
) -> Customer:
    """Change a customer's own fields (any of CUSTOMER_FIELDS), recording before and after.
    A new_household name makes a household or company (of new_household_kind) and links them to
    it: always a new one, as two Tremblay families are two households (joining an existing one is
    choosing it as `household`)."""
    if new_household.strip():
        data["household"] = Household.objects.create(
            name=new_household.strip(), kind=new_household_kind or Household.Kind.HOUSEHOLD
        )
    unknown = set(data) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValueError(f"Not customer fields: {', '.join(sorted(unknown))}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.merged_into_id:
        raise ValidationError(_("This record was merged into another; edit that one."))
    for field in ("first_name", "last_name"):
        if field in data:
            data[field] = normalize_name(data[field])
    if "email" in data or "phone" in data:
        email, phone = clean_contact(
            email=data.get("email", customer.email), phone=data.get("phone", customer.phone)
        )
        if email != customer.email:
            _email_unclaimed(customer=customer, email=email)
        _still_reachable(customer=customer, email=email, phone=phone)
        data.update(email=email, phone=phone)
    before = customer_snapshot(customer)
    if "email" in data and data["email"] != customer.email:
        # A corrected address has not bounced: mail to it goes again.
        customer.email_undeliverable, customer.email_undeliverable_reason = False, ""
    for field, value in data.items():
        setattr(customer, field, value)
    customer.full_clean(exclude=["household", "merged_into"])
    customer.save()
    changes = changes_between(before, customer_snapshot(customer))
    if changes:
        audit_record(customer=customer, action=action, changes=changes, actor=actor)
    return customer


def _still_reachable(*, customer: Customer, email: str, phone: str) -> None:
    """Refuse an edit that empties the last email and phone of a customer who had one: the
    follow-up, the replies and the next inquiry's matching would all lose them."""
    had_contact = customer.email or customer.phone
    if had_contact and not (
        email or phone or customer.extra_emails.exists() or customer.extra_phones.exists()
    ):
        raise ValidationError(
            _(
                "Keep at least one email or phone: without one the customer can no longer be reached or recognised."
            )
        )


def _extra_contact_add(*, customer: Customer, model, field: str, value: str, actor, **extra_fields):
    """Add an extra email or phone (already normalised) unless the customer has it; audited."""
    if not value:
        raise ValidationError(
            {field: _("Enter an email address.") if field == "email" else _("Enter a phone number.")}
        )
    if (
        value == getattr(customer, field)
        or model.objects.filter(customer=customer, **{field: value}).exists()
    ):
        return None
    before = customer_snapshot(customer)
    extra = model.objects.create(customer=customer, **{field: value}, **extra_fields)
    changes = changes_between(before, customer_snapshot(customer))
    audit_record(customer=customer, action=f"{field}_added", changes=changes, actor=actor)
    return extra


@transaction.atomic
def customer_email_add(
    *, customer: Customer, email: str, actor=None, label: str = ""
) -> CustomerEmail | None:
    """Add an address to a customer; nothing when they already have it."""
    email = clean_contact(email=email)[0]
    _email_unclaimed(customer=customer, email=email)
    return _extra_contact_add(
        customer=customer, model=CustomerEmail, field="email", value=email, actor=actor, label=label
    )


@transaction.atomic
def customer_phone_add(
    *, customer: Customer, phone: str, kind: str = CustomerPhone.Kind.MOBILE, actor=None
) -> CustomerPhone | None:
    """Add a phone number to a customer; nothing when they already have it."""
    phone = clean_contact(phone=phone)[1]
    return _extra_contact_add(
        customer=customer, model=CustomerPhone, field="phone", value=phone, actor=actor, kind=kind
    )


@transaction.atomic
def customer_contacts_add(
    *,
    customer: Customer,
    email: str = "",
    phone: str = "",
    phone_kind: str = CustomerPhone.Kind.MOBILE,
    actor=None,
) -> list[str]:
    """Add another email and another phone together: both or neither, so that a refusal of one
    never leaves the other saved unsaid. Returns those added (ones the customer had are not)."""
    added = []
    if email and (extra := customer_email_add(customer=customer, email=email, actor=actor)):
        added.append(extra.email)
    if phone and (extra := customer_phone_add(customer=customer, phone=phone, kind=phone_kind, actor=actor)):
        added.append(phone_display(extra.phone))
    return added


@transaction.atomic
def history_item_add(
    *,
    customer: Customer,
    kind: str,
    occurred_at,
    summary: str,
    department: str = "",
    details: dict | None = None,
    actor=None,
    **fields,
) -> CustomerHistoryItem:
    """Add something that happened to the customer's timeline (mail forwarding, imports, staff).

    A purchase or lease also records the implied consent it gives (CASL: two years)."""
    # Cut here, its end would be lost unsaid: a caller checks what it was given (the import's
    # LONGEST) or shortens what it writes itself.
    longest = CustomerHistoryItem._meta.get_field("summary").max_length
    if len(summary) > longest:
        raise ValueError(f"A history summary holds {longest} characters at most, not {len(summary)}.")
    item = CustomerHistoryItem.objects.create(
        customer=customer,
        kind=kind,
        occurred_at=occurred_at,
        summary=summary,
        department=department,
        details=details or {},
        created_by=actor,
        **fields,
    )
    if kind in (HistoryKind.PURCHASE, HistoryKind.LEASE):
        consent_record_purchase(customer=customer, at=occurred_at, source=_history_line(item)[:200])
    return item


def _history_line(item: CustomerHistoryItem) -> str:
    """ "Purchase: 2025 Toyota RAV4", as the consent ledger and the audit trail store it: in one
    language, the store's, and read in the reader's."""
    with translation.override(settings.LANGUAGE_CODE):
        return f"{item.get_kind_display()}: {item.summary}"


@transaction.atomic
def history_item_remove(*, item: CustomerHistoryItem, reason: str, actor=None) -> None:
    """Take off the customer's timeline something that did not happen after all (a sale whose deal
    fell through): it stays in the customer's audit trail, with why.

    A purchase or lease also ends the implied consent it gave, from now on (CASL)."""
    line = _history_line(item)
    when = timezone.localtime(item.occurred_at).strftime("%Y-%m-%d %H:%M")
    changes = {
        "history": [f"{line} ({when})", None],
        **({"vin": [item.vin, None]} if item.vin else {}),
        # How the DMS names the deal: its next import leaves it off (customer_import._deal_taken_back).
        **({"reference": [item.external_ref, None]} if item.external_ref else {}),
        **({"lead": [item.details["lead"], None]} if "lead" in item.details else {}),
        "reason": [None, reason],
    }
    customer, kind, occurred_at = item.customer, item.kind, item.occurred_at
    item.delete()
    audit_record(customer=customer, action="history_removed", changes=changes, actor=actor)
    deals = (HistoryKind.PURCHASE, HistoryKind.LEASE)
    # Two deals of one day imported at its noon gave one consent: it lasts while either stands.
    if kind in deals and not customer.history_items.filter(kind__in=deals, occurred_at=occurred_at).exists():
        consent_end_purchase(customer=customer, purchase_at=occurred_at, source=line, actor=actor)


class MergeError(ValueError):
    pass


@transaction.atomic
def customer_merge(*, target: Customer, duplicate: Customer, actor) -> CustomerMerge:
    """Fold a duplicate into the target: every history moves over, the target keeps its values and
    gains what it lacked, and the duplicate stays as a tombstone pointing at the target."""
    target, duplicate = (
        Customer.objects.select_for_update().get(pk=target.pk),
        Customer.objects.select_for_update().get(pk=duplicate.pk),
    )
    if target.pk == duplicate.pk:
        raise MergeError(_("A customer cannot be merged into itself."))
    if target.merged_into_id or duplicate.merged_into_id:
        raise MergeError(_("One of these records was already merged."))
    before = customer_snapshot(target)
    duplicate_before = customer_snapshot(duplicate)

    for field in CUSTOMER_FIELDS:
        if field not in ("email", "phone") and not getattr(target, field) and getattr(duplicate, field):
            setattr(target, field, getattr(duplicate, field))
    if duplicate.notes and duplicate.notes not in target.notes:
        target.notes = "\n\n".join(part for part in (target.notes, duplicate.notes) if part)
    addresses = [duplicate.email, *duplicate.extra_emails.values_list("email", flat=True)]
    numbers = [duplicate.phone, *duplicate.extra_phones.values_list("phone", flat=True)]
    phone_kinds = dict(duplicate.extra_phones.values_list("phone", "kind"))
    if not target.email and addresses[0]:
        target.email = addresses[0]
        # A bounce belongs to the address: the target keeps knowing it cannot be delivered.
        target.email_undeliverable = duplicate.email_undeliverable
        target.email_undeliverable_reason = duplicate.email_undeliverable_reason
    if not target.phone and numbers[0]:
        target.phone = numbers[0]
    target.save()
    moved: dict[str, list[int]] = {"emails": [], "phones": []}
    duplicate.extra_emails.all().delete()
    duplicate.extra_phones.all().delete()
    for email in dict.fromkeys(a for a in addresses if a and a != target.email):
        extra, created = CustomerEmail.objects.get_or_create(customer=target, email=email)
        if created:
            moved["emails"].append(extra.pk)
    for phone in dict.fromkeys(n for n in numbers if n and n != target.phone):
        extra, created = CustomerPhone.objects.get_or_create(
            customer=target, phone=phone, defaults={"kind": phone_kinds.get(phone, CustomerPhone.Kind.OTHER)}
        )
        if created:
            moved["phones"].append(extra.pk)

    for name, model in (
        ("leads", Lead),
        ("messages", Message),
        ("history_items", CustomerHistoryItem),
        ("tasks", Task),
    ):
        rows = model.objects.filter(customer=duplicate)
        moved[name] = list(rows.values_list("pk", flat=True))
        rows.update(customer=target)
    # The ledger is append-only: the duplicate keeps its rows and the target gets faithful copies.
    copies = [
        ConsentRecord(
            customer=target,
            **{
                f: getattr(r, f)
                for f in (
                    "channel",
                    "action",
                    "basis",
                    "given_at",
                    "expires_at",
                    "source",
                    "wording",
                    "proof_form",
                    "proof_ip",
                    "evidence",
                    "recorded_by",
                )
            },
            copied_from=r,
        )
        for r in ConsentRecord.objects.filter(customer=duplicate).order_by("given_at", "pk")
    ]
    moved["consent_records"] = [r.copied_from_id for r in ConsentRecord.objects.bulk_create(copies)]

    duplicate.merged_into = target
    duplicate.merged_at = timezone.now()
    duplicate.save(update_fields=["merged_into", "merged_at", "updated_at"])
    after = customer_snapshot(target)
    merge = CustomerMerge.objects.create(
        target=target,
        duplicate=duplicate,
        actor=actor,
        moved=moved,
        before=before,
        after=after,
        duplicate_snapshot=duplicate_before,
    )
    audit_record(
        customer=target,
        action="merge",
        changes={**changes_between(before, after), "merged_customer": [None, duplicate.pk]},
        actor=actor,
    )
    audit_record(
        customer=duplicate, action="merged_into", changes={"merged_into": [None, target.pk]}, actor=actor
    )
    return merge
