"""Races on real Postgres: threads released together by a barrier, each on its own
connection (transaction=True, so nothing hides inside a test transaction). The default suite
runs each race once; the `slow` variants repeat the heaviest 20 times."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from loyalty.ledger import (
    EntryIn,
    InsufficientPoints,
    ledger_check,
    points_balance,
    points_post_many,
)
from loyalty.models import PointsEntry
from mall.models import Goods, Redemption
from mall.redeeming import RedemptionError, goods_redeem
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


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


def _members_with_points(store, count, points):
    members = MemberFactory.create_batch(count, home_store=store)
    points_post_many(
        EntryIn(member_id=m.pk, kind="earn", points=points, key=f"seed:{m.pk}") for m in members
    )
    return members


def hundred_redeem_five_in_stock(store, round_=0):
    members = _members_with_points(store, 100, 150)
    goods = Goods.objects.create(name="限量保温杯", points_price=100, stock=5)
    goods.pickup_stores.set([store])

    def work(thread):  # 20 threads × 5 members each
        outcomes = []
        for member in members[thread::THREADS]:
            try:
                outcomes.append(
                    goods_redeem(
                        member=member,
                        goods=goods,
                        delivery="pickup",
                        idempotency_key=f"r{round_}",
                    )
                )
            except Exception as exc:  # noqa: BLE001
                outcomes.append(exc)
        return outcomes

    outcomes = [o for batch in _race(THREADS, work) for o in batch]

    won = [o for o in outcomes if isinstance(o, Redemption)]
    refused = [o for o in outcomes if isinstance(o, RedemptionError)]
    assert (len(won), len(refused)) == (5, 95), [
        o for o in outcomes if not isinstance(o, (Redemption, RedemptionError))
    ]
    assert {o.code for o in refused} == {"out_of_stock"}
    goods.refresh_from_db()
    assert goods.stock == 0
    assert Redemption.objects.filter(goods=goods).count() == 5
    winners = {r.member_id for r in won}
    for member in members:
        expected = 50 if member.pk in winners else 150
        assert points_balance(member_id=member.pk) == expected
    assert PointsEntry.objects.filter(kind="redeem").count() == 5
    assert ledger_check() == []


def test_a_hundred_members_redeem_a_good_with_five_in_stock_exactly_five_succeed(store):
    hundred_redeem_five_in_stock(store)


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(20))
def test_a_hundred_redeem_five_in_stock_repeated(store, round_):
    hundred_redeem_five_in_stock(store, round_)


def test_one_member_racing_the_per_member_limit_never_exceeds_it(store):
    (member,) = _members_with_points(store, 1, 1000)
    goods = Goods.objects.create(name="帆布袋", points_price=100, stock=50, per_member_limit=3)
    goods.pickup_stores.set([store])

    outcomes = _race(
        THREADS,
        lambda i: goods_redeem(
            member=member, goods=goods, delivery="pickup", idempotency_key=f"limit-{i}"
        ),
    )

    won = [o for o in outcomes if isinstance(o, Redemption)]
    assert len(won) == 3
    assert {o.code for o in outcomes if not isinstance(o, Redemption)} == {"limit"}
    goods.refresh_from_db()
    assert goods.stock == 47
    assert points_balance(member_id=member.pk) == 700
    assert ledger_check() == []


def test_one_member_racing_for_more_than_the_balance_is_never_overdrawn(store):
    (member,) = _members_with_points(store, 1, 250)
    goods = Goods.objects.create(name="雨伞", points_price=100, stock=50)
    goods.pickup_stores.set([store])

    outcomes = _race(
        THREADS,
        lambda i: goods_redeem(
            member=member, goods=goods, delivery="pickup", idempotency_key=f"spend-{i}"
        ),
    )

    assert sum(isinstance(o, Redemption) for o in outcomes) == 2
    assert all(isinstance(o, (Redemption, InsufficientPoints)) for o in outcomes)
    goods.refresh_from_db()
    assert goods.stock == 48
    assert points_balance(member_id=member.pk) == 50
    assert ledger_check() == []


def test_the_same_idempotency_key_at_once_is_one_redemption_spending_once(store):
    (member,) = _members_with_points(store, 1, 1000)
    goods = Goods.objects.create(name="毛巾", points_price=100, stock=50)
    goods.pickup_stores.set([store])

    outcomes = _race(
        THREADS,
        lambda i: goods_redeem(
            member=member, goods=goods, delivery="pickup", idempotency_key="tap-twice"
        ),
    )

    assert all(isinstance(o, Redemption) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    goods.refresh_from_db()
    assert goods.stock == 49
    assert points_balance(member_id=member.pk) == 900
    assert ledger_check() == []


def test_cancel_and_pickup_at_once_one_wins_and_points_come_back_at_most_once(store):
    from core.roles import Role
    from mall.redeeming import redemption_cancel, redemption_verify
    from tests.members.factories import StaffFactory

    (member,) = _members_with_points(store, 1, 1000)
    goods = Goods.objects.create(name="台灯", points_price=100, stock=5)
    goods.pickup_stores.set([store])
    redemption = goods_redeem(member=member, goods=goods, delivery="pickup", idempotency_key="c")
    hq = StaffFactory(user__role=Role.HQ_ADMIN).user

    def work(i):
        if i % 2:
            return redemption_verify(code=redemption.code, actor=hq)
        return redemption_cancel(redemption=redemption, actor=hq, reason=f"取消 {i}")

    outcomes = _race(10, work)

    done = [o for o in outcomes if isinstance(o, Redemption)]
    assert len(done) == 1, outcomes
    assert all(isinstance(o, RedemptionError) for o in outcomes if o not in done)
    goods.refresh_from_db()
    if done[0].status == "cancelled":
        assert (goods.stock, points_balance(member_id=member.pk)) == (5, 1000)
    else:
        assert (goods.stock, points_balance(member_id=member.pk)) == (4, 900)
    assert PointsEntry.objects.filter(kind="refund").count() <= 1
    assert ledger_check() == []
