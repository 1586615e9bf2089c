"""The tier check without the history: a receipt that cannot reach the next tier skips the
12-month sum (loyalty.tiers.tier_after_sale); the bounds the triggers keep stay upper
bounds whatever path adds receipts."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from loyalty.models import PointsAccount, Receipt
from loyalty.tiers import tier_value, tiers_review
from tests.conftest import sale


def _account(member):
    return PointsAccount.objects.select_related("tier").get(member=member)


def test_a_known_bound_below_the_next_tier_skips_the_sum_and_keeps_the_tier(pos, member):
    pos.receipt(sale(member, receipt_no="A", amount_fen=100_000))
    account = _account(member)
    assert (account.tier.code, account.tier_spend_bound) == ("regular", 100_000)

    response = pos.receipt(sale(member, receipt_no="B", amount_fen=50_000))

    assert response.json()["tier"] == "普卡"
    assert _account(member).tier_spend_bound == 150_000  # the trigger added the sale


def test_a_sale_that_reaches_the_next_tier_through_the_bound_upgrades(pos, member):
    pos.receipt(sale(member, receipt_no="A", amount_fen=300_000))
    response = pos.receipt(sale(member, receipt_no="B", amount_fen=200_000))
    assert response.json()["tier"] == "银卡"
    assert _account(member).tier.code == "silver"


def test_receipts_written_around_the_service_raise_the_bound(pos, member, store):
    """An import (here a bare INSERT) adds to the bound, so the next till receipt cannot skip
    an upgrade the imported spend made due."""
    pos.receipt(sale(member, receipt_no="A", amount_fen=100_000))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO loyalty_receipt (store_id, pos_no, receipt_no, occurred_at, member_id,"
            " kind, division, total_fen, created_at, payload_hash)"
            " VALUES (%s, 'IMP', 'I-1', now(), %s, 'sale', 'department', 450000, now(), '')",
            [store.pk, member.pk],
        )
    assert _account(member).tier_spend_bound == 550_000

    response = pos.receipt(sale(member, receipt_no="B", amount_fen=100))

    assert response.json()["tier"] == "银卡"


def test_moving_a_receipt_to_a_member_forgets_the_bound(pos, member, member_factory, store):
    other = member_factory(home_store=store)
    pos.receipt(sale(member, receipt_no="A", amount_fen=100_000))
    pos.receipt(sale(None, receipt_no="N", amount_fen=450_000))
    assert _account(member).tier_spend_bound == 100_000

    Receipt.objects.filter(receipt_no="N").update(member=member)

    assert _account(member).tier_spend_bound is None
    assert pos.receipt(sale(member, receipt_no="B", amount_fen=100)).json()["tier"] == "银卡"
    assert other.pk != member.pk


def test_the_review_computes_bounds_that_hold(pos, member):
    pos.receipt(sale(member, receipt_no="A", amount_fen=300_000))
    Receipt.objects.filter(receipt_no="A").update(occurred_at=timezone.now() - timedelta(days=400))
    assert _account(member).tier_spend_bound is None

    tiers_review()

    account = _account(member)
    assert account.tier_spend_bound == 0  # the old sale left the window
    assert account.tier_spend_bound >= tier_value(member_id=member.pk)
    assert account.tier_growth_bound == 0
