"""Points for many recorded receipts at once, by the POS API's rules and keys."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from loyalty.bulk_earning import receipts_earn
from loyalty.ledger import ledger_check, points_balance
from loyalty.models import (
    EarnRule,
    PointsAccount,
    PointsEntry,
    PointsPromotion,
    Receipt,
    Tier,
    TierChange,
)
from loyalty.receipts import LineIn, ReceiptIn, receipt_record
from loyalty.tiers import tiers_review
from members.models import Message
from stores.models import Category
from tests.conftest import sale

BASKET = [
    # name, category, amount (fen), non-merchandise
    ("连衣裙", "女装", 29_900, False),
    ("酸奶", "乳品", 1_250, False),
    ("面包", "乳品", 990, False),
    ("购物袋", "", 50, True),
]


def _record(store, member, receipt_no, basket=BASKET, refund_of=None, *, ago=timedelta(hours=1)):
    lines = [
        LineIn(name=name, qty=Decimal(1), amount_fen=fen, category=category, non_merchandise=nm)
        for name, category, fen, nm in basket
    ]
    receipt, _created = receipt_record(
        data=ReceiptIn(
            store=store,
            pos_no="P03",
            receipt_no=receipt_no,
            occurred_at=timezone.now() - ago,
            member=member,
            lines=lines,
            total_fen=sum(line.amount_fen for line in lines),
            refund_of=refund_of,
        ),
        earn_points=False,
    )
    return receipt


def _body(member, receipt_no, basket=BASKET):
    body = sale(member, receipt_no=receipt_no)
    body["lines"] = [
        {"name": name, "category": category, "qty": 1, "amount_fen": fen, "non_merchandise": nm}
        for name, category, fen, nm in basket
    ]
    body["total_fen"] = sum(fen for _n, _c, fen, _nm in basket)
    body["payments"] = [{"method": "wechat", "amount_fen": body["total_fen"]}]
    return body


def _earned(receipt) -> int:
    return sum(PointsEntry.objects.filter(receipt=receipt).values_list("points", flat=True))


def test_a_receipt_earns_what_the_api_gives_for_the_same_basket(pos, store, member):
    Category.objects.create(code="DP01", name="女装", division="department")
    food = Category.objects.create(code="SM", name="食品", division="supermarket")
    Category.objects.create(code="SM01", name="乳品", division="supermarket", parent=food)
    EarnRule.objects.create(category=food, points=3, per_fen=200)  # the parent's rule
    PointsAccount.objects.create(member=member, tier=Tier.objects.get(code="silver"))
    today = timezone.localdate(timezone.now() - timedelta(hours=1))
    PointsPromotion.objects.create(
        name="会员日", starts_on=today, ends_on=today, store=store, multiplier_percent=200
    )
    through_api = pos.receipt(_body(member, "API-1")).json()["points_earned"]
    imported = _record(store, member, "BULK-1")

    result = receipts_earn(receipt_ids=[imported.pk])

    # 女装 299 yuan ×1; 乳品 22.40 yuan × 3/2; × 1.2 (silver) × 2 (member day), rounded per rule
    assert through_api == 299 * 240 // 100 + 2240 * 3 * 240 // (200 * 100)
    assert _earned(imported) == through_api
    assert (result.receipts, result.entries, result.points) == (1, 1, through_api)
    entry = PointsEntry.objects.get(receipt=imported)
    assert entry.key == f"earn:receipt:{imported.pk}"
    assert entry.memo == "S01/P03/BULK-1"
    assert ledger_check() == []


def test_a_receipt_earned_through_the_api_is_not_counted_again(pos, member):
    answer = pos.receipt(_body(member, "API-1")).json()

    result = receipts_earn(receipt_ids=[answer["receipt_id"]])

    assert (result.entries, result.points) == (0, 0)
    assert PointsEntry.objects.filter(kind="earn").count() == 1
    assert points_balance(member_id=member.pk) == answer["points_balance"]


def test_refunds_take_back_in_proportion_in_time_order_as_the_api_does(pos, store, member):
    basket = [("大衣", "", 100_000, False)]
    original = _record(store, member, "S-1", basket, ago=timedelta(hours=5))
    later = _record(store, member, "RF-2", [("大衣", "", 66_667, False)], "S-1")
    two_hours = timedelta(hours=2)
    earlier = _record(store, member, "RF-1", [("大衣", "", 33_333, False)], "S-1", ago=two_hours)

    receipts_earn(receipt_ids=[later.pk, original.pk, earlier.pk])

    # 333.33 rounds down for the first refund in time; the last takes the rest
    assert (_earned(original), _earned(earlier), _earned(later)) == (1000, -333, -667)
    reversal = PointsEntry.objects.get(receipt=earlier)
    assert reversal.reverses == PointsEntry.objects.get(receipt=original)
    assert points_balance(member_id=member.pk) == 0
    assert ledger_check() == []


def test_a_refund_of_a_sale_earned_through_the_api_reverses_that_entry(pos, store, member):
    pos.receipt(_body(member, "S-1", [("大衣", "", 10_000, False)]))
    refund = _record(store, None, "RF-1", [("大衣", "", 2_500, False)], "S-1")

    receipts_earn(receipt_ids=[refund.pk])

    assert refund.member == member
    entry = PointsEntry.objects.get(receipt=refund)
    assert (entry.points, entry.reverses.key) == (-25, f"earn:receipt:{refund.refund_of_id}")
    assert points_balance(member_id=member.pk) == 75


def test_loading_history_dates_entries_at_their_receipts_and_reviews_tiers_quietly(
    store, member, member_factory
):
    small = member_factory()
    big_basket = [("钻戒", "", 600_000, False)]
    receipts = [
        _record(store, member, "H-1", big_basket, ago=timedelta(days=40)),
        _record(store, small, "H-2", [("袜子", "", 1_000, False)], ago=timedelta(days=3)),
    ]

    receipts_earn(receipt_ids=[r.pk for r in receipts], history=True, as_of=timezone.now())

    entry = PointsEntry.objects.get(receipt=receipts[0])
    assert entry.created_at == receipts[0].occurred_at
    tiers = dict(PointsAccount.objects.values_list("member_id", "tier__code"))
    assert tiers == {member.pk: "silver", small.pk: "regular"}
    assert TierChange.objects.get().account.member == member
    assert not Message.objects.exists()
    assert tiers_review(notify=False) == {"reviewed": 2, "up": 0, "down": 0}


def test_live_earning_raises_tiers_at_once_with_a_message_but_never_lowers(
    store, member, member_factory
):
    gold_member = member_factory()
    PointsAccount.objects.create(member=gold_member, tier=Tier.objects.get(code="gold"))
    receipts = [
        _record(store, member, "L-1", [("钻戒", "", 600_000, False)]),
        _record(store, gold_member, "L-2", [("袜子", "", 1_000, False)]),
    ]

    result = receipts_earn(receipt_ids=[r.pk for r in receipts])

    assert result.tier_changes == 1
    tiers = dict(PointsAccount.objects.values_list("member_id", "tier__code"))
    assert tiers == {member.pk: "silver", gold_member.pk: "gold"}
    assert list(Message.objects.values_list("member_id", "kind")) == [(member.pk, "tier")]
    assert Receipt.objects.count() == 2
