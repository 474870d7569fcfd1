"""The admin site, an administrator's landing page, speaks French to one who reads French: the store's
apps, records, columns and fields are named in French, not only Django's own words."""

import html
import re

import pytest
from django.urls import reverse

from dealership.models import Role
from tests import factories
from tests.french import FRENCH, page_text

pytestmark = pytest.mark.django_db

# The English names of the store's apps, records, columns and fields that the pages below show, and
# whose French differs (words like "Source" or "Promotion" are the same in both).
ENGLISH_NAMES = [
    # Apps
    "Dealership",
    "Leads and customers",
    "Inventory",
    # Records, as the index and the lists name them
    "Departments",
    "Staff members",
    "Staff member",
    "Customers",
    "Customer",
    "Leads",
    "Lead",
    "Vehicles of leads",
    "Lead timeline entries",
    "Consent records",
    "Audit entries",
    "Customer merges",
    "Customer history items",
    "Loyalty rules",
    "Tasks",
    "Households and companies",
    "Working hours",
    "Appointments",
    "Stock vehicles",
    "Stock vehicle",
    "Vehicle photos",
    "Price changes",
    "Stock vehicle timeline entries",
    # Columns, filters and fields
    "Role",
    "Department",
    "Phone",
    "Job title",
    "Left the store",
    "First name",
    "Last name",
    "Inquiry type",
    "Received",
    "Owner",
    "Comments",
    "First answer",
    "Why it was closed",
    "Interest",
    "Make",
    "Trim",
    "Year",
    "Stock number",
    "Odometer (km)",
    "Price",
    "Published",
    "In stock since",
    "Exterior colour",
    "Body style",
    "Done by",
]


def _visible_text(page: str) -> str:
    """What the reader sees: the page without its scripts, styles and tags."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _english_names_in(page: str) -> list[str]:
    text = _visible_text(page)
    return [name for name in ENGLISH_NAMES if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I)]


def test_the_admin_names_the_stores_records_in_french(client):
    administrator = factories.staff(Role.ADMIN, first_name="Chantal", last_name="Gagnon")
    customer = factories.customer(first_name="Sylvie", last_name="Tremblay", email="sylvie@exemple.ca")
    lead = factories.lead(
        customer_obj=customer, vehicles=[{"year": 2025, "make": "Toyota", "model": "RAV4", "trim": "XLE"}]
    )
    vehicle = factories.vehicle(make="Toyota", model="RAV4")
    client.force_login(administrator.user)

    pages = {
        "index": reverse("admin:index"),
        "staff": reverse("admin:dealership_staffmember_changelist"),
        "staff member": reverse("admin:dealership_staffmember_change", args=[administrator.pk]),
        "leads": reverse("admin:leads_lead_changelist"),
        "lead": reverse("admin:leads_lead_change", args=[lead.pk]),
        "customers": reverse("admin:leads_customer_changelist"),
        "vehicles": reverse("admin:inventory_vehicle_changelist"),
        "vehicle": reverse("admin:inventory_vehicle_change", args=[vehicle.pk]),
    }
    english = {
        name: found
        for name, url in pages.items()
        if (found := _english_names_in(page_text(client, url, FRENCH)))
    }

    assert english == {}
    index = page_text(client, pages["index"], FRENCH)
    assert "Demandes et clients" in index and "Véhicules en stock" in index
