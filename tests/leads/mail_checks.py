"""Checks shared by the mail tests."""

import dataclasses


def strings_of(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_of(key)
            yield from strings_of(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_of(item)
    elif dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            yield from strings_of(getattr(value, item.name))


def assert_storable(value):
    """Every text a database or JSON will receive: valid UTF-8, no NUL."""
    for text in strings_of(value):
        text.encode("utf-8")
        assert "\x00" not in text
