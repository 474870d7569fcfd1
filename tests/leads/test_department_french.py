"""Department staff's pages (the mail forwarded to their department, their tasks) in French for a
browser that asks for it; English otherwise, as before."""

from datetime import date

import pytest
from django.urls import reverse

from dealership.models import Role
from leads.models import LoyaltyKind, Task
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db


def test_department_mail_in_french_for_a_french_browser_in_english_otherwise(client):
    factories.department("service")
    factories.inbound_mail(
        factories.raw_mail(
            subject="Oil change", body="I need an oil change, can I book a service appointment?"
        )
    )
    member = factories.staff(Role.DEPARTMENT, department_code="service")
    client.force_login(member.user)
    url = reverse("leads:department_mail")
    page = page_text(client, url, FRENCH)
    for text in (
        "<title>Courriels du service",
        "Courriels transférés à votre service",
        "<th>Reçu</th><th>De</th><th>Objet</th><th>Service</th><th>Transféré à</th>",
        "Voir l’original",
        "Oil change",  # what the customer wrote stays as written
    ):
        assert text in page, text
    for english in ("Mail forwarded to your department", "Forwarded to", "View original"):
        assert english not in page, english
    for headers in (ENGLISH, {}):
        page = page_text(client, url, headers)
        assert "Mail forwarded to your department" in page and "<th>Forwarded to</th>" in page
        assert "Courriels transférés" not in page


def test_no_department_mail_yet_in_french(client):
    member = factories.staff(Role.DEPARTMENT, department_code="parts")
    client.force_login(member.user)
    page = page_text(client, reverse("leads:department_mail"), FRENCH)
    assert "Aucun courriel n’a encore été transféré à votre service." in page


def test_my_tasks_in_french_for_a_french_browser_in_english_otherwise(client):
    customer = factories.customer(first_name="Josée", last_name="Tremblay", email="josee@example.test")
    service = factories.staff(Role.DEPARTMENT, department_code="service")
    task = Task.objects.create(
        assignee=service.user, customer=customer, kind=LoyaltyKind.HIGH_MILEAGE, title="Book the oil change",
        due_on=date(2026, 12, 15), moment_key="service:test",
    )  # fmt: skip
    client.force_login(service.user)
    url = reverse("leads:my_tasks")
    page = page_text(client, url, FRENCH)
    for text in (
        "<title>Mes tâches",
        '<h1 class="h3">Mes tâches</h1>',
        f"Josée Tremblay{NBSP}: Book the oil change · échéance le 15 décembre 2026",
        ">Fait</button>",
    ):
        assert text in page, text
    assert "due " not in page and ">Done</button>" not in page
    english = page_text(client, url, ENGLISH)
    assert (
        '<h1 class="h3">My tasks</h1>' in english and ": Book the oil change · due Dec. 15, 2026" in english
    )

    response = client.post(reverse("leads:task_done", args=[task.pk]), headers=FRENCH, follow=True)
    page = response.content.decode()
    assert f"Fait{NBSP}: Book the oil change" in page  # the flash message
    assert "Rien à faire." in page and "Faites récemment" in page
    english = page_text(client, url, ENGLISH)
    assert "Nothing to do." in english and "Recently done" in english
