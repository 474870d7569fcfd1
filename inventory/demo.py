"""Demo stock for the demo dealership: a dozen vehicles with valid VINs and drawn photos."""

import io
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from .models import Vehicle, VehicleStatus
from .services.photos import photos_upload
from .services.vehicles import vehicle_create, vehicle_price_set, vehicle_transition
from .vin import vin_check_digit

# stock, VIN start (8), year code, condition, model, trim, body, exterior, interior, km, price, days, photos
DEMO_STOCK = [
    ("M2601", "2T3W1RFV", "T", "new", "RAV4", "XLE Hybrid", "SUV", "Blueprint", "Black", 12, "41990", 9, 2),
    ("M2602", "2HGFE2F5", "S", "new", "Civic", "Sport", "Sedan", "Rallye Red", "Black", 8, "31450", 21, 2),
    (
        "M2603",
        "1FTFW1E5",
        "N",
        "used",
        "F-150",
        "XLT",
        "Pickup",
        "Oxford White",
        "Grey",
        61200,
        "38995",
        48,
        2,
    ),
    (
        "M2604",
        "KM8JBCD1",
        "T",
        "new",
        "Tucson",
        "Preferred",
        "SUV",
        "Amazon Grey",
        "Black",
        15,
        "36499",
        3,
        2,
    ),
    (
        "M2605",
        "5XYP3DGC",
        "P",
        "used",
        "Telluride",
        "SX",
        "SUV",
        "Gravity Grey",
        "Tan",
        48900,
        "44900",
        95,
        2,
    ),
    ("M2606", "JM3KFBCM", "R", "used", "CX-5", "GS", "SUV", "Soul Red", "Black", 31500, "28750", 33, 2),
    (
        "M2607",
        "JF2SKAJC",
        "P",
        "used",
        "Forester",
        "Touring",
        "SUV",
        "Crystal White",
        "Grey",
        54000,
        "26995",
        120,
        1,
    ),
    (
        "M2608",
        "5N1BT3BB",
        "S",
        "used",
        "Rogue",
        "SV",
        "SUV",
        "Gun Metallic",
        "Charcoal",
        22100,
        "30990",
        14,
        2,
    ),
    (
        "M2609",
        "3VW5M7BU",
        "R",
        "used",
        "Jetta",
        "Highline",
        "Sedan",
        "Pure White",
        "Titan Black",
        40200,
        "23495",
        61,
        0,
    ),
    (
        "M2610",
        "1C4RJKBG",
        "T",
        "new",
        "Grand Cherokee",
        "Limited",
        "SUV",
        "Diamond Black",
        "Black",
        25,
        "62995",
        0,
        0,
    ),
    (
        "M2611",
        "1GCUDDED",
        "R",
        "used",
        "Silverado 1500",
        "LT",
        "Pickup",
        "Summit White",
        "Jet Black",
        38700,
        "47500",
        40,
        2,
    ),
    (
        "M2612",
        "1C6SRFFT",
        "S",
        "used",
        "1500",
        "Big Horn",
        "Pickup",
        "Billet Silver",
        "Diesel Grey",
        29800,
        "45995",
        70,
        2,
    ),
]
_COLOURS = ["#1f4e79", "#a4161a", "#e9ecef", "#6c757d", "#343a40", "#9d0208", "#f8f9fa", "#495057"]


def demo_vin(start: str, year_code: str, serial: int) -> str:
    body = f"{start}0{year_code}A{serial:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def demo_photo(*, label: str, colour: str, angle: int) -> bytes:
    """A drawn car on a sky-to-lot gradient: enough to see the photo pipeline at work."""
    width, height = 1200, 900
    image = Image.new("RGB", (width, height), "#cfe2ff")
    draw = ImageDraw.Draw(image)
    for y in range(height // 2, height):
        shade = 170 - (y - height // 2) // 6
        draw.line([(0, y), (width, y)], fill=(shade, shade, shade))
    left = 180 + angle * 60
    draw.rounded_rectangle([left, 420, left + 760, 620], radius=40, fill=colour, outline="#212529", width=6)
    draw.rounded_rectangle(
        [left + 170, 300, left + 560, 440], radius=40, fill=colour, outline="#212529", width=6
    )
    draw.rectangle([left + 200, 325, left + 530, 420], fill="#adb5bd")
    for wheel in (left + 150, left + 610):
        draw.ellipse([wheel - 75, 545, wheel + 75, 695], fill="#212529")
        draw.ellipse([wheel - 35, 585, wheel + 35, 655], fill="#ced4da")
    draw.text((40, 40), label, fill="#212529", font_size=48)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def demo_stock_ensure() -> int:
    """Create the demo vehicles not there yet (make and year come from the VIN); returns how many."""
    created = 0
    today = timezone.localdate()
    for serial, row in enumerate(DEMO_STOCK, start=1):
        stock, start, year_code, condition, model, trim, body, ext, interior, km, price, days, photos = row
        if Vehicle.objects.filter(stock_number=stock).exists():
            continue
        vehicle = vehicle_create(
            vin=demo_vin(start, year_code, 100 + serial),
            stock_number=stock,
            condition=condition,
            model=model,
            trim=trim,
            body_style=body,
            exterior_colour=ext,
            interior_colour=interior,
            odometer_km=km,
            price=Decimal(price) + 1000 if days > 30 else Decimal(price),
            status=VehicleStatus.ON_ORDER if days == 0 else VehicleStatus.IN_STOCK,
            in_stock_on=today - timedelta(days=days) if days else None,
        )
        if days > 30:  # an older unit got a price drop
            vehicle_price_set(vehicle=vehicle, price=Decimal(price))
        files = [
            SimpleUploadedFile(
                f"{stock}-{n}.jpg",
                demo_photo(
                    label=f"{vehicle.title} · {stock}", colour=_COLOURS[serial % len(_COLOURS)], angle=n
                ),
                content_type="image/jpeg",
            )
            for n in range(photos)
        ]
        if files:
            photos_upload(vehicle=vehicle, files=files, process_now=True)
        if stock == "M2607":  # sold but still on the website: the freshness report shows it
            vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
        created += 1
    return created
