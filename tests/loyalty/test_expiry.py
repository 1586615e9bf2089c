"""Points expiry: end of next year, oldest spent first, idempotent, with a reminder."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from loyalty.expiry import expiry_reminders_send, points_expire
from loyalty.ledger import ledger_check, points_balance, points_post, points_spend
from loyalty.models import ExpiryReminder, PointsEntry
from loyalty.tasks import points_expire_nightly
from members.models import Message

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _earn(member, points, earned_on, key):
    points_post(member_id=member.pk, kind="earn", points=points, key=key, earned_on=earned_on)


def test_points_of_a_year_expire_after_the_end_of_the_next_year_oldest_spent_first(member):
    _earn(member, 100, date(2025, 3, 1), "a")  # expires 2026-12-31
    _earn(member, 80, date(2026, 2, 1), "b")  # expires 2027-12-31
    points_spend(member_id=member.pk, points=30, kind="redeem", key="r")  # from the 2025 lot

    assert points_expire(on=date(2026, 12, 30))["points"] == 0
    result = points_expire(on=date(2026, 12, 31))

    assert result == {"accounts": 1, "points": 70, "on": "2026-12-31"}
    assert points_balance(member_id=member.pk) == 80
    assert ledger_check() == []


def test_expiry_twice_for_the_same_day_expires_nothing_more(member):
    _earn(member, 100, date(2025, 3, 1), "a")
    points_expire(on=date(2026, 12, 31))
    assert points_expire(on=date(2026, 12, 31))["points"] == 0
    assert points_expire(on=date(2027, 1, 5))["points"] == 0  # a later run: still nothing
    assert PointsEntry.objects.filter(kind="expire").count() == 1


def test_a_missed_night_is_caught_up_by_the_next_run(member):
    _earn(member, 100, date(2025, 3, 1), "a")
    assert points_expire(on=date(2027, 1, 3))["points"] == 100


def test_the_nightly_task_runs_at_the_shanghai_day_boundary(member):
    _earn(member, 100, date(2025, 3, 1), "a")
    # 2027-01-01 00:00:30 in Shanghai is still 2026-12-31 in UTC.
    with time_machine.travel(datetime(2027, 1, 1, 0, 0, 30, tzinfo=SHANGHAI)):
        result = points_expire_nightly.delay().get()
    assert result["points"] == 100
    assert points_balance(member_id=member.pk) == 0


def test_just_before_midnight_nothing_has_expired_yet(member):
    _earn(member, 100, date(2025, 3, 1), "a")
    with time_machine.travel(datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)):
        assert points_expire_nightly.delay().get()["points"] == 0


def test_members_are_reminded_once_thirty_days_before(member):
    _earn(member, 100, date(2025, 3, 1), "a")
    points_spend(member_id=member.pk, points=40, kind="redeem", key="r")

    assert expiry_reminders_send(today=date(2026, 11, 30)) == 0  # 31 days before
    assert expiry_reminders_send(today=date(2026, 12, 1)) == 1
    assert expiry_reminders_send(today=date(2026, 12, 2)) == 0

    message = Message.objects.get(member=member)
    assert "60" in message.body and "2026-12-31" in message.body
    assert ExpiryReminder.objects.get().points == 60


def test_the_reminder_is_in_chinese_whatever_language_is_active(member):
    from django.utils import translation

    _earn(member, 100, date(2025, 3, 1), "a")
    with translation.override("en"):
        assert expiry_reminders_send(today=date(2026, 12, 1)) == 1
    message = Message.objects.get(member=member)
    assert message.title == "积分即将过期"
    assert message.body == "您有 100 积分将于 2026-12-31 后过期，请尽快到积分商城使用。"


def test_no_reminder_when_everything_due_was_spent(member):
    _earn(member, 100, date(2025, 3, 1), "a")
    points_spend(member_id=member.pk, points=100, kind="redeem", key="r")
    assert expiry_reminders_send(today=date(2026, 12, 1)) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_expiry_with_concurrent_spends_keeps_the_ledger_whole(store):
    """L8, 20 rounds (a new member each, one database): ten spends racing the expiry run;
    a rerun of the same date expires nothing more."""
    import threading

    from django.db import connection

    from tests.members.factories import MemberFactory

    for round_ in range(20):
        member = MemberFactory(home_store=store)
        _earn(member, 100, date(2025, 3, 1), f"a{round_}")
        _earn(member, 100, date(2026, 3, 1), f"b{round_}")
        barrier = threading.Barrier(11)
        outcomes = []

        def spend(i, member=member, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                points_spend(member_id=member.pk, points=15, kind="redeem", key=f"s{member.pk}-{i}")
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001
                outcomes.append(type(exc).__name__)
            finally:
                connection.close()

        def expire(barrier=barrier):
            try:
                barrier.wait()
                points_expire(on=date(2026, 12, 31))
            finally:
                connection.close()

        threads = [threading.Thread(target=spend, args=(i,)) for i in range(10)]
        threads.append(threading.Thread(target=expire))
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        spent = 15 * outcomes.count("ok")
        entries = PointsEntry.objects.filter(kind="expire", account__member=member)
        expired = -sum(entries.values_list("points", flat=True))
        # The 2025 lot is consumed by spends first; whatever is left of it expired, no more.
        assert max(0, 100 - spent) <= expired <= 100, round_
        assert points_balance(member_id=member.pk) == 200 - spent - expired
        points_expire(on=date(2026, 12, 31))
        assert entries.count() == (1 if expired else 0)
    assert ledger_check() == []


@pytest.mark.django_db(transaction=True)
def test_a_second_nightly_run_while_one_holds_the_lock_skips(member):
    import threading

    from django.db import connection

    from core.locks import advisory_lock

    held, release = threading.Event(), threading.Event()

    def first_run():
        try:
            with advisory_lock("loyalty.points_expire") as acquired:
                assert acquired
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_run)
    thread.start()
    held.wait(10)
    try:
        assert points_expire_nightly.delay().get() == {"skipped": "running elsewhere"}
    finally:
        release.set()
        thread.join()
    assert "skipped" not in points_expire_nightly.delay().get()


def test_a_late_credit_already_past_its_date_expires_at_the_next_run(member):
    # Found by the ledger state machine: an old receipt recorded after that date's run.
    _earn(member, 100, date(2025, 3, 1), "a")
    assert points_expire(on=date(2026, 12, 31))["points"] == 100
    _earn(member, 40, date(2025, 6, 1), "late")  # expires 2026-12-31 too

    assert points_expire(on=date(2026, 12, 31))["points"] == 40
    assert points_expire(on=date(2026, 12, 31))["points"] == 0
    assert points_balance(member_id=member.pk) == 0
    assert ledger_check() == []
