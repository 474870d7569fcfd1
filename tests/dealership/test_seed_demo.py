from io import StringIO

import pytest
from django.core.management import call_command

from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_demo_data_loads_once_and_every_demo_lead_names_its_vehicle_in_the_inbox():
    call_command("seed_demo", leads=30, stdout=StringIO())
    leads = Lead.objects.count()
    assert leads >= 30
    assert not Lead.objects.filter(vehicle_wanted="").exists()
    assert Lead.objects.filter(vehicle_wanted__regex=r"^\d{4} \w").count() == leads
    assert not Lead.objects.filter(vehicles__isnull=True).exists()
    call_command("seed_demo", leads=30, stdout=StringIO())
    assert Lead.objects.count() == leads
