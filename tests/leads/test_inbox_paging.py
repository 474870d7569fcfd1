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
    _unanswered(55)
    # Not a number, another order's, a key beyond any moment or id, digits of another script.
    for after in "x 1 1.2 1.2.3.4 -1.2.3 1.2. 0.1.99999999999999999999 0.999999999999999999.1 ٣.٣.٣".split():
        response = client.get(reverse("leads:inbox"), {"sort": "urgent", "page": 2, "after": after})
        assert response.status_code == 200
        assert len(_listed(response.content.decode())) == 5, after  # page 2 by its number


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
