"""Editing campaigns and prizes: validated, audited, and frozen once the campaign starts (the
prize-sales rules: published before the start, no edit after it)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.exceptions import PermissionDenied
from core.models import AuditLog
from core.roles import Role
from mall.lottery import (
    LotteryError,
    campaign_create,
    campaign_publish,
    campaign_update,
    prize_create,
    prize_delete,
    prize_update,
)
from mall.lottery_selectors import campaigns_scoped
from mall.models import LotteryCampaign, LotteryPrize
from tests.members.factories import StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(db):
    return StaffFactory(user__role=Role.MARKETING).user


def fields(**changes):
    now = timezone.now()
    return {
        "name": "元旦抽奖",
        "style": "grid",
        "starts_at": now + timedelta(days=1),
        "ends_at": now + timedelta(days=8),
        "points_per_draw": 20,
        "daily_limit": 3,
        "total_limit": 10,
        "rules": "每人每天 3 次。",
        "claim_rules": "一楼服务台领取。",
        "claim_days": 15,
    } | changes


@pytest.fixture
def campaign(marketing):
    campaign = campaign_create(actor=marketing, **fields())
    prize_create(
        campaign=campaign,
        actor=marketing,
        name="保温杯",
        kind="goods",
        weight=5,
        stock=10,
        value_fen=9900,
    )
    return campaign


def expect(code, call, *args, **kwargs):
    with pytest.raises(LotteryError) as refused:
        call(*args, **kwargs)
    assert refused.value.code == code, refused.value.message


def test_a_campaign_is_created_with_prizes_published_and_audited(marketing):
    campaign = campaign_create(actor=marketing, **fields())
    expect("no_prizes", campaign_publish, campaign=campaign, actor=marketing)
    nothing = prize_create(
        campaign=campaign, actor=marketing, name="谢谢参与", kind="nothing", weight=90, stock=5
    )
    expect("no_prizes", campaign_publish, campaign=campaign, actor=marketing)
    mug = prize_create(
        campaign=campaign, actor=marketing, name="马克杯", kind="goods", weight=10, stock=20
    )

    published = campaign_publish(campaign=campaign, actor=marketing)

    assert published.published_at is not None and published.created_by == marketing
    assert (nothing.stock, nothing.initial_stock, mug.initial_stock) == (None, None, 20)
    assert list(
        AuditLog.objects.filter(target_id=str(campaign.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "mall.lottery.created",
        "mall.lottery.prize_created",
        "mall.lottery.prize_created",
        "mall.lottery.published",
    ]


def test_physical_prizes_need_their_claim_rules_before_publishing(campaign, marketing):
    campaign_update(campaign=campaign, actor=marketing, claim_rules=" ")
    expect("claim_rules", campaign_publish, campaign=campaign, actor=marketing)
    campaign_update(campaign=campaign, actor=marketing, claim_rules="一楼服务台，30 天内。")
    assert campaign_publish(campaign=campaign, actor=marketing).published_at


def test_before_the_start_everything_may_change_and_is_audited(campaign, marketing):
    prize = campaign.prizes.get()
    campaign_update(campaign=campaign, actor=marketing, points_per_draw=30, name="新年抽奖")
    prize_update(prize=prize, actor=marketing, stock=12, weight=7)
    extra = prize_create(
        campaign=campaign, actor=marketing, name="积分", kind="points", points=5, weight=1, stock=3
    )
    prize_delete(prize=extra, actor=marketing)

    campaign.refresh_from_db()
    prize.refresh_from_db()
    assert (campaign.points_per_draw, campaign.name) == (30, "新年抽奖")
    assert (prize.stock, prize.initial_stock, prize.weight) == (12, 12, 7)
    assert not LotteryPrize.objects.filter(pk=extra.pk).exists()
    updated = AuditLog.objects.get(action="mall.lottery.updated")
    assert updated.data == {"points_per_draw": [20, 30], "name": ["元旦抽奖", "新年抽奖"]}
    assert AuditLog.objects.get(action="mall.lottery.prize_updated").data["stock"] == [10, 12]
    assert AuditLog.objects.filter(action="mall.lottery.prize_deleted").exists()


def test_once_started_every_edit_is_refused_as_frozen(campaign, marketing, make_template):
    campaign_publish(campaign=campaign, actor=marketing)
    prize = campaign.prizes.get()
    template = make_template("GIFT5")
    with time_machine.travel(campaign.starts_at + timedelta(seconds=1)):
        expect("frozen", campaign_update, campaign=campaign, actor=marketing, rules="改规则")
        expect("frozen", campaign_publish, campaign=campaign, actor=marketing)
        expect("frozen", prize_update, prize=prize, actor=marketing, weight=1)
        expect("frozen", prize_update, prize=prize, actor=marketing, stock=1000)
        expect("frozen", prize_delete, prize=prize, actor=marketing)
        expect(
            "frozen",
            prize_create,
            campaign=campaign,
            actor=marketing,
            name="20元券",
            kind="coupon",
            coupon_template=template,
            weight=1,
            stock=1,
        )
    # at the start itself already
    with time_machine.travel(campaign.starts_at, tick=False):
        expect("frozen", prize_update, prize=prize, actor=marketing, weight=2)
    campaign.refresh_from_db()
    prize.refresh_from_db()
    assert (campaign.rules, prize.weight, prize.stock) == ("每人每天 3 次。", 5, 10)
    assert campaign.prizes.count() == 1


def test_an_unpublished_campaign_is_frozen_at_its_start_too(campaign, marketing):
    with time_machine.travel(campaign.starts_at + timedelta(minutes=1)):
        expect("frozen", campaign_publish, campaign=campaign, actor=marketing)
    assert LotteryCampaign.objects.get(pk=campaign.pk).published_at is None


@pytest.mark.parametrize(
    ("prize", "code"),
    [
        ({"value_fen": 5_000_001}, "value_cap"),
        ({"value_fen": -1}, "value"),
        ({"weight": 0}, "weight"),
        ({"stock": -1}, "stock"),
        ({"stock": None}, "stock"),
        ({"kind": "points", "points": 0}, "points"),
        ({"kind": "coupon"}, "coupon_template"),
        ({"kind": "lucky"}, "kind"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_prizes_are_refused(campaign, marketing, prize, code):
    good = {"name": "电饭煲", "kind": "goods", "weight": 1, "stock": 2, "value_fen": 29900}
    expect(code, prize_create, campaign=campaign, actor=marketing, **(good | prize))
    assert campaign.prizes.count() == 1


def test_a_prize_worth_exactly_fifty_thousand_yuan_is_allowed_and_one_fen_more_is_not(
    campaign, marketing
):
    prize = prize_create(
        campaign=campaign,
        actor=marketing,
        name="金条",
        kind="goods",
        weight=1,
        stock=1,
        value_fen=5_000_000,
    )
    expect("value_cap", prize_update, prize=prize, actor=marketing, value_fen=5_000_001)
    prize.refresh_from_db()
    assert prize.value_fen == 5_000_000


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"ends_at_days": 0.5}, "window"),
        ({"starts_at_days": -0.01}, "start"),
        ({"points_per_draw": 0}, "points_per_draw"),
        ({"daily_limit": 0}, "daily_limit"),
        ({"total_limit": 2}, "total_limit"),
        ({"rules": "  "}, "rules"),
        ({"name": "x" * 41}, "name"),
        ({"claim_days": 0}, "claim_days"),
        ({"style": "slot"}, "style"),
    ],
)
def test_bad_campaigns_are_refused(marketing, change, code):
    now = timezone.now()
    change = dict(change)
    if "ends_at_days" in change:
        change["ends_at"] = now + timedelta(days=change.pop("ends_at_days"))
    if "starts_at_days" in change:
        change["starts_at"] = now + timedelta(days=change.pop("starts_at_days"))
    expect(code, campaign_create, actor=marketing, **fields(**change))
    assert not LotteryCampaign.objects.exists()


def test_unknown_fields_are_a_programming_error(campaign, marketing):
    with pytest.raises(TypeError):
        campaign_update(campaign=campaign, actor=marketing, published_at=timezone.now())
    with pytest.raises(TypeError):
        prize_update(prize=campaign.prizes.get(), actor=marketing, initial_stock=99)


def test_editing_needs_the_permission_and_the_store_in_scope(campaign, store):
    analyst = StaffFactory(user__role=Role.ANALYST).user
    with pytest.raises(PermissionDenied):
        campaign_update(campaign=campaign, actor=analyst, name="改")
    local = StaffFactory(user__role=Role.MARKETING, scope="store", store=store).user
    # a campaign for every store is the mall-wide marketing's
    with pytest.raises(PermissionDenied):
        campaign_update(campaign=campaign, actor=local, name="改")
    with pytest.raises(PermissionDenied):
        campaign_create(actor=local, **fields(store=StoreFactory(code="S09")))
    ours = campaign_create(actor=local, **fields(store=store))
    prize_create(campaign=ours, actor=local, name="伞", kind="goods", weight=1, stock=3)
    assert set(campaigns_scoped(LotteryCampaign.objects.all(), user=local)) == {campaign, ours}
