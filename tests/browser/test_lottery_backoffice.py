"""抽奖活动 in the back office: marketing creates a campaign with prizes (odds shown while
typing), publishes it; a started campaign's editor is read-only; the detail page shows the
figures, the audited draws, an on-site winner recorded there and a prize handed over."""

import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from loyalty.defaults import loyalty_defaults_install
from mall import lottery
from mall.models import LotteryCampaign, LotteryDraw
from tests.conftest import screenshot
from tests.mall.lottery_factories import give_points, running_campaign
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _key():
    return str(uuid.uuid4())


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/mall/lottery/")
    page.get_by_label("用户名或邮箱").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".bo-top__title")).to_have_text("抽奖活动")


def test_marketing_edits_publishes_and_audits_a_lottery(live_server, page, browser):
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    StaffFactory(user__username="shichang", user__role="marketing", name="市场部小周")
    campaign = running_campaign(name="双旦抽奖")
    prizes = campaign.prizes.all()
    for index, name in enumerate(("王芳", "李娜", "张伟")):
        member = MemberFactory(home_store=store, name=name)
        give_points(member, 100)
        if index == 0:  # a sure mug first: the others out of stock for one draw
            prizes.exclude(name="马克杯").update(stock=0)
            won = lottery.lottery_draw(member=member, campaign=campaign, idempotency_key=_key())
            prizes.filter(name="10 积分").update(stock=100)
            prizes.filter(name="谢谢参与").update(stock=None)
        lottery.lottery_draw(member=member, campaign=campaign, idempotency_key=_key())
        if index > 0:
            lottery.lottery_draw(member=member, campaign=campaign, idempotency_key=_key())
    assert won.status == LotteryDraw.Status.PENDING_PICKUP

    _sign_in(page, live_server, "shichang")
    expect(page.locator(f'[data-campaign="{campaign.pk}"]')).to_contain_text("进行中")
    screenshot(page, "lottery_bo_list_1280")

    # A new campaign: two prizes, the odds follow the weights as they are typed.
    page.locator("[data-create]").click()
    start = timezone.localtime() + timedelta(days=3)
    page.get_by_label("名称").fill("春节抽奖")
    page.get_by_label("开始时间").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("结束时间").fill((start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("每次抽奖积分").fill("20")
    page.get_by_label("活动规则").fill("每次抽奖消耗 20 积分，每人每天 3 次。")
    page.locator("[name=claim_rules]").fill("请于 30 天内到一楼服务台领取。")
    rows = page.locator("[data-prize-row]")
    rows.nth(0).locator("[name$='-name']").fill("电饭煲")
    rows.nth(0).locator("[name$='-kind']").select_option("goods")
    rows.nth(0).locator("[name$='-weight']").fill("5")
    rows.nth(0).locator("[name$='-initial_stock']").fill("3")
    rows.nth(0).locator("[name$='-value_yuan']").fill("399")
    rows.nth(1).locator("[name$='-name']").fill("谢谢参与")
    rows.nth(1).locator("[name$='-kind']").select_option("nothing")
    rows.nth(1).locator("[name$='-weight']").fill("95")
    expect(rows.nth(0).locator("[data-odds]")).to_have_text("5.00%")
    expect(rows.nth(1).locator("[data-odds]")).to_have_text("95.00%")
    screenshot(page, "lottery_bo_create_1280")
    page.locator("[data-save]").click()

    expect(page.locator(".bo-message_success")).to_contain_text("抽奖活动已保存")
    created = LotteryCampaign.objects.get(name="春节抽奖")
    assert created.prizes.count() == 2 and created.published_at is None
    page.locator("[data-publish]").click()
    expect(page.locator('[data-state="published"]')).to_be_visible()
    screenshot(page, "lottery_bo_edit_published_1280")

    # The running campaign: read-only, with the banner.
    page.goto(f"{live_server.url}/backoffice/mall/lottery/{campaign.pk}/edit/")
    expect(page.locator("[data-frozen]")).to_have_text("活动已开始，规则已冻结")
    expect(page.locator("[name=name]")).to_be_disabled()
    expect(page.locator("[data-save]")).to_have_count(0)
    screenshot(page, "lottery_bo_edit_frozen_1280")

    # The detail: figures, audited draws, an on-site winner, a prize handed over.
    page.goto(f"{live_server.url}/backoffice/mall/lottery/{campaign.pk}/")
    expect(page.locator('[data-figure="draws"] .bo-card__value')).to_have_text("6")
    expect(page.locator('[data-figure="participants"] .bo-card__value')).to_have_text("3")
    expect(page.locator('[data-audit="mismatch"]')).to_have_count(0)
    form = page.locator("[data-on-site-form]")
    form.get_by_label("奖品").fill("电饭煲")
    form.get_by_label("中奖人").fill("赵建国")
    form.get_by_label("备注").fill("中庭现场抽奖")
    form.get_by_role("button", name="登记中奖者").click()
    expect(page.locator("[data-on-site]")).to_contain_text("赵建国")
    page.locator("[data-pickup-form] input[name=code]").fill(won.pickup_code)
    page.locator("[data-pickup-form] button").click()
    expect(page.locator(".bo-message_success")).to_contain_text("已发放：马克杯 交给 王*")
    expect(page.locator(f'[data-draw="{won.pk}"]')).to_contain_text("已领取")
    screenshot(page, "lottery_bo_detail_1280")

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    small = phone.new_page()
    _sign_in(small, live_server, "shichang")
    small.goto(f"{live_server.url}/backoffice/mall/lottery/{campaign.pk}/")
    screenshot(small, "lottery_bo_detail_390")
    small.goto(f"{live_server.url}/backoffice/mall/lottery/{created.pk}/edit/")
    screenshot(small, "lottery_bo_edit_390")
    phone.close()
