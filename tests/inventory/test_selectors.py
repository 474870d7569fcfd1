from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import PhotoStatus, Vehicle, VehicleStatus
from inventory.selectors import (
    FEED_SINCE_OVERLAP,
    freshness_report,
    photo_coverage,
    vehicle_changes_since,
    vehicle_list,
    vehicles_find,
)
from inventory.services.photos import photos_upload
from inventory.services.vehicles import vehicle_price_set, vehicle_transition, vehicle_update
from tests import factories
from tests.inventory import images

pytestmark = pytest.mark.django_db


def _stock(vehicles):
    return sorted(vehicle.stock_number for vehicle in vehicles)


def _with_photo(vehicle):
    photos_upload(vehicle=vehicle, files=[images.upload("a.png", images.encoded("PNG"))], process_now=True)
    return vehicle


@pytest.fixture
def lot():
    today = timezone.localdate()
    vehicles = {
        "rav4": _with_photo(
            factories.vehicle(stock_number="N1", condition="new", make="Toyota", model="RAV4")
        ),
        "civic": factories.vehicle(
            stock_number="U1",
            condition="used",
            make="Honda",
            model="Civic",
            in_stock_on=today - timedelta(days=95),
        ),
        "f150": factories.vehicle(
            stock_number="U2", make="Ford", model="F-150", status=VehicleStatus.ON_ORDER
        ),
    }
    factories.vehicle_history_age()
    return vehicles


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["N1", "U1", "U2"]),
        ({"condition": "new"}, ["N1"]),
        ({"make": "honda"}, ["U1"]),
        ({"model": "F-150"}, ["U2"]),
        ({"status": "on_order"}, ["U2"]),
        ({"photos": "missing"}, ["U1", "U2"]),
        ({"days": "90"}, ["U1"]),
        ({"q": "toyota rav4"}, ["N1"]),
        ({"q": "civic"}, ["U1"]),
        ({"q": "u2"}, ["U2"]),
        ({"days": "many"}, ["N1", "U1", "U2"]),
    ],
)
def test_list_filters_and_search(lot, filters, expected):
    assert _stock(vehicle_list(filters=filters)) == expected


def test_search_by_vin_or_part_of_it(lot):
    vin = lot["civic"].vin
    assert _stock(vehicle_list(filters={"q": vin.lower()})) == ["U1"]
    assert _stock(vehicle_list(filters={"q": vin[-6:]})) == ["U1"]


def test_list_page_costs_the_same_queries_for_10_or_40_vehicles():
    def queries_for_page():
        with CaptureQueriesContext(connection) as captured:
            for vehicle in vehicle_list()[:50]:
                _ = (vehicle.photo_count, vehicle.main_photos, vehicle.days_in_stock)
        return len(captured.captured_queries)

    for _ in range(10):
        _with_photo(factories.vehicle())
    ten = queries_for_page()
    for _ in range(30):
        _with_photo(factories.vehicle())
    assert queries_for_page() == ten == 2
    first = vehicle_list()[0]
    assert first.photo_count == 1 and len(first.main_photos) == 1


def test_vehicles_find_by_vin_or_stock_number(lot):
    civic = lot["civic"]
    found = vehicles_find(
        [
            (civic.vin.lower(), ""),
            ("", " u1 "),
            ("1HGCM82633A004352", "N1"),
            ("1HGCM82633A004352", ""),
            ("", ""),
        ]
    )
    assert found == [civic, civic, lot["rav4"], None, None]


def test_vehicles_find_answers_each_pair_in_order_with_their_photos(lot, django_assert_num_queries):
    rav4, civic = lot["rav4"], lot["civic"]
    wanted = [
        (civic.vin, ""),
        ("", " n1 "),
        ("1HGCM82633A004352", ""),
        (rav4.vin, civic.stock_number),
        ("", ""),
    ]
    with django_assert_num_queries(2):  # the vehicles, then their photos
        found = vehicles_find(wanted)
    # A VIN that matches wins over the stock number of another vehicle.
    assert found == [civic, rav4, None, rav4, None]
    with django_assert_num_queries(0):
        assert len(found[1].photo_urls()) == 1 and found[0].photo_urls() == []


def test_changes_since_reports_new_price_changed_sold_and_removed(lot):
    since = timezone.now()
    rav4, civic, f150 = lot["rav4"], lot["civic"], lot["f150"]
    vehicle_transition(vehicle=f150, to_status=VehicleStatus.IN_STOCK)  # arrives: new on the website
    vehicle_price_set(vehicle=rav4, price=27999)
    vehicle_transition(vehicle=civic, to_status=VehicleStatus.SOLD)
    factories.vehicle(stock_number="N2")
    hidden = factories.vehicle(stock_number="N3")
    vehicle_update(vehicle=Vehicle.objects.get(pk=hidden.pk), published=False)
    changes = {item.vehicle.stock_number: item.change for item in vehicle_changes_since(since=since)}
    # N3 appeared then was hidden within the window: "removed", in case the website picked it up.
    assert changes == {"U2": "new", "N1": "price_changed", "U1": "sold", "N2": "new", "N3": "removed"}
    # Changes are answered again while they are within the overlap before `since`, never after.
    assert vehicle_changes_since(since=timezone.now()) != []
    assert vehicle_changes_since(since=timezone.now() + FEED_SINCE_OVERLAP) == []


def test_changes_since_reports_new_photos_and_edits_of_a_listed_vehicle(lot):
    rav4 = lot["rav4"]
    since = timezone.now()
    photos_upload(vehicle=rav4, files=[images.upload("a.jpg", images.phone_jpeg())], process_now=True)
    [change] = vehicle_changes_since(since=since)
    assert (change.change, change.vehicle.stock_number) == ("updated", rav4.stock_number)
    since = timezone.now()
    vehicle_update(vehicle=Vehicle.objects.get(pk=rav4.pk), description="Winter tires included")
    assert [item.change for item in vehicle_changes_since(since=since)] == ["updated"]


def test_a_photo_that_fails_changes_nothing_the_website_shows(lot):
    rav4 = lot["rav4"]
    since = timezone.now()
    photos_upload(vehicle=rav4, files=[images.upload("cut.jpg", images.truncated_jpeg())], process_now=True)
    assert rav4.photos.order_by("-pk").first().status == PhotoStatus.FAILED  # taken, processed, and failed
    assert vehicle_changes_since(since=since) == []


def test_freshness_report(lot):
    rav4, civic = lot["rav4"], lot["civic"]
    sold = factories.vehicle(stock_number="S9")
    vehicle_transition(vehicle=sold, to_status=VehicleStatus.SOLD)
    Vehicle.objects.filter(pk=civic.pk).update(price_changed_at=timezone.now() - timedelta(days=45))
    report = freshness_report(min_photos=1, price_days=30)
    assert _stock(report.few_photos) == ["U1"]
    assert _stock(report.sold_published) == ["S9"]
    assert _stock(report.stale_prices) == ["U1"]
    assert [v.stock_number for v in report.longest_in_stock][0] == "U1"
    assert rav4.stock_number not in _stock(report.stale_prices)


def test_photo_coverage_counts_vehicles_in_stock_with_a_ready_photo(lot):
    # RAV4 and Civic are in stock, one with a photo; the F-150 on order does not count.
    assert photo_coverage() == 50.0
    _with_photo(lot["civic"])
    assert photo_coverage() == 100.0
