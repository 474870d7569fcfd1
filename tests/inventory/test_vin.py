import pytest
from django.core.exceptions import ValidationError

from inventory.vin import vin_check_digit, vin_decode, vin_model_year, vin_validate


@pytest.mark.parametrize(
    "vin",
    [
        "1HGCM82633A004352",  # Honda Accord, check digit 3
        "1M8GDM9AXKP042788",  # check digit X
        "5YJ3E1EA2KF317000",
        "2T3W1RFV9RW000005",
        "WBA3A5G59DNP26082",  # German-built, no check digit required, still well formed
    ],
)
def test_valid_vins_are_accepted_and_normalised(vin):
    assert vin_validate(f" {vin.lower()[:8]}-{vin.lower()[8:]} ") == vin


def test_check_digit_computed_with_transliteration_and_weights():
    assert vin_check_digit("1M8GDM9A0KP042788") == "X"
    assert vin_check_digit("1HGCM82603A004352") == "3"


@pytest.mark.parametrize(
    ("vin", "position", "letter", "digit"),
    [
        ("1HGCM82633AOO4352", 12, "O", "0"),
        ("1HGCM8I633A004352", 7, "I", "1"),
        ("QHGCM82633A004352", 1, "Q", "0"),
    ],
)
def test_letters_i_o_q_are_refused_naming_the_position(vin, position, letter, digit):
    with pytest.raises(ValidationError) as error:
        vin_validate(vin)
    message = error.value.messages[0]
    assert f"position {position}" in message and f"“{letter}”" in message and f"digit {digit}" in message


def test_a_typo_is_caught_by_the_check_digit():
    with pytest.raises(ValidationError) as error:
        vin_validate("1HGCM82633A004353")  # last digit mistyped
    assert error.value.code == "vin_check_digit"
    assert "check digit (position 9) is “3”" in error.value.messages[0]


@pytest.mark.parametrize("vin", ["1HGCM82633A00435", "1HGCM82633A0043521", ""])
def test_wrong_length_says_how_many_characters(vin):
    with pytest.raises(ValidationError) as error:
        vin_validate(vin)
    assert error.value.code == "vin_length"
    assert f"has {len(vin)}" in error.value.messages[0]


def test_punctuation_is_refused():
    with pytest.raises(ValidationError) as error:
        vin_validate("1HGCM82633A00435*")
    assert "position 17" in error.value.messages[0]


def test_make_and_year_decode_from_the_vin():
    assert vin_decode("1HGCM82633A004352").make == "Honda"
    assert vin_decode("1HGCM82633A004352").year == 2003
    assert vin_decode("2T3W1RFV9RW000005") == vin_decode("2t3w1rfv9rw000005")
    assert vin_decode("2T3W1RFV9RW000005").year == 2024
    assert vin_decode("KMHLM4AG5PU000001").make == "Hyundai"
    assert vin_decode("WBA3A5G59DNP26082").make == "BMW"
    assert vin_decode("ZZZ3A5G59DNP26082").make == ""


def test_model_year_cycle_is_told_by_position_seven_in_north_america():
    assert vin_model_year("1M8GDM9AXKP042788") == 1989  # position 7 is a digit
    assert vin_model_year("5YJ3E1EA2KF317000") == 2019  # position 7 is a letter


def test_messages_in_french():
    from django.utils import translation

    with translation.override("fr"), pytest.raises(ValidationError) as error:
        vin_validate("1HGCM82633A0O4352")
    assert error.value.messages == [
        "Un NIV ne contient jamais les lettres I, O ou Q\u00a0: la position 13 est «\u00a0O\u00a0» — sans doute le chiffre 0."
    ]
