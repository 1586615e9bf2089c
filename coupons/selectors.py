"""Coupon reads: a member's coupons by tab, the desk's look-up, campaign results in SQL."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from coupons.models import Campaign, Coupon, CouponTemplate, IssueJob
from loyalty.models import Tier
from loyalty.tiers import tier_entry
from members.models import Member
from members.scoping import scoped, scoped_members
from stores.models import Store

TABS = ("unused", "used", "expired")
CHANNEL_LABELS = {
    Campaign.Channel.MANUAL: pgettext_lazy("campaign channel", "Sent by staff"),
    Campaign.Channel.GROUP: pgettext_lazy("campaign channel", "Member group"),
    Campaign.Channel.WELCOME: pgettext_lazy("campaign channel", "Welcome"),
    Campaign.Channel.BIRTHDAY: pgettext_lazy("campaign channel", "Birthday"),
    Campaign.Channel.LOTTERY: pgettext_lazy("campaign channel", "Lottery prize"),
    Campaign.Channel.POINTS_MALL: pgettext_lazy("campaign channel", "Points mall"),
    Campaign.Channel.RULE: pgettext_lazy("campaign channel", "Association rule"),
}
EXPIRING_SOON = timedelta(days=3)


def _tab_filters(now: datetime) -> dict[str, Q]:
    # Voided coupons sit with the expired ones: the member sees that the coupon is gone and
    # why (作废), instead of a coupon silently vanishing from 未使用.
    return {
        "unused": Q(status=Coupon.Status.UNUSED, valid_until__gt=now),
        "used": Q(status=Coupon.Status.USED),
        "expired": Q(status=Coupon.Status.UNUSED, valid_until__lte=now)
        | Q(status=Coupon.Status.VOIDED),
    }


TAB_ORDER = {
    "unused": ["-issued_at", "-id"],
    "used": ["-used_at", "-id"],
    "expired": ["-valid_until", "-id"],
}


def member_coupon_counts(*, member: Member, now: datetime | None = None) -> dict[str, int]:
    """How many coupons each tab holds, in one query."""
    filters = _tab_filters(now or timezone.now())
    return Coupon.objects.filter(member=member).aggregate(
        **{tab: Count("id", filter=condition) for tab, condition in filters.items()}
    )


def member_unused_count(*, member: Member, now: datetime | None = None) -> int:
    return (
        Coupon.objects.filter(member=member)
        .filter(_tab_filters(now or timezone.now())["unused"])
        .count()
    )


def member_coupons(*, member: Member, tab: str, now: datetime | None = None) -> QuerySet:
    """The member's coupons under `tab` (unused, used, expired), newest first."""
    return (
        Coupon.objects.filter(member=member)
        .filter(_tab_filters(now or timezone.now())[tab])
        .select_related("template")
        .order_by(*TAB_ORDER[tab])
    )


def member_coupon(*, member: Member, code: str) -> Coupon:
    """The member's own coupon with its template's scope; Coupon.DoesNotExist otherwise (a
    code of someone else's coupon is as unknown as a made-up one)."""
    return (
        Coupon.objects.select_related("template", "used_store")
        .prefetch_related(
            "template__stores",
            "template__floors__store",
            "template__brands",
            "template__categories",
        )
        .get(member=member, code=code)
    )


def coupons_at_desk(*, user) -> QuerySet:
    """The coupons `user`'s service desk may look up: those of a member in their data scope,
    and those usable at a store in their scope (no store or floor limit, or one of theirs).
    Anything else is as unknown as a made-up code."""
    stores = scoped(Store.objects.all(), user=user, store_field="")
    members = scoped(Member.objects.all(), user=user, store_field="home_store")
    limited_to = CouponTemplate.stores.through.objects.filter(
        coupontemplate_id=OuterRef("template_id")
    )
    on_floors = CouponTemplate.floors.through.objects.filter(
        coupontemplate_id=OuterRef("template_id")
    )
    usable_here = (~Exists(limited_to) | Exists(limited_to.filter(store__in=stores))) & (
        ~Exists(on_floors) | Exists(on_floors.filter(floor__store__in=stores))
    )
    return Coupon.objects.filter(Q(member__in=members) | usable_here)


def coupon_for_desk(*, code: str, user) -> Coupon | None:
    return (
        coupons_at_desk(user=user)
        .select_related("template", "member", "used_store", "campaign")
        .filter(code=code)
        .first()
    )


def issue_jobs_visible(*, user) -> QuerySet:
    """The bulk issue jobs `user` may see: their own, and those of staff bound to a store in
    their data scope; HQ sees every job."""
    jobs = IssueJob.objects.all()
    in_scope = scoped(jobs, user=user, store_field="created_by__staff_profile__store")
    return jobs.filter(Q(created_by_id=user.pk) | Q(pk__in=in_scope.values("pk")))


def is_expiring_soon(coupon: Coupon, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return coupon.status == Coupon.Status.UNUSED and now < coupon.valid_until <= now + EXPIRING_SOON


# --- Who gets a group send ---------------------------------------------------------------


def members_for_group(*, user, tier: Tier | None = None, home_store=None) -> list[int]:
    """Ids of the active members in `user`'s scope, optionally of one tier (members without
    an account count as the entry tier) and one home store, in id order."""
    members = scoped(
        Member.objects.filter(status=Member.Status.ACTIVE), user=user, store_field="home_store"
    )
    if home_store is not None:
        members = members.filter(home_store=home_store)
    if tier is not None:
        in_tier = Q(points_account__tier=tier)
        entry = tier_entry()
        if entry is not None and entry.pk == tier.pk:
            in_tier |= Q(points_account__isnull=True) | Q(points_account__tier__isnull=True)
        members = members.filter(in_tier)
    return list(members.order_by("pk").values_list("pk", flat=True))


def members_by_cards(*, user, cards: list[str]) -> tuple[dict[str, int], list[str]]:
    """({card number: member id} of the active members in scope, [card numbers not found])."""
    found = dict(
        scoped_members(
            Member.objects.filter(status=Member.Status.ACTIVE, card_no__in=cards), user=user
        ).values_list("card_no", "pk")
    )
    return found, [card for card in cards if card not in found]


# --- Campaign results --------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignResult:
    campaign_id: int
    name: str
    channel: str
    channel_label: str
    created_at: datetime
    issued: int
    used: int
    revenue_fen: int
    cost_fen: int
    receipts: int

    @property
    def use_rate(self) -> float:
        """Used per issued, in percent."""
        return round(100 * self.used / self.issued, 1) if self.issued else 0.0


_RESULTS_SQL = """
WITH scoped AS ({coupons}),
figures AS (
    SELECT c.campaign_id,
           count(*) AS issued,
           count(*) FILTER (WHERE c.status = 'used') AS used,
           coalesce(sum(CASE WHEN c.status <> 'used' THEN 0
                             WHEN t.kind = 'gift' THEN t.face_value_fen
                             ELSE c.discount_fen END), 0) AS cost_fen
    FROM scoped c JOIN coupons_coupontemplate t ON t.id = c.template_id
    GROUP BY c.campaign_id
),
sales AS (
    SELECT u.campaign_id, count(*) AS receipts, sum(r.total_fen) AS revenue_fen
    FROM (SELECT DISTINCT campaign_id, used_receipt_id FROM scoped
          WHERE status = 'used' AND used_receipt_id IS NOT NULL) u
    JOIN loyalty_receipt r ON r.id = u.used_receipt_id
    GROUP BY u.campaign_id
)
SELECT f.campaign_id, f.issued, f.used, f.cost_fen,
       coalesce(s.revenue_fen, 0), coalesce(s.receipts, 0)
FROM figures f LEFT JOIN sales s ON s.campaign_id = f.campaign_id
"""


def campaign_results(*, user) -> list[CampaignResult]:
    """Per campaign, newest first: coupons issued and used, use rate, revenue of the receipts
    that used them (each receipt once per campaign) and cost (discounts given, a gift
    coupon's face value). Staff limited to some stores see the figures of their stores'
    members. Two queries, whatever the number of campaigns."""
    coupons = scoped(Coupon.objects.all(), user=user, store_field="member__home_store").values(
        "campaign_id", "template_id", "status", "discount_fen", "used_receipt_id"
    )
    sql, params = coupons.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_RESULTS_SQL.format(coupons=sql), params)
        figures = {row[0]: row[1:] for row in cursor.fetchall()}
    results = []
    for campaign in Campaign.objects.filter(pk__in=figures).order_by("-created_at", "-id"):
        issued, used, cost, revenue, receipts = figures[campaign.pk]
        results.append(
            CampaignResult(
                campaign_id=campaign.pk,
                name=campaign.name,
                channel=campaign.channel,
                channel_label=str(CHANNEL_LABELS.get(campaign.channel, campaign.channel)),
                created_at=campaign.created_at,
                issued=issued,
                used=used,
                revenue_fen=int(revenue),
                cost_fen=int(cost),
                receipts=receipts,
            )
        )
    return results


def campaign_totals(results: list[CampaignResult]) -> dict:
    issued = sum(r.issued for r in results)
    used = sum(r.used for r in results)
    return {
        "issued": issued,
        "used": used,
        "use_rate": round(100 * used / issued, 1) if issued else 0.0,
        "cost_fen": sum(r.cost_fen for r in results),
    }


def templates_for_sending() -> QuerySet:
    return CouponTemplate.objects.filter(is_active=True).order_by("name")


def tiers() -> QuerySet:
    return Tier.objects.order_by("threshold")
