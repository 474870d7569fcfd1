"""The supervisor's view of mail in (decisions, quarantine, replay) and the department staff's mail."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dealership.models import Department, Role
from leads.mail.polling import poll_source
from leads.mail.sources import configured_sources
from leads.models import InboundStatus, Mailbox
from leads.selectors.mail import inbound_mail_counts, mailboxes_behind_changed
from leads.services.mail import MAX_TRIES, InboundRetry, inbound_process
from leads.services.routing import routing_rules_ensure_defaults
from tests import factories

pytestmark = pytest.mark.django_db

SERVICE_MAIL = dict(
    subject="Oil change", body="I need an oil change and new brakes, can I book a service appointment?"
)


def quarantined_mail():
    """Service mail while the service department has no forward address: it cannot be routed."""
    factories.department("service")
    Department.objects.filter(code="service").update(forward_email="")
    inbound = factories.inbound_mail(factories.raw_mail(**SERVICE_MAIL), process=False)
    for _ in range(MAX_TRIES):
        try:
            inbound_process(inbound_id=inbound.pk)
        except InboundRetry:
            pass
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.QUARANTINED
    return inbound


def test_the_supervisor_sees_each_message_with_its_decision(supervisor_client):
    inbound = factories.inbound_mail(factories.raw_mail(subject="Price of the 2024 RAV4"))
    response = supervisor_client.get(reverse("leads:inbound_mail_list"))
    page = response.content.decode()
    assert "Price of the 2024 RAV4" in page
    assert (inbound.kind, inbound.department, inbound.rule) == ("lead", "sales", "keywords:sales")
    assert ">New lead<" in page and ">Sales<" in page and ">words about Sales<" in page


@pytest.mark.parametrize(
    ("raw", "kind", "department", "reason"),
    [
        (
            factories.raw_mail(subject="Brakes", body="Can I book a brake repair?"),
            "Forward to a department", "Service", "words about Service",
        ),
        (
            factories.raw_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}),
            "Automatic reply (ignored)", "—", "automatic mail headers",
        ),
        (
            factories.raw_mail(from_address="marc@maplemotors.example", subject="Note", body="Call Olivia back."),
            "Automatic reply (ignored)", "—", "mail from the store&#x27;s staff",
        ),
    ],
)  # fmt: skip
def test_the_mail_in_pages_say_in_words_what_each_message_became_and_why(
    supervisor_client, raw, kind, department, reason
):
    factories.staff("advisor", email="marc@maplemotors.example")  # whose note to a colleague is staff mail
    inbound = factories.inbound_mail(raw)
    for url in (reverse("leads:inbound_mail_list"), reverse("leads:inbound_mail_detail", args=[inbound.pk])):
        page = supervisor_client.get(url).content.decode()
        assert all(f">{text}<" in page for text in (kind, department, reason)), url


def test_the_mail_in_page_says_a_lead_providers_notice_had_no_customer_in_it(supervisor_client):
    routing_rules_ensure_defaults()
    inbound = factories.inbound_mail(factories.sample_mail("kijiji_ad_expiring_fr.eml"))
    page = supervisor_client.get(reverse("leads:inbound_mail_detail", args=[inbound.pk])).content.decode()
    assert ">a lead provider&#x27;s own notice, with no customer in it<" in page


def test_the_mail_in_list_reads_accented_subjects_and_names_as_the_conversation_does(supervisor_client):
    raw = (
        b"From: =?utf-8?q?H=C3=A9l=C3=A8ne_C=C3=B4t=C3=A9?= <helene@example.ca>\r\n"
        b"To: internet@maplemotors.example\r\nSubject: Pr\xe9cision v\xe9hicule\r\n"
        b"Message-ID: <accents@example.ca>\r\n\r\nLe RAV4 est-il disponible?\r\n"
    )  # a Windows client's subject in raw 8-bit, an encoded name
    factories.inbound_mail(raw)
    page = supervisor_client.get(reverse("leads:inbound_mail_list")).content.decode()
    assert "Précision véhicule" in page and "Hélène Côté" in page and "\ufffd" not in page


def test_quarantined_mail_is_listed_with_its_error_and_can_be_replayed(supervisor_client):
    factories.inbound_mail()  # a message that went through
    inbound = quarantined_mail()
    page = supervisor_client.get(
        reverse("leads:inbound_mail_list"), {"status": "quarantined"}
    ).content.decode()
    assert "Oil change" in page and "No forward address for the service department" in page
    assert "Price of the 2024 RAV4" not in page

    detail = supervisor_client.get(reverse("leads:inbound_mail_detail", args=[inbound.pk])).content.decode()
    assert reverse("leads:inbound_mail_replay", args=[inbound.pk]) in detail

    Department.objects.filter(code="service").update(forward_email="service@store.test")
    response = supervisor_client.post(reverse("leads:inbound_mail_replay", args=[inbound.pk]), follow=True)
    assert "queued to be processed again" in response.content.decode()
    inbound.refresh_from_db()
    assert (inbound.status, inbound.tries) == (InboundStatus.PENDING, 0)
    assert inbound_process(inbound_id=inbound.pk) == InboundStatus.PROCESSED


def test_replay_is_refused_for_mail_that_is_not_quarantined(supervisor_client):
    inbound = factories.inbound_mail()
    response = supervisor_client.post(reverse("leads:inbound_mail_replay", args=[inbound.pk]), follow=True)
    assert "Only quarantined mail can be replayed" in response.content.decode()
    assert supervisor_client.get(reverse("leads:inbound_mail_replay", args=[inbound.pk])).status_code == 405


def test_the_original_is_shown_exactly_as_received_and_linked_from_the_lead(supervisor_client):
    raw = factories.raw_mail(body="<script>alert(1)</script> best price?")
    inbound = factories.inbound_mail(raw)
    original = reverse("leads:inbound_mail_original", args=[inbound.pk])
    with CaptureQueriesContext(connection) as captured:
        response = supervisor_client.get(original)
    assert response.content == raw
    assert len([q for q in captured.captured_queries if "leads_inboundmail" in q["sql"]]) == 1
    assert response["Content-Type"].startswith("text/plain")
    lead_page = supervisor_client.get(reverse("leads:lead_detail", args=[inbound.lead_id])).content.decode()
    assert original in lead_page


def test_department_staff_see_the_mail_forwarded_to_their_department_only(client):
    factories.department("service")
    factories.department("parts")
    mine = factories.inbound_mail(factories.raw_mail(**SERVICE_MAIL))
    theirs = factories.inbound_mail(
        factories.raw_mail(subject="Floor mats", body="Do you have floor mats, what is the part number?")
    )
    assert (mine.outcome, theirs.outcome) == ("forwarded", "forwarded")
    member = factories.staff(Role.DEPARTMENT, department_code="service")
    client.force_login(member.user)

    page = client.get(reverse("leads:department_mail")).content.decode()
    assert "Oil change" in page and "Floor mats" not in page
    assert client.get(reverse("leads:inbound_mail_original", args=[mine.pk])).status_code == 200
    assert client.get(reverse("leads:inbound_mail_original", args=[theirs.pk])).status_code == 404


def test_the_department_mail_table_scrolls_by_itself_on_a_phone_rather_than_widening_the_page(client):
    factories.department("service")
    factories.inbound_mail(factories.raw_mail(**SERVICE_MAIL))
    client.force_login(factories.staff(Role.DEPARTMENT, department_code="service").user)
    page = client.get(reverse("leads:department_mail")).content.decode()
    assert re.search(r'<div class="table-responsive">\s*<table class="table table-hover">', page)


def test_an_advisor_cannot_see_the_quarantine(client):
    inbound = quarantined_mail()
    client.force_login(factories.staff(Role.ADVISOR).user)
    assert "Oil change" not in client.get(reverse("leads:inbound_mail_list")).content.decode()
    assert client.get(reverse("leads:inbound_mail_detail", args=[inbound.pk])).status_code == 404
    assert client.post(reverse("leads:inbound_mail_replay", args=[inbound.pk])).status_code == 404


def test_the_supervisor_sees_when_each_mailbox_was_read_and_its_error(supervisor_client, settings):
    settings.MAILBOX_URLS = ["imap://leads:wrong-password@127.0.0.1:1/INBOX"]
    source = configured_sources()[0]
    with pytest.raises(OSError):
        poll_source(source)
    page = supervisor_client.get(reverse("leads:inbound_mail_list")).content.decode()
    assert "imap://leads@127.0.0.1:1/INBOX" in page
    assert "ConnectionRefusedError" in page
    assert "wrong-password" not in page


def test_the_counts_of_each_status_are_read_in_one_query(supervisor, django_assert_num_queries):
    factories.inbound_mail()
    factories.inbound_mail(process=False)
    quarantined_mail()
    with django_assert_num_queries(1):
        counts = inbound_mail_counts(user=supervisor.user)
    assert counts == {"pending": 1, "processed": 1, "quarantined": 1, "ignored": 0}


def test_the_detail_page_leaves_the_raw_message_in_the_database(supervisor_client):
    inbound = factories.inbound_mail()
    with CaptureQueriesContext(connection) as queries:
        page = supervisor_client.get(reverse("leads:inbound_mail_detail", args=[inbound.pk])).content.decode()
    assert inbound.subject in page
    assert not [query for query in queries if '_inboundmail"."raw"' in query["sql"]]


# --- mail not being read -----------------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once closed


def _banner(client) -> str:
    page = client.get(reverse("leads:inbox")).content.decode()
    if 'id="mail-not-read"' not in page:
        return ""
    return " ".join(page[page.index('id="mail-not-read"') :].split("</div>")[0].split())


def test_a_mailbox_that_cannot_be_read_is_said_on_the_inbox_with_when_it_was_last_read(
    supervisor_client, tmp_path, settings
):
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    settings.MAILBOX_URLS = [f"maildir://{tmp_path}", f"imap://leads:secret@127.0.0.1:{_closed_port()}/INBOX"]
    working, refusing = configured_sources()
    poll_source(working)
    with pytest.raises(OSError):
        poll_source(refusing)

    banner = _banner(supervisor_client)
    assert "Mail is not being read" in banner
    assert f"{refusing.name}: not read yet · ConnectionRefusedError" in banner
    assert working.name not in banner and "secret" not in banner
    # The Mail in page no longer says the failing mailbox was just read.
    mail_in = supervisor_client.get(reverse("leads:inbound_mail_list")).content.decode()
    assert f"{refusing.name}: not read yet" in mail_in

    settings.MAILBOX_URLS = [f"maildir://{tmp_path}"]  # the broken one taken out of the settings
    poll_source(working)
    assert _banner(supervisor_client) == ""


def test_mail_left_unread_by_a_stopped_worker_is_said_to_the_desk_only(
    supervisor_client, client, tmp_path, settings
):
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    settings.MAILBOX_URLS = [f"maildir://{tmp_path}"]
    [source] = configured_sources()
    poll_source(source)
    assert _banner(supervisor_client) == ""

    # Nobody polls for a quarter of an hour: the worker or its broker is down.
    Mailbox.objects.update(last_polled_at=timezone.now() - timedelta(minutes=15))
    mailboxes_behind_changed()
    banner = _banner(supervisor_client)
    assert f"{source.name}: last read 15 minutes ago" in banner
    assert "the mail worker or its queue has stopped" in banner
    client.force_login(factories.advisor().user)
    assert _banner(client) == ""


def test_a_long_read_still_going_or_polls_far_apart_are_not_said_to_be_behind(
    supervisor_client, tmp_path, settings
):
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    settings.MAILBOX_URLS = [f"maildir://{tmp_path}"]
    [source] = configured_sources()
    poll_source(source)
    quarter_hour_ago = timezone.now() - timedelta(minutes=15)
    # A backlog of thousands of messages, read for a quarter of an hour, its lock renewed as it goes.
    Mailbox.objects.update(
        last_polled_at=quarter_hour_ago, locked_until=timezone.now() + timedelta(minutes=1)
    )
    mailboxes_behind_changed()
    assert _banner(supervisor_client) == ""
    # A store that polls every 15 minutes (no IDLE): one poll's wait is not a stop.
    settings.MAILBOX_POLL_SECONDS = 900
    Mailbox.objects.update(locked_until=None)
    mailboxes_behind_changed()
    assert _banner(supervisor_client) == ""
    settings.MAILBOX_POLL_SECONDS = 30
    mailboxes_behind_changed()
    assert "last read 15 minutes ago" in _banner(supervisor_client)
