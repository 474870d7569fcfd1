"""CSV files that staff download and open in a spreadsheet.

Values come from outside the store (a lead's source, a name in an email), and a spreadsheet runs a
cell that starts with =, +, -, @, a tab or a carriage return as a formula: such text gets a leading
apostrophe, which spreadsheets show as text. A byte-order mark lets Excel read the accents.
"""

import csv

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """A value as a cell: text a spreadsheet would run is made plain text; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def csv_download(filename: str, rows) -> HttpResponse:
    """A CSV attachment of `rows` (the header first), safe to open in a spreadsheet."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    csv.writer(response).writerows([spreadsheet_cell(value) for value in row] for row in rows)
    return response
