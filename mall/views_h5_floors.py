"""The floor guide (楼层导视) for members: a store's floors with their plans and markers, the
brand directory with search, and a brand's page showing where it is and what it has on."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe

from mall.activities import activities_current
from stores.floor_plans import floor_plan_svg, marker_legend
from stores.models import Brand, Category, Floor, Shop
from stores.selectors import floors_in_order, shops_in_store, stores_open

SEARCH_MAX = 32


def _plan(floor: Floor, *, highlight: Shop | None = None) -> dict | None:
    """What a page needs to show `floor`'s plan; None when there is nothing to draw yet."""
    drawn = floor.shops.filter(is_active=True, x__isnull=False).exists() or floor.markers.exists()
    if not floor.plan and not drawn:
        return None
    # floor_plan_svg escapes every name it writes, so the markup can go into the page as is.
    svg = floor_plan_svg(floor, highlight=highlight, overlay=bool(floor.plan))
    return {
        "svg": mark_safe(svg),  # noqa: S308
        "image": floor.plan.url if floor.plan else "",
        "highlight": highlight,
    }


def floor_guide(request, store_code: str):
    """楼层导视: the floor tabs, the chosen floor's plan with its markers and legend, its main
    categories and its shops."""
    store = get_object_or_404(stores_open(), code=store_code)
    floors = list(floors_in_order(store=store))
    floor = None
    if floors:
        wanted = request.GET.get("floor", "")
        if wanted:
            floor = next((f for f in floors if f.code == wanted), None)
            if floor is None:
                raise Http404
        else:  # the ground floor first, where members come in
            floor = next((f for f in floors if f.order >= 1), floors[0])
    context = {"store": store, "floors": floors, "floor": floor, "tab": "floors"}
    if floor is not None:
        context |= {
            "plan": _plan(floor),
            "legend": marker_legend(floor),
            "categories": list(floor.categories.all()),
            "activity_count": activities_current(floor=floor).count(),
            "shops": list(
                floor.shops.filter(is_active=True).select_related("brand").order_by("unit_no")
            ),
        }
    return render(request, "h5/mall/floor_guide.html", context)


def brand_directory(request, store_code: str):
    """品牌导航: the store's brands with their floor and unit, searched by name and filtered by
    category (the brand's own or its department)."""
    store = get_object_or_404(stores_open(), code=store_code)
    q = request.GET.get("q", "").strip()[:SEARCH_MAX]
    everything = list(shops_in_store(store=store))
    departments = {}
    for shop in everything:
        category = shop.brand.category
        if category is not None:
            top = category.parent if category.parent_id else category
            departments[top.pk] = top
    category = None
    raw = request.GET.get("category", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        category = get_object_or_404(Category, pk=int(raw))
    shops = shops_in_store(store=store, q=q, category=category) if (q or category) else everything
    return render(
        request,
        "h5/mall/brand_directory.html",
        {
            "store": store,
            "q": q,
            "category": category,
            "categories": sorted(departments.values(), key=lambda c: c.code),
            "shops": list(shops),
            "searched": bool(q or category),
            "tab": "floors",
        },
    )


def brand_detail(request, store_code: str, brand_id: int):
    """A brand in the store: its logo and description, its shop(s) with floor and unit, the
    floor's plan with that shop highlighted, and its activities running today."""
    store = get_object_or_404(stores_open(), code=store_code)
    brand = get_object_or_404(Brand.objects.select_related("category"), pk=brand_id)
    shops = list(shops_in_store(store=store).filter(brand=brand))
    if not shops:
        raise Http404
    for shop in shops:
        shop.plan = _plan(shop.floor, highlight=shop)
    return render(
        request,
        "h5/mall/brand_detail.html",
        {
            "store": store,
            "brand": brand,
            "shops": shops,
            "activities": list(activities_current(store=store, brand=brand)),
            "tab": "floors",
        },
    )
