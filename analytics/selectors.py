from collections.abc import Iterator
from datetime import date, timedelta

from django.db.models import Avg, Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Collate, TruncDate
from django.utils import timezone

from analytics.actions import KIND_TITLES, rfm_action_kind
from analytics.models import (
    ClvScore,
    LifecycleChange,
    LifecycleStage,
    RfmClass,
    RfmRow,
    RfmSnapshot,
)
from analytics.predicted_value import clv_run_current
from analytics.rfm import STAGE_NAMES
from core.dates import local_day_start
from loyalty.models import Receipt
from members.models import Member
from members.scoping import scoped, scoped_members
from stores.scoping import store_lookups


def dashboard_figures(*, user, today: date | None = None) -> dict:
    """Headline counts of the back-office home, within `user`'s data scope."""
    today = today or timezone.localdate()
    start = local_day_start(today)
    members = scoped(Member.objects.all(), user=user, store_field="home_store")
    receipts = scoped(Receipt.objects.all(), user=user, store_field="store")
    member_counts = members.aggregate(
        total=Count("id", filter=~Q(status=Member.Status.CLOSED)),
        new_today=Count("id", filter=Q(registered_at__gte=start)),
    )
    today_sales = receipts.filter(occurred_at__gte=start, occurred_at__lt=start + timedelta(1))
    receipt_counts = today_sales.aggregate(
        receipts=Count("id", filter=Q(kind=Receipt.Kind.SALE)),
        member_receipts=Count("id", filter=Q(kind=Receipt.Kind.SALE, member__isnull=False)),
        sales_fen=Sum("total_fen", filter=Q(kind=Receipt.Kind.SALE), default=0),
        refunds_fen=Sum("total_fen", filter=Q(kind=Receipt.Kind.REFUND), default=0),
    )
    return {
        "members": member_counts["total"],
        "members_new_today": member_counts["new_today"],
        "receipts_today": receipt_counts["receipts"],
        "member_receipts_today": receipt_counts["member_receipts"],
        "sales_today_fen": receipt_counts["sales_fen"] - receipt_counts["refunds_fen"],
    }


def daily_sales(*, user, days: int = 30, today: date | None = None) -> list[dict]:
    """Sale receipts and their total per local day for the last `days` days, oldest first."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    receipts = scoped(Receipt.objects.all(), user=user, store_field="store")
    rows = (
        receipts.filter(kind=Receipt.Kind.SALE, occurred_at__gte=local_day_start(first))
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(
            receipts=Count("id"),
            member_receipts=Count("id", filter=Q(member__isnull=False)),
            sales_fen=Sum("total_fen"),
        )
    )
    by_day = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(offset)
        row = by_day.get(day, {})
        series.append(
            {
                "day": day.isoformat(),
                "receipts": row.get("receipts", 0),
                "member_receipts": row.get("member_receipts", 0),
                "sales_fen": row.get("sales_fen") or 0,
            }
        )
    return series


EXPORT_HEADER = [
    "card_no",
    "recency_days",
    "frequency",
    "monetary_fen",
    "r_score",
    "f_score",
    "m_score",
    "rfm_class",
    "lifecycle_stage",
]


def rfm_current_snapshot():
    return RfmSnapshot.objects.filter(is_current=True).first()


def rfm_export_rows(snapshot) -> Iterator[tuple]:
    """The rows of `snapshot` as rfm_export writes them, by card number (bytewise)."""
    rows = (
        RfmRow.objects.filter(snapshot=snapshot)
        .order_by(Collate("member__card_no", "C"))
        .values_list(
            "member__card_no",
            "recency_days",
            "frequency",
            "monetary_fen",
            "r_score",
            "f_score",
            "m_score",
            "rfm_class",
            "lifecycle_stage",
        )
    )
    for row in rows.iterator(chunk_size=5000):
        yield (*row[:8], STAGE_NAMES.get(row[8], ""))


def _members_in_scope(queryset, *, user):
    """Rows of `queryset` (with a `member`) whose member is in `user`'s data scope."""
    lookups = store_lookups(user)
    if lookups is None:
        return queryset.none()
    if lookups:  # staff of some stores: their stores' members only
        return queryset.filter(member__in=scoped_members(Member.objects.all(), user=user))
    return queryset


def _predicted_value_by_class(rows) -> dict:
    """The current CLV run beside the RFM classes: per class the members' average p_alive and
    expected value of the next 365 days (members the run left out do not count); {} before
    the first run. One GROUP BY, each row's score found through the (member, run) index."""
    run = clv_run_current()
    if run is None:
        return {}
    scores = ClvScore.objects.filter(run=run, member=OuterRef("member"))
    return {
        r["rfm_class"]: {
            "p_alive": None if r["p_alive"] is None else round(100 * r["p_alive"]),
            "expected_value_fen": None if r["value"] is None else round(r["value"]),
        }
        for r in rows.values("rfm_class").annotate(
            p_alive=Avg(Subquery(scores.values("p_alive")[:1])),
            value=Avg(Subquery(scores.values("expected_value_fen")[:1])),
        )
    }


def rfm_overview(*, user) -> dict | None:
    """The current snapshot's eight classes (count, share, average R/F/M, the naming's action)
    and its lifecycle stages and stage changes, within `user`'s data scope; two GROUP BYs."""
    snapshot = rfm_current_snapshot()
    if snapshot is None:
        return None
    rows = _members_in_scope(RfmRow.objects.filter(snapshot=snapshot), user=user)
    per_class = {
        r["rfm_class"]: r
        for r in rows.values("rfm_class").annotate(
            members=Count("id"),
            recency=Avg("recency_days"),
            frequency=Avg("frequency"),
            monetary_fen=Avg("monetary_fen"),
        )
    }
    per_stage = dict(
        rows.values("lifecycle_stage").annotate(n=Count("id")).values_list("lifecycle_stage", "n")
    )
    predicted = _predicted_value_by_class(rows)
    total = sum(r["members"] for r in per_class.values())
    classes = []
    for cell in RfmClass.objects.filter(preset=snapshot.preset):
        row = per_class.get(cell.label, {})
        count = row.get("members", 0)
        classes.append(
            {
                "id": cell.pk,
                "label": cell.label,
                "r_short": cell.r_short,
                "f_high": cell.f_high,
                "m_high": cell.m_high,
                "action": cell.action,
                "action_title": KIND_TITLES[rfm_action_kind(cell.action)] if cell.action else "",
                "members": count,
                "share": round(100 * count / total, 1) if total else 0,
                "recency": round(row["recency"], 1) if count else None,
                "frequency": round(row["frequency"], 2) if count else None,
                "monetary_fen": round(row["monetary_fen"]) if count else None,
                **predicted.get(cell.label, {"p_alive": None, "expected_value_fen": None}),
            }
        )
    stages = [
        {
            "code": stage.value,
            "label": str(stage.label),
            "members": per_stage.get(stage.value, 0),
            "share": round(100 * per_stage.get(stage.value, 0) / total, 1) if total else 0,
        }
        for stage in LifecycleStage
    ]
    changes = [
        {"from": STAGE_NAMES.get(c["from_stage"], "—"), "to": STAGE_NAMES.get(c["to_stage"], "—")}
        | {"members": c["n"]}
        for c in _members_in_scope(LifecycleChange.objects.filter(snapshot=snapshot), user=user)
        .values("from_stage", "to_stage")
        .annotate(n=Count("id"))
        .order_by("-n")[:12]
    ]
    return {
        "snapshot": snapshot,
        "total": total,
        "classes": classes,
        "stages": stages,
        "changes": changes,
    }


def clv_scores(*, user, run, p_alive_below=None, value_above_fen: int | None = None):
    """`run`'s scores of the members in `user`'s scope, highest expected value first, with
    the optional "likely to lapse" cuts (strict: p_alive < x, value > y)."""
    scores = ClvScore.objects.filter(
        run=run, member__in=scoped_members(Member.objects.all(), user=user).values("pk")
    )
    if p_alive_below is not None:
        scores = scores.filter(p_alive__lt=float(p_alive_below))
    if value_above_fen is not None:
        scores = scores.filter(expected_value_fen__gt=value_above_fen)
    return scores.select_related("member").order_by("-expected_value_fen", "member_id")
