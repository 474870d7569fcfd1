"""Normalised forms of contact details, so the same person is found again."""

import re
import unicodedata
from collections.abc import Iterator

import phonenumbers
from django.db.models import Func

# Accented letters of the names a Canadian store sees, and the letter each is searched as: "Cote"
# finds "Côté". One character for one, as the database's TRANSLATE wants.
ACCENTED = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸàáâãäåçèéêëìíîïñòóôõöùúûüýÿ"
PLAIN = "AAAAAACEEEEIIIINOOOOOUUUUYYaaaaaaceeeeiiiinooooouuuuyy"
# Punctuation that must not decide whether a name is found, and what search reads each as: every
# apostrophe as the keyboard's ("D’Amours" is "D'Amours"); hyphens and commas as spaces
# ("Marie-Ève" is "Marie Ève", "Tremblay, Jean" is two words).
PUNCTUATION = "’‘ʼ-,"
PUNCTUATION_AS = "'''  "
SEARCH_FOLDED, SEARCH_FOLDED_AS = ACCENTED + PUNCTUATION, PLAIN + PUNCTUATION_AS
_SEARCH_FOLD = str.maketrans(SEARCH_FOLDED, SEARCH_FOLDED_AS)

DEFAULT_REGION = "CA"  # North American numbering plan: CA and US share it.
# phonenumbers reads "ext.", "x" and "#", not Québec's "poste": it would dial the letters.
FRENCH_EXTENSION = re.compile(r"\s*\bposte\b\.?\s*", re.IGNORECASE)


def phone_parsed(value: str, region: str = DEFAULT_REGION) -> phonenumbers.PhoneNumber:
    """A phone number as phonenumbers reads it, its extension written in English or French."""
    return phonenumbers.parse(FRENCH_EXTENSION.sub(" ext. ", value), region)


def phone_extension_of(phone: str | None, region: str = DEFAULT_REGION) -> str:
    """The extension written with a number ("514 555-0100 poste 12"), "" without one."""
    try:
        return phone_parsed(phone or "", region).extension or ""
    except phonenumbers.NumberParseException:
        return ""


def phones_in_text(text: str, region: str = DEFAULT_REGION) -> Iterator[phonenumbers.PhoneNumber]:
    """The phone numbers written in free text, in order, each with the extension written with it in
    English or French ("Appelez-moi au 514-555-0177 poste 204")."""
    for match in phonenumbers.PhoneNumberMatcher(FRENCH_EXTENSION.sub(" ext. ", text), region):
        yield match.number


def normalize_email(value: str | None) -> str:
    return (value or "").strip().strip("<>").lower()


def normalize_phone(value: str | None, *, region: str = DEFAULT_REGION) -> str:
    """E.164 form of a phone number, or "" when it is not a possible number."""
    if not value or not value.strip():
        return ""
    try:
        number = phone_parsed(value, region)
    except phonenumbers.NumberParseException:
        return ""
    # A local number without its area code ("555-0100") is possible only locally: it could be
    # anyone's in another area code, so it is not taken as the person's number.
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(value: str | None, *, region: str = DEFAULT_REGION) -> str:
    """A stored number as people read it aloud: "(514) 555-0122" at home, "+33 1 23 45 67 89"
    abroad; anything that is not a number comes back as it is."""
    try:
        number = phonenumbers.parse(value or "", region)
    except phonenumbers.NumberParseException:
        return value or ""
    home = phonenumbers.region_code_for_number(number) in phonenumbers.region_codes_for_country_code(
        phonenumbers.country_code_for_region(region)
    )
    style = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


# How a lead source may be written as a web address: "www." before, a top-level domain after.
SOURCE_WEB_PREFIX = "www."
SOURCE_WEB_ENDING = r"\.[a-z]{2,}"


def source_key(source: str) -> str:
    """One lead source however it is written: its case, and its web address's "www." and ending
    aside ("AutoTrader", "autotrader.ca" and "www.AutoTrader.ca" are "autotrader"); a lead
    provider's ADF names it one way, the forms it mails from its domain another."""
    key = source.strip().lower().removeprefix(SOURCE_WEB_PREFIX)
    return re.sub(f"{SOURCE_WEB_ENDING}$", "", key)


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


def normalize_name(value: str | None) -> str:
    """A name with each accented letter as one character: some mailers (Apple's, text pasted from
    a PDF) send "é" as "e" and an accent, which looks the same but is never found by search."""
    return unicodedata.normalize("NFC", (value or "").strip())


def search_form(text: str) -> str:
    """Text as search compares it: accents taken off, punctuation folded, upper case (see
    SearchForm). Split a query into words after this, not before: "Tremblay," is "TREMBLAY"."""
    return normalize_name(text).translate(_SEARCH_FOLD).upper()


class SearchForm(Func):
    """An expression as search compares it, in the database: accents taken off and punctuation
    folded (SEARCH_FOLDED → SEARCH_FOLDED_AS), then upper case. SQLite has neither
    TRANSLATE nor an UPPER for accented letters: there it is search_form itself, which every SQLite
    connection is given (leads.apps). A trigram index is built on it (migration 0003): a change
    here needs a migration that builds that index again, as 0018 and 0031 do."""

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"UPPER(TRANSLATE({sql}, %s, %s))", [*params, SEARCH_FOLDED, SEARCH_FOLDED_AS]

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"search_form({sql})", params


def sqlite_search_form_add(sender, connection, **kwargs) -> None:
    """Give a new SQLite connection the search_form function SearchForm calls there."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("search_form", 1, _search_form_or_null, deterministic=True)


def _search_form_or_null(text: str | None) -> str | None:
    return None if text is None else search_form(text)
