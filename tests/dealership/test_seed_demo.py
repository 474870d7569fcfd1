from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from dealership.management.commands.seed_demo import DEMO_CUSTOMERS
from dealership.models import PeriodKind, Role
from dealership.selectors import dashboard_figures, dashboard_filters, period_for, response_target
from leads.models import Appointment, Customer, InboundMail, InboundOutcome, Lead, LeadStatus
from leads.models.leads import FUNNEL_MILESTONES
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


# The funnel's stages a lead has passed at each status, when the staff took it there.
STAGES_PASSED = {
    LeadStatus.NEW: [],
    LeadStatus.CONTACTED: [LeadStatus.CONTACTED],
    LeadStatus.LOST: [LeadStatus.CONTACTED],
    LeadStatus.APPOINTMENT_SET: [LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_SET],
    LeadStatus.SHOWN: [LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_SET, LeadStatus.SHOWN],
    LeadStatus.SOLD: [LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_SET, LeadStatus.SHOWN, LeadStatus.SOLD],
}
MILESTONE_OF = dict(FUNNEL_MILESTONES)
FUNNEL = ["leads", *(str(stage) for stage, _ in FUNNEL_MILESTONES)]


def test_each_demo_lead_got_to_its_status_as_the_staff_would_have_taken_it_there(demo_mailbox, client):
    call_command("seed_demo", stdout=StringIO())
    demo = list(
        Lead.objects.filter(customer__email__in=[customer[2] for customer in DEMO_CUSTOMERS]).select_related(
            "owner__staff"
        )
    )
    assert sorted(lead.status for lead in demo) == sorted(STAGES_PASSED)
    now = timezone.now()
    for lead in demo:
        if lead.status == LeadStatus.NEW:
            assert lead.first_response_at is None and lead.owner is None
            continue
        assert lead.first_response_at is not None and lead.owner.staff.role == Role.ADVISOR
        assert all(getattr(lead, MILESTONE_OF[stage]) for stage in STAGES_PASSED[lead.status])
        appointments = list(lead.appointments.all())
        if lead.status == LeadStatus.APPOINTMENT_SET:
            [booked] = appointments
            assert booked.status == Appointment.Status.BOOKED and booked.starts_at > now
        if lead.status in (LeadStatus.SHOWN, LeadStatus.SOLD):
            [visit] = appointments
            assert visit.status == lead.status and lead.received_at < visit.starts_at < now
        if lead.status == LeadStatus.SOLD:
            assert lead.sold_by == lead.owner
        if lead.status == LeadStatus.LOST:
            assert lead.lost_reason
    booked = Appointment.objects.get(lead__in=demo, status=Appointment.Status.BOOKED)
    client.force_login(booked.advisor.user)
    assert str(booked.lead.customer) in client.get(reverse("leads:my_appointments")).content.decode()

    # The dashboard counts them where they came in: this month's, but for the first hours of a month.
    Lead.objects.exclude(pk__in=[lead.pk for lead in demo]).delete()  # the earlier months' leads aside
    expected: dict = {}
    for lead in demo:
        period = period_for(kind=PeriodKind.MONTH, anchor=timezone.localdate(lead.received_at))
        expected.setdefault(period, Counter()).update(["leads", *STAGES_PASSED[lead.status]])
    supervisor = get_user_model().objects.get(username="supervisor")
    for period, counts in expected.items():
        figures = dashboard_figures(
            user=supervisor, period=period, filters=dashboard_filters(), target=response_target(minutes=30)
        )
        shown = {stage: figures["overall"][stage] for stage in FUNNEL}
        assert shown == {stage: counts[stage] for stage in FUNNEL}
