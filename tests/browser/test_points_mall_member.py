"""积分商城 in Chromium: a signed-in member opens the mall (the demo's goods and pictures), taps a
category tab, opens a good, redeems it for pickup and sees the pickup code; the message in the
inbox carries the code and leads back to it. A sold-out good and express without an address
say why up front. Screenshots of each page at 390×844 and 1280×800."""

import random
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from config.demo.goods import demo_goods
from loyalty.defaults import loyalty_defaults_install
from loyalty.ledger import points_balance
from mall.models import Goods, GoodsCategory, Redemption
from members.models import MenuButton, Message
from stores.models import Store
from tests.browser.live import member_sign_in
from tests.conftest import screenshot
from tests.mall.conftest import give_points
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 800}}


def shots(page, name: str) -> None:
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        screenshot(page, f"h5_points_{name}_{label}")
    page.set_viewport_size(SIZES["390"])


def serve_media(page) -> None:
    """What the web server in front of Django does for MEDIA_URL (Django serves it only with
    DEBUG on): the goods' pictures from MEDIA_ROOT."""
    root = Path(settings.MEDIA_ROOT)

    def handle(route):
        path = root / unquote(urlsplit(route.request.url).path).removeprefix(settings.MEDIA_URL)
        if path.is_file():
            route.fulfill(path=str(path))
        else:
            route.fulfill(status=404)

    page.route(f"**{settings.MEDIA_URL}**", handle)


@pytest.fixture
def mall(transactional_db):
    loyalty_defaults_install(apps)
    s01 = StoreFactory(
        code="S01", name="武林旗舰店", address="杭州市下城区延安路 546 号", phone="0571-87011000"
    )
    StoreFactory(code="S02", name="天一店", address="宁波市海曙区中山东路 188 号")
    demo_goods(random.Random(7), as_of=timezone.now(), redemptions=0)
    member = MemberFactory(home_store=s01, name="王芳")
    give_points(member, 5000)
    return member


def test_a_member_redeems_a_good_for_pickup_and_finds_the_code_in_the_inbox(
    live_server, phone_page, mall
):
    member = mall
    page = phone_page
    serve_media(page)
    member_sign_in(page, live_server, member, openid="o_browser_points")

    MenuButton.objects.create(label="积分商城", icon="🎁", url="/m/mall/", order=3)
    page.goto(f"{live_server.url}/m/card/")
    page.locator(".h5-menu").get_by_role("link", name="积分商城").click()
    expect(page.locator("[data-balance]")).to_have_text("5000")
    expect(page.locator("[data-goods]")).to_have_count(Goods.objects.count())
    first_image = page.locator("[data-goods] img").first
    expect(first_image).to_be_visible()
    assert first_image.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("[data-sold-out]")).to_have_count(1)
    shots(page, "mall")

    toys = GoodsCategory.objects.get(name="亲子玩具")
    page.get_by_role("link", name="亲子玩具").click()
    expect(page.locator(f'[data-category="{toys.pk}"]')).to_have_attribute("aria-current", "page")
    expect(page.locator("[data-goods]")).to_have_count(toys.goods.count())
    shots(page, "mall_tab")

    puzzle = Goods.objects.get(name="益智拼图 100 片")
    page.locator(f'[data-goods="{puzzle.pk}"]').click()
    expect(page.locator("h1")).to_have_text("益智拼图 100 片")
    expect(page.locator("[data-points-price]")).to_have_text("700")
    expect(page.locator("[data-pickup-stores]")).to_have_text("武林旗舰店、天一店")
    expect(page.locator("[data-notes]")).to_contain_text("凭取货码")
    shots(page, "goods")

    page.get_by_role("link", name="立即兑换").click()
    expect(page.locator("[data-pickup-store]")).to_have_value(str(member.home_store_id))
    page.get_by_role("button", name="增加一件").click()
    expect(page.locator("[data-total]")).to_have_text("1400")
    shots(page, "redeem")
    page.get_by_role("button", name="确认兑换").click()

    redemption = Redemption.objects.get(member=member)
    expect(page.locator("[data-pickup-code] [data-code]")).to_have_attribute(
        "data-code", redemption.code
    )
    expect(page.locator("[data-pickup-code]")).to_contain_text(
        " ".join([redemption.code[:5], redemption.code[5:]])
    )
    expect(page.locator("[data-pickup-code] svg")).to_have_count(2)
    expect(page.locator("[data-where]")).to_contain_text("武林旗舰店")
    expect(page.locator("[data-status]")).to_have_text("待领取")
    expect(page.get_by_role("alert")).to_contain_text("兑换成功")
    assert (redemption.qty, redemption.points) == (2, 1400)
    assert points_balance(member_id=member.pk) == 3600
    shots(page, "redemption")

    message = Message.objects.get(member=member, kind="redemption")
    page.goto(f"{live_server.url}/m/messages/?kind=redemption")
    page.get_by_text(message.title).click()
    expect(page.locator("article")).to_contain_text(redemption.code)
    expect(page.locator("article")).to_contain_text("武林旗舰店")
    shots(page, "message")
    page.get_by_role("link", name="查看兑换详情").click()
    expect(page).to_have_url(re.compile(f"/m/mall/redemptions/{redemption.code}/$"))

    page.get_by_role("link", name="我的兑换").click()
    expect(page.locator(f'[data-redemption="{redemption.code}"]')).to_contain_text("待领取")
    expect(page.locator('[data-tab="open"]')).to_contain_text("(1)")
    shots(page, "redemptions")


def test_sold_out_and_express_without_an_address_say_why_before_the_tap(
    live_server, phone_page, mall
):
    page = phone_page
    serve_media(page)
    member_sign_in(page, live_server, mall, openid="o_browser_points_2")

    home = GoodsCategory.objects.get(name="生活家居")
    bag = Goods.objects.create(category=home, name="会员专享帆布袋", points_price=300, stock=5)
    bag.pickup_stores.set(Store.objects.filter(code="S01"))
    page.goto(f"{live_server.url}/m/")
    shots(page, "home_link")
    page.locator("[data-points-mall]").click()
    page.get_by_role("link", name="生活家居").click()
    expect(page.locator(f'[data-goods="{bag.pk}"] .h5-pm-placeholder')).to_contain_text("礼品")
    shots(page, "mall_placeholder")
    page.get_by_role("link", name="全部", exact=True).click()
    cookies = Goods.objects.get(name="手工黄油曲奇礼罐")
    page.locator(f'[data-goods="{cookies.pk}"]').click()
    expect(page.locator("[data-refusal]")).to_contain_text("库存不足")
    expect(page.locator("[data-redeem]")).to_be_disabled()
    shots(page, "goods_sold_out")

    candle = Goods.objects.get(name="北欧风香薰蜡烛")
    page.goto(f"{live_server.url}/m/mall/goods/{candle.pk}/redeem/")
    expect(page.locator('[data-section="express"]')).to_be_hidden()
    page.get_by_text("快递配送", exact=True).click()
    prompt = page.locator("[data-express-missing]")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("收货地址")
    expect(page.locator('[data-section="pickup"]')).to_be_hidden()
    shots(page, "redeem_express_missing")
    page.get_by_role("button", name="确认兑换").click()
    expect(page.locator(".h5-error")).to_contain_text("请选择收货地址")
    assert not Redemption.objects.exists()
    page.locator("[data-add-address]").click()
    expect(page).to_have_url(re.compile("/m/me/addresses/new/$"))


def test_a_coupon_good_goes_straight_into_the_members_coupons(live_server, phone_page, mall):
    page = phone_page
    serve_media(page)
    member_sign_in(page, live_server, mall, openid="o_browser_points_3")
    cash = Goods.objects.get(name="20 元现金券")

    page.goto(f"{live_server.url}/m/mall/goods/{cash.pk}/")
    expect(page.locator("[data-limit]")).to_have_text("每人限兑 3 件")
    page.get_by_role("link", name="立即兑换").click()
    expect(page.locator('[data-section="pickup"]')).to_have_count(0)
    shots(page, "redeem_coupon")
    page.get_by_role("button", name="确认兑换").click()

    redemption = Redemption.objects.get(member=mall)
    coupon = redemption.coupons.get()
    expect(page.locator("[data-status]")).to_have_text("已发券")
    expect(page.locator("[data-pickup-code]")).to_have_count(0)
    shots(page, "redemption_coupon")
    page.locator(f'[data-coupon="{coupon.code}"]').click()
    expect(page.locator("[data-code]")).to_have_attribute("data-code", coupon.code)
