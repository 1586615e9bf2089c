"""Races on real Postgres: threads released together by a barrier, each on its own
connection (transaction=True, so nothing is hidden inside a test transaction)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from loyalty.ledger import (
    InsufficientPoints,
    ledger_check,
    points_balance,
    points_post,
    points_spend,
)
from loyalty.models import PointsEntry, Receipt
from tests.conftest import PosClient, sale

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


ROUNDS = 20  # one green race proves little (RELIABILITY.md); rounds share one database


def test_fifty_concurrent_spends_of_ten_against_a_hundred_exactly_ten_succeed(member):
    for round_ in range(ROUNDS):
        points_post(member_id=member.pk, kind="earn", points=100, key=f"seed-{round_}")

        results = _race(
            50,
            lambda i, r=round_: points_spend(
                member_id=member.pk, points=10, kind="redeem", key=f"r{r}-{i}"
            ),
        )

        succeeded = [r for r in results if isinstance(r, PointsEntry)]
        refused = [r for r in results if isinstance(r, InsufficientPoints)]
        assert (len(succeeded), len(refused)) == (10, 40), round_
        assert points_balance(member_id=member.pk) == 0
        assert PointsEntry.objects.filter(kind="redeem").count() == 10 * (round_ + 1)
    assert ledger_check() == []


def test_the_same_receipt_posted_twenty_times_at_once_is_one_receipt_earning_once(terminal, member):
    earned = 0
    for round_ in range(ROUNDS):
        body = sale(member, receipt_no=f"RACE-{round_}")

        responses = _race(20, lambda _i, body=body: PosClient(Client(), terminal).receipt(body))

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * 19 + [201], statuses
        assert len({r.json()["receipt_id"] for r in responses}) == 1
        assert Receipt.objects.filter(receipt_no=f"RACE-{round_}").count() == 1
        assert PointsEntry.objects.filter(kind="earn").count() == round_ + 1
        earned += next(r for r in responses if r.status_code == 201).json()["points_earned"]
        assert points_balance(member_id=member.pk) == earned  # (the tier rises as it goes)
    assert ledger_check() == []


def test_the_same_refund_five_times_at_once_reverses_once_and_never_more_than_earned(
    terminal, member
):
    """L7: a 1000-yuan sale; its refund of 400 posted five times at once is one reversal;
    then refunds of 700 and 600 at once: only the 600 fits, and all the points are back."""
    for round_ in range(ROUNDS):
        till = PosClient(Client(), terminal)
        sale_no = f"SALE-{round_}"
        sold = till.receipt(sale(member, receipt_no=sale_no, amount_fen=100_000))
        assert sold.status_code == 201
        earned, before = sold.json()["points_earned"], points_balance(member_id=member.pk)

        refund = refund_body(member, f"RF-{round_}", sale_no, 40_000)
        responses = _race(5, lambda _i, b=refund: PosClient(Client(), terminal).receipt(b))

        assert sorted(r.status_code for r in responses) == [200] * 4 + [201]
        assert PointsEntry.objects.filter(kind="refund").count() == 2 * round_ + 1
        assert before - earned < points_balance(member_id=member.pk) < before
        bodies = [
            refund_body(member, f"RG-{round_}", sale_no, 70_000),
            refund_body(member, f"RH-{round_}", sale_no, 60_000),
        ]
        responses = _race(2, lambda i, b=bodies: PosClient(Client(), terminal).receipt(b[i]))

        assert [r.status_code for r in responses] == [400, 201], [r.json() for r in responses]
        assert points_balance(member_id=member.pk) == before - earned  # refunded in full
        assert PointsEntry.objects.filter(kind="refund").count() == 2 * (round_ + 1)
    assert ledger_check() == []


def refund_body(member, receipt_no, sale_no, amount_fen):
    return sale(member, receipt_no=receipt_no, amount_fen=amount_fen, refund_of=sale_no)
