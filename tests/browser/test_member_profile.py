import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from members.models import Interest, MemberProfile
from tests.conftest import screenshot
from tests.members.factories import MemberFactory, signed_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_profile_locked_notice_and_extended_profile_raise_completeness(live_server, phone_page):
    member = MemberFactory(name="王芳", gender="F", phone="13800138000", birthday=None)
    for order, name in enumerate(["美食", "亲子", "旅行"]):
        Interest.objects.get_or_create(name=name, defaults={"order": order})
    client = Client()
    signed_in_as(client, member)
    identity = member.wechat_identities.get()
    identity.nickname = "芳芳"
    identity.save(update_fields=["nickname"])
    page = phone_page
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/m/card/")
    page.get_by_role("link", name="个人资料").click()
    expect(page).to_have_url(re.compile(r"/m/me/profile/$"))
    expect(page.locator("[data-nickname]")).to_have_text("芳芳")
    expect(page.locator("[data-percent]")).to_have_text("25%")
    expect(page.locator("[data-field=phone]")).to_contain_text("138****8000")

    # A verified field opens WeUI's dialog instead of a form.
    page.locator("[data-field=name]").click()
    dialog = page.locator(".weui-dialog")
    expect(dialog).to_contain_text("姓名已认证，无法在此修改")
    expect(dialog).to_contain_text("服务台")
    expect(page).to_have_url(re.compile(r"/m/me/profile/$"))
    dialog.get_by_text("确定").click()
    expect(dialog).to_be_hidden()

    page.locator("[data-field=education]").click()
    expect(page).to_have_url(re.compile(r"/m/me/profile/more/$"))
    page.get_by_label("生日").fill("1991-05-20")
    page.get_by_label("学历").select_option(label="本科")
    page.get_by_label("职业").select_option(label="企业职员")
    page.locator("label").filter(has_text="美食").click()
    page.get_by_role("button", name="保存").click()

    expect(page).to_have_url(re.compile(r"/m/me/profile/$"))
    expect(page.get_by_text("已保存。")).to_be_visible()
    expect(page.locator("[data-percent]")).to_have_text("75%")
    expect(page.locator("[data-missing]")).to_have_text("待完善：月收入、收货地址")
    expect(page.locator("[data-field=birthday]")).to_contain_text("1991-05-20")
    profile = MemberProfile.objects.get(member=member)
    assert profile.education == "bachelor" and [i.name for i in profile.interests.all()] == ["美食"]
    screenshot(page, "member_profile")
