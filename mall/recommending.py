"""智能推荐 on the member card's 完整版: points-mall goods the member can afford and current
brand activities near their interests.

Goods are ranked by, in this order:
  (a) co-redemptions: how many other members who redeemed a good the member redeemed also
      redeemed this one (distinct members; cancelled redemptions do not count);
  (b) affinity: the member's spend over the last 12 months in the merchandise categories the
      good is for. Points-mall goods have no merchandise category of their own; staff name
      the categories whose shoppers a good suits in `Goods.interest_categories` (a hair dryer
      for 电吹风 and 浴室用品). A purchase counts for its category and the category's parent, so
      a good for 女装 matches a 连衣裙 buyer;
  (c) popularity: distinct members who redeemed it in the last 90 days, the fallback for a
      member with no history and the tiebreak for everyone (goods the member already has
      come after new ones here).
Only goods on the shelf, in stock, within the member's points balance and below the member's
own limit are candidates. Everything is counted in SQL: a handful of queries, whatever the
number of goods or members (three for the goods).
"""

from datetime import timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.core.cache import cache
from django.db.models import BigIntegerField, Case, Count, F, OuterRef, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language

from loyalty.ledger import points_balance
from loyalty.models import Receipt, ReceiptLine
from loyalty.selectors import member_standing
from mall.activities import activities_current, activities_with_places, url_or_none
from mall.models import BrandActivity, Goods, GoodsImage, Redemption
from mall.selectors import goods_on_shelf
from members.models import Member

SPEND_WINDOW = timedelta(days=365)
POPULAR_WINDOW = timedelta(days=90)


def member_category_spend(*, member: Member, now=None) -> dict[int, int]:
    """The member's net spend (fen) per merchandise category over the last 12 months, each
    purchase counted for its category and that category's parent; refunds subtract."""
    now = now or timezone.now()
    rows = (
        ReceiptLine.objects.filter(
            receipt__member=member,
            receipt__occurred_at__gte=now - SPEND_WINDOW,
            non_merchandise=False,
            category__isnull=False,
        )
        .values("category_id", "category__parent_id")
        .annotate(
            spend=Sum(
                Case(
                    When(receipt__kind=Receipt.Kind.REFUND, then=-F("amount_fen")),
                    default=F("amount_fen"),
                    output_field=BigIntegerField(),
                )
            )
        )
        .order_by()
    )
    spend: dict[int, int] = {}
    for row in rows:
        for category_id in (row["category_id"], row["category__parent_id"]):
            if category_id is not None:
                spend[category_id] = spend.get(category_id, 0) + row["spend"]
    return {category_id: fen for category_id, fen in spend.items() if fen > 0}


def goods_recommended(
    *,
    member: Member,
    limit: int = 6,
    now=None,
    spend: dict[int, int] | None = None,
    balance: int | None = None,
) -> list[Goods]:
    """Up to `limit` goods for `member`, best first (see the module's docstring), each with
    `.picture` (its first image, or None); three queries, one when `spend` and `balance`
    (the member's points) are given."""
    now = now or timezone.now()
    balance = points_balance(member_id=member.pk) if balance is None else balance
    if balance <= 0:
        return []
    live = Redemption.objects.exclude(status=Redemption.Status.CANCELLED).order_by()
    mine = live.filter(member=member).values("goods_id")
    peers = live.filter(goods_id__in=mine).exclude(member=member).values("member_id")

    def per_goods(redemptions, value):
        return Coalesce(
            Subquery(
                redemptions.filter(goods_id=OuterRef("pk"))
                .values("goods_id")
                .annotate(value=value)
                .values("value")[:1]
            ),
            0,
        )

    members = Count("member_id", distinct=True)
    # Everything per good in one statement: the member's holding, co-redemptions, popularity,
    # the categories it suits and its first picture.
    candidates = list(
        goods_on_shelf(now=now)
        .prefetch_related(None)
        .filter(stock__gt=0, points_price__lte=balance)
        .annotate(
            held=per_goods(live.filter(member=member), Sum("qty")),
            co_redeemed=per_goods(live.filter(member_id__in=peers), members),
            popular=per_goods(live.filter(created_at__gte=now - POPULAR_WINDOW), members),
            interest_ids=ArraySubquery(
                Goods.interest_categories.through.objects.filter(goods_id=OuterRef("pk")).values(
                    "category_id"
                )
            ),
            picture_name=Subquery(
                GoodsImage.objects.filter(goods_id=OuterRef("pk"))
                .order_by("position", "id")
                .values("image")[:1]
            ),
        )
    )
    # below the member's own limit
    candidates = [
        item
        for item in candidates
        if not (item.per_member_limit and item.held >= item.per_member_limit)
    ]
    if not candidates:
        return []
    spend = member_category_spend(member=member, now=now) if spend is None else spend
    for item in candidates:
        if item.held:  # what the member already has is no co-redemption
            item.co_redeemed = 0
        item.affinity = max((spend.get(pk, 0) for pk in item.interest_ids), default=0)

    ranked = sorted(
        candidates,
        key=lambda item: (
            -item.co_redeemed,
            -item.affinity,
            item.held > 0,  # something new before what the member already has
            -item.popular,
            item.position,
            item.pk,
        ),
    )[:limit]
    picture = GoodsImage._meta.get_field("image")
    for item in ranked:
        item.picture = (
            picture.attr_class(GoodsImage(), picture, item.picture_name)
            if item.picture_name
            else None
        )
        item.why = "co_redeemed" if item.co_redeemed else "affinity" if item.affinity else "popular"
    return ranked


def activities_recommended(
    *, member: Member, limit: int = 3, spend: dict[int, int] | None = None
) -> list[BrandActivity]:
    """Up to `limit` current activities: first those of brands in the categories the member
    spent most on over the last 12 months (the home store's first among equals), then the
    newest current ones. Each comes with `.shops` (floor and unit)."""
    spend = member_category_spend(member=member) if spend is None else spend
    current = activities_current()
    chosen: list[BrandActivity] = []
    if spend:
        near = list(current.filter(brand__category_id__in=list(spend)))

        def interest(activity):
            return (
                -spend.get(activity.brand.category_id, 0),
                activity.store_id != member.home_store_id,
                -activity.starts_on.toordinal(),
                -activity.pk,
            )

        chosen = sorted(near, key=interest)[:limit]
    if len(chosen) < limit:
        newest = current.exclude(pk__in=[a.pk for a in chosen])
        if member.home_store_id:
            newest = newest.order_by(
                Case(When(store_id=member.home_store_id, then=0), default=1),
                "-starts_on",
                "-id",
            )
        chosen += list(newest[: limit - len(chosen)])
    return activities_with_places(chosen)


RECOMMENDATIONS_CACHE_SECONDS = 120


def recommendations_card_section(request, member: Member) -> dict | None:
    """The card's 为您推荐: goods tiles (points price, linked to the goods' page once the
    points mall has one) and activity tiles; None when there is nothing to show.

    The tiles are rendered once per member, points balance and language and kept for
    RECOMMENDATIONS_CACHE_SECONDS: the card is the page members open most (at every till),
    and the ranking is most of its cost. A balance change ranks again at once (what the member
    can afford changed); new goods, stock and activities show within two minutes."""
    balance, _tier = member_standing(member)
    key = f"card-recommendations:{member.pk}:{balance}:{get_language()}"
    cached = cache.get(key)
    if cached is not None:
        return {"html": cached} if cached else None
    spend = member_category_spend(member=member)
    goods = goods_recommended(member=member, spend=spend, balance=balance)
    activities = activities_recommended(member=member, spend=spend)
    html = ""
    if goods or activities:
        for item in goods:
            item.url = url_or_none("h5:points_goods", item.pk)
        context = {
            "member": member,
            "recommended_goods": goods,
            "recommended_activities": activities,
            "points_mall_url": url_or_none("h5:points_mall"),
        }
        html = render_to_string("h5/mall/includes/_card_recommendations.html", context, request)
    cache.set(key, html, RECOMMENDATIONS_CACHE_SECONDS)
    return {"html": html} if html else None
