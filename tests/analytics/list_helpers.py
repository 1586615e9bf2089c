"""Hand-built members for the member list, groups and tags tests: receipts with lines, points
accounts, a current RFM snapshot and predicted value run, written row by row."""

from datetime import date, timedelta
from itertools import count

from django.utils import timezone

from analytics.models import ClvRun, ClvScore, RfmRow, RfmSettings, RfmSnapshot
from core.dates import local_day_start
from loyalty.models import PointsAccount, Receipt, ReceiptLine, Tier
from stores.models import Division

_numbers = count(1)


def at(day: date, hour: int = 12):
    return local_day_start(day) + timedelta(hours=hour)


def receipt(member, *, store, day: date, total_fen=10_000, kind="sale", lines=()):
    """A receipt of `member` on `day`; `lines` are dicts of ReceiptLine fields."""
    r = Receipt.objects.create(
        store=store,
        pos_no="P01",
        receipt_no=f"R{next(_numbers):08d}",
        occurred_at=at(day),
        member=member,
        kind=kind,
        refund_of=None,
        division=Division.DEPARTMENT,
        total_fen=total_fen,
    )
    for number, line in enumerate(lines or [{"name": "商品"}], start=1):
        ReceiptLine.objects.create(
            receipt=r, line_no=number, qty=1, amount_fen=line.pop("amount_fen", total_fen), **line
        )
    return r


def points(member, balance: int, tier: Tier | None = None) -> PointsAccount:
    return PointsAccount.objects.create(member=member, balance=balance, tier=tier)


def snapshot(rows: dict, *, as_of: date | None = None) -> RfmSnapshot:
    """A current RFM snapshot; `rows` maps member → dict of RfmRow fields to override."""
    RfmSnapshot.objects.filter(is_current=True).update(is_current=False)
    snap = RfmSnapshot.objects.create(
        as_of=as_of or timezone.localdate() - timedelta(1),
        window_days=365,
        status=RfmSnapshot.Status.DONE,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        is_current=True,
        cut_method="mean",
        preset=RfmSettings.current().preset,
    )
    for member, fields in rows.items():
        values = {
            "recency_days": 10,
            "frequency": 1,
            "monetary_fen": 10_000,
            "r_score": 3,
            "f_score": 3,
            "m_score": 3,
            "r_short": True,
            "f_high": False,
            "m_high": False,
            "rfm_class": "重要发展",
            "lifecycle_stage": "active",
        } | fields
        RfmRow.objects.create(snapshot=snap, member=member, **values)
    return snap


def clv(scores: dict) -> ClvRun:
    """A current CLV run; `scores` maps member → (p_alive, expected_value_fen)."""
    ClvRun.objects.filter(is_current=True).update(is_current=False)
    run = ClvRun.objects.create(
        as_of=timezone.localdate() - timedelta(1), status="done", is_current=True
    )
    for member, (p_alive, value) in scores.items():
        ClvScore.objects.create(
            run=run,
            member=member,
            frequency=1,
            recency_days=1,
            t_days=2,
            monetary_fen=100,
            p_alive=p_alive,
            expected_purchases_90d=1.0,
            expected_value_fen=value,
        )
    return run
