"""The mailbox's read marks: managers who keep the lead mailbox open in Outlook go by its unread
(bold) mail. MAILBOX_MARK_READ=false leaves those marks as people set them, and every message is
still taken in once."""

import os
import time

import pytest
from imapclient import SEEN

from leads.mail.polling import poll_source
from leads.mail.sources import parse_mailbox_url
from leads.models import InboundMail, Lead
from tests.leads.test_mail_first_poll import append, inquiry, poll, route_all

pytestmark = pytest.mark.django_db(transaction=True)

MARK_READ = pytest.mark.parametrize("mark_read", [True, False], ids=["marked-read", "left-unread"])


def read_on_server(dovecot) -> list[bool]:
    """Whether each message of the inbox, oldest first, is read, as the manager's Outlook shows it."""
    return [SEEN in flags for _, flags in sorted(dovecot.flags().items())]


@MARK_READ
def test_imap_mail_is_one_lead_and_marked_read_only_if_the_store_wants(dovecot, settings, mark_read):
    settings.MAILBOX_MARK_READ = mark_read
    append(dovecot, inquiry(1))
    assert poll(dovecot).stored == 1
    route_all()
    assert list(Lead.objects.values_list("customer__email", flat=True)) == ["buyer1@example.com"]
    assert read_on_server(dovecot) == [mark_read]

    # Polled again: nothing is taken in twice, and the mark stays as it was.
    assert poll(dovecot).stored == 0
    assert read_on_server(dovecot) == [mark_read]

    # The manager read the next one in Outlook before the poll: it is taken in and stays read.
    append(dovecot, inquiry(2), seen=True)
    assert poll(dovecot).stored == 1
    route_all()
    assert poll(dovecot).stored == 0
    assert Lead.objects.count() == InboundMail.objects.count() == 2
    assert read_on_server(dovecot) == [mark_read, True]


@pytest.fixture
def maildir(tmp_path):
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    return tmp_path


def drop(maildir, raw: bytes, name: str) -> None:
    """Deliver a message into new/, a moment ago."""
    path = maildir / "new" / name
    path.write_bytes(raw)
    past = time.time() - 5
    os.utime(path, (past, past))


@MARK_READ
def test_maildir_mail_is_one_lead_and_marked_read_only_if_the_store_wants(maildir, settings, mark_read):
    settings.MAILBOX_MARK_READ = mark_read
    drop(maildir, inquiry(1), "1.eml")
    # Delivered already read (a delivery rule marked it): it stays read.
    drop(maildir, inquiry(2), "2.eml:2,S")
    source = parse_mailbox_url(f"maildir://{maildir}")

    assert poll_source(source).stored == 2
    route_all()
    assert Lead.objects.count() == 2
    # Out of new/ either way; a mail client shows a file in cur/ without the S flag as unread.
    assert not list((maildir / "new").iterdir())
    cur = ["1.eml:2,S" if mark_read else "1.eml:2,", "2.eml:2,S"]
    assert sorted(path.name for path in (maildir / "cur").iterdir()) == cur

    assert poll_source(source).stored == 0
    assert sorted(path.name for path in (maildir / "cur").iterdir()) == cur
    assert Lead.objects.count() == InboundMail.objects.count() == 2
