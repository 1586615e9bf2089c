"""The points mall's section of the member statistics page (会员统计): the most redeemed
goods in the chosen dates and stores. analytics and mall may not import each other, so
config (the composition root) registers `top_redeemed_goods` with
analytics.statistics.statistics_section_register; it reads only the filter's `since`,
`until` and `store_ids`."""

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from mall.models import Redemption

TOP = 10


def top_redeemed_goods(f) -> dict | None:
    """The TOP goods by redemptions (cancelled ones left out) made in [f.since, f.until):
    picked up at one of f.store_ids, or sent to / issued for a member whose home store is
    one of them (every redemption when store_ids is None). None when there are none."""
    rows = Redemption.objects.filter(created_at__gte=f.since, created_at__lt=f.until).exclude(
        status=Redemption.Status.CANCELLED
    )
    if f.store_ids is not None:
        rows = rows.filter(
            Q(pickup_store_id__in=f.store_ids)
            | Q(pickup_store__isnull=True, member__home_store_id__in=f.store_ids)
        )
    top = list(
        rows.values("goods_id", "goods__name")
        .annotate(redemptions=Count("id"), items=Sum("qty"), points=Sum("points"))
        .order_by("-redemptions", "-items", "goods_id")[:TOP]
    )
    if not top:
        return None
    return {
        "title": _("Top redeemed goods"),
        "columns": [_("Goods"), _("Redemptions"), _("Items"), _("Points spent")],
        "rows": [[r["goods__name"], r["redemptions"], r["items"], r["points"]] for r in top],
    }
