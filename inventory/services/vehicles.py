"""Writes for stock vehicles. Every status change goes through vehicle_transition, every price change
through vehicle_price_set, so the timeline and the price history are complete."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ..models import Vehicle, VehicleEvent, VehiclePriceChange, VehicleStatus
from ..vin import vin_decode, vin_validate

# The stock status machine: which status may follow which.
VEHICLE_TRANSITIONS: dict[str, set[str]] = {
    VehicleStatus.ON_ORDER: {VehicleStatus.IN_STOCK},
    VehicleStatus.IN_STOCK: {VehicleStatus.ON_HOLD, VehicleStatus.SOLD},
    VehicleStatus.ON_HOLD: {VehicleStatus.IN_STOCK, VehicleStatus.SOLD},
    # A deal that falls through brings the vehicle back.
    VehicleStatus.SOLD: {VehicleStatus.IN_STOCK},
}

# What a person may edit directly. Status has its own service; a price given to vehicle_update goes
# through vehicle_price_set, which keeps its history.
DESCRIPTIVE_FIELDS = (
    "condition",
    "year",
    "make",
    "model",
    "trim",
    "body_style",
    "exterior_colour",
    "interior_colour",
    "odometer_km",
    "description",
)


class TransitionError(ValueError):
    pass


def vehicle_event_add(*, vehicle: Vehicle, type: str, actor=None, **params) -> VehicleEvent:
    return VehicleEvent.objects.create(vehicle=vehicle, type=type, actor=actor, params=params)


def _listing_changed(*, vehicle: Vehicle, was_public: bool, actor, reason: str) -> None:
    """Record when the vehicle appears on or leaves the website: the feeds' "since" reads these."""
    if vehicle.is_public != was_public:
        vehicle_event_add(
            vehicle=vehicle, type="listed" if vehicle.is_public else "unlisted", actor=actor, reason=reason
        )


def _with_decoded_vin(vin: str, fields: dict) -> dict:
    """Fill make and model year from the VIN where they were left blank."""
    decoded = vin_decode(vin)
    if not fields.get("make") and decoded.make:
        fields["make"] = decoded.make
    if not fields.get("year") and decoded.year:
        fields["year"] = decoded.year
    return fields


@transaction.atomic
def vehicle_create(
    *,
    vin: str,
    stock_number: str,
    actor=None,
    price: Decimal | None = None,
    status: str = VehicleStatus.IN_STOCK,
    published: bool = True,
    in_stock_on=None,
    **fields,
) -> Vehicle:
    vin = vin_validate(vin)
    today = timezone.localdate()
    vehicle = Vehicle(
        vin=vin,
        stock_number=stock_number.strip(),
        status=status,
        published=published,
        in_stock_on=in_stock_on or (None if status == VehicleStatus.ON_ORDER else today),
        sold_on=today if status == VehicleStatus.SOLD else None,
        **_with_decoded_vin(vin, fields),
    )
    vehicle.full_clean()
    vehicle.save()
    vehicle_event_add(vehicle=vehicle, type="created", actor=actor, status=status)
    if price is not None:
        vehicle_price_set(vehicle=vehicle, price=price, actor=actor)
    _listing_changed(vehicle=vehicle, was_public=False, actor=actor, reason="created")
    return vehicle


@transaction.atomic
def vehicle_update(
    *,
    vehicle: Vehicle,
    actor=None,
    vin: str | None = None,
    stock_number: str | None = None,
    published: bool | None = None,
    **fields,
) -> Vehicle:
    """Change descriptive fields (and VIN, stock number, publication); records which fields changed.
    A price, when given (None clears it), is recorded as vehicle_price_set records it."""
    unknown = set(fields) - {*DESCRIPTIVE_FIELDS, "price"}
    if unknown:
        raise TypeError(f"vehicle_update cannot change {', '.join(sorted(unknown))}")
    price_given = "price" in fields
    price = fields.pop("price", None)
    was_public = vehicle.is_public
    if vin is not None:
        fields["vin"] = vin_validate(vin)
        fields = _with_decoded_vin(fields["vin"], {**{"make": vehicle.make, "year": vehicle.year}, **fields})
    if stock_number is not None:
        fields["stock_number"] = stock_number.strip()
    if published is not None:
        fields["published"] = published
    changed = sorted(name for name, value in fields.items() if getattr(vehicle, name) != value)
    if changed:
        for name in changed:
            setattr(vehicle, name, fields[name])
        vehicle.full_clean()
        vehicle.save(update_fields=[*changed, "updated_at"])
        vehicle_event_add(vehicle=vehicle, type="updated", actor=actor, fields=changed)
        _listing_changed(vehicle=vehicle, was_public=was_public, actor=actor, reason="published")
    if price_given:
        vehicle = vehicle_price_set(vehicle=vehicle, price=price, actor=actor)
    return vehicle


@transaction.atomic
def vehicle_price_set(*, vehicle: Vehicle, price: Decimal | None, actor=None) -> Vehicle:
    """Change the asking price, keeping a row per change with who and when."""
    if price is not None:
        price = Decimal(price).quantize(Decimal("0.01"))
    if price == vehicle.price:
        return vehicle
    now = timezone.now()
    VehiclePriceChange.objects.create(
        vehicle=vehicle, old_price=vehicle.price, new_price=price, changed_by=actor, changed_at=now
    )
    vehicle_event_add(
        vehicle=vehicle,
        type="price_changed",
        actor=actor,
        old_price=None if vehicle.price is None else str(vehicle.price),
        new_price=None if price is None else str(price),
    )
    vehicle.price, vehicle.price_changed_at = price, now
    vehicle.save(update_fields=["price", "price_changed_at", "updated_at"])
    return vehicle


@transaction.atomic
def vehicle_transition(*, vehicle: Vehicle, to_status: str, actor=None, on=None) -> Vehicle:
    """Move a vehicle to another status if the machine allows it; `on` is the date it happened."""
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    if to_status not in VEHICLE_TRANSITIONS.get(vehicle.status, set()):
        raise TransitionError(
            _("A vehicle that is %(from)s cannot become %(to)s.")
            % {
                "from": VehicleStatus(vehicle.status).label.lower(),
                "to": VehicleStatus(to_status).label.lower()
                if to_status in VehicleStatus.values
                else repr(to_status),
            }
        )
    today = timezone.localdate()
    on = on or today
    # Days in stock count from arrival to sale: a day to come, or a sale before arrival, would make
    # them wrong on the staff pages and in the feeds (and list a vehicle before it is here).
    if on > today:
        raise TransitionError(
            _("%(date)s has not come yet: a status change is dated the day it happened, today at the latest.")
            % {"date": date_format(on)}
        )
    if to_status == VehicleStatus.SOLD and vehicle.in_stock_on and on < vehicle.in_stock_on:
        raise TransitionError(
            _("A sale on %(sold)s would be before the vehicle arrived in stock, on %(in_stock)s.")
            % {"sold": date_format(on), "in_stock": date_format(vehicle.in_stock_on)}
        )
    was_public = vehicle.is_public
    from_status = vehicle.status
    vehicle.status = to_status
    if to_status == VehicleStatus.IN_STOCK:
        vehicle.in_stock_on = vehicle.in_stock_on or on
        vehicle.sold_on = None
    elif to_status == VehicleStatus.SOLD:
        vehicle.sold_on = on
    vehicle.save(update_fields=["status", "in_stock_on", "sold_on", "updated_at"])
    vehicle_event_add(
        vehicle=vehicle,
        type="status_changed",
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        on=on.isoformat(),
    )
    _listing_changed(vehicle=vehicle, was_public=was_public, actor=actor, reason=to_status)
    return vehicle
