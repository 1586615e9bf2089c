from django.db.models import Q, QuerySet

from stores.models import Floor, Shop, Store


def stores_open() -> QuerySet[Store]:
    return Store.objects.filter(is_active=True).select_related("region").order_by("code")


def floors_in_order(*, store: Store) -> QuerySet[Floor]:
    """The floors of `store` bottom to top (B1, 1F, 2F …), with their main categories."""
    return Floor.objects.filter(store=store).prefetch_related("categories").order_by("order")


def shops_in_store(*, store: Store, q: str = "", category=None) -> QuerySet[Shop]:
    """The open shops of `store` with their brand and floor, by brand name; `q` is part of the
    brand's name, `category` the brand's category or its parent department."""
    shops = Shop.objects.filter(floor__store=store, is_active=True).select_related(
        "brand", "brand__category__parent", "floor"
    )
    if q:
        shops = shops.filter(brand__name__icontains=q)
    if category is not None:
        shops = shops.filter(Q(brand__category=category) | Q(brand__category__parent=category))
    return shops.order_by("brand__name", "floor__order", "unit_no")
