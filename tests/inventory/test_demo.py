import pytest

from inventory.demo import DEMO_STOCK, demo_stock_ensure
from inventory.models import PhotoStatus, Vehicle
from inventory.selectors import vehicle_public_list
from inventory.vin import vin_validate

pytestmark = pytest.mark.django_db


def test_demo_stock_is_valid_has_processed_photos_and_is_made_once():
    assert demo_stock_ensure() == len(DEMO_STOCK)
    assert demo_stock_ensure() == 0
    vehicles = list(Vehicle.objects.all())
    assert len(vehicles) == len(DEMO_STOCK)
    for vehicle in vehicles:
        assert vin_validate(vehicle.vin) == vehicle.vin
        assert vehicle.make and vehicle.year  # decoded from the VIN
    listed = vehicle_public_list()
    assert listed.count() >= 9
    assert all(photo.status == PhotoStatus.READY for v in listed for photo in v.photos.all())
    assert sum(v.photos.count() for v in vehicles) >= 18
