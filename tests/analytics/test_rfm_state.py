"""The running state moved on night after night gives the same snapshots as a scan of the
window: random receipt histories with sales on and around the window's edges, purchases after
the as-of date, receipts recorded late, refunds of older sales, claims that give a receipt its
member and claimed receipts that get the till's time and total."""

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.models import LifecycleChange, RfmReceiptChange, RfmRow, RfmSettings, RfmStateRow
from analytics.services import rfm_snapshot_build
from loyalty.models import Receipt
from tests.members.factories import MemberFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST = date(2026, 3, 1)
_numbers = itertools.count(1)


class _Rollback(Exception):
    pass


def _facts(snapshot) -> dict:
    rows = list(
        RfmRow.objects.filter(snapshot=snapshot)
        .order_by("member_id")
        .values_list(
            "member_id", "recency_days", "frequency", "monetary_fen", "r_score", "f_score",
            "m_score", "r_short", "f_high", "m_high", "rfm_class", "lifecycle_stage",
        )
    )  # fmt: skip
    changes = set(
        LifecycleChange.objects.filter(snapshot=snapshot).values_list(
            "member_id", "from_stage", "to_stage"
        )
    )
    return {
        "rows": rows,
        "changes": changes,
        "as_of": snapshot.as_of,
        "row_count": snapshot.row_count,
        "cuts": (snapshot.recency_cut, snapshot.frequency_cut, snapshot.monetary_cut),
        "lifecycle_cuts": snapshot.lifecycle_cuts,
        "interval_histogram": snapshot.interval_histogram,
    }


def _full_snapshot(as_of: date) -> dict:
    """What a scan of the window gives, the state and everything else left as they were."""
    try:
        with transaction.atomic():
            snapshot = rfm_snapshot_build(as_of=as_of, full=True)
            assert not snapshot.from_state
            facts = _facts(snapshot)
            raise _Rollback
    except _Rollback:
        return facts


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment).replace(tzinfo=SHANGHAI)


MOMENTS = st.sampled_from([time(0, 0, 0), time(9, 30), time(12, 0), time(23, 59, 59)])


def _events(draw, store, members, receipts, as_of: date, window_days: int) -> None:
    """Receipts recorded during the day before the night of `as_of`."""
    for _ in range(draw(st.integers(0, 8))):
        what = draw(st.sampled_from(["sale", "sale", "sale", "refund", "claim", "refigure"]))
        if what == "sale":
            # mostly today, some late (days ago, in the window or before it), some ahead
            offset = draw(st.one_of(st.just(0), st.integers(-window_days - 2, 2)))
            member = draw(st.sampled_from([*members, None]))
            receipts.append(
                Receipt.objects.create(
                    store=store,
                    pos_no="P1",
                    receipt_no=f"S{next(_numbers)}",
                    occurred_at=_at(as_of + timedelta(days=offset), draw(MOMENTS)),
                    member=member,
                    kind=Receipt.Kind.SALE,
                    division="department",
                    total_fen=draw(st.integers(0, 5000)),
                )
            )
        sales = [r for r in receipts if r.kind == Receipt.Kind.SALE]
        if what == "refund" and sales:
            sale = draw(st.sampled_from(sales))
            later = draw(st.integers(0, window_days + 2))
            receipts.append(
                Receipt.objects.create(
                    store=store,
                    pos_no="P1",
                    receipt_no=f"F{next(_numbers)}",
                    occurred_at=sale.occurred_at + timedelta(days=later),
                    member=sale.member,
                    kind=Receipt.Kind.REFUND,
                    refund_of=sale,
                    division="department",
                    total_fen=draw(st.integers(0, sale.total_fen)),
                )
            )
        unclaimed = [r for r in sales if r.member is None]
        if what == "claim" and unclaimed:
            receipt = draw(st.sampled_from(unclaimed))
            receipt.member = draw(st.sampled_from(members))
            Receipt.objects.filter(pk=receipt.pk).update(member=receipt.member)
        if what == "refigure" and sales:
            # a claimed receipt takes the till's time and total when the till sends it
            receipt = draw(st.sampled_from(sales))
            receipt.occurred_at += timedelta(days=draw(st.integers(-3, 3)))
            receipt.total_fen = draw(st.integers(0, 5000))
            receipt.save(update_fields=["occurred_at", "total_fen"])


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_nightly_runs_from_the_state_match_scans_of_the_window(store, data):
    draw = data.draw
    try:
        with transaction.atomic():
            window_days = draw(st.sampled_from([3, 10, 70]), label="window_days")
            settings_ = RfmSettings.current()
            settings_.window_days = window_days
            settings_.save()
            members = [MemberFactory(home_store=store) for _ in range(3)]
            receipts = []
            as_of = FIRST
            for night in range(draw(st.integers(2, 6), label="nights")):
                if night:
                    as_of += timedelta(days=draw(st.integers(0, 3), label="step"))
                _events(draw, store, members, receipts, as_of, window_days)
                expected = _full_snapshot(as_of)
                snapshot = rfm_snapshot_build(as_of=as_of)
                assert snapshot.from_state == bool(night)
                assert _facts(snapshot) == expected, f"night {night}, as of {as_of}"
                assert not RfmReceiptChange.objects.exists()  # consumed
            raise _Rollback
    except _Rollback:
        pass


def test_a_step_too_long_or_another_window_scans_the_window(store):
    member = MemberFactory(home_store=store)
    Receipt.objects.create(
        store=store,
        pos_no="P1",
        receipt_no="X1",
        occurred_at=_at(FIRST, time(12)),
        member=member,
        division="department",
        total_fen=100,
    )
    assert not rfm_snapshot_build(as_of=FIRST).from_state
    assert RfmStateRow.objects.get().frequency == 1
    assert rfm_snapshot_build(as_of=FIRST + timedelta(days=31)).from_state
    # 32 days on, then a 10-day window for a look (the state stays the year's), then back
    # to a date before the state's: scans, and the state is still the year's as of FIRST + 63
    assert not rfm_snapshot_build(as_of=FIRST + timedelta(days=63)).from_state
    assert not rfm_snapshot_build(as_of=FIRST + timedelta(days=64), window_days=10).from_state
    assert not rfm_snapshot_build(as_of=FIRST).from_state
    assert rfm_snapshot_build(as_of=FIRST + timedelta(days=64)).from_state
    assert not rfm_snapshot_build(as_of=FIRST + timedelta(days=64), full=True).from_state


def test_an_empty_window_from_the_scan_and_from_the_state(store):
    snapshot = rfm_snapshot_build(as_of=FIRST)
    assert (snapshot.row_count, snapshot.from_state, snapshot.lifecycle_cuts) == (0, False, [])
    snapshot = rfm_snapshot_build(as_of=FIRST + timedelta(days=1))
    assert (snapshot.row_count, snapshot.from_state, snapshot.lifecycle_cuts) == (0, True, [])
    assert not RfmRow.objects.exists()
