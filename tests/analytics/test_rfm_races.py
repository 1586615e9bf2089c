"""rfm_run killed half-way, and two runs at once: a real second process against this test's
database, held inside its COPY by a table lock this test takes."""

import os
import subprocess
import sys
import time
import zlib
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from analytics.models import RfmRow, RfmSnapshot
from analytics.services import LOCK_NAME
from analytics.tasks import rfm_run_nightly
from tests.analytics.test_rfm_run import fixture_mall  # noqa: F401 (a fixture)
from tests.conftest import ROOT, database_env

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def scalar(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def start_run(as_of: str) -> subprocess.Popen:
    env = {**os.environ, **database_env(), "DJANGO_ENV": "test"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "manage.py", "rfm_run", "--as-of", as_of, "--window-days", "10"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def blocked_in_copy() -> bool:
    return bool(
        scalar(
            "SELECT count(*) FROM pg_locks"
            " WHERE NOT granted AND relation = 'analytics_rfmrow'::regclass"
        )
    )


def no_advisory_lock() -> bool:
    """No session holds the RFM run's lock in this database (other suites on the server and
    other jobs' locks are not its business)."""
    key = zlib.crc32(LOCK_NAME.encode())
    sql = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = 0 AND objsubid = 1 AND objid = "
    )
    return not scalar(sql + str(int(key)))


def test_a_killed_run_leaves_the_previous_snapshot_and_a_rerun_completes(fixture_mall):  # noqa: F811
    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    previous = RfmSnapshot.objects.get(is_current=True)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE analytics_rfmrow IN SHARE MODE")
        process = start_run("2026-07-03")
        wait_for(blocked_in_copy)
        process.kill()
        process.wait()
    wait_for(no_advisory_lock)  # the killed run's session ends once its COPY finds no client
    killed = RfmSnapshot.objects.exclude(pk=previous.pk).get()
    assert killed.status == RfmSnapshot.Status.RUNNING and not killed.is_current
    assert not RfmRow.objects.filter(snapshot=killed).exists()
    assert RfmSnapshot.objects.get(is_current=True) == previous

    call_command("rfm_run", "--as-of", "2026-07-03", "--window-days", "10")
    killed.refresh_from_db()
    assert killed.status == RfmSnapshot.Status.FAILED
    current = RfmSnapshot.objects.get(is_current=True)
    assert (current.as_of, current.row_count) == (date(2026, 7, 3), 4)


def test_a_second_run_refuses_while_one_is_writing(fixture_mall):  # noqa: F811
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE analytics_rfmrow IN SHARE MODE")
        process = start_run("2026-06-30")
        wait_for(blocked_in_copy)
        with pytest.raises(CommandError, match="另一个 RFM 计算正在进行"):
            call_command("rfm_run", "--as-of", "2026-07-03", "--window-days", "10")
        assert rfm_run_nightly() == {"skipped": "running elsewhere"}
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    current = RfmSnapshot.objects.get(is_current=True)
    assert current.as_of == date(2026, 6, 30)
    assert RfmSnapshot.objects.count() == 1  # the refused runs created nothing


def test_the_nightly_task_builds_yesterdays_snapshot_and_is_scheduled(fixture_mall, time_machine):  # noqa: F811
    from django_celery_beat.models import PeriodicTask

    time_machine.move_to("2026-07-01T04:00:00+08:00")
    result = rfm_run_nightly()
    assert result["as_of"] == "2026-06-30" and result["members"] == 6
    assert RfmSnapshot.objects.get(is_current=True).window_days == 365
    # the migration's schedule (a flush empties it: check the migration's function instead)
    from importlib import import_module

    from django.apps import apps

    import_module("analytics.migrations.0001_rfm").schedule(apps, None)
    task = PeriodicTask.objects.get(task="analytics.tasks.rfm_run_nightly")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == (
        "4",
        "0",
        "Asia/Shanghai",
    )


def test_the_nightly_task_moves_the_running_state_on(fixture_mall, time_machine):  # noqa: F811
    """Outside a test's transaction: the watermark under its table lock, the REPEATABLE READ
    run; the second night comes from the state and matches a scan of the window."""
    from analytics.models import RfmState
    from loyalty.models import Receipt
    from tests.analytics.test_rfm_run import at, receipt

    time_machine.move_to("2026-07-01T04:00:00+08:00")
    rfm_run_nightly()
    first = RfmSnapshot.objects.get(is_current=True)
    assert not first.from_state
    assert RfmState.objects.get().receipt_watermark == Receipt.objects.latest("id").pk

    store = fixture_mall["A"].home_store
    receipt(store, fixture_mall["D"], at("2026-06-25"), 400)  # recorded late
    receipt(store, fixture_mall["A"], at("2026-07-01", "09:00:00"), 300)  # the new day
    time_machine.move_to("2026-07-02T04:00:00+08:00")
    rfm_run_nightly()
    nightly = RfmSnapshot.objects.get(is_current=True)
    assert nightly.from_state and nightly.as_of == date(2026, 7, 1)

    def rows(snapshot):
        return list(
            RfmRow.objects.filter(snapshot=snapshot)
            .order_by("member_id")
            .values_list("member_id", "recency_days", "frequency", "monetary_fen", "rfm_class")
        )

    call_command("rfm_run", "--as-of", "2026-07-01", "--full")
    full = RfmSnapshot.objects.get(is_current=True)
    assert not full.from_state
    assert rows(nightly) == rows(full) and len(rows(full)) == 6
    assert (nightly.lifecycle_cuts, nightly.interval_histogram) == (
        full.lifecycle_cuts,
        full.interval_histogram,
    )


def test_a_run_that_cannot_lock_the_receipts_scans_and_leaves_the_state(fixture_mall, monkeypatch):  # noqa: F811
    """An import holding loyalty_receipt (an insert not yet committed): the watermark cannot be
    safe, so the run scans the window and leaves the state of the night before as it was."""
    import psycopg2

    from analytics import rfm_state
    from analytics.models import RfmSettings, RfmState

    settings = RfmSettings.current()
    settings.window_days = 10
    settings.save()
    call_command("rfm_run", "--as-of", "2026-06-30")
    state = RfmState.objects.get()
    monkeypatch.setattr(rfm_state, "WATERMARK_LOCK_TIMEOUT", "200ms")
    params = connection.get_connection_params()
    other = psycopg2.connect(**params)
    try:
        with other.cursor() as cursor:
            cursor.execute("LOCK TABLE loyalty_receipt IN ROW EXCLUSIVE MODE")
        call_command("rfm_run", "--as-of", "2026-07-01")
    finally:
        other.rollback()
        other.close()
    current = RfmSnapshot.objects.get(is_current=True)
    assert current.as_of == date(2026, 7, 1) and not current.from_state
    assert RfmState.objects.get().as_of == state.as_of == date(2026, 6, 30)
    call_command("rfm_run", "--as-of", "2026-07-01")  # the lock is free: from the state
    assert RfmSnapshot.objects.get(is_current=True).from_state
    assert RfmState.objects.get().as_of == date(2026, 7, 1)
