"""A message as fetched: its bytes and the few header fields needed before it is parsed."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.parser import BytesParser

from .parsing import MESSAGE_ID, clean_text, decode_header_value

MAX_KEY_CHARS = 255

# What the writer's mail program wrote: the same message delivered twice (fetched again, a copy to
# another of the store's addresses, a forwarding hop adding ARC-*, X-Forwarded-*, DKIM-Signature,
# spam and virus scores) differs only in the other fields, which each hop adds on the way.
ORIGINATOR_FIELDS = frozenset(
    {
        b"from",
        b"sender",
        b"reply-to",
        b"to",
        b"cc",
        b"subject",
        b"date",
        b"message-id",
        b"in-reply-to",
        b"references",
        b"mime-version",
        b"content-type",
        b"content-transfer-encoding",
    }
)


@dataclass(frozen=True)
class RawMail:
    raw: bytes
    size: int
    uid: int | None = None
    # False when only the header was fetched (the message is over the size limit).
    complete: bool = True
    # When it reached the mailbox, as its server tells (IMAP INTERNALDATE, the delivery time of a
    # Maildir file); None when unknown.
    arrived_at: datetime | None = None


@dataclass(frozen=True)
class RawSummary:
    message_id: str
    dedup_key: str
    content_hash: str
    subject: str
    from_address: str


def _header(headers, name: str, limit: int) -> str:
    """Decoded as parsing decodes it (8-bit bytes in their charset, encoded words), so that the
    Mail-in list reads as the conversation does."""
    try:
        raw = next((str(value) for key, value in headers.raw_items() if key.lower() == name.lower()), "")
        value = decode_header_value(raw)
    except Exception:  # noqa: BLE001 - a header too broken to decode is left out, the raw keeps it
        return ""
    return " ".join(clean_text(value).split())[:limit]


def content_fingerprint(raw: bytes, *, header_only: bool = False) -> str:
    """The same for every delivery of one message: its originator fields (however folded, in any
    order) and its body (whatever its line endings). `header_only`: the fields alone."""
    head, _, body = bytes(raw).replace(b"\r\n", b"\n").partition(b"\n\n")
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:  # a continuation line goes with its field
            fields[-1] += line
        else:
            fields.append(line)
    kept = sorted(
        name.strip().lower() + b":" + b" ".join(value.split())
        for name, _, value in (field.partition(b":") for field in fields)
        if name.strip().lower() in ORIGINATOR_FIELDS
    )
    digest = hashlib.sha256(b"\n".join(kept))
    if not header_only:
        digest.update(b"\n\n" + body)
    return digest.hexdigest()


def summarize(raw: bytes) -> RawSummary:
    """Message-ID (the key that stops a message being stored twice), subject and sender, never raising."""
    content_hash = hashlib.sha256(raw).hexdigest()
    try:
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    except Exception:  # noqa: BLE001
        headers = {}
    match = MESSAGE_ID.search(_header(headers, "Message-ID", 998))
    message_id = match.group(0) if match else ""
    if not message_id:
        dedup_key = f"content:{content_fingerprint(raw)}"
    elif len(message_id) > MAX_KEY_CHARS:
        dedup_key = "sha256-id:" + hashlib.sha256(message_id.encode()).hexdigest()
    else:
        dedup_key = message_id
    return RawSummary(
        message_id=message_id,
        dedup_key=dedup_key,
        content_hash=content_hash,
        subject=_header(headers, "Subject", 998),
        from_address=_header(headers, "From", 320),
    )
