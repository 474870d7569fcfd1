from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dealership.csv_upload import MAX_BYTES
from inventory.models import PhotoStatus, Vehicle, VehiclePhoto, VehicleStatus
from inventory.services.imports import vehicles_import_csv
from inventory.services.photos import (
    PhotoError,
    photo_delete,
    photo_make_main,
    photo_move,
    photo_process,
    photos_reorder,
    photos_upload,
)
from inventory.services.vehicles import (
    TransitionError,
    vehicle_create,
    vehicle_price_set,
    vehicle_transition,
    vehicle_update,
)
from inventory.tasks import photo_process_task
from tests import factories
from tests.inventory import images

pytestmark = pytest.mark.django_db


# Vehicles --------------------------------------------------------------------------------------


def test_make_and_year_fill_themselves_in_from_the_vin_only_when_blank():
    decoded = vehicle_create(vin="1HGCM82633A004352", stock_number="H1", model="Accord")
    assert (decoded.make, decoded.year) == ("Honda", 2003)
    typed = vehicle_create(vin=factories.vin(), stock_number="T1", make="Toyota Canada", year=2025)
    assert (typed.make, typed.year) == ("Toyota Canada", 2025)


def test_a_mistyped_vin_is_refused_with_its_reason():
    with pytest.raises(ValidationError, match="check digit"):
        vehicle_create(vin="1HGCM82633A004353", stock_number="H2")
    assert not Vehicle.objects.exists()


def test_stock_number_and_vin_are_unique():
    vehicle = factories.vehicle()
    with pytest.raises(ValidationError):
        vehicle_create(vin=factories.vin(), stock_number=vehicle.stock_number)
    with pytest.raises(ValidationError):
        vehicle_create(vin=vehicle.vin, stock_number="OTHER")


def test_status_machine_records_each_change_with_dates(supervisor):
    user = supervisor.user
    vehicle = factories.vehicle(status=VehicleStatus.ON_ORDER)
    assert vehicle.in_stock_on is None and vehicle.days_in_stock is None
    arrived = timezone.localdate() - timedelta(days=40)
    vehicle = vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.IN_STOCK, actor=user, on=arrived)
    assert vehicle.in_stock_on == arrived and vehicle.days_in_stock == 40
    vehicle = vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.ON_HOLD, actor=user)
    vehicle = vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD, actor=user)
    assert vehicle.sold_on == timezone.localdate() and vehicle.days_in_stock == 40
    with pytest.raises(TransitionError, match="sold cannot become on hold"):
        vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.ON_HOLD, actor=user)
    events = list(vehicle.events.filter(type="status_changed").values_list("actor", "params"))
    assert [params["to_status"] for _actor, params in events] == ["in_stock", "on_hold", "sold"]
    assert {actor for actor, _params in events} == {user.pk}
    assert events[0][1]["on"] == arrived.isoformat()


def test_a_status_change_cannot_be_dated_in_the_future_nor_a_sale_before_the_arrival():
    vehicle = factories.vehicle(status=VehicleStatus.ON_ORDER)
    today = timezone.localdate()
    with pytest.raises(TransitionError, match="has not come yet"):
        vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.IN_STOCK, on=today + timedelta(days=20))
    vehicle.refresh_from_db()
    assert (vehicle.status, vehicle.in_stock_on) == (VehicleStatus.ON_ORDER, None)
    vehicle = vehicle_transition(
        vehicle=vehicle, to_status=VehicleStatus.IN_STOCK, on=today - timedelta(days=10)
    )
    with pytest.raises(TransitionError, match="would be before the vehicle arrived in stock"):
        vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD, on=today - timedelta(days=11))
    vehicle.refresh_from_db()
    assert (vehicle.status, vehicle.sold_on, vehicle.days_in_stock) == (VehicleStatus.IN_STOCK, None, 10)
    vehicle = vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD, on=today - timedelta(days=10))
    assert vehicle.days_in_stock == 0  # sold the day it arrived


def test_on_order_cannot_be_sold_before_arriving():
    vehicle = factories.vehicle(status=VehicleStatus.ON_ORDER)
    with pytest.raises(TransitionError):
        vehicle_transition(vehicle=vehicle, to_status=VehicleStatus.SOLD)
    vehicle.refresh_from_db()
    assert vehicle.status == VehicleStatus.ON_ORDER


def test_every_price_change_is_kept_with_who_and_when(supervisor):
    vehicle = factories.vehicle(price="30000")
    vehicle_price_set(vehicle=vehicle, price=Decimal("28500"), actor=supervisor.user)
    vehicle_price_set(vehicle=vehicle, price=Decimal("28500"), actor=supervisor.user)  # no change
    history = list(vehicle.price_changes.order_by("changed_at", "pk"))
    assert [(h.old_price, h.new_price) for h in history] == [
        (None, Decimal("30000")),
        (Decimal("30000"), Decimal("28500")),
    ]
    assert history[-1].changed_by == supervisor.user
    assert vehicle.price_changed_at == history[-1].changed_at


def test_update_records_the_fields_that_changed():
    vehicle = factories.vehicle(trim="LE")
    vehicle_update(vehicle=vehicle, trim="XLE", odometer_km=12000)
    assert vehicle.events.get(type="updated").params == {"fields": ["odometer_km", "trim"]}


def test_update_with_a_price_keeps_it_in_the_price_history(supervisor):
    vehicle = factories.vehicle(price="30000", trim="LE")
    vehicle_update(vehicle=vehicle, trim="XLE", price=Decimal("28500"), actor=supervisor.user)
    vehicle_update(vehicle=vehicle, trim="SE")  # no price given: the price stays
    vehicle.refresh_from_db()
    assert (vehicle.trim, vehicle.price) == ("SE", Decimal("28500"))
    assert [c.new_price for c in vehicle.price_changes.order_by("pk")] == [30000, 28500]
    vehicle_update(vehicle=vehicle, price=None)
    vehicle.refresh_from_db()
    assert vehicle.price is None and vehicle.price_changes.count() == 3


# Photos ----------------------------------------------------------------------------------------


def _web_files(photo):
    return [photo.web_path(size, ext) for size in ("large", "medium", "thumb") for ext in ("webp", "jpg")]


def test_upload_keeps_the_original_privately_and_queues_one_task_per_photo(
    supervisor, django_capture_on_commit_callbacks
):
    vehicle = factories.vehicle()
    with django_capture_on_commit_callbacks() as callbacks:
        result = photos_upload(
            vehicle=vehicle,
            files=[
                images.upload("a.jpg", images.phone_jpeg()),
                images.upload("b.png", images.encoded("PNG")),
            ],
            actor=supervisor.user,
        )
    assert len(callbacks) == 2 and not result.rejected
    for photo in result.accepted:
        assert photo.status == PhotoStatus.UPLOADED
        original = Path(settings.PRIVATE_MEDIA_ROOT) / f"inventory/originals/{vehicle.pk}/{photo.key}"
        assert original.exists()
        assert not str(original).startswith(str(settings.MEDIA_ROOT))
    # The task processes the photo it names; run again, it changes nothing.
    assert photo_process_task.run(result.accepted[0].pk) == "ready"
    assert photo_process_task.run(result.accepted[0].pk) == "ready"


def test_processing_makes_every_web_size_without_metadata():
    vehicle = factories.vehicle()
    photo = photos_upload(
        vehicle=vehicle, files=[images.upload("a.jpg", images.phone_jpeg())], process_now=True
    ).accepted[0]
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.READY
    assert photo.sizes == {"large": [200, 400], "medium": [200, 400], "thumb": [160, 320]}
    for path in _web_files(photo):
        with default_storage.open(path) as web:
            data = web.read()
        assert b"GPS" not in data and images.SECRET_COMMENT not in data
    steps = [e.params["to_status"] for e in vehicle.events.filter(type="photo_status")]
    assert steps == ["processing", "ready"]


def test_bad_files_are_refused_at_upload_with_a_reason_and_good_ones_kept():
    vehicle = factories.vehicle()
    result = photos_upload(
        vehicle=vehicle,
        files=[
            images.upload("brochure.jpg", images.PDF),
            images.upload("bomb.png", images.png_header_only(100_000, 100_000), "image/png"),
            images.upload("ok.webp", images.encoded("WEBP"), "image/webp"),
        ],
    )
    assert [photo.original_name for photo in result.accepted] == ["ok.webp"]
    reasons = dict(result.rejected)
    assert "not a photo we can read" in reasons["brochure.jpg"]
    assert "too large" in reasons["bomb.png"]


def test_truncated_photo_fails_with_a_reason_and_nothing_published():
    vehicle = factories.vehicle()
    photo = photos_upload(
        vehicle=vehicle, files=[images.upload("cut.jpg", images.truncated_jpeg())]
    ).accepted[0]
    photo = photo_process(photo=photo)
    assert photo.status == PhotoStatus.FAILED
    assert "damaged" in photo.failure_reason
    assert not any(default_storage.exists(path) for path in _web_files(photo))
    # A failed photo may be tried again (e.g. after a worker was lost); it fails the same way.
    assert photo_process(photo=photo).status == PhotoStatus.FAILED


def test_a_photo_that_cannot_be_prepared_for_any_reason_says_so_instead_of_processing_for_ever(monkeypatch):
    vehicle = factories.vehicle()
    photo = photos_upload(vehicle=vehicle, files=[images.upload("a.png", images.encoded("PNG"))]).accepted[0]

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(default_storage, "save", disk_full)
    photo = photo_process(photo=photo)
    assert photo.status == PhotoStatus.FAILED
    assert photo.failure_reason == "This photo could not be prepared; send it again."
    monkeypatch.undo()
    assert photo_process(photo=photo).status == PhotoStatus.READY  # tried again once the disk has room


def test_a_photo_deleted_while_it_was_prepared_leaves_no_file_on_the_website(
    monkeypatch, django_capture_on_commit_callbacks
):
    from inventory.services import photos as photo_service

    vehicle = factories.vehicle()
    photo = photos_upload(vehicle=vehicle, files=[images.upload("a.png", images.encoded("PNG"))]).accepted[0]
    render = photo_service.web_images_render

    def deleted_meanwhile(original):
        rendered = render(original)
        with django_capture_on_commit_callbacks(execute=True):
            photo_delete(photo=vehicle.photos.get())
        return rendered

    monkeypatch.setattr(photo_service, "web_images_render", deleted_meanwhile)
    with django_capture_on_commit_callbacks(execute=True):
        photo_process(photo=photo)
    assert not vehicle.photos.exists()
    assert not any(default_storage.exists(path) for path in _web_files(photo))


def test_photos_whose_task_was_lost_are_queued_again_or_fail_saying_so(django_capture_on_commit_callbacks):
    from inventory.services.photos import photos_stuck_sweep

    vehicle = factories.vehicle()
    never_started, stopped, recent = photos_upload(
        vehicle=vehicle, files=[images.upload(f"{n}.png", images.shot(n)) for n in range(3)]
    ).accepted
    VehiclePhoto.objects.filter(pk=stopped.pk).update(status=PhotoStatus.PROCESSING)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    VehiclePhoto.objects.filter(pk__in=[never_started.pk, stopped.pk]).update(updated_at=an_hour_ago)
    with django_capture_on_commit_callbacks() as queued:
        assert photos_stuck_sweep(now=timezone.now()) == {"queued": 1, "failed": 1}
    assert len(queued) == 1
    statuses = dict(vehicle.photos.values_list("pk", "status"))
    assert statuses == {never_started.pk: "uploaded", stopped.pk: "failed", recent.pk: "uploaded"}
    assert (
        vehicle.photos.get(pk=stopped.pk).failure_reason == "This photo could not be prepared; send it again."
    )
    # The photo queued again twice is prepared once; the second run changes nothing.
    assert photo_process(photo=never_started).status == PhotoStatus.READY
    assert photo_process(photo=never_started).status == PhotoStatus.READY


def test_an_empty_file_is_refused_by_its_name_and_the_others_are_kept():
    vehicle = factories.vehicle()
    result = photos_upload(
        vehicle=vehicle,
        files=[images.upload("IMG_1.jpg", images.phone_jpeg()), images.upload("IMG_2.jpg", b"")],
    )
    assert [photo.original_name for photo in result.accepted] == ["IMG_1.jpg"]
    assert result.rejected == [("IMG_2.jpg", "This file is empty: send the photo again.")]


def test_more_files_than_allowed_are_refused_as_a_whole(settings):
    settings.INVENTORY_PHOTOS_PER_UPLOAD = 3
    vehicle = factories.vehicle()
    files = [images.upload(f"{n}.png", images.shot(n), "image/png") for n in range(4)]
    with pytest.raises(PhotoError, match="You sent 4 photos; up to 3 can be sent at once"):
        photos_upload(vehicle=vehicle, files=files)
    assert not vehicle.photos.exists()


def _three_photos():
    vehicle = factories.vehicle()
    files = [images.upload(f"{n}.png", images.shot(n), "image/png") for n in range(3)]
    return vehicle, photos_upload(vehicle=vehicle, files=files).accepted


def _order(vehicle):
    return [photo.original_name for photo in vehicle.photos.all()]


def test_reorder_move_and_main_photo():
    vehicle, (a, b, c) = _three_photos()
    photos_reorder(vehicle=vehicle, photo_ids=[c.pk, a.pk, b.pk])
    assert _order(vehicle) == ["2.png", "0.png", "1.png"]
    photo_move(photo=b, offset=-1)
    assert _order(vehicle) == ["2.png", "1.png", "0.png"]
    photo_move(photo=c, offset=-1)  # already first: stays
    assert _order(vehicle) == ["2.png", "1.png", "0.png"]
    photo_make_main(photo=a)
    assert _order(vehicle) == ["0.png", "2.png", "1.png"]


def test_reorder_refuses_photos_of_another_vehicle():
    vehicle, photos = _three_photos()
    _other_vehicle, other_photos = _three_photos()
    with pytest.raises(PhotoError):
        photos_reorder(vehicle=vehicle, photo_ids=[other_photos[0].pk, photos[0].pk])
    assert _order(vehicle) == ["0.png", "1.png", "2.png"]


def test_delete_removes_the_photo_and_its_files(django_capture_on_commit_callbacks):
    vehicle = factories.vehicle()
    photo = photos_upload(
        vehicle=vehicle, files=[images.upload("a.png", images.encoded("PNG"))], process_now=True
    ).accepted[0]
    assert default_storage.exists(photo.web_path("large", "webp"))
    with django_capture_on_commit_callbacks(execute=True):
        photo_delete(photo=photo)
    assert not vehicle.photos.exists()
    assert not default_storage.exists(photo.web_path("large", "webp"))


# CSV import ------------------------------------------------------------------------------------

HEADER = "Stock #,VIN,New/Used,Year,Make,Model,Trim,Ext Color,Odometer,Price,Status\n"


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def test_dry_run_previews_without_writing():
    content = _csv(f'A100,{factories.vin()},N,2026,Toyota,RAV4,XLE,Blue,12,"$41,990",In stock')
    report = vehicles_import_csv(content=content, dry_run=True)
    assert report.created == ["A100"] and not report.errors and not report.applied
    assert not Vehicle.objects.exists()
    report = vehicles_import_csv(content=content, dry_run=False)
    assert report.applied
    vehicle = Vehicle.objects.get(stock_number="A100")
    assert (vehicle.condition, vehicle.price, vehicle.odometer_km) == ("new", Decimal("41990.00"), 12)


def test_bad_rows_are_reported_by_line_and_nothing_is_half_imported():
    content = _csv(
        f"B1,{factories.vin()},U,2022,Honda,Civic,LX,Red,45000,19995,",
        "B2,1HGCM82633A004353,U,2003,Honda,Accord,,,,9000,",  # check digit
        f"B3,{factories.vin()},U,twenty,Ford,F-150,,,,35000,",  # year
        f"B1,{factories.vin()},U,2021,Kia,Soul,,,,15000,",  # duplicate stock number
    )
    report = vehicles_import_csv(content=content, dry_run=False)
    lines = dict(report.errors)
    assert sorted(lines) == [3, 4, 5]
    assert "check digit" in lines[3]
    assert "Year" in lines[4] or "year" in lines[4]
    assert "already on line 2" in lines[5]
    assert not Vehicle.objects.exists()


def test_bad_rows_are_named_by_the_line_they_start_on_when_descriptions_span_lines():
    content = (
        "Stock #,VIN,Year,Make,Description\n"
        f'F1,{factories.vin()},2022,Mazda,"One owner.\nWinter tires.\nNo accident."\n'
        f"F1,{factories.vin()},2021,Kia,\n"
        f'F2,{factories.vin()},twenty,Ford,"Tow package.\nNew brakes."\n'
    ).encode()
    report = vehicles_import_csv(content=content, dry_run=True)
    lines = dict(report.errors)
    assert sorted(lines) == [5, 6]
    assert "already on line 2" in lines[5]
    assert "ear" in lines[6]


def test_a_vin_belongs_to_one_stock_number_as_the_rows_leave_them():
    stored = factories.vehicle(stock_number="G1")
    new_vin, freed_vin = factories.vin(), stored.vin
    content = _csv(
        f"G2,{new_vin},U,,,,,,,,",
        f"G3,{new_vin},U,,,,,,,,",  # the VIN the line before gave G2
        f"G1,{factories.vin()},U,,,,,,,,",  # G1 takes another VIN ...
        f"G4,{freed_vin},U,,,,,,,,",  # ... so its old one is free
    )
    report = vehicles_import_csv(content=content, dry_run=True)
    assert report.errors == [(3, f"VIN {new_vin} is already stock number G2.")]
    assert report.created == ["G2", "G4"] and report.updated == ["G1"]


def test_import_reads_the_stored_vehicles_once_whatever_the_number_of_rows():
    def reads(count: int) -> int:
        vehicles = [factories.vehicle() for _ in range(count)]
        content = _csv(*(f"{v.stock_number},{v.vin},U,,,RAV4,,,,29995,In stock" for v in vehicles))
        with CaptureQueriesContext(connection) as queries:
            report = vehicles_import_csv(content=content, dry_run=False)
        assert report.unchanged == [v.stock_number for v in vehicles]
        return sum(query["sql"].startswith("SELECT") for query in queries.captured_queries)

    assert reads(2) == reads(6)


def test_import_updates_by_stock_number_with_price_history_and_status():
    vehicle = factories.vehicle(stock_number="C1", price="20000", trim="LE")
    content = _csv(f"C1,{vehicle.vin},U,,,,,Silver,,18500,Sold")
    report = vehicles_import_csv(content=content, dry_run=False)
    assert report.updated == ["C1"]
    vehicle.refresh_from_db()
    assert (vehicle.price, vehicle.status, vehicle.exterior_colour, vehicle.trim) == (
        Decimal("18500.00"),
        VehicleStatus.SOLD,
        "Silver",
        "LE",  # a blank cell leaves the value alone
    )
    assert vehicle.price_changes.count() == 2
    again = vehicles_import_csv(content=content, dry_run=False)
    assert again.unchanged == ["C1"]


def test_a_status_the_machine_refuses_fails_the_whole_import():
    factories.vehicle(stock_number="D1", status=VehicleStatus.ON_ORDER)
    content = _csv(f"D2,{factories.vin()},N,,,,,,,30000,", "D1,,N,,,,,,,,Sold")
    report = vehicles_import_csv(content=content, dry_run=False)
    assert [line for line, _ in report.errors] == [3]
    content = _csv(f"D2,{factories.vin()},N,,,,,,,30000,", f"D1,{Vehicle.objects.get().vin},N,,,,,,,,Sold")
    report = vehicles_import_csv(content=content, dry_run=False)
    assert [line for line, _ in report.errors] == [3] and "on order cannot become sold" in report.errors[0][1]
    assert not Vehicle.objects.filter(stock_number="D2").exists()


def test_a_file_without_the_needed_columns_is_explained():
    report = vehicles_import_csv(content=b"name,colour\nx,y\n", dry_run=True)
    assert report.errors and "stock number and a VIN" in report.errors[0][1]


@pytest.mark.parametrize(
    "content, refusal",
    [
        (b"Stock,VIN\n" + b"x" * MAX_BYTES, "The file is larger than 20 MB."),
        (b"Stock,VIN\n", "The file holds no vehicles."),
    ],
)
def test_a_refusal_of_the_whole_file_names_no_line(content, refusal):
    """Said of the file, not of its first line: the person would look for a fault there."""
    assert vehicles_import_csv(content=content, dry_run=True).errors == [(None, refusal)]


def test_semicolon_and_windows_encoded_exports_are_read():
    content = f"Stock;VIN;Make;Model;Price\nE1;{factories.vin()};Toyota;Corolla;21 990\n".encode("cp1252")
    content = content.replace(b"Corolla", "Corolla Édition".encode("cp1252"))
    report = vehicles_import_csv(content=content, dry_run=False)
    assert report.created == ["E1"]
    vehicle = Vehicle.objects.get()
    assert (vehicle.model, vehicle.condition) == ("Corolla Édition", "used")  # used unless said new


@pytest.mark.parametrize(
    ("cell", "price"),
    [
        ("29 995,50", "29995.50"),  # a French export: the comma is the decimal sign
        ("24995,00 $", "24995.00"),
        ("1 234,5", "1234.50"),
        ('"$31,250"', "31250.00"),  # an English one: the comma groups thousands
        ('"31,250.00"', "31250.00"),
        ('"29.995,50"', "29995.50"),
    ],
)
def test_prices_are_read_with_their_decimal_comma_or_their_thousands_commas(cell, price):
    content = f"Stock;VIN;Price\nH1;{factories.vin()};{cell}\n".encode()
    report = vehicles_import_csv(content=content, dry_run=False)
    assert report.created == ["H1"], report.errors
    assert Vehicle.objects.get().price == Decimal(price)


@pytest.mark.parametrize("cell", ["29.995", "29,99,5", "about 20k"])
def test_a_price_that_reads_two_ways_is_refused_by_its_line(cell):
    content = f"Stock;VIN;Price\nH2;{factories.vin()};{cell}\n".encode()
    report = vehicles_import_csv(content=content, dry_run=False)
    assert [line for line, _ in report.errors] == [2] and "rice" in report.errors[0][1]
    assert not Vehicle.objects.exists()


@pytest.mark.parametrize(
    ("cell", "km"), [("45.000", 45000), ("45 000", 45000), ('"45,000 km"', 45000), ("61.200 KM", 61200)]
)
def test_kilometres_are_read_with_their_thousands_grouped_by_a_space_comma_or_dot(cell, km):
    content = f"Stock;VIN;Odometer\nK1;{factories.vin()};{cell}\n".encode()
    report = vehicles_import_csv(content=content, dry_run=False)
    assert report.created == ["K1"], report.errors
    assert Vehicle.objects.get().odometer_km == km


@pytest.mark.parametrize("cell", ["45 000,5", "61.0", "61,5 km"])
def test_kilometres_with_decimals_are_refused_by_their_line(cell):
    content = f"Stock;VIN;Odometer\nK2;{factories.vin()};{cell}\n".encode()
    report = vehicles_import_csv(content=content, dry_run=False)
    assert report.errors == [
        (
            2,
            "Odometer (km): Enter whole kilometres, e.g. 61200 or 61 200; a comma or dot may only group thousands.",
        )
    ]
    assert not Vehicle.objects.exists()


def test_a_quebec_export_in_french_with_a_trailing_delimiter_is_read():
    vin = factories.vin(601)
    content = (
        "No de stock;NIV;Année;Marque;Modèle;Kilométrage;Prix;Statut;Neuf/Usagé;\n"
        f"B2;{vin};2022;Toyota;RAV4;45\u00a0000 km;29 995,00 $;En inventaire;Usagé;\n"
    ).encode("cp1252")
    report = vehicles_import_csv(content=content, dry_run=False)
    assert not report.errors and report.created == ["B2"]
    vehicle = Vehicle.objects.get(stock_number="B2")
    assert (vehicle.vin, vehicle.year, vehicle.model, vehicle.odometer_km) == (vin, 2022, "RAV4", 45000)
    assert (str(vehicle.price), vehicle.status, vehicle.condition) == ("29995.00", "in_stock", "used")
