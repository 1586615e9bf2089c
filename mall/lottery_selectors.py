"""Reads of the lottery: the campaigns a member sees, odds, the winners ticker and totals (real
draws only, and on-site winners marked as such), a member's draws, the staff's lists."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.masking import mask_name, mask_phone
from mall.lottery import prize_pick
from mall.models import LotteryCampaign, LotteryDraw, LotteryOnSiteWinner, LotteryPrize
from members.models import Member
from stores.models import Store
from stores.scoping import store_lookups

CENT = Decimal("0.01")


def campaigns_for_member(*, member: Member, now=None) -> QuerySet:
    """Published campaigns open now or still to come, for every store or the member's home
    store; the soonest to end first."""
    now = now or timezone.now()
    return (
        LotteryCampaign.objects.filter(published_at__lte=now, ends_at__gt=now)
        .filter(Q(store__isnull=True) | Q(store_id=member.home_store_id))
        .select_related("store")
        .order_by("ends_at", "id")
    )


def campaign_odds(campaign: LotteryCampaign) -> list[dict]:
    """Each prize with its chance of a draw now (weight over the weights of the prizes in stock,
    in percent to two places; 0 once gone) and its stock left (None: unlimited)."""
    prizes = list(LotteryPrize.objects.filter(campaign=campaign).order_by("position", "id"))
    in_stock = [p for p in prizes if p.stock is None or p.stock > 0]
    total = sum(p.weight for p in in_stock)
    return [
        {
            "prize": p,
            "percent": (
                (Decimal(p.weight * 100) / total).quantize(CENT, ROUND_HALF_UP)
                if total and p in in_stock
                else Decimal("0.00")
            ),
            "stock_left": p.stock,
        }
        for p in prizes
    ]


def member_masked_name(member: Member) -> str:
    return mask_name(member.name) if member.name else mask_phone(member.phone)


def recent_winners(*, campaign: LotteryCampaign, limit: int = 20) -> list[dict]:
    """The latest winners, newest first: real draws that won a prize and winners of on-site
    draws (`on_site`: the page says 现场抽奖), names masked."""
    draws = (
        LotteryDraw.objects.filter(campaign=campaign, prize__isnull=False)
        .select_related("member", "prize")
        .order_by("-created_at", "-id")[:limit]
    )
    rows = [
        {
            "name": member_masked_name(d.member),
            "prize": d.prize.name,
            "at": d.created_at,
            "on_site": False,
        }
        for d in draws
    ]
    rows += [
        {"name": mask_name(w.winner_name), "prize": w.prize_name, "at": w.drawn_at, "on_site": True}
        for w in LotteryOnSiteWinner.objects.filter(campaign=campaign).order_by("-drawn_at", "-id")[
            :limit
        ]
    ]
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows[:limit]


def campaign_totals(*, campaign: LotteryCampaign) -> dict:
    """Members who drew, draws, and members who won a prize: from the draws alone (on-site
    winners are not draws of this lottery)."""
    totals = LotteryDraw.objects.filter(campaign=campaign).aggregate(
        participants=Count("member", distinct=True),
        draws=Count("id"),
        winners=Count("member", distinct=True, filter=Q(prize__isnull=False)),
    )
    return {key: totals[key] or 0 for key in ("participants", "draws", "winners")}


def draw_segment(draw: LotteryDraw) -> int | None:
    """The prize the wheel or grid stops on for `draw`: its prize; for no prize the "nothing"
    prize its roll gave, else (the roll's prize ran out meanwhile) the campaign's first
    "nothing" prize; None if it has none."""
    if draw.prize_id is not None:
        return draw.prize_id
    nothing = list(
        LotteryPrize.objects.filter(campaign_id=draw.campaign_id, kind=LotteryPrize.Kind.NOTHING)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    rolled = prize_pick(draw.weights, draw.roll)
    return rolled if rolled in nothing else (nothing[0] if nothing else None)


def member_draws(*, member: Member, campaign: LotteryCampaign | None = None) -> QuerySet:
    """The member's draws, newest first."""
    draws = LotteryDraw.objects.filter(member=member).select_related(
        "campaign", "prize", "coupon", "picked_up_store"
    )
    if campaign is not None:
        draws = draws.filter(campaign=campaign)
    return draws


def campaigns_scoped(queryset: QuerySet, *, user) -> QuerySet:
    """Campaigns a staff member sees: those for every store, and those of their stores."""
    lookups = store_lookups(user)
    if lookups is None:
        return queryset.none()
    if not lookups:
        return queryset
    return queryset.filter(Q(store__isnull=True) | Q(store__in=Store.objects.filter(**lookups)))


def campaign_draws(*, campaign: LotteryCampaign, status: str = "") -> QuerySet:
    """A campaign's draws for the staff, newest first (members masked by the page)."""
    draws = LotteryDraw.objects.filter(campaign=campaign).select_related(
        "member", "prize", "picked_up_by", "picked_up_store"
    )
    return draws.filter(status=status) if status else draws


def member_draws_export(member: Member) -> list[dict]:
    """The member's draws, for the data download (PIPL Art. 45)."""
    return [
        {
            "campaign": d.campaign.name,
            "drawn_at": d.created_at.isoformat(),
            "points_spent": d.points_spent,
            "prize": d.prize.name if d.prize else "",
            "status": d.status,
            "pickup_code": d.pickup_code or "",
            "claim_until": d.claim_until.isoformat() if d.claim_until else "",
            "picked_up_at": d.picked_up_at.isoformat() if d.picked_up_at else "",
        }
        for d in member_draws(member=member).order_by("created_at", "id")
    ]
