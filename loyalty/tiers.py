"""Tiers (会员等级): the 12-month value that decides them, upgrades at once, downgrades at the
periodic review, and the member's progress to the next tier."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.ledger import account_for
from loyalty.models import LoyaltySettings, PointsAccount, PointsEntry, Receipt, Tier, TierChange
from members.models import Member, Message

WINDOW = timedelta(days=365)


def tiers_ordered() -> list[Tier]:
    return list(Tier.objects.order_by("threshold"))


def tier_for(value: int, tiers: list[Tier]) -> Tier | None:
    """The highest tier whose threshold `value` reaches (the entry tier below every one)."""
    reached = [tier for tier in tiers if tier.threshold <= value]
    return reached[-1] if reached else (tiers[0] if tiers else None)


def tier_value(*, member_id: int, as_of: datetime | None = None) -> int:
    """The member's 12-month value up to `as_of`: net spend in fen, or the growth value
    (points earned by purchases, less refunds), as the policy says."""
    as_of = as_of or timezone.now()
    since = as_of - WINDOW
    if LoyaltySettings.current().tier_basis == LoyaltySettings.TierBasis.GROWTH:
        total = PointsEntry.objects.filter(
            account__member_id=member_id,
            kind__in=[PointsEntry.Kind.EARN, PointsEntry.Kind.REFUND],
            receipt__isnull=False,
            receipt__occurred_at__gt=since,
            receipt__occurred_at__lte=as_of,
        ).aggregate(total=Sum("points"))["total"]
        return max(0, total or 0)
    sums = dict(
        Receipt.objects.filter(member_id=member_id, occurred_at__gt=since, occurred_at__lte=as_of)
        .values_list("kind")
        .annotate(total=Sum("total_fen"))
    )
    return max(0, sums.get(Receipt.Kind.SALE, 0) - sums.get(Receipt.Kind.REFUND, 0))


def _tier_change(
    account: PointsAccount, new: Tier, *, reason: str, value: int, notify: bool = True
) -> TierChange:
    from members.messaging import messages_send

    old = account.tier
    account.tier, account.tier_since = new, timezone.now()
    account.save(update_fields=["tier", "tier_since"])
    change = TierChange.objects.create(
        account=account, from_tier=old, to_tier=new, reason=reason, basis_value=value
    )
    if not notify:
        return change
    if old is None or new.threshold > old.threshold:
        title = _("Congratulations, you are now %(tier)s") % {"tier": new.name}
        body = _("Your membership has been upgraded to %(tier)s. Enjoy its benefits!")
    else:
        title = _("Your tier is now %(tier)s") % {"tier": new.name}
        body = _(
            "After the periodic review your membership tier is %(tier)s. Shop with us to reach"
            " the next tier again."
        )
    messages_send(
        members=Member.objects.filter(pk=account.member_id),
        kind=Message.Kind.TIER,
        title=title,
        body=body % {"tier": new.name},
        link="/m/tier/",
    )
    return change


@transaction.atomic
def tier_upgrade(*, member_id: int) -> TierChange | None:
    """Raise the member's tier at once if their 12-month value now reaches a higher one
    (never lowers it: that waits for the review). Locks the account row."""
    tiers = tiers_ordered()
    if not tiers:
        return None
    account = PointsAccount.objects.select_for_update().get(pk=account_for(member_id=member_id).pk)
    value = tier_value(member_id=member_id)
    target = tier_for(value, tiers)
    current = account.tier
    if current is not None and target.threshold <= current.threshold:
        return None
    if current is None and target == tiers[0]:
        account.tier, account.tier_since = target, timezone.now()  # the entry tier: no news
        account.save(update_fields=["tier", "tier_since"])
        return None
    return _tier_change(account, target, reason=TierChange.Reason.UPGRADE, value=value)


def tiers_review(*, as_of: datetime | None = None, notify: bool = True) -> dict:
    """The periodic review: every account gets the tier its 12-month value reaches, down as
    well as up; a member whose tier changes gets a message (unless not `notify`: loading
    history). Idempotent."""
    as_of = as_of or timezone.now()
    tiers = tiers_ordered()
    if not tiers:
        return {"reviewed": 0, "up": 0, "down": 0}
    values = _values_by_member(as_of)
    counts = {"reviewed": 0, "up": 0, "down": 0}
    account_ids = list(PointsAccount.objects.order_by("pk").values_list("pk", flat=True))
    for account_id in account_ids:
        with transaction.atomic():
            account = (
                PointsAccount.objects.select_for_update(of=("self",))
                .select_related("tier")
                .get(pk=account_id)
            )
            value = values.get(account.member_id, 0)
            target = tier_for(value, tiers)
            counts["reviewed"] += 1
            if account.tier_id == target.pk:
                continue
            if account.tier is None and target == tiers[0]:
                account.tier, account.tier_since = target, as_of
                account.save(update_fields=["tier", "tier_since"])
                continue
            going_up = account.tier is None or target.threshold > account.tier.threshold
            _tier_change(
                account, target, reason=TierChange.Reason.REVIEW, value=value, notify=notify
            )
            counts["up" if going_up else "down"] += 1
    return counts


def _values_by_member(as_of: datetime) -> dict[int, int]:
    since = as_of - WINDOW
    if LoyaltySettings.current().tier_basis == LoyaltySettings.TierBasis.GROWTH:
        sql = """
            SELECT a.member_id, GREATEST(SUM(e.points), 0) FROM loyalty_pointsentry e
            JOIN loyalty_pointsaccount a ON a.id = e.account_id
            JOIN loyalty_receipt r ON r.id = e.receipt_id
            WHERE e.kind IN ('earn', 'refund') AND r.occurred_at > %s AND r.occurred_at <= %s
            GROUP BY a.member_id"""
    else:
        sql = """
            SELECT member_id, GREATEST(SUM(CASE WHEN kind = 'sale' THEN total_fen
                                                ELSE -total_fen END), 0)
            FROM loyalty_receipt
            WHERE member_id IS NOT NULL AND occurred_at > %s AND occurred_at <= %s
            GROUP BY member_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, as_of])
        return dict(cursor.fetchall())


@dataclass(frozen=True)
class TierProgress:
    tier: Tier | None
    next_tier: Tier | None
    value: int
    gap: int  # to the next tier; 0 at the top
    percent: int
    basis: str


def tier_progress(*, member: Member) -> TierProgress:
    """Where the member stands: their tier, the next one and the exact gap to it."""
    tiers = tiers_ordered()
    account = PointsAccount.objects.filter(member=member).select_related("tier").first()
    value = tier_value(member_id=member.pk)
    tier = (account.tier if account else None) or (tiers[0] if tiers else None)
    higher = [t for t in tiers if tier is None or t.threshold > tier.threshold]
    next_tier = higher[0] if higher else None
    if next_tier is None:
        gap, percent = 0, 100
    else:
        gap = max(0, next_tier.threshold - value)
        base = tier.threshold if tier else 0
        span = max(1, next_tier.threshold - base)
        percent = max(0, min(100, (value - base) * 100 // span))
    return TierProgress(tier, next_tier, value, gap, percent, LoyaltySettings.current().tier_basis)
