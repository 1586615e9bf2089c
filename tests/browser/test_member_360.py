"""The member 360 in real Chromium: every panel and the RFM chart drawn, readable on a phone
(390 px) and on a desktop (1280 px); screenshots of both for people to look at."""

import pytest
from playwright.sync_api import expect

from tests.analytics.test_member_360 import member_360  # noqa: F401 (a fixture)
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PANELS = ["profile", "points", "rfm", "lifecycle", "predicted-value", "receipts"] + [
    "coupons",
    "messages",
]


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".bo-top__title")).to_be_visible()


@pytest.mark.parametrize(("size", "width", "height"), [("desktop", 1280, 900), ("phone", 390, 844)])
def test_the_member_360_on_a_desktop_and_a_phone(
    live_server,
    browser,
    member_360,  # noqa: F811
    size,
    width,
    height,
):
    staff = StaffFactory(user__username=f"hq_{size}", user__role="hq_admin")
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    page = context.new_page()
    sign_in(page, live_server, staff.user.username)

    page.goto(f"{live_server.url}/backoffice/members/{member_360.pk}/")
    for name in PANELS:
        expect(page.locator(f'[data-panel="{name}"]')).to_be_visible()
    expect(page.get_by_role("heading", name="RFM 历史")).to_be_visible()
    expect(page.locator("[data-rfm-chart] canvas")).to_have_count(1)
    expect(page.locator('[data-lifecycle="stage"]')).to_have_text("流失")
    screenshot(page, f"backoffice_member_360_{size}")
    # nothing wider than the window but the tables that scroll inside their panel
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    columns = page.evaluate(
        "getComputedStyle(document.querySelector('.bo-360')).gridTemplateColumns.split(' ').length"
    )
    assert columns == (2 if size == "desktop" else 1)
    context.close()
