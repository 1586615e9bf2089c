"""core.retry against real deadlocks on real Postgres: two connections taking two row locks
in opposite orders (threads, transaction=True). Postgres aborts one of them with SQLSTATE
40P01; the outermost retry_on_deadlock runs it again, and gives up with DatabaseBusy, which
the POS API answers as 503 database_busy with Retry-After."""

import threading
from collections import Counter

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client

from core.exceptions import DatabaseBusy
from core.retry import retry_on_deadlock, sqlstate
from loyalty.ledger import account_get_or_create, points_balance
from loyalty.models import Receipt
from loyalty.receipts import purchase_lock
from stores.models import Store
from tests.conftest import PosClient, sale
from tests.stores.factories import StoreFactory
from tests.threads import deadlock_timeout, in_threads, wait_for_a_lock_waiter

pytestmark = pytest.mark.django_db(transaction=True)


def lockers():
    """Two stores and a service locking both in a given order; the first run of each caller
    waits at a barrier between its two locks, so the two callers deadlock for sure."""
    a, b = StoreFactory(code="LA"), StoreFactory(code="LB")
    runs, barrier = Counter(), threading.Barrier(2, timeout=10)

    def lock_both(name, first, second):
        with transaction.atomic():
            runs[name] += 1
            Store.objects.select_for_update().get(pk=first.pk)
            if runs[name] == 1:
                barrier.wait()
            Store.objects.select_for_update().get(pk=second.pk)
        return name

    return a, b, runs, lock_both


def test_a_real_deadlock_is_retried_and_both_transactions_then_succeed(caplog):
    a, b, runs, lock_both = lockers()
    retried = retry_on_deadlock(lock_both)

    def caller(name, first, second):
        def work():
            deadlock_timeout(100)
            return retried(name, first, second)

        return work

    results = in_threads(caller("ab", a, b), caller("ba", b, a))

    assert results == ["ab", "ba"]
    assert sorted(runs.values()) == [1, 2]  # the deadlock's victim ran twice
    assert "SQLSTATE 40P01" in caplog.text


def test_inside_a_callers_transaction_it_does_not_retry_but_lets_the_deadlock_through():
    a, b, runs, lock_both = lockers()
    retried = retry_on_deadlock(lock_both)

    def nested():
        deadlock_timeout(100)
        with transaction.atomic():
            return retried("ab", a, b)

    def outer():
        deadlock_timeout(5000)  # the other session is the one that detects the deadlock
        return retried("ba", b, a)

    nested_result, outer_result = in_threads(nested, outer)

    assert isinstance(nested_result, OperationalError)
    assert sqlstate(nested_result) == "40P01"
    assert outer_result == "ba"
    assert runs == {"ab": 1, "ba": 1}


def test_the_last_try_failing_raises_database_busy():
    a, b, runs, lock_both = lockers()
    once = retry_on_deadlock(lock_both, tries=1)

    def victim():
        deadlock_timeout(100)
        return once("ab", a, b)

    def other():
        deadlock_timeout(5000)
        return once("ba", b, a)

    victim_result, other_result = in_threads(victim, other)

    assert isinstance(victim_result, DatabaseBusy)
    assert victim_result.code == "database_busy"
    assert sqlstate(victim_result.__cause__) == "40P01"
    assert other_result == "ba"


# --- Through the POS API: a receipt deadlocked by a session holding the member's points
# account and then asking for the purchase's lock, which the receipt takes before the account
# (the opposite order: a claim approval takes them in the receipt's).


def receipt_against_a_deadlock(terminal, member, receipt_no):
    account = account_get_or_create(member_id=member.pk)
    account_held, waiter_seen = threading.Event(), threading.Event()

    def blocker():
        with transaction.atomic():
            deadlock_timeout(5000)  # the till's session is the one to detect the deadlock
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM loyalty_pointsaccount WHERE id = %s FOR UPDATE", [account.pk]
                )
                account_held.set()
                assert waiter_seen.wait(10)
            purchase_lock(store_id=member.home_store_id, receipt_no=receipt_no)
        return "blocker done"

    def till():
        assert account_held.wait(10)
        deadlock_timeout(100)
        return PosClient(Client(), terminal).receipt(sale(member, receipt_no=receipt_no))

    def watcher():
        assert account_held.wait(10)
        wait_for_a_lock_waiter()
        waiter_seen.set()

    blocked, response, _ = in_threads(blocker, till, watcher)
    assert blocked == "blocker done"
    return response


def test_a_receipt_deadlocked_once_is_retried_and_recorded(
    terminal, member, caplog, loyalty_defaults
):
    response = receipt_against_a_deadlock(terminal, member, "DEADLOCK-1")

    assert response.status_code == 201, response.content
    assert "DeadlockDetected (SQLSTATE 40P01), run 1 of 3" in caplog.text
    assert Receipt.objects.filter(receipt_no="DEADLOCK-1").count() == 1
    assert points_balance(member_id=member.pk) == 299


def test_a_receipt_deadlocked_on_its_last_try_is_a_503_database_busy(
    terminal, member, settings, loyalty_defaults
):
    settings.DB_RETRY_TRIES = 1

    response = receipt_against_a_deadlock(terminal, member, "DEADLOCK-2")

    assert response.status_code == 503
    assert response.json() == {"error": "database_busy"}
    assert response["Retry-After"] == "1"
    assert not Receipt.objects.filter(receipt_no="DEADLOCK-2").exists()
    assert points_balance(member_id=member.pk) == 0
    # The till sends the same receipt again once the database is free: it is recorded.
    again = PosClient(Client(), terminal).receipt(sale(member, receipt_no="DEADLOCK-2"))
    assert again.status_code == 201
    assert points_balance(member_id=member.pk) == 299
