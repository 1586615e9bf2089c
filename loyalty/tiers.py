"""Tiers (会员等级): the 12-month value that decides them, upgrades at once, downgrades at the
periodic review, and the member's progress to the next tier."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from loyalty.ledger import account_get_or_create
from loyalty.models import LoyaltySettings, PointsAccount, Tier, TierChange
from loyalty.tables import loyalty_policy, tiers_cached
from members.models import Member, Message

WINDOW = timedelta(days=365)  # the 12 months of a tier's value


def tiers_ordered() -> list[Tier]:
    """The tiers by threshold (cached per process: loyalty/tables.py)."""
    return list(tiers_cached())


def tier_entry() -> Tier | None:
    """The entry tier (the lowest threshold): where a member without a tier of their own is."""
    tiers = tiers_cached()
    return tiers[0] if tiers else None


def tier_of(account: PointsAccount | None) -> Tier | None:
    """The tier a member stands in: their account's, or the entry tier while they have no
    account or no tier yet."""
    return (account.tier if account else None) or tier_entry()


def tier_for(value: int, tiers: list[Tier]) -> Tier | None:
    """The highest tier whose threshold `value` reaches (the entry tier below every one)."""
    reached = [tier for tier in tiers if tier.threshold <= value]
    return reached[-1] if reached else (tiers[0] if tiers else None)


def tier_value(*, member_id: int, as_of: datetime | None = None) -> int:
    """The member's 12-month value up to `as_of` (values_by_member for one member)."""
    as_of = as_of or timezone.now()
    return values_by_member(as_of, member_ids=[member_id]).get(member_id, 0)


@dataclass(frozen=True)
class TierMove:
    account_id: int
    member_id: int
    from_tier: Tier | None
    to_tier: Tier
    value: int


REVIEW_CHUNK = 5000


def tier_moves(accounts, *, values: dict[int, int], tiers: list[Tier], upgrade_only: bool):
    """The moves of `accounts` ((account id, member id, tier or None) rows) to the tier their
    value reaches: only upward at a purchase, both ways at the review."""
    moves = []
    for account_id, member_id, tier in accounts:
        value = values.get(member_id, 0)
        target = tier_for(value, tiers)
        if tier is not None and target.pk == tier.pk:
            continue
        if upgrade_only and tier is not None and target.threshold < tier.threshold:
            continue
        moves.append(TierMove(account_id, member_id, tier, target, value))
    return moves


def tiers_apply(moves: list[TierMove], *, reason: str, notify: bool = True) -> int:
    """Switch the accounts of `moves` (locked by the caller) to their new tiers, set-based:
    one update per tier, the changes recorded, and one message batch per tier and direction.
    A first placement in the entry tier is silent and not a change. Returns the changes."""
    from members.messaging import messages_send

    now = timezone.now()
    by_target: dict[Tier, list[TierMove]] = {}
    for move in moves:
        by_target.setdefault(move.to_tier, []).append(move)
    changed = 0
    for target, group in by_target.items():
        PointsAccount.objects.filter(pk__in=[m.account_id for m in group]).update(
            tier=target, tier_since=now
        )
        real = [m for m in group if m.from_tier is not None or target.threshold > 0]
        TierChange.objects.bulk_create(
            [
                TierChange(
                    account_id=m.account_id,
                    from_tier=m.from_tier,
                    to_tier=target,
                    reason=reason,
                    basis_value=m.value,
                    created_at=now,
                )
                for m in real
            ],
            batch_size=2000,
        )
        changed += len(real)
        if not notify:
            continue
        ups = [m.member_id for m in real if _is_upgrade(m)]
        downs = [m.member_id for m in real if not _is_upgrade(m)]
        for member_ids, (title, body) in ((ups, _UPGRADE), (downs, _DOWNGRADE)):
            if member_ids:
                messages_send(
                    members=Member.objects.filter(pk__in=member_ids),
                    kind=Message.Kind.TIER,
                    title=title,
                    body=body,
                    params={"tier": target.name},
                    link="/m/tier/",
                )
    return changed


def _is_upgrade(move: TierMove) -> bool:
    return move.from_tier is None or move.to_tier.threshold > move.from_tier.threshold


_UPGRADE = (
    gettext_lazy("Congratulations, you are now %(tier)s"),
    gettext_lazy("Your membership has been upgraded to %(tier)s. Enjoy its benefits!"),
)
_DOWNGRADE = (
    gettext_lazy("Your tier is now %(tier)s"),
    gettext_lazy(
        "After the periodic review your membership tier is %(tier)s. Shop with us to reach"
        " the next tier again."
    ),
)


def _locked_accounts(queryset):
    rows = queryset.select_for_update(of=("self",)).select_related("tier").order_by("pk")
    return [(a.pk, a.member_id, a.tier) for a in rows]


def tier_after_sale(*, earned, tiers: list[Tier]) -> Tier | None:
    """The tier a member stands in after a sale whose points loyalty.ledger's
    receipt_points_earn (`earned`) just credited, the account row locked: raised at once when
    the sale may reach the next tier, else left as it is without reading the history.

    The skip: an account keeps an upper bound of its 12-month value per basis
    (tier_spend_bound: sales in fen since the bound was computed, receipts of the window then
    included; tier_growth_bound: the same for earned points). Triggers add every new sale
    (any path: API, claims, imports, COPY) and every earn entry; an UPDATE of a receipt's
    member, total, time or kind clears them; a refund leaves them (the value only falls); time
    only drops receipts out of the window. So while the bound is below the next tier's
    threshold the value is too, and nothing can be raised. Otherwise (or with no bound yet, or
    an account not yet placed) tier_upgrade reads the history and computes the bounds afresh.
    """
    if not tiers:
        return None
    current = next((t for t in tiers if t.pk == earned.tier_id), None)
    if current is not None:
        higher = [t for t in tiers if t.threshold > current.threshold]
        if not higher:
            return current  # the top tier: nothing to reach
        growth = loyalty_policy().tier_basis == LoyaltySettings.TierBasis.GROWTH
        bound = earned.tier_growth_bound if growth else earned.tier_spend_bound
        if bound is not None and bound + (earned.points if growth else 0) < higher[0].threshold:
            return current
    change = tier_upgrade(member_id=None, account_id=earned.account_id)
    if change is not None:
        return change.to_tier
    return current or tiers[0]


_BOUNDS_REFRESH = """
    UPDATE loyalty_pointsaccount a SET
        tier_spend_bound = (
            SELECT COALESCE(SUM(r.total_fen), 0) FROM loyalty_receipt r
            WHERE r.member_id = a.member_id AND r.kind = 'sale' AND r.occurred_at > %(since)s),
        tier_growth_bound = (
            SELECT COALESCE(SUM(e.points), 0) FROM loyalty_pointsentry e
            JOIN loyalty_receipt r ON r.id = e.receipt_id
            WHERE e.account_id = a.id AND e.kind = 'earn' AND r.occurred_at > %(since)s)
    WHERE a.id = ANY(%(ids)s)"""


def tier_bounds_refresh(*, account_ids: list[int], now: datetime | None = None) -> None:
    """Compute the tier bounds (tier_after_sale) of these accounts, locked by the caller."""
    since = (now or timezone.now()) - WINDOW
    with connection.cursor() as cursor:
        cursor.execute(_BOUNDS_REFRESH, {"since": since, "ids": list(account_ids)})


@transaction.atomic
def tier_upgrade(*, member_id: int | None, account_id: int | None = None) -> TierChange | None:
    """Raise the member's tier at once if their 12-month value now reaches a higher one
    (never lowers it: that waits for the review), and refresh the account's tier bounds.
    Locks the account row. By member, or by `account_id` of an existing account."""
    tiers = tiers_ordered()
    if not tiers:
        return None
    if account_id is None:
        account_get_or_create(member_id=member_id)
        accounts = _locked_accounts(PointsAccount.objects.filter(member_id=member_id))
    else:
        accounts = _locked_accounts(PointsAccount.objects.filter(pk=account_id))
        member_id = accounts[0][1]
    tier_bounds_refresh(account_ids=[accounts[0][0]])
    values = {member_id: tier_value(member_id=member_id)}
    moves = tier_moves(accounts, values=values, tiers=tiers, upgrade_only=True)
    if tiers_apply(moves, reason=TierChange.Reason.UPGRADE):
        return TierChange.objects.filter(account_id=accounts[0][0]).order_by("-pk").first()
    return None


def tiers_raise(*, member_ids: list[int]) -> int:
    """tier_upgrade for many members at once (receipts loaded in bulk); in the caller's
    transaction, locking their accounts in id order."""
    tiers = tiers_ordered()
    if not tiers or not member_ids:
        return 0
    accounts = _locked_accounts(PointsAccount.objects.filter(member_id__in=member_ids))
    values = values_by_member(timezone.now(), member_ids=member_ids)
    moves = tier_moves(accounts, values=values, tiers=tiers, upgrade_only=True)
    return tiers_apply(moves, reason=TierChange.Reason.UPGRADE)


def tiers_review(*, as_of: datetime | None = None, notify: bool = True) -> dict:
    """The periodic review: every account gets the tier its 12-month value reaches, down as
    well as up; a member whose tier changes gets a message (unless not `notify`: loading
    history). In chunks of accounts, each locked in its own transaction. Idempotent."""
    as_of = as_of or timezone.now()
    tiers = tiers_ordered()
    counts = {"reviewed": 0, "up": 0, "down": 0}
    if not tiers:
        return counts
    values = values_by_member(as_of)
    ids = list(PointsAccount.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), REVIEW_CHUNK):
        with transaction.atomic():
            chunk = ids[start : start + REVIEW_CHUNK]
            accounts = _locked_accounts(PointsAccount.objects.filter(pk__in=chunk))
            moves = tier_moves(accounts, values=values, tiers=tiers, upgrade_only=False)
            real = [m for m in moves if m.from_tier is not None or m.to_tier.threshold > 0]
            counts["reviewed"] += len(accounts)
            counts["up"] += sum(1 for m in real if _is_upgrade(m))
            counts["down"] += sum(1 for m in real if not _is_upgrade(m))
            tiers_apply(moves, reason=TierChange.Reason.REVIEW, notify=notify)
            tier_bounds_refresh(account_ids=chunk, now=min(as_of, timezone.now()))
    return counts


def values_by_member(
    as_of: datetime,
    *,
    member_ids: list[int] | None = None,
    settings: LoyaltySettings | None = None,
) -> dict[int, int]:
    """Every member's 12-month value up to `as_of` (or these members'), the one figure tiers
    are decided and shown by: net spend in fen (sales less refunds), or the growth value
    (points earned by purchases, less refunds), as the policy says; never below 0. Members
    without purchases in the window are left out (their value is 0)."""
    settings = settings or loyalty_policy()
    growth = settings.tier_basis == LoyaltySettings.TierBasis.GROWTH
    sql = _GROWTH_SQL if growth else _SPEND_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, {"since": as_of - WINDOW, "as_of": as_of, "ids": member_ids})
        return dict(cursor.fetchall())


_GROWTH_SQL = """
    SELECT a.member_id, GREATEST(SUM(e.points), 0)::bigint FROM loyalty_pointsentry e
    JOIN loyalty_pointsaccount a ON a.id = e.account_id
    JOIN loyalty_receipt r ON r.id = e.receipt_id
    WHERE e.kind IN ('earn', 'refund') AND r.occurred_at > %(since)s
      AND r.occurred_at <= %(as_of)s
      AND (%(ids)s::bigint[] IS NULL OR a.member_id = ANY(%(ids)s::bigint[]))
    GROUP BY a.member_id"""

_SPEND_SQL = """
    SELECT member_id,
           GREATEST(SUM(CASE WHEN kind = 'sale' THEN total_fen ELSE -total_fen END), 0)::bigint
    FROM loyalty_receipt
    WHERE member_id IS NOT NULL AND occurred_at > %(since)s AND occurred_at <= %(as_of)s
      AND (%(ids)s::bigint[] IS NULL OR member_id = ANY(%(ids)s::bigint[]))
    GROUP BY member_id"""


@dataclass(frozen=True)
class TierProgress:
    tier: Tier | None
    next_tier: Tier | None
    value: int
    gap: int  # to the next tier; 0 at the top
    percent: int
    basis: str


def tier_progress(*, member: Member, account: PointsAccount | None = None) -> TierProgress:
    """Where the member stands: their tier, the next one and the exact gap to it. Pass the
    member's `account` (with its tier) when the caller has it already: one query fewer."""
    tiers = tiers_ordered()
    if account is None:
        account = PointsAccount.objects.filter(member=member).select_related("tier").first()
    settings = loyalty_policy()
    value = values_by_member(timezone.now(), member_ids=[member.pk], settings=settings).get(
        member.pk, 0
    )
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
    return TierProgress(tier, next_tier, value, gap, percent, settings.tier_basis)
