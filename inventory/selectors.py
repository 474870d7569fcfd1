"""Reads of stock vehicles, for staff pages, the public website, its feeds and the freshness report."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Count, F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Replace, Upper
from django.utils import timezone

from .models import PhotoStatus, Vehicle, VehicleEvent, VehiclePhoto, VehiclePriceChange, VehicleStatus
from .vin import vin_normalize


def _with_photos(vehicles: QuerySet[Vehicle]) -> QuerySet[Vehicle]:
    """Ready-photo counts and the main photo, in a constant number of queries for any page size."""
    ready = Q(photos__status=PhotoStatus.READY)
    return vehicles.annotate(photo_count=Count("photos", filter=ready)).prefetch_related(
        Prefetch(
            "photos",
            queryset=VehiclePhoto.objects.filter(status=PhotoStatus.READY).order_by("position", "pk")[:1],
            to_attr="main_photos",
        )
    )


# Filters come from the address, which anyone can edit: what no vehicle could match is ignored rather
# than sent to the database (a NUL character, an amount beyond a price's digits, a negative number or
# a century of days).
MAX_PRICE = Decimal(10**8)
MAX_DAYS = 36_500


def _text(filters, name: str) -> str:
    return (filters.get(name) or "").replace("\x00", "")


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return min(number, MAX_DAYS) if number >= 0 else None


def _decimal(value) -> Decimal | None:
    try:
        amount = Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() and abs(amount) < MAX_PRICE else None


def _without_hyphens_and_spaces(expression):
    return Replace(Replace(expression, Value("-"), Value("")), Value(" "), Value(""))


def _filter_common(vehicles: QuerySet[Vehicle], filters) -> QuerySet[Vehicle]:
    if condition := _text(filters, "condition"):
        vehicles = vehicles.filter(condition=condition)
    if make := _text(filters, "make"):
        vehicles = vehicles.filter(make__iexact=make)
    # The model is typed: "Silverado" finds the "Silverado 1500", "f150" the "F-150", "CX 5" the "CX-5".
    if model := re.sub(r"[\s-]", "", _text(filters, "model")):
        vehicles = vehicles.alias(model_compact=_without_hyphens_and_spaces(F("model"))).filter(
            model_compact__icontains=model
        )
    return vehicles


def vehicle_list(*, filters=None) -> QuerySet[Vehicle]:
    """Staff list: filters condition, make, model, status, photos=missing, days (in stock at least), q."""
    filters = filters or {}
    vehicles = _filter_common(Vehicle.objects.all(), filters)
    if status := _text(filters, "status"):
        vehicles = vehicles.filter(status=status)
    if (days := _int(filters.get("days"))) is not None:
        vehicles = vehicles.filter(in_stock_on__lte=timezone.localdate() - timedelta(days=days), sold_on=None)
    if query := _text(filters, "q").strip():
        # Every word must match make, model or trim ("toyota rav4"); or the whole is a stock number or VIN.
        words = Q()
        for word in query.split():
            words &= Q(make__icontains=word) | Q(model__icontains=word) | Q(trim__icontains=word)
        match = Q(stock_number__iexact=query) | Q(vin__icontains=vin_normalize(query)) | words
        vehicles = vehicles.filter(match)
    vehicles = _with_photos(vehicles)
    if filters.get("photos") == "missing":
        vehicles = vehicles.filter(photo_count=0)
    return vehicles.order_by("-created_at", "-pk")


# A vehicle's ready photos in their order, as `ready_photos` (Vehicle.photo_urls reads them).
_READY_PHOTOS = Prefetch(
    "photos", queryset=VehiclePhoto.objects.filter(status=PhotoStatus.READY), to_attr="ready_photos"
)


def vehicles_find(wanted: list[tuple[str, str]]) -> list[Vehicle | None]:
    """The stock vehicle with each (VIN, stock number) pair's VIN, else its stock number (None when
    neither matches), in one query and one for their photos; answers in the same order."""
    pairs = [(vin_normalize(vin), (stock_number or "").strip().upper()) for vin, stock_number in wanted]
    vins = {vin for vin, _ in pairs if vin}
    stock_numbers = {stock_number for _, stock_number in pairs if stock_number}
    if not (vins or stock_numbers):
        return [None] * len(pairs)
    by_vin: dict[str, Vehicle] = {}
    by_stock_number: dict[str, Vehicle] = {}
    matches = (
        Vehicle.objects.alias(stock_number_upper=Upper("stock_number"))
        .filter(Q(vin__in=vins) | Q(stock_number_upper__in=stock_numbers))
        .prefetch_related(_READY_PHOTOS)
        .order_by("pk")
    )
    for vehicle in matches:
        by_vin.setdefault(vehicle.vin, vehicle)
        by_stock_number.setdefault(vehicle.stock_number.upper(), vehicle)
    return [(vin and by_vin.get(vin)) or by_stock_number.get(stock_number) for vin, stock_number in pairs]


def lead_vehicle_fields(vehicle: Vehicle) -> dict:
    """A stock vehicle as a lead names the vehicle it is about (LeadVehicle's fields)."""
    return {
        "interest": "buy",
        "condition": vehicle.condition,
        "year": vehicle.year,
        "make": vehicle.make,
        "model": vehicle.model,
        "trim": vehicle.trim,
        "vin": vehicle.vin,
        "stock_number": vehicle.stock_number,
        "odometer_km": vehicle.odometer_km,
        "price": vehicle.price,
    }


# The source of the leads made by the vehicle pages' contact form.
WEBSITE_SOURCE = "Website"


def vehicle_makes(*, public: bool = False) -> list[str]:
    vehicles = vehicle_public_list() if public else Vehicle.objects.all()
    return list(vehicles.exclude(make="").order_by("make").values_list("make", flat=True).distinct())


def vehicle_public_list(*, filters=None) -> QuerySet[Vehicle]:
    """What the website shows: published vehicles in stock. Filters condition, make, model, price_min/max."""
    filters = filters or {}
    vehicles = _filter_common(Vehicle.objects.filter(published=True, status=VehicleStatus.IN_STOCK), filters)
    if (low := _decimal(filters.get("price_min"))) is not None:
        vehicles = vehicles.filter(price__gte=low)
    if (high := _decimal(filters.get("price_max"))) is not None:
        vehicles = vehicles.filter(price__lte=high)
    return vehicles.order_by("-in_stock_on", "-pk")


def vehicle_public_page_list(*, filters=None) -> QuerySet[Vehicle]:
    return _with_photos(vehicle_public_list(filters=filters))


def vehicle_public_get(*, pk: int) -> Vehicle:
    """A vehicle's public page (see Vehicle.has_public_page)."""
    return Vehicle.objects.with_public_page().get(pk=pk)


def vehicle_ready_photos(*, vehicle: Vehicle) -> QuerySet[VehiclePhoto]:
    return vehicle.photos.filter(status=PhotoStatus.READY).order_by("position", "pk")


def vehicle_feed(*, vehicles=None) -> QuerySet[Vehicle]:
    """Vehicles for the feeds, with every ready photo in order."""
    return (vehicles if vehicles is not None else vehicle_public_list()).prefetch_related(_READY_PHOTOS)


@dataclass(frozen=True)
class VehicleChange:
    change: str  # new, price_changed, sold, removed
    at: datetime
    vehicle: Vehicle


# What changes a listed vehicle as the website shows it, besides its price: its details and photos
# (a photo's status only when it becomes ready: one still processing, or failed, is not shown).
CONTENT_EVENTS = ("updated", "photo_status", "photos_reordered", "photo_deleted")
SHOWN_CHANGE = Q(type__in=("listed", "unlisted", "price_changed", *CONTENT_EVENTS)) & (
    ~Q(type="photo_status") | Q(params__to_status=PhotoStatus.READY)
)


# An event is dated when it is written, not when its transaction commits: a poll made while a stock
# import was still open could not see its changes, yet they are older than that poll's generated_at.
# So a poll also answers the changes of this long before `since`: longer than any transaction that
# writes vehicle events (an import runs in a web request, which gunicorn stops after 30 s; a worker's
# task in CELERY_TASK_TIME_LIMIT, 5 min) and than the clocks of two servers differ. A change can come
# twice; listing sites apply them by stock number.
FEED_SINCE_OVERLAP = timedelta(minutes=10)


def vehicle_changes_since(*, since: datetime) -> list[VehicleChange]:
    """One change per vehicle since the time given (less FEED_SINCE_OVERLAP), as the website needs
    it to catch up: new (now listed, and listed since), price_changed (listed before, price changed
    since), updated (listed before, details or photos changed since), sold, removed (no longer
    listed for another reason)."""
    events = (
        VehicleEvent.objects.filter(SHOWN_CHANGE, created_at__gt=since - FEED_SINCE_OVERLAP)
        .order_by("created_at", "pk")
        .values_list("vehicle_id", "type", "created_at")
    )
    per_vehicle: dict[int, list[tuple[str, datetime]]] = {}
    for vehicle_id, type_, at in events:
        per_vehicle.setdefault(vehicle_id, []).append((type_, at))
    vehicles = vehicle_feed(vehicles=Vehicle.objects.filter(pk__in=per_vehicle)).in_bulk()
    changes = []
    for vehicle_id, history in per_vehicle.items():
        vehicle = vehicles[vehicle_id]
        types = {type_ for type_, _at in history}
        last_at = history[-1][1]
        if vehicle.is_public and "listed" in types:
            change = "new"
        elif vehicle.is_public and "price_changed" in types:
            change = "price_changed"
        elif vehicle.is_public and types & set(CONTENT_EVENTS):
            change = "updated"
        elif not vehicle.is_public and "unlisted" in types:
            change = "sold" if vehicle.status == VehicleStatus.SOLD else "removed"
        else:
            continue
        changes.append(VehicleChange(change=change, at=last_at, vehicle=vehicle))
    return sorted(changes, key=lambda item: item.at)


@dataclass(frozen=True)
class FreshnessReport:
    few_photos: QuerySet[Vehicle]
    sold_published: QuerySet[Vehicle]
    stale_prices: QuerySet[Vehicle]
    longest_in_stock: QuerySet[Vehicle]
    min_photos: int
    price_days: int


def freshness_report(*, min_photos: int = 6, price_days: int = 30, limit: int = 25) -> FreshnessReport:
    """What keeps the website stale: vehicles listed with no or few photos, sold vehicles still
    published, prices not changed for `price_days` days, and the vehicles in stock longest."""
    in_stock = _with_photos(Vehicle.objects.filter(status=VehicleStatus.IN_STOCK))
    price_cutoff = timezone.now() - timedelta(days=price_days)
    return FreshnessReport(
        few_photos=in_stock.filter(photo_count__lt=min_photos).order_by("photo_count", "in_stock_on")[:limit],
        sold_published=_with_photos(
            Vehicle.objects.filter(status=VehicleStatus.SOLD, published=True)
        ).order_by("sold_on")[:limit],
        stale_prices=in_stock.filter(
            Q(price_changed_at__lt=price_cutoff) | Q(price_changed_at=None)
        ).order_by("price_changed_at")[:limit],
        longest_in_stock=in_stock.exclude(in_stock_on=None).order_by("in_stock_on", "pk")[:limit],
        min_photos=min_photos,
        price_days=price_days,
    )


def vehicle_price_history(*, vehicle: Vehicle) -> QuerySet[VehiclePriceChange]:
    return vehicle.price_changes.select_related("changed_by")


def vehicle_events(*, vehicle: Vehicle) -> QuerySet[VehicleEvent]:
    return vehicle.events.select_related("actor").order_by("-created_at", "-pk")


def photo_coverage() -> float | None:
    """Share (%) of the vehicles in stock that have at least one photo ready for the website."""
    in_stock = Vehicle.objects.filter(status=VehicleStatus.IN_STOCK)
    counts = in_stock.aggregate(
        total=Count("pk", distinct=True),
        with_photos=Count("pk", distinct=True, filter=Q(photos__status=PhotoStatus.READY)),
    )
    return round(100.0 * counts["with_photos"] / counts["total"], 1) if counts["total"] else None
