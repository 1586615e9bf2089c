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
number of goods or members.
"""

from datetime import timedelta

from django.db.models import BigIntegerField, Case, Count, F, Sum, When
from django.utils import timezone

from loyalty.ledger import points_balance
from loyalty.models import Receipt, ReceiptLine
from mall.activities import activities_current, activities_with_places, url_or_none
from mall.models import BrandActivity, Goods, Redemption
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
    *, member: Member, limit: int = 6, now=None, spend: dict[int, int] | None = None
) -> list[Goods]:
    """Up to `limit` goods for `member`, best first (see the module's docstring), with their
    pictures; at most nine queries. `spend`: member_category_spend's answer, if known."""
    now = now or timezone.now()
    balance = points_balance(member_id=member.pk)
    if balance <= 0:
        return []
    candidates = {
        pk: (limit_per_member, position)
        for pk, limit_per_member, position in goods_on_shelf(now=now)
        .prefetch_related(None)
        .filter(stock__gt=0, points_price__lte=balance)
        .values_list("pk", "per_member_limit", "position")
    }
    if not candidates:
        return []
    live = Redemption.objects.exclude(status=Redemption.Status.CANCELLED)
    held = dict(
        live.filter(member=member)
        .values("goods_id")
        .annotate(qty=Sum("qty"))
        .order_by()
        .values_list("goods_id", "qty")
    )
    for pk, (limit_per_member, _position) in list(candidates.items()):
        if limit_per_member and held.get(pk, 0) >= limit_per_member:
            del candidates[pk]  # the member already has as many as they may
    if not candidates:
        return []

    co_redeemed: dict[int, int] = {}
    if held:
        mine = live.filter(member=member).values("goods_id")
        peers = live.filter(goods_id__in=mine).exclude(member=member).values("member_id")
        co_redeemed = dict(
            live.filter(member_id__in=peers, goods_id__in=list(candidates))
            .exclude(goods_id__in=mine)
            .values("goods_id")
            .annotate(members=Count("member_id", distinct=True))
            .order_by()
            .values_list("goods_id", "members")
        )

    spend = member_category_spend(member=member, now=now) if spend is None else spend
    affinity: dict[int, int] = {}
    if spend:
        pairs = Goods.interest_categories.through.objects.filter(
            goods_id__in=list(candidates), category_id__in=list(spend)
        ).values_list("goods_id", "category_id")
        for goods_id, category_id in pairs:
            affinity[goods_id] = max(affinity.get(goods_id, 0), spend[category_id])

    popular = dict(
        live.filter(goods_id__in=list(candidates), created_at__gte=now - POPULAR_WINDOW)
        .values("goods_id")
        .annotate(members=Count("member_id", distinct=True))
        .order_by()
        .values_list("goods_id", "members")
    )

    ranked = sorted(
        candidates,
        key=lambda pk: (
            -co_redeemed.get(pk, 0),
            -affinity.get(pk, 0),
            pk in held,  # something new before what the member already has
            -popular.get(pk, 0),
            candidates[pk][1],
            pk,
        ),
    )[:limit]
    goods = Goods.objects.filter(pk__in=ranked).prefetch_related("images").in_bulk()
    result = [goods[pk] for pk in ranked if pk in goods]
    for item in result:
        item.why = (
            "co_redeemed"
            if co_redeemed.get(item.pk)
            else "affinity"
            if affinity.get(item.pk)
            else "popular"
        )
    return result


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


def recommendations_card_section(request, member: Member) -> dict | None:
    """The card's 为您推荐: goods tiles (points price, linked to the goods' page once the
    points mall has one) and activity tiles; None when there is nothing to show."""
    spend = member_category_spend(member=member)
    goods = goods_recommended(member=member, spend=spend)
    activities = activities_recommended(member=member, spend=spend)
    if not goods and not activities:
        return None
    for item in goods:
        item.url = url_or_none("h5:points_goods", item.pk)
        images = list(item.images.all())
        item.picture = images[0].image if images else None
    return {
        "template": "h5/mall/includes/_card_recommendations.html",
        "context": {
            "recommended_goods": goods,
            "recommended_activities": activities,
            "points_mall_url": url_or_none("h5:points_mall"),
        },
    }
