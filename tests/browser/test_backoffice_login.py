import re

import pytest
from playwright.sync_api import expect

from members.models import StaffProfile
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_logs_in_and_sees_the_dashboard_with_real_counts(live_server, page, store_a, store_b):
    MemberFactory.create_batch(3, home_store=store_a)
    MemberFactory.create_batch(2, home_store=store_b)
    staff = StaffFactory(
        name="陈晓静",
        scope=StaffProfile.Scope.STORE,
        store=store_a,
        user__username="chen",
        user__role="store_manager",
    )

    page.goto(f"{live_server.url}/backoffice/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/backoffice/"))
    page.get_by_label("用户名或邮箱").fill(staff.user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(f"{live_server.url}/backoffice/")
    expect(page.get_by_role("heading", name="首页")).to_be_visible()
    expect(page.locator("[data-figure=members] .bo-card__value")).to_have_text("3")
    expect(page.get_by_text("陈晓静")).to_be_visible()
    expect(page.get_by_text("门店经理")).to_be_visible()
    # ECharts drew the sales chart into a canvas.
    expect(page.locator("#daily-sales-chart canvas")).to_have_count(1)
    screenshot(page, "backoffice_home")


def test_a_wrong_password_is_refused_with_a_message(live_server, page):
    staff = StaffFactory(user__username="li")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名或邮箱").fill(staff.user.username)
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("不正确")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_member_home_and_floor_guide_in_wechat_phone_viewport(live_server, phone_page, store_a):
    from stores.models import Brand, Floor, Shop

    floor = Floor.objects.create(store=store_a, code="2F", name="女装", order=2)
    Shop.objects.create(floor=floor, brand=Brand.objects.create(name="歌莉娅"), unit_no="2F-01")

    phone_page.goto(f"{live_server.url}/m/")
    assert phone_page.viewport_size["width"] == 390
    expect(phone_page.get_by_text(store_a.name)).to_be_visible()
    expect(phone_page.locator(".weui-tabbar")).to_be_visible()
    phone_page.get_by_text(store_a.name).click()
    expect(phone_page.get_by_text("歌莉娅")).to_be_visible()
    expect(phone_page.get_by_text("2F-01")).to_be_visible()
    screenshot(phone_page, "h5_floor_guide")
