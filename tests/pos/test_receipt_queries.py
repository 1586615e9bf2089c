"""The till path's statement budget: a receipt with a member, without one, and a replay.

Transactional tests: the tables the tills read (rules, tiers, terminals, stores…) are then
served from the per-process cache as in production (core/tablecache.py); in a test wrapped in
one transaction that made them, every read goes to the database. BEGIN, COMMIT and
SAVEPOINTs count as statements. A change that adds statements to these paths fails here.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.models import EarnRule, PointsAccount, PointsEntry
from tests.conftest import sale

pytestmark = pytest.mark.django_db(transaction=True)

# replay check, member, BEGIN, SKUs, purchase lock, claim check, INSERT receipt, INSERT lines,
# UPDATE … RETURNING account, INSERT entry, UPDATE answer, COMMIT
MEMBER_RECEIPT = 12
# the same without the member and the account
ANONYMOUS_RECEIPT = 9
# the replay check
REPLAY = 1


def _warm(pos, member):
    """A first receipt: the member's account is placed and its tier bound known."""
    assert pos.receipt(sale(member, receipt_no="WARM-1", amount_fen=1000)).status_code == 201


def test_a_member_receipt_takes_a_handful_of_statements(pos, member, django_assert_max_num_queries):
    _warm(pos, member)
    with django_assert_max_num_queries(MEMBER_RECEIPT):
        response = pos.receipt(sale(member, receipt_no="Q-1"))
    assert response.status_code == 201
    assert response.json()["points_earned"] == 299
    assert response.json()["points_balance"] == 309  # 10 + 299
    assert PointsAccount.objects.get(member=member).balance == 309


def test_a_receipt_without_a_member_takes_fewer(pos, member, django_assert_max_num_queries):
    _warm(pos, member)
    with django_assert_max_num_queries(ANONYMOUS_RECEIPT):
        response = pos.receipt(sale(None, receipt_no="Q-2"))
    assert response.status_code == 201


def test_a_replay_is_one_statement(pos, member, django_assert_max_num_queries):
    body = sale(member, receipt_no="Q-3")
    first = pos.receipt(body)
    with django_assert_max_num_queries(REPLAY):
        again = pos.receipt(body)
    assert (again.status_code, again.json()) == (200, first.json())
    assert PointsEntry.objects.filter(receipt_id=first.json()["receipt_id"]).count() == 1


def test_the_statements_do_not_grow_with_the_members_history(pos, member):
    _warm(pos, member)
    counts = []
    for n in range(6):
        with CaptureQueriesContext(connection) as queries:
            response = pos.receipt(sale(member, receipt_no=f"H-{n}", amount_fen=5000))
        assert response.status_code == 201
        counts.append(len(queries))
    assert max(counts) <= MEMBER_RECEIPT, counts


def test_a_staff_edit_of_an_earning_rule_takes_effect_on_the_next_receipt(pos, member):
    _warm(pos, member)
    assert pos.receipt(sale(member, receipt_no="R-1")).json()["points_earned"] == 299
    rule = EarnRule.objects.get(division="department", store=None, category=None)
    rule.points = 2
    rule.save()  # as the admin saves it
    assert pos.receipt(sale(member, receipt_no="R-2")).json()["points_earned"] == 598


def test_a_deactivated_terminal_is_refused_at_once(pos, member):
    assert pos.receipt(sale(member, receipt_no="T-1")).status_code == 201
    terminal = pos.terminal
    terminal.is_active = False
    terminal.save()
    assert pos.receipt(sale(member, receipt_no="T-2")).status_code == 401


# request replay check, member, BEGIN, the coupon locked, its scopes, UPDATE coupon,
# INSERT verification, COMMIT
COUPON_VERIFY = 8
# member, account
MEMBER_RESOLVE = 2


def test_a_coupon_verify_takes_a_handful_of_statements(
    pos, member, make_template, campaign, django_assert_max_num_queries
):
    from coupons.issuing import coupon_issue
    from tests.pos.test_coupon_verify import VERIFY, body

    coupon = coupon_issue(template=make_template(), member=member, campaign=campaign)
    _warm(pos, member)
    with django_assert_max_num_queries(COUPON_VERIFY):
        response = pos.post(VERIFY, body(coupon, member))
    assert response.json() == {"code": coupon.code, "discount_fen": 1000, "status": "used"}
    with django_assert_max_num_queries(2):  # the member, the first answer
        again = pos.post(VERIFY, body(coupon, member))
    assert again.json() == response.json()


def test_a_member_resolve_takes_two_statements(pos, member, django_assert_max_num_queries):
    _warm(pos, member)
    with django_assert_max_num_queries(MEMBER_RESOLVE):
        response = pos.get(f"/api/pos/v1/members/resolve?card_no={member.card_no}")
    assert response.status_code == 200
    assert (response.json()["tier"], response.json()["points_balance"]) == ("普卡", 10)
