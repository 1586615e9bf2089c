"""Races of draws on real Postgres: threads released together by a barrier, each on its own
connection (transaction=True, so nothing hides inside a test transaction). 200 draws from 25
connections (the machine's Postgres is shared: 100 connections in all); the `slow` variant
repeats the race 20 times."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from loyalty.ledger import EntryIn, InsufficientPoints, ledger_check, points_post_many
from loyalty.models import PointsAccount, PointsEntry
from mall.lottery import LotteryError, draw_recompute, lottery_draw
from mall.models import LotteryDraw
from tests.mall.lottery_factories import running_campaign
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 25
MEMBERS = 50
ATTEMPTS = 200  # 4 a member, from 4 different threads


def _race(count, work):
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            return work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test counts
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def two_hundred_draws(store, round_=0):
    members = MemberFactory.create_batch(MEMBERS, home_store=store)
    # 25 points: two draws of 10 each, unless a draw wins points back
    points_post_many(
        EntryIn(member_id=m.pk, kind="earn", points=25, key=f"seed:{round_}:{m.pk}")
        for m in members
    )
    campaign = running_campaign(
        daily_limit=10,
        prizes=[
            {"name": "10 积分", "kind": "points", "points": 10, "weight": 30, "stock": 12},
            {"name": "马克杯", "kind": "goods", "weight": 25, "stock": 3},
            {"name": "雨伞", "kind": "goods", "weight": 25, "stock": 5},
            {"name": "谢谢参与", "kind": "nothing", "weight": 20, "stock": None},
        ],
    )
    prizes = list(campaign.prizes.order_by("position"))
    per_thread = ATTEMPTS // THREADS

    def work(thread):
        outcomes = []
        for k in range(per_thread):
            member = members[(thread + k * THREADS) % MEMBERS]
            try:
                outcomes.append(
                    lottery_draw(
                        member=member, campaign=campaign, idempotency_key=f"r{round_}-{thread}-{k}"
                    )
                )
            except Exception as exc:  # noqa: BLE001
                outcomes.append(exc)
        return outcomes

    started = time.monotonic()
    outcomes = [o for batch in _race(THREADS, work) for o in batch]
    seconds = time.monotonic() - started

    assert len(outcomes) == ATTEMPTS
    odd = [
        o
        for o in outcomes
        if not isinstance(o, (LotteryDraw, InsufficientPoints))
        and not (isinstance(o, LotteryError) and o.code == "sold_out")
    ]
    assert odd == []
    draws = list(LotteryDraw.objects.filter(campaign=campaign))
    assert len(draws) == sum(isinstance(o, LotteryDraw) for o in outcomes) > 0
    won = Counter(d.prize_id for d in draws if d.prize_id)
    for prize in prizes:
        prize.refresh_from_db()
        if prize.kind == "nothing":
            assert prize.pk not in won
            continue
        assert prize.stock >= 0
        assert won[prize.pk] == prize.initial_stock - prize.stock
    # Every draw spent once, under its own key; every balance is what its draws make it.
    spends = PointsEntry.objects.filter(kind="lottery", points__lt=0)
    assert spends.count() == len(draws)
    assert sorted(spends.values_list("key", flat=True)) == sorted(d.ledger_key for d in draws)
    granted = {d.member_id: 0 for d in draws}
    for d in draws:
        granted[d.member_id] += 10 if d.prize_id == prizes[0].pk else 0
    drawn = Counter(d.member_id for d in draws)
    for account in PointsAccount.objects.filter(member__in=members):
        expected = 25 - 10 * drawn[account.member_id] + granted.get(account.member_id, 0)
        assert account.balance == expected >= 0
    for d in draws:
        assert d.prize_id in {None, draw_recompute(d)}
    assert ledger_check() == []
    return seconds, len(draws)


def test_two_hundred_concurrent_draws_never_exceed_stock_nor_overdraw(store):
    seconds, count = two_hundred_draws(store)
    print(f"200 concurrent draw attempts: {count} draws in {seconds:.2f}s")  # noqa: T201


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(20))
def test_two_hundred_concurrent_draws_repeated(store, round_):
    two_hundred_draws(store, round_)


def test_one_member_racing_the_daily_limit_never_exceeds_it(store):
    member = MemberFactory(home_store=store)
    points_post_many([EntryIn(member_id=member.pk, kind="earn", points=1000, key="seed:one")])
    campaign = running_campaign(daily_limit=3)

    outcomes = _race(
        THREADS,
        lambda i: lottery_draw(member=member, campaign=campaign, idempotency_key=f"limit-{i}"),
    )

    assert sum(isinstance(o, LotteryDraw) for o in outcomes) == 3
    assert {o.code for o in outcomes if not isinstance(o, LotteryDraw)} == {"daily_limit"}
    assert PointsEntry.objects.filter(kind="lottery", points__lt=0).count() == 3
    assert ledger_check() == []


@pytest.mark.slow
def test_the_daily_limit_race_repeated(store):
    """S3, 20 rounds in one database: a new member each, 10 draws at once, 3 a day."""
    campaign = running_campaign(daily_limit=3)
    for round_ in range(20):
        member = MemberFactory(home_store=store)
        points_post_many(
            [EntryIn(member_id=member.pk, kind="earn", points=1000, key=f"seed:{round_}")]
        )

        outcomes = _race(
            10,
            lambda i, m=member, r=round_: lottery_draw(
                member=m, campaign=campaign, idempotency_key=f"limit-{r}-{i}"
            ),
        )

        assert sum(isinstance(o, LotteryDraw) for o in outcomes) == 3, round_
        assert {o.code for o in outcomes if not isinstance(o, LotteryDraw)} == {"daily_limit"}
        assert LotteryDraw.objects.filter(member=member).count() == 3
    assert ledger_check() == []


def test_the_same_key_at_once_is_one_draw_spending_once(store):
    member = MemberFactory(home_store=store)
    points_post_many([EntryIn(member_id=member.pk, kind="earn", points=1000, key="seed:key")])
    campaign = running_campaign(daily_limit=3)

    outcomes = _race(
        THREADS, lambda i: lottery_draw(member=member, campaign=campaign, idempotency_key="tap")
    )

    assert all(isinstance(o, LotteryDraw) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert PointsEntry.objects.filter(kind="lottery", points__lt=0).count() == 1


def test_a_prize_raced_to_zero_between_the_read_and_the_update_gives_nothing(store):
    member = MemberFactory(home_store=store)
    points_post_many([EntryIn(member_id=member.pk, kind="earn", points=100, key="seed:raced")])
    campaign = running_campaign(
        prizes=[{"name": "马克杯", "kind": "goods", "weight": 1, "stock": 1}]
    )
    mug = campaign.prizes.get()
    taken, release = threading.Event(), threading.Event()

    def take_the_last_one():
        # Another draw holding the last mug's row: it commits once ours waits on the row.
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("UPDATE mall_lotteryprize SET stock = 0 WHERE id = %s", [mug.pk])
                taken.set()
                release.wait(10)
                cursor.execute("COMMIT")
        finally:
            other.close()

    def our_draw():
        try:
            taken.wait(10)
            return lottery_draw(member=member, campaign=campaign, idempotency_key="late")
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        holder = pool.submit(take_the_last_one)
        ours = pool.submit(our_draw)
        _wait_until_blocked()
        release.set()
        holder.result()
        result = ours.result()

    assert (result.prize, result.status) == (None, "nothing")
    assert (result.weights, result.roll) == ([[mug.pk, 1]], 0)
    assert draw_recompute(result) == mug.pk  # the audit row shows the roll landed on the mug
    mug.refresh_from_db()
    assert mug.stock == 0
    assert PointsEntry.objects.get(key=result.ledger_key).points == -10
    assert ledger_check() == []


def _wait_until_blocked(timeout=10.0, query="UPDATE%lotteryprize%"):
    """Until a session of this database waits on a row lock (by default our draw's stock
    UPDATE)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE %s",
                [query],
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"no session waited on a row lock in {query!r}")


def test_a_draw_at_the_start_waits_for_an_edit_begun_before_it_and_sees_its_result(store):
    # An edit locks the campaign row and checks the clock inside its transaction; one that
    # checked just before the start may commit just after it. A draw takes the campaign row
    # FOR SHARE, so it waits for that edit and draws with the prizes as the edit left them.
    member = MemberFactory(home_store=store)
    points_post_many([EntryIn(member_id=member.pk, kind="earn", points=100, key="seed:edit")])
    campaign = running_campaign(
        starts_at=timezone.now() + timedelta(seconds=1),
        prizes=[{"name": "马克杯", "kind": "goods", "weight": 1, "stock": 5}],
    )
    mug = campaign.prizes.get()
    locked, release = threading.Event(), threading.Event()

    def edit_across_the_start():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(
                    "SELECT id FROM mall_lotterycampaign WHERE id = %s FOR UPDATE", [campaign.pk]
                )
                cursor.execute("UPDATE mall_lotteryprize SET weight = 7 WHERE id = %s", [mug.pk])
                locked.set()
                release.wait(10)
                cursor.execute("COMMIT")
        finally:
            other.close()

    def draw_once_started():
        try:
            locked.wait(10)
            while timezone.now() < campaign.starts_at:
                time.sleep(0.05)
            return lottery_draw(member=member, campaign=campaign, idempotency_key="first")
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        editor = pool.submit(edit_across_the_start)
        drawer = pool.submit(draw_once_started)
        _wait_until_blocked(query="%FOR SHARE%")
        release.set()
        editor.result()
        result = drawer.result()

    assert result.weights == [[mug.pk, 7]] and result.prize == mug
