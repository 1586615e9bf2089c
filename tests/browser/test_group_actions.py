"""From a group, marketing sends a coupon holding back a 10 % control group: the job runs,
and the results page shows both arms, their conversion and the recipient log."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from analytics.models import GroupAction, GroupMember, MemberGroup
from coupons.models import Coupon, CouponTemplate
from loyalty.models import Receipt
from members.models import MarketingOptOut
from tests.browser.live import member_sign_in
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coupon_to_a_group_with_a_control_group(live_server, page):
    store = StoreFactory(code="S01", name="武林旗舰店")
    staff = StaffFactory(user__username="li", user__role="marketing")
    members = MemberFactory.create_batch(40, home_store=store)
    group = MemberGroup.objects.create(
        name="沉睡高价值会员", kind=MemberGroup.Kind.STATIC, created_by=staff.user
    )
    GroupMember.objects.bulk_create(GroupMember(group=group, member=m) for m in members)
    CouponTemplate.objects.create(
        code="wake50",
        name="唤醒券 满300减50",
        kind="threshold",
        face_value_fen=5000,
        min_spend_fen=30000,
        valid_days=14,
    )
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill("li")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()

    # the group's buttons (the include the group page shows): start at SMS, switch to coupon
    page.goto(f"{live_server.url}/backoffice/analytics/groups/{group.pk}/actions/new/?kind=sms")
    page.get_by_role("link", name="发优惠券").click()
    expect(page.get_by_role("heading", name="发优惠券 · 沉睡高价值会员")).to_be_visible()
    page.get_by_label("动作名称").fill("沉睡会员唤醒")
    page.get_by_label("优惠券").select_option(label="唤醒券 满300减50 (wake50)")
    expect(page.get_by_label("对照组（%）")).to_have_value("10")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "backoffice_group_action_form")
    page.get_by_role("button", name="保存并发送").click()

    expect(page.get_by_role("heading", name="沉睡会员唤醒")).to_be_visible()
    page.wait_for_selector("[data-action-status=done]", timeout=20000)
    action = GroupAction.objects.get()
    assert (action.treatment, action.control, action.sent) == (36, 4, 36)
    assert Coupon.objects.count() == 36

    # purchases after the start: 9 of the treatment group, 1 of the control group
    arms = dict(action.recipients.values_list("member_id", "arm"))
    buyers = [m for m, a in arms.items() if a == "treatment"][:9]
    buyers += [m for m, a in arms.items() if a == "control"][:1]
    for number, member_id in enumerate(buyers):
        Receipt.objects.create(
            store=store,
            pos_no="P1",
            receipt_no=f"R{number}",
            member_id=member_id,
            occurred_at=action.started_at + timedelta(hours=2),
            division="department",
            total_fen=35000,
        )
    page.reload()
    expect(page.locator("[data-arm=treatment] [data-members]")).to_have_text("36")
    expect(page.locator("[data-arm=control] [data-members]")).to_have_text("4")
    expect(page.locator("[data-arm=treatment] [data-converted]")).to_have_text("9")
    expect(page.locator("[data-arm=control] [data-converted]")).to_have_text("1")
    expect(page.locator("[data-arm=treatment] [data-rate]")).to_have_text("25.0")
    expect(page.locator("[data-uplift]")).to_contain_text("0.0 个百分点")
    expect(page.locator("table[data-outcomes] [data-outcome=held_back]")).to_contain_text("4")
    expect(page.locator("table[data-log] tbody tr")).to_have_count(40)
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "backoffice_group_action_results")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "backoffice_group_action_results_phone")
    page.goto(f"{live_server.url}/backoffice/analytics/actions/")
    expect(page.locator("[data-action-status=done]")).to_have_count(1)


def test_a_member_turns_offer_sms_off_on_the_phone(live_server, phone_page):
    member = MemberFactory(name="王芳")
    member_sign_in(phone_page, live_server, member)
    phone_page.goto(f"{live_server.url}/m/me/profile/")
    phone_page.get_by_text("短信和消息优惠通知").click()
    expect(phone_page.get_by_role("heading", name="短信和消息优惠通知")).to_be_visible()
    expect(phone_page.get_by_label("短信优惠通知")).to_be_checked()
    phone_page.get_by_label("短信优惠通知").uncheck()
    phone_page.get_by_role("button", name="保存").click()
    expect(phone_page.get_by_label("短信优惠通知")).not_to_be_checked()
    expect(phone_page.get_by_label("站内信和微信优惠通知")).to_be_checked()
    assert list(MarketingOptOut.objects.values_list("member_id", "channel", "source")) == [
        (member.pk, "sms", "h5")
    ]
    screenshot(phone_page, "h5_marketing_settings")
