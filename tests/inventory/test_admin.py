"""The admin site's vehicle page changes a vehicle as the staff pages do, so nothing escapes the feeds."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from inventory.models import Vehicle, VehicleEvent
from inventory.selectors import vehicle_changes_since
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(factories.staff(Role.ADMIN).user)
    return client


def _admin_form(vehicle, **changes) -> dict:
    fields = ["vin", "stock_number", "condition", "year", "make", "model", "trim", "body_style",
              "exterior_colour", "interior_colour", "odometer_km", "description"]  # fmt: skip
    data = {name: "" if getattr(vehicle, name) is None else getattr(vehicle, name) for name in fields}
    data["published"] = "on" if vehicle.published else ""
    for prefix in ("photos", "price_changes", "events"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return {name: value for name, value in (data | changes).items() if value != ""}


def test_unpublishing_in_the_admin_takes_the_vehicle_off_the_feeds_and_records_who(admin_client):
    vehicle = factories.vehicle(make="Toyota", model="RAV4", published=True)
    before = timezone.now() - timedelta(seconds=1)
    response = admin_client.post(
        reverse("admin:inventory_vehicle_change", args=[vehicle.pk]),
        _admin_form(vehicle, published="", exterior_colour="Blue"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    vehicle.refresh_from_db()
    assert (vehicle.published, vehicle.exterior_colour) == (False, "Blue")
    assert [(change.change, change.vehicle.pk) for change in vehicle_changes_since(since=before)] == [
        ("removed", vehicle.pk)
    ]
    unlisted = VehicleEvent.objects.get(vehicle=vehicle, type="unlisted")
    assert unlisted.actor.username == response.wsgi_request.user.username
    assert VehicleEvent.objects.get(vehicle=vehicle, type="updated").params["fields"] == [
        "exterior_colour",
        "published",
    ]


def test_the_admin_refuses_a_mistyped_vin_with_the_reason_and_adds_no_vehicle(admin_client):
    vehicle = factories.vehicle()
    response = admin_client.post(
        reverse("admin:inventory_vehicle_change", args=[vehicle.pk]),
        _admin_form(vehicle, vin="1HGCM82633AOO4352"),
    )
    assert response.status_code == 200
    assert "never contains the letters I, O or Q" in response.content.decode()
    assert admin_client.get(reverse("admin:inventory_vehicle_add")).status_code == 403


def test_the_admin_cannot_delete_a_vehicle_so_the_feeds_keep_telling_listing_sites(admin_client):
    vehicle = factories.vehicle()
    change_page = admin_client.get(
        reverse("admin:inventory_vehicle_change", args=[vehicle.pk])
    ).content.decode()
    assert reverse("admin:inventory_vehicle_delete", args=[vehicle.pk]) not in change_page
    delete = admin_client.post(reverse("admin:inventory_vehicle_delete", args=[vehicle.pk]), {"post": "yes"})
    assert delete.status_code == 403
    admin_client.post(
        reverse("admin:inventory_vehicle_changelist"),
        {"action": "delete_selected", "_selected_action": [vehicle.pk], "post": "yes"},
    )
    assert Vehicle.objects.filter(pk=vehicle.pk).exists()
