"""Mall time: days begin at midnight Asia/Shanghai (settings.TIME_ZONE), not UTC."""

from datetime import date, datetime, time

from django.utils import timezone


def local_day_start(day: date) -> datetime:
    """The aware moment the local `day` begins."""
    return timezone.make_aware(datetime.combine(day, time.min))
