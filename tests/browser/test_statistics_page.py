"""会员统计 in Chromium: every chart drawn by ECharts with its series, at desktop and phone
width, and a chart's CSV downloaded from its link."""

from datetime import date

import pytest
from playwright.sync_api import expect

from analytics.models import ClvRun, ClvScore
from tests.analytics.test_statistics import _snapshot, mall  # noqa: F401 (a fixture)
from tests.conftest import RESULTS_DIR, screenshot
from tests.members.factories import TEST_PASSWORD, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUERY = "?start=2026-03-01&end=2026-06-30&grain=month"

# Per chart: does it exist, how big is it drawn, how many data points do its series hold
CHARTS_JS = """
() => Array.from(document.querySelectorAll("[data-chart]")).map((box) => {
  const chart = echarts.getInstanceByDom(box);
  const option = chart ? chart.getOption() : null;
  const canvas = box.querySelector("canvas");
  return {
    key: box.id,
    drawn: !!chart,
    width: canvas ? canvas.getBoundingClientRect().width : 0,
    height: canvas ? canvas.getBoundingClientRect().height : 0,
    points: option ? option.series.reduce((n, s) => n + (s.data ? s.data.length : 0), 0) : 0,
  };
})
"""


def screenshot_folder():
    folder = RESULTS_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _snapshots_and_run(mall):  # noqa: F811
    m1, m2, m3, *_ = mall["members"]
    _snapshot(date(2026, 5, 31), [(m1, "重要保持", "active"), (m2, "重要发展", "active")])
    _snapshot(
        date(2026, 6, 30),
        [(m1, "重要保持", "active"), (m2, "无价值", "silent"), (m3, "重要发展", "lost")],
        current=True,
    )
    run = ClvRun.objects.create(as_of=date(2026, 6, 30), status="done", is_current=True)
    for member, value in [(m1, 120_000), (m2, 8_000), (m3, 30_000)]:
        ClvScore.objects.create(
            run=run,
            member=member,
            frequency=1,
            recency_days=1,
            t_days=10,
            monetary_fen=1,
            p_alive=0.6,
            expected_purchases_90d=0.5,
            expected_value_fen=value,
        )


def _log_in(page, live_server):
    staff = StaffFactory(user__username="zhao", user__role="analyst")
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(staff.user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name="会员统计")).to_be_visible()


def test_the_analyst_sees_every_chart_drawn(live_server, page, mall):  # noqa: F811
    _snapshots_and_run(mall)
    _log_in(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="会员统计").click()
    expect(page.get_by_role("heading", name="会员统计")).to_be_visible()
    page.goto(f"{live_server.url}/backoffice/analytics/statistics/{QUERY}")

    charts = {c["key"]: c for c in page.evaluate(CHARTS_JS)}
    assert len(charts) == 19, sorted(charts)
    for key, chart in charts.items():
        assert chart["drawn"] and chart["points"] > 0, key
        assert chart["width"] > 400 and chart["height"] >= 300, (key, chart)
    assert charts["chart-heatmap"]["points"] == 168
    assert charts["chart-growth"]["points"] == 8  # four months, new and cumulative
    expect(page.get_by_role("heading", name="品牌消费")).to_be_visible()
    expect(page.get_by_role("link", name="ABC 分析")).to_be_visible()
    screenshot(page, "backoffice_statistics_desktop")

    # the numbers behind a chart open under it
    brand = page.locator("[data-chart-panel=brand]")
    brand.get_by_text("数据明细").click()
    expect(brand.locator("table tbody tr").first).to_contain_text("甲品牌")
    expect(brand.locator("table tbody tr").first).to_contain_text("340.00")

    # and download as CSV
    with page.expect_download() as download:
        brand.get_by_role("link", name="CSV").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: PTH123
    assert text.splitlines()[1] == "甲品牌,390.00,50.00,340.00,3"


def test_the_page_fits_a_phone(live_server, page, mall):  # noqa: F811
    _snapshots_and_run(mall)
    _log_in(page, live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/backoffice/analytics/statistics/{QUERY}")
    charts = page.evaluate(CHARTS_JS)
    assert len(charts) == 19
    for chart in charts:
        # one chart a row, inside the screen (the panel's padding aside)
        assert chart["drawn"] and 300 < chart["width"] <= 366, chart
    # nothing wider than the screen but the tables that scroll inside their box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "backoffice_statistics_phone")

    # the heatmap's 25 columns scroll inside their box, not the page
    heatmap = page.locator("[data-chart-panel=heatmap]")
    heatmap.get_by_text("数据明细").click()
    expect(heatmap.locator("table")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    heatmap.screenshot(path=str(screenshot_folder() / "backoffice_statistics_phone_heatmap.png"))

    # turning the phone: the charts follow the new width
    page.set_viewport_size({"width": 844, "height": 390})
    page.wait_for_timeout(300)
    widths = [c["width"] for c in page.evaluate(CHARTS_JS)]
    assert min(widths) > 500, widths  # beside the menu, which is back at this width
