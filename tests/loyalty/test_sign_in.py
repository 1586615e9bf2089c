"""Daily sign-in (签到): once a Shanghai day, streak bonus every Nth day in a row."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.exceptions import ServiceError
from loyalty.ledger import ledger_check, points_balance
from loyalty.models import LoyaltySettings, PointsEntry
from loyalty.services import sign_in
from tests.members.factories import signed_in_as

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_once_a_day_and_the_seventh_day_in_a_row_brings_the_bonus(member):
    start = date(2026, 11, 1)
    streaks = [sign_in(member=member, today=start + timedelta(days=i)) for i in range(7)]

    assert [s.streak for s in streaks] == [1, 2, 3, 4, 5, 6, 7]
    assert [s.points for s in streaks] == [1, 1, 1, 1, 1, 1, 11]
    assert points_balance(member_id=member.pk) == 17
    with pytest.raises(ServiceError):
        sign_in(member=member, today=start + timedelta(days=6))
    assert PointsEntry.objects.count() == 7
    assert ledger_check() == []


def test_a_missed_day_starts_the_streak_again(member):
    sign_in(member=member, today=date(2026, 11, 1))
    sign_in(member=member, today=date(2026, 11, 2))
    assert sign_in(member=member, today=date(2026, 11, 4)).streak == 1


def test_the_policy_is_staff_data(member):
    policy = LoyaltySettings.current()
    policy.signin_points, policy.signin_streak_days, policy.signin_streak_bonus = 5, 2, 20
    policy.save()
    sign_in(member=member, today=date(2026, 11, 1))
    assert sign_in(member=member, today=date(2026, 11, 2)).points == 25


def test_the_day_turns_at_shanghai_midnight_not_utc(client, member):
    signed_in_as(client, member)
    with time_machine.travel(datetime(2026, 11, 24, 23, 59, 59, tzinfo=SHANGHAI)):
        client.post("/m/sign-in/submit/")
        client.post("/m/sign-in/submit/")  # the same day: refused, nothing more
    assert points_balance(member_id=member.pk) == 1
    with time_machine.travel(datetime(2026, 11, 25, 0, 0, 1, tzinfo=SHANGHAI)):
        client.post("/m/sign-in/submit/")
    assert points_balance(member_id=member.pk) == 2


def test_the_sign_in_page_shows_the_streak_and_is_csrf_protected(member):
    from django.test import Client

    browser = signed_in_as(Client(enforce_csrf_checks=True), member)
    assert browser.post("/m/sign-in/submit/").status_code == 403
    sign_in(member=member)
    html = browser.get("/m/sign-in/").content.decode()
    assert "data-streak>1<" in html and "disabled" in html
