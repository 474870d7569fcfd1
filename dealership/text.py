"""Text helpers every app shares."""

from django.utils.html import format_html


def mid_sentence(text: str) -> str:
    """A label or a sentence as it reads inside another sentence: its first letter in lower case
    ("The customer replied" → "the customer replied"), the rest as written ("PDI" stays)."""
    return text[:1].lower() + text[1:]


def in_both_languages(english: str, french: str) -> str:
    """ "English / Français" as the bilingual public pages write it, each half marked with its
    language so that a screen reader reads it in its own voice."""
    return format_html('<span lang="en">{}</span> / <span lang="fr">{}</span>', english, french)


def web_address(address: str) -> str:
    """An address set as "www.…" or "crm.…" made whole (https://), without a trailing slash: a QR
    code or a mail's link of it would open no page otherwise."""
    address = address.strip().rstrip("/")
    return address if "://" in address else f"https://{address}"
