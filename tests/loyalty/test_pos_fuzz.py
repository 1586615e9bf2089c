"""Property-based fuzzing of the receipts endpoint: whatever JSON a till sends, the answer is
a 2xx for a valid receipt or a 4xx with a JSON reason, never a 500, and a refused body
writes nothing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.models import PointsEntry, Receipt
from tests.loyalty.conftest import sale

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
