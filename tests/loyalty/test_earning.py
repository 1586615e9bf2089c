"""Earning rules: per store and category, tier and promotion multipliers, what was paid."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.earning import Line, Rule, paid_shares, points_earned, rule_for
from loyalty.models import EarnRule, PointsAccount, PointsPromotion, Tier
from stores.models import Category
from tests.conftest import sale

ALL = Rule(1, None, "", None, 1, 100)
SUPER = Rule(2, None, "supermarket", None, 1, 200)
FOOD = Rule(3, None, "supermarket", 30, 1, 300)
FRESH = Rule(4, None, "supermarket", 31, 2, 100)
STORE_SUPER = Rule(5, 7, "supermarket", None, 3, 200)


@pytest.mark.parametrize(
    "line, store, expected",
    [
        (Line("department", None, None, 100), 1, ALL),
        (Line("supermarket", None, None, 100), 1, SUPER),
        (Line("supermarket", 99, 30, 100), 1, FOOD),  # parent category's rule
        (Line("supermarket", 31, 30, 100), 1, FRESH),  # own category beats parent
        (Line("supermarket", None, None, 100), 7, STORE_SUPER),  # store's own rule
        (Line("supermarket", 31, 30, 100), 7, FRESH),  # category beats store
    ],
)
def test_the_most_specific_rule_wins(line, store, expected):
    rules = [ALL, SUPER, FOOD, FRESH, STORE_SUPER]
    assert rule_for(line, store_id=store, rules=rules) == expected


def test_no_rule_no_points():
    assert rule_for(Line("department", None, None, 1), store_id=1, rules=[SUPER]) is None


@pytest.mark.parametrize(
    "amounts, paid, shares",
    [([100, 100], 150, [75, 75]), ([1, 1, 1], 2, [1, 1, 0]), ([0, 0], 0, [0, 0])],
)
def test_paid_shares_add_up_exactly(amounts, paid, shares):
    assert paid_shares(amounts, paid) == shares
    assert sum(paid_shares(amounts, paid)) == paid


def test_small_lines_add_up_before_rounding_and_non_merchandise_earns_nothing():
    lines = [Line("supermarket", None, None, 150)] * 4 + [
        Line("supermarket", None, None, 5000, non_merchandise=True)
    ]
    # 4 × 1.5 yuan = 6 yuan at 1 point / 2 yuan = 3 points (per line it would be 0)
    assert (
        points_earned(lines=lines, paid_fen=5600, store_id=1, rules=[SUPER], multiplier_percent=100)
        == 3
    )


def test_earning_counts_what_was_paid_not_coupons(pos, member):
    body = sale(member, amount_fen=10_000)
    body["payments"] = [
        {"method": "wechat", "amount_fen": 8_000},
        {"method": "coupon", "amount_fen": 2_000},
    ]
    assert pos.receipt(body).json()["points_earned"] == 80


def test_supermarket_and_department_store_earn_differently(pos, member):
    Category.objects.create(code="F01", name="食品", division="supermarket")
    body = sale(member, receipt_no="SM-1", amount_fen=10_000)
    body["lines"][0]["category"] = "食品"

    assert pos.receipt(body).json()["points_earned"] == 50  # 1 point / 2 yuan
    assert (
        pos.receipt(sale(member, receipt_no="DS-1", amount_fen=10_000)).json()["points_earned"]
        == 100
    )


def test_a_store_rule_edited_in_the_admin_applies_to_that_store_only(pos, member, store):
    EarnRule.objects.create(store=store, division="department", points=3, per_fen=100)
    assert pos.receipt(sale(member, amount_fen=10_000)).json()["points_earned"] == 300


def test_the_tier_multiplier_applies(pos, member):
    gold = Tier.objects.get(code="gold")
    PointsAccount.objects.create(member=member, tier=gold)
    assert pos.receipt(sale(member, amount_fen=10_000)).json()["points_earned"] == 150


def test_member_day_doubles_points_on_its_weekday_only(pos, member):
    today = timezone.localdate()
    PointsPromotion.objects.create(
        name="会员日",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=30),
        weekdays=str((today - timedelta(hours=1)).isoweekday()),
        multiplier_percent=200,
    )
    now = timezone.localtime()
    today_body = sale(member, receipt_no="D-1", amount_fen=10_000, occurred_at=now.isoformat())
    other_day = (now - timedelta(days=1)).isoformat()
    yesterday = sale(member, receipt_no="D-2", amount_fen=10_000, occurred_at=other_day)

    assert pos.receipt(today_body).json()["points_earned"] == 200
    assert pos.receipt(yesterday).json()["points_earned"] == 100


def test_promotions_do_not_stack_the_highest_wins(pos, member):
    today = timezone.localdate()
    for percent in (200, 300):
        PointsPromotion.objects.create(
            name=f"x{percent}",
            starts_on=today - timedelta(days=3),
            ends_on=today + timedelta(days=3),
            multiplier_percent=percent,
        )
    assert pos.receipt(sale(member, amount_fen=10_000)).json()["points_earned"] == 300
