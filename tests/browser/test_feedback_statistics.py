"""反馈统计 and 客服设置 in Chromium: HQ opens the statistics pages over a month of handled,
rated tickets, every chart drawn by ECharts with its series, at desktop and phone width; a
chart's CSV downloads; the settings pages refuse bad hours on screen."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from feedback.models import Department, Handler, RatingTag, TicketType
from feedback.services import (
    ticket_callback,
    ticket_claim,
    ticket_rate,
    ticket_resolve,
    ticket_step,
    ticket_submit,
)
from stores.models import Brand
from tests.browser.test_statistics_page import CHARTS_JS
from tests.conftest import screenshot
from tests.feedback.conftest import feedback_defaults  # noqa: F401 (a fixture)
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHANGHAI = ZoneInfo("Asia/Shanghai")
QUERY = "?start=2026-11-01&end=2026-11-30&grain=week"


@pytest.fixture
def month(feedback_defaults):  # noqa: F811
    """Forty tickets of November 2026 at two stores, most handled and rated with tags."""
    rng = random.Random(13)  # noqa: S311 - test data
    stores = [StoreFactory(code="S01", name="武林旗舰店"), StoreFactory(code="S02", name="天一店")]
    brands = [Brand.objects.create(name=n) for n in ["歌莉娅", "安踏", "金龙鱼", "海尔"]]
    members = [MemberFactory(home_store=stores[0]) for _ in range(8)]
    desk = Department.objects.create(name="客服部")
    floor = Department.objects.create(name="楼面管理部")
    agents = []
    for name, department, number in [("赵雨萱", desk, "KF01"), ("陈晓静", floor, "LM01")]:
        user = StaffFactory(user__role="customer_service", user__first_name=name).user
        Handler.objects.create(user=user, department=department, employee_no=number)
        agents.append(user)
    types = list(TicketType.objects.all())
    tags = list(RatingTag.objects.all())
    for index in range(40):
        filed = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI) + timedelta(
            days=rng.randrange(26), minutes=rng.randrange(720)
        )
        with time_machine.travel(filed, tick=False):
            ticket = ticket_submit(
                member=rng.choice(members),
                ticket_type=rng.choice(types),
                store=rng.choice(stores),
                brand=rng.choice(brands + [None]),
                details="商品有质量问题",
                contact_name="李娜",
                contact_phone="13900001111",
            )
        if index % 8 == 7:
            continue  # still waiting
        agent = agents[index % 2]
        with time_machine.travel(filed + timedelta(minutes=rng.randrange(10, 240)), tick=False):
            ticket_claim(ticket=ticket, actor=agent)
            if index % 2:
                ticket_step(ticket=ticket, actor=agent, text="已联系专柜")
            else:
                ticket_callback(
                    ticket=ticket,
                    actor=agent,
                    called_at=datetime.now(tz=SHANGHAI),
                    outcome="reached",
                    text="已致电",
                )
        if index % 5 == 4:
            continue  # still being processed
        with time_machine.travel(filed + timedelta(hours=rng.randrange(3, 60)), tick=False):
            ticket_resolve(ticket=ticket, actor=agent, text="已处理")
            stars = rng.choice([5, 5, 4, 4, 3, 2, 1])
            chosen = [t for t in tags if t.is_positive == (stars >= 4)]
            ticket_rate(
                ticket=ticket, member=ticket.member, stars=stars, tags=rng.sample(chosen, 2)
            )


def _log_in(page, live_server):
    staff = StaffFactory(user__username="hq", user__role="hq_admin", name="沈明远")
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(staff.user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name="反馈统计")).to_be_visible()


def _charts(page) -> dict:
    return {c["key"]: c for c in page.evaluate(CHARTS_JS)}


def test_hq_sees_the_feedback_statistics_drawn(live_server, page, month):
    _log_in(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="反馈统计").click()
    expect(page.get_by_role("heading", name="反馈统计", exact=True)).to_be_visible()
    page.goto(f"{live_server.url}/backoffice/feedback/statistics/{QUERY}")
    charts = _charts(page)
    assert sorted(charts) == sorted(
        f"chart-{k}"
        for k in ["over_time", "by_type", "by_status", "by_store", "by_brand", "times", "sla"]
    )
    for key, chart in charts.items():
        assert chart["drawn"] and chart["points"] > 0, key
        assert chart["width"] > 400 and chart["height"] >= 250, (key, chart)
    assert charts["chart-over_time"]["points"] == 3 * 6  # three types, six ISO weeks
    expect(page.locator("[data-figure]").first).to_contain_text("40")
    screenshot(page, "feedback_statistics_desktop")

    panel = page.locator("[data-chart-panel=by_store]")
    panel.get_by_text("数据明细").click()
    expect(panel.locator("table tbody tr").first).to_contain_text("店")
    with page.expect_download() as download:
        panel.get_by_role("link", name="CSV").click()
    lines = open(download.value.path(), encoding="utf-8-sig").read().splitlines()  # noqa: PTH123
    assert lines[0] == "门店编码,门店,工单数,投诉"
    assert sum(int(line.split(",")[2]) for line in lines[1:]) == 40

    for tab, keys in [
        ("投诉统计", ["complaints_brand", "complaints_department", "complaints_handler"]),
        ("标签统计", ["stars", "tags", "tags_handler"]),
        ("处理人", ["workload", "satisfaction"]),
    ]:
        page.get_by_role("link", name=tab, exact=True).first.click()
        expect(page.get_by_role("heading", name=tab, exact=True)).to_be_visible()
        charts = _charts(page)
        assert sorted(charts) == sorted(f"chart-{k}" for k in keys), tab
        for key, chart in charts.items():
            assert chart["drawn"] and chart["points"] > 0 and chart["width"] > 400, key
        screenshot(page, f"feedback_statistics_{keys[0].split('_')[0]}_desktop")
    assert "start=2026-11-01" in page.url  # the tabs keep the filter


def test_the_statistics_fit_a_phone(live_server, page, month):
    _log_in(page, live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ["", "tags/"]:
        page.goto(f"{live_server.url}/backoffice/feedback/statistics/{path}{QUERY}")
        for chart in page.evaluate(CHARTS_JS):
            assert chart["drawn"] and 300 < chart["width"] <= 366, chart
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/backoffice/feedback/statistics/{QUERY}")
    screenshot(page, "feedback_statistics_phone")


def test_the_settings_pages(live_server, page, feedback_defaults):  # noqa: F811
    _log_in(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="客服设置").click()
    expect(page.get_by_role("heading", name="客服设置")).to_be_visible()
    screenshot(page, "feedback_settings_desktop")
    page.locator("[data-setting=slas]").click()
    expect(page.locator("[data-settings-list=slas] tbody tr")).to_have_count(15)
    screenshot(page, "feedback_settings_slas_desktop")

    page.goto(f"{live_server.url}/backoffice/feedback/settings/hours/")
    page.locator("[data-settings-list=hours] tbody tr").first.get_by_role("link").first.click()
    page.locator("#id_closes").fill("08:00")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("开门时间须早于关门时间")).to_be_visible()
    screenshot(page, "feedback_settings_hours_refused")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/backoffice/feedback/settings/slas/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "feedback_settings_phone")
