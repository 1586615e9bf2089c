"""The points mall's back office in Chromium: a member redeemed a good for pickup; the service
desk (兑换核销) types the pickup code with spaces and in lower case, sees the redemption and
hands it over (已领取), then a lottery prize's pickup code the same way; marketing's goods
list, goods editor (with the categories whose shoppers see it first), redemption list and
redemption page. Screenshots of each page on a desktop (1280×800) and a phone (390×844)."""

import io
import mimetypes
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from core.roles import Role
from loyalty.defaults import loyalty_defaults_install
from loyalty.ledger import points_balance, points_post
from mall.goods_admin import goods_create, goods_image_clean
from mall.lottery import lottery_draw
from mall.models import GoodsCategory, LotteryCampaign, LotteryPrize, Redemption
from mall.redeeming import goods_redeem
from stores.models import Category
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def picture(text: str, color: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (400, 400), color)
    ImageDraw.Draw(image).text((40, 180), text, fill="#ffffff", font_size=48)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SimpleUploadedFile(f"{text}.png", buffer.getvalue(), content_type="image/png")


def serve_media(page) -> None:
    """Public media as the web server serves it in production (the test server does not)."""
    root = Path(settings.MEDIA_ROOT)

    def handle(route):
        name = route.request.url.split("/media/", 1)[1].split("?", 1)[0]
        path = root / name
        if not path.is_file():
            route.fulfill(status=404, body="")
            return
        route.fulfill(
            status=200,
            body=path.read_bytes(),
            content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        )

    page.route("**/media/**", handle)


def sign_in(page, live_server, username, next_url, heading):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("用户名或邮箱").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".bo-top__title")).to_have_text(heading)


@pytest.fixture
def mall(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    marketing = StaffFactory(user__username="shichang", user__role=Role.MARKETING, name="陈静")
    StaffFactory(
        user__username="fuwutai",
        user__role=Role.CUSTOMER_SERVICE,
        name="王芳",
        scope="store",
        store=store,
    )
    market = Category.objects.create(code="SM", name="超市", division="supermarket")
    for code, name in (("SM10", "浴室用品"), ("SM12", "电吹风"), ("SM13", "厨房小电")):
        Category.objects.create(code=code, name=name, division="supermarket", parent=market)
    women = Category.objects.create(code="WOMEN", name="女装", division="department")
    for code, name in (("DP05", "连衣裙"), ("DP06", "女士上衣"), ("DP07", "半身裙")):
        Category.objects.create(code=code, name=name, division="department", parent=women)
    home = GoodsCategory.objects.create(name="生活家居", position=1)
    GoodsCategory.objects.create(name="数码电器", position=2)
    cup = goods_create(
        actor=marketing.user,
        fields={
            "category": home,
            "name": "不锈钢保温杯 500ml",
            "kind": "thing",
            "market_price_fen": 12900,
            "points_price": 800,
            "per_member_limit": 2,
            "offers_pickup": True,
            "offers_express": True,
            "pickup_note": "1F 服务台，10:00–22:00",
            "redemption_notes": "每人限兑 2 个；兑换后 30 天内到服务台领取。",
            "is_active": True,
            "position": 0,
        },
        pickup_stores=[store],
        stock=30,
        images=[
            goods_image_clean(picture("CUP", "#b8860b")),
            goods_image_clean(picture("2", "#2f3b4a")),
        ],
    )
    bag = goods_create(
        actor=marketing.user,
        fields={
            "category": home,
            "name": "帆布购物袋",
            "kind": "thing",
            "market_price_fen": 3900,
            "points_price": 200,
            "offers_pickup": True,
            "is_active": True,
        },
        pickup_stores=[store],
        stock=4,
        images=[goods_image_clean(picture("BAG", "#1d6b2b"))],
    )
    member = MemberFactory(home_store=store, name="李娜", phone="13900001111")
    points_post(member_id=member.pk, kind="earn", points=3000, key="seed:li-na")
    first = goods_redeem(member=member, goods=cup, delivery="pickup", idempotency_key="m1")
    second = goods_redeem(member=member, goods=bag, delivery="pickup", idempotency_key="m2")
    return {
        "store": store,
        "cup": cup,
        "bag": bag,
        "member": member,
        "first": first,
        "second": second,
    }


def lottery_campaign(store):
    """A running campaign of S01 whose only prize is a mug picked up at the desk."""
    now = timezone.now()
    campaign = LotteryCampaign.objects.create(
        name="双旦抽奖",
        store=store,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=7),
        points_per_draw=10,
        daily_limit=3,
        total_limit=0,
        rules="每次抽奖消耗 10 积分。",
        claim_rules="请到一楼服务台领取。",
        published_at=now - timedelta(days=1),
    )
    LotteryPrize.objects.create(
        campaign=campaign,
        name="马克杯",
        kind="goods",
        weight=1,
        stock=5,
        initial_stock=5,
        value_fen=3900,
    )
    return campaign


def test_the_desk_verifies_a_pickup_code_and_staff_keep_the_goods(live_server, page, browser, mall):
    first, member = mall["first"], mall["member"]
    assert points_balance(member_id=member.pk) == 2000
    serve_media(page)

    # 兑换核销 at the service desk of S01
    sign_in(page, live_server, "fuwutai", "/backoffice/mall/desk/", "兑换核销")
    expect(page.locator(".bo-nav__item_on")).to_contain_text("兑换核销")
    typed = f"{first.code[:3].lower()} {first.code[3:7].lower()} {first.code[7:]}"
    page.get_by_label("取货码").fill(typed)
    page.get_by_role("button", name="查询").click()
    card = page.locator(f'[data-desk-redemption="{first.code}"]')
    expect(card).to_contain_text("不锈钢保温杯 500ml")
    expect(card.locator("[data-member]")).to_contain_text("139****1111")
    expect(card.locator("[data-state]")).to_have_text("待领取")
    assert "13900001111" not in page.content()
    screenshot(page, "mall_desk_lookup_1280")

    card.get_by_role("button", name="确认核销并交付").click()
    expect(page.locator(".bo-message_success")).to_contain_text("核销成功")
    expect(page.locator("[data-state]")).to_have_text("已领取")
    first.refresh_from_db()
    assert first.status == "picked_up" and first.verified_by.username == "fuwutai"
    screenshot(page, "mall_desk_done_1280")

    # the same code again: already picked up, said in words, no button
    page.get_by_label("取货码").fill(first.code)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("[data-refusal]")).to_contain_text("已于")
    expect(page.get_by_role("button", name="确认核销并交付")).to_have_count(0)

    # a redemption recorded at the desk for the member (phone typed)
    record = page.locator("#desk-record")
    record.get_by_label("卡号或手机号").fill("13900001111")
    record.get_by_label("商品").select_option(label="帆布购物袋 · 200 积分 · 剩余 3")
    record.get_by_role("button", name="兑换并交付").click()
    expect(page.locator(".bo-message_success")).to_contain_text("帆布购物袋 ×1")
    expect(page.locator("[data-state]")).to_have_text("已领取")
    assert points_balance(member_id=member.pk) == 1800
    assert Redemption.objects.filter(member=member, at_desk_by__username="fuwutai").count() == 1

    # a lottery prize's pickup code at the same desk: the prize, the campaign, handed over
    campaign = lottery_campaign(mall["store"])
    draw = lottery_draw(member=member, campaign=campaign, idempotency_key="l1")
    page.get_by_label("取货码").fill(f"{draw.pickup_code[:5].lower()} {draw.pickup_code[5:]}")
    page.get_by_role("button", name="查询").click()
    prize = page.locator(f'[data-desk-draw="{draw.pickup_code}"]')
    expect(prize).to_contain_text("马克杯")
    expect(prize.locator("[data-campaign]")).to_have_text("双旦抽奖")
    expect(prize.locator("[data-member]")).to_contain_text("139****1111")
    expect(prize.locator("[data-state]")).to_have_text("待领取")
    screenshot(page, "mall_desk_lottery_1280")
    prize.get_by_role("button", name="确认核销并交付").click()
    expect(page.locator(".bo-message_success")).to_contain_text("请交付抽奖奖品 马克杯")
    expect(page.locator("[data-desk-draw] [data-state]")).to_have_text("已领取")
    draw.refresh_from_db()
    assert draw.status == "picked_up" and draw.picked_up_by.username == "fuwutai"
    screenshot(page, "mall_desk_lottery_done_1280")

    # marketing: goods, the editor, redemptions
    staff = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    office = staff.new_page()
    serve_media(office)
    sign_in(office, live_server, "shichang", "/backoffice/mall/goods/", "积分商城商品")
    cup_row = office.locator(f'[data-goods="{mall["cup"].pk}"]')
    expect(cup_row.locator("[data-stock]")).to_have_text("29")
    expect(cup_row.locator("[data-redeemed]")).to_have_text("1")
    expect(office.locator(f'[data-goods="{mall["bag"].pk}"] [data-stock]')).to_have_class(
        "bo-num mg-low"
    )
    office.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    screenshot(office, "mall_goods_list_1280")

    cup_row.get_by_role("link", name="编辑").click()
    expect(office.locator(".bo-top__title")).to_contain_text("编辑商品")
    expect(office.locator("[data-image]")).to_have_count(2)
    interests = office.locator('[data-field="interest_categories"]')
    expect(interests).to_contain_text("为您推荐")
    interests.get_by_label("电吹风").check()
    interests.get_by_label("浴室用品").check()
    office.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    screenshot(office, "mall_goods_edit_1280")
    interests.scroll_into_view_if_needed()
    screenshot(office, "mall_goods_edit_interests_1280")
    office.locator("[data-goods-save]").click()
    expect(office.locator(".bo-message_success")).to_be_visible()
    assert sorted(mall["cup"].interest_categories.values_list("name", flat=True)) == [
        "浴室用品",
        "电吹风",
    ]
    expect(office.locator('[data-field="interest_categories"] input:checked')).to_have_count(2)
    office.get_by_label("变动数量").fill("-100")
    office.get_by_label("调整原因").fill("盘点")
    office.get_by_role("button", name="调整库存").click()
    expect(office.locator('[data-stock-form] [data-field="delta"] .bo-errors')).to_contain_text(
        "库存没有这么多"
    )
    office.get_by_label("变动数量").fill("10")
    office.get_by_label("调整原因").fill("到货")
    office.get_by_role("button", name="调整库存").click()
    expect(office.locator("#stock [data-stock]")).to_have_text("39")

    office.goto(f"{live_server.url}/backoffice/mall/redemptions/")
    expect(office.locator(f'[data-redemption="{first.code}"]')).to_contain_text("已领取")
    screenshot(office, "mall_redemption_list_1280")
    office.locator(f'[data-redemption="{first.code}"] a').click()
    expect(office.locator("[data-events] li")).to_have_count(2)
    screenshot(office, "mall_redemption_detail_1280")
    office.goto(f"{live_server.url}/backoffice/mall/redemptions/{mall['second'].pk}/")
    cancel = office.locator('[data-action="cancel"]')
    cancel.get_by_role("button", name="取消兑换").click()  # no reason: said on the form
    expect(office.locator('[data-action="cancel"] .bo-errors')).to_contain_text("必填")
    screenshot(office, "mall_redemption_actions_1280")
    office.goto(f"{live_server.url}/backoffice/mall/categories/")
    screenshot(office, "mall_goods_categories_1280")
    office.goto(f"{live_server.url}/backoffice/mall/goods/new/")
    office.get_by_role("button", name="保存").click()  # nothing filled in: the reasons
    expect(office.locator('[data-field="name"] .bo-errors')).to_be_visible()
    screenshot(office, "mall_goods_create_errors_1280")
    staff.close()

    # a phone: the desk with a code looked up, the goods list and editor
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    small = phone.new_page()
    serve_media(small)
    second = mall["second"]
    sign_in(
        small,
        live_server,
        "fuwutai",
        f"/backoffice/mall/desk/?code={second.code.lower()}",
        "兑换核销",
    )
    expect(small.locator("[data-desk-redemption] [data-state]")).to_have_text("待领取")
    screenshot(small, "mall_desk_lookup_390")
    small.get_by_role("button", name="确认核销并交付").click()
    expect(small.locator("[data-state]")).to_have_text("已领取")
    screenshot(small, "mall_desk_done_390")
    other = lottery_draw(member=mall["member"], campaign=campaign, idempotency_key="l2")
    small.goto(f"{live_server.url}/backoffice/mall/desk/?code={other.pickup_code.lower()}")
    expect(small.locator("[data-desk-draw] [data-state]")).to_have_text("待领取")
    screenshot(small, "mall_desk_lottery_390")
    phone.close()
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    small = phone.new_page()
    serve_media(small)
    sign_in(small, live_server, "shichang", "/backoffice/mall/goods/", "积分商城商品")
    screenshot(small, "mall_goods_list_390")
    small.goto(f"{live_server.url}/backoffice/mall/goods/{mall['cup'].pk}/")
    small.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    screenshot(small, "mall_goods_edit_390")
    small.goto(f"{live_server.url}/backoffice/mall/redemptions/")
    screenshot(small, "mall_redemption_list_390")
    small.goto(f"{live_server.url}/backoffice/mall/redemptions/{first.pk}/")
    screenshot(small, "mall_redemption_detail_390")
    small.goto(f"{live_server.url}/backoffice/mall/categories/")
    screenshot(small, "mall_goods_categories_390")
    phone.close()
