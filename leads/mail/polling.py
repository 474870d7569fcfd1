"""One poll of one mailbox: take its lock, store every new message exactly once, mark it on the server.

Order matters for losing nothing: messages are fetched with BODY.PEEK[] (nothing changes on the
server), stored with the checkpoint in one transaction, and only then flagged \\Seen (IMAP) or moved
to cur/ (Maildir). A crash between two steps leaves a message either unstored and unflagged (read
again next time) or stored (recognised by UID or Message-ID next time), never lost or doubled.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from imapclient import SEEN

from ..services.mail import (
    inbound_store,
    mailbox_ensure,
    mailbox_lock,
    mailbox_renew,
    mailbox_uidvalidity_set,
    mailbox_unlock,
)
from .rawmail import RawMail
from .sources import MailboxSource, imap_connect, maildir_mark_seen, maildir_ready_files

BATCH_BYTES = 20 * 1024 * 1024
SIZE_CHUNK = 2000
MAILDIR_LOOK_SECONDS = 1.0


@dataclass
class PollResult:
    mailbox: str
    locked_elsewhere: bool = False
    seen: int = 0  # messages read from the source
    stored: int = 0  # new rows (the rest were already stored)


def poll_source(source: MailboxSource, *, idle_seconds: float = 0.0) -> PollResult:
    """Poll one mailbox now; with idle_seconds, then wait that long in IMAP IDLE for more."""
    mailbox = mailbox_ensure(name=source.name)
    result = PollResult(mailbox=source.name)
    token = mailbox_lock(mailbox=mailbox)
    if token is None:
        result.locked_elsewhere = True
        return result
    error = ""
    try:
        if source.scheme == "maildir":
            _poll_maildir(source, mailbox, token, result, idle_seconds=idle_seconds)
        else:
            _poll_imap(source, mailbox, token, result, idle_seconds=idle_seconds)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        mailbox_unlock(mailbox=mailbox, token=token, error=error[:2000])
    return result


def _poll_maildir(source: MailboxSource, mailbox, token: str, result: PollResult, *, idle_seconds: float):
    """Store what waits in new/; with idle_seconds, keep looking every second (a local folder has no
    IDLE, and looking is cheap) so a dropped file shows up within seconds."""
    deadline = time.monotonic() + idle_seconds
    _maildir_sync(source, mailbox, token, result)
    while time.monotonic() < deadline:
        time.sleep(MAILDIR_LOOK_SECONDS)
        mailbox_renew(mailbox=mailbox, token=token)
        _maildir_sync(source, mailbox, token, result)


def _maildir_sync(source: MailboxSource, mailbox, token: str, result: PollResult) -> None:
    files = maildir_ready_files(source.path)
    max_bytes = settings.MAIL_MAX_MESSAGE_BYTES
    for start in range(0, len(files), settings.MAILBOX_FETCH_BATCH):
        batch = files[start : start + settings.MAILBOX_FETCH_BATCH]
        messages = []
        for file in batch:
            try:
                with open(file.path, "rb") as handle:
                    if file.size > max_bytes:
                        raw, complete = _header_only(handle.read(256 * 1024)), False
                    else:
                        raw, complete = handle.read(), True
            except FileNotFoundError:  # taken away since the folder was listed
                continue
            messages.append(RawMail(raw=raw, size=file.size, complete=complete))
        result.stored += len(inbound_store(mailbox=mailbox, token=token, messages=messages))
        result.seen += len(batch)
        for file in batch:
            maildir_mark_seen(file)


def _header_only(start: bytes) -> bytes:
    end = start.find(b"\r\n\r\n")
    if end < 0:
        end = start.find(b"\n\n")
    return start[: end + 2] if end >= 0 else start


def _poll_imap(source: MailboxSource, mailbox, token: str, result: PollResult, *, idle_seconds: float):
    client = imap_connect(source)
    try:
        folder = client.select_folder(source.folder)
        uidvalidity = int(folder[b"UIDVALIDITY"])
        last_uid = mailbox_uidvalidity_set(mailbox=mailbox, token=token, uidvalidity=uidvalidity)
        last_uid = _imap_sync(client, mailbox, token, uidvalidity, last_uid, result)
        if idle_seconds > 0 and client.has_capability("IDLE"):
            _imap_idle(client, mailbox, token, uidvalidity, last_uid, result, idle_seconds)
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone; nothing to save
            client.shutdown()


def _imap_idle(client, mailbox, token, uidvalidity, last_uid, result, idle_seconds):
    """Wait for new mail in IDLE until the deadline, storing it as soon as the server announces it."""
    deadline = time.monotonic() + idle_seconds
    # Wake up at least this often to renew the mailbox lock.
    wake = max(1.0, min(settings.MAILBOX_LOCK_SECONDS / 3, 60.0))
    while (remaining := deadline - time.monotonic()) > 0:
        client.idle()
        try:
            responses = client.idle_check(timeout=min(remaining, wake))
        finally:
            client.idle_done()
        if any(len(response) > 1 and response[1] == b"EXISTS" for response in responses):
            last_uid = _imap_sync(client, mailbox, token, uidvalidity, last_uid, result)
        else:
            mailbox_renew(mailbox=mailbox, token=token)


def _imap_sync(client, mailbox, token, uidvalidity: int, last_uid: int, result: PollResult) -> int:
    """Store every message above last_uid; the new checkpoint."""
    # "n:*" always matches the highest UID, even below n: keep only the really new ones.
    uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), SIZE_CHUNK):
        chunk = uids[start : start + SIZE_CHUNK]
        sizes |= _fetched(client, chunk, "RFC822.SIZE", int)
    max_bytes = settings.MAIL_MAX_MESSAGE_BYTES
    for batch in _batches([uid for uid in uids if uid in sizes], sizes):
        small = [uid for uid in batch if sizes[uid] <= max_bytes]
        large = [uid for uid in batch if sizes[uid] > max_bytes]
        messages = []
        if small:
            for uid, raw in _fetched(client, small, "BODY.PEEK[]", bytes).items():
                messages.append(RawMail(raw=raw, size=sizes[uid], uid=uid))
        if large:
            # Too large to read: keep the header so the supervisor sees what it was.
            for uid, raw in _fetched(client, large, "BODY.PEEK[HEADER]", bytes).items():
                messages.append(RawMail(raw=raw, size=sizes[uid], uid=uid, complete=False))
        checkpoint = max(batch)
        stored = inbound_store(
            mailbox=mailbox,
            token=token,
            messages=sorted(messages, key=lambda message: message.uid),
            uidvalidity=uidvalidity,
            checkpoint_uid=checkpoint,
        )
        result.stored += len(stored)
        result.seen += len(messages)
        client.add_flags(batch, [SEEN], silent=True)
        last_uid = checkpoint
    return last_uid


def _fetched(client, uids: list[int], item: str, kind: type) -> dict:
    """One item of each of these messages, by UID. A message deleted since the folder was listed
    comes back empty (NIL) or not at all: there is nothing left to store, it is passed over."""
    key = item.replace(".PEEK", "").encode()
    wanted = set(uids)
    return {
        uid: data[key]
        for uid, data in client.fetch(uids, [item]).items()
        if uid in wanted and isinstance(data.get(key), kind)
    }


def _batches(uids: list[int], sizes: dict[int, int]):
    batch, total = [], 0
    for uid in uids:
        size = min(sizes[uid], settings.MAIL_MAX_MESSAGE_BYTES)
        if batch and (len(batch) >= settings.MAILBOX_FETCH_BATCH or total + size > BATCH_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch
