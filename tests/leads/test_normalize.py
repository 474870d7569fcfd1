import pytest

from leads.normalize import phone_display


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+15145550122", "(514) 555-0122"),  # Montréal
        ("+12025550143", "(202) 555-0143"),  # a US customer dials the same way
        ("+33123456789", "+33 1 23 45 67 89"),  # abroad: with the country code
        ("+15145550122 x23", "(514) 555-0122 ext. 23"),
        ("call the shop", "call the shop"),  # not a number: as it was written
        ("", ""),
    ],
)
def test_a_phone_number_is_shown_as_people_read_it(stored, shown):
    assert phone_display(stored) == shown
