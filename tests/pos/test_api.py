"""The POS API as DESIGN.md's contract fixes it: answers, replays, conflicts, refusals."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import PointsEntry, Receipt
from members.card_codes import card_code_issue
from pos.models import PosTerminal
from pos.services import pos_terminal_create
from tests.conftest import sale
from tests.stores.factories import StoreFactory

RECEIPTS = "/api/pos/v1/receipts"


def test_a_member_sale_earns_points_and_answers_as_the_contract_says(pos, member):
    response = pos.receipt(sale(member))

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "receipt_id": body["receipt_id"],
        "card_no": member.card_no,
        "points_earned": 299,  # department store: 1 point a yuan, regular tier
        "points_balance": 299,
        "tier": "普卡",
        "coupons": [],
    }
    receipt = Receipt.objects.get(pk=body["receipt_id"])
    assert (receipt.store.code, receipt.pos_no, receipt.member) == ("S01", "P03", member)
    assert receipt.lines.get().name == "连衣裙"
    assert receipt.terminal == pos.terminal


def test_a_receipt_without_a_member_is_kept_and_earns_nothing(pos):
    response = pos.receipt(sale(None))

    assert response.status_code == 201
    assert response.json()["card_no"] is None
    assert response.json()["points_earned"] == 0
    assert Receipt.objects.filter(member=None).count() == 1
    assert not PointsEntry.objects.exists()


def test_the_same_receipt_again_returns_the_first_answer_and_earns_once(pos, member):
    body = sale(member)  # built once: a second sale() may fall in the next second
    first = pos.receipt(body)
    again = pos.receipt(body)  # a retry: new nonce, same body

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Receipt.objects.count() == 1
    assert PointsEntry.objects.count() == 1


def test_a_retry_with_other_spacing_and_key_order_is_still_the_same_receipt(pos, member):
    body = sale(member)
    pos.receipt(body)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()

    again = pos.receipt(raw=reordered)

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    "change",
    [
        {"total_fen": 19900, "lines": None, "payments": None},
        {"member": None},
        {"pos_store_time": True},
    ],
)
def test_the_same_receipt_number_with_other_content_is_a_conflict(pos, member, change):
    pos.receipt(sale(member))
    if "total_fen" in change:
        other = sale(member, amount_fen=19900)
    elif "member" in change:
        other = sale(None)
    else:
        other = sale(member, occurred_at=(timezone.localtime() - timedelta(days=3)).isoformat())

    response = pos.receipt(other)

    assert response.status_code == 409
    assert "error" in response.json()
    assert Receipt.objects.count() == 1
    assert PointsEntry.objects.count() == 1


def test_a_member_found_by_till_qr_code_or_phone(pos, member):
    token = card_code_issue(member=member).code

    by_qr = pos.receipt(sale(None, receipt_no="R1", member={"qr_token": token}))
    by_phone = pos.receipt(sale(None, receipt_no="R2", member={"phone": member.phone}))

    assert by_qr.status_code == 201 and by_qr.json()["card_no"] == member.card_no
    assert by_phone.status_code == 201 and by_phone.json()["points_balance"] == 598


def test_a_terminal_posting_for_another_store_is_forbidden(pos, member):
    StoreFactory(code="S02")

    response = pos.receipt(sale(member, store="S02"))

    assert response.status_code == 403
    assert not Receipt.objects.exists()


# --- Signature ----------------------------------------------------------------------------


def test_a_bad_signature_is_refused(pos, member):
    response = pos.receipt(sale(member), secret="not-the-secret")
    assert response.status_code == 401
    assert response.json() == {"error": "bad_signature"}
    assert not Receipt.objects.exists()


def test_a_flipped_body_byte_breaks_the_signature(pos, member):
    body = json.dumps(sale(member)).encode()
    headers = pos.headers("POST", RECEIPTS, body)
    tampered = body.replace(b"29900", b"99900")

    response = pos.client.post(
        RECEIPTS, data=tampered, content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert not Receipt.objects.exists()


# Two seconds either side of the limit: the timestamp is whole seconds and a loaded machine may
# take a moment between signing and checking (301 was once accepted that way).
@pytest.mark.parametrize("skew, status", [(-302, 401), (302, 401), (-298, 201), (298, 201)])
def test_timestamps_more_than_300_seconds_off_are_refused(pos, member, skew, status):
    response = pos.receipt(sale(member), timestamp=round(time.time()) + skew)
    assert response.status_code == status


def test_a_nonce_seen_before_is_refused(pos, member):
    first = pos.receipt(sale(member, receipt_no="A1"), nonce="n" * 20)
    second = pos.receipt(sale(member, receipt_no="A2"), nonce="n" * 20)

    assert first.status_code == 201
    assert second.status_code == 401
    assert second.json() == {"error": "nonce_reused"}
    assert Receipt.objects.count() == 1


@pytest.mark.parametrize("nonce", ["short", "x" * 65, "has space in it!!", "ünïcödé-nonce-value"])
def test_malformed_nonces_are_refused(pos, member, nonce):
    assert pos.receipt(sale(member), nonce=nonce).status_code == 401


def test_an_unknown_or_inactive_terminal_is_refused(pos, member, store):
    pos.terminal.is_active = False
    pos.terminal.save()
    assert pos.receipt(sale(member)).json() == {"error": "unknown_terminal"}

    ghost = PosTerminal(terminal_id="pos_ghost", store=store, secret="s" * 64)
    pos.terminal = ghost
    assert pos.receipt(sale(member)).status_code == 401


def test_another_terminals_secret_is_refused(pos, member, store):
    other = pos_terminal_create(store=store, name="2F")
    assert pos.receipt(sale(member), secret=other.secret).status_code == 401


@pytest.mark.parametrize(
    "header", ["X-Pos-Terminal", "X-Pos-Timestamp", "X-Pos-Nonce", "X-Pos-Signature"]
)
def test_a_missing_header_is_refused(pos, member, header):
    body = json.dumps(sale(member)).encode()
    headers = pos.headers("POST", RECEIPTS, body)
    del headers[header]

    response = pos.client.post(
        RECEIPTS, data=body, content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert response.json() == {"error": "missing_signature_headers"}


def test_an_uppercase_signature_is_not_the_contracts_lowercase_hex(pos, member):
    body = json.dumps(sale(member)).encode()
    headers = pos.headers("POST", RECEIPTS, body)
    headers["X-Pos-Signature"] = headers["X-Pos-Signature"].upper()

    response = pos.client.post(
        RECEIPTS, data=body, content_type="application/json", headers=headers
    )

    assert response.status_code == 401


# --- Member resolve ------------------------------------------------------------------------


def test_resolve_finds_the_member_behind_a_till_scan(pos, member):
    member.name = "张三丰"
    member.save()
    pos.receipt(sale(member))
    token = card_code_issue(member=member).code

    response = pos.get(f"/api/pos/v1/members/resolve?qr_token={token}")

    assert response.status_code == 200
    assert response.json() == {
        "card_no": member.card_no,
        "name_masked": "张**",
        "tier": "普卡",
        "points_balance": 299,
    }


def test_resolve_by_card_number_and_phone_and_unknown_ones(pos, member):
    assert pos.get(f"/api/pos/v1/members/resolve?card_no={member.card_no}").status_code == 200
    assert pos.get(f"/api/pos/v1/members/resolve?phone={member.phone}").status_code == 200
    assert pos.get("/api/pos/v1/members/resolve?card_no=000000000000").status_code == 404
    assert pos.get("/api/pos/v1/members/resolve?qr_token=661234").status_code == 404
    assert pos.get("/api/pos/v1/members/resolve").status_code == 400


def test_resolve_signs_the_query_string_too(pos, member):
    path = f"/api/pos/v1/members/resolve?card_no={member.card_no}"
    headers = pos.headers("GET", "/api/pos/v1/members/resolve", b"")

    assert pos.client.get(path, headers=headers).status_code == 401
