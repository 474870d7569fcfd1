from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dealership.models import Role
from leads.business_hours import business_moment_before
from leads.models import Channel, LeadStatus
from leads.selectors.leads import (
    lead_counts,
    lead_inbox_rows,
    lead_list,
    lead_timeline,
    lead_visible_to,
    response_clock,
    response_deadlines,
)
from leads.services.customers import customer_email_add, customer_phone_add
from leads.services.leads import contact_log, lead_transition
from tests import factories

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def boss():
    return factories.staff(Role.SUPERVISOR).user


def test_supervisors_and_managers_see_all_advisors_their_own_department_none():
    advisor, other_advisor = factories.staff(Role.ADVISOR).user, factories.staff(Role.ADVISOR).user
    mine, theirs = factories.lead(owner=advisor), factories.lead(owner=other_advisor)
    for role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN):
        assert set(lead_visible_to(user=factories.staff(role).user)) == {mine, theirs}
    assert list(lead_visible_to(user=advisor)) == [mine]
    department = factories.staff(Role.DEPARTMENT, department_code="service").user
    assert not lead_visible_to(user=department).exists()


def test_inbox_shows_open_leads_newest_first_by_default(boss):
    now = timezone.now()
    old, new = factories.lead(received_at=now - timedelta(days=1)), factories.lead(received_at=now)
    lost = factories.lead(received_at=now)
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Spam")
    assert list(lead_list(user=boss)) == [new, old]
    assert list(lead_list(user=boss, filters={"status": "lost"})) == [lost]
    assert set(lead_list(user=boss, filters={"status": "all"})) == {old, new, lost}


def test_unanswered_overdue_and_urgent_order(boss):
    now = timezone.now()
    overdue = factories.lead(received_at=business_moment_before(now, 45))
    late = factories.lead(received_at=business_moment_before(now, 20))
    answered = factories.lead(received_at=business_moment_before(now, 60))
    contact_log(lead=answered, author=boss, channel=Channel.TEXT, notes="On my way")
    deadlines = response_deadlines(now=now)
    assert list(lead_list(user=boss, filters={"overdue": True}, deadlines=deadlines)) == [overdue]
    assert set(lead_list(user=boss, filters={"unanswered": True}, deadlines=deadlines)) == {overdue, late}
    assert list(lead_list(user=boss, filters={"sort": "urgent"}, deadlines=deadlines)) == [
        overdue,
        late,
        answered,
    ]
    assert response_clock(overdue, deadlines=deadlines).state == "overdue"
    assert response_clock(late, deadlines=deadlines).state == "late"
    answered.refresh_from_db()
    assert response_clock(answered, deadlines=deadlines).state == "answered"
    counts = lead_counts(user=boss, deadlines=deadlines)
    assert (counts["open"], counts["unanswered"], counts["overdue"]) == (3, 2, 1)
    assert (counts["new"], counts["contacted"]) == (2, 1)


def test_most_urgent_first_with_every_status_puts_only_open_waiting_leads_on_top(boss):
    now = timezone.now()
    lost_unanswered = factories.lead(received_at=business_moment_before(now, 90))
    lead_transition(lead=lost_unanswered, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    waiting = factories.lead(received_at=business_moment_before(now, 20))
    answered = factories.lead(received_at=business_moment_before(now, 60))
    contact_log(lead=answered, author=boss, channel=Channel.TEXT, notes="On my way")
    urgent_all = lead_list(user=boss, filters={"status": "all", "sort": "urgent"})
    # The lost lead was never answered, but nobody waits for it any more: it goes with the rest.
    assert list(urgent_all) == [waiting, lost_unanswered, answered]


def test_most_urgent_first_puts_a_customer_who_wrote_again_among_the_waiting_by_how_long(boss):
    from leads.services.leads import lead_customer_wrote

    now = timezone.now()
    quiet = factories.lead(received_at=now - timedelta(days=3))
    contact_log(
        lead=quiet, author=boss, channel=Channel.TEXT, notes="On my way", occurred_at=now - timedelta(days=2)
    )
    wrote_again = factories.lead(received_at=now - timedelta(days=2))
    contact_log(
        lead=wrote_again,
        author=boss,
        channel=Channel.TEXT,
        notes="On my way",
        occurred_at=now - timedelta(days=1),
    )
    lead_customer_wrote(lead=wrote_again, at=now - timedelta(hours=3))
    new_an_hour_ago = factories.lead(received_at=now - timedelta(hours=1))
    new_just_now = factories.lead(received_at=now)
    urgent = lead_list(user=boss, filters={"sort": "urgent"})
    # Waiting for three hours, for one, for none yet; then the lead nobody waits on.
    assert list(urgent) == [wrote_again, new_an_hour_ago, new_just_now, quiet]


def test_fixed_clock_over_a_weekend_is_not_overdue_on_sunday(boss, settings):
    # Saturday 16:50 inquiry, checked Sunday noon: 10 business minutes, still on time.
    lead = factories.lead(received_at=datetime(2026, 3, 7, 16, 50, tzinfo=TORONTO))
    deadlines = response_deadlines(now=datetime(2026, 3, 8, 12, 0, tzinfo=TORONTO))
    clock = response_clock(lead, deadlines=deadlines)
    assert (clock.minutes, clock.state) == (10, "ok")
    monday = response_deadlines(now=datetime(2026, 3, 9, 9, 25, tzinfo=TORONTO))
    assert response_clock(lead, deadlines=monday).state == "overdue"
    assert list(lead_list(user=boss, filters={"overdue": True}, deadlines=monday)) == [lead]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Tremblay", "sophie"),
        ("sophie t", "sophie"),
        ("lavoie.m@EXAMPLE", "marc"),
        ("514 555 0199", "marc"),
        ("+1 (514) 555-0199", "marc"),
        ("555-0199", "marc"),
        ("lavoie.m@example.com", "marc"),
        # Numbers and addresses a customer has besides their main ones find them too.
        ("438.555.0123", "marc"),
        ("Marc.Work@Example.org", "marc"),
        ("2T3P1RFV8RW000001", "sophie"),
        ("STK-4471", "marc"),
        ("12345-67", "sophie"),  # digits and a dash, as a stock number, not a phone number
        # Accents and case as typed or not: French names are found either way.
        ("Hélène Côté", "helene"),
        ("helene cote", "helene"),
        ("HÉLÈNE", "helene"),
        # As people type them: "Last, First", and the start of a number.
        ("Côté, Hélène", "helene"),
        ("helene-cote", "helene"),  # a hyphen is a space, as in "Marie-Ève"
        ("514-555", "marc"),
        ("(514) 555", "marc"),
        ("nobody", None),
    ],
)
def test_search_by_name_email_phone_vin_and_stock_number(boss, query, expected):
    leads = {
        "sophie": factories.lead(
            customer_obj=factories.customer(
                first_name="Sophie", last_name="Tremblay", email="st@example.com"
            ),
            vehicles=[{"make": "Toyota", "vin": "2T3P1RFV8RW000001", "stock_number": "12345-67"}],
        ),
        "marc": factories.lead(
            customer_obj=factories.customer(
                first_name="Marc", last_name="Lavoie", email="lavoie.m@example.com", phone="514-555-0199"
            ),
            vehicles=[{"make": "Honda", "stock_number": "STK-4471"}],
        ),
    }
    leads["helene"] = factories.lead(
        customer_obj=factories.customer(first_name="Hélène", last_name="Côté", email="hc@example.ca")
    )
    customer_phone_add(customer=leads["marc"].customer, phone="438 555 0123")
    customer_email_add(customer=leads["marc"].customer, email="marc.work@example.org")
    found = list(lead_list(user=boss, filters={"q": query}))
    assert found == ([leads[expected]] if expected else [])


def test_search_by_the_end_of_a_vin_and_by_a_stock_number_as_typed_or_in_stock(boss):
    stock = factories.vehicle(stock_number="P4455")
    named_by_vin = factories.lead(vehicles=[{"make": "Toyota", "vin": stock.vin.lower()}])
    named_by_stock = factories.lead(vehicles=[{"make": "Honda", "stock_number": "T1234A"}])
    built_at_x = factories.lead(vehicles=[{"make": "Ford", "vin": "1FMCU9GD55X123456"}])
    factories.lead(customer_obj=factories.customer(phone="+1 416 555 0005"))  # a 5 in a phone number
    for query, expected in [
        (stock.vin[-8:], named_by_vin),  # read off a windshield or a deal jacket
        (stock.vin[-6:].lower(), named_by_vin),
        ("P4455", named_by_vin),  # the store's stock number of the car the lead names by VIN
        ("p4455", named_by_vin),
        ("#T1234A", named_by_stock),
        ("T-1234A", named_by_stock),
        (stock.vin[-5:], None),  # too short to be a VIN's end
        (stock.vin[-7:-1], None),  # not its end
        ("5X123456", built_at_x),  # a VIN's end, not 5 with the extension 123456
    ]:
        assert list(lead_list(user=boss, filters={"q": query, "status": "all"})) == (
            [expected] if expected else []
        ), query


def test_search_finds_either_apostrophe_a_number_with_its_extension_and_part_of_other_numbers_and_addresses(
    boss,
):
    customer = factories.customer(
        first_name="Chloé", last_name="O'Neil", email="cc@example.com", phone="416-555-0199"
    )
    chloe = factories.lead(customer_obj=customer)
    customer_phone_add(customer=customer, phone="647 555 0123")
    customer_email_add(customer=customer, email="chloe.work@example.org")
    liam = factories.lead(customer_obj=factories.customer(first_name="Liam", last_name="D’Amours"))
    for query, expected in [
        ("O’Neil", chloe),  # as phones and Macs type it
        ("o'neil", chloe),
        ("d'amours", liam),
        ("D’Amours", liam),
        ("416-555-0199 ext 12", chloe),
        ("416-555-0199 x12", chloe),
        ("416 555 0199 poste 12", chloe),
        ("555-0123", chloe),  # part of the number she has besides her main one
        ("Chloé 647-555-0123", chloe),
        ("chloe.work", chloe),  # part of her other address
        ("work@example", chloe),
    ]:
        assert list(lead_list(user=boss, filters={"q": query})) == [expected], query


def test_filters_by_source_owner_language_and_dates(boss):
    advisor = factories.staff(Role.ADVISOR).user
    early = factories.lead(
        source="AutoTrader",
        language="fr",
        owner=advisor,
        received_at=datetime(2026, 3, 2, 10, tzinfo=TORONTO),
    )
    late = factories.lead(source="Website", received_at=datetime(2026, 3, 5, 23, 30, tzinfo=TORONTO))
    assert list(lead_list(user=boss, filters={"source": "autotrader"})) == [early]
    assert list(lead_list(user=boss, filters={"owner": str(advisor.pk)})) == [early]
    assert list(lead_list(user=boss, filters={"owner": "none"})) == [late]
    assert list(lead_list(user=boss, filters={"language": "fr"})) == [early]
    # Dates are the store's calendar days: 23:30 in Toronto on the 5th is the 5th.
    assert list(lead_list(user=boss, filters={"received_from": date(2026, 3, 5)})) == [late]
    assert list(lead_list(user=boss, filters={"received_to": date(2026, 3, 5)})) == [late, early]
    assert list(lead_list(user=boss, filters={"received_to": date(2026, 3, 4)})) == [early]


def test_timeline_merges_messages_and_events_in_order():
    lead = factories.lead(received_at=datetime(2026, 3, 2, 9, 0, tzinfo=TORONTO))
    author = factories.staff(Role.SUPERVISOR, first_name="Sophie", last_name="T").user
    factories.inbound_email(
        lead=lead, body="Still there?", occurred_at=datetime(2026, 3, 2, 9, 0, tzinfo=TORONTO)
    )
    contact_log(lead=lead, author=author, channel=Channel.NOTE, notes="Checked stock")
    entries = lead_timeline(lead=lead)
    kinds = [(e.message.channel if e.message else e.event.type) for e in entries]
    assert kinds[0] == "email"
    assert "created" in kinds and kinds[-1] == "note"
    assert entries[-1].who == "Sophie T"
    assert [e.at for e in entries] == sorted(e.at for e in entries)


def test_status_counts_follow_changes_once_committed(boss, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = factories.lead()
    assert lead_counts(user=boss)["new"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        lead_transition(lead=lead, to_status=LeadStatus.LOST, reason="Spam")
    counts = lead_counts(user=boss)
    assert (counts["new"], counts["lost"], counts["open"], counts["all"]) == (0, 1, 0, 1)


def test_counts_follow_a_first_answer_once_committed(boss, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = factories.lead(received_at=business_moment_before(timezone.now(), 45))
    counts = lead_counts(user=boss)
    assert (counts["new"], counts["unanswered"], counts["overdue"]) == (1, 1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        contact_log(lead=lead, author=boss, channel=Channel.TEXT, notes="On my way")
    counts = lead_counts(user=boss)
    assert (counts["contacted"], counts["unanswered"], counts["overdue"]) == (1, 0, 0)


def test_inbox_rows_are_the_page_of_the_inbox_in_its_order(boss):
    advisor = factories.staff(Role.ADVISOR, first_name="Julie", last_name="Roy").user
    now = timezone.now()
    leads = [factories.lead(received_at=now - timedelta(minutes=n), owner=advisor) for n in range(5)]
    rows = lead_inbox_rows(user=boss, offset=1, limit=3)
    assert [row.pk for row in rows] == [lead.pk for lead in list(lead_list(user=boss))[1:4]]
    assert rows[0].customer == str(leads[1].customer) and rows[0].owner == "Julie Roy"
    assert rows[0].status_label == "New" and rows[0].inquiry_type_label == leads[1].get_inquiry_type_display()


def test_a_refused_mail_stays_flagged_until_a_later_mail_to_the_same_people_has_gone():
    from leads.models import Message
    from leads.selectors.leads import lead_unsent_mail

    lead = factories.lead()

    def outbound(status, to, minutes):
        return factories.outbound_email(
            lead=lead,
            to_addresses=[to],
            send_status=status,
            occurred_at=lead.received_at + timedelta(minutes=minutes),
        )

    typo = outbound(Message.SendStatus.FAILED, "dana@exmaple.com", 5)
    refused = outbound(Message.SendStatus.FAILED, "dana@example.com", 10)
    outbound(Message.SendStatus.SENT, "dana@example.com", 20)
    assert lead_unsent_mail(timeline=lead_timeline(lead=lead)) == [typo]  # the other one went since
    outbound(Message.SendStatus.FAILED, "dana@example.com", 30)
    assert len(lead_unsent_mail(timeline=lead_timeline(lead=lead))) == 2
    assert refused not in lead_unsent_mail(timeline=lead_timeline(lead=lead))


def test_the_status_counts_add_up_to_all_once_a_duplicate_is_merged(boss):
    from leads.services.leads import lead_merge

    kept = factories.lead()
    duplicate = factories.lead(customer_obj=kept.customer)
    lost = factories.lead()
    lead_transition(lead=lost, to_status=LeadStatus.LOST, reason="Bought elsewhere")
    lead_merge(target=kept, duplicate=duplicate, actor=boss)
    counts = lead_counts(user=boss)
    assert counts["open"] + counts["sold"] + counts["lost"] == counts["all"] == 2
    assert list(lead_list(user=boss, filters={"status": "lost"})) == [lost]  # the duplicate is in kept


def test_a_name_sent_with_its_accents_as_letters_of_their_own_is_found_by_search(boss):
    import importlib

    from django.apps import apps

    from leads.models import Customer
    from leads.services.leads import customer_find_or_create, lead_create

    decomposed = "Be\u0301rube\u0301"  # "Bérubé" as some mailers send it
    customer, _ = customer_find_or_create(
        email="eloise@example.com", first_name="E\u0301loi\u0308se", last_name=decomposed
    )
    lead = lead_create(customer=customer, source="Email")
    for typed in ("Bérubé", "berube", "Éloïse Bérubé", decomposed):
        assert list(lead_list(user=boss, filters={"q": typed})) == [lead], typed
    # Names stored that way before are composed again.
    Customer.objects.filter(pk=customer.pk).update(last_name=decomposed)
    importlib.import_module("leads.migrations.0028_customer_names_one_character_per_letter").names_composed(
        apps, None
    )
    customer.refresh_from_db()
    assert customer.last_name == "Bérubé"
