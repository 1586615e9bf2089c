"""The demo mall's floor plans (楼层导视): every floor of S01 and S02 gets its shops laid out as
a mall floor is (rows of shops along a corridor through the middle, a service core with lifts
and toilets at the west end, emergency stairs at the east end), its signs as markers, and its
main categories. Placed through stores' services, as staff would in the back office."""

from config.demo import catalog
from stores.floor_plans import floor_update, marker_create, shop_place
from stores.models import Category, Floor, FloorMarker

K = FloorMarker.Kind
SHOPS_LEFT, SHOPS_RIGHT = 130, 870  # the west service core and the east stairs lie outside

# Rows of shops (top, height) and the corridors' middles (y), by number of rows.
TWO_ROWS = {"aspect": 600, "rows": [(40, 200), (360, 200)], "corridors": [300]}
FOUR_ROWS = {
    "aspect": 680,
    "rows": [(30, 130), (240, 100), (340, 100), (520, 130)],
    "corridors": [200, 480],
}


def _layout(count: int) -> tuple[dict, list[tuple[int, int, int, int]]]:
    """The plan and `count` rectangles filling its rows left to right, top row first."""
    plan = TWO_ROWS if count <= 10 else FOUR_ROWS
    rows = plan["rows"]
    # as even as can be: the first rows take one shop more
    sizes = [count // len(rows) + (1 if i < count % len(rows) else 0) for i in range(len(rows))]
    rects = []
    for (top, height), in_row in zip(rows, sizes, strict=True):
        if not in_row:
            continue
        width = (SHOPS_RIGHT - SHOPS_LEFT) // in_row
        for index in range(in_row):
            left = SHOPS_LEFT + index * width
            rects.append((left + 4, top + 4, width - 8, height - 8))
    return plan, rects


def _signs(floor: Floor, plan: dict) -> list[tuple[str, int, int, str]]:
    """The markers of a floor: (kind, x, y, label)."""
    aspect, corridors = plan["aspect"], plan["corridors"]
    middle = corridors[0] if len(corridors) == 1 else (corridors[0] + corridors[1]) // 2
    signs = [
        (K.LIFT, 70, middle - 50, "直梯"),
        (K.TOILET, 70, middle + 60, "洗手间"),
        (K.FIRE_EXIT, 935, 60, "安全出口"),
        (K.FIRE_EXIT, 935, aspect - 60, "安全出口"),
        (K.EXTINGUISHER, 935, middle, "灭火器"),
    ]
    for y in corridors:
        signs += [(K.ESCALATOR, 380, y, "扶梯"), (K.ESCALATOR, 620, y, "扶梯")]
    signs.append((K.EXTINGUISHER, 500, corridors[0], "灭火器"))
    if floor.code == "1F":
        signs += [
            (K.EXIT, 500, 16, "北门"),
            (K.EXIT, 500, aspect - 16, "南门 · 延安路"),
            (K.SERVICE_DESK, 220, corridors[0], "服务台"),
            (K.SAFETY, 800, corridors[-1], "小心地滑"),
        ]
    if floor.code == "6F":
        signs.append((K.SAFETY, 780, corridors[0], "禁止吸烟"))
    return signs


def _supermarket(floor: Floor, shops: list, actor) -> None:
    """B1: the supermarket fills the floor; its cashiers line its exit."""
    plan = {"aspect": 600, "corridors": [520]}
    floor = floor_update(floor=floor, actor=actor, plan_aspect=plan["aspect"])
    for shop in shops:
        shop_place(shop=shop, actor=actor, x=SHOPS_LEFT, y=30, w=SHOPS_RIGHT - SHOPS_LEFT, h=420)
    for number, x in enumerate((260, 380, 500, 620, 740), start=1):
        marker_create(floor=floor, actor=actor, kind=K.CASHIER, x=x, y=470, label=f"收银台{number}")
    for kind, x, y, label in [
        (K.EXIT, 200, 560, "超市出口"),
        (K.EXIT, 800, 560, "超市入口"),
        (K.ESCALATOR, 500, 550, "自动坡道"),
        (K.LIFT, 70, 250, "直梯"),
        (K.TOILET, 70, 380, "洗手间"),
        (K.SERVICE_DESK, 940, 470, "存包处"),
        (K.FIRE_EXIT, 935, 60, "安全出口"),
        (K.EXTINGUISHER, 935, 300, "灭火器"),
    ]:
        marker_create(floor=floor, actor=actor, kind=kind, x=x, y=y, label=label)


def demo_floor_plans(stores, *, actor=None) -> int:
    """Plans, markers and main categories for every floor of `stores`; returns the markers."""
    departments = {c.code: c for c in Category.objects.filter(parent__isnull=True)}
    main = {}
    for _code, _name, parent, floor_code in catalog.CATEGORIES:
        if parent != "SERVICE":
            main.setdefault(floor_code, []).append(parent)
    for floor in Floor.objects.filter(store__in=stores).order_by("store__code", "order"):
        shops = list(floor.shops.order_by("unit_no"))
        if floor.code == "B1":
            _supermarket(floor, shops, actor)
        else:
            plan, rects = _layout(len(shops))
            floor = floor_update(floor=floor, actor=actor, plan_aspect=plan["aspect"])
            for shop, (x, y, w, h) in zip(shops, rects, strict=True):
                shop_place(shop=shop, actor=actor, x=x, y=y, w=w, h=h)
            for kind, x, y, label in _signs(floor, plan):
                marker_create(floor=floor, actor=actor, kind=kind, x=x, y=y, label=label)
        codes = dict.fromkeys(main.get(floor.code, []))  # ordered, without repeats
        floor.categories.set([departments[code] for code in codes if code in departments])
    return FloorMarker.objects.filter(floor__store__in=stores).count()
