"""The stock as other sites read it: the JSON and CSV feeds for listing sites, and the schema.org
data on each public vehicle page. `absolute` turns a path into a full address (in a view,
request.build_absolute_uri)."""

import json
from collections.abc import Callable
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString, mark_safe

from .models import Condition, Vehicle, VehiclePhoto, VehicleStatus
from .selectors import FEED_SINCE_OVERLAP
from .services.vehicles import DESCRIPTIVE_FIELDS

Absolute = Callable[[str], str]

# Every feed row starts with these, as stored; then price, days_in_stock, url, photos, updated_at.
FEED_VEHICLE_FIELDS = ("stock_number", "vin", *DESCRIPTIVE_FIELDS)
CSV_FEED_COLUMNS = [
    *FEED_VEHICLE_FIELDS,
    "price",
    "days_in_stock",
    "url",
    "main_photo",
    "photo_urls",
    "updated_at",
]


def feed_since(raw: str) -> datetime | None:
    """The `since` parameter as an aware datetime; None when empty; ValueError when unreadable."""
    raw = raw.strip().replace(" ", "+")  # a '+' offset arrives as a space
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None:
        raise ValueError(raw)
    moment = moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.get_default_timezone())
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # "9999-12-31T23:59-12:00" is past the last moment a database holds
        raise ValueError(raw) from None
    # The changes are read from FEED_SINCE_OVERLAP earlier: the first minutes of year 1 have no earlier.
    if moment < datetime.min.replace(tzinfo=UTC) + FEED_SINCE_OVERLAP:
        raise ValueError(raw)
    return moment


def _photo_urls(photo: VehiclePhoto, absolute: Absolute) -> dict:
    return {
        name: {
            "width": width,
            "height": height,
            "webp": absolute(photo.url(name, "webp")),
            "jpeg": absolute(photo.url(name, "jpg")),
        }
        for name, (width, height) in photo.sizes.items()
    }


def vehicle_feed_row(vehicle: Vehicle, *, absolute: Absolute) -> dict:
    """A public vehicle as the JSON feed lists it (needs `ready_photos`, as vehicle_feed reads it)."""
    return {
        **{name: getattr(vehicle, name) for name in FEED_VEHICLE_FIELDS},
        "price": None if vehicle.price is None else str(vehicle.price),
        "days_in_stock": vehicle.days_in_stock,
        "url": absolute(vehicle.get_absolute_url()),
        "photos": [_photo_urls(photo, absolute) for photo in vehicle.ready_photos],
        "updated_at": vehicle.updated_at.isoformat(),
    }


def vehicle_csv_row(vehicle: Vehicle, *, absolute: Absolute) -> list:
    """The same, as one CSV line in CSV_FEED_COLUMNS order, with the large JPEGs as photo links."""
    row = vehicle_feed_row(vehicle, absolute=absolute)
    photo_urls = [photo["large"]["jpeg"] for photo in row["photos"] if "large" in photo]
    row.update(main_photo=photo_urls[0] if photo_urls else "", photo_urls=" ".join(photo_urls))
    return ["" if row[name] is None else row[name] for name in CSV_FEED_COLUMNS]


# What search engines show of a vehicle page: a vehicle on hold has a sale pending on it.
SCHEMA_AVAILABILITY = {
    VehicleStatus.IN_STOCK: "https://schema.org/InStock",
    VehicleStatus.ON_HOLD: "https://schema.org/Reserved",
}


def vehicle_structured_data(vehicle: Vehicle, photos: list[VehiclePhoto], *, absolute: Absolute) -> dict:
    """schema.org Vehicle with its Offer, for search engines."""
    url = absolute(vehicle.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "Vehicle",
        "name": vehicle.title,
        "vehicleIdentificationNumber": vehicle.vin,
        "sku": vehicle.stock_number,
        "brand": {"@type": "Brand", "name": vehicle.make},
        "model": vehicle.model,
        "vehicleConfiguration": vehicle.trim,
        "bodyType": vehicle.body_style,
        "color": vehicle.exterior_colour,
        "vehicleInteriorColor": vehicle.interior_colour,
        "itemCondition": "https://schema.org/NewCondition"
        if vehicle.condition == Condition.NEW
        else "https://schema.org/UsedCondition",
        "url": url,
        "image": [absolute(photo.url("large", "jpg")) for photo in photos],
        "offers": {
            "@type": "Offer",
            "priceCurrency": "CAD",
            "availability": SCHEMA_AVAILABILITY.get(vehicle.status, "https://schema.org/SoldOut"),
            "url": url,
        },
    }
    if vehicle.year:
        data["vehicleModelDate"] = str(vehicle.year)
    if vehicle.odometer_km is not None:
        data["mileageFromOdometer"] = {
            "@type": "QuantitativeValue",
            "value": vehicle.odometer_km,
            "unitCode": "KMT",
        }
    if vehicle.price is not None:
        data["offers"]["price"] = str(vehicle.price)
    return {key: value for key, value in data.items() if value not in ("", [], None)}


def json_for_script(data) -> SafeString:
    """JSON safe inside a <script> element: nothing in it can close the element."""
    text = json.dumps(data, ensure_ascii=False)
    return mark_safe(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # noqa: S308
