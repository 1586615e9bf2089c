"""The analyst in Chromium: starts a mining run from the back office, sees it finish, opens
the rule browser, filters by an item and sees the graph; a queued run's page follows it to
the end; consumer behaviour charts. Screenshots at phone and desktop sizes."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mining.models import MiningRun
from mining.services import mining_run_create, mining_run_execute
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.mining.test_pages import receipt
from tests.mining.test_runs import DRESS, HAT, MILK
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BREAD = ("面包", "桃李", "烘焙")
SCARF = ("丝巾", "衣品", "配饰")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _mall():
    store = StoreFactory(code="S01", name="武林旗舰店")
    woman = MemberFactory(gender="F", birthday=date(1995, 1, 1), home_store=store)
    man = MemberFactory(gender="M", birthday=date(1984, 1, 1), home_store=store)
    when = timezone.now() - timedelta(days=2)
    baskets = (
        [[DRESS, HAT]] * 6 + [[DRESS, HAT, SCARF]] * 3 + [[DRESS, SCARF]] * 2 + [[MILK, BREAD]] * 5
    )
    for n, items in enumerate(baskets):
        member = man if MILK in items else woman
        receipt(store, f"R{n:03d}", items, member=member, when=when)
    return store


def _log_in(page, live_server):
    staff = StaffFactory(user__username="zhao", user__role="analyst", name="赵敏")
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/")
    page.get_by_label("用户名或邮箱").fill(staff.user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="首页")).to_be_visible()


def _shot(page, name: str) -> None:
    page.wait_for_timeout(1200)  # let ECharts finish its animation
    screenshot(page, name)


def _graph_points(page) -> int:
    return page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById('rule-graph'));
          const series = chart.getOption().series[0];
          return series.data.length * 1000 + series.links.length;
        }"""
    )


def test_the_analyst_starts_a_run_and_browses_its_rules(live_server, page):
    _mall()
    page.set_viewport_size(DESKTOP)
    _log_in(page, live_server)

    page.get_by_role("link", name="关联规则").click()
    expect(page.get_by_role("heading", name="关联规则")).to_be_visible()
    page.get_by_label("最小支持度").fill("0.1")
    page.get_by_label("最小置信度").fill("0.5")
    page.get_by_label("最小提升度").fill("1")
    _shot(page, "mining_runs_desktop")
    page.get_by_role("button", name="开始运行").click()

    # Celery runs eagerly here: the run page shows it done, with its rules
    expect(page.get_by_text("运行已开始。")).to_be_visible()
    expect(page.locator("h2 [data-status]")).to_have_text("已完成")
    run = MiningRun.objects.get()
    assert run.status == "done" and run.rule_count > 0 and run.trigger == "staff"
    rows = page.locator("[data-rules] tbody tr")
    expect(rows.first).to_be_visible()
    dress = page.locator("[data-antecedents]", has_text=re.compile("^连衣裙$"))
    hat = page.locator("[data-consequents]", has_text=re.compile("^遮阳帽$"))
    expect(page.locator("[data-rule]", has=dress).filter(has=hat)).to_have_count(1)
    expect(page.locator("#rule-graph canvas")).to_have_count(1)
    assert _graph_points(page) >= 4 * 1000 + 4  # dress, hat, scarf, milk/bread and their arrows
    _shot(page, "mining_run_desktop")

    # filter: rules that end in the sun hat
    page.get_by_label("商品", exact=True).fill("遮阳帽")
    page.get_by_label("位置", exact=True).select_option(label="那么也买")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("[data-rule-count]")).not_to_have_attribute(
        "data-rule-count", str(run.rule_count)
    )
    consequents = page.locator("[data-rules] tbody [data-consequents]").all_inner_texts()
    assert consequents and all("遮阳帽" in c for c in consequents)
    antecedents = page.locator("[data-rules] tbody [data-antecedents]").all_inner_texts()
    assert "连衣裙" in antecedents
    nodes = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('rule-graph'))"
        ".getOption().series[0].data.map(n => n.name)"
    )
    assert "遮阳帽" in nodes and "牛奶" not in nodes
    _shot(page, "mining_run_filtered_desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#rule-graph canvas")).to_have_count(1)
    _shot(page, "mining_run_phone")

    page.get_by_role("link", name="组合推荐").first.click()
    expect(page.locator("[data-bundle]").first).to_be_visible()
    _shot(page, "mining_bundles_phone")
    page.get_by_role("link", name="全部运行").click()
    expect(page.locator(f"[data-run='{run.pk}'] [data-rules]")).to_have_text(str(run.rule_count))
    _shot(page, "mining_runs_phone")


def test_two_stores_runs_compared_side_by_side(live_server, page):
    s1 = _mall()
    s2 = StoreFactory(code="S02", name="西湖店")
    when = timezone.now() - timedelta(days=2)
    for n, items in enumerate([[MILK, BREAD]] * 4 + [[DRESS, HAT]] * 2 + [[BREAD, SCARF]] * 2):
        receipt(s2, f"T{n:03d}", items, when=when)
    a = mining_run_execute(
        run_id=mining_run_create(
            trigger="command", min_support=0.2, min_confidence=0.5, store=s1
        ).pk
    )
    b = mining_run_execute(
        run_id=mining_run_create(
            trigger="command", min_support=0.2, min_confidence=0.5, store=s2
        ).pk
    )
    page.set_viewport_size(DESKTOP)
    _log_in(page, live_server)
    page.goto(f"{live_server.url}/backoffice/mining/compare/?a={a.pk}")
    page.get_by_label("运行 B").select_option(str(b.pk))
    page.get_by_role("button", name="对比", exact=True).click()
    only_b = page.locator("[data-table=only-b] [data-row]")
    expect(only_b.filter(has_text="丝巾")).not_to_have_count(0)
    both = page.locator("[data-table=both] [data-row]")
    expect(both.filter(has_text="遮阳帽").first).to_be_visible()
    _shot(page, "mining_compare_desktop")


def test_a_queued_run_page_follows_the_run_to_its_rules(live_server, page):
    _mall()
    page.set_viewport_size(PHONE)
    _log_in(page, live_server)
    run = mining_run_create(trigger="command", min_support=0.1, min_confidence=0.5)
    page.goto(f"{live_server.url}/backoffice/mining/runs/{run.pk}/")
    expect(page.locator("[data-status]").first).to_have_text("排队中")
    expect(page.locator("#run-progress progress")).to_be_visible()
    _shot(page, "mining_run_queued_phone")

    mining_run_execute(run_id=run.pk)  # the worker: the page polls and then shows the rules
    expect(page.locator("h2 [data-status]")).to_have_text("已完成", timeout=15000)
    expect(page.locator("[data-rules] tbody [data-rule]").first).to_be_visible()


def test_consumer_behaviour_charts_segments(live_server, page):
    _mall()
    page.set_viewport_size(DESKTOP)
    _log_in(page, live_server)
    page.get_by_role("link", name="消费行为分析").click()
    expect(page.get_by_role("heading", name="消费行为分析")).to_be_visible()
    page.get_by_role("link", name="性别").click()
    expect(page.locator("[data-segment=F] [data-favourite]")).to_have_text(
        "配饰"
    )  # hats and scarves
    expect(page.locator("#spend-chart canvas")).to_have_count(1)
    expect(page.locator("#category-chart canvas")).to_have_count(1)
    series = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('category-chart'))"
        ".getOption().series.map(s => s.name)"
    )
    assert "女装" in series and "乳品" in series
    _shot(page, "mining_behaviour_desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    _shot(page, "mining_behaviour_phone")
    page.locator("[data-segment=M] [data-mine-link]").click()
    expect(page.get_by_label("性别")).to_have_value("M")
