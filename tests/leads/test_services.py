from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dealership.models import Role
from leads.models import AuditEntry, Channel, Customer, Lead, LeadEvent, LeadStatus, LeadVehicle, Message
from leads.selectors.leads import CUSTOMER_REPLIED, lead_duplicates, lead_get, lead_visible_to, person_name
from leads.services.appointments import BookingError, appointment_book
from leads.services.customers import customer_phone_extension_keep, customer_update
from leads.services.leads import (
    LEAD_TRANSITIONS,
    ContactLogError,
    MergeError,
    TransitionError,
    contact_log,
    lead_customer_wrote,
    lead_merge,
    lead_record_answer,
    lead_transition,
    lead_vehicle_wanted_refresh,
)
from leads.services.replies import ReplyError, reply_queue
from leads.templatetags.lead_tags import event_summary
from tests import factories

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")

ALL_PAIRS = [(a, b) for a in LeadStatus.values for b in LeadStatus.values]


@pytest.mark.parametrize(("from_status", "to_status"), ALL_PAIRS)
def test_status_machine_allows_exactly_the_listed_transitions(from_status, to_status):
    lead = factories.lead()
    lead.__class__.objects.filter(pk=lead.pk).update(status=from_status)
    actor = factories.staff(Role.SUPERVISOR).user
    if to_status in LEAD_TRANSITIONS[from_status]:
        lead_transition(lead=lead, to_status=to_status, actor=actor, reason="Bought elsewhere")
        lead.refresh_from_db()
        assert lead.status == to_status
        event = lead.events.get(type="status_changed")
        assert event.actor == actor
        assert event.params["from_status"] == from_status and event.params["to_status"] == to_status
    else:
        with pytest.raises(TransitionError):
            lead_transition(lead=lead, to_status=to_status, actor=actor, reason="Bought elsewhere")
        lead.refresh_from_db()
        assert lead.status == from_status
        assert not lead.events.filter(type="status_changed").exists()


def test_lost_needs_a_reason_and_keeps_it():
    lead = factories.lead()
    with pytest.raises(TransitionError, match="why"):
        lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="  ")
    lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    lead.refresh_from_db()
    assert lead.lost_reason == "Bought elsewhere"
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead.refresh_from_db()
    assert lead.lost_reason == ""


def test_a_supervisor_closes_spam_as_not_a_lead_with_a_reason_and_the_timeline_says_so():
    advisor = factories.staff(Role.ADVISOR).user
    supervisor = factories.staff(Role.SUPERVISOR).user
    lead = factories.lead(owner=advisor)
    with pytest.raises(TransitionError, match="supervisor or a manager"):
        lead_transition(
            lead=lead, to_status=LeadStatus.NOT_A_LEAD, actor=advisor, reason="Spam", by_hand=True
        )
    with pytest.raises(TransitionError, match="why"):
        lead_transition(
            lead=lead, to_status=LeadStatus.NOT_A_LEAD, actor=supervisor, reason=" ", by_hand=True
        )
    lead_transition(
        lead=lead,
        to_status=LeadStatus.NOT_A_LEAD,
        actor=supervisor,
        reason=" Test from the web agency ",
        by_hand=True,
    )
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason, lead.lost_at) == (
        LeadStatus.NOT_A_LEAD,
        "Test from the web agency",
        None,
    )
    event = lead.events.get(type="status_changed")
    assert (event.actor, event.params["to_status"], event.params["reason"]) == (
        supervisor,
        LeadStatus.NOT_A_LEAD,
        "Test from the web agency",
    )
    assert event_summary(event) == "Status: New → Not a lead (Test from the web agency)"


def test_a_lead_that_got_as_far_as_an_appointment_is_never_not_a_lead():
    supervisor = factories.staff(Role.SUPERVISOR).user
    for status in (LeadStatus.APPOINTMENT_SET, LeadStatus.SHOWN, LeadStatus.SOLD, LeadStatus.LOST):
        lead = factories.lead()
        Lead.objects.filter(pk=lead.pk).update(status=status)
        with pytest.raises(TransitionError, match="cannot become not a lead"):
            lead_transition(lead=lead, to_status=LeadStatus.NOT_A_LEAD, actor=supervisor, reason="Spam")
        assert Lead.objects.get(pk=lead.pk).status == status


def test_a_lead_closed_by_mistake_as_not_a_lead_is_reopened_where_it_was():
    advisor = factories.staff(Role.ADVISOR).user
    supervisor = factories.staff(Role.SUPERVISOR).user
    unanswered, answered = factories.lead(), factories.lead()
    contact_log(lead=answered, author=advisor, channel=Channel.PHONE, outcome="reached")
    for lead in (unanswered, answered):
        lead_transition(lead=lead, to_status=LeadStatus.NOT_A_LEAD, actor=supervisor, reason="Spam")
    with pytest.raises(TransitionError, match="supervisor or a manager"):
        lead_transition(lead=unanswered, to_status=LeadStatus.NEW, actor=advisor, by_hand=True)
    # Answered already, it goes back to contacted: a new lead becomes contacted only with its first answer.
    with pytest.raises(TransitionError, match="contacted"):
        lead_transition(lead=answered, to_status=LeadStatus.NEW, actor=supervisor, by_hand=True)
    with pytest.raises(TransitionError, match="Nobody has reached"):
        lead_transition(lead=unanswered, to_status=LeadStatus.CONTACTED, actor=supervisor, by_hand=True)
    lead_transition(lead=unanswered, to_status=LeadStatus.NEW, actor=supervisor, by_hand=True)
    lead_transition(lead=answered, to_status=LeadStatus.CONTACTED, actor=supervisor, by_hand=True)
    unanswered.refresh_from_db()
    answered.refresh_from_db()
    assert (unanswered.status, unanswered.lost_reason) == (LeadStatus.NEW, "")
    assert (answered.status, answered.lost_reason) == (LeadStatus.CONTACTED, "")


def test_an_inquiry_closed_as_not_a_lead_is_merged_with_no_other():
    supervisor = factories.staff(Role.SUPERVISOR).user
    spam = factories.lead()
    lead = factories.lead(customer_obj=spam.customer)
    spam = lead_transition(lead=spam, to_status=LeadStatus.NOT_A_LEAD, actor=supervisor, reason="Wrong store")
    assert list(lead_duplicates(user=supervisor, lead=lead)) == []
    assert list(lead_duplicates(user=supervisor, lead=spam)) == []
    for target, duplicate in ((lead, spam), (spam, lead)):
        with pytest.raises(MergeError, match="not a lead"):
            lead_merge(target=target, duplicate=duplicate, actor=supervisor)
    assert Lead.objects.get(pk=spam.pk).status == LeadStatus.NOT_A_LEAD
    assert Lead.objects.get(pk=lead.pk).merged_into is None


def _monday(hour, minute=0):
    return datetime(2026, 3, 2, hour, minute, tzinfo=TORONTO)


def test_first_call_sets_first_response_once_and_contacts_the_lead():
    advisor = factories.staff(Role.ADVISOR).user
    lead = factories.lead(received_at=_monday(10))
    contact_log(
        lead=lead, author=advisor, channel=Channel.PHONE, outcome="reached", occurred_at=_monday(10, 12)
    )
    contact_log(lead=lead, author=advisor, channel=Channel.TEXT, notes="On my way", occurred_at=_monday(11))
    lead.refresh_from_db()
    assert lead.first_response_at == _monday(10, 12)
    assert lead.first_response_business_minutes == 12
    assert lead.status == LeadStatus.CONTACTED
    assert lead.events.filter(type="first_response").count() == 1
    assert lead.events.get(type="status_changed").actor == advisor


@pytest.mark.parametrize(
    ("channel", "outcome", "answers"),
    [
        (Channel.NOTE, "", False),
        (Channel.PHONE, "no_answer", False),
        (Channel.PHONE, "voicemail", True),
        (Channel.VISIT, "", True),
        (Channel.TEXT, "", True),
    ],
)
def test_only_real_answers_count_as_first_response(channel, outcome, answers):
    lead = factories.lead()
    contact_log(
        lead=lead,
        author=factories.staff().user,
        channel=channel,
        outcome=outcome,
        notes="Called about the RAV4",
    )
    lead.refresh_from_db()
    assert (lead.first_response_at is not None) == answers
    assert lead.status == (LeadStatus.CONTACTED if answers else LeadStatus.NEW)


@pytest.mark.parametrize(
    ("received", "answered"),
    [
        # Friday 6 March 2026; Saturday's hours start at 9.
        (datetime(2026, 3, 6, 20, 50, tzinfo=TORONTO), datetime(2026, 3, 7, 9, 5, tzinfo=TORONTO)),
        # Wednesday 24 December 2025; Christmas and Boxing Day are closed in Ontario.
        (datetime(2025, 12, 24, 20, 50, tzinfo=TORONTO), datetime(2025, 12, 27, 9, 5, tzinfo=TORONTO)),
    ],
    ids=["after hours", "after the holidays"],
)
def test_an_answer_counts_only_the_minutes_the_store_is_open(received, answered):
    lead = factories.lead(received_at=received)  # 20:50, ten minutes before closing
    contact_log(
        lead=lead,
        author=factories.staff().user,
        channel=Channel.PHONE,
        outcome="reached",
        occurred_at=answered,  # the next open day, 9:05
    )
    lead.refresh_from_db()
    assert lead.first_response_business_minutes == 15


def test_logging_keeps_notes_and_next_step_and_refuses_empty_notes():
    lead = factories.lead()
    author = factories.staff().user
    message = contact_log(
        lead=lead,
        author=author,
        channel=Channel.PHONE,
        outcome="reached",
        notes="Wants blue",
        next_step="Send lease quote",
    )
    assert message.subject == "Spoke with the customer"
    assert "Wants blue" in message.body_text and "Next step: Send lease quote" in message.body_text
    with pytest.raises(ValueError, match="note"):
        contact_log(lead=lead, author=author, channel=Channel.NOTE, notes=" ")
    with pytest.raises(ValueError, match="call"):
        contact_log(lead=lead, author=author, channel=Channel.PHONE)
    with pytest.raises(ValueError, match="Write what you texted"):
        contact_log(lead=lead, author=author, channel=Channel.TEXT, notes="  ")
    lead.refresh_from_db()
    assert lead.messages.count() == 1 and lead.first_response_at is not None


def test_merge_moves_everything_and_closes_the_duplicate():
    customer = factories.customer()
    actor = factories.staff().user
    now = datetime(2026, 3, 2, 12, 0, tzinfo=TORONTO)
    target = factories.lead(customer_obj=customer, received_at=now, vehicles=[{"make": "Toyota"}])
    duplicate = factories.lead(
        customer_obj=customer, received_at=now - timedelta(hours=1), vehicles=[{"make": "Honda"}]
    )
    factories.inbound_email(lead=duplicate, body="Second inquiry")
    lead_merge(target=target, duplicate=duplicate, actor=actor)
    target.refresh_from_db()
    duplicate.refresh_from_db()
    assert Message.objects.filter(lead=target, body_text="Second inquiry").exists()
    assert set(LeadVehicle.objects.filter(lead=target).values_list("make", flat=True)) == {"Toyota", "Honda"}
    assert target.received_at == now - timedelta(hours=1)  # waiting since the earlier inquiry
    assert LeadEvent.objects.filter(lead=target, type="created").count() == 2
    assert target.events.get(type="merged").params["merged_lead"] == duplicate.pk
    assert duplicate.events.get(type="merged").params["into_lead"] == target.pk
    assert duplicate.status == LeadStatus.LOST
    assert duplicate.lost_reason == f"Merged into lead {target.pk}"


def test_after_a_merge_the_inbox_names_the_vehicle_the_merged_inquiry_asked_about():
    customer = factories.customer()
    target = factories.lead(customer_obj=customer, vehicles=[{"make": "Honda", "interest": "trade-in"}])
    duplicate = factories.lead(
        customer_obj=customer, vehicles=[{"year": 2026, "make": "Kia", "model": "EV9"}]
    )
    assert (target.vehicle_wanted, duplicate.vehicle_wanted) == ("", "2026 Kia EV9")
    lead_merge(target=target, duplicate=duplicate)
    target.refresh_from_db()
    duplicate.refresh_from_db()
    assert (target.vehicle_wanted, duplicate.vehicle_wanted) == ("2026 Kia EV9", "")


def test_the_inbox_line_follows_an_edit_of_the_vehicles():
    lead = factories.lead(vehicles=[{"make": "Honda", "model": "Civic"}, {"make": "Kia", "model": "EV9"}])
    assert lead.vehicle_wanted == "Honda Civic"
    LeadVehicle.objects.filter(lead=lead, make="Honda").update(interest="trade-in")
    lead_vehicle_wanted_refresh(lead=lead)
    lead.refresh_from_db()
    assert lead.vehicle_wanted == "Kia EV9"


def test_merge_moves_appointments_and_keeps_the_earlier_milestones_and_the_promotion():
    advisor = factories.advisor()
    target = factories.lead()
    duplicate = factories.lead(customer_obj=target.customer, promotion=factories.promotion())
    lead_transition(lead=target, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=duplicate, to_status=LeadStatus.APPOINTMENT_SET)
    starts_at = factories.next_weekday_at(10)
    appointment = appointment_book(
        lead=duplicate,
        advisor=advisor,
        starts_at=starts_at,
        purpose="test_drive",
        now=starts_at - timedelta(days=1),
    )
    target.refresh_from_db()
    duplicate.refresh_from_db()
    lead_merge(target=target, duplicate=duplicate)
    appointment.refresh_from_db()
    assert appointment.lead == target
    merged = target.__class__.objects.get(pk=target.pk)
    assert merged.contacted_at == target.contacted_at  # the earlier of the two
    assert merged.appointment_set_at == duplicate.appointment_set_at
    assert merged.promotion_id == duplicate.promotion_id
    # Where the pair had got: the appointment the duplicate had, recorded as a step of its own.
    assert merged.status == LeadStatus.APPOINTMENT_SET
    assert merged.events.filter(type="status_changed", params__to_status=LeadStatus.APPOINTMENT_SET).exists()
    duplicate.refresh_from_db()
    assert (duplicate.merged_into, duplicate.status) == (merged, LeadStatus.LOST)


def test_a_merged_pair_counts_in_the_month_of_the_earlier_inquiry_with_its_source_and_promotion():
    """The customer asked through an October offer on AutoTrader, then again in November from the
    website during Black Friday; the November lead, being worked, is kept. The pair is one lead
    dated from the October inquiry: October's figures credit the October offer and AutoTrader, not
    a promotion that had not started yet."""
    from dealership.selectors import dashboard_figures, period_for, response_target

    october_offer = factories.promotion(
        name="October offer", starts_on=datetime(2026, 10, 1).date(), ends_on=datetime(2026, 10, 31).date()
    )
    black_friday = factories.promotion(
        name="Black Friday", starts_on=datetime(2026, 11, 20).date(), ends_on=datetime(2026, 11, 30).date()
    )
    first = factories.lead(
        source="AutoTrader", promotion=october_offer, received_at=datetime(2026, 10, 30, 12, tzinfo=TORONTO)
    )
    kept = factories.lead(
        customer_obj=first.customer,
        source="Website",
        promotion=black_friday,
        received_at=datetime(2026, 11, 27, 12, tzinfo=TORONTO),
    )
    lead_merge(target=kept, duplicate=first)
    kept.refresh_from_db()
    assert (kept.received_at, kept.source, kept.promotion) == (first.received_at, "AutoTrader", october_offer)

    manager = factories.staff(Role.MANAGER).user

    def figures(month: int) -> dict:
        period = period_for(kind="month", anchor=datetime(2026, month, 15).date())
        return dashboard_figures(user=manager, period=period, filters={}, target=response_target(minutes=30))

    october = figures(10)
    assert [(row["label"], row["leads"]) for row in october["by_promotion"]] == [("October offer", 1)]
    assert [(row["label"], row["leads"]) for row in october["by_source"]] == [("AutoTrader", 1)]
    assert figures(11)["overall"]["leads"] == 0


def test_a_merge_keeps_the_advisor_working_the_customer_and_both_inquiries_words():
    advisor = factories.advisor()
    worked = factories.lead(
        comments="Avez-vous encore le RAV4 hybride? Échange: Civic 2016.", owner=advisor.user
    )
    contact_log(lead=worked, author=advisor.user, channel=Channel.PHONE, outcome="reached", notes="Wants AWD")
    newer = factories.lead(customer_obj=worked.customer, comments="Any news on the RAV4?")
    assert newer.status == LeadStatus.NEW and newer.owner is None

    lead_merge(target=newer, duplicate=worked, actor=factories.staff(Role.SUPERVISOR).user)
    newer.refresh_from_db()
    assert newer.owner == advisor.user  # still theirs to work, and to open
    assert newer.events.get(type="assigned").params["owner"] == person_name(advisor.user)
    assert newer.comments == "Avez-vous encore le RAV4 hybride? Échange: Civic 2016.\n\nAny news on the RAV4?"
    assert newer.status == LeadStatus.CONTACTED  # answered by the call, so no longer new
    assert lead_visible_to(user=advisor.user).filter(pk=newer.pk).exists()


@pytest.mark.parametrize("gone", ["left the store", "moved to the service department"])
def test_a_merge_leaves_the_lead_unassigned_when_the_duplicates_owner_no_longer_takes_leads(gone):
    from dealership.services import staff_leave, staff_role_change

    manager = factories.staff(Role.MANAGER).user
    robin = factories.advisor(first_name="Robin", last_name="Gone")
    earlier = factories.lead(owner=robin.user)
    lead_transition(lead=earlier, to_status=LeadStatus.LOST, actor=robin.user, reason="Bought elsewhere")
    if gone == "left the store":
        staff_leave(staff=robin, actor=manager)
    else:
        staff_role_change(staff=robin, role=Role.DEPARTMENT)
    newer = factories.lead(customer_obj=earlier.customer, comments="Back for a bigger car")

    lead_merge(target=newer, duplicate=earlier, actor=manager)
    newer.refresh_from_db()
    assert newer.owner is None  # in the inbox for the supervisor to give out
    assert not newer.events.filter(type="assigned").exists()
    assert lead_visible_to(user=factories.staff(Role.SUPERVISOR).user).filter(pk=newer.pk).exists()


def test_a_merged_lead_takes_no_more_changes_and_is_not_offered_again():
    target = factories.lead()
    duplicate = factories.lead(customer_obj=target.customer)
    third = factories.lead(customer_obj=target.customer)
    lead_merge(target=target, duplicate=duplicate)
    boss = factories.staff(Role.SUPERVISOR).user
    assert list(lead_duplicates(user=boss, lead=target)) == [third]
    with pytest.raises(MergeError, match=f"already merged into lead {target.pk}"):
        lead_merge(target=third, duplicate=duplicate)
    with pytest.raises(MergeError, match="already merged"):
        lead_merge(target=duplicate, duplicate=third)
    with pytest.raises(TransitionError, match=f"merged into lead {target.pk}"):
        lead_transition(lead=duplicate, to_status=LeadStatus.CONTACTED)
    duplicate.refresh_from_db()
    with pytest.raises(ContactLogError, match=f"merged into lead {target.pk}"):
        contact_log(lead=duplicate, author=boss, channel=Channel.NOTE, notes="Called back")
    with pytest.raises(ReplyError, match=f"merged into lead {target.pk}"):
        reply_queue(lead=duplicate, author=boss, subject="Your quote", body="Here it is.")
    assert not Message.objects.filter(author=boss).exists()
    starts_at = factories.next_weekday_at(11)
    with pytest.raises(BookingError, match=f"merged into lead {target.pk}"):
        appointment_book(
            lead=duplicate,
            advisor=factories.advisor(),
            starts_at=starts_at,
            purpose="test_drive",
            now=starts_at - timedelta(days=1),
        )


def test_a_merge_never_closes_an_inquiry_still_being_worked(supervisor):
    """The customer who bought last year writes again: the new inquiry is not folded into the sold
    lead, nor into a lost one (the lost one goes into it instead); the page offers only that."""
    new_inquiry = factories.lead()
    for closed_status in (LeadStatus.SOLD, LeadStatus.LOST):
        closed = factories.lead(customer_obj=new_inquiry.customer)
        Lead.objects.filter(pk=closed.pk).update(status=closed_status)
        closed.refresh_from_db()
        with pytest.raises(MergeError, match=f"Lead {new_inquiry.pk} is still being worked"):
            lead_merge(target=closed, duplicate=new_inquiry)
        assert not list(lead_duplicates(user=supervisor.user, lead=closed))
        assert not lead_get(user=supervisor.user, pk=closed.pk).has_duplicates
    new_inquiry.refresh_from_db()
    assert new_inquiry.status == LeadStatus.NEW and not new_inquiry.merged_into_id
    assert [lead.status for lead in lead_duplicates(user=supervisor.user, lead=new_inquiry)] == [
        LeadStatus.LOST
    ]
    lead_merge(target=new_inquiry, duplicate=closed)
    assert Lead.objects.get(pk=closed.pk).merged_into_id == new_inquiry.pk


def test_merge_refuses_other_customers_sold_leads_and_itself():
    lead = factories.lead()
    other = factories.lead()
    with pytest.raises(MergeError, match="same customer"):
        lead_merge(target=lead, duplicate=other)
    with pytest.raises(MergeError, match="itself"):
        lead_merge(target=lead, duplicate=lead)
    sold = factories.lead(customer_obj=lead.customer)
    sold.__class__.objects.filter(pk=sold.pk).update(status=LeadStatus.SOLD)
    with pytest.raises(MergeError, match="sold"):
        lead_merge(target=lead, duplicate=sold)
    assert not LeadEvent.objects.filter(type="merged").exists()
    other.refresh_from_db()
    assert other.status == LeadStatus.NEW and not other.lost_reason


def _answered(lead, days_ago: int):
    at = timezone.now() - timedelta(days=days_ago)
    Lead.objects.filter(pk=lead.pk).update(received_at=at - timedelta(hours=1))
    return lead_record_answer(lead=lead, answered_at=at, channel="email")


@pytest.mark.parametrize("new_into_old", [True, False])
def test_a_merge_keeps_a_new_unanswered_inquiry_waiting_in_the_inbox(new_into_old):
    old = _answered(factories.lead(), days_ago=10)
    new = factories.lead(customer_obj=old.customer, received_at=timezone.now() - timedelta(hours=2))
    target, duplicate = (old, new) if new_into_old else (new, old)
    merged = lead_merge(target=target, duplicate=duplicate)
    merged.refresh_from_db()
    assert merged.first_response_at == old.first_response_at  # the earlier answer counts for the dashboard
    assert merged.customer_waiting_since == new.received_at  # …and the new inquiry still waits
    assert list(Lead.objects.filter(CUSTOMER_REPLIED)) == [merged]


def test_a_customer_who_wrote_again_on_the_duplicate_still_waits_after_the_merge():
    target = _answered(factories.lead(), days_ago=10)
    duplicate = _answered(factories.lead(customer_obj=target.customer), days_ago=5)
    wrote = timezone.now() - timedelta(hours=3)
    lead_customer_wrote(lead=duplicate, at=wrote)
    merged = lead_merge(target=target, duplicate=duplicate)
    merged.refresh_from_db()
    assert merged.customer_waiting_since == wrote
    assert list(Lead.objects.filter(CUSTOMER_REPLIED)) == [merged]


def test_after_a_merge_the_timeline_says_the_first_answer_now_counts_from_the_earlier_inquiry():
    from leads.templatetags.lead_tags import event_summary, minutes_span

    earlier = factories.lead(received_at=_monday(10))
    later = factories.lead(customer_obj=earlier.customer, received_at=_monday(13))
    later = lead_record_answer(lead=later, answered_at=_monday(13, 30), channel="phone")
    merged = lead_merge(target=earlier, duplicate=later)
    merged.refresh_from_db()
    assert merged.first_response_business_minutes > later.first_response_business_minutes
    assert (later.first_response_business_minutes, merged.first_response_business_minutes) == (30, 210)
    assert event_summary(merged.events.get(type="merged")) == (
        f"Lead {later.pk} merged into this one: the first answer now counts from the earlier inquiry, "
        f"after {minutes_span(merged.first_response_business_minutes)} of business time"
    )
    # Neither answered: nothing to count yet.
    unanswered = factories.lead(customer_obj=factories.customer())
    other = factories.lead(customer_obj=unanswered.customer)
    lead_merge(target=unanswered, duplicate=other)
    assert event_summary(unanswered.events.get(type="merged")) == f"Lead {other.pk} merged into this one"


def test_a_call_logged_twice_by_a_double_click_is_one_call_and_a_later_call_is_another():
    lead = factories.lead()
    author = factories.staff(Role.SUPERVISOR).user
    call = {"lead": lead, "author": author, "channel": Channel.PHONE, "outcome": "no_answer"}
    first, again = contact_log(**call), contact_log(**call)
    assert again == first and lead.messages.filter(channel=Channel.PHONE).count() == 1
    Message.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert contact_log(**call) != first and lead.messages.filter(channel=Channel.PHONE).count() == 2


def test_two_calls_logged_one_after_the_other_for_two_times_past_are_two_calls():
    lead = factories.lead(received_at=timezone.now() - timedelta(days=1))
    author = factories.staff(Role.SUPERVISOR).user
    call = {"lead": lead, "author": author, "channel": Channel.PHONE, "outcome": "voicemail"}
    morning, noon = timezone.now() - timedelta(hours=5), timezone.now() - timedelta(hours=2)
    first = contact_log(**call, occurred_at=morning)
    assert contact_log(**call, occurred_at=morning) == first  # the same one sent twice
    assert contact_log(**call, occurred_at=noon) != first
    assert sorted(lead.messages.values_list("occurred_at", flat=True)) == [morning, noon]


def test_a_call_logged_in_the_minute_the_lead_came_in_is_not_above_it_on_the_timeline():
    received = timezone.now().replace(second=40, microsecond=0) - timedelta(hours=1)
    lead = factories.lead(received_at=received)
    call = contact_log(
        lead=lead,
        author=factories.staff(Role.SUPERVISOR).user,
        channel=Channel.PHONE,
        outcome="reached",
        occurred_at=received.replace(second=0),  # the form gives minutes
    )
    assert call.occurred_at == received


def test_a_sale_joins_the_customer_s_history_with_two_years_of_implied_consent():
    from leads.models import ConsentChannel, HistoryKind
    from leads.selectors.consent import consent_check

    lead = factories.lead(
        vehicles=[{"year": 2025, "make": "Toyota", "model": "RAV4", "vin": factories.vin(7)}]
    )
    lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD)
    lead.refresh_from_db()
    sale = lead.customer.history_items.get(kind=HistoryKind.PURCHASE)
    assert (sale.summary, sale.vin, sale.occurred_at) == ("2025 Toyota RAV4", factories.vin(7), lead.sold_at)
    # A year and a half on, the inquiry's six months are long gone; the purchase's two years are not.
    later = lead.sold_at + timedelta(days=540)
    assert consent_check(customer=lead.customer, channel=ConsentChannel.EMAIL, at=later).valid


def _reached(**fields) -> Lead:
    """A lead whose customer was reached: it may be sold."""
    lead = factories.lead(**fields)
    return lead_transition(lead=lead, to_status=LeadStatus.CONTACTED)


def test_a_sale_stays_with_the_advisor_who_made_it_when_a_colleague_takes_the_lead_for_the_delivery():
    from leads.services.leads import lead_assign

    alice = factories.advisor(first_name="Alice", last_name="Martin").user
    bob = factories.advisor(first_name="Bob", last_name="Roy").user
    lead = _reached(owner=alice)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=alice)
    lead_assign(lead=lead, owner=bob, actor=factories.staff(Role.SUPERVISOR).user)
    lead.refresh_from_db()
    assert (lead.owner, lead.sold_by) == (bob, alice)
    sale = lead.events.get(type="status_changed", params__to_status=LeadStatus.SOLD)
    assert sale.params["sold_by"] == alice.pk


def test_a_sale_the_supervisor_records_on_an_advisors_lead_is_the_advisors():
    alice = factories.advisor(first_name="Alice", last_name="Martin").user
    supervisor = factories.staff(Role.SUPERVISOR).user
    lead = _reached(owner=alice)
    lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=supervisor)
    lead.refresh_from_db()
    assert lead.sold_by == alice
    assert lead.events.get(params__to_status=LeadStatus.SOLD).params["sold_by"] == alice.pk


def test_an_unassigned_lead_sold_is_the_sale_of_who_records_it_when_they_take_leads():
    supervisor = factories.staff(Role.SUPERVISOR).user
    service = factories.staff(Role.DEPARTMENT, department_code="service").user
    for actor, seller in (
        (supervisor, supervisor),
        (service, None),
        (factories.former_staff(), None),
        (None, None),  # an automatic move
    ):
        lead = _reached()
        lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=actor)
        lead.refresh_from_db()
        assert (lead.owner, lead.sold_by) == (None, seller)
        assert lead.events.get(params__to_status=LeadStatus.SOLD).params["sold_by"] == (
            seller.pk if seller else None
        )


def test_a_merge_into_a_sold_lead_leaves_the_sale_with_who_made_it():
    from leads.services.leads import lead_assign

    alice = factories.advisor(first_name="Alice", last_name="Martin").user
    bob = factories.advisor(first_name="Bob", last_name="Roy").user
    supervisor = factories.staff(Role.SUPERVISOR).user
    sold = _reached(owner=alice)
    lead_transition(lead=sold, to_status=LeadStatus.SOLD, actor=alice)
    lead_assign(lead=sold, owner=None, actor=supervisor)
    duplicate = _reached(customer_obj=sold.customer, owner=bob)
    lead_transition(lead=duplicate, to_status=LeadStatus.LOST, actor=bob, reason="The same inquiry")
    lead_merge(target=sold, duplicate=duplicate, actor=supervisor)
    sold.refresh_from_db()
    duplicate.refresh_from_db()
    assert (sold.owner, sold.sold_by) == (bob, alice)  # Bob goes on with the customer; the sale is Alice's
    assert duplicate.sold_by is None


def test_leads_sold_before_sales_had_a_seller_are_credited_to_their_owner_when_they_were_sold():
    import importlib

    from django.apps import apps

    from leads.services.leads import lead_assign

    migration = importlib.import_module("leads.migrations.0036_lead_sold_by")
    alice = factories.advisor(first_name="Alice", last_name="Martin").user
    bob = factories.advisor(first_name="Bob", last_name="Roy").user
    supervisor = factories.staff(Role.SUPERVISOR).user
    service = factories.staff(Role.DEPARTMENT, department_code="service").user

    def sold(*, owner=None, actor=None, delivered_by=None) -> Lead:
        lead = _reached(owner=owner)
        lead_transition(lead=lead, to_status=LeadStatus.SOLD, actor=actor)
        if delivered_by:
            lead_assign(lead=lead, owner=delivered_by, actor=supervisor)
        return lead

    leads = {
        "delivered by Bob": (sold(owner=alice, actor=alice, delivered_by=bob), alice),
        "recorded by the supervisor": (sold(owner=alice, actor=supervisor), alice),
        "nobody's, then Bob's": (sold(actor=supervisor, delivered_by=bob), supervisor),
        "recorded by service": (sold(actor=service), None),
    }
    # Two inquiries of one customer given to two advisors, merged, then Alice's sold: Bob's change
    # of owner, moved onto her lead with the rest of his lead's timeline, is not hers.
    alices = _reached()
    lead_assign(lead=alices, owner=alice, actor=supervisor)
    bobs = _reached(customer_obj=alices.customer)
    lead_assign(lead=bobs, owner=bob, actor=supervisor)
    lead_merge(target=alices, duplicate=bobs, actor=supervisor)
    lead_transition(lead=alices, to_status=LeadStatus.SOLD, actor=alice)
    leads["merged, then sold by Alice"] = (alices, alice)
    unrecorded = _reached(owner=bob)  # sold without a line on its timeline
    Lead.objects.filter(pk=unrecorded.pk).update(status=LeadStatus.SOLD, sold_at=timezone.now())
    leads["no line on its timeline"] = (unrecorded, bob)
    Lead.objects.update(sold_by=None)

    migration.sellers_fill(apps, None)

    assert {name: Lead.objects.get(pk=lead.pk).sold_by for name, (lead, _) in leads.items()} == {
        name: seller for name, (_, seller) in leads.items()
    }


def test_assigning_a_lead_records_who_had_it_and_refuses_people_who_take_no_leads():
    from leads.services.leads import AssignmentError, lead_assign

    boss = factories.staff(Role.SUPERVISOR).user
    marc = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    lina = factories.staff(Role.ADVISOR, first_name="Lina", last_name="Haddad").user
    lead = factories.lead()
    lead_assign(lead=lead, owner=marc, actor=boss)
    assert lead_get(user=marc, pk=lead.pk) == lead  # the advisor may open it now
    lead_assign(lead=lead, owner=lina, actor=boss)
    lead_assign(lead=lead, owner=lina, actor=boss)  # the same owner again: nothing to record
    lead_assign(lead=lead, owner=None, actor=boss)
    assert [(event.params, event.actor) for event in lead.events.filter(type="assigned")] == [
        ({"owner": "Marc Roy", "previous_owner": "", "owner_id": marc.pk, "previous_owner_id": None}, boss),
        (
            {
                "owner": "Lina Haddad",
                "previous_owner": "Marc Roy",
                "owner_id": lina.pk,
                "previous_owner_id": marc.pk,
            },
            boss,
        ),
        (
            {"owner": "", "previous_owner": "Lina Haddad", "owner_id": None, "previous_owner_id": lina.pk},
            boss,
        ),
    ]
    assert not lead_visible_to(user=lina).filter(pk=lead.pk).exists()
    department = factories.staff(Role.DEPARTMENT, first_name="Sam", last_name="Service").user
    for nobody in (department, factories.former_staff()):
        with pytest.raises(AssignmentError, match="does not take leads"):
            lead_assign(lead=lead, owner=nobody, actor=boss)
    lead.refresh_from_db()
    assert lead.owner is None and lead.events.filter(type="assigned").count() == 3


def test_assigning_from_a_page_that_showed_another_owner_is_refused_naming_who_has_it_now():
    from leads.services.leads import AssignmentError, lead_assign

    boss = factories.staff(Role.SUPERVISOR).user
    marc = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    anne = factories.staff(Role.ADVISOR, first_name="Anne", last_name="Lee").user
    lead = factories.lead()
    lead_assign(lead=lead, owner=marc, actor=boss, shown_owner=0)  # the page showed it unassigned
    with pytest.raises(AssignmentError, match="Someone assigned this lead to Marc Roy meanwhile"):
        lead_assign(lead=lead, owner=anne, actor=boss, shown_owner=0)
    lead_assign(lead=lead, owner=anne, actor=boss, shown_owner=marc.pk)
    lead.refresh_from_db()
    assert lead.owner == anne and lead.events.filter(type="assigned").count() == 2


def _in_a_thread(work, out: dict, pids: dict, key, *, refusal: type[Exception], held=None):
    """work() on a connection of its own, in a thread (the connection's id in `pids[key]`): a
    `refusal` is kept in out["refused"], anything else the database said in out["error"]. `held`,
    if given, is set when it ends, for whoever waits for it to hold its locks."""
    import threading

    from django.db import connection

    def body():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '10s'")
                cursor.execute("SELECT pg_backend_pid()")
                pids[key] = cursor.fetchone()[0]
            work()
        except refusal as error:
            out["refused"] = str(error)
        except Exception as error:  # noqa: BLE001 - the test reports whatever the database said
            out["error"] = repr(error)
        finally:
            if held:
                held.set()
            connection.close()

    return threading.Thread(target=body, daemon=True)


def _assign_in_a_thread(lead, owner, actor, out: dict, pids: dict, **shown):
    """lead_assign on a connection of its own; with `held`, the transaction stays open until `go_on`."""
    from django.db import transaction

    from leads.services.leads import AssignmentError, lead_assign

    held, go_on = shown.pop("held", None), shown.pop("go_on", None)

    def work():
        with transaction.atomic():
            out["lead"] = lead_assign(lead=lead, owner=owner, actor=actor, **shown)
            if held:
                held.set()
                go_on.wait(15)

    return _in_a_thread(work, out, pids, owner.pk, refusal=AssignmentError, held=held)


def _waits_for_a_lock(pids: dict, key, thread) -> bool:
    """Whether the thread's connection (its id is `pids[key]` once connected) comes to wait for a
    row lock while the thread runs."""
    import time

    from django.db import connection

    deadline = time.monotonic() + 15
    with connection.cursor() as cursor:
        while thread.is_alive() and time.monotonic() < deadline:
            # Inside a transaction PostgreSQL shows the activity it read first, unless told to read it again.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pids.get(key)])
            if (cursor.fetchone() or [None])[0] == "Lock":
                return True
            time.sleep(0.02)
    return False


def _two_assignments_at_once(**shown) -> tuple[Lead, dict, dict]:
    """Sophie gives a new lead to Marc and Julie to Anne at the same moment: Julie's assignment
    waits for Sophie's, whose transaction is held open until then."""
    import threading

    from django.db import connection

    from tests.conftest import service_missing

    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL (DATABASE_URL): SQLite has no row locks to wait on")
    sophie, julie = factories.staff(Role.SUPERVISOR).user, factories.staff(Role.SUPERVISOR).user
    marc = factories.staff(Role.ADVISOR, first_name="Marc", last_name="Roy").user
    anne = factories.staff(Role.ADVISOR, first_name="Anne", last_name="Lee").user
    lead = factories.lead()
    pids, first, second = {}, {}, {}
    held, go_on = threading.Event(), threading.Event()
    sophies = _assign_in_a_thread(lead, marc, sophie, first, pids, held=held, go_on=go_on, **shown)
    sophies.start()
    assert held.wait(15) and "lead" in first, first
    julies = _assign_in_a_thread(lead, anne, julie, second, pids, **shown)
    julies.start()
    try:
        assert _waits_for_a_lock(pids, anne.pk, julies), second
    finally:
        go_on.set()
        sophies.join(15)
        julies.join(15)
    return Lead.objects.get(pk=lead.pk), first, second


@pytest.mark.django_db(transaction=True)
def test_two_assignments_at_the_same_moment_record_the_owner_each_took_the_lead_from():
    lead, _, second = _two_assignments_at_once()
    assert "lead" in second, second
    took, retook = lead.events.filter(type="assigned").order_by("pk").values_list("params", flat=True)
    assert [(params["owner"], params["previous_owner"]) for params in (took, retook)] == [
        ("Marc Roy", ""),
        ("Anne Lee", "Marc Roy"),
    ]
    assert retook["previous_owner_id"] == took["owner_id"] and retook["owner_id"] == lead.owner_id


@pytest.mark.django_db(transaction=True)
def test_two_assignments_at_the_same_moment_from_pages_showing_no_owner_the_second_is_told():
    lead, _, second = _two_assignments_at_once(shown_owner=0)
    assert second.get("refused", "").startswith("Someone assigned this lead to Marc Roy meanwhile"), second
    assert lead.owner.get_full_name() == "Marc Roy" and lead.events.filter(type="assigned").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_lead_given_to_someone_as_they_leave_the_store_waits_for_their_departure_and_is_refused():
    from django.db import connection, transaction

    from dealership.services import staff_leave
    from tests.conftest import service_missing

    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL (DATABASE_URL): SQLite has no row locks to wait on")
    manager, supervisor = factories.staff(Role.MANAGER).user, factories.staff(Role.SUPERVISOR).user
    robin = factories.advisor(first_name="Robin", last_name="Gone").user
    lead = factories.lead()
    pids, assigned = {}, {}
    assigning = _assign_in_a_thread(lead, robin, supervisor, assigned, pids)
    try:
        with transaction.atomic():
            staff_leave(staff=robin.staff, actor=manager)  # Robin's open leads are read: none yet
            assigning.start()
            waited = _waits_for_a_lock(pids, robin.pk, assigning)
    finally:
        assigning.join(15)
    assert waited and not assigning.is_alive(), assigned
    assert assigned == {
        "refused": "Robin Gone does not take leads: choose a sales advisor, a supervisor or a manager."
    }
    lead.refresh_from_db()
    assert lead.owner is None and not lead.events.filter(type="assigned").exists()


@pytest.mark.django_db(transaction=True)
def test_a_booking_on_their_own_lead_as_they_leave_the_store_goes_first_and_their_leads_still_go_back():
    """Robin's test drive is being booked (the booking holds the lead) as Robin leaves, and a
    supervisor gives Robin another lead meanwhile: nothing fails, the test drive waits for a new
    advisor and both leads are back in the inbox."""
    import threading

    from django.db import connection, transaction

    from dealership.services import StaffLeaveError, staff_leave
    from leads.models import Appointment
    from leads.services.leads import OWNER_LEFT, lead_assign
    from tests.conftest import service_missing

    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL (DATABASE_URL): SQLite has no row locks to wait on")
    manager, supervisor = factories.staff(Role.MANAGER).user, factories.staff(Role.SUPERVISOR).user
    robin = factories.advisor(first_name="Robin", last_name="Gone")
    theirs = lead_assign(lead=factories.lead(), owner=robin.user, actor=supervisor)
    another = factories.lead()
    pids, booked, left, assigned = {}, {}, {}, {}
    held, go_on = threading.Event(), threading.Event()

    def book():
        with transaction.atomic():
            Lead.objects.select_for_update().get(pk=theirs.pk)  # what appointment_book locks first
            held.set()
            go_on.wait(15)
            booked["appointment"] = appointment_book(
                lead=theirs, advisor=robin, starts_at=factories.next_weekday_at(11), purpose="test_drive",
                now=timezone.now(), actor=supervisor,
            )  # fmt: skip

    def leave():
        left["result"] = staff_leave(staff=robin, actor=manager)

    booking = _in_a_thread(book, booked, pids, "booking", refusal=BookingError, held=held)
    leaving = _in_a_thread(leave, left, pids, "leaving", refusal=StaffLeaveError)
    assigning = _assign_in_a_thread(another, robin.user, supervisor, assigned, pids)
    booking.start()
    try:
        assert held.wait(15) and not booked, booked
        leaving.start()
        assert _waits_for_a_lock(pids, "leaving", leaving), left
        assigning.start()  # given to Robin while the departure waits for Robin's leads
        assigning.join(15)
        assert "lead" in assigned, assigned
    finally:
        go_on.set()
        booking.join(15)
        leaving.join(15)
    assert not booking.is_alive() and not leaving.is_alive()
    assert "error" not in booked and "error" not in left, (booked, left)

    appointment = Appointment.objects.get(pk=booked["appointment"].pk)
    assert appointment.status == Appointment.Status.BOOKED and appointment.advisor == robin
    assert left["result"].appointments == [appointment]  # listed as needing a new advisor
    assert {lead.pk for lead in left["result"].leads} == {theirs.pk, another.pk}
    for lead in (theirs, another):
        lead.refresh_from_db()
        assert lead.owner is None
        assert lead.events.filter(type="assigned").latest("pk").params["reason"] == OWNER_LEFT
    assert not Lead.objects.filter(owner=robin.user).exists()


def test_a_call_logged_later_answers_the_lead_when_it_was_made_never_before_the_lead_or_ahead():
    lead = factories.lead(received_at=_monday(10))
    author = factories.staff(Role.SUPERVISOR).user
    call = {"lead": lead, "author": author, "channel": Channel.PHONE, "outcome": "reached"}
    with pytest.raises(ContactLogError, match="still to come") as ahead:
        contact_log(**call, occurred_at=timezone.now() + timedelta(minutes=5))
    with pytest.raises(ContactLogError, match="The lead came in on March 2, 2026, 10 a.m.") as before:
        contact_log(**call, occurred_at=_monday(9, 59))
    assert ahead.value.field == before.value.field == "occurred_at"
    assert not lead.messages.exists()
    contact_log(**call, occurred_at=_monday(10, 40))
    lead.refresh_from_db()
    assert (lead.first_response_at, lead.first_response_business_minutes) == (_monday(10, 40), 40)
    assert lead.messages.get().occurred_at == _monday(10, 40)
    # A visit made earlier, logged after the call: it was the first answer.
    contact_log(lead=lead, author=author, channel=Channel.VISIT, notes="Came in", occurred_at=_monday(10, 25))
    contact_log(**call, occurred_at=_monday(11))  # a later call changes nothing
    lead.refresh_from_db()
    assert (lead.first_response_at, lead.first_response_business_minutes) == (_monday(10, 25), 25)
    from leads.templatetags.lead_tags import event_summary

    assert [event_summary(event) for event in lead.events.filter(type="first_response")] == [
        "First answer (phone) after 40 min of business time",
        "First answer (visit, logged later) after 25 min of business time",
    ]


def test_a_call_or_text_to_a_customer_who_asked_for_none_is_logged_and_says_they_had_asked():
    from leads.services.consent import consent_withdraw

    lead = factories.lead()
    author = factories.staff(Role.SUPERVISOR).user
    consent_withdraw(customer=lead.customer, channels=["phone", "text"], source="Told staff")
    call = contact_log(
        lead=lead, author=author, channel=Channel.PHONE, outcome="reached", notes="They called"
    )
    text = contact_log(lead=lead, author=author, channel=Channel.TEXT, notes="Address of the store")
    visit = contact_log(lead=lead, author=author, channel=Channel.VISIT, notes="Came in")
    assert call.body_text == "They called\n\nThe customer had asked not to be called."
    assert text.body_text == "Address of the store\n\nThe customer had asked for no texts."
    assert visit.body_text == "Came in"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED  # the call still answered the customer


STAFF_NOTES = (
    "Prefers calls after 6.\n"
    "Phone: (514) 555-0100, extension 12 is reception: ask for Marie\n"  # staff's words, not the store's line
    "Phone: (514) 555-0199, extension 7"  # another number's extension
)


def test_a_new_extension_for_a_number_replaces_the_stores_line_for_it_and_nothing_staff_wrote():
    customer = factories.customer()
    customer_update(customer=customer, actor=factories.staff(Role.ADVISOR).user, notes=STAFF_NOTES)
    customer_phone_extension_keep(customer=customer, phone="+15145550100", extension="12")
    customer_phone_extension_keep(customer=customer, phone="+15145550100", extension="34")
    customer.refresh_from_db()
    assert customer.notes == f"{STAFF_NOTES}\nPhone: (514) 555-0100, extension 34"
    latest = AuditEntry.objects.filter(customer=customer, action="filled_from_inquiry").latest("pk")
    assert latest.changes == {
        "notes": [f"{STAFF_NOTES}\nPhone: (514) 555-0100, extension 12", customer.notes]
    }
    # Given again: nothing changes, nothing is recorded.
    customer_phone_extension_keep(customer=customer, phone="+15145550100", extension="34")
    assert AuditEntry.objects.filter(customer=customer, action="filled_from_inquiry").latest("pk") == latest


def test_a_number_kept_earlier_with_two_extensions_is_left_with_the_one_given_last():
    customer = factories.customer()
    # As notes were kept before a new extension replaced the old one: both lines, side by side.
    two_lines = (
        "Phone: (514) 555-0100, extension 12\nPrefers calls after 6.\nPhone: (514) 555-0100, extension 34"
    )
    Customer.objects.filter(pk=customer.pk).update(notes=two_lines)
    customer_phone_extension_keep(customer=customer, phone="+15145550100", extension="34")
    customer.refresh_from_db()
    assert customer.notes == "Prefers calls after 6.\nPhone: (514) 555-0100, extension 34"


def test_in_a_french_store_a_new_extension_replaces_the_line_written_in_french(settings):
    settings.LANGUAGE_CODE = "fr"
    customer = factories.customer()
    customer_phone_extension_keep(customer=customer, phone="+15145550100", extension="12")
    customer_phone_extension_keep(customer=customer, phone="+15145550100", extension="34")
    customer.refresh_from_db()
    assert customer.notes == "Téléphone\N{NO-BREAK SPACE}: (514) 555-0100, poste 34"
