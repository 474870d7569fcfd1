"""Import and update stock from a CSV export of the dealer management system, by stock number.

All or nothing: every row is checked and applied inside one transaction; a single bad row, or a
dry run, rolls everything back. The report names each bad row by its line number in the file.
"""

import csv
import re
import uuid
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from dealership.csv_upload import csv_decode, csv_rows, header_key
from dealership.storage import private_storage

from ..forms import VehicleForm, VinField
from ..models import Vehicle, VehicleStatus
from ..vin import vin_normalize
from .vehicles import (
    DESCRIPTIVE_FIELDS,
    TransitionError,
    vehicle_create,
    vehicle_transition,
    vehicle_update,
)

# Column names seen in dealer management system exports, lower-cased, to our field names.
COLUMN_ALIASES = {
    "stock_number": (
        "stock_number",
        "stock number",
        "stock #",
        "stock no",
        "stock",
        "stockno",
        "no de stock",
        "numero de stock",
        "no stock",
    ),
    "vin": ("vin", "serial", "niv", "no de serie", "numero de serie"),
    "condition": ("condition", "new/used", "type", "new_used", "neuf/usage", "neuf/occasion", "etat"),
    "year": ("year", "model year", "annee", "annee modele"),
    "make": ("make", "marque"),
    "model": ("model", "modele"),
    "trim": ("trim", "series", "version", "serie"),
    "body_style": ("body_style", "body style", "body", "carrosserie"),
    "exterior_colour": (
        "exterior_colour",
        "exterior colour",
        "exterior color",
        "ext color",
        "colour",
        "color",
        "couleur",
        "couleur exterieure",
    ),
    "interior_colour": (
        "interior_colour",
        "interior colour",
        "interior color",
        "int color",
        "couleur interieure",
    ),
    "odometer_km": ("odometer_km", "odometer", "kilometres", "kilometers", "km", "mileage", "kilometrage"),
    "price": (
        "price",
        "internet price",
        "selling price",
        "asking price",
        "prix",
        "prix de vente",
        "prix internet",
    ),
    "status": ("status", "statut"),
    "description": ("description", "comments", "commentaires"),
}
_FIELD_BY_HEADER = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
_CONDITION_WORDS = {
    "n": "new", "new": "new", "neuf": "new", "u": "used", "used": "used", "occasion": "used",
    "usage": "used", "d'occasion": "used",
}  # fmt: skip
_STATUS_WORDS = {
    **{value: value for value in VehicleStatus.values},
    **{label.lower(): value for value, label in VehicleStatus.choices},
    "instock": VehicleStatus.IN_STOCK,
    "available": VehicleStatus.IN_STOCK,
    "hold": VehicleStatus.ON_HOLD,
    "ordered": VehicleStatus.ON_ORDER,
    "en inventaire": VehicleStatus.IN_STOCK,
    "en stock": VehicleStatus.IN_STOCK,
    "disponible": VehicleStatus.IN_STOCK,
    "en attente": VehicleStatus.ON_HOLD,
    "reserve": VehicleStatus.ON_HOLD,
    "en commande": VehicleStatus.ON_ORDER,
    "vendu": VehicleStatus.SOLD,
}


class ImportRowForm(forms.ModelForm):
    """One row, checked like the vehicle form; rows name existing vehicles, so no uniqueness check here."""

    vin = VinField()
    status = forms.ChoiceField(
        choices=VehicleStatus.choices, required=False, label=pgettext_lazy("vehicle", "Status")
    )

    class Meta:
        model = Vehicle
        fields = ["stock_number", "vin", *DESCRIPTIVE_FIELDS, "price", "status"]
        field_classes = VehicleForm.Meta.field_classes  # kilometres and prices read as people type them
        labels = VehicleForm.Meta.labels  # a line's errors name its columns as the vehicle form does

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition"].required = False

    def validate_unique(self):
        pass


@dataclass
class ImportReport:
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # line None: the whole file

    @property
    def applied(self) -> bool:
        return not self.dry_run and not self.errors


def _rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, {field: value}) for each data row; unknown columns are ignored."""
    header, rows = csv_rows(csv_decode(content))
    # Headers and words compared without case or accents: « Année », « Usagé » as typed.
    columns = [_FIELD_BY_HEADER.get(header_key(name)) for name in header]
    if "stock_number" not in columns or "vin" not in columns:
        raise ValidationError(
            _("The first line must name the columns, with at least a stock number and a VIN.")
        )
    return [(line, _row_values(columns, row)) for line, row in rows]


def _row_values(columns: list[str | None], row: list[str]) -> dict[str, str]:
    values = {name: cell.strip() for name, cell in zip(columns, row, strict=False) if name}
    if "condition" in values:
        values["condition"] = _CONDITION_WORDS.get(header_key(values["condition"]), values["condition"])
    if "status" in values:
        values["status"] = _STATUS_WORDS.get(header_key(values["status"]), values["status"])
    return values


def _form_errors(form: forms.Form) -> str:
    return pgettext("between the errors of a line", "; ").join(
        _("%(field)s: %(errors)s")
        % {"field": form.fields[name].label or name.replace("_", " "), "errors": " ".join(messages)}
        if name != "__all__"
        else " ".join(messages)
        for name, messages in form.errors.items()
    )


def _snapshot(vehicle: Vehicle) -> tuple:
    return tuple(getattr(vehicle, name) for name in ("vin", "price", "status", *DESCRIPTIVE_FIELDS))


class _StoredVehicles:
    """The stored vehicles the file names by stock number or VIN, read in one query before any row
    is applied. Each stock number is applied once, so only which one holds each VIN changes."""

    def __init__(self, rows: list[tuple[int, dict[str, str]]]):
        stock_numbers = {values.get("stock_number", "") for _line, values in rows}
        vins = {vin_normalize(values.get("vin", "")) for _line, values in rows}
        vehicles = list(Vehicle.objects.filter(Q(stock_number__in=stock_numbers) | Q(vin__in=vins)))
        self.by_stock_number = {vehicle.stock_number: vehicle for vehicle in vehicles}
        self.stock_number_by_vin = {vehicle.vin: vehicle.stock_number for vehicle in vehicles}


def _apply_row(data: dict, present: set[str], actor, report: ImportReport, stored: _StoredVehicles) -> None:
    """Blank cells leave what the store already holds as it is."""
    owner = stored.stock_number_by_vin.get(data["vin"], data["stock_number"])
    if owner != data["stock_number"]:
        raise ValidationError(
            _("VIN %(vin)s is already stock number %(stock)s.") % {"vin": data["vin"], "stock": owner}
        )
    given = {
        name: data[name]
        for name in (*DESCRIPTIVE_FIELDS, "price")
        if name in present and data[name] not in ("", None)
    }
    vehicle = stored.by_stock_number.get(data["stock_number"])
    if vehicle is None:
        vehicle_create(
            vin=data["vin"],
            stock_number=data["stock_number"],
            actor=actor,
            status=data["status"] or VehicleStatus.IN_STOCK,
            **given,
        )
        report.created.append(data["stock_number"])
    else:
        vin_before, before = vehicle.vin, _snapshot(vehicle)
        vehicle = vehicle_update(vehicle=vehicle, actor=actor, vin=data["vin"], **given)
        if data["status"] and data["status"] != vehicle.status:
            vehicle = vehicle_transition(vehicle=vehicle, to_status=data["status"], actor=actor)
        (report.updated if _snapshot(vehicle) != before else report.unchanged).append(data["stock_number"])
        stored.stock_number_by_vin.pop(vin_before, None)
    stored.stock_number_by_vin[data["vin"]] = data["stock_number"]


@transaction.atomic
def vehicles_import_csv(*, content: bytes, actor=None, dry_run: bool = True) -> ImportReport:
    """Create or update vehicles from the CSV, by stock number; nothing is kept unless every row is good."""
    report = ImportReport(dry_run=dry_run)
    seen: dict[str, int] = {}
    try:
        rows = _rows(content)
    except (ValidationError, csv.Error) as error:
        report.errors.append((None, " ".join(getattr(error, "messages", [str(error)]))))
        return report
    if not rows:
        report.errors.append((None, _("The file holds no vehicles.")))
    stored = _StoredVehicles(rows)
    for line, values in rows:
        form = ImportRowForm(values)
        if not form.is_valid():
            report.errors.append((line, _form_errors(form)))
            continue
        data = form.cleaned_data
        if data["stock_number"] in seen:
            report.errors.append(
                (
                    line,
                    _("Stock number %(stock)s is already on line %(line)d.")
                    % {"stock": data["stock_number"], "line": seen[data["stock_number"]]},
                )
            )
            continue
        seen[data["stock_number"]] = line
        try:
            with transaction.atomic():
                _apply_row(data, set(values), actor, report, stored)
        except (ValidationError, TransitionError) as error:
            report.errors.append((line, " ".join(getattr(error, "messages", [str(error)]))))
    if report.errors or dry_run:
        transaction.set_rollback(True)
    return report


def import_file_keep(*, content: bytes) -> str:
    """Keep an uploaded export privately between its preview and its import; returns its token."""
    token = uuid.uuid4().hex
    private_storage().save(f"inventory/imports/{token}.csv", ContentFile(content))
    return token


def import_file_read(*, token: str) -> bytes:
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        raise FileNotFoundError(token)
    with private_storage().open(f"inventory/imports/{token}.csv") as kept:
        return kept.read()
