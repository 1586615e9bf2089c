"""Points for many recorded receipts at once (imports, the demo history), by the POS API's
rules and under its idempotency keys, so a receipt earns once whichever way it came in.

A sale earns earning.points_earned over its lines with the member's current tier and the
promotion of its store, division and day; a refund takes back earning.points_reversed of
what its sale earned, refunds taken in receipt-time order. Receipts carry no payments, so
the whole total counts as paid. Everything is posted in one loyalty.ledger.points_post_many.
"""

import io
from collections import defaultdict, namedtuple
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection, transaction
from django.utils import timezone

from loyalty import earning
from loyalty.ledger import EntryIn, earn_key, points_post_many, refund_key
from loyalty.models import PointsEntry, Receipt
from loyalty.receipts import earn_rules, promotion_percent
from loyalty.tiers import tier_entry, tiers_raise, tiers_review


@dataclass(frozen=True)
class EarnResult:
    receipts: int  # receipts with a member that were looked at
    entries: int  # points entries appended
    points: int  # net points moved
    tier_changes: int


_Receipt = namedtuple(
    "_Receipt",
    "id store_id store_code pos_no receipt_no occurred_at member_id kind refund_of_id"
    " division total_fen",
)
_RECEIPTS = """
    SELECT r.id, r.store_id, s.code, r.pos_no, r.receipt_no, r.occurred_at, r.member_id,
           r.kind, r.refund_of_id, r.division, r.total_fen
    FROM loyalty_receipt r JOIN earn_ids USING (id) JOIN members_store s ON s.id = r.store_id
    WHERE r.member_id IS NOT NULL ORDER BY r.occurred_at, r.id"""

# Lines of one category and kind fall under the same earning rule, and with the whole total
# paid each line's paid share is its amount: summing them first changes no point.
_SALE_LINES = """
    SELECT l.receipt_id, COALESCE(c.division, r.division), l.category_id, c.parent_id,
           l.non_merchandise, SUM(l.amount_fen)::bigint
    FROM loyalty_receiptline l JOIN earn_ids e ON e.id = l.receipt_id
    JOIN loyalty_receipt r ON r.id = l.receipt_id
    LEFT JOIN loyalty_category c ON c.id = l.category_id
    WHERE r.kind = 'sale' AND r.member_id IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5"""


def receipts_earn(
    *, receipt_ids: list[int], history: bool = False, as_of: datetime | None = None
) -> EarnResult:
    """Earn (or for refunds take back) the points of the given recorded receipts, skipping
    any already posted, then settle tiers. Live (default): entries are dated now and tiers
    only go up, with a message, as the API does. `history` (loading past receipts): entries
    are dated at their receipts and every tier is reviewed as of `as_of`, silently.
    Locks the accounts involved (points_post_many)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE earn_ids (id bigint PRIMARY KEY) ON COMMIT DROP")
            cursor.copy_expert(
                "COPY earn_ids FROM STDIN",
                io.StringIO("".join(f"{pk}\n" for pk in sorted(set(receipt_ids)))),
            )
            cursor.execute("ANALYZE earn_ids")
            cursor.execute(_RECEIPTS)
            receipts = [_Receipt(*row) for row in cursor.fetchall()]
            cursor.execute(_SALE_LINES)
            lines = defaultdict(list)
            for receipt_id, division, category_id, parent_id, non_merch, fen in cursor.fetchall():
                lines[receipt_id].append(
                    earning.Line(division, category_id, parent_id, fen, non_merch)
                )
            cursor.execute(
                "SELECT DISTINCT e.receipt_id FROM loyalty_pointsentry e"
                " JOIN earn_ids i ON i.id = e.receipt_id WHERE e.kind IN ('earn', 'refund')"
            )
            posted = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "SELECT a.member_id, t.multiplier_percent FROM loyalty_pointsaccount a"
                " JOIN loyalty_tier t ON t.id = a.tier_id WHERE a.member_id IN"
                " (SELECT r.member_id FROM loyalty_receipt r JOIN earn_ids USING (id))"
            )
            tier_percent = dict(cursor.fetchall())
            cursor.execute("DROP TABLE earn_ids")
        entries = _entries(
            receipts, lines, posted=posted, tier_percent=tier_percent, history=history
        )
        posted = points_post_many(entries)
        members = sorted({row.member_id for row in receipts})
        if history:
            review = tiers_review(as_of=as_of or timezone.now(), notify=False)
            changes = review["up"] + review["down"]
        else:
            changes = tiers_raise(member_ids=members)
    return EarnResult(len(receipts), posted.entries, posted.points, changes)


def _entries(receipts, lines, *, posted, tier_percent, history: bool) -> list[EntryIn]:
    originals = {row.refund_of_id for row in receipts if row.refund_of_id is not None}
    # What the originals of the refunds earned and gave back so far, and all their refunds.
    earned = dict(
        PointsEntry.objects.filter(
            kind=PointsEntry.Kind.EARN, receipt_id__in=originals
        ).values_list("receipt_id", "points")
    )
    reversed_ = defaultdict(int)
    for receipt_id, points in PointsEntry.objects.filter(
        reverses__kind=PointsEntry.Kind.EARN, reverses__receipt_id__in=originals
    ).values_list("reverses__receipt_id", "points"):
        reversed_[receipt_id] -= points
    sale_total = dict(Receipt.objects.filter(pk__in=originals).values_list("pk", "total_fen"))
    refunded_before = {}
    running = defaultdict(int)
    for refund_id, original_id, total in (
        Receipt.objects.filter(refund_of_id__in=originals)
        .order_by("occurred_at", "pk")
        .values_list("pk", "refund_of_id", "total_fen")
    ):
        refunded_before[refund_id] = running[original_id]
        running[original_id] += total

    entry_tier = tier_entry()
    default_percent = entry_tier.multiplier_percent if entry_tier else 100
    rules = earn_rules()
    promotion = cache(promotion_percent)

    tz = timezone.get_current_timezone()
    sale_points = {}  # first: a refund may carry an earlier time than its sale
    for row in receipts:
        if row.kind == Receipt.Kind.SALE and row.id not in posted:
            day = row.occurred_at.astimezone(tz).date()
            sale_points[row.id] = earning.points_earned(
                lines=lines.get(row.id, []),
                paid_fen=row.total_fen,
                store_id=row.store_id,
                rules=rules,
                multiplier_percent=tier_percent.get(row.member_id, default_percent)
                * promotion(row.store_id, row.division, day)
                // 100,
            )
    earned.update(sale_points)

    entries = []
    for row in receipts:
        if row.id in posted:
            continue
        common = {
            "member_id": row.member_id,
            "receipt_id": row.id,
            "memo": f"{row.store_code}/{row.pos_no}/{row.receipt_no}",
            "created_at": row.occurred_at if history else None,
        }
        if row.kind == Receipt.Kind.SALE:
            if sale_points[row.id] > 0:
                entries.append(
                    EntryIn(
                        kind=PointsEntry.Kind.EARN,
                        points=sale_points[row.id],
                        key=earn_key(receipt_id=row.id),
                        earned_on=row.occurred_at.astimezone(tz).date(),
                        **common,
                    )
                )
            continue
        original = row.refund_of_id
        due = earning.points_reversed(
            earned=earned.get(original, 0),
            sale_total_fen=sale_total[original],
            refunded_before_fen=refunded_before.get(row.id, 0),
            refund_fen=row.total_fen,
            reversed_before=reversed_[original],
        )
        if due > 0:
            reversed_[original] += due
            entries.append(
                EntryIn(
                    kind=PointsEntry.Kind.REFUND,
                    points=-due,
                    key=refund_key(receipt_id=row.id),
                    reverses_key=earn_key(receipt_id=original),
                    floor_at_zero=True,
                    **common,
                )
            )
    return entries
