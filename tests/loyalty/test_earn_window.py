"""Receipts too old to earn: the POS API refuses them (400, occurred_at); import_receipts
records them for analysis without points and counts them. The window is an instant, counted
back from now in UTC, whatever offset the time is written with."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from loyalty.ledger import points_balance
from loyalty.models import PointsEntry, Receipt
from tests.conftest import sale
from tests.loyalty.test_import_receipts import row, run

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_receipt_from_2001_is_refused_and_writes_nothing(pos, member, frozen):
    response = pos.receipt(sale(member, occurred_at="2001-06-01T10:00:00+08:00"))

    assert response.status_code == 400
    assert "older than 90 days" in response.json()["fields"]["occurred_at"]
    assert not Receipt.objects.exists() and not PointsEntry.objects.exists()


@pytest.mark.parametrize(
    ("occurred_at", "status"),
    [
        # the edge, written in Shanghai time, in UTC and in another offset: one instant
        ("2026-08-25T10:00:00+08:00", 201),
        ("2026-08-25T02:00:00+00:00", 201),
        ("2026-08-24T21:00:00-05:00", 201),
        ("2026-08-25T09:59:59+08:00", 400),
        ("2026-08-25T01:59:59Z", 400),
        # a minute over the window, though on the same Shanghai date as the edge
        ("2026-08-25T00:30:00+08:00", 400),
        # the accepted future slack of a till's clock: 10 minutes
        ("2026-11-23T10:10:00+08:00", 201),
        ("2026-11-23T10:10:01+08:00", 400),
    ],
)
def test_the_window_is_90_days_back_from_now_as_an_instant(
    pos, member, frozen, occurred_at, status
):
    response = pos.receipt(sale(member, occurred_at=occurred_at))

    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["points_earned"] == 299
    else:
        assert "occurred_at" in response.json()["fields"]


def test_the_window_is_a_setting(pos, member, frozen, settings):
    settings.RECEIPT_EARN_WINDOW_DAYS = 7
    eight_days = (timezone.now() - timedelta(days=8)).isoformat()
    six_days = (timezone.now() - timedelta(days=6)).isoformat()

    refused = pos.receipt(sale(member, receipt_no="OLD", occurred_at=eight_days))
    accepted = pos.receipt(sale(member, receipt_no="NEW", occurred_at=six_days))

    assert "older than 7 days" in refused.json()["fields"]["occurred_at"]
    assert accepted.status_code == 201


def test_an_import_records_years_of_history_but_earns_only_inside_the_window(
    tmp_path, member, frozen
):
    card = member.card_no
    out, errors, failed = run(
        tmp_path,
        [
            row("H-2001", card, when="2001-06-01 10:00:00"),
            row("H-2024", card, when="2024-11-23 10:00:00"),
            row("H-EDGE-OUT", card, when="2026-08-25 09:59:59"),
            row("H-EDGE-IN", card, when="2026-08-25 10:00:00"),
            row("H-R", card, amount=10_000, when="2026-01-01 10:00:00", refund_of="H-2024"),
            row("H-NOCARD", when="2001-06-01 10:00:00"),
        ],
    )

    assert (errors, failed) == ([], False)
    assert "receipts added: 6" in out and "too old to earn: 3," in out
    assert Receipt.objects.count() == 6
    assert points_balance(member_id=member.pk) == 299
    assert list(PointsEntry.objects.values_list("receipt__receipt_no", flat=True)) == ["H-EDGE-IN"]
