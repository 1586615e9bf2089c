"""The floor guide (楼层导视) in real Chromium: a member switches floors, sees the markers,
searches a brand and finds its highlighted position; staff place a marker by clicking on the
plan. Screenshots of every page on a phone (390×844) and a desktop (1280×800)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from config.demo import catalog
from config.demo.floors import demo_floor_plans
from mall.models import BrandActivity
from stores.models import Brand, Category, Floor, FloorMarker, Shop
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOORS = ("B1", "1F", "2F")


@pytest.fixture
def mall(store_a):
    """B1, 1F and 2F of the demo catalogue in store SA1, laid out as the demo lays them out."""
    departments = {
        code: Category.objects.create(code=code, name=name, division=division)
        for code, name, division in catalog.DEPARTMENTS
    }
    floors = {
        code: Floor.objects.create(store=store_a, code=code, name=name, order=order)
        for code, order, name in catalog.FLOORS
        if code in FLOORS
    }
    market = Brand.objects.create(name="星河超市", category=departments["SM"])
    Shop.objects.create(floor=floors["B1"], brand=market, unit_no="B1-01")
    units = dict.fromkeys(FLOORS, 1)
    for code, name, parent, floor_code in catalog.CATEGORIES:
        leaf = Category.objects.create(
            code=code, name=name, division=departments[parent].division, parent=departments[parent]
        )
        if floor_code not in ("1F", "2F"):
            continue
        for brand_name in catalog.BRANDS.get(code, []):
            brand = Brand.objects.create(name=brand_name, category=leaf)
            unit = f"{floor_code}-{units[floor_code]:02d}"
            Shop.objects.create(floor=floors[floor_code], brand=brand, unit_no=unit)
            units[floor_code] += 1
    demo_floor_plans([store_a])
    story = Brand.objects.get(name="上海故事")
    today = timezone.localdate()
    BrandActivity.objects.create(
        store=store_a,
        brand=story,
        title="真丝围巾 满 500 减 80",
        body="全场真丝围巾满 500 元减 80 元。",
        starts_on=today - timedelta(days=2),
        ends_on=today + timedelta(days=5),
    )
    BrandActivity.objects.create(
        store=store_a,
        brand=story,
        title="上月的旧活动",
        body="已结束",
        starts_on=today - timedelta(days=40),
        ends_on=today - timedelta(days=10),
    )
    return {"store": store_a, "story": story}


def test_a_member_finds_a_brand_on_the_floor_guide_on_a_phone(live_server, phone_page, mall):
    page = phone_page
    page.set_viewport_size({"width": 390, "height": 844})  # the whole screen of an iPhone 13
    page.goto(f"{live_server.url}/m/stores/SA1/floors/")
    expect(page.locator(".fp-tab_on")).to_have_text("1F")
    expect(page.locator('.fp-plan [data-kind="exit"]').first).to_be_visible()
    expect(page.locator('.fp-plan [data-kind="service_desk"]')).to_be_visible()
    expect(page.locator(".fp-legend")).to_contain_text("服务台")
    expect(page.locator(".fp-cats")).to_contain_text("化妆品")
    expect(page.locator(".fp-cats")).to_contain_text("主营类别")
    screenshot(page, "h5_floor_guide_1f_phone")

    page.locator(".fp-tabs").get_by_role("link", name="2F", exact=True).click()
    expect(page).to_have_url(re.compile(r"\?floor=2F$"))
    expect(page.locator(".fp-tab_on")).to_have_text("2F")
    expect(page.locator('.fp-plan [data-kind="toilet"]')).to_be_visible()
    expect(page.locator('.fp-plan [data-kind="escalator"]').first).to_be_visible()
    expect(page.locator(".fp-plan").get_by_text("歌莉娅", exact=True)).to_be_visible()
    expect(page.locator("[data-shops]")).to_contain_text("2F-01")
    expect(page.locator("[data-floor-activities]")).to_contain_text("1")
    # The page itself never scrolls sideways: only the plan does, inside its box.
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, "h5_floor_guide_2f_phone")

    page.get_by_placeholder("搜索品牌").fill("故事")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"/m/stores/SA1/brands/\?q="))
    expect(page.locator("[data-brand]")).to_have_count(1)
    expect(page.locator("[data-brand]")).to_contain_text("2F")
    screenshot(page, "h5_brand_directory_phone")

    page.locator('[data-brand="上海故事"]').click()
    expect(page.get_by_role("heading", name="上海故事")).to_be_visible()
    expect(page.locator(".fp-where")).to_contain_text("铺位 2F-")
    highlighted = page.locator(".fp-shop_on")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_contain_text("上海故事")
    # The plan was scrolled sideways so the shop is on screen, not off to the right.
    box = page.locator(".fp-shop_on rect").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.locator("[data-plan-scroll]").evaluate("el => el.scrollLeft") > 0
    expect(page.locator("[data-activities]")).to_contain_text("真丝围巾 满 500 减 80")
    expect(page.locator("[data-activities]")).not_to_contain_text("上月的旧活动")
    screenshot(page, "h5_brand_detail_phone")
    page.locator("[data-activities] a").click()  # the activity's own page
    expect(page).to_have_url(re.compile(r"/m/activities/\d+/$"))
    expect(page.get_by_text("真丝围巾 满 500 减 80").first).to_be_visible()


def test_the_floor_guide_pages_on_a_desktop(live_server, page, mall):
    page.goto(f"{live_server.url}/m/stores/SA1/floors/?floor=2F")
    expect(page.locator('.fp-plan [data-kind="toilet"]')).to_be_visible()
    screenshot(page, "h5_floor_guide_2f_desktop")
    page.goto(f"{live_server.url}/m/stores/SA1/floors/?floor=B1")
    expect(page.locator('.fp-plan [data-kind="cashier"]')).to_have_count(5)
    screenshot(page, "h5_floor_guide_b1_desktop")
    page.goto(f"{live_server.url}/m/stores/SA1/brands/")
    expect(page.locator("[data-brand]").first).to_be_visible()
    screenshot(page, "h5_brand_directory_desktop")
    page.goto(f"{live_server.url}/m/stores/SA1/brands/{mall['story'].pk}/")
    expect(page.locator(".fp-shop_on")).to_be_visible()
    screenshot(page, "h5_brand_detail_desktop")


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".bo-top__title")).to_be_visible()


@pytest.mark.parametrize(("size", "width", "height"), [("desktop", 1280, 800), ("phone", 390, 844)])
def test_staff_place_a_marker_by_clicking_on_the_plan(
    live_server, browser, mall, size, width, height
):
    staff = StaffFactory(user__username=f"mkt_{size}", user__role="marketing")
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    page = context.new_page()
    sign_in(page, live_server, staff.user.username)

    page.get_by_role("link", name="楼层导视").click()
    expect(page.locator('[data-floors] tr[data-floor="2F"]')).to_be_visible()
    screenshot(page, f"backoffice_floor_list_{size}")

    page.locator('tr[data-floor="2F"]').get_by_role("link", name="编辑平面图").click()
    expect(page.locator(".bo-top__title")).to_contain_text("2F")
    plan = page.locator("[data-plan]")
    expect(plan.locator('[data-kind="toilet"]')).to_be_visible()
    screenshot(page, f"backoffice_floor_edit_{size}")

    aspect = Floor.objects.get(store=mall["store"], code="2F").plan_aspect
    box = plan.bounding_box()
    plan.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
    x = int(page.locator("#id_add-x").input_value())
    y = int(page.locator("#id_add-y").input_value())
    assert abs(x - 450) <= 3 and abs(y - aspect * 0.5) <= 3, (x, y)
    expect(page.locator("[data-pin]")).to_be_visible()
    page.locator("#id_add-kind").select_option("toilet")
    page.locator("#id_add-label").fill("母婴室")
    page.get_by_role("button", name="添加标记").click()

    expect(page.locator(".bo-message_success")).to_contain_text("标记已添加")
    marker = FloorMarker.objects.get(label="母婴室")
    assert (marker.kind, marker.x, marker.y) == ("toilet", x, y)
    expect(page.locator(f'[data-plan] [data-marker="{marker.pk}"]')).to_be_visible()
    expect(page.locator(f'[data-markers] tr[data-marker="{marker.pk}"]')).to_be_visible()
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, f"backoffice_floor_marker_added_{size}")

    # Typed coordinates outside the plan: a form error, nothing saved.
    page.locator("#id_add-kind").select_option("exit")
    page.locator("#id_add-x").fill("1500")
    page.locator("#id_add-y").fill("20")
    page.get_by_role("button", name="添加标记").click()
    expect(page.locator("[data-form=add-marker] [role=alert]").first).to_contain_text("1000")
    assert not FloorMarker.objects.filter(x=1500).exists()
    context.close()
