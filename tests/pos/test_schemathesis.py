"""Schemathesis against the committed docs/pos-api.openapi.json: requests generated from the
document a till vendor reads (its examples, boundary values and fuzzed bodies, valid and not),
signed as a till signs them and sent over HTTP to the live server, through the whole stack.
Every answer must be no 500, a documented status, a documented content type and a body that
matches the documented schema.

Bounded and deterministic (a fixed seed, a few dozen examples per operation): a finding here
is a bug to fix in the server (a 500 becomes a 4xx with a JSON reason) or in the document."""

import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

import jsonschema_rs  # schemathesis' JSON Schema validator
import pytest
import requests
import schemathesis
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, settings
from pydantic import ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from coupons.issuing import coupon_issue
from pos.bodies import LineBody, MemberRef, parse_json
from tests.conftest import PosClient
from tests.members.factories import MemberFactory

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "pos-api.openapi.json"
STORE = "S01"  # the `store` fixture's code: the signing terminal's store
CARD_NO = "SCHEMA-0001"

schema = schemathesis.openapi.from_path(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20261123,
            "generation": {"max-examples": 20, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class TillSigning(requests.auth.AuthBase):
    """Sign the prepared request as a till does: the request target exactly as sent (path and
    query) and the raw body bytes, with a fresh timestamp and nonce (DESIGN.md, "POS API")."""

    def __init__(self, terminal):
        self.till = PosClient(None, terminal)

    def __call__(self, request):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        request.headers.update(self.till.headers(request.method, request.path_url, body))
        return request


# --- Steering: every other generated request (chosen by a digest of its content, so the run
# stays deterministic) is made to pass what no schema can express (the terminal's store, a
# recent time, a member who exists, sums that add up, one of the member's coupons), so the
# cases reach the ledger, the coupons and the member lookup, not only the validation.


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _half(value) -> bool:
    return int(_digest(value)[:2], 16) % 2 == 0


def _lines_ok(body) -> bool:
    lines = body.get("lines")
    return isinstance(lines, list) and all(
        isinstance(line, dict) and type(line.get("amount_fen")) in (int, float) for line in lines
    )


def steer(case, codes: list[str]) -> None:
    operation = case.operation.label
    if operation == "GET /members/resolve":
        if _half(case.query):
            case.query = {"card_no": CARD_NO}
        return
    body = case.body
    if not (isinstance(body, dict) and _lines_ok(body) and _half(body)):
        return
    lines = [dict(line, amount_fen=int(line["amount_fen"])) for line in body["lines"]]
    body = dict(body, store=STORE, member={"card_no": CARD_NO}, lines=lines)
    pick = int(_digest(body)[2:6], 16)
    code = codes[pick % len(codes)]  # each can be used once: later picks are already_used
    if operation == "POST /coupons/verify":
        body["code"] = code
    if operation == "POST /receipts":
        total = sum(line["amount_fen"] for line in lines)
        moment = timezone.localtime().replace(minute=0, second=0, microsecond=0) - timedelta(
            hours=1
        )
        body.update(
            # one number per content: a case sent again is a till's retry (200, replayed)
            receipt_no=f"ST-{_digest(body)[:20]}",
            occurred_at=moment.isoformat(timespec="seconds"),
            total_fen=total,
            payments=[{"method": "wechat", "amount_fen": total}],
            coupons=[code] if pick % 4 == 0 else [],
            refund_of=None,
        )
    case.body = body


# What each operation's run must have reached, or the steering no longer works.
REACHED = {
    "POST /receipts": {201, 200, 400},  # recorded, replayed (a case sent again), refused
    "POST /coupons/verify": {200, 409, 400},  # used, refused with a reason
    "GET /members/resolve": {200, 404, 400},
}


@pytest.fixture
def till(live_server, terminal, request, make_template, campaign):
    member = MemberFactory(home_store=terminal.store, card_no=CARD_NO)
    template = make_template(per_member_limit=0, stackable=True)
    codes = [coupon_issue(template=template, member=member, campaign=campaign).code for _ in "1234"]
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between the till and the server
    session.auth = TillSigning(terminal)
    seen = set()
    yield {
        "session": session,
        "base_url": f"{live_server.url}/api/pos/v1",
        "seen": seen,
        "codes": codes,
    }
    session.close()
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        return  # the failure says what went wrong
    operations = {operation for operation, _status in seen}
    for operation in operations:
        statuses = {status for name, status in seen if name == operation}
        assert REACHED[operation] <= statuses, (operation, sorted(statuses))
    call_command("check_ledger", stdout=io.StringIO())  # the ledger clean after it all


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@pytest.mark.django_db(transaction=True)
def test_the_api_answers_as_documented(case, till):
    steer(case, till["codes"])
    response = case.call(base_url=till["base_url"], session=till["session"], timeout=30)
    till["seen"].add((case.operation.label, response.status_code))
    case.validate_response(response, checks=CHECKS)


# --- The document itself -------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1():
    schema.validate()  # against the OpenAPI 3.1 meta-schema; raises with the path at fault


def _verdicts(component: str, value, server_model) -> tuple[bool, bool]:
    """(the document accepts `value`, the server accepts it) for one component schema."""
    document = json.loads(DOCUMENT.read_text())["components"]["schemas"][component]
    documented = jsonschema_rs.Draft202012Validator(document).is_valid(value)
    try:
        server_model.model_validate(value)
    except ValidationError:
        return documented, False
    return documented, True


@pytest.mark.parametrize(
    "qty",
    ["1", "0.001", "1e-3", "12345.678", "99999", "0.0005", "0", "-1", "99999.001", '"1"', "true"],
)
def test_the_documented_qty_is_the_one_the_server_accepts(qty):
    line = {"name": "连衣裙", "qty": json.loads(qty), "amount_fen": 100}
    parsed = parse_json(json.dumps({**line, "qty": "QTY"}).replace('"QTY"', qty).encode())
    documented, _ = _verdicts("LineBody", line, LineBody)
    _, accepted = _verdicts("LineBody", parsed, LineBody)  # numbers parsed as the server does
    assert documented == accepted


@pytest.mark.parametrize(
    "member",
    [
        {"card_no": "VIP-2019-000123"},
        {"phone": "13800000000"},
        {"qr_token": "abc", "card_no": None},
        {"card_no": "VIP-1", "phone": "13800000000"},
        {"card_no": None},
        {},
        {"qr_token": ""},
        {"card_no": "bad card"},
        {"email": "a@b.c"},
    ],
)
def test_the_documented_member_is_exactly_one_key_as_the_server_checks(member):
    documented, accepted = _verdicts("MemberRef", member, MemberRef)
    assert documented == accepted
