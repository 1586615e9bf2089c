"""Malformed receipt bodies: each gets a 400 with a reason, and nothing is written."""

import json

import pytest

from loyalty.models import PointsEntry, Receipt
from tests.conftest import sale


def _line(**changes):
    line = sale()["lines"][0]
    line.update(changes)
    return line


BAD_BODIES = {
    "missing receipt_no": (
        lambda m: {k: v for k, v in sale(m).items() if k != "receipt_no"},
        "receipt_no",
    ),
    "missing lines": (lambda m: {k: v for k, v in sale(m).items() if k != "lines"}, "lines"),
    "no lines": (lambda m: sale(m, lines=[], total_fen=0, payments=[]), "lines"),
    "negative quantity": (lambda m: sale(m, lines=[_line(qty=-1)]), "lines.0.qty"),
    "zero quantity": (lambda m: sale(m, lines=[_line(qty=0)]), "lines.0.qty"),
    "quantity as a string": (lambda m: sale(m, lines=[_line(qty="1")]), "lines.0.qty"),
    "four decimals": (lambda m: sale(m, lines=[_line(qty=1.0001)]), "lines.0.qty"),
    "negative amount": (
        lambda m: sale(m, lines=[_line(amount_fen=-100)], total_fen=-100),
        "lines.0.amount_fen",
    ),
    "amount as a string": (
        lambda m: sale(m, lines=[_line(amount_fen="29900")]),
        "lines.0.amount_fen",
    ),
    "fractional fen": (lambda m: sale(m, lines=[_line(amount_fen=299.5)]), "lines.0.amount_fen"),
    "huge amount": (
        lambda m: sale(m, lines=[_line(amount_fen=10**16)], total_fen=10**16),
        "total_fen",
    ),
    "lines do not add up": (lambda m: sale(m, total_fen=30000), "total_fen"),
    "payments do not add up": (
        lambda m: sale(m, payments=[{"method": "cash", "amount_fen": 100}]),
        "payments",
    ),
    "unknown payment method": (
        lambda m: sale(m, payments=[{"method": "bitcoin", "amount_fen": 29900}]),
        "payments.0.method",
    ),
    "unknown store": (lambda m: sale(m, store="S99"), "store"),
    "store as a number": (lambda m: sale(m, store=1), "store"),
    "no timezone": (lambda m: sale(m, occurred_at="2026-11-23T10:15:00"), "occurred_at"),
    "epoch seconds": (lambda m: sale(m, occurred_at=1763864100), "occurred_at"),
    "a day in the future": (
        lambda m: sale(m, occurred_at="2099-01-01T00:00:00+08:00"),
        "occurred_at",
    ),
    "impossible date": (lambda m: sale(m, occurred_at="2026-02-29T10:00:00+08:00"), "occurred_at"),
    "receipt number with spaces": (lambda m: sale(m, receipt_no=" 123 "), "receipt_no"),
    "receipt number with SQL": (lambda m: sale(m, receipt_no="' OR 1=1--"), "receipt_no"),
    "empty receipt number": (lambda m: sale(m, receipt_no=""), "receipt_no"),
    "overlong receipt number": (lambda m: sale(m, receipt_no="9" * 65), "receipt_no"),
    "unknown card": (lambda m: sale(m, member={"card_no": "123456789012"}), "member.card_no"),
    "malformed card": (lambda m: sale(m, member={"card_no": "12ab"}), "member.card_no"),
    "two member references": (
        lambda m: sale(m, member={"card_no": m.card_no, "phone": m.phone}),
        "member",
    ),
    "stale qr token": (
        lambda m: sale(m, member={"qr_token": "660000000000000000"}),
        "member.qr_token",
    ),
    "unknown field": (lambda m: {**sale(m), "discount": 100}, "discount"),
    "line as a string": (lambda m: sale(m, lines=["连衣裙"]), "lines.0"),
    "lines as an object": (lambda m: sale(m, lines={"name": "x"}), "lines"),
    "refund of an unknown sale": (lambda m: sale(m, refund_of="NOPE-1"), "refund_of"),
    "refund of itself": (lambda m: sale(m, refund_of="20261123-000123"), "refund_of"),
    "NUL in a line name": (lambda m: sale(m, lines=[_line(name="a\u0000b")]), "lines.0.name"),
    "NUL in the receipt number": (lambda m: sale(m, receipt_no="12\u0000"), "receipt_no"),
    "NUL in the store": (lambda m: sale(m, store="S01\u0000"), "store"),
    "NUL in the POS number": (lambda m: sale(m, pos_no="\u0000"), "pos_no"),
    "NUL in a qr token": (lambda m: sale(m, member={"qr_token": "66\u0000"}), "member.qr_token"),
    "NUL in a coupon code": (lambda m: sale(m, coupons=["A\u0000"]), "coupons.0"),
    "NUL in a key": (lambda m: {**sale(m), "x\u0000": 1}, "x\\u0000"),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
def test_a_malformed_body_is_a_400_with_the_field_and_writes_nothing(pos, member, case):
    build, field = BAD_BODIES[case]

    response = pos.receipt(build(member))

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]
    assert field in body.get("fields", {}), body
    assert not Receipt.objects.exists()
    assert not PointsEntry.objects.exists()


RAW_BODIES = {
    "not JSON": b"store=S01&total=1",
    "a JSON array": b"[1, 2, 3]",
    "duplicate keys": b'{"store": "S01", "store": "S02"}',
    "NaN": b'{"store": "S01", "total_fen": NaN}',
    "Infinity": b'{"store": "S01", "total_fen": Infinity}',
    "1e309": b'{"store": "S01", "total_fen": 1e309}',
    "invalid UTF-8": b'{"store": "\xff\xfe"}',
    "deep nesting": b"[" * 5000 + b"]" * 5000,
    "empty": b"",
}


@pytest.mark.parametrize("case", RAW_BODIES, ids=list(RAW_BODIES))
def test_a_body_that_is_not_a_clean_json_object_is_a_400(pos, case):
    response = pos.receipt(raw=RAW_BODIES[case])

    assert response.status_code == 400
    assert response.json()["error"]
    assert not Receipt.objects.exists()


def test_a_body_over_256_kib_is_refused_before_reading(pos, member):
    body = sale(member)
    body["lines"][0]["name"] = "x" * 300_000
    response = pos.receipt(body)
    assert response.status_code == 413


def test_a_wrong_content_type_is_a_400(pos, member):
    body = json.dumps(sale(member)).encode()
    response = pos.client.post(
        "/api/pos/v1/receipts",
        data=body,
        content_type="text/plain",
        headers=pos.headers("POST", "/api/pos/v1/receipts", body),
    )
    assert response.status_code == 400
    assert not Receipt.objects.exists()
