"""Brand activities and the card's recommendations in real Chromium, at phone size (390×844)
and on a desktop (1280×800): the list filtered by floor, an activity's page, the 完整版 card
with 为您推荐, and the back office's list and form. Screenshots of each for people to look at."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from config.demo.activities import logo_png, poster_png
from core.roles import Role
from loyalty.defaults import loyalty_defaults_install
from mall.activities import activity_create
from mall.models import BrandActivity, Goods
from mall.redeeming import goods_redeem
from members.models import CardPageSettings
from tests.browser.live import member_sign_in
from tests.conftest import screenshot
from tests.mall.activity_data import brand_in, category, floor
from tests.mall.conftest import give_points
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [("390x844", 390, 844), ("1280x800", 1280, 800)]


@pytest.fixture
def mall(db):
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="星河购物中心 武林旗舰店")
    StoreFactory(code="S02", name="星河购物中心 天一店")
    skin, dresses, toys = category("护肤"), category("连衣裙"), category("玩具")
    floor(store, "1F", 1, "化妆品 · 珠宝")
    floor(store, "2F", 2, "女装 · 配饰")
    floor(store, "4F", 4, "童装 · 家居")
    estee = brand_in(store, "雅诗兰黛", floor_code="1F", order=1, unit="1F-01", cat=skin)
    estee.logo.save("logo.png", ContentFile(logo_png("雅诗兰黛", ("#b8860b", "#f4d58d"))))
    gloria = brand_in(store, "歌莉娅", floor_code="2F", order=2, unit="2F-08", cat=dresses)
    lego = brand_in(store, "乐高", floor_code="4F", order=4, unit="4F-03", cat=toys)
    today = timezone.localdate()
    made = {}
    for brand, title, body, palette in [
        (estee, "冬季护肤节 满1000赠正装", "活动期间购买护肤品满 1000 元，赠精华 15ml 一支。", 0),
        (gloria, "冬装上新 第二件 8 折", "针织连衣裙第二件 8 折。\n会员生日当月另享 95 折。", 1),
        (lego, "圣诞拼搭日", "每周六、周日 14:00–17:00 免费拼搭体验，适合 5–12 岁儿童。", 2),
    ]:
        colours = [("#b8860b", "#f4d58d"), ("#a8071a", "#ff9c6e"), ("#1668dc", "#91caff")]
        made[brand.name] = activity_create(
            actor=None,
            store=store,
            brand=brand,
            title=title,
            body=body,
            starts_on=today - timedelta(days=2),
            ends_on=today + timedelta(days=12),
            image=ContentFile(poster_png(title, brand.name, colours[palette]), name="p.png"),
        )
    activity_create(
        actor=None,
        store=store,
        brand=gloria,
        title="往季清仓",
        body="已经结束的活动。",
        starts_on=today - timedelta(days=30),
        ends_on=today - timedelta(days=3),
    )
    return {"store": store, "activities": made, "dresses": dresses}


def _no_sideways_scroll(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(("size", "width", "height"), SIZES)
def test_the_activity_list_filters_by_floor_and_opens_an_activity(
    live_server, phone_page, page, mall, size, width, height
):
    page = phone_page if width < 600 else page
    page.set_viewport_size({"width": width, "height": height})
    errors = []
    page.on("pageerror", lambda error: errors.append(error))

    page.goto(f"{live_server.url}/m/")
    page.locator("[data-entry=activities]").click()
    expect(page.locator("[data-activity]")).to_have_count(3)
    expect(page.get_by_text("往季清仓")).to_have_count(0)
    expect(page.locator("[data-logo-placeholder]").first).to_be_visible()  # 歌莉娅 has no logo
    expect(page.locator(".h5-hero__title")).to_have_text("品牌活动")
    _no_sideways_scroll(page, width)
    screenshot(page, f"h5_activity_list_{size}")

    page.locator("[data-filter=floor] [data-floor='2F']").click()
    expect(page.locator("[data-activity]")).to_have_count(1)
    expect(page.locator("[data-activity] .h5-act__title")).to_have_text("冬装上新 第二件 8 折")
    expect(page.locator("[data-place]")).to_have_text("2F · 2F-08")
    expect(page.locator("[data-filter=floor] .h5-chip_on")).to_have_text("2F")
    screenshot(page, f"h5_activity_list_2F_{size}")

    page.locator("[data-activity]").click()
    expect(page.locator(".h5-actpage__title")).to_have_text("冬装上新 第二件 8 折")
    expect(page.locator(".h5-actpage__image")).to_be_visible()
    expect(page.locator("[data-place]")).to_contain_text("2F 女装 · 配饰 · 2F-08")
    expect(page.locator("[data-body]")).to_contain_text("会员生日当月另享 95 折")
    assert page.evaluate("document.querySelector('.h5-actpage__image').naturalWidth") > 0
    _no_sideways_scroll(page, width)
    screenshot(page, f"h5_activity_detail_{size}")
    assert errors == []


@pytest.mark.parametrize(("size", "width", "height"), SIZES)
def test_the_full_card_shows_recommended_goods_and_activities(
    live_server, phone_page, page, mall, size, width, height
):
    page = phone_page if width < 600 else page
    page.set_viewport_size({"width": width, "height": height})
    store = mall["store"]
    member = MemberFactory(home_store=store, name="王芳")
    for name, price in [("保温杯", 300), ("旅行电吹风", 800), ("雨伞", 200), ("太贵的礼品", 9000)]:
        goods = Goods.objects.create(name=name, points_price=price, stock=10)
        goods.pickup_stores.set([store])
    give_points(member, 300)
    cup = Goods.objects.get(name="保温杯")
    goods_redeem(member=member, goods=cup, delivery="pickup", idempotency_key="b1")
    give_points(member, 1200)
    CardPageSettings.objects.update_or_create(pk=1, defaults={"layout": "full"})
    member_sign_in(page, live_server, member)

    page.goto(f"{live_server.url}/m/card/")
    section = page.locator("[data-section=recommendations]")
    expect(section).to_be_visible()
    expect(section.get_by_text("为您推荐")).to_be_visible()
    expect(section.locator("[data-goods]")).to_have_count(3)  # not the 9000-point gift
    expect(section.get_by_text("800 积分")).to_be_visible()
    expect(section.locator("[data-recommended-activities] [data-activity]")).to_have_count(3)
    section.scroll_into_view_if_needed()
    _no_sideways_scroll(page, width)
    screenshot(page, f"h5_card_full_recommendations_{size}")

    section.locator("[data-recommended-activities] [data-activity]").first.click()
    expect(page.locator(".h5-actpage__title")).to_be_visible()

    CardPageSettings.objects.update_or_create(pk=1, defaults={"layout": "simple"})
    page.goto(f"{live_server.url}/m/card/")
    expect(page.locator("[data-layout=simple]")).to_be_visible()
    expect(page.locator("[data-section=recommendations]")).to_have_count(0)


def _staff_sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".bo-top__title")).to_be_visible()


@pytest.mark.parametrize(("size", "width", "height"), SIZES)
def test_marketing_lists_and_edits_activities_in_the_back_office(
    live_server, page, mall, size, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    staff = StaffFactory(user__username=f"mkt_{size}", user__role=Role.MARKETING)
    _staff_sign_in(page, live_server, staff.user.username)

    page.get_by_role("link", name="品牌活动").first.click()
    expect(page.locator("tr[data-activity]")).to_have_count(4)
    expect(page.locator("tr[data-status=ended]")).to_contain_text("往季清仓")
    screenshot(page, f"bo_activity_list_{size}")

    page.get_by_label("状态").select_option("current")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("tr[data-activity]")).to_have_count(3)

    gloria = mall["activities"]["歌莉娅"]
    page.locator(f"tr[data-activity='{gloria.pk}']").get_by_role("link", name="编辑").click()
    expect(page.locator("[data-current-image]")).to_be_visible()
    body = page.get_by_label("活动内容")
    expect(page.locator("[data-counter]")).to_have_text(str(len(gloria.body)))
    body.fill("第二件 8 折。")
    expect(page.locator("[data-counter]")).to_have_text("8")
    # only the chosen store's brands can be picked
    options = page.locator("select[name=brand] option:not([hidden])")
    expect(options).to_have_count(4)  # the empty choice and three brands of S01
    screenshot(page, f"bo_activity_edit_{size}")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".bo-message_success")).to_have_text("活动已保存。")
    assert BrandActivity.objects.get(pk=gloria.pk).body == "第二件 8 折。"

    page.get_by_label("结束日期", exact=True).fill("2020-01-01")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("[data-field=ends_on] .bo-errors")).to_contain_text("结束日期早于开始日期")
    screenshot(page, f"bo_activity_edit_error_{size}")
