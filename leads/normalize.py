"""Normalised forms of contact details, so the same person is found again."""

import phonenumbers

DEFAULT_REGION = "CA"  # North American numbering plan: CA and US share it.


def normalize_email(value: str | None) -> str:
    return (value or "").strip().strip("<>").lower()


def normalize_phone(value: str | None, *, region: str = DEFAULT_REGION) -> str:
    """E.164 form of a phone number, or "" when it is not a possible number."""
    if not value or not value.strip():
        return ""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def split_name(full_name: str | None) -> tuple[str, str]:
    """First and last name from a full name ("Last, First" understood)."""
    name = " ".join((full_name or "").split())
    if not name:
        return "", ""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    first, _, last = name.partition(" ")
    return first, last
