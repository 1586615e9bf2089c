import json
import secrets
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pos.services import pos_terminal_create
from pos.signing import pos_signature
from tests.factories import MemberFactory, StoreFactory


class PosClient:
    """A till: signs each request as DESIGN.md's contract says and sends it through the
    Django test client (`live` tests send the same bytes over HTTP)."""

    def __init__(self, client, terminal):
        self.client, self.terminal = client, terminal

    def headers(self, method, path, body: bytes, *, timestamp=None, nonce=None, secret=None):
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_urlsafe(18)
        signature = pos_signature(
            secret=secret or self.terminal.secret,
            method=method,
            path=path,
            timestamp=timestamp,
            nonce=nonce,
            body=body,
        )
        return {
            "X-Pos-Terminal": self.terminal.terminal_id,
            "X-Pos-Timestamp": timestamp,
            "X-Pos-Nonce": nonce,
            "X-Pos-Signature": signature,
        }

    def post(self, path, payload=None, *, raw: bytes | None = None, **sign):
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        headers = self.headers("POST", path, body, **sign)
        return self.client.post(path, data=body, content_type="application/json", headers=headers)

    def receipt(self, payload=None, **kwargs):
        return self.post("/api/pos/v1/receipts", payload, **kwargs)

    def get(self, path, **sign):
        return self.client.get(path, headers=self.headers("GET", path, b"", **sign))


@pytest.fixture
def store(db):
    return StoreFactory(code="S01", name="武林旗舰店")


@pytest.fixture
def terminal(store):
    return pos_terminal_create(store=store, name="1F 收银 01")


@pytest.fixture
def pos(client, terminal):
    return PosClient(client, terminal)


@pytest.fixture
def member(store):
    return MemberFactory(home_store=store)


def sale(member=None, /, *, receipt_no="20261123-000123", amount_fen=29900, **overrides):
    """A department-store sale body; `overrides` replace top-level fields."""
    body = {
        "store": "S01",
        "pos_no": "P03",
        "receipt_no": receipt_no,
        "occurred_at": (timezone.localtime() - timedelta(hours=1)).isoformat(timespec="seconds"),
        "member": {"card_no": member.card_no} if member else None,
        "lines": [
            {
                "sku": "6901234567890",
                "name": "连衣裙",
                "spec": "M 蓝",
                "brand": "某品牌",
                "category": "女装",
                "qty": 1,
                "amount_fen": amount_fen,
                "non_merchandise": False,
            }
        ],
        "payments": [{"method": "wechat", "amount_fen": amount_fen}],
        "total_fen": amount_fen,
        "coupons": [],
        "refund_of": None,
    }
    body.update(overrides)
    return body


def qty(value) -> Decimal:
    return Decimal(str(value))


@pytest.fixture(autouse=True)
def loyalty_defaults(request):
    """The default tiers and earning rules of the migration (a flush after a transactional
    test empties them)."""
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        marker = request.node.get_closest_marker("django_db")
        if marker is None:
            return
    request.getfixturevalue("transactional_db" if _transactional(request) else "db")
    from django.apps import apps

    from loyalty.defaults import loyalty_defaults_install

    loyalty_defaults_install(apps)


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction"))
