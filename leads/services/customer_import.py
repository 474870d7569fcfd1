"""Import from a dealer-management-system CSV export: map the columns, preview, then apply.

Every row is checked before anything is written; a file with a bad row imports nothing and the
report names each bad row by its line number in the file. Applying happens in one transaction.
A dry run performs the whole import and rolls it back, so its counts are exactly what applying does.
"""

from dataclasses import dataclass, field
from datetime import datetime, time
from functools import partial

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dealership.csv_upload import csv_decode, csv_rows, header_key
from dealership.models import Department
from dealership.queueing import queue_on_commit
from inventory.forms import KmField, PriceField
from inventory.vin import vin_normalize
from leads.mail.words import fold

from ..language import store_language
from ..models import (
    AuditEntry,
    Customer,
    CustomerEmail,
    CustomerHistoryItem,
    CustomerImport,
    CustomerPhone,
    DealType,
    HistoryKind,
    Household,
)
from ..normalize import normalize_name, split_name
from ..selectors.customers import (
    customer_active,
    customer_match,
    customer_match_by_name,
    customers_language_chosen,
    customers_with_contact,
    name_key,
    names_agree,
)
from .audit import audit_record, changes_between
from .customers import (
    clean_contact,
    customer_fill_blanks,
    customer_snapshot,
    history_item_add,
)

IMPORT_SOURCE = "dms-import"

CUSTOMER_TARGETS = {
    "full_name": gettext_lazy("Full name"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "phone_2": gettext_lazy("Other phone"),
    "street": gettext_lazy("Street"),
    "city": gettext_lazy("City"),
    "province": gettext_lazy("Province"),
    "postal_code": gettext_lazy("Postal code"),
    "language": gettext_lazy("Language"),
}
HISTORY_TARGETS = {
    "kind": gettext_lazy("History: kind (purchase, lease, service…)"),
    "date": gettext_lazy("History: date"),
    "summary": gettext_lazy("History: summary"),
    "department": gettext_lazy("History: department"),
    "vehicle": gettext_lazy("Vehicle"),
    "vin": gettext_lazy("VIN"),
    "price": gettext_lazy("Price"),
    "deal_type": gettext_lazy("Deal type (cash, finance, lease)"),
    "term_months": gettext_lazy("Term (months)"),
    "term_ends_on": gettext_lazy("Term end date"),
    "warranty_ends_on": gettext_lazy("Warranty end date"),
    "odometer_km": gettext_lazy("Odometer (km)"),
    "reference": gettext_lazy("DMS reference (deal or repair order number)"),
}
TARGETS = {**CUSTOMER_TARGETS, **HISTORY_TARGETS}

# Column headers DMS exports commonly use, for a first guess at the mapping.
HEADER_GUESSES = {
    "name": "full_name", "customer name": "full_name", "customer": "full_name",
    "first": "first_name", "firstname": "first_name", "last": "last_name", "lastname": "last_name",
    "surname": "last_name", "e-mail": "email", "email address": "email", "home phone": "phone",
    "cell": "phone", "mobile": "phone", "work phone": "phone_2", "address": "street", "address1": "street",
    "postal": "postal_code", "zip": "postal_code", "postcode": "postal_code", "prov": "province",
    "state": "province", "lang": "language", "type": "kind", "transaction": "kind", "deal date": "date",
    "sale date": "date", "ro date": "date", "description": "summary", "mileage": "odometer_km",
    "odometer": "odometer_km", "km": "odometer_km", "sale price": "price", "deal number": "reference",
    "deal #": "reference", "ro number": "reference", "ro #": "reference", "term": "term_months",
    "lease end": "term_ends_on", "term end": "term_ends_on", "maturity date": "term_ends_on",
    "warranty end": "warranty_ends_on", "warranty expiry": "warranty_ends_on",
    # Québec exports.
    "nom complet": "full_name", "nom du client": "full_name", "client": "full_name", "prenom": "first_name",
    "nom de famille": "last_name", "courriel": "email", "adresse courriel": "email",
    "adresse de courriel": "email", "telephone": "phone", "tel": "phone", "tel. residence": "phone",
    "cellulaire": "phone", "cell.": "phone", "tel. bureau": "phone_2", "telephone bureau": "phone_2",
    "autre telephone": "phone_2", "adresse": "street", "ville": "city", "code postal": "postal_code",
    "langue": "language", "date de vente": "date", "date de livraison": "date", "kilometrage": "odometer_km",
    "prix": "price", "prix de vente": "price", "no de contrat": "reference", "numero de contrat": "reference",
    "bon de travail": "reference", "no bt": "reference", "terme": "term_months", "fin de location": "term_ends_on",
    "fin du terme": "term_ends_on", "fin de garantie": "warranty_ends_on", "niv": "vin", "vehicule": "vehicle",
}  # fmt: skip
# The words DMS exports use for each kind of item, deal type and department, in English and French;
# a refused word is answered with those of the page's language. Compared without case or accents.
KIND_WORDS = {
    "en": {
        "purchase": HistoryKind.PURCHASE,
        "sale": HistoryKind.PURCHASE,
        "sold": HistoryKind.PURCHASE,
        "cash": HistoryKind.PURCHASE,
        "finance": HistoryKind.PURCHASE,
        "lease": HistoryKind.LEASE,
        "service": HistoryKind.SERVICE_VISIT,
        "repair": HistoryKind.SERVICE_VISIT,
        "ro": HistoryKind.SERVICE_VISIT,
        "parts": HistoryKind.PARTS_ORDER,
        "body shop": HistoryKind.BODY_SHOP_JOB,
        "body": HistoryKind.BODY_SHOP_JOB,
        "collision": HistoryKind.BODY_SHOP_JOB,
    },
    "fr": {
        "achat": HistoryKind.PURCHASE,
        "vente": HistoryKind.PURCHASE,
        "vendu": HistoryKind.PURCHASE,
        "comptant": HistoryKind.PURCHASE,
        "financement": HistoryKind.PURCHASE,
        "location": HistoryKind.LEASE,
        "entretien": HistoryKind.SERVICE_VISIT,
        "service": HistoryKind.SERVICE_VISIT,
        "réparation": HistoryKind.SERVICE_VISIT,
        "pièces": HistoryKind.PARTS_ORDER,
        "carrosserie": HistoryKind.BODY_SHOP_JOB,
        "collision": HistoryKind.BODY_SHOP_JOB,
    },
}
DEAL_TYPE_WORDS = {
    "en": {
        "cash": DealType.CASH,
        "finance": DealType.FINANCE,
        "financing": DealType.FINANCE,
        "lease": DealType.LEASE,
    },
    "fr": {"comptant": DealType.CASH, "financement": DealType.FINANCE, "location": DealType.LEASE},
}
DEPARTMENT_WORDS = {
    "en": {
        "sales": Department.Code.SALES,
        "service": Department.Code.SERVICE,
        "parts": Department.Code.PARTS,
        "finance": Department.Code.FINANCE,
        "body shop": Department.Code.BODY_SHOP,
    },
    "fr": {
        "ventes": Department.Code.SALES,
        "service": Department.Code.SERVICE,
        "pièces": Department.Code.PARTS,
        "financement": Department.Code.FINANCE,
        "carrosserie": Department.Code.BODY_SHOP,
    },
}
KIND_DEPARTMENT = {
    HistoryKind.PURCHASE: Department.Code.SALES,
    HistoryKind.LEASE: Department.Code.SALES,
    HistoryKind.SERVICE_VISIT: Department.Code.SERVICE,
    HistoryKind.PARTS_ORDER: Department.Code.PARTS,
    HistoryKind.BODY_SHOP_JOB: Department.Code.BODY_SHOP,
}
LANGUAGE_WORDS = {"en": "en", "english": "en", "anglais": "en", "fr": "fr", "french": "fr", "français": "fr",
                  "francais": "fr", "fr-ca": "fr", "en-ca": "en"}  # fmt: skip
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"]


class ImportRejected(ValueError):
    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__(f"{len(errors)} bad row(s); nothing was imported.")


# Where a second column guessed as a field already taken goes: "Cell" beside "Home Phone".
SECOND_TARGET = {"phone": "phone_2"}


def mapping_guess(header: list[str]) -> dict[str, str]:
    keys = {column: header_key(column.replace("_", " ")) for column in header}
    # « Nom » beside « Prénom » is the family name; alone, the whole name.
    nom = "last_name" if "prenom" in keys.values() else "full_name"
    guesses = {}
    for column in header:
        key = keys[column]
        target = (nom if key == "nom" else HEADER_GUESSES.get(key)) or next(
            (t for t in TARGETS if t.replace("_", " ") == key), ""
        )
        if target in guesses.values():
            target = SECOND_TARGET.get(target, "")
        if target and target not in guesses.values():
            guesses[column] = target
    return guesses


def _date(value: str):
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(_("“%(value)s” is not a date (use YYYY-MM-DD)") % {"value": value})


def _past_date(value: str):
    """The day something happened: not after today (a typing slip, or a deal not yet delivered)."""
    day = _date(value)
    if day > timezone.localdate():
        raise ValueError(_("“%(value)s” is later than today") % {"value": value})
    return day


def _read_as(field: forms.Field, value: str):
    """A cell read as the stock import reads the same column: a price "$41,200.00" or, from a French
    export, "29 995,50 $"; kilometres "61,200", "61.200" or "61 200 km"."""
    try:
        return field.clean(value)
    except forms.ValidationError as error:
        codes = {e.code for e in error.error_list}
        if "invalid" in codes:
            raise ValueError(_("“%(value)s” is not a number") % {"value": value}) from None
        if "min_value" in codes:
            raise ValueError(_("“%(value)s” is negative") % {"value": value}) from None
        if "max_value" in codes:
            raise ValueError(_("“%(value)s” is too large") % {"value": value}) from None
        raise ValueError(
            _("“%(value)s” is refused: %(why)s") % {"value": value, "why": " ".join(error.messages)}
        ) from None


def _whole_number(value: str, *, largest: int) -> int:
    """A count of months, its thousands grouped by commas or spaces as a spreadsheet may write them."""
    cleaned = value.replace(",", "").replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    try:
        number = int(cleaned)
    except ValueError:
        raise ValueError(_("“%(value)s” is not a number") % {"value": value}) from None
    if number < 0:
        raise ValueError(_("“%(value)s” is negative") % {"value": value})
    if number > largest:
        raise ValueError(_("“%(value)s” is too large") % {"value": value})
    return number


# What the database holds for each text and count column: a longer or larger cell is a bad row,
# named by its line, instead of a write PostgreSQL refuses halfway through the preview.
LONGEST = {
    target: model._meta.get_field(field).max_length
    for target, model, field in (
        ("first_name", Customer, "first_name"),
        ("last_name", Customer, "last_name"),
        ("email", Customer, "email"),
        ("street", Customer, "street"),
        ("city", Customer, "city"),
        ("province", Customer, "province"),
        ("postal_code", Customer, "postal_code"),
        ("summary", CustomerHistoryItem, "summary"),
        ("vehicle", CustomerHistoryItem, "vehicle"),
        ("vin", CustomerHistoryItem, "vin"),
        ("reference", CustomerHistoryItem, "external_ref"),
    )
}
LARGEST = {"term_months": 32_767}  # PositiveSmallInteger


def _word_read(value: str, words: dict[str, dict[str, str]]) -> str:
    """The stored value an export's word stands for, in either language; else the word as it is."""
    folded = fold(" ".join(value.split()))
    return next(
        (stored for language in words.values() for word, stored in language.items() if fold(word) == folded),
        folded,
    )


def _words_accepted(words: dict[str, dict[str, str]]) -> str:
    """The words of the page's language, for a refusal: "purchase, sale, …"."""
    return ", ".join(words["fr" if translation.get_language().startswith("fr") else "en"])


def row_clean(values: dict[str, str]) -> dict:
    """The row's values ready to write, or ValueError listing everything wrong with it."""
    problems, row = [], {k: v.strip() for k, v in values.items() if v and v.strip()}
    if "full_name" in row:
        first, last = split_name(row.pop("full_name"))
        row.setdefault("first_name", first)
        row.setdefault("last_name", last)
    for name in ("first_name", "last_name"):
        if name in row:
            row[name] = normalize_name(row[name])
    try:
        row["email"], row["phone"] = clean_contact(email=row.get("email", ""), phone=row.get("phone", ""))
        row["phone_2"] = clean_contact(phone=row.get("phone_2", ""))[1]
    except ValidationError as error:
        problems += [m for messages in error.message_dict.values() for m in messages]
    if not any(row.get(f) for f in ("email", "phone", "first_name", "last_name")):
        problems.append(_("no name, email or phone"))
    if "language" in row and (language := LANGUAGE_WORDS.get(row["language"].lower())) is None:
        problems.append(_("language “%(value)s” is neither English nor French") % {"value": row["language"]})
    elif "language" in row:
        row["language"] = language
    for name, convert in (
        ("date", _past_date),
        ("term_ends_on", _date),
        ("warranty_ends_on", _date),
        ("price", partial(_read_as, PriceField())),
        ("term_months", partial(_whole_number, largest=LARGEST["term_months"])),
        ("odometer_km", partial(_read_as, KmField())),
    ):
        if name in row:
            try:
                row[name] = convert(row[name])
            except ValueError as error:
                problems.append(
                    _("%(field)s: %(problem)s") % {"field": TARGETS[name].lower(), "problem": error}
                )
    if "vin" in row:
        row["vin"] = vin_normalize(row["vin"])
    problems += [
        _("%(field)s: longer than %(longest)s characters")
        % {"field": TARGETS[name].lower(), "longest": longest}
        for name, longest in LONGEST.items()
        if len(row.get(name, "")) > longest
    ]
    if any(name in row for name in HISTORY_TARGETS):
        kind = _word_read(row.get("kind", ""), KIND_WORDS)
        if kind not in HistoryKind.values:
            problems.append(
                _("kind “%(value)s” is none of %(words)s")
                % {"value": row.get("kind", ""), "words": _words_accepted(KIND_WORDS)}
            )
        row["kind"] = kind
        if "date" not in row:
            problems.append(_("a history row needs a date"))
    for name, words, stored, refusal in (
        ("deal_type", DEAL_TYPE_WORDS, DealType.values, _("deal type “%(value)s” is none of %(words)s")),
        (
            "department",
            DEPARTMENT_WORDS,
            Department.Code.values,
            _("department “%(value)s” is none of %(words)s"),
        ),
    ):
        if name in row:
            if (value := _word_read(row[name], words)) not in stored:
                problems.append(refusal % {"value": row[name], "words": _words_accepted(words)})
            row[name] = value
    if problems:
        raise ValueError("; ".join(problems))
    return row


def import_create(*, filename: str, data: bytes, actor) -> CustomerImport:
    content = csv_decode(data)
    header = csv_rows(content)[0]
    if len(set(header)) != len(header) or not all(header):
        raise ValidationError(_("Every column needs a header, and headers must differ."))
    return CustomerImport.objects.create(
        filename=filename[:255], content=content, mapping=mapping_guess(header), uploaded_by=actor
    )


@dataclass
class ImportSummary:
    rows: int = 0
    customers_created: int = 0
    customers_updated: int = 0
    history_added: int = 0
    history_already_there: int = 0
    history_taken_back: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def mapping_check(mapping: dict[str, str]) -> None:
    unknown = set(mapping.values()) - set(TARGETS) - {""}
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    targets = [t for t in mapping.values() if t]
    if len(targets) != len(set(targets)):
        raise ValidationError(_("Two columns are mapped to the same field."))


def import_check(
    *, batch: CustomerImport, mapping: dict[str, str]
) -> tuple[ImportSummary, list[tuple[int, dict]]]:
    """Validate every row under this mapping; the summary lists each bad row with its line."""
    mapping_check(mapping)
    header, rows = csv_rows(batch.content)
    summary, cleaned = ImportSummary(rows=len(rows)), []
    for line, row in rows:
        # An unquoted delimiter inside a value ("12, rue Principale") moves every later value into the
        # next column; blank cells past the last column are only a delimiter ending the line.
        filled = max(position for position, cell in enumerate(row, start=1) if cell.strip())
        if filled > len(header):
            summary.errors.append(
                (
                    line,
                    ngettext(
                        "%(values)d values for %(columns)d column: is a comma inside a value not in quotes?",
                        "%(values)d values for %(columns)d columns: is a comma inside a value not in quotes?",
                        len(header),
                    )
                    % {"values": filled, "columns": len(header)},
                )
            )
            continue
        values = {
            mapping[col]: row[i] if i < len(row) else "" for i, col in enumerate(header) if mapping.get(col)
        }
        try:
            cleaned.append((line, row_clean(values)))
        except ValueError as error:
            summary.errors.append((line, str(error)))
    return summary, cleaned


def _fill_customer(customer: Customer, row: dict, *, language_chosen: set[int]) -> None:
    customer_fill_blanks(customer=customer, values=row)
    # The language is never blank; the store's file says the one the customer asked for, unless
    # someone here set it on the record since (`language_chosen`: customers_language_chosen).
    language = row.get("language")
    if language and language != customer.language and customer.pk not in language_chosen:
        customer.language = language
        customer.save(update_fields=["language", "updated_at"])
    # Written directly: the import audits each customer once, with all its changes.
    if row.get("email") and row["email"] != customer.email:
        CustomerEmail.objects.get_or_create(customer=customer, email=row["email"])
    for phone in (row.get("phone"), row.get("phone_2")):
        if phone and phone != customer.phone:
            CustomerPhone.objects.get_or_create(customer=customer, phone=phone)


def _customer_match(row: dict) -> Customer | None:
    if row.get("email") or row.get("phone"):
        return customer_match(
            email=row.get("email", ""),
            phone=row.get("phone", ""),
            first_name=row.get("first_name", ""),
            last_name=row.get("last_name", ""),
        )
    # A row known by its name alone, repeated or imported again, is the customer it made the first time.
    return customer_match_by_name(
        first_name=row.get("first_name", ""),
        last_name=row.get("last_name", ""),
        postal_code=row.get("postal_code", ""),
    )


def _name_words(name: str) -> list[str]:
    return name_key(name, "").split()


def _may_be(first_name: str, last_name: str, customer: Customer) -> bool:
    """Whether a name may be the customer's written otherwise: names_agree, the same first name or
    one starting the other ("Marie-Ève", "Marie"), a family-name word in common ("Tremblay-Gagnon"),
    or any of these with the name's two parts swapped ("Tremblay Marie")."""
    if names_agree(first_name, last_name, customer.first_name, customer.last_name):
        return True
    theirs_first, theirs_last = _name_words(customer.first_name), _name_words(customer.last_name)
    for first, last in ((first_name, last_name), (last_name, first_name)):
        firsts, lasts = _name_words(first), _name_words(last)
        shortest = min(len(firsts), len(theirs_first))
        if (shortest and firsts[:shortest] == theirs_first[:shortest]) or set(lasts) & set(theirs_last):
            return True
    return False


def _email_shared_with(row: dict) -> Customer | None:
    """The customer whose email the row gives, when the row is clearly someone else: a name that is
    not theirs written otherwise (_may_be) and none of their phones. DMS exports often give a family
    one address."""
    owner = customer_match(email=row.get("email", ""))
    if owner is None or _may_be(row.get("first_name", ""), row.get("last_name", ""), owner):
        return None
    row_phones = {row.get("phone"), row.get("phone_2")} - {None, ""}
    if any(customers_with_contact("phone", phone).filter(pk=owner.pk).exists() for phone in row_phones):
        return None
    return owner


def _household_member_match(owner: Customer, row: dict) -> Customer | None:
    """The person of the row's name in the owner's household (as an earlier row or import linked
    them), else the one the row's phone or name finds."""
    wanted = name_key(row.get("first_name", ""), row.get("last_name", ""))
    if owner.household_id:
        for member in customer_active().filter(household_id=owner.household_id).order_by("pk"):
            if name_key(member.first_name, member.last_name) == wanted:
                return member
    return _customer_match(row)


def _household_join(owner: Customer, member: Customer, *, email: str) -> None:
    """Link two people sharing an address as a household, as staff would, never merged. A household
    either one belongs to is kept; two different ones are left as they are."""
    if owner.household_id and member.household_id:
        return
    household = owner.household or member.household or Household.objects.create(name=email)
    for person in (owner, member):
        if person.household_id != household.pk:
            person.household = household
            person.save(update_fields=["household", "updated_at"])


def _already_imported(customer: Customer, row: dict, summary: str) -> bool:
    """Whether an import put this item on the timeline already (earlier in this file, or an earlier
    file): the same kind of item with the same DMS reference; without one, the customer's same kind
    of item on the same day, for the same vehicle, in the same words."""
    items = CustomerHistoryItem.objects.filter(source=IMPORT_SOURCE, kind=row["kind"])
    if reference := row.get("reference"):
        return items.filter(external_ref=reference).exists()
    return items.filter(
        customer=customer,
        external_ref="",
        occurred_at__date=row["date"],
        vin=row.get("vin", ""),
        vehicle=row.get("vehicle", ""),
        summary=summary,
    ).exists()


def _deals_taken_back() -> set[tuple[int, str]]:
    """The deals recorded once, then taken off a customer's history because they fell through
    (history_item_remove), as (customer id, DMS reference); read once per import. An entry stays
    on the record it was written for: a customer merged since counts as the one it was merged
    into, whose audit page shows it (customer_audit)."""
    removed = AuditEntry.objects.filter(
        action="history_removed", changes__has_key="reference", customer__isnull=False
    )
    return {
        (merged_into or customer, reference)
        for customer, merged_into, reference in removed.values_list(
            "customer_id", "customer__merged_into_id", "changes__reference__0"
        )
    }


def _deal_taken_back(row: dict, customer: Customer, taken_back: set[tuple[int, str]]) -> bool:
    """Whether this deal is one the customer's history had, taken off since because it fell through:
    the DMS may still list it, and it stays off. Another customer's deal under the same number (a
    DMS numbering its deals again) is imported."""
    reference = row.get("reference")
    return (
        bool(reference)
        and row["kind"] in (HistoryKind.PURCHASE, HistoryKind.LEASE)
        and (customer.pk, reference) in taken_back
    )


def _history_add(customer: Customer, row: dict, actor) -> bool:
    reference = row.get("reference", "")
    kind = row["kind"]
    # The file's summary or one made of the kind, vehicle and reference: row_clean held each of
    # them to LONGEST, so either fits its column whole.
    with translation.override(settings.LANGUAGE_CODE):  # stored: one language whoever imports
        summary = row.get("summary") or " ".join(
            filter(
                None, [str(HistoryKind(kind).label), row.get("vehicle", ""), reference and f"#{reference}"]
            )
        )
    if _already_imported(customer, row, summary):
        return False
    history_item_add(
        customer=customer,
        kind=kind,
        # Noon of its day; this morning's sale at the time of the import: its consent is not in the future.
        occurred_at=min(timezone.make_aware(datetime.combine(row["date"], time(12))), timezone.now()),
        summary=summary,
        department=row.get("department") or KIND_DEPARTMENT.get(kind, ""),
        actor=actor,
        source=IMPORT_SOURCE,
        external_ref=reference,
        deal_type=row.get("deal_type", ""),
        **{name: row[name] for name in ("vehicle", "vin", "price", "term_months", "term_ends_on",
                                         "warranty_ends_on", "odometer_km") if name in row},
    )  # fmt: skip
    return True


def summary_dict(summary: ImportSummary) -> dict:
    return {**vars(summary), "errors": [list(error) for error in summary.errors]}


RUNNING = (CustomerImport.State.PREVIEWING, CustomerImport.State.APPLYING)


@transaction.atomic
def import_start(*, batch: CustomerImport, mapping: dict[str, str], apply: bool, actor) -> CustomerImport:
    """Ask a worker to preview (dry run) or apply the import with this mapping. Applying needs a
    clean preview of exactly this mapping first."""
    from ..tasks import customer_import_run_task

    mapping_check(mapping)
    batch = CustomerImport.objects.select_for_update().get(pk=batch.pk)
    if batch.state in RUNNING:
        raise ValidationError(_("This file is already being worked on."))
    if batch.applied_at:
        raise ValidationError(_("This file was already imported."))
    if apply and (
        batch.state != CustomerImport.State.PREVIEWED
        or batch.mapping != mapping
        or batch.summary.get("errors")
    ):
        raise ValidationError(_("Preview this mapping first; import when the preview shows no bad rows."))
    batch.mapping, batch.run_by = mapping, actor
    batch.state = CustomerImport.State.APPLYING if apply else CustomerImport.State.PREVIEWING
    if not apply:
        batch.summary = {}
    batch.save(update_fields=["mapping", "run_by", "state", "summary"])
    # Nothing picks up a run the broker never took: the batch is put back and the page says so.
    queue_on_commit(
        customer_import_run_task,
        batch_id=batch.pk,
        language=translation.get_language(),
        on_broker_down=lambda _error: _import_not_started(batch, apply=apply),
    )
    return batch


def _import_not_started(batch: CustomerImport, *, apply: bool) -> None:
    """The broker could not take the run: the batch goes back to where it was, so that it may be
    started again (not "being worked on" for ever), and the page is told."""
    back = CustomerImport.State.PREVIEWED if apply else CustomerImport.State.UPLOADED
    CustomerImport.objects.filter(pk=batch.pk, state=batch.state).update(state=back)
    raise ValidationError(
        _(
            "Not started: the background worker cannot be reached just now. Nothing was imported or "
            "lost; try again in a minute."
        )
    )


def import_run(*, batch_id: int) -> dict:
    """The worker's part: run the preview or the import that was asked for. Idempotent."""
    batch = CustomerImport.objects.get(pk=batch_id)
    if batch.state not in RUNNING or batch.applied_at:
        return batch.summary
    dry_run = batch.state == CustomerImport.State.PREVIEWING
    try:
        summary = import_apply(batch=batch, mapping=batch.mapping, actor=batch.run_by, dry_run=dry_run)
    except ImportRejected as rejected:
        summary = ImportSummary(errors=rejected.errors)
    if dry_run or summary.errors:
        batch.state = CustomerImport.State.PREVIEWED if dry_run else CustomerImport.State.REJECTED
        batch.summary = summary_dict(summary)
        batch.save(update_fields=["state", "summary"])
    return summary_dict(summary)


class _DryRun(Exception):
    pass


def import_apply(*, batch: CustomerImport, mapping: dict[str, str], actor, dry_run: bool) -> ImportSummary:
    """Import every row, or nothing. A dry run does all of it, then rolls it back."""
    summary, rows = import_check(batch=batch, mapping=mapping)
    if summary.errors:
        if dry_run:
            return summary
        raise ImportRejected(summary.errors)
    try:
        with transaction.atomic():
            _apply_rows(rows, summary, actor, batch)
            if dry_run:
                raise _DryRun
            # Marked applied in the same transaction, so a repeated run can never import twice.
            batch.mapping, batch.applied_at, batch.state = (
                mapping,
                timezone.now(),
                CustomerImport.State.APPLIED,
            )
            batch.summary = summary_dict(summary)
            batch.save(update_fields=["mapping", "applied_at", "state", "summary"])
    except _DryRun:
        pass
    return summary


def _apply_rows(rows, summary: ImportSummary, actor, batch: CustomerImport) -> None:
    before: dict[int, dict] = {}
    created: set[int] = set()
    touched: dict[int, Customer] = {}
    language_chosen = customers_language_chosen()
    taken_back = _deals_taken_back()
    for _line, row in rows:
        if owner := _email_shared_with(row):
            # Another person on someone's address: their own record, in the owner's household (as
            # customer_match takes another name on a shared phone). The address stays the owner's:
            # matching and mail take an email as one customer (see customers._email_unclaimed).
            shared_email, row = row["email"], {name: value for name, value in row.items() if name != "email"}
            customer = _household_member_match(owner, row)
        else:
            customer = _customer_match(row)
        if customer is None:
            # A file that does not say the customer's language: the store's.
            customer = Customer.objects.create(
                **{"language": store_language()}
                | {k: row[k] for k in CUSTOMER_TARGETS if k in row and k != "phone_2"}
            )
            created.add(customer.pk)
            before[customer.pk] = {}
        for person in filter(None, (customer, owner)):
            if person.pk not in before:
                before[person.pk] = customer_snapshot(person) | {
                    "history_items": person.history_items.count()
                }
        if owner:
            _household_join(owner, customer, email=shared_email)
            touched[owner.pk] = owner
        _fill_customer(customer, row, language_chosen=language_chosen)
        if row.get("kind"):
            if _deal_taken_back(row, customer, taken_back):
                summary.history_taken_back += 1
            elif _history_add(customer, row, actor):
                summary.history_added += 1
            else:
                summary.history_already_there += 1
        touched[customer.pk] = customer
    # One audit entry per customer the file created or changed.
    for pk, customer in touched.items():
        after = customer_snapshot(customer) | {"history_items": customer.history_items.count()}
        changes = changes_between(before[pk], after)
        if changes:
            action = "import_created" if pk in created else "import_updated"
            audit_record(
                customer=customer, action=action, changes={**changes, "import": [None, batch.pk]}, actor=actor
            )
            summary.customers_updated += pk not in created
    summary.customers_created = len(created)
