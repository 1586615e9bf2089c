"""POST /api/pos/v1/coupons/verify as DESIGN.md fixes it, and coupons on receipts."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from coupons.issuing import coupon_issue
from coupons.models import Coupon, CouponVerification
from coupons.redeeming import coupon_void
from loyalty.ledger import points_balance
from stores.models import Brand, Floor, Shop
from tests.conftest import PosClient, sale
from tests.members.factories import StaffFactory
from tests.stores.factories import StoreFactory

VERIFY = "/api/pos/v1/coupons/verify"


@pytest.fixture
def coupon(make_template, campaign, member):
    return coupon_issue(template=make_template(), member=member, campaign=campaign)


def body(coupon, member, request_id="req-0001", basket=30000, **changes):
    data = {
        "store": "S01",
        "pos_no": "P03",
        "request_id": request_id,
        "code": coupon.code if hasattr(coupon, "code") else coupon,
        "member": {"card_no": member.card_no} if member else None,
        "basket_fen": basket,
        "lines": [
            {
                "name": "连衣裙",
                "brand": "某品牌",
                "category": "女装",
                "qty": 1,
                "amount_fen": basket,
            }
        ],
    }
    data.update(changes)
    return data


def test_a_good_coupon_is_used_once_and_recorded(pos, coupon, member):
    response = pos.post(VERIFY, body(coupon, member, cashier="C007"))

    assert response.status_code == 200
    assert response.json() == {"code": coupon.code, "discount_fen": 1000, "status": "used"}
    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_store.code, coupon.used_pos_no, coupon.used_cashier) == (
        "used",
        "S01",
        "P03",
        "C007",
    )
    assert coupon.used_at is not None


def test_the_same_request_id_returns_the_first_answer(pos, coupon, member):
    first = pos.post(VERIFY, body(coupon, member))
    again = pos.post(VERIFY, body(coupon, member))
    other = pos.post(VERIFY, body(coupon, member, request_id="req-0002"))

    assert again.status_code == 200 and again.json() == first.json()
    assert other.status_code == 409 and other.json() == {"error": "already_used"}
    assert CouponVerification.objects.count() == 2


def test_a_refusal_is_also_answered_the_same_way_again(pos, coupon, member):
    first = pos.post(VERIFY, body(coupon, member, basket=0))
    again = pos.post(VERIFY, body(coupon, member, basket=50000))
    assert first.json() == again.json() == {"error": "below_threshold"}
    assert Coupon.objects.get().status == "unused"


def test_tampering_and_each_reason(pos, make_template, campaign, member, member_factory):
    other = member_factory()
    theirs = coupon_issue(template=make_template("THEIRS"), member=other, campaign=campaign)
    voided = coupon_issue(template=make_template("VOID"), member=member, campaign=campaign)
    coupon_void(coupon=voided, reason="发错了", actor=StaffFactory().user)
    expired = coupon_issue(template=make_template("OLD"), member=member, campaign=campaign)
    Coupon.objects.filter(pk=expired.pk).update(
        valid_from=timezone.now() - timedelta(days=10), valid_until=timezone.now()
    )
    spend = coupon_issue(
        template=make_template("SPEND", kind="threshold", face_value_fen=5000, min_spend_fen=30000),
        member=member,
        campaign=campaign,
    )
    elsewhere = coupon_issue(template=make_template("S02ONLY"), member=member, campaign=campaign)
    elsewhere.template.stores.add(StoreFactory(code="S02"))

    cases = {
        "not_owner": body(theirs, member, "r1"),
        "unknown_code": body("ZZZZZZZZZZZZZZZZ", member, "r2"),
        "voided": body(voided, member, "r3"),
        "expired": body(expired, member, "r4"),
        "below_threshold": body(spend, member, "r5", basket=29999),
        "out_of_scope": body(elsewhere, member, "r6"),
        "not_owner ": body(spend, None, "r7"),  # no member named: not the owner
    }
    for reason, data in cases.items():
        response = pos.post(VERIFY, data)
        assert response.status_code == 409, reason
        assert response.json() == {"error": reason.strip()}
    assert not Coupon.objects.filter(status="used").exists()


def test_a_typed_code_is_forgiven_spaces_and_case(pos, coupon, member):
    typed = f" {coupon.code[:4].lower()} {coupon.code[4:8]}-{coupon.code[8:]} "
    assert pos.post(VERIFY, body(typed, member)).status_code == 200


def test_scope_by_floor_counts_the_lines_of_brands_with_a_shop_there(
    pos, make_template, campaign, member, store
):
    floor = Floor.objects.create(store=store, code="3F", name="女装", order=3)
    brand = Brand.objects.create(name="某品牌")
    Shop.objects.create(floor=floor, brand=brand, unit_no="3F-01")
    template = make_template("FLOOR3", kind="percent", percent_off=10)
    template.floors.add(floor)
    coupon = coupon_issue(template=template, member=member, campaign=campaign)
    lines = [
        {"name": "连衣裙", "brand": "某品牌", "qty": 1, "amount_fen": 20000},
        {"name": "牛奶", "qty": 1, "amount_fen": 10000},
    ]

    response = pos.post(VERIFY, body(coupon, member, basket=30000, lines=lines))

    assert response.json()["discount_fen"] == 2000


def test_bad_bodies_are_400(pos, coupon, member):
    assert pos.post(VERIFY, body(coupon, member, basket_fen=-1)).status_code == 400
    assert pos.post(VERIFY, body(coupon, member, request_id="has space")).status_code == 400
    assert pos.post(VERIFY, {**body(coupon, member), "extra": 1}).status_code == 400
    assert pos.post(VERIFY, body(coupon, member), secret="wrong").status_code == 401
    assert Coupon.objects.get().status == "unused"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_verifications_exactly_one_succeeds(
    terminal, make_template, campaign, member
):
    """S2, 20 rounds in one database; the winning till's retry gets its 200 again."""
    for round_ in range(20):
        coupon = coupon_issue(
            template=make_template(f"R{round_}"), member=member, campaign=campaign
        )
        barrier = threading.Barrier(20)
        statuses = []

        def verify(i, coupon=coupon, barrier=barrier, statuses=statuses, round_=round_):
            try:
                client = PosClient(Client(), terminal)
                barrier.wait()
                answer = client.post(VERIFY, body(coupon, member, f"race-{round_}-{i}"))
                statuses.append((i, answer))
            finally:
                connection.close()

        threads = [threading.Thread(target=verify, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        codes = sorted(r.status_code for _i, r in statuses)
        assert codes == [200] + [409] * 19
        assert {r.json()["error"] for _i, r in statuses if r.status_code == 409} == {"already_used"}
        winner, first = next((i, r) for i, r in statuses if r.status_code == 200)
        again = PosClient(Client(), terminal).post(
            VERIFY, body(coupon, member, f"race-{round_}-{winner}")
        )
        assert (again.status_code, again.json()) == (200, first.json())


# --- Coupons on receipts -------------------------------------------------------------------


def test_a_receipt_with_a_coupon_uses_it_in_the_same_transaction(pos, coupon, member):
    data = sale(member, amount_fen=30000, coupons=[coupon.code])
    data["payments"] = [
        {"method": "wechat", "amount_fen": 29000},
        {"method": "coupon", "amount_fen": 1000},
    ]

    response = pos.receipt(data)

    assert response.status_code == 201
    assert response.json()["coupons"] == [
        {"code": coupon.code, "status": "used", "discount_fen": 1000}
    ]
    assert response.json()["points_earned"] == 290  # coupons earn no points
    coupon.refresh_from_db()
    assert coupon.used_receipt_id == response.json()["receipt_id"]


def test_a_coupon_verified_first_is_linked_to_the_receipt(pos, coupon, member):
    pos.post(VERIFY, body(coupon, member))
    response = pos.receipt(sale(member, amount_fen=30000, coupons=[coupon.code]))
    assert response.status_code == 201
    coupon.refresh_from_db()
    assert coupon.used_receipt_id == response.json()["receipt_id"]


def test_a_receipt_naming_an_unusable_coupon_is_refused_whole(pos, coupon, member, member_factory):
    response = pos.receipt(sale(member_factory(), amount_fen=30000, coupons=[coupon.code]))

    assert response.status_code == 400
    assert response.json()["fields"] == {"coupons.0": "not_owner"}
    assert not points_balance(member_id=member.pk)
    assert Coupon.objects.get().status == "unused"


def test_non_stacking_coupons_cannot_share_a_receipt(pos, make_template, campaign, member):
    a = coupon_issue(template=make_template("A"), member=member, campaign=campaign)
    b = coupon_issue(template=make_template("B", stackable=True), member=member, campaign=campaign)
    response = pos.receipt(sale(member, amount_fen=30000, coupons=[a.code, b.code]))
    assert response.status_code == 400
    assert "not_stackable" in response.json()["fields"].values()


def test_stacking_coupons_can(pos, make_template, campaign, member):
    a = coupon_issue(template=make_template("A", stackable=True), member=member, campaign=campaign)
    b = coupon_issue(template=make_template("B", stackable=True), member=member, campaign=campaign)
    response = pos.receipt(sale(member, amount_fen=30000, coupons=[a.code, b.code]))
    assert response.status_code == 201
    assert len(response.json()["coupons"]) == 2


def test_a_full_refund_restores_a_coupon_still_valid_a_partial_one_does_not(pos, coupon, member):
    pos.receipt(sale(member, receipt_no="S-1", amount_fen=30000, coupons=[coupon.code]))

    pos.receipt(sale(member, receipt_no="R-1", amount_fen=10000, refund_of="S-1"))
    assert Coupon.objects.get().status == "used"
    pos.receipt(sale(member, receipt_no="R-2", amount_fen=20000, refund_of="S-1"))

    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_receipt, coupon.used_at) == ("unused", None, None)


@pytest.mark.parametrize(
    "moment, expected",
    [
        ("2026-12-25T23:59:59", 200),  # the last second of the 30th day after issue
        ("2026-12-26T00:00:00", 409),  # Shanghai midnight: expired (16:00 UTC)
    ],
)
def test_a_coupon_expires_at_shanghai_midnight_at_the_till(
    pos, make_template, campaign, member, moment, expected
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    shanghai = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime(2026, 11, 25, 10, tzinfo=shanghai), tick=False):
        coupon = coupon_issue(
            template=make_template(valid_days=30), member=member, campaign=campaign
        )
    at = datetime.fromisoformat(moment).replace(tzinfo=shanghai)
    with time_machine.travel(at, tick=False):
        response = pos.post(VERIFY, body(coupon, member))
    assert response.status_code == expected
    if expected == 409:
        assert response.json() == {"error": "expired"}
