"""Working the inbox page by page while colleagues work the same leads: the next page goes on
after the last lead shown, so a lead answered on an earlier page neither hides another nor
makes one show twice."""

import html
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from leads.models import Lead
from leads.selectors.leads import lead_inbox_rows
from leads.services.leads import contact_log
from tests import factories

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def member(client):
    member = factories.staff(Role.SUPERVISOR)
    client.force_login(member.user)
    return member


def _listed(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr class="lead-row" data-lead="(\d+)"', page)]


def _link(page: str, link_id: str) -> str:
    """The inbox address a page's link (or the refresh, "refresh") leads to."""
    if link_id == "refresh":
        return html.unescape(re.search(r'id="lead-table" hx-get="([^"]*)"', page).group(1))
    return reverse("leads:inbox") + html.unescape(re.search(rf'id="{link_id}" href="([^"]*)"', page).group(1))


def _unanswered(count: int) -> list[Lead]:
    """Leads never answered, the first received first, a minute apart."""
    now = timezone.now()
    return [factories.lead(received_at=now - timedelta(minutes=200 - n)) for n in range(count)]


def _answer(lead: Lead, member) -> None:
    contact_log(lead=lead, author=member.user, channel="phone", outcome="reached")


@pytest.mark.parametrize("sort", ["urgent", "newest"])
def test_working_the_unanswered_list_page_by_page_skips_none(client, member, sort):
    leads = _unanswered(55)
    first = client.get(reverse("leads:inbox"), {"unanswered": "on", "sort": sort}).content.decode()
    seen = _listed(first)
    assert len(seen) == 50
    _answer(Lead.objects.get(pk=seen[0]), member)  # a colleague answers a lead of the first page
    second = client.get(_link(first, "inbox-next")).content.decode()
    assert sorted(seen + _listed(second)) == sorted(lead.pk for lead in leads)
    assert "There is no page" not in second
    # The way back is the page before, by its number; the page itself is still called page 2.
    assert _link(second, "inbox-newer").endswith("page=1")
    assert re.search(r"[?&]page=2(&|$)", _link(second, "refresh"))


def test_working_the_replied_list_page_by_page_skips_none(client, member):
    leads = _unanswered(55)
    now = timezone.now()
    for n, lead in enumerate(leads):  # answered, then the customer wrote again
        Lead.objects.filter(pk=lead.pk).update(
            status="contacted", first_response_at=now - timedelta(minutes=100), customer_waiting_since=now - timedelta(minutes=90 - n)
        )  # fmt: skip
    first = client.get(reverse("leads:inbox"), {"replied": "on", "sort": "urgent"}).content.decode()
    seen = _listed(first)
    _answer(Lead.objects.get(pk=seen[0]), member)
    second = client.get(_link(first, "inbox-next")).content.decode()
    assert sorted(seen + _listed(second)) == sorted(lead.pk for lead in leads)


def test_a_lead_arriving_meanwhile_does_not_show_the_last_one_again(client, member):
    _unanswered(55)
    first = client.get(reverse("leads:inbox")).content.decode()
    factories.lead()  # newest first: it goes on top of page 1
    second = client.get(_link(first, "inbox-next")).content.decode()
    assert set(_listed(first)).isdisjoint(_listed(second)) and len(_listed(second)) == 5


def test_the_refresh_of_the_next_page_stays_after_the_last_lead_shown(client, member):
    _unanswered(55)
    params = {"unanswered": "on", "sort": "urgent"}
    first = client.get(reverse("leads:inbox"), params).content.decode()
    second = client.get(_link(first, "inbox-next")).content.decode()
    _answer(Lead.objects.get(pk=_listed(first)[3]), member)
    refreshed = client.get(_link(second, "refresh"), headers=HTMX).content.decode()
    assert _listed(refreshed) == _listed(second)
    # The lead page's way back to the list is the page being worked, too.
    lead = _listed(second)[0]
    back = client.get(reverse("leads:lead_detail", args=[lead])).content.decode()
    assert html.escape(_link(second, "refresh")[len(reverse("leads:inbox")) :]) in back


def test_a_next_page_whose_leads_were_all_answered_meanwhile_shows_the_last_page(client, member):
    leads = _unanswered(55)
    first = client.get(reverse("leads:inbox"), {"unanswered": "on", "sort": "urgent"}).content.decode()
    for lead in leads[50:]:
        _answer(lead, member)
    cache.clear()  # the counts as they are now
    second = client.get(_link(first, "inbox-next")).content.decode()
    assert "There is no page 2: this is the last page, page 1." in second
    assert _listed(second) == _listed(first)
    assert "after=" not in _link(second, "refresh")


def test_a_malformed_next_page_position_is_ignored(client, member):
    leads = _unanswered(55)
    # The position of the 10th lead: taken, page 2 would list the 45 after it.
    tenth = lead_inbox_rows(user=member.user, filters={"sort": "urgent"}, offset=9, limit=1)[0]
    assert tenth.pk == leads[9].pk
    position = tenth.position
    zero, moment, pk = position.split(".")

    def page_two(after: str) -> tuple[int, str]:
        response = client.get(reverse("leads:inbox"), {"sort": "urgent", "page": 2, "after": after})
        return response.status_code, response.content.decode()

    status, page = page_two(position)
    assert status == 200 and _listed(page) == [lead.pk for lead in leads[10:]]
    by_number = [lead.pk for lead in leads[50:]]
    # Each written otherwise than a position is: a reading as lenient as int() would take most of
    # them for the 10th lead's (or crash on a key past any moment or id).
    malformed = [
        "x",
        f"{position}.",  # a key left empty
        f"{position}.0",  # a key too many: another order's
        f"{moment}.{pk}",  # a key too few
        f"+{position}",
        f"-{position}",
        f"{zero}.{moment[0]}_{moment[1:]}.{pk}",
        position.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),  # digits of another script
        f"{zero}.999999999999999999.{pk}",  # past any moment
        f"{zero}.{moment}.99999999999999999999",  # past any id
    ]
    for after in malformed:
        status, page = page_two(after)
        assert status == 200, after
        assert _listed(page) == by_number, after  # page 2 by its number
        assert "Page position: Not a position in this list" in html.unescape(page), after


def test_a_next_page_with_nothing_left_after_the_last_lead_shown_shows_none_again(client, member):
    leads = _unanswered(55)
    params = {"unanswered": "on", "sort": "newest"}
    first = client.get(reverse("leads:inbox"), params).content.decode()
    for lead in leads[:5]:  # the five oldest, those page 2 was to show, are answered meanwhile
        _answer(lead, member)
    arrived = [factories.lead() for _ in range(10)]  # and ten new ones go on top of page 1
    cache.clear()  # the counts as they are now: two pages again
    second = client.get(_link(first, "inbox-next")).content.decode()
    assert _listed(second) == []  # not the leads page 1 showed, moved down by the new ones
    assert "There is no page 2 any more: no lead comes after those the page before showed." in second
    assert "There is no page 2:" not in second and "No leads match." not in second
    # The new leads are on the first page, which its link opens; the page keeps its place.
    top = client.get(_link(second, "inbox-first")).content.decode()
    assert {lead.pk for lead in arrived} <= set(_listed(top))
    assert re.search(r"[?&]page=2(&|$)", _link(second, "refresh")) and "after=" in _link(second, "refresh")
    assert _link(second, "inbox-newer").endswith("page=1")


def test_no_other_link_of_the_next_page_keeps_its_position(client, member):
    _unanswered(55)
    first = client.get(reverse("leads:inbox"), {"sort": "urgent"}).content.decode()
    second = client.get(_link(first, "inbox-next")).content.decode()
    # The chips, the toggles and the way back: every link to the list (page 2 is the last).
    links = [html.unescape(address) for address in re.findall(r'href="(\?[^"]*)"', second)]
    assert len(links) > 5 and all("after=" not in address for address in links), links
    # Another status from page 2 lists its leads from the top.
    [all_chip] = re.findall(r'href="([^"]*)" id="inbox-chip-\d+">All ', second)
    assert len(_listed(client.get(reverse("leads:inbox") + html.unescape(all_chip)).content.decode())) == 50


def test_the_next_page_reads_as_few_queries_as_the_first(client, member):
    _unanswered(55)
    url = reverse("leads:inbox") + "?unanswered=on&sort=urgent"
    client.get(url)  # the session keeps the list's filters once

    def queries(url: str, **headers) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, headers=headers).status_code == 200
        return len(captured)

    cache.clear()
    first = queries(url)
    next_url = _link(client.get(url).content.decode(), "inbox-next")
    client.get(next_url)
    cache.clear()
    assert queries(next_url) == first
    assert queries(next_url, **HTMX) == 1  # the refresh of a page, counts fresh: its rows only
