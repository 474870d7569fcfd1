"""What the reads of a mailbox take in: on its first read, and after its folder is recreated, the
mail already there is the store's history; mail read late is dated when it reached the mailbox; a
message too large to read still reaches a salesperson."""

import logging
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from imapclient import SEEN

from leads.mail import polling
from leads.mail.polling import poll_source
from leads.mail.rawmail import RawMail
from leads.mail.sources import parse_mailbox_url
from leads.models import (
    ConsentRecord,
    Direction,
    InboundMail,
    InboundOutcome,
    InboundStatus,
    Lead,
    Mailbox,
    Message,
)
from leads.services.followup import followup_enroll_arrivals, followup_plans_ensure_defaults
from leads.services.mail import InboundRetry, inbound_process, inbound_store, mailbox_ensure, mailbox_lock
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

LONG_AGO = datetime(2021, 9, 14, 14, 0, tzinfo=UTC)


def poll(dovecot, folder: str = "INBOX"):
    return poll_source(parse_mailbox_url(dovecot.url_for(folder)))


def append(dovecot, raw: bytes, *, at: datetime | None = None, seen: bool = False, folder: str = "INBOX"):
    """A message put in the folder as the mail server delivered it at `at` (its INTERNALDATE)."""
    with dovecot.client() as client:
        client.append(folder, raw, flags=[SEEN] if seen else (), msg_time=at)


def route_all() -> None:
    for pk in (
        InboundMail.objects.filter(status=InboundStatus.PENDING).order_by("pk").values_list("pk", flat=True)
    ):
        try:
            inbound_process(inbound_id=pk)
        except InboundRetry:
            pass


def acknowledgements():
    return Message.objects.filter(direction=Direction.OUTBOUND, author__isnull=True)


def inquiry(n, **fields) -> bytes:
    return factories.raw_mail(from_address=f"buyer{n}@example.com", subject=f"RAV4 price #{n}", **fields)


# --- the first read of a mailbox ----------------------------------------------------------------


def test_the_first_read_of_a_mailbox_leaves_the_mail_already_there_alone(dovecot):
    """The store connects the mailbox it has used for years: its old mail, and what staff have
    read already, stays history; only what waits unread from the last week is taken in."""
    for n in range(3):
        append(dovecot, inquiry(n), at=LONG_AGO)  # years old, never opened
    append(dovecot, inquiry(3), at=LONG_AGO, seen=True)
    append(dovecot, inquiry(4), seen=True)  # read this morning by the manager in Outlook
    append(dovecot, inquiry(5))  # arrived a moment ago, nobody has read it

    result = poll(dovecot)
    assert (result.seen, result.stored) == (1, 1)
    assert InboundMail.objects.get().subject == "RAV4 price #5"
    mailbox = Mailbox.objects.get()
    assert mailbox.uidvalidity is not None and mailbox.last_uid == 6

    # From then on every new message is read, whatever its flags.
    append(dovecot, inquiry(6), seen=True)
    append(dovecot, inquiry(7))
    assert poll(dovecot).stored == 2
    assert poll(dovecot).stored == 0
    route_all()
    assert sorted(Lead.objects.values_list("customer__email", flat=True)) == [
        "buyer5@example.com",
        "buyer6@example.com",
        "buyer7@example.com",
    ]
    assert acknowledgements().count() == 3


def test_the_first_read_takes_the_unread_mail_of_the_last_week_and_says_what_it_left(dovecot):
    """The store connects its mailbox on Monday: Friday evening's unread inquiry becomes a lead, dated
    Friday and not acknowledged three days on; older unread mail and mail already read stay in the
    mailbox, and the poll says how many."""
    friday = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    append(dovecot, inquiry(1), at=friday)
    append(dovecot, inquiry(2), at=timezone.now() - timedelta(days=8))
    append(dovecot, inquiry(3), at=friday, seen=True)
    append(dovecot, inquiry(4), at=LONG_AGO)
    append(dovecot, inquiry(5))

    records: list[logging.LogRecord] = []
    logged = logging.Handler()
    logged.emit = records.append
    polling.logger.addHandler(logged)
    try:
        result = poll(dovecot)
    finally:
        polling.logger.removeHandler(logged)
    assert (result.seen, result.stored, result.left_in_folder) == (2, 2, 3)
    [record] = [record for record in records if "left 3 messages" in record.getMessage()]
    assert record.levelno == logging.WARNING and "MAILBOX_READ_HISTORY" in record.getMessage()
    route_all()
    late = Lead.objects.get(customer__email="buyer1@example.com")
    assert late.received_at == friday
    assert not late.messages.filter(direction=Direction.OUTBOUND).exists()
    assert [message.lead.customer.email for message in acknowledgements()] == ["buyer5@example.com"]

    # From then on nothing is left: every new message is read.
    append(dovecot, inquiry(6), at=LONG_AGO, seen=True)
    result = poll(dovecot)
    assert (result.stored, result.left_in_folder) == (1, 0)


def test_a_message_stored_with_when_it_reached_the_mailbox_is_dated_then():
    friday = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    mailbox = mailbox_ensure(name="maildir:///test/arrivals")
    raw = inquiry(1)
    [pk] = inbound_store(
        mailbox=mailbox,
        token=mailbox_lock(mailbox=mailbox),
        messages=[RawMail(raw=raw, size=len(raw), arrived_at=friday)],
    )
    assert InboundMail.objects.get(pk=pk).received_at == friday


def test_a_first_read_cut_short_still_leaves_the_history_alone(dovecot, monkeypatch, settings):
    """The worker dies in the middle of the first read: the next read does not take the old mail in."""
    settings.MAILBOX_FETCH_BATCH = 1
    append(dovecot, inquiry(1))
    append(dovecot, inquiry(2), at=LONG_AGO)
    append(dovecot, inquiry(3))
    append(dovecot, inquiry(4), at=LONG_AGO)
    store = polling.inbound_store
    calls = []

    def dies_on_the_second_batch(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return store(**kwargs)

    monkeypatch.setattr(polling, "inbound_store", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        poll(dovecot)
    monkeypatch.setattr(polling, "inbound_store", store)
    assert InboundMail.objects.count() == 1

    poll(dovecot)
    assert sorted(InboundMail.objects.values_list("subject", flat=True)) == ["RAV4 price #1", "RAV4 price #3"]
    assert Mailbox.objects.get().last_uid == 4
    append(dovecot, inquiry(5))
    assert poll(dovecot).stored == 1


def test_history_is_read_when_the_store_asks_for_it_without_answering_it(dovecot, settings):
    settings.MAILBOX_READ_HISTORY = True
    followup_plans_ensure_defaults()
    append(dovecot, inquiry(1), at=LONG_AGO, seen=True)
    append(dovecot, inquiry(2), at=LONG_AGO)

    assert poll(dovecot).stored == 2
    route_all()
    leads = list(Lead.objects.all())
    assert len(leads) == 2
    assert all(lead.received_at == LONG_AGO for lead in leads)  # not today
    assert acknowledgements().count() == 0  # customers of 2021 are not told "we have your inquiry" today
    assert followup_enroll_arrivals(now=timezone.now()) == 0
    # The implied consent of a 2021 inquiry ran from 2021 and is long over.
    grants = ConsentRecord.objects.filter(customer__email="buyer1@example.com", basis="implied_inquiry")
    assert grants.exists()
    assert all(grant.given_at == LONG_AGO for grant in grants)


def test_a_recreated_folder_is_read_again_for_what_came_since_but_not_for_its_history(dovecot):
    """The mailbox is restored from a backup (a new UIDVALIDITY) holding mail from before the CRM."""
    dovecot.recreate_folder("Leads")
    source = parse_mailbox_url(dovecot.url_for("Leads"))
    poll_source(source)  # the mailbox has been read for a while
    known = inquiry(1)
    append(dovecot, known, folder="Leads")
    assert poll_source(source).stored == 1
    before = Mailbox.objects.get().uidvalidity

    # Restored: the old mail of the backup, the message already stored, one that came since.
    dovecot.recreate_folder("Leads")
    append(dovecot, inquiry(2), at=LONG_AGO, folder="Leads")
    append(dovecot, known, folder="Leads")
    append(dovecot, inquiry(3), at=LONG_AGO + timedelta(days=1), seen=True, folder="Leads")
    append(dovecot, inquiry(4), folder="Leads", seen=True)  # came since, and opened in Outlook
    result = poll_source(source)
    assert (result.seen, result.stored, result.left_in_folder) == (2, 1, 2)
    assert InboundMail.objects.filter(subject="RAV4 price #4").exists()
    assert not InboundMail.objects.filter(subject__in=["RAV4 price #2", "RAV4 price #3"]).exists()
    mailbox = Mailbox.objects.get()
    assert mailbox.uidvalidity != before and mailbox.last_uid == 4
    append(dovecot, inquiry(5), folder="Leads")
    assert poll_source(source).stored == 1


# --- mail read late -------------------------------------------------------------------------------


def test_mail_read_days_late_is_dated_when_it_reached_the_mailbox_and_not_acknowledged(dovecot):
    """The mailbox could not be read from Friday to Monday (a changed password)."""
    followup_plans_ensure_defaults()
    poll(dovecot)  # read before the outage
    friday = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    append(dovecot, inquiry(1), at=friday)
    append(dovecot, inquiry(2))  # this morning's
    assert poll(dovecot).stored == 2
    route_all()

    late = Lead.objects.get(customer__email="buyer1@example.com")
    assert late.received_at == friday  # waiting since Friday, not "just received"
    assert InboundMail.objects.get(subject="RAV4 price #1").received_at == friday
    assert late.messages.get(direction=Direction.INBOUND).occurred_at == friday
    assert not late.messages.filter(direction=Direction.OUTBOUND).exists()  # no "we have it" 3 days on
    assert ConsentRecord.objects.filter(customer=late.customer, given_at=friday).exists()
    fresh = Lead.objects.get(customer__email="buyer2@example.com")
    assert timezone.now() - fresh.received_at < timedelta(minutes=5)
    assert fresh.messages.filter(direction=Direction.OUTBOUND).count() == 1
    assert followup_enroll_arrivals(now=timezone.now()) == 1
    assert fresh.followups.exists() and not late.followups.exists()


def test_a_time_of_arrival_in_the_future_is_taken_as_now(dovecot):
    poll(dovecot)
    append(dovecot, inquiry(1), at=timezone.now() + timedelta(days=30))
    poll(dovecot)
    route_all()
    lead = Lead.objects.get()
    assert abs(timezone.now() - lead.received_at) < timedelta(minutes=5)
    assert lead.messages.filter(direction=Direction.OUTBOUND).count() == 1


def drop(maildir, raw: bytes, *, at: float) -> None:
    path = maildir / "new" / f"{time.time_ns()}.eml"
    path.write_bytes(raw)
    os.utime(path, (at, at))


@pytest.fixture
def maildir(tmp_path):
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    return tmp_path


def test_a_maildir_message_is_dated_when_it_was_delivered(maildir):
    delivered = timezone.now().replace(microsecond=0) - timedelta(days=2)
    drop(maildir, inquiry(1), at=delivered.timestamp())
    drop(maildir, inquiry(2), at=time.time() - 5)
    poll_source(parse_mailbox_url(f"maildir://{maildir}"))
    route_all()
    late = Lead.objects.get(customer__email="buyer1@example.com")
    assert late.received_at == delivered
    assert not late.messages.filter(direction=Direction.OUTBOUND).exists()
    other = Lead.objects.get(customer__email="buyer2@example.com")
    assert timezone.now() - other.received_at < timedelta(minutes=1)
    assert other.messages.filter(direction=Direction.OUTBOUND).exists()


# --- a message too large to read ------------------------------------------------------------------


def trade_in_photos(**fields) -> bytes:
    return factories.raw_mail(
        from_address="tradein@example.com",
        subject="Trade-in photos, what would you give me on a RAV4?",
        body="Here are photos of my 2019 RAV4. What would you give me for it? Call me at 514-555-0199.",
        attachments=[(f"IMG_{n}.jpg", "image/jpeg", os.urandom(60_000)) for n in range(10)],
        **fields,
    )


def assert_a_lead_with_what_could_be_read(inbound: InboundMail) -> None:
    assert inbound.status == InboundStatus.PROCESSED and inbound.outcome == InboundOutcome.NEW_LEAD
    assert "still in the mailbox" in inbound.last_error  # a warning on the Mail in page
    lead = inbound.lead
    assert lead.customer.email == "tradein@example.com"
    assert lead.customer.phone == "+15145550199"
    assert "What would you give me for it?" in lead.comments
    assert "too large" in lead.comments and "in the mailbox" in lead.comments
    entry = lead.messages.get(direction=Direction.INBOUND)
    assert "What would you give me for it?" in entry.body_text and "in the mailbox" in entry.body_text
    assert not entry.attachments.exists()
    assert lead.messages.filter(direction=Direction.OUTBOUND).count() == 1  # acknowledged as any inquiry


def test_an_inquiry_too_large_to_read_still_becomes_a_lead_from_what_could_be_read(dovecot, settings):
    settings.MAIL_MAX_MESSAGE_BYTES = 300_000
    raw = trade_in_photos()
    assert len(raw) > 800_000
    poll(dovecot)
    append(dovecot, raw)
    poll(dovecot)
    inbound = InboundMail.objects.get()
    assert not inbound.raw_complete and inbound.size >= len(raw)  # the server counts CRLF line ends
    assert len(bytes(inbound.raw)) < 5_000
    route_all()
    assert_a_lead_with_what_could_be_read(InboundMail.objects.get())
    with dovecot.client() as client:  # the whole message stays on the server
        client.select_folder("INBOX", readonly=True)
        assert len(client.search("ALL")) == 1


def test_a_maildir_message_too_large_to_read_still_becomes_a_lead(maildir, settings):
    settings.MAIL_MAX_MESSAGE_BYTES = 300_000
    drop(maildir, trade_in_photos(), at=time.time() - 5)
    poll_source(parse_mailbox_url(f"maildir://{maildir}"))
    route_all()
    assert_a_lead_with_what_could_be_read(InboundMail.objects.get())


def test_a_message_too_large_whose_text_cannot_be_read_still_names_its_sender(dovecot, settings):
    settings.MAIL_MAX_MESSAGE_BYTES = 300_000
    raw = factories.raw_mail(
        from_address="tradein@example.com",
        subject="Photos of my RAV4",
        body="x" * 400_000,  # the text itself is over the limit
        attachments=[("IMG_1.jpg", "image/jpeg", os.urandom(60_000))],
    )
    poll(dovecot)
    append(dovecot, raw)
    poll(dovecot)
    route_all()
    inbound = InboundMail.objects.get()
    assert inbound.outcome == InboundOutcome.NEW_LEAD
    assert inbound.lead.customer.email == "tradein@example.com"
    assert "in the mailbox" in inbound.lead.comments
