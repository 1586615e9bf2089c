"""The ID-number rules (GB 11643), pure: no database."""

from datetime import date

import pytest

from members.national_id import NationalIdError, national_id_parse
from tests.members.factories import national_id_make

TODAY = date(2026, 11, 25)


def test_a_valid_number_gives_its_birth_date_and_gender():
    parsed = national_id_parse("11010519491231002X", today=TODAY)
    assert (parsed.number, parsed.birth_date, parsed.gender) == (
        "11010519491231002X",
        date(1949, 12, 31),
        "F",
    )
    male = national_id_parse(national_id_make(date(1990, 3, 7), female=False), today=TODAY)
    assert male.gender == "M" and male.birth_date == date(1990, 3, 7)


@pytest.mark.parametrize(
    "typed",
    ["11010519491231002x", "1101 0519 4912 3100 2x", "１１０１０５１９４９１２３１００２ｘ"],
)
def test_lowercase_x_spaces_and_full_width_digits_are_accepted(typed):
    assert national_id_parse(typed, today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("110105491231002", "legacy_15"),
        ("11010519491231002", "format"),
        ("11010519491231002XX", "format"),
        ("1101051949123100AX", "format"),
        ("99010519491231002X", "region"),
        ("110105199002300011", "date"),  # 30 February
        ("110105189912310011", "date"),  # before 1900
        ("110105202712310011", "future"),
        ("110105194912310021", "check_digit"),
        ("110105194912310029", "check_digit"),
    ],
)
def test_bad_numbers_name_their_problem(typed, code):
    with pytest.raises(NationalIdError) as exc:
        national_id_parse(typed, today=TODAY)
    assert exc.value.code == code


def test_every_wrong_check_character_is_refused():
    good = national_id_make(date(1988, 8, 8))
    for char in "0123456789X":
        if char != good[-1]:
            with pytest.raises(NationalIdError):
                national_id_parse(good[:-1] + char, today=TODAY)


def test_age_counts_whole_years_to_the_day():
    parsed = national_id_parse(national_id_make(date(2012, 11, 26)), today=TODAY)
    assert parsed.age_on(date(2026, 11, 25)) == 13
    assert parsed.age_on(date(2026, 11, 26)) == 14
