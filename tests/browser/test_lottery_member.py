"""抽奖 on a phone: the list, a nine-square grid campaign, one tap → the light stops on the
prize the server drew → the prize dialog with the pickup code; the points records show the
draw's ledger entry; a wheel campaign stops with the drawn slice under the pointer."""

import re
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from loyalty.defaults import loyalty_defaults_install
from loyalty.ledger import points_balance
from mall import lottery
from mall.models import LotteryDraw
from tests.browser.live import member_sign_in
from tests.conftest import screenshot
from tests.mall.lottery_factories import give_points, running_campaign
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _setup():
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王芳")
    give_points(member, 200)
    grid = running_campaign(
        name="双旦九宫格抽奖",
        style="grid",
        claim_rules="请于 30 天内凭领奖码到一楼服务台领取，逾期视为放弃。",
        prizes=[{"name": "马克杯", "kind": "goods", "weight": 10, "stock": 20, "value_fen": 3900}],
    )
    wheel = running_campaign(
        name="会员日大转盘",
        prizes=[
            {"name": "10 积分", "kind": "points", "points": 10, "weight": 30, "stock": 100},
            {"name": "保温杯", "kind": "goods", "weight": 5, "stock": 20, "value_fen": 8900},
            {"name": "50 积分", "kind": "points", "points": 50, "weight": 10, "stock": 50},
            {"name": "谢谢参与", "kind": "nothing", "weight": 55, "stock": None},
        ],
    )
    now = timezone.now()
    running_campaign(
        name="元宵节抽奖",
        starts_at=now + timedelta(days=5),
        ends_at=now + timedelta(days=12),
    )
    # Real draws of other members and a real on-site winner fill the ticker and the totals.
    for name in ("李娜", "张伟", "陈静", "刘洋"):
        other = MemberFactory(home_store=store, name=name)
        give_points(other, 100)
        lottery.lottery_draw(member=other, campaign=grid, idempotency_key=str(uuid.uuid4()))
    lottery.on_site_winner_record(
        campaign=grid,
        actor=StaffFactory(user__role="marketing").user,
        prize_name="电饭煲",
        winner_name="赵建国",
        drawn_at=now - timedelta(minutes=20),
    )
    return member, grid, wheel


def _wheel_slice_under_pointer(page, cells: int) -> int:
    transform = page.locator("[data-wheel]").evaluate("e => e.style.transform")
    angle = float(re.search(r"rotate\(([-\d.e]+)deg\)", transform).group(1)) % 360
    sweep = 360 / cells
    return int(((360 - angle) % 360) // sweep)


def test_a_member_draws_on_the_grid_sees_the_prize_and_the_ledger_entry(
    live_server, phone_page, browser
):
    member, grid, wheel = _setup()
    page = phone_page
    member_sign_in(page, live_server, member, openid="o_lottery")

    page.goto(f"{live_server.url}/m/lottery/")
    expect(page.locator("[data-current]")).to_contain_text("双旦九宫格抽奖")
    expect(page.locator("[data-upcoming]")).to_contain_text("元宵节抽奖")
    screenshot(page, "lottery_list_390")

    page.locator(f'[data-campaign="{grid.pk}"]').click()
    expect(page.locator("[data-balance]")).to_have_text("200")
    expect(page.locator("[data-draws-left]")).to_have_text("3")
    expect(page.locator("[data-winner]")).to_have_count(5)
    expect(page.locator("[data-on-site]").first).to_contain_text("现场抽奖")
    expect(page.locator('[data-total="participants"]')).to_have_text("4")
    expect(page.locator("[data-odds]")).to_contain_text("100.00%")
    screenshot(page, "lottery_grid_before_390")

    page.get_by_role("button", name=re.compile("抽奖")).click()
    expect(page.locator("[data-lottery]")).to_have_attribute("data-stopped", re.compile(r"\d"))
    draw = LotteryDraw.objects.get(member=member)
    lit = page.locator(".h5-lt-cell_on")
    expect(lit).to_have_count(1)
    expect(lit).to_have_attribute("data-prize", str(draw.prize_id))  # the server's prize
    dialog = page.locator("[data-dialog] .weui-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-dialog-title]")).to_have_text("恭喜中奖！")
    expect(dialog.locator("[data-dialog-prize]")).to_have_text("马克杯")
    expect(dialog.locator("[data-dialog-code]")).to_have_text(draw.pickup_code)
    expect(dialog).to_contain_text("一楼服务台")
    screenshot(page, "lottery_grid_dialog_390")

    dialog.get_by_role("button", name="好的").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-balance]")).to_have_text("190")
    expect(page.locator("[data-draws-left]")).to_have_text("2")
    expect(page.locator('[data-total="participants"]')).to_have_text("5")
    assert points_balance(member_id=member.pk) == 190
    screenshot(page, "lottery_grid_after_390")

    page.goto(f"{live_server.url}/m/records/?tab=points")
    entry = page.locator("[data-entry]").filter(has_text="双旦九宫格抽奖").first
    expect(entry).to_contain_text("抽奖")
    expect(entry).to_contain_text("-10")
    screenshot(page, "lottery_points_records_390")

    # The wheel: it stops with the drawn slice under the pointer.
    page.goto(f"{live_server.url}/m/lottery/{wheel.pk}/")
    screenshot(page, "lottery_wheel_before_390")
    cells = int(page.locator("[data-lottery]").get_attribute("data-cells"))
    with page.expect_response(re.compile(r"/draw/$")) as answer:
        page.get_by_role("button", name=re.compile("抽奖")).click()
    index = answer.value.json()["index"]
    expect(page.locator("[data-lottery]")).to_have_attribute("data-stopped", str(index))
    assert _wheel_slice_under_pointer(page, cells) == index
    expect(page.locator("[data-dialog] .weui-dialog")).to_be_visible()
    drawn = LotteryDraw.objects.filter(member=member, campaign=wheel).get()
    if drawn.prize:
        expect(page.locator("[data-dialog-prize]")).to_have_text(drawn.prize.name)
    else:
        expect(page.locator("[data-dialog-title]")).to_have_text("谢谢参与")
    screenshot(page, "lottery_wheel_dialog_390")
    page.locator("[data-dialog-close]").click()

    page.goto(f"{live_server.url}/m/lottery/draws/")
    expect(page.locator(f'[data-pickup-code="{draw.pickup_code}"]')).to_be_visible()
    expect(page.locator("[data-draw-row]")).to_have_count(2)
    screenshot(page, "lottery_my_draws_390")

    desktop = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    wide = desktop.new_page()
    member_sign_in(wide, live_server, member, openid="o_lottery_desktop")
    for path, name in [
        ("/m/lottery/", "lottery_list_1280"),
        (f"/m/lottery/{grid.pk}/", "lottery_grid_1280"),
        (f"/m/lottery/{wheel.pk}/", "lottery_wheel_1280"),
        ("/m/lottery/draws/", "lottery_my_draws_1280"),
    ]:
        wide.goto(f"{live_server.url}{path}")
        screenshot(wide, name)
    desktop.close()


def test_a_refused_member_sees_the_reason_and_a_disabled_button(live_server, phone_page):
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王芳")
    give_points(member, 5)  # below the 10 points a draw
    campaign = running_campaign(
        name="双旦大转盘",
        prizes=[
            {"name": "8 积分", "kind": "points", "points": 8, "weight": 300, "stock": 2000},
            {"name": "88 积分", "kind": "points", "points": 88, "weight": 60, "stock": 300},
            {"name": "888 积分", "kind": "points", "points": 888, "weight": 2, "stock": 5},
            {"name": "女装满300减50券", "kind": "goods", "weight": 100, "stock": 500},
            {"name": "品牌保温杯", "kind": "goods", "weight": 8, "stock": 30},
            {"name": "蓝牙耳机", "kind": "goods", "weight": 1, "stock": 3},
            {"name": "谢谢参与", "kind": "nothing", "weight": 400, "stock": None},
            {"name": "再接再厉", "kind": "nothing", "weight": 129, "stock": None},
        ],
    )
    page = phone_page
    member_sign_in(page, live_server, member, openid="o_lottery_poor")

    page.goto(f"{live_server.url}/m/lottery/{campaign.pk}/")

    expect(page.locator("[data-draw]")).to_be_disabled()
    expect(page.locator("[data-refusal]")).to_have_text("积分不足。")
    screenshot(page, "lottery_refused_390")


def test_an_answer_lost_on_the_way_is_asked_again_with_the_same_key(live_server, phone_page):
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王芳")
    give_points(member, 100)
    campaign = running_campaign(name="双旦抽奖", style="grid")
    page = phone_page
    member_sign_in(page, live_server, member, openid="o_lottery_retry")
    keys = []

    def lose_the_first_answer(route):
        keys.append(route.request.headers["x-idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server draws …
            route.abort()  # … but its answer never arrives
        else:
            route.continue_()

    page.route(re.compile(r"/draw/$"), lose_the_first_answer)
    page.goto(f"{live_server.url}/m/lottery/{campaign.pk}/")
    page.get_by_role("button", name=re.compile("抽奖")).click()

    expect(page.locator("[data-dialog] .weui-dialog")).to_be_visible()
    assert len(keys) == 2 and keys[0] == keys[1]
    draw = LotteryDraw.objects.get(member=member)  # one draw, charged once
    assert points_balance(member_id=member.pk) == 100 - 10 + (
        draw.prize.points if draw.prize else 0
    )
    expect(page.locator("[data-balance]")).to_have_text(str(points_balance(member_id=member.pk)))
