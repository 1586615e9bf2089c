"""Refunds take back the points their sale earned, in proportion, never more."""

import pytest

from loyalty.earning import points_reversed
from loyalty.ledger import ledger_check, points_balance, points_spend
from loyalty.models import PointsEntry, Receipt
from tests.conftest import sale


def _refund(member, receipt_no, refund_of, amount_fen):
    return sale(member, receipt_no=receipt_no, amount_fen=amount_fen, refund_of=refund_of)


def test_partial_refunds_reverse_in_proportion_and_never_more_than_earned(pos, member):
    pos.receipt(sale(member, receipt_no="S-1", amount_fen=100_000))  # 1000 yuan → 1000 points

    first = pos.receipt(_refund(member, "RF-1", "S-1", 40_000))
    too_much = pos.receipt(_refund(member, "RF-2", "S-1", 70_000))
    rest = pos.receipt(_refund(member, "RF-3", "S-1", 60_000))

    assert first.status_code == 201
    assert first.json()["points_earned"] == -400
    assert too_much.status_code == 400
    assert "total_fen" in too_much.json()["fields"]
    assert rest.json()["points_earned"] == -600
    assert points_balance(member_id=member.pk) == 0
    refund = Receipt.objects.get(receipt_no="RF-1")
    assert (refund.kind, refund.refund_of.receipt_no, refund.member) == ("refund", "S-1", member)
    assert not Receipt.objects.filter(receipt_no="RF-2").exists()
    assert ledger_check() == []


def test_a_refund_without_a_member_reference_still_reverses_the_members_points(pos, member):
    pos.receipt(sale(member, receipt_no="S-1", amount_fen=10_000))

    response = pos.receipt(_refund(None, "RF-1", "S-1", 10_000))

    assert response.json()["card_no"] == member.card_no
    assert points_balance(member_id=member.pk) == 0


def test_a_refund_naming_another_member_is_refused(pos, member, member_factory):
    pos.receipt(sale(member, receipt_no="S-1"))

    response = pos.receipt(_refund(member_factory(), "RF-1", "S-1", 100))

    assert response.status_code == 400
    assert "member" in response.json()["fields"]


def test_a_refund_after_the_points_were_spent_takes_the_balance_to_zero_not_below(pos, member):
    pos.receipt(sale(member, receipt_no="S-1", amount_fen=50_000))  # 500 points
    points_spend(member_id=member.pk, points=450, kind="redeem", key="gift")

    response = pos.receipt(_refund(member, "RF-1", "S-1", 50_000))

    assert response.status_code == 201
    assert response.json()["points_earned"] == -50
    assert points_balance(member_id=member.pk) == 0
    assert ledger_check() == []


def test_the_same_refund_twice_reverses_once(pos, member):
    pos.receipt(sale(member, receipt_no="S-1", amount_fen=10_000))
    pos.receipt(_refund(member, "RF-1", "S-1", 5_000))
    again = pos.receipt(_refund(member, "RF-1", "S-1", 5_000))

    assert again.status_code == 200
    assert PointsEntry.objects.filter(kind="refund").count() == 1
    assert points_balance(member_id=member.pk) == 50


def test_a_refund_of_an_anonymous_sale_is_recorded_without_points(pos):
    pos.receipt(sale(None, receipt_no="S-1"))
    response = pos.receipt(_refund(None, "RF-1", "S-1", 100))
    assert response.status_code == 201
    assert not PointsEntry.objects.exists()


@pytest.mark.parametrize(
    "earned, total, before, refund, reversed_before, expected",
    [
        (1000, 100_000, 0, 40_000, 0, 400),
        (1000, 100_000, 40_000, 60_000, 400, 600),  # the last refund takes exactly the rest
        (7, 300, 0, 100, 0, 2),  # 2.33 rounds down
        (7, 300, 100, 100, 2, 2),  # cumulative 4.67 → 4
        (7, 300, 200, 100, 4, 3),  # and the rest
        (0, 100, 0, 100, 0, 0),
        (10, 100, 0, 200, 0, 10),  # more than the sale: capped at what was earned
    ],
)
def test_points_reversed_rounds_down_and_never_exceeds_the_earn(
    earned, total, before, refund, reversed_before, expected
):
    got = points_reversed(
        earned=earned,
        sale_total_fen=total,
        refunded_before_fen=before,
        refund_fen=refund,
        reversed_before=reversed_before,
    )
    assert got == expected
