"""Service-level deadlines in the mall's business hours (the pure part of feedback's SLAs: no
Django imports).

A ticket's first-response and resolution targets are counted in business minutes: only the
minutes the service desk is open count. The calendar is the desk's opening hours per weekday,
and dated exceptions: a holiday closed all day, or a day with its own hours (除夕 10:00–18:00,
a make-up working day). Times are aware datetimes; the calendar's days and hours are those of
its time zone (Asia/Shanghai), so a deadline crosses the Shanghai midnight, a weekend and a
holiday correctly whatever the server's zone.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3 * 366  # a calendar with no opening hours at all would never reach a deadline


class CalendarClosed(ValueError):
    """The calendar has no opening hours within MAX_DAYS of the start."""


@dataclass(frozen=True)
class BusinessCalendar:
    # weekday (Monday 0 … Sunday 6) → (opens, closes); a weekday missing is closed
    hours: dict[int, tuple[time, time]]
    # a date → (opens, closes) for that day, or None: closed all day (a holiday)
    exceptions: dict[date, tuple[time, time] | None] = field(default_factory=dict)
    zone: ZoneInfo = ZoneInfo("Asia/Shanghai")

    def __post_init__(self):
        for span in [*self.hours.values(), *(s for s in self.exceptions.values() if s)]:
            opens, closes = span
            if not opens < closes:
                raise ValueError(f"opening hours must open before they close: {span}")

    def span(self, day: date) -> tuple[datetime, datetime] | None:
        """The aware moments `day` opens and closes, or None if it is closed."""
        hours = self.exceptions[day] if day in self.exceptions else self.hours.get(day.weekday())
        if hours is None:
            return None
        opens, closes = hours
        return (
            datetime.combine(day, opens, tzinfo=self.zone),
            datetime.combine(day, closes, tzinfo=self.zone),
        )


def business_deadline(start: datetime, minutes: int, calendar: BusinessCalendar) -> datetime:
    """The moment `minutes` business minutes after `start` have passed. Started outside the
    opening hours, the clock starts at the next opening; 0 minutes gives that moment too."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if minutes < 0:
        raise ValueError("minutes cannot be negative")
    left = timedelta(minutes=minutes)
    day = start.astimezone(calendar.zone).date()
    for _ in range(MAX_DAYS):
        span = calendar.span(day)
        if span is not None:
            opens, closes = span
            begin = max(opens, start)
            if begin < closes:
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
        day += timedelta(days=1)
    raise CalendarClosed("no opening hours in reach")


def business_minutes_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> int:
    """Whole business minutes from `start` to `end` (0 if end is not after start): how long a
    ticket waited in the desk's time, for response-time statistics."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if end <= start:
        return 0
    total = timedelta()
    day = start.astimezone(calendar.zone).date()
    last = end.astimezone(calendar.zone).date()
    while day <= last:
        span = calendar.span(day)
        if span is not None:
            begin, finish = max(span[0], start), min(span[1], end)
            if begin < finish:
                total += finish - begin
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)
