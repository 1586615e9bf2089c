"""Loyalty reads for the member pages and the back office (joins planned, newest first)."""

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from loyalty.ledger import points_standing
from loyalty.models import PointsAccount, PointsEntry, Receipt, ReceiptLine
from members.models import Member
from stores.models import Division


def member_receipts(*, member: Member, division: str | None = None) -> QuerySet:
    """The member's receipts, newest first, each with `points`: what it earned (a sale) or
    took back (a refund), summed in the same query."""
    receipts = (
        Receipt.objects.filter(member=member)
        .annotate(points=Coalesce(Subquery(_receipt_points_sum()), 0))
        .select_related("store")
        .prefetch_related(Prefetch("lines", queryset=ReceiptLine.objects.order_by("line_no")))
        .order_by("-occurred_at", "-id")
    )
    if division in Division.values:
        receipts = receipts.filter(division=division)
    return receipts


def _receipt_points_sum() -> QuerySet:
    return (
        PointsEntry.objects.filter(receipt=OuterRef("pk"))
        .order_by()
        .values("receipt")
        .annotate(total=Sum("points"))
        .values("total")
    )


def member_entries(*, member: Member) -> QuerySet:
    return (
        PointsEntry.objects.filter(account__member=member)
        .select_related("receipt__store", "actor__staff_profile")
        .order_by("-created_at", "-id")
    )


def member_receipt(*, member: Member, receipt_id: int) -> Receipt:
    """The member's own receipt with its lines and points; Receipt.DoesNotExist otherwise."""
    return (
        Receipt.objects.select_related("store", "refund_of")
        .prefetch_related("lines", "refunds", "points_entries")
        .get(pk=receipt_id, member=member)
    )


def receipt_points(receipt: Receipt) -> int:
    return sum(entry.points for entry in receipt.points_entries.all())


def account_of(member: Member) -> PointsAccount | None:
    return PointsAccount.objects.filter(member=member).select_related("tier").first()


def points_totals(*, member: Member) -> dict:
    """Earned, spent and expired so far, for the points tab's header."""
    totals = PointsEntry.objects.filter(account__member=member).aggregate(
        earned=Sum("points", filter=Q(points__gt=0)),
        spent=Sum("points", filter=Q(kind__in=["redeem", "lottery"], points__lt=0)),
        expired=Sum("points", filter=Q(kind="expire")),
    )
    return {
        "earned": totals["earned"] or 0,
        "spent": -(totals["spent"] or 0),
        "expired": -(totals["expired"] or 0),
    }


def member_receipts_export(member: Member) -> list[dict]:
    """The member's receipts and their lines for the data download (members/data_rights.py)."""
    receipts = (
        Receipt.objects.filter(member=member)
        .select_related("store")
        .prefetch_related("lines")
        .order_by("occurred_at")
    )
    return [
        {
            "store": r.store.code,
            "pos_no": r.pos_no,
            "receipt_no": r.receipt_no,
            "time": r.occurred_at.isoformat(),
            "kind": r.kind,
            "total_fen": r.total_fen,
            "lines": [
                {
                    "name": line.name,
                    "spec": line.spec,
                    "brand": line.brand_name,
                    "qty": str(line.qty),
                    "amount_fen": line.amount_fen,
                }
                for line in r.lines.all()
            ],
        }
        for r in receipts
    ]


def member_standing(member: Member):
    """The member's (points balance, tier), read once per member object: the card page's
    summary and its recommendations share one query."""
    standing = getattr(member, "_points_standing", None)
    if standing is None:
        standing = member._points_standing = points_standing(member_id=member.pk)
    return standing
