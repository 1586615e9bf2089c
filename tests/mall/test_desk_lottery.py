"""The service desk (兑换核销) hands lottery prizes over too: a physical prize's pickup code is
looked up like a redemption's (spaces and case forgiven), shown with the prize, the campaign,
the member masked and the claim date, and handed over through draw_pickup_verify; within
the desk user's stores only. Desk staff cannot open the lottery pages."""

import re
from datetime import timedelta

import pytest
import time_machine

from core.models import AuditLog
from core.roles import Role
from mall.lottery import lottery_draw
from mall.models import LotteryDraw
from mall.redeeming import goods_redeem
from tests.conftest import once
from tests.mall.conftest import give_points
from tests.mall.lottery_factories import running_campaign
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

DESK = "/backoffice/mall/desk/"
VERIFY = "/backoffice/mall/desk/verify/"
MUG = [{"name": "马克杯", "kind": "goods", "weight": 1, "stock": 5, "value_fen": 3900}]
NOT_FOUND = "在您的门店未找到该取货码的兑换或奖品。"


@pytest.fixture
def desk_user(staff_user, store):
    return staff_user(Role.CUSTOMER_SERVICE, scope="store", store=store)


@pytest.fixture
def as_desk(client, desk_user):
    client.force_login(desk_user)
    return client


@pytest.fixture
def winner(store):
    member = MemberFactory(home_store=store, name="张小花", phone="13800002222")
    give_points(member, 1000)
    return member


def won(member, campaign, key="d1") -> LotteryDraw:
    draw = lottery_draw(member=member, campaign=campaign, idempotency_key=key)
    assert draw.status == "pending_pickup" and draw.pickup_code
    return draw


def spaced(code: str) -> str:
    return f" {code[:4].lower()} {code[4:7]}-{code[7:].lower()} "


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_desk_hands_a_lottery_prize_over_by_its_code_once(as_desk, desk_user, store, winner):
    campaign = running_campaign(prizes=MUG, store=store, name="双旦抽奖")
    draw = won(winner, campaign)
    assert not desk_user.has_perm("mall.view_lotterycampaign")  # the lottery pages are not theirs

    page = as_desk.get(DESK, {"code": spaced(draw.pickup_code)})

    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-desk-draw="{draw.pickup_code}"' in html
    words = text(html)
    assert "抽奖奖品 马克杯" in words and "双旦抽奖" in words and "待领取" in words
    assert (
        "张**" in words
        and "张小花" not in words
        and "138****2222" in words
        and "13800002222" not in html
    )
    assert draw.claim_until.astimezone().strftime("%Y-%m-%d") in words
    assert "确认核销并交付" in html and "查看抽奖活动" not in html

    done = as_desk.post(VERIFY, {"code": spaced(draw.pickup_code)} | once())

    assert done.status_code == 302
    assert done["Location"] == f"{DESK}?code={draw.pickup_code}&done=1"
    draw.refresh_from_db()
    assert (draw.status, draw.picked_up_by, draw.picked_up_store) == (
        "picked_up",
        desk_user,
        store,
    )
    assert AuditLog.objects.filter(action="mall.lottery.prize_picked_up", actor=desk_user).exists()
    after = as_desk.get(done["Location"])
    words = text(after.content.decode())
    assert "核销成功：请交付抽奖奖品 马克杯。" in words
    assert "已领取" in words and "确认核销并交付" not in words
    assert "data-refusal" not in after.content.decode()  # the success says it: no warning

    # twice: refused in words, on the page and when posted anyway
    again = as_desk.get(DESK, {"code": draw.pickup_code})
    assert again.status_code == 200
    assert again.context["lookup"].refusal.startswith("该奖品已于")
    assert "确认核销并交付" not in again.content.decode()
    refused = as_desk.post(VERIFY, {"code": draw.pickup_code} | once())
    assert refused["Location"] == f"{DESK}?code={draw.pickup_code}"
    assert "未能核销：该奖品已于" in text(as_desk.get(refused["Location"]).content.decode())
    assert AuditLog.objects.filter(action="mall.lottery.prize_picked_up").count() == 1


def test_a_campaign_for_every_store_is_handed_over_at_the_desks_store(
    as_desk, desk_user, store, winner
):
    draw = won(winner, running_campaign(prizes=MUG))  # no store: any store's desk

    assert as_desk.get(DESK, {"code": draw.pickup_code}).status_code == 200
    as_desk.post(VERIFY, {"code": draw.pickup_code} | once())

    draw.refresh_from_db()
    assert (draw.status, draw.picked_up_store) == ("picked_up", store)


def test_another_stores_campaign_is_as_unknown_as_a_made_up_code(as_desk):
    west = StoreFactory(code="S02", name="西湖店")
    member = MemberFactory(home_store=west)
    give_points(member, 1000)
    draw = won(member, running_campaign(prizes=MUG, store=west))

    for code in (draw.pickup_code, "ZZZZZZZZZZ"):
        page = as_desk.get(DESK, {"code": code})
        assert page.status_code == 404
        assert page.context["lookup"].refusal == NOT_FOUND
        assert NOT_FOUND in page.content.decode()
    response = as_desk.post(VERIFY, {"code": draw.pickup_code} | once())
    assert response.status_code == 302
    draw.refresh_from_db()
    assert draw.status == "pending_pickup" and draw.picked_up_by is None


def test_a_prize_past_its_claim_date_is_refused(as_desk, desk_user, store, winner):
    draw = won(winner, running_campaign(prizes=MUG, store=store, claim_days=3))

    with time_machine.travel(draw.claim_until + timedelta(minutes=1)):
        as_desk.force_login(desk_user)  # a fresh session: the old one timed out meanwhile
        page = as_desk.get(DESK, {"code": draw.pickup_code.lower()})
        assert page.status_code == 200
        assert page.context["lookup"].refusal.startswith("该奖品的领取期限已于")
        assert "确认核销并交付" not in page.content.decode()
        refused = as_desk.post(VERIFY, {"code": draw.pickup_code} | once())
        assert "领取期限" in text(as_desk.get(refused["Location"]).content.decode())

    draw.refresh_from_db()
    assert draw.status == "pending_pickup" and draw.picked_up_at is None


def test_an_expired_draw_and_a_prize_without_pickup_say_why(as_desk, store, winner):
    campaign = running_campaign(prizes=MUG, store=store)
    expired = won(winner, campaign)
    LotteryDraw.objects.filter(pk=expired.pk).update(status="expired")

    page = as_desk.get(DESK, {"code": expired.pickup_code})

    assert "领取期限" in page.context["lookup"].refusal
    assert 'data-status="expired"' in page.content.decode()
    assert "确认核销并交付" not in page.content.decode()


def test_a_redemption_code_still_goes_to_the_redemption(as_desk, store, winner, make_goods):
    draw = won(winner, running_campaign(prizes=MUG, store=store))
    redemption = goods_redeem(
        member=winner, goods=make_goods(name="保温杯"), delivery="pickup", idempotency_key="r1"
    )

    page = as_desk.get(DESK, {"code": spaced(redemption.code)})
    assert f'data-desk-redemption="{redemption.code}"' in page.content.decode()
    assert page.context["lookup"].draw is None
    done = as_desk.post(VERIFY, {"code": redemption.code} | once())

    redemption.refresh_from_db()
    draw.refresh_from_db()
    assert (redemption.status, draw.status) == ("picked_up", "pending_pickup")
    assert "核销成功：请交付 保温杯 ×1。" in text(as_desk.get(done["Location"]).content.decode())


def test_staff_who_may_open_the_campaign_get_a_link_to_it(client, staff_user, store, winner):
    manager = staff_user(Role.MARKETING)
    client.force_login(manager)
    draw = won(winner, running_campaign(prizes=MUG, store=store))

    page = client.get(DESK, {"code": draw.pickup_code}).content.decode()

    assert f"/backoffice/mall/lottery/{draw.campaign_id}/" in page and "查看抽奖活动" in page


def test_new_redemption_codes_never_take_a_lottery_prizes_code(
    monkeypatch, store, winner, make_goods
):
    from mall import redeeming

    draw = won(winner, running_campaign(prizes=MUG, store=store))
    codes = iter([draw.pickup_code, "ABCDEFGHJK"])
    monkeypatch.setattr(redeeming, "pickup_code_new", lambda: next(codes))

    redemption = goods_redeem(
        member=winner, goods=make_goods(), delivery="pickup", idempotency_key="r2"
    )

    assert redemption.code == "ABCDEFGHJK"
