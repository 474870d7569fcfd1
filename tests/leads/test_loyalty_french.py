"""A loyalty task's title reads in the reader's language on My tasks and the customer card; tasks
made before titles were translated still read as they were written, or in French once understood."""

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from dealership.models import Role
from leads.models import HistoryKind, Lead, LeadEvent, LoyaltyKind, Task
from leads.services.customers import history_item_add
from leads.services.leads import lead_transition
from leads.services.loyalty import loyalty_tasks_create
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, flash_text, page_text

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 1)
noon = factories.noon


@pytest.fixture
def supervisor(db):
    for code in ("finance", "service"):
        factories.staff(Role.DEPARTMENT, department_code=code)
    return factories.staff(Role.SUPERVISOR)


@pytest.fixture
def grace(supervisor):
    """A customer with every kind of loyalty moment due around TODAY, all of them the supervisor's."""
    customer = factories.customer(first_name="Grace", last_name="Lee")
    factories.financed_rav4_2023(customer)
    history_item_add(
        customer=customer, kind=HistoryKind.LEASE, occurred_at=noon(date(2025, 12, 1)),
        summary="Lease", vehicle="2025 Honda CR-V",
    )  # fmt: skip
    history_item_add(
        customer=customer, kind=HistoryKind.SERVICE_VISIT, occurred_at=noon(date(2026, 11, 20)),
        summary="Brakes", vehicle="2015 Honda Civic", vin="2HGFB2F50FH000001", odometer_km=182_000,
    )  # fmt: skip
    lost = factories.lead(customer_obj=customer, received_at=noon(date(2026, 8, 1)))
    lead_transition(lead=lost, to_status="lost", actor=None, reason="Bought elsewhere")
    LeadEvent.objects.filter(lead=lost).update(created_at=noon(TODAY - timedelta(days=95)))
    assert len(loyalty_tasks_create(today=TODAY)) == 6
    Task.objects.update(assignee=supervisor.user)
    return customer


FRENCH_TITLES = [
    f"3e anniversaire d’achat{NBSP}: 2023 Toyota RAV4",
    f"1er anniversaire de location{NBSP}: 2025 Honda CR-V",
    f"Fin du financement le 2027-02-15{NBSP}: 2023 Toyota RAV4",
    f"Fin de la garantie le 2027-01-20{NBSP}: 2023 Toyota RAV4",
    f"2015 Honda Civic à 182{NBSP}000 km{NBSP}: proposer une évaluation d’échange",
    f"Demande perdue du 2026-08-01 (Bought elsewhere){NBSP}: à relancer",
]
ENGLISH_TITLES = [
    "3-year anniversary of the 2023 Toyota RAV4 purchase",
    "1-year anniversary of the 2025 Honda CR-V lease",
    "Financing term ends 2027-02-15: 2023 Toyota RAV4",
    "Warranty ends 2027-01-20: 2023 Toyota RAV4",
    "182,000 km on 2015 Honda Civic: offer a trade-in appraisal",
    "Lost lead from 2026-08-01 (Bought elsewhere): worth another try",
]
ENGLISH_WORDS = ["anniversary", "ends", "trade-in", "worth another try"]


def _pages(client, supervisor, url) -> tuple[str, str]:
    client.force_login(supervisor.user)
    return page_text(client, url, FRENCH), page_text(client, url, ENGLISH)


def _titles_in_the_readers_language(french: str, english: str) -> None:
    for title in FRENCH_TITLES:
        assert title in french, title
    for word in ENGLISH_WORDS:
        assert word not in french, word
    for title in ENGLISH_TITLES:
        assert title in english, title


def test_my_tasks_shows_loyalty_titles_in_the_readers_language(client, supervisor, grace):
    french, english = _pages(client, supervisor, reverse("leads:my_tasks"))
    _titles_in_the_readers_language(french, english)
    assert "anniversaire" not in english and "relancer" not in english


def test_the_customer_card_shows_loyalty_titles_in_the_readers_language(client, supervisor, grace):
    _titles_in_the_readers_language(
        *_pages(client, supervisor, reverse("leads:customer_detail", args=[grace.pk]))
    )


def test_a_done_task_reads_in_french_too(client, supervisor, grace):
    task = Task.objects.get(kind=LoyaltyKind.LOST_LEAD_REVIVAL)
    client.force_login(supervisor.user)
    done = client.post(reverse("leads:task_done", args=[task.pk]), headers=FRENCH, follow=True)
    assert flash_text(done).endswith(f"Demande perdue du 2026-08-01 (Bought elsewhere){NBSP}: à relancer")
    french = page_text(client, reverse("leads:my_tasks"), FRENCH)
    assert f"Grace Lee{NBSP}: Demande perdue du 2026-08-01 (Bought elsewhere){NBSP}: à relancer (" in french


def test_the_stored_title_stays_in_english_for_exports_and_the_admin(grace):
    Task.objects.all().delete()
    with translation.override("fr"):  # a worker or a page running in French makes them
        loyalty_tasks_create(today=TODAY)
    assert sorted(Task.objects.values_list("title", flat=True)) == sorted(ENGLISH_TITLES)


def test_titles_without_a_vehicle_or_a_reason_read_well(supervisor):
    customer = factories.customer(first_name="Ana", last_name="Roy")
    history_item_add(
        customer=customer, kind=HistoryKind.SERVICE_VISIT, occurred_at=noon(date(2026, 11, 25)),
        summary="Oil change", odometer_km=250_000,
    )  # fmt: skip
    history_item_add(
        customer=customer, kind=HistoryKind.PURCHASE, occurred_at=noon(date(2024, 12, 3)),
        summary="Achat d’occasion",
    )  # fmt: skip
    lost = factories.lead(customer_obj=customer, received_at=noon(date(2026, 8, 2)))
    lead_transition(lead=lost, to_status="lost", actor=None, reason="Other")
    Lead.objects.filter(pk=lost.pk).update(lost_reason="")  # from before a reason was asked for
    LeadEvent.objects.filter(lead=lost).update(created_at=noon(TODAY - timedelta(days=95)))
    by_kind = {task.kind: task for task in loyalty_tasks_create(today=TODAY)}
    mileage = by_kind[LoyaltyKind.HIGH_MILEAGE]
    anniversary = by_kind[LoyaltyKind.PURCHASE_ANNIVERSARY]
    revival = by_kind[LoyaltyKind.LOST_LEAD_REVIVAL]
    assert mileage.title == "250,000 km on their vehicle: offer a trade-in appraisal"
    assert anniversary.title == "2-year anniversary of Achat d’occasion"
    assert revival.title == "Lost lead from 2026-08-02: worth another try"
    with translation.override("fr"):
        assert (
            mileage.display_title
            == f"Son véhicule à 250{NBSP}000 km{NBSP}: proposer une évaluation d’échange"
        )
        assert anniversary.display_title == f"2e anniversaire{NBSP}: Achat d’occasion"
        assert revival.display_title == f"Demande perdue du 2026-08-02{NBSP}: à relancer"


def _old_task(customer, assignee, title, kind=LoyaltyKind.LOST_LEAD_REVIVAL, key="old") -> Task:
    """A task as it was made before titles were translated: an English title and no params."""
    return Task.objects.create(
        customer=customer, assignee=assignee, kind=kind, moment_key=key, title=title, due_on=TODAY
    )


def test_a_task_made_before_the_change_still_shows_its_title(client, supervisor):
    customer = factories.customer(first_name="Luc", last_name="Gagnon")
    _old_task(customer, supervisor.user, "Call about the winter tires", kind=LoyaltyKind.HIGH_MILEAGE)
    french, english = _pages(client, supervisor, reverse("leads:my_tasks"))
    assert f"Luc Gagnon</a>{NBSP}: Call about the winter tires · échéance le" in french
    assert "Call about the winter tires · due" in english
    card, _ = _pages(client, supervisor, reverse("leads:customer_detail", args=[customer.pk]))
    assert "Call about the winter tires · échéance le" in card


def test_existing_titles_are_understood_and_then_read_in_french(client, supervisor):
    customer = factories.customer(first_name="Luc", last_name="Gagnon")
    item = history_item_add(
        customer=customer, kind=HistoryKind.PURCHASE, occurred_at=noon(date(2023, 12, 10)),
        summary="2023 Toyota RAV4 purchase", vehicle="2023 Toyota RAV4",
    )  # fmt: skip
    old = {
        "3-year anniversary of 2023 Toyota RAV4 purchase": (
            LoyaltyKind.PURCHASE_ANNIVERSARY,
            f"{item.pk}:2026",
        ),
        "Lease term ends 2027-02-15: 2022 Kia Soul": (LoyaltyKind.TERM_ENDING, "t"),
        "Term ends 2027-02-16: Civic": (LoyaltyKind.TERM_ENDING, "t2"),
        "Warranty ends 2027-01-20: Civic": (LoyaltyKind.WARRANTY_ENDING, "w"),
        "1,182,000 km on their vehicle: offer a trade-in appraisal": (LoyaltyKind.HIGH_MILEAGE, "m"),
        "Lost lead from 2026-08-01 (Price (too high)): worth another try": (
            LoyaltyKind.LOST_LEAD_REVIVAL,
            "l",
        ),
        "Lost lead from 2026-08-01 (": (LoyaltyKind.LOST_LEAD_REVIVAL, "cut"),
    }
    for title, (kind, key) in old.items():
        _old_task(customer, supervisor.user, title, kind=kind, key=key)

    migration = importlib.import_module("leads.migrations.0023_task_title_params")
    migration.fill_params(apps, None)

    assert Task.objects.get(moment_key="cut").params == {}
    assert Task.objects.get(moment_key="m").params == {"km": 1_182_000, "vehicle": ""}
    french, english = _pages(client, supervisor, reverse("leads:my_tasks"))
    for title in (
        f"3e anniversaire d’achat{NBSP}: 2023 Toyota RAV4",
        f"Fin de la location le 2027-02-15{NBSP}: 2022 Kia Soul",
        f"Fin du terme le 2027-02-16{NBSP}: Civic",
        f"Fin de la garantie le 2027-01-20{NBSP}: Civic",
        f"Son véhicule à 1{NBSP}182{NBSP}000 km{NBSP}: proposer une évaluation d’échange",
        f"Demande perdue du 2026-08-01 (Price (too high)){NBSP}: à relancer",
        "Lost lead from 2026-08-01 (",  # cut short: shown as it was written
    ):
        assert title in french, title
    for title in list(old)[1:6]:
        assert title in english, title
    assert "3-year anniversary of the 2023 Toyota RAV4 purchase" in english
