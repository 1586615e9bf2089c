import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.analytics.test_rfm_run import fixture_mall  # noqa: F401 (a fixture)
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_analyst_opens_the_rfm_model_from_the_menu(live_server, page, fixture_mall):  # noqa: F811
    call_command("rfm_run", "--as-of", "2026-06-30", "--window-days", "10")
    call_command("rfm_run", "--as-of", "2026-07-03", "--window-days", "10")
    staff = StaffFactory(user__username="wang", user__role="analyst")
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(staff.user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()

    page.get_by_role("link", name="RFM 模型").click()
    expect(page.get_by_role("heading", name="RFM 模型")).to_be_visible()
    # as of 07-03: R mean 5, F mean 1.75, M mean 3819.25; E and F are long/high/low
    expect(page.locator("[data-class=一般挽留] [data-members]")).to_have_text("2")
    expect(page.locator("[data-class=重要保持] [data-members]")).to_have_text("1")
    expect(page.locator("[data-stage=lost] .bo-card__value")).to_have_text("4")
    expect(page.get_by_text("有截止日期的定向唤醒优惠")).to_be_visible()
    expect(page.locator("#lifecycle-chart canvas")).to_have_count(1)
    expect(page.locator("#interval-chart canvas")).to_have_count(1)
    screenshot(page, "backoffice_rfm")
