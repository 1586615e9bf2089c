"""The small tables every receipt reads, cached per process (core/tablecache.py): a staff
edit (admin, back office) takes effect on the next request. Callers must not change the
objects they get."""

from core.tablecache import table_cached, tables_cached
from loyalty import earning
from loyalty.models import EarnRule, LoyaltySettings, PointsPromotion, Tier
from stores.models import Brand, Category, Store


def tables_register() -> None:
    """loyalty's AppConfig.ready: these models' saves and deletes invalidate the copies."""
    tables_cached(EarnRule, PointsPromotion, Tier, LoyaltySettings, Store, Category, Brand)


def loyalty_policy() -> LoyaltySettings:
    return table_cached("loyalty:policy", LoyaltySettings.current)


def tiers_cached() -> list[Tier]:
    return table_cached("loyalty:tiers", lambda: list(Tier.objects.order_by("threshold")))


def earn_rules_cached() -> list[earning.Rule]:
    return table_cached(
        "loyalty:earn_rules",
        lambda: [
            earning.Rule(r.pk, r.store_id, r.division, r.category_id, r.points, r.per_fen)
            for r in EarnRule.objects.filter(is_active=True)
        ],
    )


def promotions_cached() -> list[PointsPromotion]:
    """The active promotions (their dates are checked by the caller)."""
    return table_cached(
        "loyalty:promotions", lambda: list(PointsPromotion.objects.filter(is_active=True))
    )


def _categories() -> tuple[dict, dict]:
    by_id, by_name = {}, {}
    for category in Category.objects.order_by("pk"):
        by_id[category.pk] = category
        by_name.setdefault(category.name, category)  # the first made, as before
    return by_id, by_name


def categories_cached() -> tuple[dict[int, Category], dict[str, Category]]:
    """Categories by id and by name (the oldest of a name)."""
    return table_cached("stores:categories", _categories)


def brands_cached() -> tuple[dict[int, Brand], dict[str, Brand]]:
    def load():
        brands = list(Brand.objects.all())
        return {b.pk: b for b in brands}, {b.name: b for b in brands}

    return table_cached("stores:brands", load)


def stores_by_code() -> dict[str, Store]:
    return table_cached("stores:by_code", lambda: {s.code: s for s in Store.objects.all()})
