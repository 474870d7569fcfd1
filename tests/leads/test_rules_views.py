import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dealership.models import Department, Role
from leads.models import Customer, Lead, Message, RoutingRule
from tests import factories

pytestmark = pytest.mark.django_db

RULE_FORM = {
    "name": "Fleet desk",
    "active": "on",
    "order": "5",
    "subject_contains": "fleet, flotte",
    "kind": "forward",
    "department": "finance",
}


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.MANAGER, Role.ADMIN])
def test_rule_pages_and_nav_link_for_supervisors_managers_and_admins(client, role):
    client.force_login(factories.staff(role).user)
    page = client.get(reverse("leads:rule_list"))
    assert page.status_code == 200
    assert 'href="/leads/rules/"' in page.content.decode() and "Mail rules" in page.content.decode()


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.DEPARTMENT])
def test_advisors_and_department_staff_cannot_see_or_change_rules(client, role):
    member = factories.staff(role, department_code="service" if role == Role.DEPARTMENT else "sales")
    client.force_login(member.user)
    assert "Mail rules" not in client.get(reverse("dealership:directory")).content.decode()
    assert client.get(reverse("leads:rule_list")).status_code == 403
    assert client.post(reverse("leads:rule_create"), RULE_FORM).status_code == 403
    assert client.get(reverse("leads:rule_test")).status_code == 403
    assert not RoutingRule.objects.exists()


def test_supervisor_creates_edits_and_deletes_a_rule(supervisor_client):
    response = supervisor_client.post(reverse("leads:rule_create"), RULE_FORM)
    assert response.status_code == 302 and response["Location"] == reverse("leads:rule_list")
    rule = RoutingRule.objects.get()
    assert (rule.name, rule.order, rule.kind, rule.department, rule.active) == (
        "Fleet desk",
        5,
        "forward",
        "finance",
        True,
    )
    listing = supervisor_client.get(reverse("leads:rule_list")).content.decode()
    assert "Fleet desk" in listing and "subject contains fleet, flotte" in listing

    edit_url = reverse("leads:rule_edit", args=[rule.pk])
    assert "Fleet desk" in supervisor_client.get(edit_url).content.decode()
    supervisor_client.post(edit_url, {**RULE_FORM, "order": "1", "active": ""})
    rule.refresh_from_db()
    assert (rule.order, rule.active) == (1, False)

    assert supervisor_client.get(reverse("leads:rule_delete", args=[rule.pk])).status_code == 405
    supervisor_client.post(reverse("leads:rule_delete", args=[rule.pk]))
    assert not RoutingRule.objects.exists()


def test_list_shows_rules_in_their_order(supervisor_client):
    RoutingRule.objects.create(name="Second", order=20, sender_contains="b")
    RoutingRule.objects.create(name="First", order=10, sender_contains="a")
    page = supervisor_client.get(reverse("leads:rule_list")).content.decode()
    assert page.index("First") < page.index("Second")


def test_rule_without_conditions_or_with_a_bad_regex_is_refused_with_a_clear_error(supervisor_client):
    page = supervisor_client.post(
        reverse("leads:rule_create"), {**RULE_FORM, "subject_contains": ""}
    ).content.decode()
    assert "Give at least one condition" in page
    page = supervisor_client.post(
        reverse("leads:rule_create"), {**RULE_FORM, "sender_regex": "(unclosed"}
    ).content.decode()
    assert "Not a valid regular expression" in page
    page = supervisor_client.post(
        reverse("leads:rule_create"), {**RULE_FORM, "kind": "bounce", "department": "parts"}
    ).content.decode()
    assert "go to no department" in page
    assert not RoutingRule.objects.exists()


def test_test_page_triages_a_pasted_message_without_storing_anything(supervisor_client):
    RoutingRule.objects.create(
        name="Fleet desk", subject_contains="fleet", kind="forward", department="finance"
    )
    raw = factories.mail(subject="Fleet inquiry", text="We need 10 vans.").decode()
    page = supervisor_client.post(reverse("leads:rule_test"), {"raw": raw}).content.decode()
    assert 'id="triage-kind">Forward to a department<' in page
    assert 'id="triage-department">Finance<' in page
    assert 'id="triage-rule">rule “Fleet desk”<' in page
    assert not (Customer.objects.exists() or Lead.objects.exists() or Message.objects.exists())


def test_test_page_accepts_an_uploaded_eml_file(supervisor_client):
    upload = SimpleUploadedFile("lead.eml", factories.sample_mail("autotrader_adf.eml"), "message/rfc822")
    page = supervisor_client.post(reverse("leads:rule_test"), {"eml": upload}).content.decode()
    assert 'id="triage-kind">New lead<' in page and 'id="triage-rule">ADF lead data<' in page
    assert "Jean Tremblay" in page and "jean.tremblay@example.com" in page and "+15145550199" in page
    assert "2022 Ford F-150 XLT" in page and "AutoTrader.ca" in page


def test_test_page_with_nothing_to_triage_says_so(supervisor_client):
    page = supervisor_client.post(reverse("leads:rule_test"), {"raw": "  "}).content.decode()
    assert "Paste a message or choose an .eml file." in page
    assert "triage-result" not in page


def test_test_page_escapes_what_the_message_says(supervisor_client):
    raw = factories.mail(
        sender="<script>x</script> <evil@example.com>", subject="<img src=x onerror=alert(1)>"
    )
    page = supervisor_client.post(reverse("leads:rule_test"), {"raw": raw.decode()}).content.decode()
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_test_page_knows_a_partner_departments_mail_as_the_mail_in_does(supervisor_client):
    # A partner body shop off the store's domain: its estimate mentions a price, yet it is the
    # department's mail, as routing treats it, never a customer's inquiry.
    factories.department("body_shop")
    Department.objects.filter(code="body_shop").update(forward_email="Claims@Partner-Collision.example")
    raw = factories.mail(
        sender="Claims <claims@partner-collision.example>",
        subject="Estimate ready",
        text="The estimate for the insurance claim is ready, what is your price on the parts?",
    ).decode()
    page = supervisor_client.post(reverse("leads:rule_test"), {"raw": raw}).content.decode()
    assert 'id="triage-kind">Automatic reply (ignored)<' in page
