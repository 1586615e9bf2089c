"""The member floor guide (楼层导视): floor tabs, plan with markers, categories and shops; the
brand directory's search and category filter; a brand's page with its position and its
activities running today."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mall.models import BrandActivity
from stores.floor_plans import marker_create
from stores.models import Brand, Category, Floor, Shop, Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def mall(store_a):
    """A store with B1, 1F and 2F; 2F has two placed shops, a toilet and a lift."""
    women = Category.objects.create(code="WOMEN", name="女装", division="department")
    dresses = Category.objects.create(
        code="DP05", name="连衣裙", division="department", parent=women
    )
    beauty = Category.objects.create(code="BEAUTY", name="化妆品", division="department")
    floors = {
        code: Floor.objects.create(store=store_a, code=code, name=name, order=order)
        for code, name, order in [("2F", "女装", 2), ("B1", "超市", -1), ("1F", "化妆品", 1)]
    }
    floors["2F"].categories.set([women])
    gloria = Brand.objects.create(name="歌莉娅", category=dresses, description="广州原创女装")
    only = Brand.objects.create(name="ONLY", category=dresses)
    lancome = Brand.objects.create(name="兰蔻", category=beauty)
    shops = {
        "gloria": Shop.objects.create(
            floor=floors["2F"], brand=gloria, unit_no="2F-01", x=100, y=50, w=200, h=150
        ),
        "only": Shop.objects.create(
            floor=floors["2F"], brand=only, unit_no="2F-02", x=320, y=50, w=200, h=150
        ),
        "lancome": Shop.objects.create(floor=floors["1F"], brand=lancome, unit_no="1F-01"),
    }
    marker_create(floor=floors["2F"], actor=None, kind="toilet", x=900, y=300, label="洗手间")
    marker_create(floor=floors["2F"], actor=None, kind="lift", x=60, y=300)
    return {"store": store_a, "floors": floors, "shops": shops, "women": women, "beauty": beauty}


def test_the_floor_guide_opens_on_the_ground_floor_with_tabs_bottom_to_top(client, mall):
    response = client.get("/m/stores/SA1/floors/")
    assert response.status_code == 200
    html = response.content.decode()
    assert [f.code for f in response.context["floors"]] == ["B1", "1F", "2F"]
    assert response.context["floor"].code == "1F"
    assert 'data-floor-shown="1F"' in html
    assert "兰蔻" in html
    assert "本层平面图正在绘制中" in html  # 1F has no shop on the plan, no marker


def test_a_floor_shows_its_plan_markers_legend_categories_and_shops(client, mall):
    response = client.get("/m/stores/SA1/floors/?floor=2F")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'data-kind="toilet"' in html and 'data-kind="lift"' in html
    assert 'data-legend="toilet"' in html and 'data-legend="lift"' in html
    assert "电梯" in html and "提升度" not in html  # the marker's name, not the rule metric's
    assert [c.name for c in response.context["categories"]] == ["女装"]
    assert [s.unit_no for s in response.context["shops"]] == ["2F-01", "2F-02"]
    assert f"/m/stores/SA1/brands/{mall['shops']['gloria'].brand_id}/" in html


def test_unknown_store_or_floor_is_404(client, mall):
    assert client.get("/m/stores/NOPE/floors/").status_code == 404
    assert client.get("/m/stores/SA1/floors/?floor=9F").status_code == 404
    closed = Store.objects.create(code="SZ9", name="已关店", region=mall["store"].region)
    closed.is_active = False
    closed.save()
    assert client.get("/m/stores/SZ9/floors/").status_code == 404


def test_a_store_without_floors_says_so(client, store_b):
    response = client.get("/m/stores/SB1/floors/")
    assert response.status_code == 200
    assert response.context["floor"] is None
    assert "本店楼层导视正在准备中" in response.content.decode()


def test_the_directory_lists_brands_with_floor_and_unit(client, mall):
    response = client.get("/m/stores/SA1/brands/")
    assert response.status_code == 200
    names = [s.brand.name for s in response.context["shops"]]
    assert names == sorted(names) and set(names) == {"歌莉娅", "ONLY", "兰蔻"}
    assert {c.name for c in response.context["categories"]} == {"女装", "化妆品"}
    assert "2F-01" in response.content.decode()


def test_the_directory_searches_by_name_and_filters_by_category(client, mall):
    found = client.get("/m/stores/SA1/brands/", {"q": "歌莉"}).context["shops"]
    assert [s.brand.name for s in found] == ["歌莉娅"]
    found = client.get("/m/stores/SA1/brands/", {"q": "only"}).context["shops"]  # any case
    assert [s.brand.name for s in found] == ["ONLY"]
    by_department = client.get("/m/stores/SA1/brands/", {"category": mall["women"].pk})
    assert {s.brand.name for s in by_department.context["shops"]} == {"歌莉娅", "ONLY"}
    both = client.get("/m/stores/SA1/brands/", {"category": mall["beauty"].pk, "q": "歌"})
    assert both.context["shops"] == []
    assert "没有找到品牌" in both.content.decode()


def test_the_directory_refuses_a_bad_category_and_shows_only_this_store(client, mall, store_b):
    assert client.get("/m/stores/SA1/brands/", {"category": "x"}).status_code == 404
    assert client.get("/m/stores/SA1/brands/", {"category": "999999"}).status_code == 404
    other = Floor.objects.create(store=store_b, code="1F", name="化妆品", order=1)
    Shop.objects.create(floor=other, brand=Brand.objects.create(name="雅诗兰黛"), unit_no="1F-01")
    names = {s.brand.name for s in client.get("/m/stores/SA1/brands/").context["shops"]}
    assert "雅诗兰黛" not in names


def test_a_brand_page_shows_its_floor_unit_and_highlighted_position(client, mall):
    gloria = mall["shops"]["gloria"]
    response = client.get(f"/m/stores/SA1/brands/{gloria.brand_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "歌莉娅" in html and "广州原创女装" in html and "铺位 2F-01" in html
    assert f'class="fp-shop fp-shop_on" id="fp-shop-{gloria.pk}"' in html
    assert html.count("fp-shop_on") == 1
    assert "floor_plan.js" in html  # scrolls the highlighted shop into view


def test_a_brand_not_placed_yet_still_shows_floor_and_unit(client, mall):
    lancome = mall["shops"]["lancome"]
    html = client.get(f"/m/stores/SA1/brands/{lancome.brand_id}/").content.decode()
    assert "铺位 1F-01" in html and "fp-shop_on" not in html


def test_a_brand_page_lists_only_the_activities_running_today_in_this_store(client, mall, store_b):
    brand = mall["shops"]["gloria"].brand
    today = timezone.localdate()
    day = timedelta(days=1)
    for title, store, starts, ends, published in [
        ("秋冬新品上市", mall["store"], today - day, today + day, True),
        ("今日限定", mall["store"], today, today, True),
        ("已结束的活动", mall["store"], today - 10 * day, today - day, True),
        ("下周开始", mall["store"], today + day, today + 5 * day, True),
        ("草稿活动", mall["store"], today - day, today + day, False),
        ("别的门店", store_b, today - day, today + day, True),
    ]:
        BrandActivity.objects.create(
            store=store,
            brand=brand,
            title=title,
            body="…",
            starts_on=starts,
            ends_on=ends,
            is_published=published,
        )
    response = client.get(f"/m/stores/SA1/brands/{brand.pk}/")
    assert [a.title for a in response.context["activities"]] == ["今日限定", "秋冬新品上市"]
    html = response.content.decode()
    assert "秋冬新品上市" in html and "已结束的活动" not in html and "草稿活动" not in html
    assert f'href="/m/activities/{response.context["activities"][0].pk}/"' in html
    floor_page = client.get("/m/stores/SA1/floors/?floor=2F")
    assert floor_page.context["activity_count"] == 2
    assert (
        f"/m/activities/?store=SA1&amp;floor={mall['floors']['2F'].pk}"
        in floor_page.content.decode()
    )


def test_a_brand_page_without_activities_says_so(client, mall):
    html = client.get(f"/m/stores/SA1/brands/{mall['shops']['only'].brand_id}/").content
    assert "暂无进行中的活动" in html.decode()


def test_unknown_brand_or_a_brand_not_in_this_store_is_404(client, mall, store_b):
    assert client.get("/m/stores/SA1/brands/999999/").status_code == 404
    elsewhere = Brand.objects.create(name="雅诗兰黛")
    Shop.objects.create(
        floor=Floor.objects.create(store=store_b, code="1F", name="化妆品", order=1),
        brand=elsewhere,
        unit_no="1F-01",
    )
    assert client.get(f"/m/stores/SA1/brands/{elsewhere.pk}/").status_code == 404
    assert client.get(f"/m/stores/NOPE/brands/{elsewhere.pk}/").status_code == 404
    closed = mall["shops"]["only"]
    closed.is_active = False
    closed.save()
    assert client.get(f"/m/stores/SA1/brands/{closed.brand_id}/").status_code == 404
