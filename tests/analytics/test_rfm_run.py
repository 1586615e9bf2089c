"""rfm_run and rfm_export against hand-computed fixtures (DESIGN.md, "Contracts")."""

import csv
import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from psycopg2.errors import StringDataRightTruncation

from analytics import services
from analytics.models import LifecycleChange, RfmRow, RfmSettings, RfmSnapshot
from loyalty.models import Receipt
from tests.members.factories import MemberFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2026, 6, 30)
_numbers = itertools.count(1)


def at(day: str, clock: str = "12:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def receipt(store, member, when, fen, *, refund_of=None):
    return Receipt.objects.create(
        store=store,
        pos_no="P1",
        receipt_no=f"R{next(_numbers)}",
        occurred_at=when,
        member=member,
        kind=Receipt.Kind.REFUND if refund_of else Receipt.Kind.SALE,
        refund_of=refund_of,
        division="department",
        total_fen=fen,
    )


@pytest.fixture
def fixture_mall(store):
    """The window of 10 days as of 2026-06-30 is Shanghai dates 06-21 … 06-30."""
    a, b, c, d, e, f = (
        MemberFactory(card_no=card, home_store=store)
        for card in ["A100", "B200", "C300", "D400", "E500", "e600"]
    )
    # A: the first instant of the window counts, the last second before it does not;
    # a refund of a sale in the window counts where it occurred
    receipt(store, a, at("2026-06-20", "23:59:59"), 9999)
    receipt(store, a, at("2026-06-21", "00:00:00"), 1000)
    sale = receipt(store, a, at("2026-06-25"), 2000)
    receipt(store, a, at("2026-06-26"), 500, refund_of=sale)
    # B: the last second of the as-of date counts, the next day does not
    receipt(store, b, at("2026-06-30", "23:59:59"), 3000)
    receipt(store, b, at("2026-07-01", "00:00:00"), 7777)
    # C: the refund in the window of a sale before it still counts
    old = receipt(store, c, at("2026-06-10"), 800)
    receipt(store, c, at("2026-06-22"), 1000)
    receipt(store, c, at("2026-06-28"), 800, refund_of=old)
    # D: only a refund in the window: no purchase, left out
    old = receipt(store, d, at("2026-06-15"), 600)
    receipt(store, d, at("2026-06-29"), 600, refund_of=old)
    # E and F tie on R, F and M; E's two receipts fall on one day
    receipt(store, e, at("2026-06-28", "10:00:00"), 1000)
    receipt(store, e, at("2026-06-28", "18:00:00"), 500)
    receipt(store, f, at("2026-06-27"), 750)
    receipt(store, f, at("2026-06-28"), 750)
    # no member: ignored
    receipt(store, None, at("2026-06-29"), 5000)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}


# R: 5 0 8 2 2 (mean 3.4: B E F short); F: 2 1 1 2 2 (mean 1.6: A E F high);
# M: 2500 3000 200 1500 1500 (mean 1740: A B high). Repurchase gaps in the window: A 4, F 1;
# P50/P80/P95 = 2.5, 3.4, 3.85: recency 0 and 2 are active, 5 and 8 lost.
EXPECTED = [
    ["card_no", "recency_days", "frequency", "monetary_fen", "r_score", "f_score", "m_score"]
    + ["rfm_class", "lifecycle_stage"],
    ["A100", "5", "2", "2500", "2", "3", "4", "重要挽留", "流失"],
    ["B200", "0", "1", "3000", "5", "1", "5", "重要价值", "活跃"],
    ["C300", "8", "1", "200", "1", "1", "1", "无价值", "流失"],
    ["E500", "2", "2", "1500", "3", "3", "2", "一般客户", "活跃"],
    ["e600", "2", "2", "1500", "3", "3", "2", "一般客户", "活跃"],
]


def export(tmp_path) -> list[list[str]]:
    path = tmp_path / "rfm.csv"
    call_command("rfm_export", str(path))
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_run_and_export_match_the_hand_computed_snapshot(fixture_mall, tmp_path, capsys):
    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    line = capsys.readouterr().out.strip()
    assert "as_of=2026-06-30 window_days=10 members=5" in line
    assert export(tmp_path) == EXPECTED
    snapshot = RfmSnapshot.objects.get(is_current=True)
    assert snapshot.status == RfmSnapshot.Status.DONE
    assert (snapshot.recency_cut, snapshot.frequency_cut, snapshot.monetary_cut) == (
        3.4,
        1.6,
        1740.0,
    )
    assert snapshot.lifecycle_cuts == pytest.approx([2.5, 3.4, 3.85])
    assert snapshot.interval_histogram == [[1, 1], [4, 1]]


def test_default_is_yesterday_over_365_days(fixture_mall, time_machine):
    time_machine.move_to(at("2026-07-01", "03:00:00"))
    call_command("rfm_run")
    snapshot = RfmSnapshot.objects.get(is_current=True)
    assert (snapshot.as_of, snapshot.window_days) == (AS_OF, 365)
    # D's sale of 06-15 is in a year's window now; C's sale of 06-10 too
    assert RfmRow.objects.filter(snapshot=snapshot).count() == 6


def test_a_new_snapshot_replaces_the_current_and_keeps_stage_changes(fixture_mall, tmp_path):
    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    first = RfmSnapshot.objects.get(is_current=True)
    call_command("rfm_run", "--as-of", "2026-07-03", "--window-days", "10")
    second = RfmSnapshot.objects.get(is_current=True)
    assert second.pk != first.pk
    assert RfmRow.objects.filter(snapshot=first).count() == 5  # history kept
    changes = {
        (c.member.card_no, c.from_stage, c.to_stage)
        for c in LifecycleChange.objects.filter(snapshot=second).select_related("member")
    }
    # as of 07-03 (window 06-24 … 07-03) the gaps are B's 1 (06-30, 07-01) and F's 1: every
    # cut is 1.0, so recency 1 or more is lost; C has no sale in the window any more
    assert changes == {
        ("B200", "active", "lost"),
        ("C300", "lost", ""),
        ("E500", "active", "lost"),
        ("e600", "active", "lost"),
    }


def test_a_run_failing_half_way_leaves_the_previous_snapshot(fixture_mall, tmp_path, monkeypatch):
    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    previous = RfmSnapshot.objects.get(is_current=True)
    # a stage too long for its column: the COPY fails inside Postgres, part-way through
    monkeypatch.setattr(
        services.rfm, "lifecycle_stages", lambda recency, cuts: ["x" * 20] * len(recency)
    )
    with pytest.raises(StringDataRightTruncation):
        call_command("rfm_run", "--as-of", "2026-07-03", "--window-days", "10")
    failed = RfmSnapshot.objects.exclude(pk=previous.pk).get()
    assert failed.status == RfmSnapshot.Status.FAILED and not failed.is_current
    assert not RfmRow.objects.filter(snapshot=failed).exists()
    assert RfmSnapshot.objects.get(is_current=True) == previous
    assert export(tmp_path) == EXPECTED
    monkeypatch.undo()
    call_command("rfm_run", "--as-of", "2026-07-03", "--window-days", "10")
    assert RfmSnapshot.objects.get(is_current=True).as_of == date(2026, 7, 3)


def test_a_window_of_no_days_is_refused(db):
    with pytest.raises(CommandError):
        call_command("rfm_run", "--window-days", "0")
    assert not RfmSnapshot.objects.exists()


def test_export_without_a_snapshot_says_so(db, tmp_path):
    with pytest.raises(CommandError, match="rfm_run"):
        call_command("rfm_export", str(tmp_path / "x.csv"))


def test_the_median_cut_from_the_settings(fixture_mall, tmp_path):
    settings = RfmSettings.current()
    settings.cut_method = RfmSettings.CutMethod.MEDIAN
    settings.save()
    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    # medians R 2, F 2, M 1500: short R is 0 only (B), high F nobody, high M A and B
    classes = dict(
        RfmRow.objects.filter(snapshot__is_current=True).values_list("member__card_no", "rfm_class")
    )
    assert classes == {
        "A100": "一般重要",
        "B200": "重要价值",
        "C300": "无价值",
        "E500": "无价值",
        "e600": "无价值",
    }


def test_purchase_days_across_the_bitmap_words_give_the_right_gaps(store):
    """A 200-day window's purchase days travel as four 64-bit words: gaps across the words'
    edges, two sales on one day and a refund between sales all count as they should."""
    from datetime import timedelta

    first = AS_OF - timedelta(days=199)
    x, y, z = (MemberFactory(home_store=store) for _ in range(3))

    def on(offset):
        return at((first + timedelta(days=offset)).isoformat())

    for offset in (0, 63, 64, 127, 128, 199):
        receipt(store, x, on(offset), 100)
    receipt(store, y, on(5), 100)
    receipt(store, y, on(5), 100)
    receipt(store, y, on(70), 100)
    sale = receipt(store, z, on(10), 100)
    receipt(store, z, on(50), 100, refund_of=sale)  # a refund is no purchase day
    receipt(store, z, on(100), 100)
    receipt(store, z, on(200), 100)  # after the as-of date

    snapshot = services.rfm_snapshot_build(as_of=AS_OF, window_days=200)

    assert snapshot.interval_histogram == [[1, 2], [63, 2], [65, 1], [71, 1], [90, 1]]
    # percentile_cont over 1 1 63 63 65 71 90: P50 63, P80 at 4.8: 65 + 0.8 × 6, P95 at 5.7:
    # 71 + 0.7 × 19
    assert snapshot.lifecycle_cuts == pytest.approx([63.0, 69.8, 84.3])


def test_each_snapshot_has_a_table_of_rows_and_a_deleted_ones_goes_with_the_next_run(fixture_mall):
    from django.db import connection

    def partitions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'analytics_rfmrow'::regclass ORDER BY 1"
            )
            return {row[0] for row in cursor.fetchall()}

    first = services.rfm_snapshot_build(as_of=AS_OF, window_days=10)
    second = services.rfm_snapshot_build(as_of=date(2026, 7, 3), window_days=10)
    assert {f"analytics_rfmrow_s{first.pk}", f"analytics_rfmrow_s{second.pk}"} <= partitions()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM analytics_rfmrow_s{first.pk}")  # noqa: S608
        assert cursor.fetchone()[0] == 5
    first.delete()  # its rows go (Django's cascade), its table stays until the next run
    assert not RfmRow.objects.filter(snapshot_id=first.pk).exists()
    third = services.rfm_snapshot_build(as_of=date(2026, 7, 4), window_days=10)
    assert f"analytics_rfmrow_s{first.pk}" not in partitions()
    assert {f"analytics_rfmrow_s{second.pk}", f"analytics_rfmrow_s{third.pk}"} <= partitions()
    assert "analytics_rfmrow_default" in partitions()
