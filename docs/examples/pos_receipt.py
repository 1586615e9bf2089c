"""Send one receipt to the POS API, signed as the contract says. Python 3, standard library.

    POS_URL=https://mall.example.com POS_TERMINAL=pos_… POS_SECRET=… python3 pos_receipt.py

Without POS_TERMINAL and POS_SECRET it signs as the demo till that `make run` loads.

Prints the HTTP status, the Idempotent-Replayed header and the JSON answer.
"""

import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

BASE = os.environ.get("POS_URL", "http://127.0.0.1:8000").rstrip("/")
TERMINAL = os.environ.get("POS_TERMINAL", "pos_demo_s01")
SECRET = os.environ.get("POS_SECRET", "demo-secret-not-for-production")
STORE = os.environ.get("POS_STORE", "S01")
CARD_NO = os.environ.get("POS_CARD_NO")  # a member's card number, or none for a walk-in


def signed_request(method: str, path: str, body: bytes = b"") -> urllib.request.Request:
    timestamp = str(int(time.time()))
    nonce = secrets.token_urlsafe(18)  # 24 characters of [A-Za-z0-9_-]
    message = "\n".join([method, path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    signature = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    if not BASE.startswith(("https://", "http://")):
        raise SystemExit("POS_URL must be an http(s) address")
    request = urllib.request.Request(BASE + path, data=body or None, method=method)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Pos-Terminal", TERMINAL)
    request.add_header("X-Pos-Timestamp", timestamp)
    request.add_header("X-Pos-Nonce", nonce)
    request.add_header("X-Pos-Signature", signature)
    return request


def main() -> int:
    now = datetime.now(timezone(timedelta(hours=8)))
    receipt = {
        "store": STORE,
        "pos_no": "P03",
        "receipt_no": os.environ.get("POS_RECEIPT_NO", now.strftime("%Y%m%d-%H%M%S")),
        "occurred_at": os.environ.get("POS_OCCURRED_AT", now.isoformat(timespec="seconds")),
        "member": {"card_no": CARD_NO} if CARD_NO else None,
        "lines": [
            {
                "sku": "6901234567890",
                "name": "连衣裙",
                "spec": "M 蓝",
                "brand": "某品牌",
                "category": "女装",
                "qty": 1,
                "amount_fen": 29900,
                "non_merchandise": False,
            },
            {"name": "购物袋", "qty": 1, "amount_fen": 50, "non_merchandise": True},
        ],
        "payments": [{"method": "wechat", "amount_fen": 29950}],
        "total_fen": 29950,
        "coupons": [],
        "refund_of": None,
    }
    body = json.dumps(receipt, ensure_ascii=False).encode()  # sign exactly the bytes you send
    try:
        request = signed_request("POST", "/api/pos/v1/receipts", body)
        with urllib.request.urlopen(request) as r:  # noqa: S310 - checked in signed_request
            status, replayed, answer = r.status, r.headers.get("Idempotent-Replayed"), r.read()
    except urllib.error.HTTPError as error:
        status, replayed, answer = error.code, None, error.read()
    print(status, replayed or "-", answer.decode())
    return 0 if status in (200, 201) else 1


if __name__ == "__main__":
    sys.exit(main())
