"""A real store starts from an empty database: setup_store gives it its defaults and nothing else."""

from email.message import EmailMessage
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from dealership.models import Department, Role
from dealership.services import staff_create
from inventory.models import Vehicle
from leads.models import (
    Customer,
    FollowUpPlan,
    FollowUpStepRun,
    InboundOutcome,
    Lead,
    LoyaltyRule,
    ReplyTemplate,
    RoutingRule,
)
from leads.services.followup import followup_dispatch_due, followup_enroll_arrivals, followup_run_send
from promotions.models import Promotion
from tests import factories

pytestmark = pytest.mark.django_db

# What a store starts with: its departments, one group per role, a template of each inquiry type in
# each language, the plan for internet leads, and the routing and loyalty rules.
SHIPPED = {
    "Department": 5,
    "Group": 5,
    "ReplyTemplate": 10,
    "FollowUpPlan": 1,
    "RoutingRule": 5,
    "LoyaltyRule": 5,
}

DEFAULTS = (Department, Group, ReplyTemplate, FollowUpPlan, RoutingRule, LoyaltyRule)


def _setup_store(**options) -> str:
    out = StringIO()
    call_command("setup_store", stdout=out, **options)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DEFAULTS}


def test_a_fresh_store_gets_its_defaults_and_no_logins_or_demo_data():
    assert not any(_counts().values())  # what `migrate` leaves

    output = _setup_store(email_domain="store.test")

    assert _counts() == SHIPPED
    assert Department.objects.get(code="service").forward_email == "service@store.test"
    assert set(ReplyTemplate.objects.values_list("language", flat=True)) == {"en", "fr"}
    assert FollowUpPlan.objects.get().all_internet_leads
    for model in (get_user_model(), Customer, Lead, Vehicle, Promotion):
        assert not model.objects.exists(), model
    assert "Store defaults created: 5 departments, 5 role groups, 10 reply templates" in output
    assert "service@store.test" in output


def test_the_departments_forward_addresses_default_to_the_stores_sending_domain(settings):
    settings.DEFAULT_FROM_EMAIL = "Lakeshore Toyota <internet@lakeshoretoyota.ca>"
    _setup_store()
    assert Department.objects.get(code="parts").forward_email == "parts@lakeshoretoyota.ca"


def test_a_domain_that_is_not_one_is_refused_before_anything_is_made():
    with pytest.raises(CommandError, match="not a mail domain"):
        _setup_store(email_domain="store ca")
    assert not any(_counts().values())


def test_a_web_form_lead_gets_its_acknowledgement_and_a_service_request_reaches_the_service_department(
    client, django_capture_on_commit_callbacks
):
    _setup_store(email_domain="store.test")
    # The store's first person on staff, who signs the mail of leads nobody owns yet.
    staff_create(
        username="sophie", first_name="Sophie", last_name="Tremblay", email="sophie@store.test",
        role=Role.SUPERVISOR, department=Department.objects.get(code="sales"),
    )  # fmt: skip

    client.post(
        reverse("offers:index"),
        {"first_name": "Chloé", "email": "chloe@example.com", "language": "fr", "comments": "Un Tucson?"},
    )
    lead = Lead.objects.get()
    followup_enroll_arrivals(now=timezone.now())  # the beat's tick puts it in the plan
    acknowledgement = FollowUpStepRun.objects.get(enrollment__lead=lead, step__position=0)
    queued = []
    with django_capture_on_commit_callbacks(execute=True):
        followup_dispatch_due(now=acknowledgement.due_at, enqueue_send=queued.append)
    assert acknowledgement.pk in queued
    assert followup_run_send(run_id=acknowledgement.pk, now=acknowledgement.due_at) == "sent"
    [sent] = mail.outbox
    assert sent.to == ["chloe@example.com"] and sent.subject == "Votre demande chez Maple Motors"
    assert "Bonjour Chloé" in sent.body

    request = EmailMessage()
    request["From"], request["To"] = "Nathalie Roy <nathalie.roy@example.net>", "internet@maplemotors.example"
    request["Subject"] = "Rendez-vous pour un changement d'huile"
    request.set_content("Bonjour, j'aimerais un rendez-vous pour le changement d'huile de ma Corolla.\n")
    inbound = factories.inbound_mail(request.as_bytes())
    assert inbound.outcome == InboundOutcome.FORWARDED
    assert inbound.forward.to_address == "service@store.test"


def test_run_again_it_doubles_nothing_and_keeps_what_the_store_changed():
    _setup_store(email_domain="store.test")
    counts = _counts()
    template = ReplyTemplate.objects.get(inquiry_type="general", language="en")
    template.subject = "Thanks for writing to Lakeshore Toyota"
    template.save()
    Department.objects.filter(code="service").update(forward_email="rdv@lakeshoretoyota.ca")
    RoutingRule.objects.filter(name__startswith="Parts orders").delete()  # no parts counter here
    plan = FollowUpPlan.objects.get()
    plan.name = "Our plan"
    plan.save()
    LoyaltyRule.objects.filter(kind="high_mileage").update(enabled=False)

    output = _setup_store(email_domain="other.test")

    assert _counts() == {**counts, "RoutingRule": counts["RoutingRule"] - 1}
    assert ReplyTemplate.objects.get(pk=template.pk).subject == "Thanks for writing to Lakeshore Toyota"
    assert Department.objects.get(code="service").forward_email == "rdv@lakeshoretoyota.ca"
    assert Department.objects.get(code="parts").forward_email == "parts@store.test"
    assert not RoutingRule.objects.filter(name__startswith="Parts orders").exists()
    assert FollowUpPlan.objects.get().name == "Our plan"
    assert not LoyaltyRule.objects.get(kind="high_mileage").enabled
    assert "nothing was changed" in output


def test_run_again_it_brings_back_no_department_the_store_deleted():
    """A store without a body shop deletes it: a start-up running setup_store again must not make it
    again, with a forward address nobody reads."""
    _setup_store(email_domain="store.test")
    Department.objects.filter(code="body_shop").delete()

    output = _setup_store(email_domain="store.test")

    assert not Department.objects.filter(code="body_shop").exists()
    assert Department.objects.count() == 4 and "nothing was changed" in output


def test_run_again_each_role_group_gets_exactly_its_roles_permissions_back():
    _setup_store(email_domain="store.test")
    advisors = Group.objects.get(name="Sales advisor")
    advisors.permissions.add(Permission.objects.get(codename="delete_routingrule"))
    managers = Group.objects.get(name="Sales manager")
    managers.permissions.remove(Permission.objects.get(codename="approve_objective"))

    _setup_store(email_domain="store.test")

    assert not advisors.permissions.filter(codename="delete_routingrule").exists()
    assert managers.permissions.filter(codename="approve_objective").exists()


def test_a_french_store_gets_its_role_groups_under_the_same_names_as_an_english_one():
    with translation.override("fr"):  # setup_store with STORE_LANGUAGE=fr
        _setup_store(email_domain="store.test")
    with translation.override("en"):  # someone reading the admin in English gives a role
        staff_create(
            username="sophie", first_name="Sophie", last_name="Tremblay", email="sophie@store.test",
            role=Role.ADMIN, department=Department.objects.get(code="sales"),
        )  # fmt: skip
    assert sorted(Group.objects.values_list("name", flat=True)) == [
        "Administrator",
        "Department staff",
        "Internet sales supervisor",
        "Sales advisor",
        "Sales manager",
    ]


def test_the_demo_store_has_the_same_defaults(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"  # the demo's vehicle photos, kept out of other tests' way
    settings.MAILBOX_URLS = [f"maildir://{tmp_path}"]
    call_command("seed_demo", stdout=StringIO())
    demo = _counts()
    assert demo == SHIPPED
    assert "nothing was changed" in _setup_store()
    assert _counts() == demo
