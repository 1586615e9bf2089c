"""Mainland resident ID numbers (居民身份证号码, GB 11643-1999): parsing and validation.

Pure: no Django. Errors carry a stable code; members.profile turns them into messages.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# GB 11643's check digit: ISO 7064 MOD 11-2 over the first 17 digits.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# The first two digits name the province (GB/T 2260); 83 is the Taiwan residents' permit.
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)


class NationalIdError(ValueError):
    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class NationalId:
    number: str  # 18 characters, a final x upper-cased
    birth_date: date
    gender: str  # "M" or "F", from the parity of the 17th digit

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


def national_id_normalise(value: str) -> str:
    """Full-width digits, spaces and a lowercase x are accepted: "3301 0619 …x" -> "…X"."""
    value = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"[\s-]", "", value).upper()


def national_id_check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def national_id_parse(value: str, *, today: date) -> NationalId:
    """The parsed ID number, or NationalIdError with the code of the first problem found:
    legacy_15, format, region, date, future, check_digit."""
    number = national_id_normalise(value)
    if re.fullmatch(r"\d{15}", number):
        raise NationalIdError("legacy_15")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise NationalIdError("format")
    if number[:2] not in PROVINCES:
        raise NationalIdError("region")
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise NationalIdError("date") from None
    if birth_date.year < 1900:
        raise NationalIdError("date")
    if birth_date > today:
        raise NationalIdError("future")
    if national_id_check_char(number[:17]) != number[17]:
        raise NationalIdError("check_digit")
    return NationalId(
        number=number, birth_date=birth_date, gender="M" if int(number[16]) % 2 else "F"
    )
