"""L5: services that lock more than one row take them in one order (docs/LOCKING.md), so
opposite-looking operations on the same member, goods and coupons queue instead of
deadlocking. Threads on real connections (transaction=True), released together by a barrier,
each session looking for deadlocks after 50 ms; every call must end in success or a clean
business error, and core.retry must never have had to retry (a retry is a deadlock that
happened). Each test loops its iterations in one database, one flush for all."""

import logging
import threading
import time
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.test import Client

from core.exceptions import ServiceError
from core.roles import Role
from coupons.issuing import coupon_issue
from coupons.models import Coupon
from loyalty.ledger import ledger_check, points_balance, points_post
from loyalty.models import PointsAccount, PointsEntry
from loyalty.services import points_adjust, sign_in
from mall.models import Goods, Redemption
from mall.redeeming import goods_redeem, goods_stock_adjust, redemption_cancel
from tests.conftest import PosClient, sale
from tests.members.factories import StaffFactory
from tests.threads import deadlock_timeout, in_threads, wait_for_a_lock_waiter

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ITERATIONS = 10  # a few seconds a test: the suite has a 15-minute budget


def together(*works):
    """Run the callables at once, each in its own thread and connection: results or errors."""
    return in_threads(*works, together=True, deadlock_ms=50)


def clean(result) -> bool:
    """A success, or a refusal a member or a till can be shown."""
    if isinstance(result, ServiceError):
        return result.code != "database_busy"
    if hasattr(result, "status_code"):  # an HTTP answer
        return result.status_code < 500
    return not isinstance(result, BaseException)


@pytest.fixture
def no_retries(caplog):
    caplog.set_level(logging.WARNING, logger="core.retry")
    yield
    assert [r.getMessage() for r in caplog.records if r.name == "core.retry"] == []


@pytest.fixture
def hq(db):
    return StaffFactory(user__role=Role.HQ_ADMIN).user


def test_a_member_redeeming_signing_in_and_buying_while_staff_adjust_and_restock(
    store, terminal, member, hq, loyalty_defaults, no_retries
):
    points_post(member_id=member.pk, kind="earn", points=100_000, key="seed")
    goods = Goods.objects.create(name="保温杯", points_price=100, stock=ITERATIONS)
    goods.pickup_stores.set([store])
    first_day = date(2026, 1, 1)

    for i in range(ITERATIONS):
        results = together(
            lambda i=i: goods_redeem(
                member=member, goods=goods, delivery="pickup", idempotency_key=f"l5-{i}"
            ),
            lambda i=i: points_adjust(
                member=member, points=-5, reason="更正", actor=hq, key=f"adjust-{i}"
            ),
            lambda: goods_stock_adjust(goods=goods, delta=1, actor=hq, reason="补货"),
            lambda i=i: sign_in(member=member, today=first_day + timedelta(days=i)),
            lambda i=i: PosClient(Client(), terminal).receipt(sale(member, receipt_no=f"L5-{i}")),
        )
        assert all(clean(r) for r in results), results
        assert isinstance(results[0], Redemption), results[0]
        assert results[4].status_code == 201

    goods.refresh_from_db()
    assert goods.stock == ITERATIONS  # each iteration took one and put one back
    assert Redemption.objects.filter(member=member).count() == ITERATIONS
    assert PointsEntry.objects.filter(kind="adjust").count() == ITERATIONS
    assert ledger_check() == []


def test_two_receipts_naming_two_coupons_in_opposite_orders(
    terminal, member, make_template, campaign, loyalty_defaults, no_retries
):
    template = make_template("STACK", stackable=True, per_member_limit=0)
    for i in range(ITERATIONS):
        a, b = (coupon_issue(template=template, member=member, campaign=campaign) for _ in "ab")

        first, second = together(
            lambda i=i, codes=[a.code, b.code]: PosClient(Client(), terminal).receipt(
                sale(member, receipt_no=f"AB-{i}", coupons=codes)
            ),
            lambda i=i, codes=[b.code, a.code]: PosClient(Client(), terminal).receipt(
                sale(member, receipt_no=f"BA-{i}", coupons=codes)
            ),
        )

        assert sorted([first.status_code, second.status_code]) == [201, 400]
        winner = first if first.status_code == 201 else second
        loser = second if winner is first else first
        assert {c["code"] for c in winner.json()["coupons"]} == {a.code, b.code}
        assert list(loser.json()["fields"]) == ["coupons.0"]
        used = Coupon.objects.filter(pk__in=[a.pk, b.pk]).values_list("used_receipt", flat=True)
        assert set(used) == {winner.json()["receipt_id"]}
    assert ledger_check() == []


def test_cancelling_a_redemption_while_the_member_redeems_again_and_staff_adjust(
    store, member, hq, make_template, loyalty_defaults, no_retries
):
    points_post(member_id=member.pk, kind="earn", points=100_000, key="seed")
    voucher = Goods.objects.create(
        name="十元券",
        kind=Goods.Kind.COUPON,
        coupon_template=make_template("MALL10", per_member_limit=0),
        points_price=100,
        stock=10 * ITERATIONS,
    )

    for i in range(ITERATIONS):
        earlier = goods_redeem(
            member=member, goods=voucher, delivery="coupon", idempotency_key=f"old-{i}"
        )
        results = together(
            lambda earlier=earlier: redemption_cancel(
                redemption=earlier, actor=hq, reason="顾客取消"
            ),
            lambda i=i: goods_redeem(
                member=member, goods=voucher, delivery="coupon", idempotency_key=f"new-{i}"
            ),
            lambda i=i: points_adjust(
                member=member, points=7, reason="补偿", actor=hq, key=f"adjust-{i}"
            ),
            lambda: goods_stock_adjust(goods=voucher, delta=1, actor=hq, reason="补货"),
        )
        assert all(clean(r) for r in results), results
        assert results[0].status == "cancelled"

    voucher.refresh_from_db()
    assert voucher.stock == 10 * ITERATIONS - ITERATIONS + ITERATIONS  # cancels gave back
    assert Coupon.objects.filter(status="voided").count() == ITERATIONS
    assert points_balance(member_id=member.pk) == 100_000 - 100 * ITERATIONS + 7 * ITERATIONS
    assert ledger_check() == []


def test_a_sign_in_never_deadlocks_against_a_spend_committing_a_row_of_the_member(
    member, loyalty_defaults, no_retries
):
    """Deterministic: a spend holds the points account and has written a row referencing the
    member (the foreign key's FOR KEY SHARE is taken at commit); the sign-in locks the member
    and waits for the account. FOR UPDATE on the member deadlocked here; NO KEY UPDATE does
    not conflict with FOR KEY SHARE, so the spend commits and the sign-in follows."""
    from loyalty.ledger import account_get_or_create
    from loyalty.models import SignIn

    account = account_get_or_create(member_id=member.pk)
    held, go = threading.Event(), threading.Event()

    def spend():
        deadlock_timeout(50)
        with transaction.atomic():
            PointsAccount.objects.select_for_update().get(pk=account.pk)
            SignIn.objects.create(member=member, day=date(2026, 1, 2), streak=1, points=0)
            held.set()
            assert go.wait(10)
        return "spent"

    def signer():
        assert held.wait(10)
        deadlock_timeout(50)
        return sign_in(member=member, today=date(2026, 1, 1))

    def watch():
        assert held.wait(10)
        wait_for_a_lock_waiter()  # the sign-in waits for the account, holding the member
        time.sleep(0.05)
        go.set()

    spent, signed, _ = in_threads(spend, signer, watch)

    assert spent == "spent"
    assert isinstance(signed, SignIn), signed
    assert points_balance(member_id=member.pk) == 1
