from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from leads.models import Customer, InboundMail, InboundOutcome, Lead
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def debug(settings):
    """`make run`'s development settings: DEBUG is on unless set off."""
    settings.DEBUG = True


@pytest.fixture
def demo_mailbox(settings, tmp_path):
    settings.MAILBOX_URLS = [f"maildir://{tmp_path}"]
    return tmp_path


def test_with_debug_off_the_demo_is_refused_and_nothing_is_made(demo_mailbox, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off.*setup_store.*--force") as refused:
        call_command("seed_demo", stdout=StringIO())
    assert refused.value.returncode == 1  # manage.py exits with it
    assert not get_user_model().objects.exists() and not Lead.objects.exists()
    assert not list(demo_mailbox.glob("new/*"))


def test_with_debug_off_the_demo_loads_when_forced(demo_mailbox, settings):
    settings.DEBUG = False
    call_command("seed_demo", force=True, stdout=StringIO())
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    assert Lead.objects.exists()


def test_demo_data_loads_once_and_every_demo_lead_names_its_vehicle_in_the_inbox(demo_mailbox):
    call_command("seed_demo", leads=30, stdout=StringIO())
    leads = Lead.objects.count()
    assert leads >= 30
    assert not Lead.objects.filter(vehicle_wanted="").exists()
    assert Lead.objects.filter(vehicle_wanted__regex=r"^\d{4} \w").count() == leads
    assert not Lead.objects.filter(vehicles__isnull=True).exists()
    call_command("seed_demo", leads=30, stdout=StringIO())
    assert Lead.objects.count() == leads


def test_the_demo_reads_like_a_store_french_customers_write_in_french_and_one_waits_for_an_answer(
    demo_mailbox,
):
    call_command("seed_demo", stdout=StringIO())
    assert not Customer.objects.filter(first_name__startswith="Customer").exists()
    olivier = Lead.objects.get(customer__email="olivier.cote@example.com")
    assert olivier.language == "fr" and olivier.messages.get().body_text.startswith("Bonjour")
    noah = Lead.objects.get(customer__email="noah.williams@example.com")
    assert noah.first_response_at is not None and noah.customer_waiting_since is not None


def test_the_local_mailbox_gets_the_demo_mail_once_and_the_worker_routes_it(demo_mailbox):
    call_command("seed_demo", stdout=StringIO())
    new = sorted((demo_mailbox / "new").iterdir())
    assert len(new) == 4
    for path in new:
        factories.inbound_mail(path.read_bytes())
        path.rename(demo_mailbox / "cur" / f"{path.name}:2,S")  # read, as the worker leaves it
    call_command("seed_demo", stdout=StringIO())  # run again: nothing is delivered twice
    assert not list((demo_mailbox / "new").iterdir())
    outcomes = sorted(InboundMail.objects.values_list("outcome", flat=True))
    assert outcomes == sorted(
        [InboundOutcome.NEW_LEAD, InboundOutcome.NEW_LEAD, InboundOutcome.FORWARDED, InboundOutcome.AUTO_REPLY]
    )
