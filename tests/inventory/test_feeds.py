from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from inventory.feeds import CSV_FEED_COLUMNS, feed_since, vehicle_csv_row, vehicle_structured_data
from tests import factories


def absolute(path: str) -> str:
    return f"https://maplemotors.example{path}"


def test_since_reads_an_offset_that_arrived_as_a_space_and_a_time_without_zone_as_the_stores():
    assert feed_since("2026-11-30T09:00:00 05:00") == datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    with override_settings(TIME_ZONE="America/Toronto"):
        naive = feed_since("2026-11-30T09:00:00")
    assert naive == datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("America/Toronto"))
    assert feed_since("  ") is None
    with pytest.raises(ValueError):
        feed_since("last tuesday")


@pytest.mark.django_db
def test_a_vehicle_without_price_or_odometer_says_nothing_of_them_to_search_engines():
    vehicle = factories.vehicle(make="Toyota", year=2024, price=None)
    data = vehicle_structured_data(vehicle, [], absolute=absolute)
    assert data["brand"] == {"@type": "Brand", "name": "Toyota"} and data["vehicleModelDate"] == "2024"
    assert data["url"] == absolute(vehicle.get_absolute_url()) == data["offers"]["url"]
    assert "price" not in data["offers"] and "mileageFromOdometer" not in data and "image" not in data


@pytest.mark.django_db
def test_a_csv_row_has_every_column_and_blanks_for_what_is_unknown():
    vehicle = factories.vehicle(make="Kia", price="41995.00")
    vehicle.ready_photos = []
    row = dict(zip(CSV_FEED_COLUMNS, vehicle_csv_row(vehicle, absolute=absolute), strict=True))
    assert row["make"] == "Kia" and row["price"] == "41995.00"
    assert row["url"] == absolute(vehicle.get_absolute_url())
    assert row["main_photo"] == "" and row["photo_urls"] == ""
