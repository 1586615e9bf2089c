"""Races on real Postgres: threads released together by a barrier, each on its own
connection (transaction=True, so nothing is hidden inside a test transaction)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from loyalty.ledger import (
    InsufficientPoints,
    ledger_check,
    points_balance,
    points_post,
    points_spend,
)
from loyalty.models import PointsEntry, Receipt
from tests.conftest import sale

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _race(count, work):
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            return work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test counts
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.parametrize("round_", range(3))
def test_fifty_concurrent_spends_of_ten_against_a_hundred_exactly_ten_succeed(member, round_):
    points_post(member_id=member.pk, kind="earn", points=100, key=f"seed-{round_}")

    results = _race(
        50,
        lambda i: points_spend(member_id=member.pk, points=10, kind="redeem", key=f"r{round_}-{i}"),
    )

    succeeded = [r for r in results if isinstance(r, PointsEntry)]
    refused = [r for r in results if isinstance(r, InsufficientPoints)]
    assert (len(succeeded), len(refused)) == (10, 40)
    assert points_balance(member_id=member.pk) == 0
    assert PointsEntry.objects.filter(kind="redeem").count() == 10
    assert ledger_check() == []


@pytest.mark.parametrize("round_", range(3))
def test_the_same_receipt_posted_twenty_times_at_once_is_one_receipt_earning_once(
    client, terminal, member, round_
):
    from tests.conftest import PosClient

    body = sale(member, receipt_no=f"RACE-{round_}")

    def post(_i):
        from django.test import Client

        return PosClient(Client(), terminal).receipt(body)

    responses = _race(20, post)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201], statuses
    assert len({r.json()["receipt_id"] for r in responses}) == 1
    assert Receipt.objects.filter(receipt_no=f"RACE-{round_}").count() == 1
    assert PointsEntry.objects.filter(kind="earn").count() == 1
    assert points_balance(member_id=member.pk) == 299
    assert ledger_check() == []
