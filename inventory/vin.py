"""Vehicle identification numbers: validation and what can be decoded offline.

A VIN has 17 characters, never I, O or Q. Vehicles built for North America (first character
1–5) carry a check digit in position 9, computed from the other characters; it catches most
typos. The manufacturer comes from the first three characters (the WMI) and the model year
from position 10.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

VIN_LENGTH = 17
_TRANSLITERATION = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_NORTH_AMERICA = "12345"
_LOOKS_LIKE = {"I": "1", "O": "0", "Q": "0"}

# Model year codes (position 10) repeat every 30 years from 1980.
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"

# World manufacturer identifiers of the makes a North American store sees most.
WMI_MAKES = {
    "Acura": "19U 19V JH4 2HN 5J8",
    "Audi": "WAU WA1 WUA TRU",
    "BMW": "WBA WBS WBY 5UX 5UJ 5YM 4US",
    "Buick": "1G4 2G4 KL4 5GA LRB",
    "Cadillac": "1G6 1GY 1GE",
    "Chevrolet": "1G1 1GC 1GN 1GB 2G1 2GC 2GN 3G1 3GC 3GN KL1 KL7 1GA",
    "Chrysler": "1C3 2C3 2C4 2A4 1A8",
    "Dodge": "1B3 2B3 2D3 3D4 1D7 2C7",
    "Fiat": "ZFA 3C3",
    "Ford": "1FA 1FB 1FC 1FD 1FM 1FT 1FV 2FA 2FM 2FT 3FA 3FM 3FT MAJ",
    "Genesis": "KMT",
    "GMC": "1GT 1GK 2GT 2GK 3GT 3GK",
    "Honda": "1HG 2HG 2HK 2HJ 5FN 5FP 5J6 JHM JHL 7FA 19X SHH SHS",
    "Hyundai": "KMH KM8 5NP 5NM 3KM 3H3",
    "Infiniti": "JNK JNR 5N3",
    "Jaguar": "SAJ",
    "Jeep": "1C4 1J4 1J8 3C4 ZAC",
    "Kia": "KNA KND KNC 5XX 5XY 3KP",
    "Land Rover": "SAL",
    "Lexus": "JTH JTJ 2T2 58A",
    "Lincoln": "1LN 2LM 3LN 5LM",
    "Mazda": "JM1 JM3 3MZ 3MV 1YV 4F2",
    "Mercedes-Benz": "WDB WDC WDD WDF W1K W1N W1V 4JG 55S",
    "Mini": "WMW",
    "Mitsubishi": "JA3 JA4 JA7 4A3 4A4 ML3",
    "Nissan": "1N4 1N6 3N1 3N6 5N1 JN1 JN8 JN6",
    "Porsche": "WP0 WP1",
    "Ram": "1C6 3C6 3C7 2C6",
    "Subaru": "4S3 4S4 4S6 JF1 JF2",
    "Tesla": "5YJ 7SA 7G2 LRW",
    "Toyota": "2T1 2T3 4T1 4T3 4T4 5TD 5TF 5TB 5TE 5YF JTD JTE JTK JTL JTM JTN JT2 JT3 JT4 7MU",
    "Volkswagen": "1VW 3VW WVW WVG WV1 WV2",
    "Volvo": "YV1 YV4 7JR",
}
_MAKE_BY_WMI = {wmi: make for make, codes in WMI_MAKES.items() for wmi in codes.split()}


@dataclass(frozen=True)
class DecodedVin:
    make: str
    year: int | None


def vin_normalize(value: str) -> str:
    """Upper case without spaces or dashes, as people copy VINs from windshields and papers."""
    return re.sub(r"[\s-]", "", value or "").upper()


def vin_check_digit(vin: str) -> str:
    """The check digit position 9 must hold for this VIN: '0'–'9' or 'X'."""
    total = sum(_TRANSLITERATION[char] * weight for char, weight in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_validate(value: str) -> str:
    """The normalised VIN, or ValidationError saying what is wrong and where."""
    vin = vin_normalize(value)
    if len(vin) != VIN_LENGTH:
        raise ValidationError(
            _("A VIN has exactly 17 characters; this one has %(count)d."),
            code="vin_length",
            params={"count": len(vin)},
        )
    for position, char in enumerate(vin, start=1):
        if char in _LOOKS_LIKE:
            raise ValidationError(
                _(
                    "A VIN never contains the letters I, O or Q: position %(position)d is “%(char)s”"
                    " — probably the digit %(digit)s."
                ),
                code="vin_letter",
                params={"position": position, "char": char, "digit": _LOOKS_LIKE[char]},
            )
        if char not in _TRANSLITERATION:
            raise ValidationError(
                _("A VIN holds only letters and digits: position %(position)d is “%(char)s”."),
                code="vin_character",
                params={"position": position, "char": char},
            )
    if vin[0] in _NORTH_AMERICA:
        expected = vin_check_digit(vin)
        if vin[8] != expected:
            raise ValidationError(
                _(
                    "The check digit (position 9) is “%(found)s” but the other characters give “%(expected)s”:"
                    " a character of this VIN is probably mistyped."
                ),
                code="vin_check_digit",
                params={"found": vin[8], "expected": expected},
            )
    return vin


def vin_model_year(vin: str, *, today: datetime.date | None = None) -> int | None:
    """The model year from position 10.

    North American passenger vehicles tell the 30-year cycle by position 7 (a digit until 2009,
    a letter from 2010); otherwise take the latest year of the cycle not beyond next year.
    """
    index = _YEAR_CODES.find(vin[9]) if len(vin) >= 10 else -1
    if index < 0:
        return None
    year = 1980 + index
    if vin[0] in _NORTH_AMERICA:
        return year + 30 if vin[6].isalpha() else year
    latest_allowed = (today or datetime.date.today()).year + 1
    while year + 30 <= latest_allowed:
        year += 30
    return year


def vin_decode(vin: str) -> DecodedVin:
    vin = vin_normalize(vin)
    return DecodedVin(make=_MAKE_BY_WMI.get(vin[:3], ""), year=vin_model_year(vin))
