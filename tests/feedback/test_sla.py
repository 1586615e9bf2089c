"""Business-hours deadlines (feedback/sla.py): a weekend, a holiday, a day with short hours,
the Shanghai midnight, and inputs in other zones; and the minutes between two moments agree
with the deadline for any start (a property)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback.sla import (
    BusinessCalendar,
    CalendarClosed,
    business_deadline,
    business_minutes_between,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
# the desk: weekdays 09:00–18:00, Saturday 10:00–16:00, Sunday closed; 2026-10-01 (国庆)
# closed, 2026-10-10 (a make-up working Saturday) with weekday hours, 2026-12-31 until 15:00
DESK = BusinessCalendar(
    hours={d: (time(9), time(18)) for d in range(5)} | {5: (time(10), time(16))},
    exceptions={
        date(2026, 10, 1): None,
        date(2026, 10, 10): (time(9), time(18)),
        date(2026, 12, 31): (time(9), time(15)),
    },
)


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (sh(2026, 9, 28, 10, 0), 60, sh(2026, 9, 28, 11, 0)),  # Monday, inside the hours
        (sh(2026, 9, 28, 17, 30), 60, sh(2026, 9, 29, 9, 30)),  # over the night
        (sh(2026, 9, 28, 7, 0), 30, sh(2026, 9, 28, 9, 30)),  # before opening: from 09:00
        (sh(2026, 9, 28, 17, 0), 60, sh(2026, 9, 28, 18, 0)),  # ends exactly at closing
        (sh(2026, 9, 26, 15, 0), 120, sh(2026, 9, 28, 10, 0)),  # Saturday 16:00, Sunday shut
        (sh(2026, 9, 27, 12, 0), 0, sh(2026, 9, 28, 9, 0)),  # on a Sunday: the next opening
        (sh(2026, 9, 30, 17, 0), 120, sh(2026, 10, 2, 10, 0)),  # 10-01 is a holiday
        (sh(2026, 10, 9, 17, 0), 120, sh(2026, 10, 10, 10, 0)),  # make-up Saturday from 09:00
        (sh(2026, 12, 31, 14, 0), 120, sh(2027, 1, 1, 10, 0)),  # short day to 15:00
        (sh(2026, 9, 28, 23, 59), 1, sh(2026, 9, 29, 9, 1)),  # the Shanghai midnight
        # 45 hours from Monday 09:00: Mon–Wed 27, Thursday a holiday, Friday 9, Saturday 6,
        # Sunday shut, then 3 more on Monday
        (sh(2026, 9, 28, 9, 0), 45 * 60, sh(2026, 10, 5, 12, 0)),
    ],
)
def test_deadlines_in_business_hours(start, minutes, expected):
    assert business_deadline(start, minutes, DESK) == expected
    assert business_minutes_between(start, expected, DESK) == minutes


def test_a_moment_in_another_zone_is_read_as_the_same_instant():
    # 2026-09-28 16:30 UTC is 00:30 on Tuesday in Shanghai, before the desk opens
    start = datetime(2026, 9, 28, 16, 30, tzinfo=UTC)
    deadline = business_deadline(start, 90, DESK)
    assert deadline == sh(2026, 9, 29, 10, 30)
    assert deadline.utcoffset() == timedelta(hours=8)


def test_minutes_between_counts_open_minutes_only():
    assert business_minutes_between(sh(2026, 9, 26, 15, 0), sh(2026, 9, 28, 10, 0), DESK) == 120
    assert business_minutes_between(sh(2026, 9, 28, 12, 0), sh(2026, 9, 28, 11, 0), DESK) == 0
    # a whole holiday counts nothing
    assert business_minutes_between(sh(2026, 10, 1, 0, 0), sh(2026, 10, 2, 0, 0), DESK) == 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        business_deadline(datetime(2026, 9, 28, 10), 10, DESK)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError):
        business_deadline(sh(2026, 9, 28, 10), -1, DESK)
    with pytest.raises(ValueError):
        BusinessCalendar(hours={0: (time(18), time(9))})
    with pytest.raises(CalendarClosed):
        business_deadline(sh(2026, 9, 28, 10), 10, BusinessCalendar(hours={}))


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2027, 12, 31),  # noqa: DTZ001
        timezones=st.just(SH),
    ),
    minutes=st.integers(min_value=0, max_value=20_000),
)
def test_the_minutes_to_a_deadline_are_the_minutes_asked(start, minutes):
    start = start.replace(second=0, microsecond=0)
    deadline = business_deadline(start, minutes, DESK)
    assert deadline >= start
    assert business_minutes_between(start, deadline, DESK) == minutes
