"""CSV files that staff download and open in a spreadsheet.

Values come from outside the store (a lead's source, a name in an email), and a spreadsheet runs a
cell that starts with =, +, -, @, a tab or a carriage return as a formula: such text gets a leading
apostrophe, which spreadsheets show as text. A byte-order mark lets Excel read the accents.

In French, the file is written as a French Excel reads it: semicolons between cells and a decimal
comma (its list separator is the semicolon, since the comma marks decimals).
"""

import csv
from decimal import Decimal

from django.http import HttpResponse
from django.utils import translation

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value, *, decimal_comma: bool = False):
    """A value as a cell: text a spreadsheet would run is made plain text; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    if decimal_comma and isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    return value


def csv_download(filename: str, rows) -> HttpResponse:
    """A CSV attachment of `rows` (the header first), safe to open in a spreadsheet, laid out for
    the reader's language."""
    french = (translation.get_language() or "").startswith("fr")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    csv.writer(response, delimiter=";" if french else ",").writerows(
        [spreadsheet_cell(value, decimal_comma=french) for value in row] for row in rows
    )
    return response
