"""Tiers: upgrade at once on a receipt, downgrade only at the review, a message each time."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from loyalty.models import LoyaltySettings, PointsAccount, Tier, TierChange
from loyalty.tiers import (
    tier_entry,
    tier_of,
    tier_progress,
    tier_value,
    tiers_review,
    values_by_member,
)
from members.models import Message
from tests.conftest import sale


def _tier(member):
    return PointsAccount.objects.select_related("tier").get(member=member).tier.code


def test_a_receipt_crossing_a_threshold_upgrades_at_once_with_a_message(pos, member):
    pos.receipt(sale(member, receipt_no="A", amount_fen=400_000))
    assert _tier(member) == "regular"
    assert not Message.objects.filter(kind="tier").exists()

    response = pos.receipt(sale(member, receipt_no="B", amount_fen=100_000))

    assert _tier(member) == "silver"
    assert response.json()["tier"] == "银卡"
    message = Message.objects.get(member=member, kind="tier")
    assert "银卡" in message.title
    change = TierChange.objects.get()
    assert (change.from_tier.code, change.to_tier.code, change.reason) == (
        "regular",
        "silver",
        "upgrade",
    )


def test_a_big_purchase_can_skip_tiers(pos, member):
    pos.receipt(sale(member, amount_fen=2_500_000))
    assert _tier(member) == "gold"


def test_a_refund_does_not_downgrade_until_the_review(pos, member):
    pos.receipt(sale(member, receipt_no="A", amount_fen=600_000))
    pos.receipt(sale(member, receipt_no="R", amount_fen=300_000, refund_of="A"))
    assert _tier(member) == "silver"

    result = tiers_review()

    assert result["down"] == 1
    assert _tier(member) == "regular"
    assert Message.objects.filter(member=member, kind="tier").count() == 2
    assert tiers_review()["down"] == 0  # idempotent


def test_spend_older_than_twelve_months_no_longer_counts_at_the_review(pos, member):
    pos.receipt(sale(member, receipt_no="A", amount_fen=600_000))
    assert _tier(member) == "silver"

    with time_machine.travel(timezone.now() + timedelta(days=366)):
        tiers_review()

    assert _tier(member) == "regular"


def test_the_review_also_upgrades_and_gives_the_entry_tier_silently(member, member_factory):
    from loyalty.ledger import points_post

    quiet = member_factory()
    points_post(member_id=quiet.pk, kind="adjust", points=5, key="x")
    tiers_review()
    assert _tier(quiet) == "regular"
    assert not Message.objects.filter(member=quiet).exists()


def test_progress_shows_the_exact_gap_to_the_next_tier(pos, member):
    pos.receipt(sale(member, amount_fen=123_456))

    progress = tier_progress(member=member)

    assert progress.tier.code == "regular"
    assert progress.next_tier.code == "silver"
    assert progress.value == 123_456
    assert progress.gap == 500_000 - 123_456
    assert progress.percent == 24


def test_the_top_tier_has_no_gap(pos, member):
    pos.receipt(sale(member, amount_fen=6_000_000))
    progress = tier_progress(member=member)
    assert (progress.tier.code, progress.next_tier, progress.gap, progress.percent) == (
        "diamond",
        None,
        0,
        100,
    )


def test_growth_value_basis_counts_points_earned_by_purchases(pos, member):
    policy = LoyaltySettings.current()
    policy.tier_basis = LoyaltySettings.TierBasis.GROWTH
    policy.save()
    Tier.objects.filter(code="silver").update(threshold=1000)

    pos.receipt(sale(member, receipt_no="A", amount_fen=99_900))  # 999 points
    assert _tier(member) == "regular"
    pos.receipt(sale(member, receipt_no="B", amount_fen=100))  # 1 more
    assert _tier(member) == "silver"


def test_tier_messages_are_in_chinese_whatever_language_is_active(pos, member):
    from django.utils import translation

    pos.receipt(sale(member, receipt_no="A", amount_fen=500_000))
    Tier.objects.filter(code="silver").update(threshold=10_000_000)  # the review moves down
    with translation.override("en"):  # as a task or a command may run
        tiers_review()
    message = Message.objects.filter(member=member, kind="tier").latest("pk")
    assert message.title == "您的会员等级调整为普卡"


def test_the_card_page_and_the_review_read_one_12_month_value(pos, member, member_factory):
    pos.receipt(sale(member, receipt_no="A", amount_fen=600_000))
    pos.receipt(sale(member, receipt_no="R", amount_fen=250_000, refund_of="A"))
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        pos.receipt(sale(member, receipt_no="OLD", amount_fen=900_000))
    newcomer = member_factory()

    values = values_by_member(timezone.now())

    assert values[member.pk] == tier_value(member_id=member.pk) == 350_000
    assert tier_progress(member=member).value == 350_000
    assert newcomer.pk not in values and tier_value(member_id=newcomer.pk) == 0
    assert isinstance(values[member.pk], int)


def test_a_member_without_a_tier_stands_in_the_entry_tier(member_factory):
    newcomer = member_factory()
    assert tier_entry().code == "regular"
    assert tier_of(None) == tier_of(PointsAccount(member=newcomer)) == tier_entry()
    assert tier_progress(member=newcomer).tier == tier_entry()
