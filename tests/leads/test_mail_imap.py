"""Polling a real IMAP server (Dovecot): every message stored once, flagged only after it is stored."""

import ssl
import threading
import time

import pytest
from imapclient import SEEN, IMAPClient

from leads.mail.polling import poll_source
from leads.mail.sources import MailboxURLError, parse_mailbox_url
from leads.models import InboundMail, InboundStatus, Mailbox
from leads.services.mail import mailbox_ensure, mailbox_lock
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def poll(dovecot, **kwargs):
    return poll_source(parse_mailbox_url(dovecot.url), **kwargs)


def test_mailbox_urls_are_understood_and_shown_without_their_password():
    source = parse_mailbox_url("imaps://sales%40store.ca:p%40ss@mail.store.ca/Leads")
    assert (source.host, source.port, source.username, source.password, source.folder) == (
        "mail.store.ca",
        993,
        "sales@store.ca",
        "p@ss",
        "Leads",
    )
    assert source.name == "imaps://sales@store.ca@mail.store.ca:993/Leads"
    assert "p@ss" not in source.name
    assert parse_mailbox_url("imap://u:p@localhost").port == 143
    assert parse_mailbox_url("maildir:///var/mail/leads").path.as_posix() == "/var/mail/leads"
    with pytest.raises(MailboxURLError, match="imaps://, imap:// or maildir://"):
        parse_mailbox_url("pop3://u:secret@host")


def test_each_message_is_stored_once_then_flagged_seen(dovecot):
    raws = [factories.raw_mail(subject=f"Question {n}") for n in range(5)]
    dovecot.append(*raws)
    assert not any(SEEN in flags for flags in dovecot.flags().values())

    result = poll(dovecot)
    assert (result.seen, result.stored) == (5, 5)
    stored = InboundMail.objects.order_by("uid")
    assert [row.subject for row in stored] == [f"Question {n}" for n in range(5)]
    assert all(b"what is your best price" in bytes(row.raw) for row in stored)
    assert all(SEEN in flags for flags in dovecot.flags().values())
    mailbox = Mailbox.objects.get()
    assert mailbox.last_uid == max(row.uid for row in stored)
    assert "secret" not in mailbox.name and mailbox.lock_token == ""

    # Nothing new: nothing stored; one more message: only it.
    assert poll(dovecot).stored == 0
    dovecot.append(factories.raw_mail(subject="Question 6"))
    assert (poll(dovecot).stored, InboundMail.objects.count()) == (1, 6)
    assert InboundMail.objects.filter(status=InboundStatus.PENDING).count() == 6


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicating(dovecot):
    raws = [factories.raw_mail(subject=f"Question {n}") for n in range(4)]
    dovecot.recreate_folder("Leads", *raws)
    source = parse_mailbox_url(dovecot.url_for("Leads"))
    assert poll_source(source).stored == 4
    before = Mailbox.objects.get().uidvalidity

    # The folder is deleted and made again with the same mail, plus one new message.
    dovecot.recreate_folder("Leads", *raws, factories.raw_mail(subject="New after the reset"))
    result = poll_source(source)

    assert Mailbox.objects.get().uidvalidity != before
    assert (result.seen, result.stored) == (5, 1)
    assert InboundMail.objects.count() == 5
    assert InboundMail.objects.filter(subject="New after the reset").count() == 1
    assert all(SEEN in flags for flags in dovecot.flags("Leads").values())


def test_one_poll_at_a_time_per_mailbox(dovecot):
    dovecot.append(factories.raw_mail())
    mailbox = mailbox_ensure(name=parse_mailbox_url(dovecot.url).name)
    assert mailbox_lock(mailbox=mailbox) is not None

    result = poll(dovecot)
    assert result.locked_elsewhere
    assert InboundMail.objects.count() == 0

    Mailbox.objects.filter(pk=mailbox.pk).update(locked_until=None)  # the other poller finished
    assert poll(dovecot).stored == 1


def test_a_crashed_pollers_lock_lapses(dovecot, settings):
    settings.MAILBOX_LOCK_SECONDS = 0.2
    dovecot.append(factories.raw_mail())
    mailbox = mailbox_ensure(name=parse_mailbox_url(dovecot.url).name)
    mailbox_lock(mailbox=mailbox)  # and never released
    time.sleep(0.3)
    assert poll(dovecot).stored == 1


def test_an_oversized_message_keeps_its_header_and_stays_on_the_server(dovecot, settings):
    settings.MAIL_MAX_MESSAGE_BYTES = 5_000
    big = factories.raw_mail(subject="Big photos", attachments=[("a.jpg", "image/jpeg", b"x" * 20_000)])
    dovecot.append(big, factories.raw_mail(subject="Small one"))
    assert poll(dovecot).stored == 2
    large = InboundMail.objects.get(subject="Big photos")
    assert not large.raw_complete and large.size > 20_000
    assert len(bytes(large.raw)) < 2_000
    with dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search("ALL")) == 2


@pytest.mark.parametrize("max_bytes", [None, 100], ids=["whole", "header-only"])
def test_a_message_deleted_between_listing_and_fetching_is_passed_over(
    dovecot, monkeypatch, settings, max_bytes
):
    """Someone deletes a message in their mail client while the poll reads the folder: the server
    answers its fetch with nothing; the poll stores the others and goes on."""
    if max_bytes:
        settings.MAIL_MAX_MESSAGE_BYTES = max_bytes
    dovecot.append(*(factories.raw_mail(subject=f"Question {n}") for n in range(3)))
    fetch = IMAPClient.fetch

    def fetch_after_a_delete(client, messages, data, modifiers=None):
        if any("PEEK" in item for item in data):  # the folder was listed: now someone deletes
            monkeypatch.setattr(IMAPClient, "fetch", fetch)
            with dovecot.client() as other:
                other.select_folder("INBOX")
                other.delete_messages([sorted(messages)[1]])
                other.expunge()
        return fetch(client, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", fetch_after_a_delete)
    result = poll(dovecot)
    assert result.stored == 2
    assert sorted(InboundMail.objects.values_list("subject", flat=True)) == ["Question 0", "Question 2"]
    mailbox = Mailbox.objects.get()
    assert mailbox.last_error == "" and mailbox.last_uid == 3


def test_mail_arriving_while_the_poll_waits_in_idle_is_stored_by_that_poll(dovecot):
    appended = threading.Event()

    def append_soon():
        time.sleep(0.5)
        dovecot.append(factories.raw_mail(subject="Arrived during IDLE"))
        appended.set()

    thread = threading.Thread(target=append_soon)
    thread.start()
    result = poll(dovecot, idle_seconds=3)
    thread.join()
    assert appended.is_set()
    assert result.stored == 1
    assert InboundMail.objects.get().subject == "Arrived during IDLE"


@pytest.mark.parametrize("scheme", ["imaps", "imap"])
def test_mail_is_read_over_tls_from_the_start_or_after_starttls(dovecot_tls, monkeypatch, scheme):
    """imaps:// speaks TLS from the first byte; imap:// upgrades with STARTTLS before logging in
    (this server refuses a password sent in the clear)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.certificate))  # the store's own authority
    dovecot_tls.append(factories.raw_mail(subject=f"Over {scheme}"))
    result = poll_source(parse_mailbox_url(dovecot_tls.url_for("INBOX", scheme=scheme)))
    assert (result.seen, result.stored) == (1, 1)
    assert InboundMail.objects.get().subject == f"Over {scheme}"


def test_a_server_certificate_nobody_vouches_for_is_refused(dovecot_tls, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    dovecot_tls.append(factories.raw_mail())
    for scheme in ("imaps", "imap"):
        with pytest.raises(ssl.SSLCertVerificationError):
            poll_source(parse_mailbox_url(dovecot_tls.url_for("INBOX", scheme=scheme)))
    assert not InboundMail.objects.exists()
