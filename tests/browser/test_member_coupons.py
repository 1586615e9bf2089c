"""A member's coupons on a phone: a new one under 未使用, its detail with the QR code, used
through the till's verify API it moves to 已使用; an expired one is grey under 已过期."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from coupons.issuing import coupon_issue
from coupons.models import Campaign, Coupon, CouponTemplate
from loyalty.defaults import loyalty_defaults_install
from members.models import StaffProfile
from pos.services import pos_terminal_create
from tests.browser.live import member_sign_in, pos_post
from tests.conftest import RESULTS_DIR, screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VERIFY = "/api/pos/v1/coupons/verify"


def _verify(base_url, terminal, body: dict) -> dict:
    """The till's signed verify call, over HTTP to the live server."""
    status, answer = pos_post(base_url, terminal, VERIFY, body)
    assert status == 200, answer
    return answer


def _sign_in(page, live_server, member):
    member_sign_in(page, live_server, member, openid="o_browser_coupons")


def _template(code, **fields):
    defaults = {"kind": CouponTemplate.Kind.CASH, "valid_days": 30, "per_member_limit": 0}
    return CouponTemplate.objects.create(code=code, **{**defaults, **fields})


def test_a_coupon_from_new_to_used_and_an_expired_one_grey(live_server, phone_page):
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    terminal = pos_terminal_create(store=store, name="3F 女装 02")
    member = MemberFactory(home_store=store, name="王芳")
    campaign = Campaign.objects.create(name="双十一", channel=Campaign.Channel.MANUAL)
    old = coupon_issue(
        template=_template(
            "dress300",
            name="女装满 300 减 50",
            kind="threshold",
            face_value_fen=5000,
            min_spend_fen=30000,
            color="#c9a45c",
        ),
        member=member,
        campaign=campaign,
    )
    Coupon.objects.filter(pk=old.pk).update(
        valid_from=timezone.now() - timedelta(days=20),
        valid_until=timezone.now() - timedelta(days=2),
    )
    coupon_issue(
        template=_template(
            "scarf",
            name="会员日礼品券",
            kind="gift",
            face_value_fen=3000,
            gift_name="真丝方巾",
            color="#7a4fbf",
            valid_days=2,
        ),
        member=member,
        campaign=campaign,
    )
    coupon_issue(
        template=_template(
            "beauty8",
            name="美妆 8 折券",
            kind="percent",
            percent_off=20,
            max_discount_fen=10000,
            color="#d9487d",
        ),
        member=member,
        campaign=campaign,
    )
    new = coupon_issue(
        template=_template(
            "welcome10",
            name="新会员 10 元现金券",
            face_value_fen=1000,
            usage_notes="全场通用，不设门槛；每张小票限用一张，不找零、不兑现。",
            floors_remark="全楼层可用",
        ),
        member=member,
        campaign=campaign,
    )
    page = phone_page
    _sign_in(page, live_server, member)

    page.goto(f"{live_server.url}/m/card/")
    expect(page.locator("[data-card-coupons]")).to_have_text("3")
    screenshot(page, "h5_member_card_with_coupons")
    summary = page.locator(".h5-summary")
    summary.evaluate("e => e.scrollIntoView({block: 'center'})")
    summary.screenshot(path=str(RESULTS_DIR / "screenshots" / "h5_member_card_summary.png"))
    page.locator("a[href='/m/coupons/']").click()

    card = page.locator(f'[data-coupon="{new.code}"]')
    expect(page.locator('[data-tab="unused"]')).to_contain_text("未使用(3)")
    expect(card).to_contain_text("新会员 10 元现金券")
    expect(card).to_contain_text("无门槛")
    expect(page.locator("[data-expiring-soon]")).to_have_count(1)
    screenshot(page, "h5_my_coupons_unused")

    card.click()
    expect(page.locator("[data-till-code] svg")).to_have_count(2)
    expect(page.locator("[data-code]")).to_have_attribute("data-code", new.code)
    expect(page.locator("[data-floors]")).to_have_text("全楼层可用")
    expect(page.get_by_text("不找零、不兑现")).to_be_visible()
    screenshot(page, "h5_coupon_detail")

    answer = _verify(
        live_server.url,
        terminal,
        {
            "store": "S01",
            "pos_no": "P07",
            "request_id": "browser-0001",
            "code": new.code,
            "member": {"card_no": member.card_no},
            "basket_fen": 12900,
            "lines": [
                {
                    "name": "真丝连衣裙",
                    "brand": "江南布衣",
                    "category": "女装",
                    "qty": 1,
                    "amount_fen": 12900,
                },
            ],
        },
    )
    assert answer == {"code": new.code, "discount_fen": 1000, "status": "used"}

    page.reload()
    expect(page.locator("[data-till-code]")).to_have_count(0)
    expect(page.locator("[data-used]")).to_contain_text("武林旗舰店")
    page.goto(f"{live_server.url}/m/coupons/")
    expect(page.locator('[data-tab="unused"]')).to_contain_text("未使用(2)")
    expect(page.locator(f'[data-coupon="{new.code}"]')).to_have_count(0)
    page.locator('[data-tab="used"]').click()
    used = page.locator(f'[data-coupon="{new.code}"]')
    expect(used).to_have_attribute("data-status", "used")
    expect(used).to_have_class("h5-coupon h5-coupon_used h5-coupon_grey")
    expect(used.locator(".h5-coupon__stamp")).to_have_text("已使用")
    screenshot(page, "h5_my_coupons_used")

    page.locator('[data-tab="expired"]').click()
    expired = page.locator(f'[data-coupon="{old.code}"]')
    expect(expired).to_have_attribute("data-status", "expired")
    expect(expired.locator(".h5-coupon__stamp")).to_have_text("已过期")
    face = expired.locator(".h5-coupon__face")
    assert face.evaluate("e => getComputedStyle(e).backgroundImage") == "none"
    assert face.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(200, 200, 200)"
    screenshot(page, "h5_my_coupons_expired")


def _staff_login(page, live_server, staff):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名或邮箱").fill(staff.user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/backoffice/")


def test_the_service_desk_redeems_a_gift_and_marketing_sees_the_result(live_server, page):
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王芳", phone="13912345678")
    campaign = Campaign.objects.create(name="会员日礼品", channel=Campaign.Channel.MANUAL)
    gift = _template(
        "scarf", name="会员日礼品券", kind="gift", face_value_fen=3000, gift_name="真丝方巾"
    )
    coupon = coupon_issue(template=gift, member=member, campaign=campaign)
    coupon_issue(template=gift, member=MemberFactory(home_store=store), campaign=campaign)
    desk = StaffFactory(
        name="服务台小李",
        scope=StaffProfile.Scope.STORE,
        store=store,
        user__username="desk_li",
        user__role="customer_service",
    )

    _staff_login(page, live_server, desk)
    page.get_by_role("link", name="优惠券核销").click()
    page.get_by_label("券码").fill(coupon.code.lower())
    page.get_by_role("button", name="查询").click()
    expect(page.locator("[data-member]")).to_contain_text("王*")
    expect(page.locator("[data-member]")).to_contain_text("139****5678")
    screenshot(page, "backoffice_coupon_desk")
    page.get_by_role("button", name="发放礼品并核销").click()
    expect(page.get_by_text("核销成功：请发放礼品（真丝方巾）。")).to_be_visible()
    expect(page.locator("[data-refusal]")).to_have_text("这张券已使用过。")
    screenshot(page, "backoffice_coupon_desk_redeemed")
    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_pos_no, coupon.used_cashier) == ("used", "DESK", "desk_li")

    page.context.clear_cookies()
    _staff_login(page, live_server, StaffFactory(user__username="mkt", user__role="marketing"))
    page.get_by_role("link", name="活动效果").click()
    row = page.locator(f'[data-campaign="{campaign.pk}"]')
    expect(row.locator("[data-issued]")).to_have_text("2")
    expect(row.locator("[data-used]")).to_have_text("1")
    expect(row.locator("[data-cost]")).to_have_text("30.00")
    expect(page.locator("#campaign-chart canvas")).to_have_count(1)
    screenshot(page, "backoffice_campaign_results")
