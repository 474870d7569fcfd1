"""One poll of one mailbox: take its lock, store every new message exactly once, mark it on the server.

Order matters for losing nothing: messages are fetched with BODY.PEEK[] (nothing changes on the
server), stored with the checkpoint in one transaction, and only then flagged \\Seen (IMAP) or moved
to cur/ (Maildir). A crash between two steps leaves a message either unstored and unflagged (read
again next time) or stored (recognised by UID or Message-ID next time), never lost or doubled.
With MAILBOX_MARK_READ=false no \\Seen flag is set (a Maildir file still moves to cur/, without S),
for the people who go by the mailbox's unread marks: nothing depends on it, as an IMAP folder is read
after its checkpoint UID whatever its flags, and a Maildir's cur/ is never read.

An IMAP folder new to the store (its first read, or a new UIDVALIDITY) holds its history: see
services.mail.mailbox_read_start for what of it is read. Each message is dated when it reached the
mailbox (INTERNALDATE; a Maildir file's delivery time), not when it is read.
"""

import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.generator import BytesGenerator
from email.parser import BytesParser
from io import BytesIO

from django.conf import settings
from imapclient import SEEN

from ..services.mail import (
    ReadStart,
    inbound_store,
    mailbox_ensure,
    mailbox_lock,
    mailbox_read_caught_up,
    mailbox_read_start,
    mailbox_renew,
    mailbox_unlock,
)
from .rawmail import RawMail
from .sources import MailboxSource, imap_connect, maildir_move_to_cur, maildir_ready_files

logger = logging.getLogger(__name__)

BATCH_BYTES = 20 * 1024 * 1024
SIZE_CHUNK = 2000
# Of a message over MAIL_MAX_MESSAGE_BYTES, this much of its start is read for its text, which comes
# before the attachments (ten phone photos of a trade-in).
TEXT_START_BYTES = 1024 * 1024
MAILDIR_LOOK_SECONDS = 1.0


@dataclass
class PollResult:
    mailbox: str
    locked_elsewhere: bool = False
    seen: int = 0  # messages read from the source
    stored: int = 0  # new rows (the rest were already stored)
    # Messages a first read (or the read of a recreated folder) left in the folder as its history.
    left_in_folder: int = 0


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
                    # Delivered into new/ when the file was last written.
                    arrived_at = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
                    if file.size > max_bytes:
                        start = handle.read(_text_start_bytes())
                        raw, complete = _with_first_text(_header_only(start), start), False
                    else:
                        raw, complete = handle.read(), True
            except FileNotFoundError:  # taken away since the folder was listed
                continue
            messages.append(RawMail(raw=raw, size=file.size, complete=complete, arrived_at=arrived_at))
        result.stored += len(inbound_store(mailbox=mailbox, token=token, messages=messages))
        result.seen += len(batch)
        for file in batch:
            maildir_move_to_cur(file, mark_read=settings.MAILBOX_MARK_READ)


def _header_only(start: bytes) -> bytes:
    end = start.find(b"\r\n\r\n")
    if end < 0:
        end = start.find(b"\n\n")
    return start[: end + 2] if end >= 0 else start


def _text_start_bytes() -> int:
    return min(TEXT_START_BYTES, settings.MAIL_MAX_MESSAGE_BYTES)


def _with_first_text(header: bytes, start: bytes) -> bytes:
    """What is kept of a message too large to read: its header and, when the start of the message
    holds its text whole (a part followed by another), that text part, as the only part of its
    multipart. The header is kept as it is, so the message is recognised by it when read again."""
    head = header.rstrip(b"\r\n") + b"\r\n\r\n"
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(start)
        boundary = message.get_boundary() if message.is_multipart() else None
        if not boundary:
            return head
        # In the order of the bytes; the last part may be cut off where the start ends.
        leaves = [part for part in message.walk() if not part.is_multipart()][:-1]
        readable = [
            part
            for part in leaves
            if part.get_content_type() in ("text/plain", "text/html")
            and part.get_content_disposition() != "attachment"
            and not part.get_filename()
        ]
        if not readable:
            return head
        text = next((part for part in readable if part.get_content_type() == "text/plain"), readable[0])
        out = BytesIO()
        BytesGenerator(out, mangle_from_=False, policy=policy.compat32).flatten(text, linesep="\r\n")
    except Exception:  # noqa: BLE001 - the header alone is still worth a lead
        return head
    fence = b"--" + boundary.encode("ascii", "replace")
    return head + fence + b"\r\n" + out.getvalue().strip(b"\r\n") + b"\r\n" + fence + b"--\r\n"


def _poll_imap(source: MailboxSource, mailbox, token: str, result: PollResult, *, idle_seconds: float):
    client = imap_connect(source)
    client.normalise_times = False  # INTERNALDATE as the server tells it, with its time zone
    try:
        folder = client.select_folder(source.folder)
        uidvalidity = int(folder[b"UIDVALIDITY"])
        start = mailbox_read_start(mailbox=mailbox, token=token, uidvalidity=uidvalidity)
        last_uid = _imap_sync(
            client,
            mailbox,
            token,
            uidvalidity,
            start.last_uid,
            result,
            since=start.since,
            unseen_only=start.unseen_only,
        )
        if start.catching_up:
            # Every message of the folder as it was when selected has been read or passed over.
            last_uid = max(last_uid, _folder_end(client, folder))
            mailbox_read_caught_up(mailbox=mailbox, token=token, uidvalidity=uidvalidity, last_uid=last_uid)
            if result.left_in_folder:
                _history_left_logged(source, start, result)
        if idle_seconds > 0 and client.has_capability("IDLE"):
            _imap_idle(client, mailbox, token, uidvalidity, last_uid, result, idle_seconds)
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone; nothing to save
            client.shutdown()


def _history_left_logged(source: MailboxSource, start: ReadStart, result: PollResult) -> None:
    """Say what a read of a folder new to the store left in it, so that it is not left silently."""
    which = "read already, or arrived before %s" if start.unseen_only else "arrived before %s"
    logger.warning(
        "%s: %d messages taken in; left %d messages in the folder as its history (%s). "
        "MAILBOX_READ_HISTORY=true reads the history of a folder read for the first time.",
        source.name,
        result.seen,
        result.left_in_folder,
        which % f"{start.since:%Y-%m-%d %H:%M %Z}",
    )


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


def _folder_end(client, folder: dict) -> int:
    """The highest UID the folder had when selected."""
    if isinstance(folder.get(b"UIDNEXT"), int):
        return folder[b"UIDNEXT"] - 1
    return max(client.search("ALL"), default=0)


def _imap_sync(
    client,
    mailbox,
    token,
    uidvalidity: int,
    last_uid: int,
    result: PollResult,
    *,
    since: datetime | None = None,
    unseen_only: bool = False,
) -> int:
    """Store every message above last_uid; the new checkpoint. `since`, `unseen_only`: only the
    messages that reached the folder since then, and that nobody has read (a folder's history is
    passed over: services.mail.mailbox_read_start)."""
    criteria = ["UID", f"{last_uid + 1}:*"]
    # The folder's history passed over below: counted, so that a first read says what it left.
    every = set(client.search(criteria)) if (unseen_only or since is not None) else set()
    if unseen_only:
        criteria.append("UNSEEN")
    if since is not None:
        # SINCE is a date (in the server's time zone): the arrival time tells exactly, below.
        criteria += ["SINCE", (since - timedelta(days=1)).date()]
    # "n:*" always matches the highest UID, even below n: keep only the really new ones.
    uids = sorted(uid for uid in client.search(criteria) if uid > last_uid)
    sizes: dict[int, int] = {}
    arrivals: dict[int, datetime] = {}
    for start in range(0, len(uids), SIZE_CHUNK):
        chunk = set(uids[start : start + SIZE_CHUNK])
        for uid, data in client.fetch(sorted(chunk), ["RFC822.SIZE", "INTERNALDATE"]).items():
            # A message deleted since the folder was listed is passed over (see _fetched).
            if uid in chunk and isinstance(data.get(b"RFC822.SIZE"), int):
                sizes[uid] = data[b"RFC822.SIZE"]
                if isinstance(data.get(b"INTERNALDATE"), datetime):
                    arrivals[uid] = data[b"INTERNALDATE"]
    if since is not None:
        sizes = {uid: size for uid, size in sizes.items() if uid not in arrivals or arrivals[uid] >= since}
    result.left_in_folder += len({uid for uid in every if uid > last_uid} - sizes.keys())
    max_bytes = settings.MAIL_MAX_MESSAGE_BYTES
    for batch in _batches([uid for uid in uids if uid in sizes], sizes):
        small = [uid for uid in batch if sizes[uid] <= max_bytes]
        large = [uid for uid in batch if sizes[uid] > max_bytes]
        messages = []
        if small:
            for uid, raw in _fetched(client, small, "BODY.PEEK[]", bytes).items():
                messages.append(RawMail(raw=raw, size=sizes[uid], uid=uid, arrived_at=arrivals.get(uid)))
        if large:
            # Too large to read: its header and, when it can, its text; the rest stays on the server.
            for uid, raw in _fetched_text_starts(client, large).items():
                messages.append(
                    RawMail(raw=raw, size=sizes[uid], uid=uid, complete=False, arrived_at=arrivals.get(uid))
                )
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
        if settings.MAILBOX_MARK_READ:
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


def _fetched_text_starts(client, uids: list[int]) -> dict[int, bytes]:
    """Of these messages too large to read, what is kept (_with_first_text), by UID."""
    length = _text_start_bytes()
    wanted = set(uids)
    kept = {}
    for uid, data in client.fetch(uids, ["BODY.PEEK[HEADER]", f"BODY.PEEK[]<0.{length}>"]).items():
        header, start = data.get(b"BODY[HEADER]"), data.get(b"BODY[]<0>")
        if uid in wanted and isinstance(header, bytes):
            kept[uid] = _with_first_text(header, start if isinstance(start, bytes) else b"")
    return kept


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
