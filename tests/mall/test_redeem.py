"""goods_redeem: one transaction of stock, points, redemption, coupons and a message."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.roles import Role
from coupons.models import Coupon
from loyalty.ledger import InsufficientPoints, ledger_check, points_balance
from loyalty.models import PointsEntry
from mall import redeeming
from mall.models import Goods, Redemption, RedemptionEvent
from mall.redeeming import RedemptionError, goods_redeem
from mall.selectors import goods_on_shelf, member_redemptions
from members.models import Message
from tests.mall.conftest import give_points
from tests.members.factories import AddressFactory, MemberFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


def redeem(member, goods, **kwargs):
    kwargs.setdefault("delivery", "pickup")
    kwargs.setdefault("idempotency_key", "k1")
    return goods_redeem(member=member, goods=goods, **kwargs)


def unchanged(member, goods, *, balance=1000, stock=10):
    goods.refresh_from_db()
    assert points_balance(member_id=member.pk) == balance
    assert goods.stock == stock
    assert not Redemption.objects.filter(member=member).exists()
    assert not PointsEntry.objects.filter(kind="redeem").exists()
    assert not Message.objects.filter(member=member, kind="redemption").exists()


def test_a_pickup_redemption_spends_takes_stock_records_and_messages_the_code(rich, goods, store):
    redemption = redeem(rich, goods, qty=2)

    goods.refresh_from_db()
    assert goods.stock == 8
    assert points_balance(member_id=rich.pk) == 800
    assert (redemption.status, redemption.points, redemption.pickup_store) == (
        "pending_pickup",
        200,
        store,
    )
    assert len(redemption.code) == 10
    entry = PointsEntry.objects.get(key=redemption.ledger_key)
    assert (entry.kind, entry.points) == ("redeem", -200)
    message = Message.objects.get(member=rich, kind="redemption")
    assert redemption.code in message.body and store.name in message.body
    assert list(RedemptionEvent.objects.values_list("status", flat=True)) == ["pending_pickup"]
    assert list(member_redemptions(member=rich)) == [redemption]
    assert ledger_check() == []


def test_pickup_codes_are_unique_and_unguessable(rich, goods):
    codes = {redeem(rich, goods, idempotency_key=f"k{i}").code for i in range(5)}
    assert len(codes) == 5
    assert all(set(c) <= set(redeeming.CODE_ALPHABET) for c in codes)


def test_a_retry_with_the_same_key_returns_the_first_redemption_and_spends_once(
    rich, goods, make_goods
):
    first = redeem(rich, goods)
    again = redeem(rich, goods)

    assert again.pk == first.pk
    for changed in ({"qty": 3}, {"goods": make_goods(name="雨伞")}):
        with pytest.raises(RedemptionError) as refused:
            redeem(rich, **({"goods": goods} | changed))
        assert refused.value.code == "key_reused"
    assert points_balance(member_id=rich.pk) == 900
    assert Redemption.objects.count() == 1
    assert PointsEntry.objects.filter(kind="redeem").count() == 1


def test_the_same_key_of_another_member_is_another_redemption(rich, goods, store):
    other = MemberFactory(home_store=store)
    give_points(other, 500)
    redeem(rich, goods)
    redeem(other, goods)
    assert Redemption.objects.count() == 2


def test_not_enough_points_changes_nothing(store, goods):
    poor = MemberFactory(home_store=store)
    give_points(poor, 99)
    with pytest.raises(InsufficientPoints):
        redeem(poor, goods)
    unchanged(poor, goods, balance=99)


def test_out_of_stock_changes_nothing(rich, make_goods):
    goods = make_goods(stock=1)
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, goods, qty=2)
    assert refused.value.code == "out_of_stock"
    unchanged(rich, goods, stock=1)


def test_the_per_member_limit_counts_earlier_redemptions_but_not_cancelled_ones(rich, make_goods):
    goods = make_goods(per_member_limit=2)
    redeem(rich, goods, idempotency_key="a")
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, goods, qty=2, idempotency_key="b")
    assert refused.value.code == "limit"
    assert "2" in str(refused.value.message)
    second = redeem(rich, goods, idempotency_key="c")
    Redemption.objects.filter(pk=second.pk).update(status="cancelled")
    redeem(rich, goods, idempotency_key="d")
    assert points_balance(member_id=rich.pk) == 700


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"is_active": False}, "inactive"),
        ({"shelf_from": timezone.now() + timedelta(hours=1)}, "not_yet"),
        ({"shelf_until": timezone.now() - timedelta(seconds=1)}, "off_shelf"),
    ],
)
def test_goods_off_the_shelf_are_refused(rich, make_goods, fields, code):
    goods = make_goods(**fields)
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, goods)
    assert refused.value.code == code
    unchanged(rich, goods)
    assert goods not in goods_on_shelf()


def test_goods_on_the_shelf_are_listed_by_category(make_goods):
    on = make_goods(shelf_from=timezone.now() - timedelta(days=1))
    make_goods(is_active=False)
    assert list(goods_on_shelf()) == [on]


@pytest.mark.parametrize("qty", [0, -1, 100, "2", True])
def test_a_bad_quantity_is_refused(rich, goods, qty):
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, goods, qty=qty)
    assert refused.value.code == "qty"
    unchanged(rich, goods)


def test_an_unknown_delivery_is_refused(rich, goods):
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, goods, delivery="drone")
    assert refused.value.code == "delivery"
    unchanged(rich, goods)


def test_an_empty_idempotency_key_is_a_programming_error(rich, goods):
    with pytest.raises(ValueError):
        redeem(rich, goods, idempotency_key=" ")


def test_pickup_at_a_store_the_good_is_not_offered_at_is_refused(rich, goods):
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, goods, pickup_store=StoreFactory(code="ZZ9"))
    assert refused.value.code == "store"
    unchanged(rich, goods)


def test_without_a_pickup_store_and_several_on_offer_the_home_store_or_a_choice(rich, make_goods):
    other = StoreFactory(code="ZZ8")
    goods = make_goods(stores=[rich.home_store, other])
    assert redeem(rich, goods).pickup_store == rich.home_store
    outsider = MemberFactory(home_store=StoreFactory(code="ZZ7"))
    give_points(outsider, 500)
    with pytest.raises(RedemptionError) as refused:
        redeem(outsider, goods)
    assert refused.value.code == "store_required"


def test_goods_sent_only_by_express_refuse_pickup_and_the_other_way(rich, make_goods):
    express_only = make_goods(offers_pickup=False, offers_express=True)
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, express_only)
    assert refused.value.code == "no_pickup"
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, make_goods(), delivery="express")
    assert refused.value.code == "no_express"


def test_express_snapshots_the_default_address_and_waits_for_shipment(rich, make_goods):
    goods = make_goods(offers_pickup=False, offers_express=True)
    redemption = redeem(rich, goods, delivery="express")

    address = rich.addresses.get()
    assert redemption.status == "pending_shipment"
    assert redemption.pickup_store is None
    assert redemption.address == {
        "recipient": address.recipient,
        "phone": address.phone,
        "region": address.region,
        "detail": address.detail,
    }
    address.delete()
    redemption.refresh_from_db()
    assert redemption.address["detail"]  # the snapshot outlives the address


def test_express_without_an_address_names_what_is_missing_and_changes_nothing(store, make_goods):
    goods = make_goods(offers_express=True)
    member = MemberFactory(home_store=store, name="")
    give_points(member, 1000)
    with pytest.raises(RedemptionError) as refused:
        redeem(member, goods, delivery="express")
    assert refused.value.code == "profile_incomplete"
    message = str(refused.value.message)
    assert "Name" in message or "姓名" in message
    assert "ddress" in message or "地址" in message
    unchanged(member, goods)


def test_express_to_another_members_address_is_refused(rich, make_goods):
    goods = make_goods(offers_express=True)
    theirs = AddressFactory()
    with pytest.raises(RedemptionError) as refused:
        redeem(rich, goods, delivery="express", address=theirs)
    assert refused.value.code == "address"


def test_a_coupon_good_issues_its_coupons_through_the_points_mall_campaign(
    rich, make_goods, make_template
):
    template = make_template("MALL5", face_value_fen=500, per_member_limit=0)
    goods = make_goods(kind="coupon", coupon_template=template, offers_pickup=False)
    redemption = redeem(rich, goods, qty=2, delivery="pickup")

    assert (redemption.status, redemption.delivery) == ("issued", "coupon")
    coupons = list(redemption.coupons.all())
    assert len(coupons) == 2
    assert {c.member_id for c in coupons} == {rich.pk}
    assert {c.campaign.channel for c in coupons} == {"points_mall"}
    assert points_balance(member_id=rich.pk) == 800


def test_a_coupon_that_cannot_be_issued_undoes_the_whole_redemption(
    rich, make_goods, make_template
):
    template = make_template("MALL6", total_quantity=1, per_member_limit=0)
    goods = make_goods(kind="coupon", coupon_template=template, offers_pickup=False)
    with pytest.raises(Exception) as refused:
        redeem(rich, goods, qty=2)
    assert getattr(refused.value, "code", "") == "not_issued"
    unchanged(rich, goods)
    assert not Coupon.objects.exists()


def test_a_failure_after_the_points_debit_leaves_nothing_behind(rich, goods, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("the message queue is down")

    monkeypatch.setattr(redeeming, "messages_send", crash)
    with pytest.raises(RuntimeError):
        redeem(rich, goods)
    unchanged(rich, goods)
    assert ledger_check() == []


def test_the_database_refuses_negative_stock(goods):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Goods.objects.filter(pk=goods.pk).update(stock=-1)


def test_roles_desk_staff_verify_marketing_edits(staff_user):
    manager = staff_user(Role.STORE_MANAGER)
    service = staff_user(Role.CUSTOMER_SERVICE)
    marketing = staff_user(Role.MARKETING)
    analyst = staff_user(Role.ANALYST)
    for user in (manager, service):
        assert user.has_perm("mall.verify_redemption")
        assert not user.has_perm("mall.change_goods")
    assert marketing.has_perm("mall.change_goods")
    assert not analyst.has_perm("mall.verify_redemption")


def test_the_data_download_holds_the_redemptions_and_deletion_erases_their_addresses(
    rich, make_goods
):
    from members.signals import member_data_erasers, member_data_exporters

    goods = make_goods(offers_express=True)
    redemption = redeem(rich, goods, delivery="express")

    exported = member_data_exporters()["redemptions"](rich)
    assert [(r["code"], r["address"]["detail"]) for r in exported] == [
        (redemption.code, rich.addresses.get().detail)
    ]
    for erase in member_data_erasers():
        erase(member_id=rich.pk)
    redemption.refresh_from_db()
    assert redemption.address == {}
    assert Redemption.objects.filter(pk=redemption.pk).exists()


def test_redeem_refusal_tells_a_page_why_before_the_member_taps(rich, make_goods, store):
    from mall.redeeming import redeem_refusal

    assert redeem_refusal(member=rich, goods=make_goods()) is None
    assert redeem_refusal(member=rich, goods=make_goods(stock=0)).code == "out_of_stock"
    assert redeem_refusal(member=rich, goods=make_goods(points_price=1001)).code == (
        "insufficient_points"
    )
    assert redeem_refusal(member=rich, goods=make_goods(is_active=False)).code == "inactive"
    limited = make_goods(per_member_limit=1)
    redeem(rich, limited)
    assert redeem_refusal(member=rich, goods=limited).code == "limit"
    assert points_balance(member_id=rich.pk) == 900  # asking spends nothing


def test_now_dates_the_redemption_its_event_and_its_points_for_the_demo_history(rich, goods):
    earlier = timezone.now() - timedelta(hours=5)

    redemption = redeem(rich, goods, now=earlier)

    assert redemption.created_at == earlier
    assert redemption.events.get().created_at == earlier
    assert PointsEntry.objects.get(key=redemption.ledger_key).created_at == earlier
    assert ledger_check() == []
