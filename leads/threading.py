"""Mail threading: addresses and ids that bring a customer's answer back to its lead.

Outgoing mail to a customer carries Reply-To `<local>+L<lead id>-<signature>@<domain>`;
the signature stops anyone from attaching mail to a lead by guessing its number.
"""

import hmac
import re
import uuid
from email.utils import parseaddr

from django.conf import settings

from dealership.outgoing_mail import StoreEmailMessage


def store_address() -> str:
    """The store's own address: DEFAULT_FROM_EMAIL without its display name."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def _signature(lead_id: int, *, key: str) -> str:
    """The lead's signature with `key`, which must be given: an empty one would sign with a key
    anyone knows, and is refused (ValueError)."""
    if not key:
        raise ValueError("An empty key signs nothing.")
    return hmac.new(key.encode(), f"lead-reply:{lead_id}".encode(), "sha256").hexdigest()[:10]


def reply_address(lead_id: int) -> str:
    local, _, domain = store_address().partition("@")
    return f"{local}+L{lead_id}-{_signature(lead_id, key=settings.SECRET_KEY)}@{domain}"


REPLY_TOKEN = re.compile(r"\+L(\d+)-([0-9a-f]{10})@", re.IGNORECASE)


def lead_id_from_address(address: str) -> int | None:
    """The lead a reply address belongs to, or None if it carries no valid token. One signed with a
    former key (SECRET_KEY_FALLBACKS) still counts: the customer answers mail sent before a change."""
    match = REPLY_TOKEN.search(address or "")
    if not match:
        return None
    lead_id = int(match.group(1))
    keys = [key for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS) if key]  # "" signs nothing
    signed = any(hmac.compare_digest(match.group(2).lower(), _signature(lead_id, key=key)) for key in keys)
    return lead_id if signed else None


def new_message_id(lead_id: int | None = None) -> str:
    domain = store_address().partition("@")[2]
    prefix = f"lead{lead_id}." if lead_id else ""
    return f"<{prefix}{uuid.uuid4().hex}@{domain}>"


def references_answering(parent) -> str:
    """The References of an answer to the stored Message `parent` (or to nothing): the parent's own
    References followed by its Message-ID (RFC 5322 3.6.4)."""
    if parent is None:
        return ""
    return " ".join(part for part in (parent.references, parent.message_id) if part)


# What mail programs put before the subject of an answer or a forward, in English and in French, as
# often as it was answered: "Re:", "RE :", "Re[2]:", "Réf. :", "TR:", "Fwd:"; and the tags a company's
# mail server adds to mail from outside ("[EXTERNAL]"), which it would add again to the answer.
ANSWER_PREFIXES = re.compile(
    r"^(?:\s*(?:(?:re|ré|réf|ref|rép|rep|tr|fwd?|aw)\s*(?:\[\d+\])?\.?\s*:|\[[^\[\]]{1,20}\]))+\s*",
    re.IGNORECASE,
)


def reply_subject(subject: str) -> str:
    """The subject of an answer to a mail: "Re: " once before what the sender wrote, whatever their
    mail program put there (mail programs keep an answer in its conversation by it). "" for a mail
    without a subject of its own."""
    subject = ANSWER_PREFIXES.sub("", " ".join(subject.split()))
    return f"Re: {subject}" if subject else ""


def threaded_email(message, *, headers: dict | None = None) -> StoreEmailMessage:
    """The email for a stored outbound Message, threaded under what it answers (Message-ID,
    In-Reply-To, References) with the lead's reply address, plus any extra headers."""
    threading = {"Message-ID": message.message_id}
    if message.in_reply_to:
        threading["In-Reply-To"] = message.in_reply_to
    if message.references:
        threading["References"] = message.references
    return StoreEmailMessage(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_address or settings.DEFAULT_FROM_EMAIL,
        to=message.to_addresses,
        reply_to=[reply_address(message.lead_id)],
        headers=threading | (headers or {}),
    )
