"""Several people working the same customer at once: an answer written on a page left open is held
when the customer wrote again, or someone answered them by any means, on this inquiry or another of
theirs; a reply template saved over a change made meanwhile is refused, with what was typed kept."""

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from leads.models import Channel, Direction, LeadStatus, Message, ReplyTemplate
from leads.services.leads import contact_log, lead_customer_wrote, lead_transition
from leads.services.replies import (
    ANSWERED_IN_PERSON,
    ANSWERS,
    AnsweredMeanwhile,
    CustomerWroteMeanwhile,
    HeldMeanwhile,
    reply_last_answer_id,
    reply_queue,
    reply_templates_ensure_defaults,
)
from tests import factories
from tests.formsets import composer_fields
from tests.leads.test_views import _client_of, _login

pytestmark = pytest.mark.django_db


def _alerts(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


def _answers(lead) -> list[str]:
    """The answers sent to the customer by email."""
    return list(
        Message.objects.filter(
            lead=lead, channel=Channel.EMAIL, direction=Direction.OUTBOUND, author__isnull=False
        ).values_list("body_text", flat=True)
    )


def _send_anyway(page: str) -> str:
    return re.search(r'name="send_anyway" id="id_send_anyway" value="(\d+)"', page).group(1)


# --- the customer wrote again -------------------------------------------------------------------


def test_an_answer_written_while_the_customer_wrote_again_is_held_with_the_draft_kept(client):
    reply_templates_ensure_defaults()
    _login(client)
    lead = factories.inbound_mail(factories.raw_mail(subject="Price of the 2024 RAV4")).lead
    url, reply = reverse("leads:lead_detail", args=[lead.pk]), reverse("leads:lead_reply", args=[lead.pk])
    opened = client.get(url).content.decode()
    # The customer writes again on the same inquiry while Sophie types her answer to the first mail.
    again = factories.inbound_email(
        lead=lead, body="Actually, what would the lease payment be instead?", occurred_at=timezone.now()
    )
    lead_customer_wrote(lead=lead, at=again.occurred_at)
    fields = {**composer_fields(opened), "body": "It is $34,995, my long answer."}
    response = client.post(reply, fields)
    assert response.status_code == 400
    page = _alerts(response.content.decode())
    assert "Not sent: the customer wrote again after this page was opened (" in page
    # What they wrote is in the conversation shown, and Sophie's answer is kept to be changed.
    assert "Actually, what would the lease payment be instead?" in page
    assert "It is $34,995, my long answer.</textarea>" in page
    assert _answers(lead) == []
    # Sent as it is, once she has read it.
    assert _send_anyway(response.content.decode()) == str(again.pk)
    sent = client.post(reply, {**fields, "send_anyway": again.pk})
    assert sent.status_code == 302
    assert [body.split("\n\n")[0] for body in _answers(lead)] == ["It is $34,995, my long answer."]


def test_the_customers_messages_the_page_showed_hold_nothing(client):
    reply_templates_ensure_defaults()
    _login(client)
    lead = factories.inbound_mail(factories.raw_mail(subject="Price of the 2024 RAV4")).lead
    factories.inbound_email(lead=lead, body="And the lease?", occurred_at=timezone.now())
    opened = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    response = client.post(
        reverse("leads:lead_reply", args=[lead.pk]), {**composer_fields(opened), "body": "Lease: $412/month."}
    )
    assert response.status_code == 302


def test_an_answer_and_a_new_message_since_the_page_was_opened_are_each_told_before_it_goes():
    sophie = factories.staff(Role.SUPERVISOR, first_name="Sophie", last_name="Tremblay").user
    marc = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    lead = factories.lead()
    factories.inbound_email(lead=lead, body="Best price?")
    shown = reply_last_answer_id(lead=lead)
    marc_answer = reply_queue(lead=lead, author=marc, subject="RAV4", body="Best price $33,500.")
    wrote = factories.inbound_email(lead=lead, body="Can I lease it?", occurred_at=timezone.now())

    def send(seen):
        return reply_queue(lead=lead, author=sophie, subject="RAV4", body="It is $34,995.", shown_answer=seen)

    with pytest.raises(AnsweredMeanwhile, match="Marc Roy answered this customer on ") as refused:
        send(shown)
    assert refused.value.answer == marc_answer
    with pytest.raises(CustomerWroteMeanwhile, match="the customer wrote again") as refused:
        send(marc_answer.pk)  # "Send anyway" ticked, knowing of Marc's answer
    assert refused.value.answer == wrote
    assert send(wrote.pk).author == sophie


def test_both_holds_carry_the_message_to_read_and_neither_is_taken_for_the_other():
    sophie = factories.staff(Role.SUPERVISOR).user
    marc = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    lead = factories.lead()
    shown = reply_last_answer_id(lead=lead)
    marc_answer = reply_queue(lead=lead, author=marc, subject="RAV4", body="Best price $33,500.")
    wrote = factories.inbound_email(lead=lead, body="Can I lease it?", occurred_at=timezone.now())
    holds = []
    for seen in (shown, marc_answer.pk):
        with pytest.raises(HeldMeanwhile) as held:
            reply_queue(lead=lead, author=sophie, subject="RAV4", body="It is $34,995.", shown_answer=seen)
        holds.append(held.value)
    answered, customer_wrote = holds
    assert (answered.answer, customer_wrote.answer) == (marc_answer, wrote)
    # The customer writing again is not someone answering them.
    assert isinstance(answered, AnsweredMeanwhile) and not isinstance(customer_wrote, AnsweredMeanwhile)
    assert isinstance(customer_wrote, CustomerWroteMeanwhile)
    assert str(customer_wrote).startswith("Not sent: the customer wrote again after this page was opened (")


@pytest.mark.parametrize("refused_for", ["a car sold meanwhile", "an unknown merge field", "no subject"])
def test_send_anyway_ticked_is_not_asked_again_when_the_answer_is_refused_for_another_reason(
    client, refused_for
):
    """Marc's call holds Sophie's answer; she reads it and ticks "Send anyway", but the answer is
    refused for another reason. Once she has seen to that, it goes: the call is not told of again."""
    from inventory.services.vehicles import vehicle_transition

    reply_templates_ensure_defaults()
    _login(client, first_name="Sophie", last_name="Tremblay")
    marc = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    stock = factories.vehicle(year=2024, make="Toyota", model="RAV4", price="34995.50")
    lead = factories.lead(owner=marc, inquiry_type="price", vehicles=[{"vin": stock.vin}])
    url, reply = reverse("leads:lead_detail", args=[lead.pk]), reverse("leads:lead_reply", args=[lead.pk])
    opened = composer_fields(client.get(url).content.decode())
    logged = contact_log(lead=lead, author=marc, channel="phone", outcome="reached", notes="Quoted $33,500")
    held = client.post(reply, opened)
    assert held.status_code == 400 and _send_anyway(held.content.decode()) == str(logged.pk)
    fields = {**composer_fields(held.content.decode()), "send_anyway": logged.pk}
    if refused_for == "a car sold meanwhile":
        vehicle_transition(vehicle=stock, to_status="sold", actor=None)
        reason = "changed in stock after this page was opened"
    elif refused_for == "an unknown merge field":
        fields["body"] = "Hello {{ prenom }}, " + fields["body"]
        reason = "Fill in or remove: {{ prenom }}."
    else:
        fields["subject"] = ""
        reason = "This field is required."
    refused = client.post(reply, fields)
    page = _alerts(refused.content.decode())
    assert refused.status_code == 400 and reason in page
    assert "answered this customer" not in page and 'id="id_send_anyway"' not in page
    # The page holds the call as read, for its next send and for a template picked on it alike.
    again = composer_fields(refused.content.decode())
    assert again["shown_answer"] == str(logged.pk)
    again["body"] = again["body"].replace("Hello {{ prenom }}, ", "")
    again["subject"] = again["subject"] or "Your RAV4"
    sent = client.post(reply, again)
    assert sent.status_code == 302, _alerts(sent.content.decode())
    assert len(_answers(lead)) == 1


# --- answered meanwhile by any means --------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "outcome", "held"),
    [
        ("phone", "reached", True),
        ("phone", "voicemail", True),
        ("text", "", True),
        ("visit", "", True),
        ("phone", "no_answer", False),
        ("note", "", False),
    ],
)
def test_a_call_text_or_visit_logged_meanwhile_holds_an_email_answer(client, channel, outcome, held):
    reply_templates_ensure_defaults()
    _login(client)
    marc = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    lead = factories.lead(owner=marc, inquiry_type="price")
    opened = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    logged = contact_log(
        lead=lead, author=marc, channel=channel, outcome=outcome, notes="Quoted $33,500 out the door"
    )
    fields = {**composer_fields(opened), "body": "It is $34,995, my long answer."}
    response = client.post(reverse("leads:lead_reply", args=[lead.pk]), fields)
    if not held:  # no answer reached the customer: nothing to hold the email for
        assert response.status_code == 302
        return
    assert response.status_code == 400
    page = _alerts(response.content.decode())
    assert "Not sent: Marc Roy answered this customer on " in page
    assert "Quoted $33,500 out the door" in page  # read in the conversation
    assert _answers(lead) == [] and _send_anyway(response.content.decode()) == str(logged.pk)
    assert (
        client.post(
            reverse("leads:lead_reply", args=[lead.pk]), {**fields, "send_anyway": logged.pk}
        ).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("logged", "in_person"),
    [
        ({"channel": "phone", "outcome": "reached"}, True),
        ({"channel": "phone", "outcome": "voicemail"}, False),
        ({"channel": "phone", "outcome": "no_answer"}, False),
        ({"channel": "phone", "outcome": "wrong_number"}, False),
        ({"channel": "text", "notes": "It is $34,995."}, False),
        ({"channel": "visit"}, True),
        ({"channel": "note", "notes": "Prefers mornings"}, False),
    ],
)
def test_a_contact_logged_is_an_answer_to_every_rule_or_to_none(logged, in_person):
    """The first response counts it (contact_log), it holds an email written meanwhile and an
    acknowledgement (ANSWERS), the lead page's conversation takes it for the latest answer (read
    or queried): one answer, or none. The customer spoke with someone (ANSWERED_IN_PERSON, which
    stops automatic follow-ups) only on a call that reached them or a visit, both answers."""
    marc = factories.staff(Role.ADVISOR).user
    lead = factories.lead(owner=marc)
    message = contact_log(lead=lead, author=marc, **logged)
    lead.refresh_from_db()
    counted = lead.first_response_at is not None
    assert Message.objects.filter(ANSWERS, pk=message.pk).exists() == counted
    latest = message.pk if counted else 0
    assert reply_last_answer_id(lead=lead) == reply_last_answer_id(lead=lead, messages=[message]) == latest
    assert Message.objects.filter(ANSWERED_IN_PERSON, pk=message.pk).exists() == in_person
    assert counted or not in_person


@pytest.mark.parametrize(
    ("by_a_person", "status", "answer"),
    [
        (True, Message.SendStatus.QUEUED, True),
        (True, Message.SendStatus.SENT, True),
        (True, Message.SendStatus.FAILED, False),
        (False, Message.SendStatus.SENT, False),  # the automatic acknowledgement
    ],
)
def test_an_email_is_an_answer_when_a_person_wrote_it_and_it_did_not_fail(by_a_person, status, answer):
    lead = factories.lead()
    author = factories.staff(Role.ADVISOR).user if by_a_person else None
    message = factories.outbound_email(lead=lead, author=author, send_status=status)
    assert Message.objects.filter(ANSWERS, pk=message.pk).exists() == answer
    latest = message.pk if answer else 0
    assert reply_last_answer_id(lead=lead) == reply_last_answer_id(lead=lead, messages=[message]) == latest
    assert not Message.objects.filter(ANSWERED_IN_PERSON, pk=message.pk).exists()


def test_a_voicemail_the_sender_logged_from_the_same_page_does_not_hold_their_email(client):
    """Marc leaves a voicemail and logs it (the log form leaves the composer as it is), then writes
    the email he announced in it."""
    reply_templates_ensure_defaults()
    marc = _login(client, Role.ADVISOR)
    lead = factories.lead(owner=marc)
    opened = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    contact_log(lead=lead, author=marc, channel="phone", outcome="voicemail", notes="Said I would email")
    response = client.post(
        reverse("leads:lead_reply", args=[lead.pk]),
        {**composer_fields(opened), "body": "As said in my voicemail: it is $34,995."},
    )
    assert response.status_code == 302


def test_a_first_answer_on_the_customers_other_inquiry_since_the_page_was_opened_holds_this_one(client):
    """The customer wrote from the website and from a listing site: two new leads. Sophie answers
    one, then Julie, on the page of the other opened before, would send a second first answer."""
    reply_templates_ensure_defaults()
    _login(client, first_name="Julie", last_name="Roy")
    sophie = factories.staff(Role.SUPERVISOR, first_name="Sophie", last_name="Tremblay").user
    first = factories.lead(source="Website", inquiry_type="price")
    second = factories.lead(customer_obj=first.customer, source="AutoTrader", inquiry_type="price")
    opened = client.get(reverse("leads:lead_detail", args=[second.pk])).content.decode()
    other = _client_of(sophie)
    page = other.get(reverse("leads:lead_detail", args=[first.pk])).content.decode()
    assert (
        other.post(
            reverse("leads:lead_reply", args=[first.pk]),
            {**composer_fields(page), "body": "Best price $33,500."},
        ).status_code
        == 302
    )
    fields = {**composer_fields(opened), "body": "It is $34,995."}
    response = client.post(reverse("leads:lead_reply", args=[second.pk]), fields)
    assert response.status_code == 400
    page = _alerts(response.content.decode())
    assert f"Not sent: Sophie Tremblay answered this customer's other inquiry (lead {first.pk}) on " in page
    # That answer is on the other lead's page: linked from here.
    assert "Read that answer there; to send yours as well, tick “Send anyway”." in page
    assert f'href="{reverse("leads:lead_detail", args=[first.pk])}"' in page
    assert _answers(second) == []
    [sophies] = Message.objects.filter(lead=first, author=sophie)
    assert _send_anyway(response.content.decode()) == str(sophies.pk)
    sent = client.post(reverse("leads:lead_reply", args=[second.pk]), {**fields, "send_anyway": sophies.pk})
    assert sent.status_code == 302


def test_an_advisor_is_told_of_an_answer_on_an_inquiry_not_theirs_without_a_link_to_it(client):
    reply_templates_ensure_defaults()
    julie = _login(client, Role.ADVISOR)
    anne = factories.staff(Role.ADVISOR, first_name="Anne", last_name="Lee").user
    theirs = factories.lead(owner=anne)
    mine = factories.lead(owner=julie, customer_obj=theirs.customer)
    opened = client.get(reverse("leads:lead_detail", args=[mine.pk])).content.decode()
    contact_log(lead=theirs, author=anne, channel="text", notes="Best price $33,500.")
    response = client.post(
        reverse("leads:lead_reply", args=[mine.pk]), {**composer_fields(opened), "body": "Hi."}
    )
    assert response.status_code == 400
    page = _alerts(response.content.decode())
    assert f"Not sent: Anne Lee answered this customer's other inquiry (lead {theirs.pk}) on " in page
    assert f'href="{reverse("leads:lead_detail", args=[theirs.pk])}"' not in page
    # Told what they can do instead of reading it there.
    assert "Read that answer there" not in page
    assert "You cannot open that lead: ask Anne Lee what they told the customer" in page


def test_answers_on_the_customers_other_inquiries_before_the_page_was_opened_hold_nothing(client):
    reply_templates_ensure_defaults()
    _login(client)
    marc = factories.staff(Role.ADVISOR).user
    first = factories.lead()
    called = factories.lead(customer_obj=first.customer)
    second = factories.lead(customer_obj=first.customer)
    reply_queue(lead=first, author=marc, subject="RAV4", body="Best price $33,500.")
    contact_log(lead=called, author=marc, channel="phone", outcome="reached")
    opened = client.get(reverse("leads:lead_detail", args=[second.pk])).content.decode()
    # An answer on an inquiry since closed is no first answer to this one.
    lead_transition(lead=first, to_status=LeadStatus.LOST, actor=marc, reason="Bought elsewhere")
    contact_log(lead=first, author=marc, channel="text", notes="Sorry to see you go.")
    response = client.post(
        reverse("leads:lead_reply", args=[second.pk]), {**composer_fields(opened), "body": "It is $34,995."}
    )
    assert response.status_code == 302


# --- reply templates ------------------------------------------------------------------------------


def test_a_reply_template_saved_over_a_change_made_meanwhile_is_refused_with_what_was_typed_kept(client):
    _login(client)
    other = _client_of(factories.staff(Role.SUPERVISOR).user)
    reply_templates_ensure_defaults()
    template = ReplyTemplate.objects.get(inquiry_type="price", language="en")
    url = reverse("leads:replytemplate_edit", args=[template.pk])
    mine = client.get(url).content.decode()
    other.get(url)
    shown = html.unescape(re.search(r'name="shown_updated_at" value="([^"]+)"', mine).group(1))
    fields = {
        "name": template.name,
        "inquiry_type": template.inquiry_type,
        "language": template.language,
        "subject": template.subject,
        "body": template.body,
        "active": "on",
        "shown_updated_at": shown,
    }
    # Julie fixes the body; Sophie, on the page opened before, renames the template.
    assert other.post(url, {**fields, "body": template.body + "\nPrices exclude taxes."}).status_code == 302
    response = client.post(url, {**fields, "name": "Price (RAV4 season)"})
    assert response.status_code == 200
    template.refresh_from_db()
    assert template.name == "Price and availability" and "Prices exclude taxes." in template.body
    page = _alerts(response.content.decode())
    assert "Not saved: someone changed this template on " in page
    # What she typed is kept, beside the template as it is now.
    assert re.search(r'name="name"[^>]*value="Price \(RAV4 season\)"', page)
    assert "Prices exclude taxes." in re.search(r'id="template-now".*?</section>', page, re.S).group(0)
    # Saved again, knowingly: hers replaces it.
    again = html.unescape(
        re.search(r'name="shown_updated_at" value="([^"]+)"', response.content.decode()).group(1)
    )
    assert again != shown
    assert (
        client.post(url, {**fields, "name": "Price (RAV4 season)", "shown_updated_at": again}).status_code
        == 302
    )
    template.refresh_from_db()
    assert template.name == "Price (RAV4 season)"


def test_a_reply_template_saved_from_an_up_to_date_page_is_saved(client):
    _login(client)
    reply_templates_ensure_defaults()
    template = ReplyTemplate.objects.get(inquiry_type="price", language="en")
    url = reverse("leads:replytemplate_edit", args=[template.pk])
    page = client.get(url).content.decode()
    shown = html.unescape(re.search(r'name="shown_updated_at" value="([^"]+)"', page).group(1))
    fields = {
        "name": "Price",
        "inquiry_type": template.inquiry_type,
        "language": template.language,
        "subject": template.subject,
        "body": template.body,
        "active": "on",
    }
    assert client.post(url, {**fields, "shown_updated_at": shown}).status_code == 302
    # The same form sent twice (a double click) changes nothing more: saved, not refused.
    assert client.post(url, {**fields, "shown_updated_at": shown}).status_code == 302
    # A page of the new-template form, or one that sent no time, is not checked.
    assert client.post(url, {**fields, "name": "Prices"}).status_code == 302
    template.refresh_from_db()
    assert template.name == "Prices"
