"""Staff on redemptions: verify a pickup code at the desk, ship, cancel, redeem at the desk."""

import pytest

from core.exceptions import PermissionDenied
from core.models import AuditLog
from core.roles import Role
from coupons.models import Coupon
from coupons.redeeming import coupon_use
from loyalty.ledger import ledger_check, points_balance
from loyalty.models import PointsEntry
from mall.models import Goods, Redemption
from mall.redeeming import (
    RedemptionError,
    goods_redeem,
    goods_stock_adjust,
    redemption_at_desk,
    redemption_cancel,
    redemption_deliver,
    redemption_ship,
    redemption_verify,
)
from mall.selectors import staff_redemptions
from members.models import Message
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


def pickup(member, goods, key="k1", **kwargs):
    return goods_redeem(
        member=member, goods=goods, delivery="pickup", idempotency_key=key, **kwargs
    )


@pytest.fixture
def desk(staff_user, store):
    return staff_user(Role.CUSTOMER_SERVICE, scope="store", store=store)


@pytest.fixture
def hq(staff_user):
    return staff_user(Role.HQ_ADMIN)


def test_the_desk_verifies_a_pickup_code_once_recording_who_and_when(rich, goods, desk):
    redemption = pickup(rich, goods)

    done = redemption_verify(
        code=f" {redemption.code.lower()[:5]}-{redemption.code[5:]} ", actor=desk
    )

    assert (done.pk, done.status, done.verified_by) == (redemption.pk, "picked_up", desk)
    assert done.verified_at is not None
    assert AuditLog.objects.filter(action="mall.redemption.verified", actor=desk).exists()
    assert list(done.events.values_list("status", flat=True)) == ["pending_pickup", "picked_up"]
    with pytest.raises(RedemptionError) as refused:
        redemption_verify(code=redemption.code, actor=desk)
    assert refused.value.code == "not_pending"


def test_a_desk_of_another_store_cannot_verify_or_see_the_redemption(rich, goods, staff_user):
    redemption = pickup(rich, goods)
    elsewhere = staff_user(Role.STORE_MANAGER, scope="store", store=StoreFactory(code="ZZ1"))

    with pytest.raises(RedemptionError) as refused:
        redemption_verify(code=redemption.code, actor=elsewhere)
    assert refused.value.code == "unknown_code"
    assert list(staff_redemptions(user=elsewhere)) == []
    redemption.refresh_from_db()
    assert redemption.status == "pending_pickup"


@pytest.mark.parametrize("code", ["", "ABC", "0000000000", "我我我我我我我我我我"])
def test_bad_or_unknown_codes_are_refused(rich, goods, desk, code):
    pickup(rich, goods)
    with pytest.raises(RedemptionError):
        redemption_verify(code=code, actor=desk)


def test_roles_without_the_permission_cannot_verify(rich, goods, staff_user):
    redemption = pickup(rich, goods)
    with pytest.raises(PermissionDenied):
        redemption_verify(code=redemption.code, actor=staff_user(Role.ANALYST))


def test_shipping_records_the_tracking_number_and_tells_the_member(rich, make_goods, hq):
    goods = make_goods(offers_pickup=False, offers_express=True)
    redemption = goods_redeem(member=rich, goods=goods, delivery="express", idempotency_key="e")

    with pytest.raises(RedemptionError):
        redemption_ship(redemption=redemption, actor=hq, carrier="顺丰", tracking_no=" ")
    shipped = redemption_ship(redemption=redemption, actor=hq, carrier="顺丰", tracking_no="SF123")

    assert (shipped.status, shipped.carrier, shipped.tracking_no) == ("shipped", "顺丰", "SF123")
    assert Message.objects.filter(member=rich, body__contains="SF123").exists()
    with pytest.raises(RedemptionError) as refused:
        redemption_ship(redemption=redemption, actor=hq, carrier="顺丰", tracking_no="SF124")
    assert refused.value.code == "not_pending"


def test_a_pickup_redemption_cannot_be_shipped(rich, goods, hq):
    with pytest.raises(RedemptionError):
        redemption_ship(redemption=pickup(rich, goods), actor=hq, carrier="顺丰", tracking_no="1")


def test_cancelling_gives_points_and_stock_back_once(rich, goods, hq):
    redemption = pickup(rich, goods, qty=3)

    cancelled = redemption_cancel(redemption=redemption, actor=hq, reason="会员不要了")

    goods.refresh_from_db()
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        "cancelled",
        hq,
        "会员不要了",
    )
    assert goods.stock == 10
    assert points_balance(member_id=rich.pk) == 1000
    refund = PointsEntry.objects.get(kind="refund")
    assert refund.points == 300
    assert refund.reverses.key == redemption.ledger_key
    with pytest.raises(RedemptionError) as refused:
        redemption_cancel(redemption=redemption, actor=hq, reason="再来一次")
    assert refused.value.code == "not_cancellable"
    assert points_balance(member_id=rich.pk) == 1000
    assert ledger_check() == []


def test_cancelling_needs_a_reason_and_refuses_a_picked_up_good(rich, goods, hq, desk):
    redemption = pickup(rich, goods)
    with pytest.raises(RedemptionError) as refused:
        redemption_cancel(redemption=redemption, actor=hq, reason="  ")
    assert refused.value.code == "reason_required"
    redemption_verify(code=redemption.code, actor=desk)
    with pytest.raises(RedemptionError) as refused:
        redemption_cancel(redemption=redemption, actor=hq, reason="晚了")
    assert refused.value.code == "not_cancellable"
    assert points_balance(member_id=rich.pk) == 900


def test_desk_staff_cannot_cancel(rich, goods, desk):
    with pytest.raises(PermissionDenied):
        redemption_cancel(redemption=pickup(rich, goods), actor=desk, reason="x")


def test_cancelling_a_coupon_good_voids_its_unused_coupons(rich, make_goods, make_template, hq):
    template = make_template("MALL7", per_member_limit=0)
    goods = make_goods(kind="coupon", coupon_template=template, offers_pickup=False)
    redemption = pickup(rich, goods, qty=2)

    redemption_cancel(redemption=redemption, actor=hq, reason="误兑")

    assert set(Coupon.objects.values_list("status", flat=True)) == {"voided"}
    assert points_balance(member_id=rich.pk) == 1000


def test_a_coupon_good_whose_coupon_was_used_cannot_be_cancelled(
    rich, make_goods, make_template, hq, store
):
    template = make_template("MALL8", per_member_limit=0)
    goods = make_goods(kind="coupon", coupon_template=template, offers_pickup=False)
    redemption = pickup(rich, goods)
    coupon = redemption.coupons.get()
    coupon_use(
        code=coupon.code, store=store, pos_no="P01", member=rich, basket_fen=100_000, lines=[]
    )

    with pytest.raises(RedemptionError) as refused:
        redemption_cancel(redemption=redemption, actor=hq, reason="误兑")
    assert refused.value.code == "coupon_used"
    assert points_balance(member_id=rich.pk) == 900


def test_a_redemption_at_the_desk_is_recorded_on_the_members_behalf(rich, goods, desk, store):
    redemption = redemption_at_desk(
        member=rich, goods=goods, actor=desk, pickup_store=store, idempotency_key="once-1"
    )

    assert (redemption.status, redemption.at_desk_by, redemption.verified_by) == (
        "picked_up",
        desk,
        desk,
    )
    assert PointsEntry.objects.get(key=redemption.ledger_key).actor == desk
    assert AuditLog.objects.filter(action="mall.redemption.at_desk").exists()
    again = redemption_at_desk(
        member=rich, goods=goods, actor=desk, pickup_store=store, idempotency_key="once-1"
    )
    assert again.pk == redemption.pk
    assert points_balance(member_id=rich.pk) == 900


def test_a_redemption_at_the_desk_of_another_store_is_refused(rich, goods, desk):
    other = StoreFactory(code="ZZ2")
    goods.pickup_stores.add(other)
    with pytest.raises(PermissionDenied):
        redemption_at_desk(
            member=rich, goods=goods, actor=desk, pickup_store=other, idempotency_key="x"
        )
    assert not Redemption.objects.exists()


def test_the_staff_list_is_scoped_and_filters_by_status(rich, goods, desk, hq, make_goods):
    here = pickup(rich, goods, key="a")
    express = goods_redeem(
        member=rich,
        goods=make_goods(offers_pickup=False, offers_express=True),
        delivery="express",
        idempotency_key="b",
    )
    assert set(staff_redemptions(user=desk)) == {here, express}  # the member's home store
    assert list(staff_redemptions(user=hq, status="pending_shipment")) == [express]
    assert list(staff_redemptions(user=hq, code=here.code.lower())) == [here]


def test_delivery_follows_shipping(rich, make_goods, hq):
    goods = make_goods(offers_pickup=False, offers_express=True)
    redemption = goods_redeem(member=rich, goods=goods, delivery="express", idempotency_key="d")
    with pytest.raises(RedemptionError) as refused:
        redemption_deliver(redemption=redemption, actor=hq)
    assert refused.value.code == "not_shipped"
    redemption_ship(redemption=redemption, actor=hq, carrier="EMS", tracking_no="E1")
    assert redemption_deliver(redemption=redemption, actor=hq).status == "delivered"
    with pytest.raises(RedemptionError):
        redemption_cancel(redemption=redemption, actor=hq, reason="太晚")


def test_stock_moves_relative_to_what_is_there_and_never_below_zero(goods, staff_user, desk):
    marketing = staff_user(Role.MARKETING)
    Goods.objects.filter(pk=goods.pk).update(stock=3)  # redeemed while the form was open

    assert goods_stock_adjust(goods=goods, delta=5, actor=marketing, reason="补货").stock == 8
    with pytest.raises(RedemptionError) as refused:
        goods_stock_adjust(goods=goods, delta=-9, actor=marketing)
    assert refused.value.code == "below_zero"
    for bad in (0, 1.5, "2", True):
        with pytest.raises(RedemptionError):
            goods_stock_adjust(goods=goods, delta=bad, actor=marketing)
    with pytest.raises(PermissionDenied):
        goods_stock_adjust(goods=goods, delta=1, actor=desk)
    goods.refresh_from_db()
    assert goods.stock == 8
    assert AuditLog.objects.filter(action="mall.goods.stock_adjusted").count() == 1
