from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import ClvScore
from core.dates import local_day_start
from loyalty.models import Receipt
from members.models import Member
from members.scoping import scoped, scoped_members


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
