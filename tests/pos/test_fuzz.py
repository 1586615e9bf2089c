"""Property-based fuzzing of the receipts endpoint: whatever JSON a till sends, the answer is
a 2xx for a valid receipt or a 4xx with a JSON reason, never a 500, and a refused body
writes nothing."""

import http.client
import json
from urllib.parse import urlsplit

import pytest
from django.urls import include, path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.models import PointsEntry, Receipt
from tests.conftest import PosClient, sale

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

FIELDS = list(sale().keys())
LINE_FIELDS = list(sale()["lines"][0].keys())

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _answer_is_clean(response):
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert "error" in response.json()


@FUZZ
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_any_top_level_field(pos, member, field, value):
    body = sale(member, receipt_no="FUZZ-1")
    body[field] = value
    before = Receipt.objects.count(), PointsEntry.objects.count()

    response = pos.receipt(body)

    _answer_is_clean(response)
    if response.status_code >= 400:
        assert (Receipt.objects.count(), PointsEntry.objects.count()) == before


@FUZZ
@given(field=st.sampled_from(LINE_FIELDS), value=json_values)
def test_any_value_in_any_line_field(pos, member, field, value):
    body = sale(member, receipt_no="FUZZ-2")
    body["lines"][0][field] = value
    before = Receipt.objects.count()

    response = pos.receipt(body)

    _answer_is_clean(response)
    if response.status_code >= 400:
        assert Receipt.objects.count() == before


@FUZZ
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_as_the_body(pos, raw):
    response = pos.receipt(raw=raw)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("amount", [0, 1, 99, 100, 10**10])
def test_amounts_at_the_edges_are_recorded(pos, member, amount):
    response = pos.receipt(sale(member, receipt_no=f"EDGE-{amount}", amount_fen=amount))
    assert response.status_code == 201
    assert response.json()["points_earned"] == amount // 100


# --- The fuzzer's cases, replayed: every answer is JSON, none a 500 ------------------------


def _json_answer(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    assert response.json()["error"]
    return response.json()


@pytest.mark.parametrize(
    "query",
    ["card_no=12%00", "phone=138%0000000000", "qr_token=%00", "card_no%00=1", "x=%00"],
)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(pos, query):
    body = _json_answer(pos.get(f"/api/pos/v1/members/resolve?{query}"), 400)
    assert list(body["fields"].values()) == ["contains a NUL character"]


def test_a_nul_in_a_line_name_names_the_line_and_writes_nothing(pos, member):
    body = sale(member)
    body["lines"][0]["name"] = "a\x00b"
    answer = _json_answer(pos.receipt(body), 400)
    assert answer["fields"] == {"lines.0.name": "contains a NUL character"}
    assert not Receipt.objects.exists()


def test_a_nul_in_the_terminal_header_is_a_401(pos):
    headers = pos.headers("GET", "/api/pos/v1/members/resolve?card_no=1", b"")
    headers["X-Pos-Terminal"] = "pos_\x00"
    response = pos.client.get("/api/pos/v1/members/resolve?card_no=1", headers=headers)
    _json_answer(response, 401)


@pytest.mark.parametrize("header", ["X-Pos-Signature", "X-Pos-Nonce", "X-Pos-Timestamp"])
def test_non_ascii_in_a_signing_header_is_a_401(pos, header):
    headers = pos.headers("GET", "/api/pos/v1/members/resolve?card_no=1", b"")
    headers[header] = "é" * 64
    response = pos.client.get("/api/pos/v1/members/resolve?card_no=1", headers=headers)
    _json_answer(response, 401)


def test_an_unknown_api_path_is_a_json_404(pos):
    _json_answer(pos.get("/api/pos/v1/nope"), 404)
    _json_answer(pos.client.get("/api/pos/v2/receipts"), 404)


def test_a_wrong_method_is_a_json_405(pos):
    body = _json_answer(pos.get("/api/pos/v1/receipts"), 405)
    assert body["error"] == "method_not_allowed"
    _json_answer(pos.post("/api/pos/v1/members/resolve", {}), 405)


def test_a_body_over_the_upload_limit_is_a_json_413(pos, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _json_answer(pos.receipt(raw=b"{" + b" " * 5000 + b"}"), 413)
    _json_answer(pos.receipt(raw=b" " * (3 * 1024 * 1024)), 413)


def test_a_bad_content_length_is_a_json_400(pos, member):
    body = json.dumps(sale(member)).encode()
    headers = pos.headers("POST", "/api/pos/v1/receipts", body)
    response = pos.client.post(
        "/api/pos/v1/receipts",
        data=body,
        content_type="application/json",
        headers=headers,
        CONTENT_LENGTH="12abc",
    )
    _json_answer(response, 400)


@pytest.mark.parametrize("depth", [500, 990, 5000, 30_000])
def test_deeply_nested_json_is_a_json_400(pos, member, depth):
    for raw in (
        b"[" * depth + b"]" * depth,
        b'{"store": ' + b"[" * depth + b"]" * depth + b"}",
        b'{"a": ' * depth + b"1" + b"}" * depth,
    ):
        _json_answer(pos.receipt(raw=raw), 400)
    assert not Receipt.objects.exists()


def test_many_query_fields_are_a_json_400(pos, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"f{i}=1" for i in range(20))
    _json_answer(pos.get(f"/api/pos/v1/members/resolve?{query}"), 400)


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("api/pos/v1/boom", _boom),
    path("", include("config.urls")),
]


@pytest.mark.urls(__name__)
def test_an_unhandled_error_is_a_json_500_not_a_page(pos):
    pos.client.raise_request_exception = False
    body = _json_answer(pos.get("/api/pos/v1/boom"), 500)
    assert body == {"error": "internal_error"}


# --- The same over HTTP: what the test client cannot send ---------------------------------


def _http(live_server, method, path, body: bytes, headers: dict, *, chunked=False):
    url = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
            pieces = (body[start : start + 100] for start in range(0, len(body), 100))
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
            # Headers and chunks in one write: the server may answer 411 and close as soon as
            # it has read the headers, which would break a pipe still sending chunks.
            connection.endheaders(chunks + b"0\r\n\r\n")
        else:
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_malformed_requests_over_http_get_json_answers(live_server, terminal, member):
    till = PosClient(None, terminal)
    body = json.dumps(sale(member), ensure_ascii=False).encode()
    cases = [
        ("chunked", body, {"Content-Type": "application/json"}, True, 411),
        ("invalid UTF-8", b'{"store": "\xff"}', {"Content-Type": "application/json"}, False, 400),
        ("wrong type", body, {"Content-Type": "text/plain"}, False, 400),
        (
            "NUL",
            body.replace("连衣裙".encode(), b"a\\u0000b"),
            {"Content-Type": "application/json"},
            False,
            400,
        ),
        ("too big", b" " * (300 * 1024), {"Content-Type": "application/json"}, False, 413),
    ]
    for name, raw, headers, chunked, status in cases:
        signed = {**headers, **till.headers("POST", "/api/pos/v1/receipts", raw)}
        got, content_type, answer = _http(
            live_server, "POST", "/api/pos/v1/receipts", raw, signed, chunked=chunked
        )
        assert (name, got) == (name, status), answer[:300]
        assert content_type.startswith("application/json"), (name, answer[:300])
        assert json.loads(answer)["error"]
    path_ = "/api/pos/v1/members/resolve?card_no=12%00"
    got, content_type, answer = _http(
        live_server, "GET", path_, b"", till.headers("GET", path_, b"")
    )
    assert (got, json.loads(answer)["fields"]) == (400, {"card_no": "contains a NUL character"})
    assert not Receipt.objects.exists()
