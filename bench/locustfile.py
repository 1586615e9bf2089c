"""Locust users of the load scenario (issue 15); run by bench/load_scenario.py, which builds the
scratch database, serves it with gunicorn and writes the data these users read from the file
named by LOAD_SCENARIO_DATA (members' sessions and coupons, tills' secrets, SKUs, cards).

MemberUser: one signed-in member each (the "sessionid" cookie of a WeChat session), browsing
the card page, coupons, a coupon's detail, records, messages and the points mall with 1-3 s of
think time. TillUser (LOAD_SCENARIO_TILLS of them, one terminal each): signed receipts with
fresh receipt numbers and nonces, and one action in five a coupon verify on a real unused
coupon of a signed-in member. Each user draws from its own random.Random(seed + its number).
"""

import itertools
import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import pos_headers, receipt_lines
from locust import HttpUser, task

MEMBER_THINK = (1.0, 3.0)
TILL_THINK = (0.5, 1.5)
PAGES = [  # (weight, name, path of a member with coupons codes)
    (4, "/m/card/", lambda codes, rng: "/m/card/"),
    (2, "/m/coupons/", lambda codes, rng: "/m/coupons/"),
    (2, "/m/coupons/[code]/", lambda codes, rng: f"/m/coupons/{rng.choice(codes)}/"),
    (2, "/m/records/", lambda codes, rng: "/m/records/"),
    (1, "/m/messages/", lambda codes, rng: "/m/messages/"),
    (1, "/m/mall/", lambda codes, rng: "/m/mall/"),
]
RECEIPTS, VERIFY = "/api/pos/v1/receipts", "/api/pos/v1/coupons/verify"
SHANGHAI = timezone(timedelta(hours=8))

_data = None
_numbers = itertools.count()


def data() -> dict:
    """The scenario's data, read once per locust process."""
    global _data
    if _data is None:
        _data = json.loads(Path(os.environ["LOAD_SCENARIO_DATA"]).read_text())
    return _data


class ScenarioUser(HttpUser):
    abstract = True
    think = MEMBER_THINK

    def on_start(self):
        self.number = next(_numbers)
        self.rng = random.Random(data()["seed"] * 1000 + self.number)  # noqa: S311

    def wait_time(self):
        return self.rng.uniform(*self.think)


class MemberUser(ScenarioUser):
    weight = 1

    def on_start(self):
        super().on_start()
        members = data()["members"]
        self.member = members[self.number % len(members)]
        self.headers = {"Cookie": f"sessionid={self.member['session']}"}

    @task
    def browse(self):
        pages = [page for page in PAGES if self.member["coupons"] or "[code]" not in page[1]]
        _weight, name, path = self.rng.choices(pages, weights=[p[0] for p in pages])[0]
        with self.client.get(
            path(self.member["coupons"], self.rng),
            name=name,
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:  # a redirect: the session did not sign in
                response.failure(f"answer {response.status_code}")


class TillUser(ScenarioUser):
    fixed_count = int(os.environ.get("LOAD_SCENARIO_TILLS", "4"))
    think = TILL_THINK

    def on_start(self):
        super().on_start()
        tills = data()["tills"]
        self.till = tills[self.number % len(tills)]
        self.receipts = itertools.count()

    def _post(self, path: str, body: dict, name: str, expected: int) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = pos_headers(self.till["terminal"], self.till["secret"], "POST", path, raw)
        with self.client.post(
            path, data=raw, headers=headers, name=name, catch_response=True
        ) as response:
            if response.status_code != expected:
                response.failure(f"answer {response.status_code}: {response.text[:200]}")

    @task(4)
    def receipt(self):
        scenario, rng = data(), self.rng
        lines = receipt_lines(rng, scenario["skus"])
        total = sum(line["amount_fen"] for line in lines)
        when = datetime.now(SHANGHAI) - timedelta(minutes=1)
        body = {
            "store": "S01",
            "pos_no": self.till["pos_no"],
            "receipt_no": f"{scenario['prefix']}-{self.number}-{next(self.receipts):06d}",
            "occurred_at": when.isoformat(timespec="seconds"),
            "member": {"card_no": rng.choice(scenario["cards"])} if rng.random() < 0.8 else None,
            "lines": lines,
            "payments": [{"method": "wechat", "amount_fen": total}],
            "total_fen": total,
            "coupons": [],
            "refund_of": None,
        }
        self._post(RECEIPTS, body, RECEIPTS, 201)

    @task(1)
    def verify(self):
        coupons = data()["verify"]
        if not coupons:
            self.receipt()
            return
        coupon = coupons.pop()
        body = {
            "store": "S01",
            "pos_no": self.till["pos_no"],
            "request_id": uuid.UUID(int=self.rng.getrandbits(128)).hex,
            "code": coupon["code"],
            "member": {"card_no": coupon["card_no"]},
            "basket_fen": 5000,
            "lines": [],
            "cashier": "load",
        }
        self._post(VERIFY, body, VERIFY, 200)
