import re

import pytest
from playwright.sync_api import expect

from members.models import Member
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_first_visit_wechat_sign_in_phone_binding_and_the_card(
    live_server, phone_page, fake_wechat, sms_outbox
):
    from django.apps import apps

    from loyalty.defaults import loyalty_defaults_install

    loyalty_defaults_install(apps)  # the tiers a migration gives every mall
    page = phone_page
    page.goto(f"{live_server.url}/m/card/")
    # The fake's stand-in for WeChat's authorization: pick the WeChat user.
    expect(page.get_by_text("模拟微信授权")).to_be_visible()
    page.get_by_role("link", name="李娜").click()

    expect(page).to_have_url(re.compile(r"/m/register/"))
    expect(page.get_by_role("heading", name="注册会员")).to_be_visible()
    expect(page.locator("#privacy-notice")).to_contain_text("手机号码")
    screenshot(page, "h5_register_privacy_notice")
    page.get_by_label("手机号码").fill("13800138000")
    page.get_by_role("button", name="获取验证码").click()
    # No code before the privacy policy is accepted; the number typed stays.
    expect(page.get_by_text("请先阅读并同意《隐私政策》")).to_be_visible()
    expect(page.get_by_label("手机号码")).to_have_value("13800138000")
    assert sms_outbox == []
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送至 13800138000")).to_be_visible()
    code = re.search(r"\d{6}", sms_outbox[-1]["text"]).group()
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="验证并注册").click()

    # The card page first fetches avatar and nickname (snsapi_userinfo); the fake WeChat
    # remembers the user, as WeChat does, so that round trip is silent.
    expect(page).to_have_url(re.compile(r"/m/card/(#wechat_redirect)?$"))
    expect(page.locator("[data-nickname]")).to_have_text("李娜")
    member = Member.objects.get(phone="13800138000")
    assert member.consents.get().purpose == "privacy_policy"
    expect(page.locator("[data-card-no]")).to_have_text(member.card_no_display)
    expect(page.locator("[data-card-tier]")).to_have_text("普卡")
    expect(page.locator("[data-card-points]")).to_have_text("0")
    expect(page.get_by_text("注册成功")).to_be_visible()
    expect(page.locator("#till-code .h5-till__qr svg")).to_be_visible()
    code = page.locator("[data-part=code]").get_attribute("data-code")
    from members.card_codes import card_code_resolve

    assert card_code_resolve(code=code) == member
    screenshot(page, "h5_member_card_after_signup")


def test_the_privacy_policy_reads_in_chinese_on_a_phone_and_a_desktop(
    live_server, phone_page, page
):
    for viewer, size in ((phone_page, {"width": 390, "height": 844}), (page, None)):
        if size:
            viewer.set_viewport_size(size)
        viewer.goto(f"{live_server.url}/m/privacy/")
        expect(viewer.get_by_role("heading", name="隐私政策")).to_be_visible()
        expect(viewer.get_by_role("heading", name="二、保存期限")).to_be_visible()
        width = viewer.viewport_size["width"]
        screenshot(viewer, f"h5_privacy_policy_{width}")
        assert viewer.evaluate("document.documentElement.scrollWidth") <= width
