"""The demo mall's floor plans: every shop of S01 and S02 on its plan, none overlapping,
signs on every floor, cashiers in the supermarket, main categories per floor."""

import xml.etree.ElementTree as ET
from itertools import combinations

import pytest

from config.demo.floors import demo_floor_plans
from config.demo.loader import _catalog, _stores
from stores.floor_plans import floor_plan_svg
from stores.models import Floor

pytestmark = pytest.mark.django_db


def overlap(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def test_the_demo_lays_out_every_floor_of_both_stores():
    stores = _stores()
    _catalog(stores)
    assert demo_floor_plans(stores) > 0

    floors = Floor.objects.filter(store__code__in=["S01", "S02"]).prefetch_related("categories")
    assert floors.count() == 14
    for floor in floors:
        shops = list(floor.shops.all())
        assert shops and all(s.x is not None for s in shops), floor
        for shop in shops:
            assert shop.x + shop.w <= 1000 and shop.y + shop.h <= floor.plan_aspect, shop
        assert not [(a, b) for a, b in combinations(shops, 2) if overlap(a, b)], floor
        kinds = set(floor.markers.values_list("kind", flat=True))
        assert {"lift", "toilet", "fire_exit", "extinguisher"} <= kinds, floor
        assert all(m.y <= floor.plan_aspect for m in floor.markers.all())
        if floor.code != "6F":
            assert floor.categories.exists(), floor
        ET.fromstring(floor_plan_svg(floor))  # noqa: S314 - well-formed
    b1 = floors.get(store__code="S01", code="B1")
    assert b1.markers.filter(kind="cashier").count() == 5
    ground = floors.get(store__code="S01", code="1F")
    assert {"exit", "service_desk"} <= set(ground.markers.values_list("kind", flat=True))
    assert [c.name for c in ground.categories.order_by("code")] == ["化妆品", "珠宝"]
