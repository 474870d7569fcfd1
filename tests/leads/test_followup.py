"""Follow-up plans with a controlled clock: timing on business hours, sending once, every stop."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealership.models import Role
from dealership.services import staff_remove
from leads.models import (
    Appointment,
    Channel,
    ConsentBasis,
    Customer,
    Direction,
    FollowUpEnrollment,
    FollowUpPlan,
    FollowUpStep,
    FollowUpStepRun,
    Lead,
    LeadStatus,
    Message,
    ReplyTemplate,
    StopReason,
)
from leads.selectors.appointments import followup_due_count, followup_tasks
from leads.services import followup as followup_service
from leads.services.appointments import appointment_book, appointment_transition
from leads.services.consent import consent_withdraw
from leads.services.followup import (
    FollowUpError,
    followup_dispatch_due,
    followup_draft_approve,
    followup_enroll,
    followup_enroll_arrivals,
    followup_plans_ensure_defaults,
    followup_run_send,
    followup_stop,
    followup_stop_finished,
    followup_task_done,
    step_render,
)
from leads.services.leads import ContactOutcome, contact_log, lead_event_add, lead_merge, lead_transition
from leads.services.mail import DIRECT_MAIL_SOURCE
from leads.services.replies import reply_templates_ensure_defaults
from leads.templatetags.lead_tags import event_summary
from leads.threading import reply_address
from tests import factories
from tests.conftest import mail_server_down

TORONTO = ZoneInfo("America/Toronto")
Run = FollowUpStepRun


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TORONTO)


class Sent(list):
    """Collects the run ids the dispatcher hands to the send task."""

    def __call__(self, run_id: int) -> None:
        self.append(run_id)


@pytest.fixture
def plan(supervisor):
    # The supervisor signs the automatic emails of leads nobody owns yet.
    return followup_plans_ensure_defaults()


def enroll(plan, *, received_at, language="en", vehicles=None, source="Website", **customer_fields):
    customer = factories.customer(language=language, **customer_fields)
    lead = factories.lead(
        customer_obj=customer, received_at=received_at, language=language, vehicles=vehicles, source=source
    )
    return followup_enroll(lead=lead, plan=plan, now=received_at)


def dispatch(now, django_capture_on_commit_callbacks):
    queued = Sent()
    with django_capture_on_commit_callbacks(execute=True):
        counts = followup_dispatch_due(now=now, enqueue_send=queued)
    return counts, queued


def test_the_default_plan_ships_once_in_english_and_french(plan):
    again = followup_plans_ensure_defaults()
    assert again.pk == plan.pk and FollowUpPlan.objects.count() == 1
    steps = list(plan.steps.all())
    assert plan.all_internet_leads
    assert [s.kind for s in steps[:2]] == [FollowUpStep.Kind.AUTO_EMAIL, FollowUpStep.Kind.CALL]
    assert {s.delay_days for s in steps if s.anchor == FollowUpStep.Anchor.INQUIRY} >= {0, 1, 3, 7, 14, 30}
    assert all(s.subject_en and s.body_en and s.subject_fr and s.body_fr for s in steps if s.is_email)


def test_steps_are_scheduled_from_the_inquiry_and_fall_on_opening_hours(plan):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 22, 30))  # Tuesday, after closing
    due = [run.due_at.astimezone(TORONTO) for run in enrollment.runs.order_by("step__position")]
    assert due[0] == local(2026, 3, 11, 9, 0)  # acknowledgement: at opening
    assert due[1] == local(2026, 3, 11, 9, 0)  # same-day call (+2 h is still night)
    assert due[2] == local(2026, 3, 11, 22, 30) + timedelta(hours=10, minutes=30)  # day 1 → Thursday 9:00
    assert due[5] == local(2026, 3, 24, 22, 30) + timedelta(hours=10, minutes=30)  # day 14 → Wednesday 9:00
    # Monthly steps count from the step before them.
    assert due[8] - due[7] >= timedelta(days=30)
    assert all(a <= b for a, b in zip(due, due[1:], strict=False))


@pytest.mark.parametrize(
    ("received_at", "day_3"),
    [
        # Friday evening before the clocks go forward: Monday 20:30, before the 21:00 closing, not
        # 21:30 (so Tuesday morning).
        (local(2026, 3, 6, 20, 30), local(2026, 3, 9, 20, 30)),
        # Friday morning before they go back: Monday 9:30, not 8:30 (so the 9:00 opening).
        (local(2026, 10, 30, 9, 30), local(2026, 11, 2, 9, 30)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_step_days_after_the_inquiry_keeps_its_time_of_day_across_a_clock_change(plan, received_at, day_3):
    enrollment = enroll(plan, received_at=received_at)
    run = enrollment.runs.get(step__delay_days=3, step__anchor=FollowUpStep.Anchor.INQUIRY)
    assert run.due_at.astimezone(TORONTO) == day_3


def test_a_due_email_goes_out_once_in_the_customers_language(plan, django_capture_on_commit_callbacks):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0), language="fr", first_name="Chloé")
    # Her record says English (an import without a language): the French inquiry's mail is French.
    type(enrollment.lead.customer).objects.filter(pk=enrollment.lead.customer_id).update(language="en")
    counts, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    assert counts["queued"] == 1 and len(queued) == 1
    sent_at = local(2026, 3, 10, 10, 2)
    assert followup_run_send(run_id=queued[0], now=sent_at) == Run.Status.SENT
    assert (
        followup_run_send(run_id=queued[0], now=sent_at) == Run.Status.SENT
    )  # a second delivery sends nothing
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("Votre demande")
    assert "Bonjour Chloé" in mail.outbox[0].body
    # Commercial mail: the store's footer with its unsubscribe link, the same in the header, both
    # opening the page in the mail's language.
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("http") and link in mail.outbox[0].body and link.endswith("/?lang=fr")
    run = Run.objects.get(pk=queued[0])
    assert run.consent_basis == ConsentBasis.IMPLIED_INQUIRY.label  # the inquiry itself
    assert run.message.direction == Direction.OUTBOUND
    assert enrollment.lead.events.filter(type="followup_sent").count() == 1
    # The next tick finds nothing new due; the call of the same morning is a task, not an email.
    counts, queued = dispatch(local(2026, 3, 10, 12, 30), django_capture_on_commit_callbacks)
    assert queued == [] and counts["opened"] == 1


def test_a_worker_stopping_mid_send_never_sends_again_and_goes_to_review(
    plan, django_capture_on_commit_callbacks
):
    enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    run = Run.objects.get(pk=queued[0])
    # The worker marked the run "sending" and died before recording "sent".
    Run.objects.filter(pk=run.pk).update(
        status=Run.Status.SENDING, status_changed_at=local(2026, 3, 10, 10, 1)
    )
    # The broker redelivers the task (acks_late): nothing is sent, a person is asked.
    assert followup_run_send(run_id=run.pk) == Run.Status.NEEDS_REVIEW
    assert mail.outbox == []
    user = factories.staff("supervisor").user
    assert [task.pk for task in followup_tasks(user=user)] == [run.pk]


def test_runs_left_behind_are_requeued_or_sent_to_review(plan, django_capture_on_commit_callbacks):
    first = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    second = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    ack_of = {e.pk: e.runs.get(step__position=0) for e in (first, second)}
    Run.objects.filter(pk=ack_of[second.pk].pk).update(status=Run.Status.SENDING)
    counts, queued = dispatch(local(2026, 3, 10, 10, 30), django_capture_on_commit_callbacks)
    assert queued == [ack_of[first.pk].pk]  # its task was lost: queued again, still never sent
    assert counts["to_review"] == 1
    assert Run.objects.get(pk=ack_of[second.pk].pk).status == Run.Status.NEEDS_REVIEW


def _stop_reason(enrollment):
    enrollment.refresh_from_db()
    return enrollment.status, enrollment.stop_reason


@pytest.mark.parametrize(
    ("make_it_happen", "reason"),
    [
        (lambda lead: lead_event_add(lead=lead, type="customer_replied"), StopReason.CUSTOMER_REPLIED),
        (
            lambda lead: Message.objects.create(
                lead=lead,
                customer=lead.customer,
                direction=Direction.INBOUND,
                occurred_at=local(2026, 3, 10, 11),
            ),
            StopReason.CUSTOMER_REPLIED,
        ),
        (
            lambda lead: lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="Bought elsewhere"),
            StopReason.LOST,
        ),
        (
            lambda lead: lead_transition(
                lead=lead,
                to_status=LeadStatus.NOT_A_LEAD,
                actor=factories.staff(Role.SUPERVISOR).user,
                reason="Sent to the wrong store",
            ),
            StopReason.NOT_A_LEAD,
        ),
        (
            lambda lead: (
                lead_transition(lead=lead, to_status=LeadStatus.CONTACTED),
                lead_transition(lead=lead, to_status=LeadStatus.SOLD),
            ),
            StopReason.SOLD,
        ),
    ],
    ids=["reply-event", "inbound-message", "lost", "not-a-lead", "sold"],
)
def test_a_plan_stops_by_itself_and_says_why(
    plan, django_capture_on_commit_callbacks, make_it_happen, reason
):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    make_it_happen(enrollment.lead)
    counts, queued = dispatch(local(2026, 3, 12, 10, 0), django_capture_on_commit_callbacks)
    assert queued == [] and mail.outbox == []
    assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.STOPPED, reason)
    assert not enrollment.runs.filter(status=Run.Status.SCHEDULED).exists()
    event = enrollment.lead.events.get(type="followup_stopped")
    assert event.params["reason"] == reason


@pytest.mark.parametrize(
    ("channel", "outcome", "stops"),
    [
        (Channel.PHONE, ContactOutcome.REACHED, True),
        (Channel.VISIT, "", True),
        (Channel.PHONE, ContactOutcome.VOICEMAIL, False),
        (Channel.PHONE, ContactOutcome.NO_ANSWER, False),
    ],
    ids=["spoke-on-the-phone", "came-in", "voicemail", "no-answer"],
)
def test_a_customer_who_answered_by_phone_or_in_person_gets_no_more_automatic_emails(
    plan, supervisor, django_capture_on_commit_callbacks, channel, outcome, stops
):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    contact_log(
        lead=enrollment.lead,
        author=supervisor.user,
        channel=channel,
        outcome=outcome,
        notes="Coming Saturday to see it",
        occurred_at=local(2026, 3, 10, 13, 0),
    )
    _, queued = dispatch(local(2026, 3, 11, 10, 0), django_capture_on_commit_callbacks)
    if stops:
        assert queued == []
        assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.STOPPED, StopReason.CUSTOMER_REPLIED)
    else:
        assert len(queued) == 2  # the acknowledgement and the day-1 email: the plan goes on
        assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.ACTIVE, "")


def test_a_reply_between_claim_and_send_stops_the_email(plan, django_capture_on_commit_callbacks):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    lead_event_add(lead=enrollment.lead, type="customer_replied")
    assert followup_run_send(run_id=queued[0]) == Run.Status.CANCELLED
    assert mail.outbox == []
    assert _stop_reason(enrollment)[1] == StopReason.CUSTOMER_REPLIED


def test_booking_an_appointment_stops_the_plan(plan):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    advisor = factories.advisor()
    appointment_book(
        lead=enrollment.lead,
        advisor=advisor,
        starts_at=local(2026, 3, 11, 10, 0),
        purpose="test_drive",
        now=local(2026, 3, 10, 10, 30),
    )
    assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.STOPPED, StopReason.APPOINTMENT_BOOKED)


def test_no_consent_for_commercial_mail_stops_the_plan(plan, django_capture_on_commit_callbacks):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    consent_withdraw(
        customer=enrollment.lead.customer,
        channels=["email"],
        source="unsubscribe link",
        at=local(2026, 3, 10, 10, 0, 30),
    )
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    assert queued == []
    assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.STOPPED, StopReason.UNSUBSCRIBED)
    assert "withdrawn" in enrollment.lead.events.get(type="followup_stopped").params["detail"]


def test_without_an_address_to_write_to_the_emails_are_skipped_and_the_calls_go_on(
    plan, django_capture_on_commit_callbacks
):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0), email="bounced@example.com")
    # The address bounced after the inquiry came in.
    Customer.objects.filter(pk=enrollment.lead.customer_id).update(email_undeliverable=True)
    _, queued = dispatch(local(2026, 3, 10, 12, 5), django_capture_on_commit_callbacks)
    assert queued == [] and mail.outbox == []
    acknowledgement, call = enrollment.runs.order_by("step__position")[:2]
    assert (acknowledgement.status, acknowledgement.note) == (
        Run.Status.CANCELLED,
        followup_service.NO_ADDRESS,
    )
    assert call.status == Run.Status.OPEN  # the supervisor calls instead
    assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.ACTIVE, "")


def test_a_customer_who_asked_not_to_be_called_gets_no_call_and_still_the_emails(
    plan, django_capture_on_commit_callbacks
):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    consent_withdraw(
        customer=enrollment.lead.customer,
        channels=["phone"],
        source="unsubscribe link",
        at=local(2026, 3, 10, 10, 1),
    )
    _, queued = dispatch(local(2026, 3, 10, 12, 5), django_capture_on_commit_callbacks)
    acknowledgement, call = enrollment.runs.order_by("step__position")[:2]
    assert queued == [acknowledgement.pk]  # the acknowledgement still goes
    call.refresh_from_db()
    assert (call.status, call.note) == (Run.Status.CANCELLED, followup_service.DO_NOT_CALL)
    assert not Run.objects.filter(status=Run.Status.OPEN).exists()  # nobody is asked to call


def test_an_email_queued_or_approved_before_an_unsubscribe_is_not_sent(
    plan, django_capture_on_commit_callbacks
):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    consent_withdraw(
        customer=enrollment.lead.customer,
        channels=["email"],
        source="unsubscribe link",
        at=local(2026, 3, 10, 10, 2),
    )
    assert followup_run_send(run_id=queued[0], now=local(2026, 3, 10, 10, 3)) == Run.Status.CANCELLED
    assert mail.outbox == []
    assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.STOPPED, StopReason.UNSUBSCRIBED)


def test_an_approved_draft_keeps_the_unsubscribe_link_and_a_stopped_plan_sends_nothing(
    plan, django_capture_on_commit_callbacks
):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    supervisor = factories.staff("supervisor").user
    dispatch(local(2026, 3, 17, 10, 0), django_capture_on_commit_callbacks)
    draft = enrollment.runs.get(step__kind=FollowUpStep.Kind.DRAFT_EMAIL)
    approve = dict(
        run=draft, actor=supervisor, subject="Hi", now=local(2026, 3, 17, 10, 5), enqueue_send=Sent()
    )
    followup_draft_approve(**approve, body="A short note, the footer cut.")
    draft.refresh_from_db()
    assert draft.body.startswith("A short note, the footer cut.") and "/u/" in draft.body
    Run.objects.filter(pk=draft.pk).update(status=Run.Status.NEEDS_REVIEW)
    followup_stop(enrollment=enrollment, reason=StopReason.BY_HAND, now=local(2026, 3, 17, 10, 6))
    with pytest.raises(FollowUpError, match="follow-up has stopped"):
        followup_draft_approve(**approve, body="Again")


def test_a_subject_too_long_once_filled_in_puts_that_step_in_review_and_the_rest_goes_on(
    plan, django_capture_on_commit_callbacks
):
    step = plan.steps.get(position=0)
    FollowUpStep.objects.filter(pk=step.pk).update(
        reply_template=None, subject_en="A" * 180 + " {{ vehicle }}", body_en="Hi"
    )  # 194 characters as written
    hybrid = [{"year": 2026, "make": "Toyota", "model": "RAV4 Hybrid", "trim": "XSE Premium"}]
    too_long = enroll(plan, received_at=local(2026, 3, 10, 10, 0), vehicles=hybrid)
    other = enroll(plan, received_at=local(2026, 3, 10, 10, 0), language="fr")
    counts, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    run = too_long.runs.get(step=step)
    assert run.status == Run.Status.NEEDS_REVIEW and "longer than 200 characters" in run.note
    assert other.runs.get(step=step).status == Run.Status.QUEUED and len(queued) == 1


def test_calls_and_drafts_wait_on_the_supervisors_list(plan, django_capture_on_commit_callbacks):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    supervisor = factories.staff("supervisor").user
    dispatch(local(2026, 3, 10, 12, 5), django_capture_on_commit_callbacks)
    call = enrollment.runs.get(step__kind=FollowUpStep.Kind.CALL)
    assert call.status == Run.Status.OPEN and followup_due_count(user=supervisor) == 1
    with django_capture_on_commit_callbacks(execute=True):  # the badge counts again once it commits
        followup_task_done(run=call, actor=supervisor, now=local(2026, 3, 10, 12, 10), note="Left a message")
    assert followup_due_count(user=supervisor) == 0

    dispatch(local(2026, 3, 17, 10, 0), django_capture_on_commit_callbacks)
    draft = enrollment.runs.get(step__kind=FollowUpStep.Kind.DRAFT_EMAIL)
    assert draft.status == Run.Status.OPEN and "Hello Pat" in draft.body
    queued = Sent()
    with django_capture_on_commit_callbacks(execute=True):
        followup_draft_approve(
            run=draft,
            actor=supervisor,
            subject="About your RAV4",
            body="Hello Pat, a personal note.",
            now=local(2026, 3, 17, 10, 5),
            enqueue_send=queued,
        )
    assert followup_run_send(run_id=queued[0], now=local(2026, 3, 17, 10, 6)) == Run.Status.SENT
    assert mail.outbox[-1].subject == "About your RAV4"
    with pytest.raises(FollowUpError):
        followup_task_done(run=draft, actor=supervisor, now=local(2026, 3, 17, 10, 6))


def test_the_task_badge_is_counted_once_and_again_when_a_plan_stops(plan, django_capture_on_commit_callbacks):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    supervisor = factories.staff("supervisor").user
    dispatch(local(2026, 3, 10, 12, 5), django_capture_on_commit_callbacks)
    assert followup_due_count(user=supervisor) == 1
    with CaptureQueriesContext(connection) as captured:
        assert followup_due_count(user=supervisor) == 1
    assert len(captured) == 0
    with django_capture_on_commit_callbacks(execute=True):
        followup_stop(enrollment=enrollment, reason=StopReason.BY_HAND, now=local(2026, 3, 10, 12, 6))
    assert followup_due_count(user=supervisor) == 0
    assert followup_due_count(user=factories.staff("advisor").user) == 0


def test_new_leads_enter_the_plan_their_source_names(plan, django_capture_on_commit_callbacks):
    autotrader = FollowUpPlan.objects.create(name="AutoTrader leads", sources=["AutoTrader"])
    FollowUpStep.objects.create(plan=autotrader, subject_en="Hi", body_en="Hello")
    received = local(2026, 3, 10, 10, 0)
    from_autotrader = factories.lead(source="AutoTrader", received_at=received)
    # The same provider named by its web address, as the forms it mails from its domain name it.
    from_autotrader_ca = factories.lead(source="www.autotrader.ca", received_at=received)
    from_website = factories.lead(source="Website", received_at=received)
    counts, _ = dispatch(received + timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert counts["enrolled"] == 3
    assert from_autotrader.followups.get().plan == autotrader
    assert from_autotrader_ca.followups.get().plan == autotrader
    assert from_website.followups.get().plan == plan


def test_new_leads_enter_their_plans_from_one_read_of_the_plans(plan):
    received = local(2026, 3, 10, 10, 0)
    for source in ("AutoTrader", "Website", "Kijiji Autos"):
        factories.lead(source=source, received_at=received)
    with CaptureQueriesContext(connection) as captured:
        assert followup_enroll_arrivals(now=received + timedelta(minutes=1)) == 3
    plan_reads = [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "leads_followupplan"' in query["sql"] or 'FROM "leads_followupstep"' in query["sql"]
    ]
    assert len(plan_reads) == 2  # the active plans, then their steps


def test_stopping_plans_reads_each_enrollment_once_with_its_lead_and_plan(plan):
    def stop_lost(leads: int, day: int) -> int:
        enrollments = [enroll(plan, received_at=local(2026, 3, day, 10, 0)) for _ in range(leads)]
        Lead.objects.filter(pk__in=[e.lead_id for e in enrollments]).update(status=LeadStatus.LOST)
        with CaptureQueriesContext(connection) as captured:
            assert followup_stop_finished(now=local(2026, 3, day, 12, 0)) == leads
        assert all(e.lead.events.filter(type="followup_stopped").exists() for e in enrollments)
        return sum(query["sql"].startswith("SELECT") for query in captured.captured_queries)

    one, five = stop_lost(1, day=10), stop_lost(5, day=11)
    assert five - one == 4  # the lock of each enrollment, its lead and plan read with it


def test_a_lead_enrolled_by_hand_starts_now_and_only_once(plan):
    supervisor = factories.staff("supervisor").user
    lead = factories.lead(received_at=local(2026, 1, 5, 10, 0))
    now = local(2026, 3, 10, 10, 0)
    enrollment = followup_enroll(lead=lead, plan=plan, now=now, actor=supervisor)
    assert enrollment.runs.order_by("due_at").first().due_at == now
    with pytest.raises(FollowUpError):
        followup_enroll(lead=lead, plan=plan, now=now, actor=supervisor)
    assert followup_stop(enrollment=enrollment, reason=StopReason.BY_HAND, now=now, actor=supervisor)
    assert not followup_stop(enrollment=enrollment, reason=StopReason.BY_HAND, now=now)


def test_an_unreachable_mail_server_leaves_the_email_queued_for_the_retry(
    plan, django_capture_on_commit_callbacks, settings
):
    enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    with mail_server_down(settings), pytest.raises(followup_service.MailServerUnavailable):
        followup_run_send(run_id=queued[0], now=local(2026, 3, 10, 10, 2))
    assert Run.objects.get(pk=queued[0]).status == Run.Status.QUEUED
    assert followup_run_send(run_id=queued[0], now=local(2026, 3, 10, 10, 3)) == Run.Status.SENT
    assert len(mail.outbox) == 1


def test_a_step_may_send_a_reply_template_in_the_customers_language(supervisor):
    reply_templates_ensure_defaults()
    english = ReplyTemplate.objects.get(name="Price and availability", language="en")
    plan = FollowUpPlan.objects.create(name="Price questions")
    step = FollowUpStep.objects.create(plan=plan, reply_template=english)
    customer = factories.customer(language="fr", first_name="Léa")
    lead = factories.lead(
        customer_obj=customer, language="fr", vehicles=[{"year": 2026, "make": "Honda", "model": "Civic"}]
    )
    enrollment = followup_enroll(lead=lead, plan=plan, now=local(2026, 3, 10, 10, 0))
    subject, body = step_render(step=step, enrollment=enrollment, store_signer=supervisor.user)
    assert subject == "Votre 2026 Honda Civic chez Maple Motors"
    assert body.startswith("Bonjour Léa")


def test_no_second_acknowledgement_when_the_store_already_wrote(plan, django_capture_on_commit_callbacks):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0))
    lead = enrollment.lead
    Message.objects.create(  # mail ingestion's automatic acknowledgement
        lead=lead, customer=lead.customer, direction=Direction.OUTBOUND, occurred_at=local(2026, 3, 10, 10, 0)
    )
    counts, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    assert queued == [] and mail.outbox == []
    assert enrollment.runs.get(step__position=0).status == Run.Status.DONE
    # The rest of the plan goes on.
    _, queued = dispatch(local(2026, 3, 11, 10, 1), django_capture_on_commit_callbacks)
    assert len(queued) == 1


def test_a_tick_reads_as_much_for_many_due_steps_as_for_one(plan, django_capture_on_commit_callbacks):
    """Due rows stay locked while the tick runs: each claimed step costs its own write, no reads."""

    def tick(leads: int, day: int):
        for _ in range(leads):
            # Each lead asks about a stock vehicle: its price and photos fill the merge fields.
            stock = factories.vehicle()
            enroll(
                plan, received_at=local(2026, 3, day, 10, 0), vehicles=[{"stock_number": stock.stock_number}]
            )
        with CaptureQueriesContext(connection) as captured:
            counts, _ = dispatch(local(2026, 3, day, 12, 30), django_capture_on_commit_callbacks)
        Run.objects.update(status=Run.Status.DONE)  # out of the next tick
        reads = [query for query in captured.captured_queries if query["sql"].startswith("SELECT")]
        return counts, len(captured.captured_queries), len(reads)

    counts, one_lead, one_lead_reads = tick(1, day=10)
    assert (counts["queued"], counts["opened"]) == (1, 1)  # the acknowledgement and the call
    counts, six_leads, six_leads_reads = tick(6, day=11)
    assert (counts["queued"], counts["opened"]) == (6, 6)
    assert six_leads_reads == one_lead_reads
    assert six_leads - one_lead == 2 * 5  # one update per extra step claimed


@pytest.mark.parametrize("who_left", ["owner", "enroller"])
def test_an_advisor_who_left_does_not_sign_the_follow_up_emails(
    plan, supervisor, django_capture_on_commit_callbacks, who_left
):
    ann = factories.advisor(first_name="Ann", last_name="Leftco")
    received = local(2026, 3, 10, 10, 0)
    if who_left == "owner":
        lead = factories.lead(received_at=received, owner=ann.user)
        followup_enroll(lead=lead, plan=plan, now=received)
    else:
        lead = factories.lead(received_at=received)
        followup_enroll(lead=lead, plan=plan, now=received, actor=ann.user)
    ann.user.is_active = False  # Ann left the dealership
    ann.user.save(update_fields=["is_active"])
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    followup_run_send(run_id=queued[0], now=local(2026, 3, 10, 10, 2))
    # The store's supervisor signs instead: the customer's answer reaches someone.
    assert "Leftco" not in mail.outbox[0].body and ann.user.email not in mail.outbox[0].body
    assert supervisor.user.email in mail.outbox[0].body


def test_a_customer_with_two_inquiries_gets_one_acknowledgement_and_one_plan_at_a_time(
    plan, supervisor, django_capture_on_commit_callbacks
):
    customer = factories.customer()
    autotrader = factories.lead(
        customer_obj=customer, source="AutoTrader", received_at=local(2026, 3, 10, 10, 0)
    )
    website = factories.lead(customer_obj=customer, source="Website", received_at=local(2026, 3, 10, 10, 3))
    counts, queued = dispatch(local(2026, 3, 10, 10, 5), django_capture_on_commit_callbacks)
    assert counts["enrolled"] == 1 and len(queued) == 1
    followup_run_send(run_id=queued[0], now=local(2026, 3, 10, 10, 6))
    assert [message.subject for message in mail.outbox] == ["Your inquiry at Maple Motors"]
    with pytest.raises(FollowUpError, match=f"already follows a plan on lead {autotrader.pk}"):
        followup_enroll(lead=website, plan=plan, now=local(2026, 3, 10, 10, 7), actor=supervisor.user)
    # The first plan stops: the second inquiry then enters one, without a second acknowledgement.
    followup_stop(
        enrollment=autotrader.followups.get(), reason=StopReason.BY_HAND, now=local(2026, 3, 10, 10, 30)
    )
    counts, queued = dispatch(local(2026, 3, 10, 10, 31), django_capture_on_commit_callbacks)
    assert counts["enrolled"] == 1 and queued == []
    acknowledgement = website.followups.get(status=FollowUpEnrollment.Status.ACTIVE).runs.get(
        step__position=0
    )
    assert (acknowledgement.status, acknowledgement.note) == (
        Run.Status.DONE,
        followup_service.ALREADY_ACKNOWLEDGED,
    )
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("received_at", "reopens"),
    [
        # Friday evening before Thanksgiving Monday: the day-1 and day-3 emails both fall closed.
        (local(2026, 10, 9, 20, 30), local(2026, 10, 13, 9, 0)),
        # The same before Victoria Day.
        (local(2026, 5, 15, 20, 30), local(2026, 5, 19, 9, 0)),
    ],
    ids=["thanksgiving", "victoria-day"],
)
def test_emails_moved_past_a_long_weekend_go_out_one_a_day_in_order(
    plan, django_capture_on_commit_callbacks, received_at, reopens
):
    enroll(plan, received_at=received_at)

    def emails_sent(now) -> list[str]:
        _, queued = dispatch(now, django_capture_on_commit_callbacks)
        runs = Run.objects.filter(pk__in=queued)
        subjects = [subject.split(" of the ")[0] for subject in runs.values_list("subject", flat=True)]
        runs.update(status=Run.Status.SENT)
        return subjects

    assert emails_sent(received_at + timedelta(minutes=1)) == ["Your inquiry at Maple Motors"]
    assert emails_sent(reopens + timedelta(minutes=1)) == ["Photos and details"]
    assert emails_sent(reopens + timedelta(hours=11)) == []
    assert emails_sent(reopens + timedelta(days=1, minutes=1)) == ["What is your current vehicle worth?"]


def test_a_call_logged_in_the_minute_the_lead_came_in_stops_the_plan(
    plan, supervisor, django_capture_on_commit_callbacks
):
    enrollment = enroll(plan, received_at=local(2026, 3, 10, 10, 0, 40))
    factories.inbound_email(lead=enrollment.lead)  # the inquiry itself does not stop the plan
    _, queued = dispatch(local(2026, 3, 10, 10, 0, 50), django_capture_on_commit_callbacks)
    assert len(queued) == 1
    contact_log(
        lead=enrollment.lead,
        author=supervisor.user,
        channel=Channel.PHONE,
        outcome=ContactOutcome.REACHED,
        occurred_at=local(2026, 3, 10, 10, 0),  # the form's time, to the minute
    )
    _, queued = dispatch(local(2026, 3, 11, 10, 1), django_capture_on_commit_callbacks)
    assert queued == []  # no "Photos and details" the next day
    assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.STOPPED, StopReason.CUSTOMER_REPLIED)


def test_a_second_inquiry_enters_its_plan_from_now_once_the_first_plan_stops_days_later(plan):
    customer = factories.customer()
    first = factories.lead(customer_obj=customer, source="AutoTrader", received_at=local(2026, 3, 10, 10, 0))
    assert followup_enroll_arrivals(now=local(2026, 3, 10, 10, 1)) == 1
    second = factories.lead(customer_obj=customer, source="Website", received_at=local(2026, 3, 10, 11, 0))
    assert followup_enroll_arrivals(now=local(2026, 3, 10, 11, 1)) == 0  # waits for the first plan
    # Two days later the first inquiry is lost: its plan stops; the second is still new.
    lead_transition(lead=first, to_status=LeadStatus.LOST, reason="Bought that car elsewhere")
    assert followup_stop_finished(now=local(2026, 3, 12, 10, 0)) == 1
    now = local(2026, 3, 12, 10, 1)
    assert followup_enroll_arrivals(now=now) == 1
    enrollment = second.followups.get(status=FollowUpEnrollment.Status.ACTIVE)
    # From now: not every step due at once from its inquiry two days ago.
    assert enrollment.runs.order_by("due_at").first().due_at == now
    assert not enrollment.runs.filter(due_at__lt=now).exists()


def test_an_advisor_taken_off_the_staff_does_not_sign(plan, supervisor, django_capture_on_commit_callbacks):
    ann = factories.advisor(first_name="Ann", last_name="Leftco")
    received = local(2026, 3, 10, 10, 0)
    lead = factories.lead(received_at=received, owner=ann.user)
    followup_enroll(lead=lead, plan=plan, now=received)
    staff_remove(staff=ann)  # Ann left: taken off the staff, her login kept
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    followup_run_send(run_id=queued[0], now=local(2026, 3, 10, 10, 2))
    assert "Leftco" not in mail.outbox[0].body and ann.user.email not in mail.outbox[0].body
    assert supervisor.user.email in mail.outbox[0].body


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_an_owner_who_left_in_a_store_without_a_supervisor_still_gets_the_acknowledgement_out(
    db, django_capture_on_commit_callbacks, role
):
    answers_for_the_store = factories.staff(role)
    plan = followup_plans_ensure_defaults()
    ann = factories.advisor(first_name="Ann", last_name="Leftco")
    received = local(2026, 3, 10, 10, 0)
    lead = factories.lead(received_at=received, owner=ann.user)
    followup_enroll(lead=lead, plan=plan, now=received)
    ann.user.is_active = False
    ann.user.save(update_fields=["is_active"])
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    assert len(queued) == 1
    followup_run_send(run_id=queued[0], now=local(2026, 3, 10, 10, 2))
    assert answers_for_the_store.user.email in mail.outbox[0].body


# --- a customer's second inquiry, and the customer in touch ----------------------------------------


def _second_inquiry_waiting():
    """A customer's inquiry in its plan since 10:00, and their second one, come in at 11:00, waiting."""
    customer = factories.customer()
    first = factories.lead(customer_obj=customer, source="AutoTrader", received_at=local(2026, 3, 10, 10, 0))
    assert followup_enroll_arrivals(now=local(2026, 3, 10, 10, 1)) == 1
    second = factories.lead(customer_obj=customer, source="Website", received_at=local(2026, 3, 10, 11, 0))
    factories.inbound_email(lead=second)  # the inquiry itself, as mail ingestion stores it
    assert followup_enroll_arrivals(now=local(2026, 3, 10, 11, 1)) == 0
    return first, second


def _reached(lead, supervisor):
    contact_log(
        lead=lead,
        author=supervisor.user,
        channel=Channel.PHONE,
        outcome=ContactOutcome.REACHED,
        notes="Coming Saturday",
        occurred_at=local(2026, 3, 10, 13, 0),
    )


def _sold(lead, supervisor):
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD)


def _booked(lead, supervisor):
    appointment_book(
        lead=lead,
        advisor=factories.advisor(),
        starts_at=local(2026, 3, 11, 10, 0),
        purpose="test_drive",
        now=local(2026, 3, 10, 13, 0),
    )


@pytest.mark.parametrize(
    ("in_touch", "reason", "shown"),
    [
        (
            lambda lead, _: lead_event_add(lead=lead, type="customer_replied"),
            StopReason.CUSTOMER_REPLIED,
            "the customer replied",
        ),
        (_reached, StopReason.CUSTOMER_REPLIED, "the customer replied"),
        (_booked, StopReason.APPOINTMENT_BOOKED, "an appointment was booked"),
        (_sold, StopReason.SOLD, "the lead was sold"),
    ],
    ids=["replied", "call-logged", "booked", "sold"],
)
def test_a_customer_in_touch_on_their_first_inquiry_leaves_the_second_to_the_staff(
    plan, supervisor, django_capture_on_commit_callbacks, in_touch, reason, shown
):
    first, second = _second_inquiry_waiting()
    in_touch(first, supervisor)
    dispatch(local(2026, 3, 10, 14, 0), django_capture_on_commit_callbacks)
    assert _stop_reason(first.followups.get()) == (FollowUpEnrollment.Status.STOPPED, reason)
    # Every tick after: the second inquiry stays the staff's, new and in no plan, and says why once.
    for now in (local(2026, 3, 10, 14, 1), local(2026, 3, 10, 14, 2), local(2026, 3, 11, 13, 0)):
        counts, queued = dispatch(now, django_capture_on_commit_callbacks)
        assert counts["enrolled"] == 0 and queued == []
    assert not second.followups.exists()
    second.refresh_from_db()
    assert second.status == LeadStatus.NEW and second.first_response_at is None
    held = second.events.get(type="followup_held")
    assert held.params == {"on_lead": first.pk, "reason": reason}
    assert event_summary(held) == (
        "Not put in a follow-up plan because the customer is in touch: "
        f"their plan on lead {first.pk} stopped ({shown})"
    )


def test_a_second_inquiry_waiting_for_days_stays_out_once_the_customer_answers_on_the_first(
    plan, django_capture_on_commit_callbacks
):
    first, second = _second_inquiry_waiting()
    dispatch(local(2026, 3, 12, 10, 0), django_capture_on_commit_callbacks)
    lead_event_add(lead=first, type="customer_replied")  # two days on, the customer answers
    for now in (local(2026, 3, 12, 10, 1), local(2026, 3, 12, 10, 2), local(2026, 3, 12, 10, 3)):
        counts, _ = dispatch(now, django_capture_on_commit_callbacks)
        assert counts["enrolled"] == 0
    assert _stop_reason(first.followups.get())[1] == StopReason.CUSTOMER_REPLIED
    assert not second.followups.exists()
    assert second.events.filter(type="followup_held").count() == 1


@pytest.mark.parametrize(
    "ends",
    [
        lambda first, _, now: followup_stop(
            enrollment=first.followups.get(), reason=StopReason.COMPLETED, now=now
        ),
        lambda first, _, now: followup_stop(
            enrollment=first.followups.get(), reason=StopReason.BY_HAND, now=now
        ),
        lambda first, _, now: (
            lead_transition(lead=first, to_status=LeadStatus.LOST, reason="Bought elsewhere"),
            followup_stop_finished(now=now),
        ),
        # The first inquiry was a duplicate of the second: merged into it, it is lost.
        lambda first, second, now: (
            lead_merge(target=second, duplicate=first),
            followup_stop_finished(now=now),
        ),
    ],
    ids=["completed", "by-hand", "lost", "merged"],
)
def test_a_plan_ended_without_the_customer_in_touch_lets_the_second_inquiry_in(plan, ends):
    first, second = _second_inquiry_waiting()
    ends(first, second, local(2026, 3, 12, 10, 0))
    assert _stop_reason(first.followups.get())[0] != FollowUpEnrollment.Status.ACTIVE
    assert followup_enroll_arrivals(now=local(2026, 3, 12, 10, 1)) == 1
    assert second.followups.get().status == FollowUpEnrollment.Status.ACTIVE
    assert not second.events.filter(type="followup_held").exists()


@pytest.mark.parametrize(
    "in_touch",
    [
        # The customer answers the store's mail on the second inquiry.
        lambda second, _: factories.inbound_mail(
            factories.raw_mail(
                from_address=second.customer.email,
                to=reply_address(second.pk),
                subject="Re: your inquiry",
                body="Yes, I can come Saturday.",
            )
        ),
        _reached,
        lambda second, supervisor: contact_log(
            lead=second,
            author=supervisor.user,
            channel=Channel.VISIT,
            notes="Came in to see the CR-V",
            occurred_at=local(2026, 3, 10, 13, 0),
        ),
    ],
    ids=["replied-by-mail", "call-logged", "came-in"],
)
def test_the_customer_in_touch_on_their_second_inquiry_stops_the_plan_of_the_first(
    plan, supervisor, django_capture_on_commit_callbacks, in_touch
):
    first, second = _second_inquiry_waiting()
    in_touch(second, supervisor)
    counts, queued = dispatch(local(2026, 3, 11, 10, 0), django_capture_on_commit_callbacks)
    enrollment = first.followups.get()
    assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.STOPPED, StopReason.CUSTOMER_REPLIED)
    assert queued == []  # no "Photos and details" on the first inquiry the next day
    stopped = first.events.get(type="followup_stopped")
    assert event_summary(stopped) == (
        f"Follow-up plan “{plan.name}” stopped: the customer replied (lead {second.pk})"
    )
    # Nor does the second inquiry enter a plan: the customer is talking with the store.
    counts, queued = dispatch(local(2026, 3, 11, 10, 1), django_capture_on_commit_callbacks)
    assert counts["enrolled"] == 0 and not second.followups.exists()
    second.refresh_from_db()
    # Answered by phone or in person, it is contacted; still new, it says why it has no plan.
    held = second.events.filter(type="followup_held", params__on_lead=first.pk)
    assert held.count() == (second.status == LeadStatus.NEW)


@pytest.mark.parametrize(
    "done, reason",
    [(_booked, StopReason.APPOINTMENT_BOOKED), (_sold, StopReason.SOLD)],
    ids=["booked", "bought"],
)
def test_a_visit_booked_or_a_car_bought_on_the_second_inquiry_stops_the_plan_of_the_first(
    plan, supervisor, django_capture_on_commit_callbacks, done, reason
):
    first, second = _second_inquiry_waiting()
    done(second, supervisor)
    counts, queued = dispatch(local(2026, 3, 11, 10, 0), django_capture_on_commit_callbacks)
    assert _stop_reason(first.followups.get()) == (FollowUpEnrollment.Status.STOPPED, reason)
    assert queued == []  # no "still interested?" to a customer coming in, or who just bought
    stopped = first.events.get(type="followup_stopped")
    assert event_summary(stopped) == (
        f"Follow-up plan “{plan.name}” stopped: {reason.label[:1].lower()}{reason.label[1:]} (lead {second.pk})"
    )
    # A plan stopped by its own lead's sale names no other lead.
    assert not first.events.filter(type="followup_held").exists()


@pytest.mark.parametrize("outcome", [None, Appointment.Status.SHOWN], ids=["coming", "came"])
def test_a_visit_booked_before_the_plan_on_another_inquiry_stops_it(
    plan, django_capture_on_commit_callbacks, outcome
):
    customer = factories.customer()
    earlier = factories.lead(customer_obj=customer, source="Website", received_at=local(2026, 3, 9, 10, 0))
    # Monday: a test drive booked on the first inquiry for Wednesday; the plan takes none of it.
    visit = appointment_book(
        lead=earlier,
        advisor=factories.advisor(),
        starts_at=local(2026, 3, 11, 10, 0),
        purpose="test_drive",
        now=local(2026, 3, 9, 11, 0),
    )
    Appointment.objects.filter(pk=visit.pk).update(created_at=local(2026, 3, 9, 11, 0))
    # Tuesday: a second inquiry, about another car, enters the plan.
    second = factories.lead(customer_obj=customer, source="AutoTrader", received_at=local(2026, 3, 10, 10, 0))
    assert followup_enroll_arrivals(now=local(2026, 3, 10, 10, 1)) == 1
    if outcome:  # Wednesday: the customer came in
        appointment_transition(appointment=visit, to_status=outcome, now=local(2026, 3, 11, 10, 30))
    counts, queued = dispatch(local(2026, 3, 11, 11, 0), django_capture_on_commit_callbacks)
    # Coming in, or in this morning: no "Photos and details" by mail meanwhile.
    assert queued == []
    enrollment = second.followups.get()
    assert _stop_reason(enrollment) == (FollowUpEnrollment.Status.STOPPED, StopReason.APPOINTMENT_BOOKED)
    assert second.events.get(type="followup_stopped").params["on_lead"] == earlier.pk


def test_the_waiting_duplicate_merged_into_the_followed_lead_does_not_stop_its_plan(plan):
    first, second = _second_inquiry_waiting()  # the same car asked on another site: a duplicate
    lead_merge(target=first, duplicate=second)
    followup_stop_finished(now=local(2026, 3, 10, 12, 0))
    assert _stop_reason(first.followups.get()) == (FollowUpEnrollment.Status.ACTIVE, "")
    # The customer's answer after the merge still stops it.
    factories.inbound_email(lead=first, occurred_at=local(2026, 3, 10, 13, 0))
    followup_stop_finished(now=local(2026, 3, 10, 13, 1))
    assert _stop_reason(first.followups.get()) == (
        FollowUpEnrollment.Status.STOPPED,
        StopReason.CUSTOMER_REPLIED,
    )


def test_the_second_inquiry_itself_or_a_voicemail_on_it_does_not_stop_the_plan_of_the_first(
    plan, supervisor, django_capture_on_commit_callbacks
):
    first, second = _second_inquiry_waiting()
    # The customer writes about the second vehicle again (not an answer to the store), and a message
    # is left on their phone.
    factories.inbound_email(lead=second, occurred_at=local(2026, 3, 10, 11, 30))
    contact_log(
        lead=second,
        author=supervisor.user,
        channel=Channel.PHONE,
        outcome=ContactOutcome.VOICEMAIL,
        occurred_at=local(2026, 3, 10, 12, 0),
    )
    counts, queued = dispatch(local(2026, 3, 11, 10, 0), django_capture_on_commit_callbacks)
    assert counts["stopped"] == 0 and len(queued) == 2  # the acknowledgement and the day-1 email
    assert _stop_reason(first.followups.get()) == (FollowUpEnrollment.Status.ACTIVE, "")
    assert not second.followups.exists() and not second.events.filter(type="followup_held").exists()


def test_the_plans_acknowledgement_is_held_back_after_a_few_to_one_company_within_the_hour(
    plan, django_capture_on_commit_callbacks
):
    """A help desk answering each mail from a new address: once the most acknowledgements allowed
    went to its domain in the hour before an inquiry came in, the plan does not acknowledge that
    inquiry either, and its lead says why. A colleague's inquiry that came in before is acknowledged."""
    received = local(2026, 3, 10, 10, 0)
    # Mail they wrote to the store themselves, as a help desk's receipts are.
    colleague = enroll(plan, received_at=received, email="bob@acme.example", source=DIRECT_MAIL_SOURCE)
    for name in ("ann", "cy", "dan"):  # mail-in's acknowledgements, since bob's inquiry came in
        earlier = factories.lead(
            customer_obj=factories.customer(email=f"{name}@acme.example"),
            received_at=local(2026, 1, 5, 10, 0),
        )
        lead_event_add(lead=earlier, type="acknowledged")
    receipt = enroll(plan, received_at=received, email="support+1004@acme.example", source=DIRECT_MAIL_SOURCE)

    counts, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    assert queued == [colleague.runs.get(step__position=0).pk]
    held = receipt.runs.get(step__position=0)
    assert (held.status, held.note) == (Run.Status.DONE, followup_service.ACKNOWLEDGEMENT_HELD)
    [note] = receipt.lead.messages.filter(channel=Channel.NOTE, direction=Direction.INTERNAL)
    assert "acme.example" in note.body_text and note.author is None
    # The rest of its plan goes on (its call first): a person decides what it is.
    receipt.refresh_from_db()
    assert receipt.status == FollowUpEnrollment.Status.ACTIVE
    assert receipt.runs.get(step__position=1).status == Run.Status.SCHEDULED


def test_the_plan_acknowledges_every_customer_a_lead_provider_sends_from_its_relay_domain(
    plan, django_capture_on_commit_callbacks
):
    received = local(2026, 3, 10, 10, 0)
    for n in range(4):  # mail-in's acknowledgements to the provider's relay domain, this hour
        earlier = factories.lead(customer_obj=factories.customer(email=f"r{n}@relay.autotrader.example"))
        lead_event_add(lead=earlier, type="acknowledged")
    buyer = enroll(plan, received_at=received, email="r9@relay.autotrader.example", source="AutoTrader.ca")
    _, queued = dispatch(local(2026, 3, 10, 10, 1), django_capture_on_commit_callbacks)
    assert queued == [buyer.runs.get(step__position=0).pk]
