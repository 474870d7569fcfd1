"""Where mail comes from: MAILBOX_URL entries, IMAP connections and local Maildir folders."""

import contextlib
import logging
import os
import re
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from imapclient import IMAPClient

logger = logging.getLogger(__name__)

IMAP_DEFAULT_PORTS = {"imap": 143, "imaps": 993}
# A file dropped into new/ may still be being written: leave it until it has been quiet this long.
MAILDIR_SETTLE_SECONDS = 1.0


class MailboxURLError(ValueError):
    pass


@dataclass(frozen=True)
class MailboxSource:
    """One MAILBOX_URL entry, understood."""

    scheme: str  # imap, imaps or maildir
    host: str = ""
    port: int = 0
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    path: Path | None = None

    @property
    def name(self) -> str:
        """The URL without the password: how the mailbox is known in the database and on screen."""
        if self.scheme == "maildir":
            return f"maildir://{self.path}"
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}/{self.folder}"


# How a MAILBOX_URL is written, for the messages that refuse one (never the URL: it holds a password).
MAILBOX_URL_FORM = (
    "Write each mailbox as imaps://user:password@host/folder (or imap://, or maildir:///path), "
    "separated by commas; in the user name, password and folder, write @ as %40, # as %23, "
    "/ as %2F, ? as %3F, a comma as %2C and % as %25."
)
# host or [IPv6 address], then an optional port.
HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/?#\[\]@]+)(?::(?P<port>\d{0,5}))?")


def parse_mailbox_url(url: str) -> MailboxSource:
    """One MAILBOX_URL entry. The user name, password and folder are percent-decoded once (as
    DATABASE_URL is); the password may also hold # / ? @ as they are, as the last @ ends it.
    An error never quotes the URL: it would show the password."""
    url = url.strip()
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "maildir" and separator:
        # maildir:///abs/path, or maildir://relative/path (relative to the project).
        path = Path(unquote(rest))
        if not path.is_absolute():
            path = Path(settings.BASE_DIR) / path
        return MailboxSource(scheme="maildir", path=path)
    if not separator or scheme not in IMAP_DEFAULT_PORTS:
        raise MailboxURLError("The mailbox URL does not start with imaps://, imap:// or maildir://.")
    userinfo, _, location = rest.rpartition("@")
    host_port, _, folder = location.partition("/")
    found = HOST_PORT.fullmatch(host_port)
    if found is None:
        raise MailboxURLError(
            f"The host name or port of the {scheme}:// mailbox URL (after its last @) cannot be read."
        )
    port = int(found["port"] or IMAP_DEFAULT_PORTS[scheme])
    if not 0 < port < 65536:
        raise MailboxURLError(f"The port of the {scheme}:// mailbox URL is not a number from 1 to 65535.")
    username, _, password = userinfo.partition(":")
    return MailboxSource(
        scheme=scheme,
        host=found["host"].strip("[]").lower(),
        port=port,
        username=unquote(username),
        password=unquote(password),
        folder=unquote(folder.lstrip("/")) or "INBOX",
    )


def configured_sources() -> list[MailboxSource]:
    """The MAILBOX_URL entries that can be read. One that cannot is left out, so that the others
    are still polled; the start-up check (leads.checks) names it."""
    sources = []
    for number, url in enumerate(filter(str.strip, settings.MAILBOX_URLS), start=1):
        try:
            sources.append(parse_mailbox_url(url))
        except MailboxURLError as error:
            logger.error("Mailbox %s of MAILBOX_URL is not polled: %s", number, error)
    return sources


def imap_connect(source: MailboxSource) -> IMAPClient:
    """A logged-in IMAP connection: TLS for imaps, STARTTLS for imap when the server offers it."""
    context = ssl.create_default_context()
    client = IMAPClient(
        source.host, port=source.port, ssl=source.scheme == "imaps", ssl_context=context, timeout=60
    )
    try:
        if source.scheme == "imap" and client.has_capability("STARTTLS"):
            client.starttls(context)
        client.login(source.username, source.password)
    except Exception:
        # A failed TLS handshake leaves the socket unusable: closing it must not hide the reason.
        with contextlib.suppress(OSError):
            client.shutdown()
        raise
    return client


@dataclass(frozen=True)
class MaildirFile:
    path: Path
    size: int


def maildir_ready_files(root: Path) -> list[MaildirFile]:
    """Messages waiting in new/, oldest first, skipping any still being written."""
    new = root / "new"
    for folder in ("new", "cur", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    settled_before = time.time() - MAILDIR_SETTLE_SECONDS
    files = []
    for entry in os.scandir(new):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        stat = entry.stat()
        if stat.st_mtime <= settled_before:
            files.append((stat.st_mtime, MaildirFile(Path(entry.path), stat.st_size)))
    return [file for _, file in sorted(files, key=lambda item: (item[0], item[1].path.name))]


def maildir_move_to_cur(file: MaildirFile, *, mark_read: bool) -> None:
    """Move a stored message from new/ to cur/ (where polls never look), as a mail client does with
    mail it has listed; with mark_read, flagged Seen. The flags it was delivered with stay: a file in
    cur/ without S shows as unread."""
    base, _, flags = file.path.name.partition(":2,")
    flags = "".join(sorted(set(flags) | ({"S"} if mark_read else set())))
    try:
        file.path.rename(file.path.parent.parent / "cur" / f"{base}:2,{flags}")
    except FileNotFoundError:  # someone else moved it: it is stored either way
        pass
