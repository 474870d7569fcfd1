"""A next step logged with a day becomes a task, due that day, of whoever works the lead (its owner,
else whoever logged it): on their list, on the lead's page until done, in the timeline with its day,
following the lead when it changes hands, and never touched by the daily loyalty run."""

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation

from dealership.models import Role
from dealership.services import staff_remove
from leads.models import AuditEntry, LeadEvent, LoyaltyKind, Message, Task
from leads.models.loyalty import NEXT_STEP
from leads.services.leads import ContactLogError, contact_log, lead_assign, lead_merge
from leads.services.loyalty import loyalty_tasks_create, task_done
from tests import factories
from tests.french import ENGLISH, FRENCH, NBSP, page_text

pytestmark = pytest.mark.django_db
STEP = "Call back Thursday after 5"


@pytest.fixture
def emma_lead():
    return factories.lead(customer_obj=factories.customer(first_name="Emma", last_name="Johnson"))


def _log(client, lead, headers=None, **fields):
    data = {"channel": "phone", "outcome": "reached", "notes": "Wants the AWD trim", "next_step": STEP}
    return client.post(reverse("leads:lead_log", args=[lead.pk]), data | fields, headers=headers or {})


def _next_steps(page: str) -> str:
    """The lead page's list of the next steps promised and not done ("" when there is none)."""
    return page.split('id="next-steps"')[1].split("</ul>")[0] if 'id="next-steps"' in page else ""


# --- logging a next step with its day -------------------------------------------------------------


def test_a_next_step_given_a_day_is_one_task_for_whoever_logged_it_due_that_day(sophie, emma_lead):
    day = timezone.localdate() + timedelta(days=3)
    message = contact_log(
        lead=emma_lead, author=sophie, channel="phone", outcome="reached", next_step=f"  {STEP} ",
        next_step_on=day,
    )  # fmt: skip
    task = Task.objects.get()
    assert task.kind == NEXT_STEP and task.assignee == sophie and task.customer == emma_lead.customer
    assert task.due_on == day and task.done_at is None
    assert task.lead == emma_lead and task.params == {"step": STEP}
    assert task.title == task.display_title == f"Next step: {STEP}"
    assert task.moment_key == str(message.pk)
    assert task.get_kind_display() == "Next step"


def test_the_timeline_says_the_day_of_the_next_step(sophie, emma_lead):
    today = timezone.localdate()
    message = contact_log(
        lead=emma_lead, author=sophie, channel="note", notes="Asked about winter tires", next_step=STEP,
        next_step_on=today,
    )  # fmt: skip
    assert message.body_text == f"Asked about winter tires\n\nNext step on {today:%A, %B} {today.day}: {STEP}"
    # A day of another year says its year.
    later = date(today.year + 1, 1, 15)
    message = contact_log(lead=emma_lead, author=sophie, channel="visit", next_step=STEP, next_step_on=later)
    assert message.body_text == f"Next step on {later:%A}, January 15, {later.year}: {STEP}"
    # A next step without a day is words in the timeline, as before, and no task.
    message = contact_log(lead=emma_lead, author=sophie, channel="note", notes="Quote sent", next_step="Wait")
    assert message.body_text == "Quote sent\n\nNext step: Wait"
    assert Task.objects.count() == 2


@pytest.mark.parametrize(
    ("days_ahead", "step", "field", "error"),
    [
        (-1, STEP, "next_step_on", "Choose today or a later day."),
        (2, "  ", "next_step", "Say what the next step is."),
    ],
)
def test_a_day_past_or_a_day_without_words_is_refused_and_nothing_is_logged(
    sophie, emma_lead, days_ahead, step, field, error
):
    day = timezone.localdate() + timedelta(days=days_ahead)
    with pytest.raises(ContactLogError, match=error) as refused:
        contact_log(
            lead=emma_lead, author=sophie, channel="note", notes="Kept", next_step=step, next_step_on=day
        )
    assert refused.value.field == field
    assert not Message.objects.exists() and not Task.objects.exists()


def test_the_same_entry_sent_twice_makes_one_task_and_a_call_logged_again_later_makes_its_own(
    sophie, emma_lead
):
    day = timezone.localdate() + timedelta(days=1)
    call = {"lead": emma_lead, "author": sophie, "channel": "phone", "outcome": "voicemail"}
    call |= {"next_step": STEP, "next_step_on": day}
    first, again = contact_log(**call), contact_log(**call)  # a double click
    assert again == first and Task.objects.count() == 1
    # The entry's task is its own: no second task can be made for it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            kind=NEXT_STEP, moment_key=str(first.pk), customer=emma_lead.customer, due_on=day, title="Again"
        )
    Message.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    second = contact_log(**call)
    assert second != first
    assert sorted(Task.objects.values_list("moment_key", flat=True)) == sorted(
        [str(first.pk), str(second.pk)]
    )


# --- the lead page and My tasks ---------------------------------------------------------------------


def test_a_next_step_logged_with_a_day_is_on_my_tasks_with_its_lead_and_on_the_lead_page_until_done(
    sophie, sophie_client, emma_lead
):
    day = timezone.localdate() + timedelta(days=1)
    assert _log(sophie_client, emma_lead, next_step_on=day.isoformat()).status_code == 302
    task = Task.objects.get()
    assert task.assignee == sophie and task.due_on == day
    lead_url = reverse("leads:lead_detail", args=[emma_lead.pk])
    # Anyone opening the lead sees the promised call: what, when, who.
    listed = _next_steps(page_text(sophie_client, lead_url))
    assert f"{STEP} · due {formats.date_format(day)} · Sophie Tremblay" in listed
    mine = page_text(sophie_client, reverse("leads:my_tasks"))
    assert f"Next step: {STEP}" in mine and f'href="{lead_url}"' in mine
    assert sophie_client.post(reverse("leads:task_done", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None
    assert _next_steps(page_text(sophie_client, lead_url)) == ""
    assert f"Next step: {STEP}" in page_text(sophie_client, reverse("leads:my_tasks"))


def test_my_tasks_offers_the_customers_phone_to_tap_and_email_to_write(client):
    advisor = factories.advisor()
    lead = factories.lead(
        customer_obj=factories.customer(email="noah@example.com", phone="647 555 0133"), owner=advisor.user
    )
    contact_log(
        lead=lead, author=advisor.user, channel="visit", next_step=STEP,
        next_step_on=timezone.localdate() + timedelta(days=1),
    )  # fmt: skip
    client.force_login(advisor.user)
    mine = page_text(client, reverse("leads:my_tasks"))
    assert '<a href="tel:+16475550133">(647) 555-0133</a>' in mine
    assert '<a href="mailto:noah@example.com">noah@example.com</a>' in mine


def test_a_next_step_logged_by_htmx_joins_the_lead_pages_list_at_once(sophie_client, emma_lead):
    day = timezone.localdate()
    response = _log(sophie_client, emma_lead, {"HX-Request": "true"}, next_step_on=day.isoformat())
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert f"Next step on {day:%A, %B} {day.day}: {STEP}" in page  # the timeline
    assert f"{STEP} · due {formats.date_format(day)}" in _next_steps(page)
    # The form comes back empty for the next entry.
    assert 'value=""' in page.split('id="log-next-step-on"')[1].split(">")[0]


@pytest.mark.parametrize(
    ("day", "field", "error"),
    [
        ("yesterday", "next_step_on", "Choose today or a later day."),
        ("0001-01-01", "next_step_on", "Ensure this value is greater than or equal to 1900-01-01."),
        ("9999-12-31", "next_step_on", "Ensure this value is less than or equal to 9998-12-31."),
        ("not a day", "next_step_on", "Enter a valid date."),
        ("tomorrow without words", "next_step", "Say what the next step is."),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "htmx"])
def test_a_day_refused_is_said_on_its_field_with_what_was_typed_kept_and_nothing_logged(
    sophie_client, emma_lead, day, field, error, headers
):
    today = timezone.localdate()
    typed = {
        "yesterday": (today - timedelta(days=1)).isoformat(),
        "tomorrow without words": (today + timedelta(days=1)).isoformat(),
    }.get(day, day)
    step = "" if day == "tomorrow without words" else STEP
    response = _log(sophie_client, emma_lead, headers, next_step_on=typed, next_step=step)
    page = response.content.decode()
    assert response.status_code == (200 if headers else 400)
    errors = page.split(f'id="id_{field}_error"')[1].split("</ul>")[0]
    assert error in errors
    assert "Wants the AWD trim" in page and f'value="{typed}"' in page and f'value="{step}"' in page
    assert not Message.objects.exists() and not Task.objects.exists()


# --- the daily loyalty run, someone leaving, a merge ----------------------------------------------------


def test_the_daily_loyalty_run_neither_makes_nor_moves_nor_closes_a_next_step_someone_holds(
    sophie, emma_lead
):
    factories.financed_rav4_2023(emma_lead.customer)  # loyalty moments of her own
    advisor = factories.staff(Role.ADVISOR).user
    day = timezone.localdate() + timedelta(days=5)
    contact_log(
        lead=emma_lead, author=advisor, channel="phone", outcome="reached", next_step=STEP, next_step_on=day
    )
    before = list(Task.objects.filter(kind=NEXT_STEP).values())
    for offset in range(3):
        created = loyalty_tasks_create(today=timezone.localdate() + timedelta(days=offset))
        assert all(task.kind in LoyaltyKind.values for task in created)
    assert Task.objects.exclude(kind=NEXT_STEP).exists()  # the run did run for her
    assert list(Task.objects.filter(kind=NEXT_STEP).values()) == before


def test_a_next_step_left_with_nobody_goes_to_the_sales_supervisor_on_the_next_daily_run(emma_lead):
    advisor = factories.staff(Role.ADVISOR)
    day = timezone.localdate() + timedelta(days=1)
    contact_log(lead=emma_lead, author=advisor.user, channel="visit", next_step=STEP, next_step_on=day)
    staff_remove(staff=advisor)  # nobody in sales to take it
    task = Task.objects.get(kind=NEXT_STEP)
    assert task.assignee is None
    loyalty_tasks_create()
    task.refresh_from_db()
    assert task.assignee is None  # still nobody

    supervisor = factories.staff(Role.SUPERVISOR).user  # the store hires its internet supervisor
    loyalty_tasks_create()

    task.refresh_from_db()
    assert task.assignee == supervisor and task.done_at is None
    entry = AuditEntry.objects.filter(model="leads.task", action="task_reassigned").latest("pk")
    assert entry.changes == {"assignee": [None, supervisor.pk]}
    loyalty_tasks_create()  # a second run changes nothing
    assert AuditEntry.objects.filter(model="leads.task", action="task_reassigned").count() == 2


def test_a_next_step_of_someone_taken_off_the_staff_goes_to_the_sales_supervisor(sophie, emma_lead):
    advisor = factories.staff(Role.ADVISOR)
    day = timezone.localdate() + timedelta(days=1)
    contact_log(lead=emma_lead, author=advisor.user, channel="visit", next_step=STEP, next_step_on=day)
    task = Task.objects.get()

    staff_remove(staff=advisor)

    task.refresh_from_db()
    assert task.assignee == sophie and task.done_at is None
    entry = AuditEntry.objects.get(model="leads.task", action="task_reassigned")
    assert entry.object_id == str(task.pk) and entry.changes == {"assignee": [advisor.user_id, sophie.pk]}


def test_a_next_step_promised_on_a_duplicate_shows_on_the_lead_it_was_merged_into(sophie_client, sophie):
    target = factories.lead()
    duplicate = factories.lead(customer_obj=target.customer)
    day = timezone.localdate() + timedelta(days=1)
    contact_log(
        lead=duplicate, author=sophie, channel="note", notes="Called", next_step=STEP, next_step_on=day
    )

    lead_merge(target=target, duplicate=duplicate, actor=sophie)

    page = page_text(sophie_client, reverse("leads:lead_detail", args=[target.pk]))
    assert f"{STEP} · due {formats.date_format(day)}" in _next_steps(page)
    mine = page_text(sophie_client, reverse("leads:my_tasks"))
    assert f'href="{reverse("leads:lead_detail", args=[target.pk])}"' in mine


# --- the lead changing hands ----------------------------------------------------------------------


def _promise(lead, user, step: str = STEP) -> Task:
    day = timezone.localdate() + timedelta(days=2)
    message = contact_log(
        lead=lead, author=user, channel="phone", outcome="reached", next_step=step, next_step_on=day
    )
    return Task.objects.get(moment_key=str(message.pk))


def _my_tasks(client, user) -> str:
    client.force_login(user)
    return page_text(client, reverse("leads:my_tasks"))


def _reassignments(task) -> list[tuple[list, object]]:
    """Each change of hands the audit trail holds for the task: ([before, after], by whom)."""
    entries = AuditEntry.objects.filter(model="leads.task", object_id=str(task.pk), action="task_reassigned")
    return [(entry.changes["assignee"], entry.actor) for entry in entries.order_by("pk")]


@pytest.fixture
def julie():
    return factories.staff(Role.ADVISOR, first_name="Julie", last_name="Roy").user


@pytest.fixture
def marc():
    return factories.staff(Role.ADVISOR, first_name="Marc", last_name="Gagnon").user


def test_a_next_step_logged_on_an_advisors_lead_is_on_their_list_whoever_logged_it(client, sophie, julie):
    lead = factories.lead(owner=julie)
    # Julie is out: the supervisor takes her customer's call and promises a call back.
    task = _promise(lead, sophie)
    assert task.assignee == julie
    julies = _my_tasks(client, julie)
    assert STEP in julies and f'href="{reverse("leads:lead_detail", args=[lead.pk])}"' in julies
    assert STEP not in _my_tasks(client, sophie)


def test_a_next_step_logged_on_a_lead_whose_owner_left_is_for_whoever_logged_it(sophie):
    lead = factories.lead(owner=factories.former_staff())
    assert _promise(lead, sophie).assignee == sophie


def test_a_lead_given_to_another_advisor_takes_its_promised_next_step_along(client, sophie, julie, marc):
    lead = factories.lead(owner=julie)
    task = _promise(lead, julie)
    # Julie goes on holiday: the supervisor gives her lead to Marc.
    lead_assign(lead=lead, owner=marc, actor=sophie)
    # Marc now works the customer: the call Julie promised is on his list, and his to mark done.
    assert STEP not in _my_tasks(client, julie)
    assert STEP in _my_tasks(client, marc)
    assert client.post(reverse("leads:task_done", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None
    assert _reassignments(task) == [([julie.pk, marc.pk], sophie)]


def test_the_link_to_the_lead_on_my_tasks_opens_the_lead_after_it_was_given_to_someone_else(
    client, sophie, julie, marc
):
    lead = factories.lead(owner=julie)
    day = _promise(lead, julie).due_on
    lead_assign(lead=lead, owner=marc, actor=sophie)
    lead_url = reverse("leads:lead_detail", args=[lead.pk])
    page = _my_tasks(client, marc)
    assert STEP in page and f'href="{lead_url}"' in page
    # Marc follows the link on his list: the lead page says the step is his.
    listed = _next_steps(page_text(client, lead_url))
    assert f"{STEP} · due {formats.date_format(day)} · Marc Gagnon" in listed


def test_a_lead_given_to_a_newcomer_takes_its_open_next_steps_even_one_nobody_had_and_not_the_done_ones(
    client, julie
):
    manager = factories.staff(Role.MANAGER, department_code="finance").user  # sees every lead
    lead = factories.lead(owner=julie)
    brochure = _promise(lead, julie, step="Send the brochure")
    task_done(task=brochure, user=julie)
    call = _promise(lead, julie)
    # Julie, the only one in sales, leaves: nobody to hand the promised call to, for now.
    staff_remove(staff=julie.staff)
    call.refresh_from_db()
    assert call.assignee is None
    # Marc starts; the manager gives him the customer.
    marc = factories.staff(Role.ADVISOR).user
    lead_assign(lead=lead, owner=marc, actor=manager)
    page = _my_tasks(client, marc)
    assert STEP in page and "Send the brochure" not in page
    brochure.refresh_from_db()
    assert brochure.assignee == julie  # what was done, by whom
    assert _reassignments(call) == [([julie.pk, None], None), ([None, marc.pk], manager)]
    # Taken off Marc with nobody in his place: the call stays on his list until someone has the lead.
    lead_assign(lead=lead, owner=None, actor=manager)
    assert STEP in _my_tasks(client, marc)


def test_a_next_step_promised_on_a_duplicate_merged_into_a_colleagues_lead_goes_to_the_colleague(
    client, sophie, julie, marc
):
    target = factories.lead(owner=marc)
    duplicate = factories.lead(customer_obj=target.customer, owner=julie)
    task = _promise(duplicate, julie)

    lead_merge(target=target, duplicate=duplicate, actor=sophie)

    target_url = reverse("leads:lead_detail", args=[target.pk])
    assert STEP not in _my_tasks(client, julie)
    page = _my_tasks(client, marc)
    assert STEP in page and f'href="{target_url}"' in page
    assert client.get(target_url).status_code == 200
    assert _reassignments(task) == [([julie.pk, marc.pk], sophie)]
    merged = LeadEvent.objects.get(lead=target, type="merged", params__merged_lead=duplicate.pk)
    assert merged.params["tasks"] == 1


def test_a_lead_taking_the_owner_of_a_duplicate_merged_into_it_gives_them_every_open_next_step(
    client, sophie, julie
):
    target = factories.lead()  # nobody's yet: the supervisor promised the figures herself
    duplicate = factories.lead(customer_obj=target.customer, owner=julie)
    figures = _promise(target, sophie, step="Send the trade-in figures")
    _promise(duplicate, julie)

    lead_merge(target=target, duplicate=duplicate, actor=sophie)

    page = _my_tasks(client, julie)
    assert STEP in page and "Send the trade-in figures" in page
    assert page.count(f'href="{reverse("leads:lead_detail", args=[target.pk])}"') == 2
    assert _reassignments(figures) == [([sophie.pk, julie.pk], sophie)]


@pytest.mark.parametrize("owner", ["a colleague", "the one leaving", "someone who left before"])
def test_a_next_step_of_someone_leaving_goes_to_its_leads_owner_while_they_take_leads(client, owner):
    # A store with a sales manager and advisors, no sales supervisor: the manager is sales' person.
    manager = factories.staff(Role.MANAGER).user
    colleague = factories.staff(Role.ADVISOR).user
    leaving = factories.staff(Role.ADVISOR)
    lead_owner = {
        "a colleague": colleague,
        "the one leaving": leaving.user,
        "someone who left before": factories.former_staff(),
    }[owner]
    lead = factories.lead(owner=lead_owner)
    # Promised before the lead's next steps went to its owner: still with the one leaving.
    task = Task.objects.create(
        kind=NEXT_STEP, moment_key="promised", customer=lead.customer, lead=lead, assignee=leaving.user,
        due_on=timezone.localdate(), title=f"Next step: {STEP}", params={"step": STEP},
    )  # fmt: skip

    staff_remove(staff=leaving)

    task.refresh_from_db()
    assert task.assignee == (colleague if owner == "a colleague" else manager)
    client.force_login(task.assignee)
    assert client.get(reverse("leads:lead_detail", args=[lead.pk])).status_code == 200


# --- next steps recorded before they had a lead of their own ------------------------------------------


def test_a_next_step_recorded_with_its_lead_in_its_params_keeps_it_as_its_lead(
    sophie, sophie_client, emma_lead
):
    migration = importlib.import_module("leads.migrations.0035_task_lead")
    day = timezone.localdate() + timedelta(days=1)
    task = {"customer": emma_lead.customer, "assignee": sophie, "due_on": day}
    promised = Task.objects.create(
        **task, kind=NEXT_STEP, moment_key="1", title=f"Next step: {STEP}",
        params={"lead": emma_lead.pk, "step": STEP},
    )  # fmt: skip
    lead_gone = Task.objects.create(
        **task, kind=NEXT_STEP, moment_key="2", title="Next step: Call", params={"lead": 0, "step": "Call"}
    )
    mileage = Task.objects.create(
        **task, kind=LoyaltyKind.HIGH_MILEAGE, moment_key="m", title="Offer an appraisal",
        params={"km": 120_000, "vehicle": "Civic"},
    )  # fmt: skip

    migration.lead_from_params(apps, None)

    for row in (promised, lead_gone, mileage):
        row.refresh_from_db()
    assert promised.lead == emma_lead and promised.params == {"step": STEP}
    assert lead_gone.lead is None and lead_gone.params == {"step": "Call"}
    assert mileage.lead is None and mileage.params == {"km": 120_000, "vehicle": "Civic"}
    lead_url = reverse("leads:lead_detail", args=[emma_lead.pk])
    assert f"{STEP} · due {formats.date_format(day)}" in _next_steps(page_text(sophie_client, lead_url))
    assert f'href="{lead_url}"' in page_text(sophie_client, reverse("leads:my_tasks"))

    migration.lead_to_params(apps, None)  # and back, when the migration is undone

    promised.refresh_from_db()
    assert promised.params == {"lead": emma_lead.pk, "step": STEP}


# --- in French ------------------------------------------------------------------------------------


def test_a_next_step_reads_in_french_on_my_tasks_and_is_stored_in_english(sophie, sophie_client, emma_lead):
    day = timezone.localdate() + timedelta(days=1)
    contact_log(
        lead=emma_lead,
        author=sophie,
        channel="note",
        notes="Intéressée",
        next_step="Rappeler",
        next_step_on=day,
    )
    task = Task.objects.get()
    assert task.title == "Next step: Rappeler"  # exports and the admin
    with translation.override("fr"):
        assert task.display_title == f"Prochaine étape{NBSP}: Rappeler"
    french = page_text(sophie_client, reverse("leads:my_tasks"), FRENCH)
    assert f"Prochaine étape{NBSP}: Rappeler" in french and "Next step" not in french
    assert "Next step: Rappeler" in page_text(sophie_client, reverse("leads:my_tasks"), ENGLISH)


def test_a_next_step_logged_in_french_says_its_day_in_french(sophie_client, emma_lead):
    today = timezone.localdate()
    _log(sophie_client, emma_lead, FRENCH, next_step="Rappeler", next_step_on=today.isoformat())
    with translation.override("fr"):
        day = formats.date_format(today, "l j F")
    assert (
        Message.objects.get().body_text == f"Wants the AWD trim\n\nProchaine étape le {day}{NBSP}: Rappeler"
    )
    assert day.split()[0] in ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
