"""Pages left open while someone else changes the lead: the person is told what happened, and
nothing they wrote is lost."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dealership.models import Role
from leads.models import LeadStatus
from leads.selectors.leads import person_name
from leads.services.leads import lead_assign, lead_event_add, lead_merge
from tests import factories
from tests.formsets import composer_fields

pytestmark = pytest.mark.django_db


def _login(client, role=Role.SUPERVISOR, **fields):
    member = factories.staff(role, **fields)
    client.force_login(member.user)
    return member.user


def _alerts(page: str) -> list[str]:
    """The messages the page shows, as read."""
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
        for text in re.findall(r'role="alert"[^>]*>(.*?)</div>', page, re.S)
    ]


@pytest.fixture
def marcs_lead_given_to_anne(client):
    """Marc, an advisor, has his lead open; a supervisor gives it to Anne meanwhile."""
    marc = _login(client, Role.ADVISOR, first_name="Marc", last_name="Roy")
    anne = factories.advisor(first_name="Anne", last_name="Lee").user
    lead = factories.lead(owner=marc)
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    lead_assign(lead=lead, owner=anne, actor=factories.staff(Role.SUPERVISOR).user)
    return lead, page


def _said_given_to_anne(response, text: str) -> str:
    page = html.unescape(response.content.decode())
    assert _alerts(page)[0].startswith(
        "This lead was given to Anne Lee meanwhile: you may no longer work on it, and nothing was saved."
    ), _alerts(page)
    assert re.search(r'<textarea[^>]*id="refused-\w+"[^>]*readonly>' + re.escape(text) + "</textarea>", page)
    assert re.search(r'<a href="/leads/"[^>]*id="back-to-inbox"', page)
    return page


def test_an_answer_written_on_a_lead_given_to_someone_else_meanwhile_comes_back_with_who_has_it(
    client, marcs_lead_given_to_anne
):
    lead, opened = marcs_lead_given_to_anne
    written = "Marc's long answer about the trade-in: we can offer $12,500."
    response = client.post(
        reverse("leads:lead_reply", args=[lead.pk]), {**composer_fields(opened), "body": written}
    )
    assert response.status_code == 409
    page = _said_given_to_anne(response, written)
    assert lead.customer.email not in page  # the lead's own page is Anne's now
    assert not lead.messages.exists()


def test_a_call_logged_on_a_lead_given_to_someone_else_meanwhile_comes_back_with_the_notes(
    client, marcs_lead_given_to_anne
):
    lead, _ = marcs_lead_given_to_anne
    notes = "Wants to come Saturday at 10, trade-in 2019 Civic"
    call = {"channel": "phone", "outcome": "reached", "notes": notes}
    response = client.post(reverse("leads:lead_log", args=[lead.pk]), call)
    assert response.status_code == 409
    _said_given_to_anne(response, notes)
    # Logged from the page (htmx): the whole page becomes the one saying so, the notes on it.
    response = client.post(reverse("leads:lead_log", args=[lead.pk]), call, headers={"HX-Request": "true"})
    assert (response.status_code, response["HX-Retarget"], response["HX-Reswap"]) == (
        200,
        "body",
        "innerHTML",
    )
    _said_given_to_anne(response, notes)
    assert not lead.messages.exists()


def test_a_status_change_on_a_lead_given_to_someone_else_meanwhile_is_refused_with_the_reason_kept(
    client, marcs_lead_given_to_anne
):
    lead, _ = marcs_lead_given_to_anne
    reason = "Bought a Civic at the dealer across the street"
    response = client.post(
        reverse("leads:lead_transition", args=[lead.pk]),
        {"status": LeadStatus.LOST, "reason": reason, "shown_status": LeadStatus.NEW},
    )
    assert response.status_code == 409
    _said_given_to_anne(response, reason)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_an_advisor_whose_lead_was_unassigned_meanwhile_is_told_so(client):
    marc = _login(client, Role.ADVISOR, first_name="Marc", last_name="Roy")
    lead = factories.lead(owner=marc)
    lead_assign(lead=lead, owner=None, actor=factories.staff(Role.SUPERVISOR).user)
    response = client.post(
        reverse("leads:lead_log", args=[lead.pk]), {"channel": "note", "notes": "Customer prefers mornings"}
    )
    page = html.unescape(response.content.decode())
    assert response.status_code == 409 and "Customer prefers mornings" in page
    assert _alerts(page)[0].startswith(
        "This lead was unassigned meanwhile: you may no longer work on it, and nothing was saved."
    )


def test_a_lead_that_never_was_theirs_stays_not_found_and_its_owner_unnamed(client):
    anne = factories.advisor(first_name="Anne", last_name="Lee").user
    marc = factories.advisor(first_name="Marc", last_name="Roy").user
    lead = factories.lead(owner=marc)
    lead_assign(lead=lead, owner=anne, actor=factories.staff(Role.SUPERVISOR).user)
    # Cleo never had it; the other Marc Roy neither, although the timeline names a Marc Roy.
    for someone in (
        {"first_name": "Cleo", "last_name": "Diaz"},
        {"first_name": "Marc", "last_name": "Roy"},
    ):
        _login(client, Role.ADVISOR, **someone)
        for url, data in (
            ("leads:lead_reply", {"subject": "Hi", "body": "Hello"}),
            ("leads:lead_log", {"channel": "note", "notes": "Hello"}),
            ("leads:lead_transition", {"status": LeadStatus.LOST, "reason": "Hello"}),
        ):
            response = client.post(reverse(url, args=[lead.pk]), data)
            assert response.status_code == 404 and "Anne" not in response.content.decode(), (someone, url)
    client.force_login(marc)
    assert client.post(reverse("leads:lead_log", args=[lead.pk + 1000]), {"notes": "x"}).status_code == 404


@pytest.mark.parametrize("former_owner", ["renamed", "deleted"])
def test_a_namesake_of_a_former_owner_who_left_or_was_renamed_is_not_told_who_owns_the_lead(
    client, former_owner
):
    """Marie Tremblay owned the lead before it went to Sam; she has since married (or left). A new
    Marie Tremblay, who never had it, is not told whose it is."""
    marie = factories.advisor(first_name="Marie", last_name="Tremblay").user
    lead = factories.lead(owner=marie)
    lead_assign(lead=lead, owner=factories.advisor(first_name="Sam", last_name="Secret").user, actor=None)
    people = get_user_model().objects.filter(pk=marie.pk)
    people.update(last_name="Gagnon") if former_owner == "renamed" else people.delete()
    _login(client, Role.ADVISOR, first_name="Marie", last_name="Tremblay")
    response = client.post(reverse("leads:lead_log", args=[lead.pk]), {"channel": "note", "notes": "Hi"})
    assert response.status_code == 404 and "Sam Secret" not in response.content.decode()


def test_a_former_owner_renamed_since_is_still_told_who_has_the_lead_now(client):
    marie = _login(client, Role.ADVISOR, first_name="Marie", last_name="Tremblay")
    lead = factories.lead(owner=marie)
    lead_assign(lead=lead, owner=factories.advisor(first_name="Anne", last_name="Lee").user, actor=None)
    get_user_model().objects.filter(pk=marie.pk).update(last_name="Gagnon")
    client.force_login(get_user_model().objects.get(pk=marie.pk))
    response = client.post(reverse("leads:lead_log", args=[lead.pk]), {"channel": "note", "notes": "Hi"})
    assert response.status_code == 409
    _said_given_to_anne(response, "Hi")


def test_a_change_of_owner_recorded_by_name_only_proves_nobody_owned_the_lead(client):
    """Changes of owner recorded before the timeline kept who they were name them only: a name
    proves nothing, so the page stays not found."""
    marc = _login(client, Role.ADVISOR, first_name="Marc", last_name="Roy")
    anne = factories.advisor(first_name="Anne", last_name="Lee").user
    lead = factories.lead(owner=anne)
    lead_event_add(lead=lead, type="assigned", owner="Anne Lee", previous_owner=person_name(marc))
    response = client.post(reverse("leads:lead_log", args=[lead.pk]), {"channel": "note", "notes": "Hi"})
    assert response.status_code == 404 and "Anne" not in response.content.decode()


def _assign_fields(page: str) -> dict:
    """The assign form as the page shows it."""
    form = page.split('id="assign-form"')[1].split("</form>")[0]
    selected = re.search(r'<option value="(\d*)" selected', form)
    return {
        "owner": selected.group(1) if selected else "",
        "shown_owner": re.search(r'name="shown_owner" value="(\d*)"', form).group(1),
    }


def test_assigning_from_a_page_left_open_does_not_take_the_lead_from_the_advisor_just_given_it(client):
    """Julie and Sophie open the same new lead; Sophie gives it to Marc, then Julie, whose page still
    says Unassigned, gives it to Anne."""
    _login(client, first_name="Julie", last_name="Roy")
    sophie = factories.staff(Role.SUPERVISOR, first_name="Sophie", last_name="Tremblay").user
    marc = factories.advisor(first_name="Marc", last_name="Roy").user
    anne = factories.advisor(first_name="Anne", last_name="Lee").user
    lead = factories.lead()
    opened = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    lead_assign(lead=lead, owner=marc, actor=sophie)
    fields = {**_assign_fields(opened), "owner": anne.pk}
    page = html.unescape(
        client.post(reverse("leads:lead_assign", args=[lead.pk]), fields, follow=True).content.decode()
    )
    assert _alerts(page)[0] == (
        "Someone assigned this lead to Marc Roy meanwhile: nothing was changed. Check it, then choose again."
    ), _alerts(page)
    lead.refresh_from_db()
    assert lead.owner == marc and lead.events.filter(type="assigned").count() == 1
    # The page now shows Marc: assigning from it goes through.
    page = html.unescape(
        client.post(
            reverse("leads:lead_assign", args=[lead.pk]),
            {**_assign_fields(page), "owner": anne.pk},
            follow=True,
        ).content.decode()
    )
    assert "The lead is assigned to Anne Lee: it is in their inbox." in page
    assert lead.events.filter(type="assigned", params__previous_owner="Marc Roy").exists()


def test_assigning_from_a_page_left_open_after_the_lead_was_unassigned_says_so(client):
    _login(client)
    marc = factories.advisor(first_name="Marc", last_name="Roy").user
    anne = factories.advisor(first_name="Anne", last_name="Lee").user
    lead = factories.lead(owner=marc)
    opened = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert _assign_fields(opened) == {"owner": str(marc.pk), "shown_owner": str(marc.pk)}
    lead_assign(lead=lead, owner=None, actor=factories.staff(Role.SUPERVISOR).user)
    page = html.unescape(
        client.post(
            reverse("leads:lead_assign", args=[lead.pk]),
            {**_assign_fields(opened), "owner": anne.pk},
            follow=True,
        ).content.decode()
    )
    assert _alerts(page)[0] == (
        "Someone unassigned this lead meanwhile: nothing was changed. Check it, then choose again."
    )
    lead.refresh_from_db()
    assert lead.owner is None


def test_merging_from_a_page_left_open_after_this_lead_itself_was_merged_says_so(client):
    """Julie's page offers to fold lead D into T; Sophie meanwhile folded T into D."""
    _login(client)
    t = factories.lead()
    d = factories.lead(customer_obj=t.customer)
    page = client.get(reverse("leads:lead_detail", args=[t.pk])).content.decode()
    assert 'id="merge-form"' in page
    lead_merge(target=d, duplicate=t)
    page = html.unescape(
        client.post(
            reverse("leads:lead_merge", args=[t.pk]), {"duplicate": d.pk}, follow=True
        ).content.decode()
    )
    assert _alerts(page) == [f"This lead was merged into lead {d.pk}: work on that one."]
