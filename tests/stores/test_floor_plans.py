"""The floor plan drawn as SVG, and the services that edit markers, shop rectangles and the
plan image."""

import io
import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.exceptions import ServiceError
from core.models import AuditLog
from stores.floor_plans import (
    FloorPlanError,
    floor_plan_remove,
    floor_plan_svg,
    floor_plan_upload,
    floor_update,
    marker_create,
    marker_delete,
    marker_legend,
    marker_update,
    shop_place,
)
from stores.models import Brand, Floor, FloorMarker, Shop

SVG = "{http://www.w3.org/2000/svg}"

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(store_a):
    return Floor.objects.create(store=store_a, code="2F", name="女装", order=2, plan_aspect=600)


def make_shop(floor, name, unit, rect=(100, 50, 200, 150)):
    x, y, w, h = rect
    brand = Brand.objects.create(name=name)
    return Shop.objects.create(floor=floor, brand=brand, unit_no=unit, x=x, y=y, w=w, h=h)


def png_bytes(width=200, height=120) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 220, 240)).save(out, "PNG")
    return out.getvalue()


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it well-formed


def test_the_plan_is_well_formed_svg_with_shops_and_markers(floor):
    shop = make_shop(floor, "歌莉娅", "2F-01")
    make_shop(floor, "ONLY", "2F-02", (320, 50, 200, 150))
    Shop.objects.create(floor=floor, brand=Brand.objects.create(name="未摆放"), unit_no="2F-09")
    marker_create(floor=floor, actor=None, kind="toilet", x=900, y=300, label="洗手间")
    marker_create(floor=floor, actor=None, kind="shop", x=200, y=125, shop=shop)

    root = parsed(floor_plan_svg(floor))

    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 1000 600"
    shops = root.findall(f".//{SVG}g[@class='fp-shop']")
    assert sorted(g.get("data-unit") for g in shops) == ["2F-01", "2F-02"]  # unplaced left out
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "歌莉娅" in texts and "2F-01" in texts and "洗手间" in texts
    markers = root.findall(f".//{SVG}g[@data-kind]")
    assert {m.get("data-kind") for m in markers} == {"toilet", "shop"}
    toilet = next(m for m in markers if m.get("data-kind") == "toilet")
    assert toilet.get("transform") == "translate(900 300)"


def test_a_brand_named_like_markup_is_escaped(floor):
    make_shop(floor, '<script>alert("x")</script>', "2F-<b>")
    marker_create(floor=floor, actor=None, kind="exit", x=10, y=10, label="</text><script>")

    svg = floor_plan_svg(floor)

    assert "<script" not in svg
    root = parsed(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert any(t and t.startswith("<script>") for t in texts)  # shown as text, not run
    assert "</text><script>" in texts
    assert root.find(f".//{SVG}g[@data-unit='2F-<b>']") is not None


def test_the_highlighted_shop_is_outlined_and_pulses(floor):
    make_shop(floor, "歌莉娅", "2F-01")
    other = make_shop(floor, "伊芙丽", "2F-02", (320, 50, 200, 150))

    root = parsed(floor_plan_svg(floor, highlight=other))

    on = root.findall(f".//{SVG}g[@class='fp-shop fp-shop_on']")
    assert [g.get("data-shop") for g in on] == [str(other.pk)]
    assert on[0].find(f".//{SVG}animate") is not None
    assert len(root.findall(f".//{SVG}animate")) == 1
    assert parsed(floor_plan_svg(floor)).find(f".//{SVG}animate") is None


def test_the_overlay_over_an_image_has_no_floor_and_no_shop_fill(floor):
    make_shop(floor, "歌莉娅", "2F-01")
    root = parsed(floor_plan_svg(floor, overlay=True))
    assert root.find(f".//{SVG}rect[@class='fp-floor']") is None
    assert {r.get("fill") for r in root.findall(f".//{SVG}g[@class='fp-shop']/{SVG}rect")} == {
        "none"
    }


def test_the_legend_lists_the_kinds_on_the_floor_in_order(floor):
    marker_create(floor=floor, actor=None, kind="toilet", x=1, y=1)
    marker_create(floor=floor, actor=None, kind="exit", x=2, y=2)
    marker_create(floor=floor, actor=None, kind="exit", x=3, y=3)
    assert [item["kind"] for item in marker_legend(floor)] == ["exit", "toilet"]


def test_markers_are_created_moved_and_deleted_with_an_audit_trail(floor, staff_factory):
    actor = staff_factory(user__role="marketing").user
    marker = marker_create(floor=floor, actor=actor, kind="lift", x=50, y=60, label=" 直梯 ")
    assert marker.label == "直梯"

    moved = marker_update(marker=marker, actor=actor, x=500, y=599)
    assert (moved.x, moved.y, moved.kind) == (500, 599, "lift")

    marker_delete(marker=moved, actor=actor)
    assert not FloorMarker.objects.exists()
    actions = list(
        AuditLog.objects.filter(actor=actor).order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        "stores.floor_marker.created",
        "stores.floor_marker.updated",
        "stores.floor_marker.deleted",
    ]


@pytest.mark.parametrize(
    ("x", "y"), [(-1, 10), (1001, 10), (10, 601), (10, -5), (None, 10)], ids=str
)
def test_a_marker_off_the_plan_is_refused(floor, x, y):
    with pytest.raises(FloorPlanError) as refused:
        marker_create(floor=floor, actor=None, kind="exit", x=x, y=y)
    assert refused.value.code == "outside_plan"
    assert not FloorMarker.objects.exists()


def test_a_marker_is_not_moved_off_the_plan(floor):
    marker = marker_create(floor=floor, actor=None, kind="exit", x=10, y=10)
    with pytest.raises(FloorPlanError):
        marker_update(marker=marker, actor=None, y=700)
    marker.refresh_from_db()
    assert marker.y == 10


def test_a_shop_marker_needs_a_shop_of_its_floor(floor, store_a):
    with pytest.raises(FloorPlanError):
        marker_create(floor=floor, actor=None, kind="shop", x=10, y=10)
    elsewhere = Floor.objects.create(store=store_a, code="3F", name="男装", order=3)
    foreign = make_shop(elsewhere, "雅戈尔", "3F-01")
    with pytest.raises(FloorPlanError):
        marker_create(floor=floor, actor=None, kind="exit", x=10, y=10, shop=foreign)
    with pytest.raises(FloorPlanError):
        marker_create(floor=floor, actor=None, kind="teleporter", x=10, y=10)


def test_a_shop_is_placed_inside_the_plan_only(floor):
    shop = Shop.objects.create(floor=floor, brand=Brand.objects.create(name="播"), unit_no="2F-03")

    placed = shop_place(shop=shop, actor=None, x=800, y=400, w=200, h=200)
    assert (placed.x, placed.y, placed.w, placed.h) == (800, 400, 200, 200)
    assert AuditLog.objects.filter(action="stores.shop.placed", target_id=str(shop.pk)).exists()

    for rect in [(801, 400, 200, 200), (0, 401, 10, 200), (0, 0, 0, 10), (0, 0, 10, -1)]:
        with pytest.raises(FloorPlanError):
            shop_place(shop=shop, actor=None, x=rect[0], y=rect[1], w=rect[2], h=rect[3])
    with pytest.raises(FloorPlanError):
        shop_place(shop=shop, actor=None, x=1, y=1, w=None, h=5)
    shop.refresh_from_db()
    assert (shop.x, shop.y, shop.w, shop.h) == (800, 400, 200, 200)

    off = shop_place(shop=shop, actor=None, x=None, y=None, w=None, h=None)
    assert off.x is None


def test_the_plan_cannot_be_made_shorter_than_what_is_on_it(floor):
    make_shop(floor, "歌莉娅", "2F-01", (0, 300, 100, 250))  # reaches down to 550
    with pytest.raises(FloorPlanError) as refused:
        floor_update(floor=floor, actor=None, plan_aspect=500)
    assert refused.value.code == "aspect_too_short"
    assert floor_update(floor=floor, actor=None, plan_aspect=560).plan_aspect == 560


def test_a_real_png_becomes_the_plan_and_sets_its_height(floor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("plan.png", png_bytes(500, 250), content_type="image/png")

    floor = floor_plan_upload(floor=floor, actor=None, upload=upload)

    assert floor.plan.name.startswith("floors/")
    assert floor.plan_aspect == 500  # 250 / 500 of the width
    with Image.open(floor.plan.path) as stored:
        assert stored.format == "JPEG" and stored.size == (500, 250)
    assert AuditLog.objects.filter(action="stores.floor.plan_uploaded").exists()

    floor = floor_plan_remove(floor=floor, actor=None)
    assert not floor.plan


@pytest.mark.parametrize(
    "content",
    [b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", b"%PDF-1.4 x"],
    ids=["svg", "pdf"],
)
def test_a_file_that_is_not_a_picture_is_refused(floor, content, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ServiceError):
        floor_plan_upload(floor=floor, actor=None, upload=SimpleUploadedFile("plan.png", content))
    floor.refresh_from_db()
    assert not floor.plan


def test_an_image_too_short_for_the_shops_is_refused(floor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_shop(floor, "歌莉娅", "2F-01", (0, 300, 100, 250))
    with pytest.raises(FloorPlanError):
        floor_plan_upload(
            floor=floor, actor=None, upload=SimpleUploadedFile("p.png", png_bytes(1000, 200))
        )
    floor.refresh_from_db()
    assert not floor.plan and floor.plan_aspect == 600
