from django.db.models import Count, Prefetch, Q, QuerySet

from stores.models import Floor, Shop, Store


def stores_open() -> QuerySet[Store]:
    return Store.objects.filter(is_active=True).select_related("region").order_by("code")


def floors_with_shops(*, store: Store) -> QuerySet[Floor]:
    """The floors of `store`, top to bottom, each with its open shops and their brands."""
    shops = Shop.objects.filter(is_active=True).select_related("brand").order_by("unit_no")
    return (
        Floor.objects.filter(store=store)
        .annotate(shop_count=Count("shops", filter=Q(shops__is_active=True)))
        .prefetch_related(Prefetch("shops", queryset=shops, to_attr="open_shops"))
        .order_by("-order")
    )
