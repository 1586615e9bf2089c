"""The floor guide's back office: who may edit, store scope, markers added, moved and removed,
shop rectangles, the plan image, and bad input answered with a form error (never a 500)."""

import io
import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.models import AuditLog
from members.models import StaffProfile
from stores.floor_plans import marker_create
from stores.models import Brand, Floor, FloorMarker, Shop
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(store_a):
    return Floor.objects.create(store=store_a, code="2F", name="女装", order=2, plan_aspect=600)


@pytest.fixture
def other_floor(store_b):
    return Floor.objects.create(store=store_b, code="2F", name="女装", order=2)


@pytest.fixture
def shop(floor):
    return Shop.objects.create(
        floor=floor, brand=Brand.objects.create(name="歌莉娅"), unit_no="2F-01"
    )


@pytest.fixture
def marketing(client):
    client.force_login(StaffFactory(user__role="marketing").user)
    return client


def png(width=400, height=240) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (230, 230, 240)).save(out, "PNG")
    return SimpleUploadedFile("plan.png", out.getvalue(), content_type="image/png")


def test_marketing_and_hq_may_edit_floors_store_managers_and_analysts_may_not(
    client, floor, store_a
):
    for role, allowed in [
        ("marketing", True),
        ("hq_admin", True),
        ("store_manager", False),
        ("analyst", False),
        ("customer_service", False),
    ]:
        client.force_login(
            StaffFactory(user__role=role, scope=StaffProfile.Scope.STORE, store=store_a).user
        )
        for path in ["/backoffice/stores/floors/", f"/backoffice/stores/floors/{floor.pk}/"]:
            assert client.get(path).status_code == (200 if allowed else 403), (role, path)


def test_the_nav_shows_the_floor_guide_to_marketing(marketing):
    html = marketing.get("/backoffice/").content.decode()
    assert 'href="/backoffice/stores/floors/"' in html and "楼层导视" in html


def test_the_floor_list_shows_the_store_floors_with_counts(marketing, floor, shop, store_b):
    Floor.objects.create(store=store_b, code="9F", name="别的店", order=9)
    response = marketing.get("/backoffice/stores/floors/", {"store": "SA1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-floor="2F"' in html and "9F" not in html
    assert marketing.get("/backoffice/stores/floors/", {"store": "NOPE"}).status_code == 404


def test_a_user_scoped_to_one_store_gets_404_for_another_store_floors(
    client, floor, other_floor, store_a
):
    staff = StaffFactory(user__role="marketing", scope=StaffProfile.Scope.STORE, store=store_a)
    client.force_login(staff.user)
    other_shop = Shop.objects.create(
        floor=other_floor, brand=Brand.objects.create(name="ONLY"), unit_no="2F-01"
    )
    other_marker = marker_create(floor=other_floor, actor=None, kind="exit", x=1, y=1)
    assert client.get(f"/backoffice/stores/floors/{floor.pk}/").status_code == 200
    assert client.get(f"/backoffice/stores/floors/{other_floor.pk}/").status_code == 404
    assert client.get(f"/backoffice/stores/floors/{other_floor.pk}/plan.svg").status_code == 404
    assert client.get("/backoffice/stores/floors/", {"store": "SB1"}).status_code == 404
    posts = [
        (f"/backoffice/stores/floors/{other_floor.pk}/markers/", {"add-kind": "exit"}),
        (f"/backoffice/stores/markers/{other_marker.pk}/", {}),
        (f"/backoffice/stores/markers/{other_marker.pk}/delete/", {}),
        (f"/backoffice/stores/shops/{other_shop.pk}/place/", {}),
        (f"/backoffice/stores/floors/{other_floor.pk}/plan/", {"remove": "1"}),
        (f"/backoffice/stores/floors/{other_floor.pk}/", {"floor-code": "X"}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == 404, path
    assert FloorMarker.objects.filter(pk=other_marker.pk).exists()
    listed = client.get("/backoffice/stores/floors/").content.decode()
    assert "SB1" not in listed


def test_a_marker_is_added_moved_and_deleted(marketing, floor):
    response = marketing.post(
        f"/backoffice/stores/floors/{floor.pk}/markers/",
        {"add-kind": "toilet", "add-label": "洗手间", "add-x": "850", "add-y": "320"},
    )
    assert response.status_code == 302
    marker = FloorMarker.objects.get()
    assert (marker.kind, marker.label, marker.x, marker.y) == ("toilet", "洗手间", 850, 320)
    page = marketing.get(f"/backoffice/stores/floors/{floor.pk}/").content.decode()
    assert f'data-marker="{marker.pk}"' in page and "标记已添加" in page

    prefix = f"m{marker.pk}"
    response = marketing.post(
        f"/backoffice/stores/markers/{marker.pk}/",
        {f"{prefix}-kind": "toilet", f"{prefix}-label": "女洗手间", f"{prefix}-x": "100",
         f"{prefix}-y": "590"},
    )  # fmt: skip
    assert response.status_code == 302
    marker.refresh_from_db()
    assert (marker.label, marker.x, marker.y) == ("女洗手间", 100, 590)

    assert marketing.post(f"/backoffice/stores/markers/{marker.pk}/delete/").status_code == 302
    assert not FloorMarker.objects.exists()
    assert AuditLog.objects.filter(action__startswith="stores.floor_marker.").count() == 3


@pytest.mark.parametrize(
    ("x", "y", "error"),
    [
        ("1200", "10", "1000"),
        ("10", "700", "600"),
        ("-5", "10", "0"),
        ("abc", "10", "整数"),
        ("", "", "必填"),
    ],
    ids=["right", "below", "negative", "text", "empty"],
)
def test_a_marker_off_the_plan_or_garbage_is_a_form_error(marketing, floor, x, y, error):
    response = marketing.post(
        f"/backoffice/stores/floors/{floor.pk}/markers/",
        {"add-kind": "exit", "add-x": x, "add-y": y},
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not FloorMarker.objects.exists()


def test_a_shop_marker_without_its_shop_and_an_unknown_kind_are_form_errors(marketing, floor):
    url = f"/backoffice/stores/floors/{floor.pk}/markers/"
    response = marketing.post(url, {"add-kind": "shop", "add-x": "5", "add-y": "5"})
    assert response.status_code == 400 and "店铺标记须选择对应店铺" in response.content.decode()
    response = marketing.post(url, {"add-kind": "teleporter", "add-x": "5", "add-y": "5"})
    assert response.status_code == 400
    assert not FloorMarker.objects.exists()


def test_moving_a_marker_off_the_plan_is_a_form_error(marketing, floor):
    marker = marker_create(floor=floor, actor=None, kind="exit", x=5, y=5)
    p = f"m{marker.pk}"
    response = marketing.post(
        f"/backoffice/stores/markers/{marker.pk}/",
        {f"{p}-kind": "exit", f"{p}-x": "5", f"{p}-y": "9999"},
    )
    assert response.status_code == 400
    marker.refresh_from_db()
    assert marker.y == 5


def test_a_shop_is_placed_and_bad_rectangles_are_form_errors(marketing, floor, shop):
    url = f"/backoffice/stores/shops/{shop.pk}/place/"
    p = f"s{shop.pk}"
    ok = marketing.post(url, {f"{p}-x": "100", f"{p}-y": "40", f"{p}-w": "200", f"{p}-h": "150"})
    assert ok.status_code == 302
    shop.refresh_from_db()
    assert (shop.x, shop.y, shop.w, shop.h) == (100, 40, 200, 150)

    for bad, message in [
        (("900", "40", "200", "150"), "右边界"),
        (("100", "500", "200", "150"), "下边界"),
        (("100", "40", "0", "150"), "1"),
        (("-1", "40", "20", "150"), "0"),
        (("100", "", "200", "150"), "四项"),
        (("x", "40", "200", "150"), "整数"),
    ]:
        data = dict(zip([f"{p}-x", f"{p}-y", f"{p}-w", f"{p}-h"], bad, strict=True))
        response = marketing.post(url, data)
        assert response.status_code == 400, bad
        assert message in response.content.decode(), bad
    shop.refresh_from_db()
    assert (shop.x, shop.y, shop.w, shop.h) == (100, 40, 200, 150)

    off = marketing.post(url, {f"{p}-x": "", f"{p}-y": "", f"{p}-w": "", f"{p}-h": ""})
    assert off.status_code == 302
    shop.refresh_from_db()
    assert shop.x is None


def test_a_real_png_is_uploaded_and_a_non_image_refused(marketing, floor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    url = f"/backoffice/stores/floors/{floor.pk}/plan/"
    fake = SimpleUploadedFile("plan.png", b"<html><script>alert(1)</script></html>")
    response = marketing.post(url, {"upload-plan": fake})
    assert response.status_code == 400
    assert "照片" in response.content.decode() or "图片" in response.content.decode()
    floor.refresh_from_db()
    assert not floor.plan

    assert marketing.post(url, {"upload-plan": png(400, 240)}).status_code == 302
    floor.refresh_from_db()
    assert floor.plan and floor.plan_aspect == 600
    page = marketing.get(f"/backoffice/stores/floors/{floor.pk}/").content.decode()
    assert floor.plan.url in page and "fe-plan_image" in page

    assert marketing.post(url, {"remove": "1"}).status_code == 302
    floor.refresh_from_db()
    assert not floor.plan


def test_the_floor_fields_and_main_categories_are_saved(marketing, floor, shop):
    from stores.models import Category

    women = Category.objects.create(code="WOMEN", name="女装", division="department")
    url = f"/backoffice/stores/floors/{floor.pk}/"
    data = {
        "floor-code": "2F",
        "floor-name": "女装 · 配饰",
        "floor-order": "2",
        "floor-description": "",
        "floor-categories": [str(women.pk)],
        "floor-plan_aspect": "700",
    }
    assert marketing.post(url, data).status_code == 302
    floor.refresh_from_db()
    assert floor.name == "女装 · 配饰" and floor.plan_aspect == 700
    assert list(floor.categories.all()) == [women]

    Shop.objects.filter(pk=shop.pk).update(x=0, y=500, w=100, h=190)
    response = marketing.post(url, data | {"floor-plan_aspect": "600"})
    assert response.status_code == 400 and "不能再矮" in response.content.decode()
    Floor.objects.create(store=floor.store, code="3F", name="男装", order=3)
    response = marketing.post(url, data | {"floor-code": "3F"})
    assert response.status_code == 400 and "已有使用该编号的楼层" in response.content.decode()
    response = marketing.post(url, data | {"floor-plan_aspect": "-3"})
    assert response.status_code == 400


def test_the_plan_is_served_as_svg_with_a_highlight(marketing, floor, shop):
    Shop.objects.filter(pk=shop.pk).update(x=10, y=10, w=100, h=100)
    response = marketing.get(f"/backoffice/stores/floors/{floor.pk}/plan.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert root.get("viewBox") == "0 0 1000 600"
    highlighted = marketing.get(
        f"/backoffice/stores/floors/{floor.pk}/plan.svg", {"highlight": shop.pk}
    ).content.decode()
    assert "fp-shop_on" in highlighted
    bad = marketing.get(f"/backoffice/stores/floors/{floor.pk}/plan.svg", {"highlight": "x"})
    assert bad.status_code == 404
