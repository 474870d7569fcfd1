"""The automatic acknowledgement ("we received your inquiry and will answer you shortly") claimed by
the beat is not sent once a person has answered the customer, whatever the means."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dealership.models import Role
from leads.models import FollowUpEnrollment
from leads.models import FollowUpStepRun as Run
from leads.services import followup as followup_service
from leads.services.followup import (
    followup_dispatch_due,
    followup_draft_approve,
    followup_enroll,
    followup_plans_ensure_defaults,
    followup_run_send,
)
from leads.services.leads import contact_log
from leads.services.replies import reply_queue, reply_templates_ensure_defaults
from tests import factories

pytestmark = pytest.mark.django_db

ACKNOWLEDGEMENT = "Your inquiry at Maple Motors"


@pytest.fixture
def plan(supervisor):
    reply_templates_ensure_defaults()
    return followup_plans_ensure_defaults()


def _claimed_acknowledgement(plan, django_capture_on_commit_callbacks, **lead_fields):
    """A new lead's acknowledgement, claimed by the beat and handed to the send task, not yet sent."""
    now = timezone.now()
    lead = factories.lead(received_at=now - timedelta(minutes=1), **lead_fields)
    followup_enroll(lead=lead, plan=plan, now=lead.received_at)
    queued = []
    with django_capture_on_commit_callbacks(execute=True):
        followup_dispatch_due(now=now + timedelta(days=1), enqueue_send=queued.append)
    [ack] = [run for run in Run.objects.filter(pk__in=queued) if run.step.is_acknowledgement]
    assert ack.status == Run.Status.QUEUED
    return lead, ack


def test_an_acknowledgement_with_nobody_answering_meanwhile_goes_out(
    plan, django_capture_on_commit_callbacks
):
    _lead, ack = _claimed_acknowledgement(plan, django_capture_on_commit_callbacks)
    assert followup_run_send(run_id=ack.pk) == Run.Status.SENT
    assert [message.subject for message in mail.outbox] == [ACKNOWLEDGEMENT]


def test_an_acknowledgement_claimed_before_a_person_answered_by_email_is_not_sent_after_the_answer(
    plan, supervisor, django_capture_on_commit_callbacks
):
    lead, ack = _claimed_acknowledgement(plan, django_capture_on_commit_callbacks)
    # Sophie answers before the worker gets to it (a broker backlog, a mail server retrying).
    with django_capture_on_commit_callbacks(execute=False):
        reply_queue(
            lead=lead, author=supervisor.user, subject="Your RAV4", body="It is $34,995.", shown_answer=0
        )
    assert followup_run_send(run_id=ack.pk) == Run.Status.DONE
    ack.refresh_from_db()
    assert ack.note == followup_service.ANSWERED_BEFORE_ACKNOWLEDGEMENT
    assert mail.outbox == []
    # Only that step: the rest of the plan goes on as before.
    assert lead.followups.get().status == FollowUpEnrollment.Status.ACTIVE


@pytest.mark.parametrize(("channel", "outcome"), [("phone", "voicemail"), ("text", "")])
def test_an_acknowledgement_is_not_sent_after_a_voicemail_or_a_text_logged_meanwhile(
    plan, django_capture_on_commit_callbacks, channel, outcome
):
    marc = factories.staff(Role.ADVISOR).user
    lead, ack = _claimed_acknowledgement(plan, django_capture_on_commit_callbacks, owner=marc)
    contact_log(lead=lead, author=marc, channel=channel, outcome=outcome, notes="Called about the RAV4")
    assert followup_run_send(run_id=ack.pk) == Run.Status.DONE
    ack.refresh_from_db()
    assert ack.note == followup_service.ANSWERED_BEFORE_ACKNOWLEDGEMENT
    assert mail.outbox == []


def test_an_acknowledgement_is_not_sent_after_an_answer_on_the_customers_other_inquiry(
    plan, supervisor, django_capture_on_commit_callbacks
):
    lead, ack = _claimed_acknowledgement(plan, django_capture_on_commit_callbacks)
    other = factories.lead(customer_obj=lead.customer)
    with django_capture_on_commit_callbacks(execute=False):
        reply_queue(lead=other, author=supervisor.user, subject="Your RAV4", body="It is $34,995.")
    assert followup_run_send(run_id=ack.pk) == Run.Status.DONE
    assert mail.outbox == []


def _older_inquiry_answered(days_ago: int, **logged):
    """The customer's earlier inquiry, still open, and the advisor's answer to it `days_ago`."""
    marc = factories.staff(Role.ADVISOR).user
    now = timezone.now()
    older = factories.lead(received_at=now - timedelta(days=30), owner=marc)
    contact_log(lead=older, author=marc, occurred_at=now - timedelta(days=days_ago), **logged)
    return older


@pytest.mark.parametrize(
    "logged",
    [
        {"channel": "phone", "outcome": "reached"},
        {"channel": "phone", "outcome": "voicemail"},
        {"channel": "text", "notes": "Still interested?"},
        {"channel": "visit"},
    ],
    ids=["call", "voicemail", "text", "visit"],
)
def test_a_new_inquiry_is_acknowledged_though_an_older_open_one_was_answered_weeks_ago(
    plan, django_capture_on_commit_callbacks, logged
):
    """A returning customer: their inquiry of last month is still open, answered by phone, text or
    in person then. Their new inquiry has had no answer: it is acknowledged."""
    older = _older_inquiry_answered(29, **logged)
    _lead, ack = _claimed_acknowledgement(
        plan, django_capture_on_commit_callbacks, customer_obj=older.customer
    )
    assert followup_run_send(run_id=ack.pk) == Run.Status.SENT
    assert [message.subject for message in mail.outbox] == [ACKNOWLEDGEMENT]


def test_an_answer_on_the_older_inquiry_after_the_new_one_came_in_holds_its_acknowledgement(
    plan, django_capture_on_commit_callbacks
):
    """The new inquiry came in a minute ago; the advisor texted the customer about the older one
    since, before the beat claimed the acknowledgement: that text answered them."""
    older = _older_inquiry_answered(0, channel="text", notes="The RAV4 is still here.")
    _lead, ack = _claimed_acknowledgement(
        plan, django_capture_on_commit_callbacks, customer_obj=older.customer
    )
    assert followup_run_send(run_id=ack.pk) == Run.Status.DONE
    ack.refresh_from_db()
    assert ack.note == followup_service.ANSWERED_BEFORE_ACKNOWLEDGEMENT
    assert mail.outbox == []


def test_an_acknowledgement_a_supervisor_sends_on_purpose_after_review_goes_out(
    plan, supervisor, django_capture_on_commit_callbacks
):
    lead, ack = _claimed_acknowledgement(plan, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        reply_queue(lead=lead, author=supervisor.user, subject="Your RAV4", body="It is $34,995.")
    # Left in review (a send interrupted), then sent by the supervisor knowing of the answer.
    Run.objects.filter(pk=ack.pk).update(status=Run.Status.NEEDS_REVIEW)
    ack.refresh_from_db()
    followup_draft_approve(
        run=ack,
        actor=supervisor.user,
        subject=ack.subject,
        body=ack.body,
        now=timezone.now(),
        enqueue_send=lambda pk: None,
    )
    assert followup_run_send(run_id=ack.pk) == Run.Status.SENT
    assert [message.subject for message in mail.outbox] == [ACKNOWLEDGEMENT]
