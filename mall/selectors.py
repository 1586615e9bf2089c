"""Reads of the points mall: goods on the shelf, a member's redemptions, the staff list."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from mall.models import Goods, Redemption
from members.models import Member
from stores.models import Store
from stores.scoping import store_lookups


def goods_on_shelf(*, category_id: int | None = None, now=None) -> QuerySet:
    """Active goods whose shelf dates include now, in their order, pictures prefetched."""
    now = now or timezone.now()
    goods = (
        Goods.objects.filter(is_active=True)
        .filter(Q(shelf_from__isnull=True) | Q(shelf_from__lte=now))
        .filter(Q(shelf_until__isnull=True) | Q(shelf_until__gt=now))
        .filter(Q(category__isnull=True) | Q(category__active=True))
        .select_related("category")
        .prefetch_related("images")
    )
    if category_id is not None:
        goods = goods.filter(category_id=category_id)
    return goods


def member_redemptions(*, member: Member) -> QuerySet:
    """The member's redemptions, newest first."""
    return Redemption.objects.filter(member=member).select_related("goods", "pickup_store")


def redemptions_scoped(queryset: QuerySet, *, user) -> QuerySet:
    """Redemptions in `user`'s scope: picked up at one of their stores, or (sent, or coupons)
    of a member whose home store is one of theirs."""
    lookups = store_lookups(user)
    if lookups is None:
        return queryset.none()
    if not lookups:
        return queryset
    stores = Store.objects.filter(**lookups).values("pk")
    return queryset.filter(
        Q(pickup_store__in=stores) | Q(pickup_store__isnull=True, member__home_store__in=stores)
    )


def staff_redemptions(*, user, status: str = "", code: str = "") -> QuerySet:
    """The back office's redemption list within the user's scope, newest first."""
    rows = redemptions_scoped(Redemption.objects.all(), user=user).select_related(
        "goods", "member", "pickup_store", "verified_by"
    )
    if status:
        rows = rows.filter(status=status)
    if code:
        rows = rows.filter(code=code.strip().upper())
    return rows


def member_redemptions_export(member: Member) -> list[dict]:
    """The member's redemptions, for the data download (PIPL Art. 45)."""
    return [
        {
            "code": r.code,
            "goods": r.goods.name,
            "qty": r.qty,
            "points": r.points,
            "delivery": r.delivery,
            "status": r.status,
            "pickup_store": r.pickup_store.code if r.pickup_store else "",
            "address": r.address,
            "carrier": r.carrier,
            "tracking_no": r.tracking_no,
            "created_at": r.created_at.isoformat(),
        }
        for r in member_redemptions(member=member).order_by("created_at", "id")
    ]
