"""Threads on real connections for the lock and race tests (transaction=True tests)."""

import threading
import time

from django.db import connection


def deadlock_timeout(ms: int) -> None:
    """How long this session waits on a lock before it looks for a deadlock (superuser)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET deadlock_timeout = {int(ms)}")


def in_threads(*works, together: bool = False, deadlock_ms: int | None = None):
    """Run each callable in its own thread (own connection): their results or exceptions, in
    order. `together`: released at once by a barrier; `deadlock_ms`: each session looks for
    deadlocks after that long."""
    results = [None] * len(works)
    barrier = threading.Barrier(len(works), timeout=20) if together else None

    def run(i):
        try:
            if deadlock_ms is not None:
                deadlock_timeout(deadlock_ms)
            if barrier is not None:
                barrier.wait()
            results[i] = works[i]()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def wait_for_a_lock_waiter(timeout=10.0) -> None:
    """Until another session of this database waits on a lock (polled outside a transaction:
    pg_stat_activity is read afresh by each statement only then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError("no session waited on a lock")
