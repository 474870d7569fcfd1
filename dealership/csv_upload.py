"""Reading a CSV export uploaded from the dealer management system, for the customer and stock imports.

Exports come from Windows tools as often as not: UTF-8 with or without a BOM, or Windows-1252; comma,
semicolon, tab or pipe separated. A quoted cell may hold line breaks, so each row is named by the line
it starts on, as a person finds it in a spreadsheet or text editor.
"""

import codecs
import csv
import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads.mail.words import fold

MAX_BYTES = 20 * 1024 * 1024


# Lazy: read in the uploader's language, not the one active when this module was imported.
NOT_CSV = gettext_lazy(
    "This is not a CSV file (a workbook?). Save it as CSV from the spreadsheet and upload that."
)


def _lines_not_utf8(data: bytes) -> list[int]:
    """The lines of a mostly UTF-8 file that are not UTF-8 (a name pasted from a Windows program);
    none when no line is UTF-8 with accents, as in a Windows-1252 export."""
    utf8_accents, others = False, []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            utf8_accents |= not line.decode("utf-8").isascii()
        except UnicodeDecodeError:
            others.append(number)
    return others if utf8_accents else []


def csv_decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES >> 20})
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Read as one encoding or the other, a file of both would garble every accent of one of them.
        if lines := _lines_not_utf8(data):
            shown = ", ".join(map(str, lines[:10])) + ("…" if len(lines) > 10 else "")
            raise ValidationError(
                _(
                    "These lines are not UTF-8 like the rest of the file, so their accents would come "
                    "out wrong: %(lines)s. Retype them, or save the whole file again as UTF-8, and "
                    "upload it again."
                )
                % {"lines": shown}
            ) from None
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:  # no text file holds NUL, and PostgreSQL stores none
        raise ValidationError(NOT_CSV)
    return text


def _dialect(content: str):
    try:
        return csv.Sniffer().sniff(content[:4096], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def csv_rows(content: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (cells stripped) and each data row with the line number it starts on (the header
    is line 1); blank rows are left out. A file naming no column is refused."""
    reader = csv.reader(io.StringIO(content), _dialect(content))
    rows, start = [], 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error:
        raise ValidationError(NOT_CSV) from None
    header = [cell.strip() for cell in rows[0][1]] if rows else []
    data = [(line, row) for line, row in rows[1:] if any(cell.strip() for cell in row)]
    # A delimiter at the end of every line (many exports write one): an empty last column, dropped.
    while (
        header
        and not header[-1]
        and not any(len(row) >= len(header) and row[len(header) - 1].strip() for _, row in data)
    ):
        header.pop()
    # No column at all (only blank lines or delimiters, as Excel saves an empty sheet; or a blank
    # line above the header): said here, for every import, not left as nothing to map.
    if not header:
        raise ValidationError(_("The first line must name the columns.") if data else _("The file is empty."))
    return header, data


def header_key(text: str) -> str:
    """A column header as compared with the names an import knows: no case, accents or extra
    spaces ("Année " → "annee", "No de série" → "no de serie")."""
    return fold(" ".join(text.split()))
