"""What the inbox and the lead page tell someone who cannot see colours or the screen, or works
by keyboard: each control named, each error tied to its field, what a click changed said aloud,
and where the keyboard was kept through a refresh."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from leads.business_hours import business_moment_before
from leads.models import ReplyTemplate
from leads.services.replies import reply_templates_ensure_defaults
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
EMPTY_STATUS_LINE = '<div class="visually-hidden" role="status" id="lead-announcement"></div>'


def _login(client, role=Role.SUPERVISOR, **fields):
    client.force_login(factories.staff(role, **fields).user)


def _tag(page: str, element_id: str) -> str:
    """The opening tag of the element with that id."""
    return re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', page).group(0)


def _announced(response) -> str:
    """What an htmx answer puts in the lead page's status line."""
    page = response.content.decode()
    return re.search(r'<div id="lead-announcement" hx-swap-oob="innerHTML">(.*?)</div>', page, re.S).group(1)


def test_the_template_picker_is_named(client):
    _login(client)
    reply_templates_ensure_defaults()
    page = client.get(reverse("leads:lead_detail", args=[factories.lead().pk])).content.decode()
    assert 'aria-label="Reply template"' in _tag(page, "id_template")


def test_a_template_put_in_by_htmx_is_said_in_the_page_status_line(client):
    _login(client)
    reply_templates_ensure_defaults()
    lead = factories.lead()
    url = reverse("leads:lead_detail", args=[lead.pk])
    page = client.get(url).content.decode()
    assert page.count('id="lead-announcement"') == 1 and EMPTY_STATUS_LINE in page
    trade = ReplyTemplate.objects.get(inquiry_type="trade_in", language="en")
    put_in = client.get(url, {"template": trade.pk}, headers=HTMX)
    assert _announced(put_in) == f"The subject and message are now the template “{trade}”."
    emptied = client.get(url, {"template": ""}, headers=HTMX)
    assert _announced(emptied) == "The subject and message were emptied: no template."
    # Without JS the whole page comes back, its status line as it always is.
    page = client.get(url, {"template": trade.pk}).content.decode()
    assert page.count('id="lead-announcement"') == 1 and EMPTY_STATUS_LINE in page


def test_a_log_refused_by_htmx_ties_the_error_to_its_field_and_says_it_was_not_added(client):
    _login(client)
    lead = factories.lead()
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    fields = {"channel": "note", "notes": "Call back", "next_step": "Call", "next_step_on": yesterday}
    response = client.post(reverse("leads:lead_log", args=[lead.pk]), fields, headers=HTMX)
    page = response.content.decode()
    day = _tag(page, "log-next-step-on")
    assert 'aria-invalid="true"' in day
    described_by = re.search(r'aria-describedby="([^"]*)"', day).group(1).split()
    assert described_by == ["id_next_step_on_error", "log-next-step-on-help"]
    error = '<ul class="errorlist" id="id_next_step_on_error"><li>Choose today or a later day.</li></ul>'
    assert error in page
    assert "aria-invalid" not in _tag(page, "log-notes") + _tag(page, "log-next-step")
    assert _announced(response) == "Not added: Next step on: Choose today or a later day."
    assert not lead.messages.exists()

    # Without JS the page comes back with the same ties.
    page = client.post(reverse("leads:lead_log", args=[lead.pk]), fields).content.decode()
    assert 'aria-invalid="true"' in _tag(page, "log-next-step-on")


def test_a_log_refused_for_a_missing_note_names_the_note(client):
    _login(client)
    lead = factories.lead()
    response = client.post(
        reverse("leads:lead_log", args=[lead.pk]), {"channel": "note", "notes": " "}, headers=HTMX
    )
    notes = _tag(response.content.decode(), "log-notes")
    assert 'aria-invalid="true"' in notes and 'aria-describedby="id_notes_error"' in notes
    assert _announced(response) == "Not added: Notes: Write the note."


def test_a_log_added_by_htmx_is_said_in_the_status_line_outside_what_it_replaces(client):
    _login(client)
    lead = factories.lead()
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert page.count('id="lead-announcement"') == 1 and EMPTY_STATUS_LINE in page
    response = client.post(
        reverse("leads:lead_log", args=[lead.pk]), {"channel": "note", "notes": "Left a note"}, headers=HTMX
    )
    assert _announced(response) == "Added to the conversation."
    assert "aria-invalid" not in response.content.decode()
    assert lead.messages.filter(body_text="Left a note").exists()


def test_a_refused_answer_ties_each_error_to_its_field_and_starts_on_the_first(client):
    _login(client)
    lead = factories.lead()
    url = reverse("leads:lead_reply", args=[lead.pk])
    response = client.post(url, {"subject": "", "body": "My long answer", "language": "en"})
    assert response.status_code == 400
    page = response.content.decode()
    subject = _tag(page, "id_subject")
    assert 'aria-invalid="true"' in subject and 'aria-describedby="id_subject_error"' in subject
    assert "autofocus" in subject and 'id="id_subject_error"' in page
    assert "aria-invalid" not in _tag(page, "id_body")

    page = client.post(url, {"subject": "Hello", "body": "", "language": "en"}).content.decode()
    body = _tag(page, "id_body")
    assert 'aria-invalid="true"' in body and 'aria-describedby="id_body_error"' in body
    assert "autofocus" in body and "aria-invalid" not in _tag(page, "id_subject")

    page = client.post(url, {"subject": "", "body": "", "language": "en"}).content.decode()
    assert page.count("autofocus") == 1 and "autofocus" in _tag(page, "id_subject")


def test_the_waiting_clock_says_in_words_when_an_answer_is_due_soon_or_overdue(client):
    _login(client)
    now = timezone.now()
    waits = {
        "overdue": factories.lead(received_at=business_moment_before(now, 60)),
        "due soon": factories.lead(received_at=business_moment_before(now, 20)),
        "": factories.lead(received_at=now),
    }
    page = client.get("/leads/").content.decode()
    for said, lead in waits.items():
        row = page.split(f'data-lead="{lead.pk}"')[1].split("</tr>")[0]
        clock = re.search(r'<td class="clock-\w+">(.*?)</td>', row, re.S).group(1)
        assert ("· overdue" in clock) == (said == "overdue"), clock
        assert ("· due soon" in clock) == (said == "due soon"), clock
    header = client.get(reverse("leads:lead_detail", args=[waits["overdue"].pk])).content.decode()
    assert "(business time) · overdue" in header.split('id="lead-header"')[1].split("</div>")[0]


def test_the_inbox_links_the_refresh_replaces_keep_their_ids_so_the_keyboard_stays_on_them(client):
    _login(client)
    for _ in range(51):
        factories.lead()

    def ids(page: str) -> list[str]:
        chips = page.split('id="inbox-chips"')[1].split("</nav>")[0]
        pages = page.split('aria-label="Pages"')[1].split("</nav>")[0]
        links = re.findall(r"<a [^>]*>", chips + pages)
        assert len(links) == 13  # 9 status chips, 3 toggles, the next page
        return [re.search(r'\bid="([^"]+)"', link).group(1) for link in links]

    listed = ids(client.get("/leads/").content.decode())
    assert len(set(listed)) == len(listed)
    assert ids(client.get("/leads/", headers=HTMX).content.decode()) == listed
    # The way back from page 2 keeps its own.
    second = client.get("/leads/?page=2").content.decode()
    assert 'id="inbox-newer"' in second.split('aria-label="Pages"')[1]


def test_department_staff_see_the_way_to_their_mail_as_a_link_in_the_notice(client):
    _login(client, Role.DEPARTMENT, department_code="service")
    page = client.get("/leads/").content.decode()
    assert f'<a class="alert-link" href="{reverse("leads:department_mail")}">' in page
