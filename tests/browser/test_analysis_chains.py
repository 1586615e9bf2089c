"""The two chains an analyst runs end to end, in Chromium:

- issue 11: filter the member list, save the result as a group, send it a coupon holding back
  a 10 % control group, see the job finish and the results page with both arms;
- issue 12: on the demo mall, start a mining run from the back office, see it finish, open
  连衣裙 → 遮阳帽, make its campaign and see the target and control counts.
"""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from analytics.models import GroupAction, MemberGroup
from coupons.models import Coupon, CouponTemplate
from loyalty.models import Receipt
from mining.models import RuleCampaign
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="首页")).to_be_visible()


def test_list_to_group_to_a_coupon_with_a_control_group_and_its_results(live_server, page):
    store = StoreFactory(code="S01", name="武林旗舰店")
    MemberFactory.create_batch(40, gender="F", home_store=store)
    MemberFactory.create_batch(7, gender="M", home_store=store)
    CouponTemplate.objects.create(
        code="spring30", name="春季满200减30", kind="threshold", face_value_fen=3000,
        min_spend_fen=20000, valid_days=14,
    )  # fmt: skip
    StaffFactory(user__username="zhou", user__role="analyst")
    page.set_viewport_size(DESKTOP)
    _log_in(page, live_server, "zhou")

    page.get_by_role("link", name="会员", exact=True).first.click()
    page.locator("summary", has_text="筛选条件").click()
    page.get_by_label("性别").select_option("F")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("[data-count]")).to_contain_text("40")
    screenshot(page, "chain_member_list_filtered")

    page.locator("[data-save-group]").click()
    page.get_by_label("分组名称").fill("女性会员 春季")
    page.get_by_label("静态分组（保存时的名单）").check()
    page.get_by_role("button", name="保存分组").click()
    expect(page.locator("[data-figure=members] [data-count]")).to_have_text("40")
    screenshot(page, "chain_group_detail")

    page.get_by_role("link", name="发优惠券").click()
    page.get_by_label("动作名称").fill("春季女装促销")
    page.get_by_label("优惠券").select_option(label="春季满200减30 (spring30)")
    expect(page.get_by_label("对照组（%）")).to_have_value("10")
    page.get_by_role("button", name="保存并发送").click()

    expect(page.get_by_role("heading", name="春季女装促销")).to_be_visible()
    page.wait_for_selector("[data-action-status=done]", timeout=30000)
    action = GroupAction.objects.get()
    assert MemberGroup.objects.get(pk=action.group_id).name == "女性会员 春季"
    assert (action.audience, action.treatment, action.control, action.sent) == (40, 36, 4, 36)
    assert Coupon.objects.count() == 36

    arms = dict(action.recipients.values_list("member_id", "arm"))
    buyers = [m for m, a in arms.items() if a == "treatment"][:12]
    buyers += [m for m, a in arms.items() if a == "control"][:1]
    for number, member_id in enumerate(buyers):
        Receipt.objects.create(
            store=store, pos_no="P1", receipt_no=f"R{number}", member_id=member_id,
            occurred_at=action.started_at + timedelta(hours=3), division="department",
            total_fen=25_000,
        )  # fmt: skip
    page.reload()
    expect(page.locator("[data-results] [data-arm=treatment] [data-members]")).to_have_text("36")
    expect(page.locator("[data-results] [data-arm=control] [data-members]")).to_have_text("4")
    expect(page.locator("[data-results] [data-arm=treatment] [data-converted]")).to_have_text("12")
    expect(page.locator("[data-results] [data-arm=control] [data-converted]")).to_have_text("1")
    screenshot(page, "chain_action_results_desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "chain_action_results_phone")


def test_the_demo_rule_dress_to_sun_hat_becomes_a_campaign(live_server, page):
    call_command("seed_demo", members=300, months=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    CouponTemplate.objects.create(
        code="hat20", name="遮阳帽 20 元券", kind="cash", face_value_fen=2000, valid_days=14
    )
    StaffFactory(user__username="qian", user__role="analyst")
    page.set_viewport_size(DESKTOP)
    _log_in(page, live_server, "qian")

    page.get_by_role("link", name="关联规则").click()
    page.get_by_label("商品层级").select_option(label="品类")
    page.get_by_label("最小支持度").fill("0.002")
    page.get_by_label("最小置信度").fill("0.2")
    page.get_by_role("button", name="开始运行").click()
    expect(page.locator("h2 [data-status]")).to_have_text("已完成", timeout=60000)

    page.get_by_label("商品", exact=True).fill("遮阳帽")
    page.get_by_label("位置", exact=True).select_option(label="那么也买")
    page.get_by_role("button", name="筛选").click()
    dress = page.locator("[data-antecedents]", has_text=re.compile("^连衣裙$"))
    row = page.locator("[data-rule]", has=dress).filter(
        has=page.locator("[data-consequents]", has_text=re.compile("^遮阳帽$"))
    )
    expect(row).to_have_count(1)
    screenshot(page, "chain_rule_dress_hat")
    row.get_by_role("link", name="生成营销活动").click()

    expect(page.get_by_role("heading", name="由规则生成营销活动")).to_be_visible()
    expect(page.locator("[data-rule]")).to_have_text("连衣裙 → 遮阳帽")
    page.get_by_label("优惠券").select_option(label="遮阳帽 20 元券 (hat20)")
    page.get_by_label("前项购买回看天数").fill("365")
    screenshot(page, "chain_rule_campaign_form")
    page.get_by_role("button", name="保存并发送").click()

    page.wait_for_selector("[data-action-status=done]", timeout=30000)
    campaign = RuleCampaign.objects.get()
    action = campaign.action
    assert action.audience > 10 and action.control == round(action.audience * 0.1)
    expect(page.locator("[data-conversion]")).to_contain_text("遮阳帽")
    expect(page.locator("[data-results] [data-arm=treatment] [data-members]")).to_have_text(
        str(action.treatment)
    )
    expect(page.locator("[data-results] [data-arm=control] [data-members]")).to_have_text(
        str(action.control)
    )
    screenshot(page, "chain_rule_campaign_results_desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "chain_rule_campaign_results_phone")
