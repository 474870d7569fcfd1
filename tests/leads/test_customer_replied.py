"""A customer who writes again after an answer is seen in the inbox until someone answers them."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from dealership.models import Role
from leads.models import Channel, LeadStatus
from leads.services.leads import contact_log, lead_customer_wrote, lead_transition
from leads.threading import reply_address
from tests import factories

pytestmark = pytest.mark.django_db

REPLIED = reverse("leads:inbox") + "?replied=on"


@pytest.fixture
def supervisor(client):
    member = factories.staff(Role.SUPERVISOR)
    client.force_login(member.user)
    return member.user


def _answered_lead(supervisor, **fields):
    lead = factories.lead(**fields)
    contact_log(lead=lead, author=supervisor, channel=Channel.PHONE, outcome="reached", notes="Called back")
    return lead


def _customer_writes(lead, body="One more question: is the price negotiable?"):
    return factories.inbound_mail(
        factories.raw_mail(
            from_address=lead.customer.email, to=reply_address(lead.pk), subject="Re: your call", body=body
        )
    )


def _replied_rows(client) -> list[int]:
    cache.clear()  # the chips' counts are kept a few seconds
    page = client.get(REPLIED)
    return [lead.pk for lead, _ in page.context["leads"]]


def test_a_customer_writing_after_an_answer_waits_in_replied_until_someone_answers(client, supervisor):
    lead = _answered_lead(supervisor)
    never_answered = factories.lead()  # a first inquiry is "Unanswered", not "Replied"
    _customer_writes(never_answered)
    assert _replied_rows(client) == []

    _customer_writes(lead)
    assert _replied_rows(client) == [lead.pk]
    inbox = client.get(reverse("leads:inbox")).content.decode()
    assert 'data-filter="replied"' in inbox
    chip = inbox[inbox.index('data-filter="replied"') :]
    assert chip[: chip.index("</a>")].split('badge text-bg-light">')[1].startswith("1<")
    row = client.get(REPLIED).content.decode()
    assert "replied 0\xa0minutes ago" in row
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'id="customer-replied"' in page

    contact_log(lead=lead, author=supervisor, channel=Channel.TEXT, notes="Yes, a little.")
    assert _replied_rows(client) == []
    assert (
        'id="customer-replied"'
        not in client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    )


def test_a_note_does_not_answer_the_customer(client, supervisor):
    lead = _answered_lead(supervisor)
    _customer_writes(lead)
    contact_log(lead=lead, author=supervisor, channel=Channel.NOTE, notes="Ask the manager about the price")
    assert _replied_rows(client) == [lead.pk]


def test_a_sold_or_lost_customer_who_writes_again_is_listed_too(client, supervisor):
    sold = _answered_lead(supervisor)
    lead_transition(lead=sold, to_status=LeadStatus.SOLD)
    lost = _answered_lead(supervisor)
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    _customer_writes(sold, "When can I pick up the car?")
    _customer_writes(lost, "Actually, is the RAV4 still there?")
    assert set(_replied_rows(client)) == {sold.pk, lost.pk}
    # The default inbox (open leads) still says how many wrote back, and its link lists them all.
    inbox = client.get(reverse("leads:inbox")).content.decode()
    chip = inbox[inbox.index('data-filter="replied"') :]
    assert chip[: chip.index("</a>")].split('badge text-bg-light">')[1].startswith("2<")
    assert (
        'href="?replied=on"'
        in inbox[inbox.index('data-filter="replied"') - 200 : inbox.index('data-filter="replied"')]
    )


def test_a_customer_answering_within_the_second_of_the_answer_waits_too(client, supervisor):
    # Mail is dated to the second (its Date, the mailbox's arrival time): an answer read and
    # replied to at once carries the second the store's answer went out in, not a moment before it.
    lead = _answered_lead(supervisor)
    lead.refresh_from_db()
    lead_customer_wrote(lead=lead, at=lead.first_response_at.replace(microsecond=0))
    assert _replied_rows(client) == [lead.pk]
