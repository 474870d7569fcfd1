"""The dashboard's days and hours are the store's, in a time zone offset by half an hour too."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from dealership.models import Role
from tests import factories

pytestmark = pytest.mark.django_db

ST_JOHNS = ZoneInfo("America/St_Johns")  # Newfoundland: UTC−3:30 in November


@pytest.fixture
def newfoundland_store(settings):
    settings.TIME_ZONE = "America/St_Johns"
    # Ten past midnight on the first of the month, and ten to midnight the day before.
    factories.lead(source="Website", received_at=datetime(2026, 11, 1, 0, 10, tzinfo=ST_JOHNS))
    factories.lead(source="Website", received_at=datetime(2026, 10, 31, 23, 50, tzinfo=ST_JOHNS))
    # 9:10 and 9:40, the same local hour.
    factories.lead(source="Website", received_at=datetime(2026, 11, 10, 9, 10, tzinfo=ST_JOHNS))
    factories.lead(source="Website", received_at=datetime(2026, 11, 10, 9, 40, tzinfo=ST_JOHNS))


def _figures(client, month: str):
    client.force_login(factories.staff(Role.MANAGER).user)
    return client.get(reverse("dealership:dashboard"), {"period": "month", "date": month}).context


def test_a_lead_belongs_to_the_month_and_hour_it_was_received_in_store_time(client, newfoundland_store):
    november = _figures(client, "2026-11-15")
    assert november["overall"]["leads"] == 3
    by_hour = {row["slot"]: row["leads"] for row in november["by_hour"] if row["leads"]}
    assert by_hour == {0: 1, 9: 2}

    october = _figures(client, "2026-10-15")
    assert october["overall"]["leads"] == 1
    assert {row["slot"]: row["leads"] for row in october["by_hour"] if row["leads"]} == {23: 1}
