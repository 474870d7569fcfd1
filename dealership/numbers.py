"""Numbers that come back from pages (ids, page numbers, in query strings and hidden fields)."""


def is_ascii_digits(value: str) -> bool:
    """Whether `value` is written in the digits 0-9 alone, as the pages write ids and page numbers.

    str.isdigit() alone is no such test: it is True for "²", which int() and the ORM refuse (a
    server error), and for other scripts' digits ("٣"), which no page of ours writes."""
    return value.isascii() and value.isdigit()
