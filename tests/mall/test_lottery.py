"""lottery_draw: one transaction of points, prize stock, grant, audit row and message; the
limits and windows; what the member's pages read; the desk's hand-over of physical prizes."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from core.roles import Role
from coupons.models import Campaign, Coupon
from loyalty.ledger import InsufficientPoints, ledger_check, points_balance
from loyalty.models import PointsEntry
from mall import lottery
from mall.lottery import (
    LotteryError,
    draw_pickup_verify,
    draw_recompute,
    draw_refusal,
    draws_left_today,
    lottery_draw,
    on_site_winner_record,
    prize_pick,
)
from mall.lottery_selectors import (
    campaign_odds,
    campaign_totals,
    campaigns_for_member,
    member_draws,
    member_draws_export,
    recent_winners,
)
from mall.models import LotteryDraw, LotteryPrize, Redemption
from members.data_rights import member_data_export
from members.models import Member, Message
from members.signals import member_data_erasers
from tests.mall.lottery_factories import give_points, running_campaign
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
GOODS_ONLY = [{"name": "马克杯", "kind": "goods", "weight": 1, "stock": 5, "value_fen": 3900}]


@pytest.fixture
def player(store):
    member = MemberFactory(home_store=store, name="张小花")
    give_points(member, 1000)
    return member


def draw(member, campaign, key="k1"):
    return lottery_draw(member=member, campaign=campaign, idempotency_key=key)


def nothing_changed(member, campaign, balance=1000):
    assert points_balance(member_id=member.pk) == balance
    assert not LotteryDraw.objects.filter(member=member, campaign=campaign).exists()
    assert not PointsEntry.objects.filter(kind="lottery").exists()
    assert not Message.objects.filter(member=member, kind="lottery").exists()


# --- The pick -------------------------------------------------------------------------------


def test_the_pick_walks_the_running_sum_of_the_weights():
    weights = [[7, 2], [8, 3], [9, 5]]
    assert [prize_pick(weights, roll) for roll in range(10)] == [7, 7, 8, 8, 8, 9, 9, 9, 9, 9]
    assert prize_pick(weights, 10) is None
    assert prize_pick([], 0) is None


# --- Draws and their grants -----------------------------------------------------------------


def test_a_points_prize_spends_grants_through_the_ledger_records_the_roll_and_messages(player):
    campaign = running_campaign(
        prizes=[{"name": "50 积分", "kind": "points", "points": 50, "weight": 1, "stock": 3}]
    )

    result = draw(player, campaign)

    prize = campaign.prizes.get()
    assert (result.status, result.prize, result.points_spent) == ("granted", prize, 10)
    assert result.weights == [[prize.pk, 1]] and result.roll == 0
    assert draw_recompute(result) == prize.pk
    assert result.drawn_on == timezone.localdate()
    spent = PointsEntry.objects.get(key=result.ledger_key)
    granted = PointsEntry.objects.get(key=result.grant_ledger_key)
    assert (spent.kind, spent.points, granted.kind, granted.points) == (
        "lottery",
        -10,
        "lottery",
        50,
    )
    assert points_balance(member_id=player.pk) == 1040
    prize.refresh_from_db()
    assert (prize.stock, prize.initial_stock) == (2, 3)
    message = Message.objects.get(member=player, kind="lottery")
    assert "50 积分" in message.title and message.link == lottery.my_draws_link()
    assert ledger_check() == []


def test_a_physical_prize_gets_a_pickup_code_and_a_claim_date_in_its_message(player):
    campaign = running_campaign(prizes=GOODS_ONLY, claim_days=14)

    result = draw(player, campaign)

    assert result.status == "pending_pickup" and len(result.pickup_code) == 10
    assert result.claim_until == result.created_at + timedelta(days=14)
    message = Message.objects.get(member=player, kind="lottery")
    assert result.pickup_code in message.body and "一楼服务台" in message.body
    assert campaign.prizes.get().stock == 4


def test_pickup_codes_never_collide_with_redemption_codes(player, monkeypatch, goods):
    from mall.redeeming import goods_redeem

    taken = goods_redeem(member=player, goods=goods, delivery="pickup", idempotency_key="r")
    codes = iter([taken.code, taken.code, "ABCDEFGHJK"])
    monkeypatch.setattr(lottery, "pickup_code_new", lambda: next(codes))

    result = draw(player, running_campaign(prizes=GOODS_ONLY))

    assert result.pickup_code == "ABCDEFGHJK"
    assert Redemption.objects.filter(code=taken.code).count() == 1


def test_a_coupon_prize_issues_the_coupon_under_a_lottery_campaign(player, make_template):
    template = make_template("LUCKY20", face_value_fen=2000)
    campaign = running_campaign(
        prizes=[
            {
                "name": "20元券",
                "kind": "coupon",
                "coupon_template": template,
                "weight": 1,
                "stock": 9,
            }
        ]
    )

    result = draw(player, campaign)

    coupon = Coupon.objects.get(member=player)
    assert (result.status, result.coupon) == ("granted", coupon)
    assert coupon.template == template and coupon.campaign.channel == Campaign.Channel.LOTTERY
    assert str(campaign.pk) in coupon.campaign.name


def test_a_coupon_prize_the_member_may_not_hold_more_of_is_out_of_their_draw(player, make_template):
    template = make_template("ONCE", per_member_limit=1)
    campaign = running_campaign(
        prizes=[
            {
                "name": "券",
                "kind": "coupon",
                "coupon_template": template,
                "weight": 1000,
                "stock": 9,
            },
            {"name": "5 积分", "kind": "points", "points": 5, "weight": 1, "stock": 99},
        ]
    )

    first, second = draw(player, campaign, "a"), draw(player, campaign, "b")

    coupon_prize, points_prize = campaign.prizes.order_by("position")
    assert first.prize == coupon_prize or first.weights == [[points_prize.pk, 1]]
    assert second.weights == [[points_prize.pk, 1]] and second.prize == points_prize
    assert Coupon.objects.filter(member=player).count() == 1


def test_no_prize_spends_records_and_sends_no_message(player):
    campaign = running_campaign(
        prizes=[
            {"name": "谢谢参与", "kind": "nothing", "weight": 10**6, "stock": None},
            {"name": "马克杯", "kind": "goods", "weight": 1, "stock": 1},
        ]
    )

    results = [draw(player, campaign, f"n{i}") for i in range(3)]

    lost = [r for r in results if r.prize is None]
    assert lost and all(r.status == "nothing" for r in lost)
    nothing = campaign.prizes.get(kind="nothing")
    assert all(draw_recompute(r) == nothing.pk for r in lost)
    assert Message.objects.filter(member=player, kind="lottery").count() == 3 - len(lost)
    assert points_balance(member_id=player.pk) == 970


def test_an_exhausted_prize_leaves_the_draw_and_when_all_are_gone_draws_stop(player):
    campaign = running_campaign(
        daily_limit=50,
        prizes=[
            {"name": "马克杯", "kind": "goods", "weight": 5, "stock": 2},
            {"name": "钥匙扣", "kind": "goods", "weight": 5, "stock": 0},
            {"name": "谢谢参与", "kind": "nothing", "weight": 1, "stock": None},
        ],
    )
    mug, keyring, nothing = campaign.prizes.order_by("position")

    results = []
    for i in range(40):
        try:
            results.append(draw(player, campaign, f"x{i}"))
        except LotteryError as refused:
            assert refused.code == "sold_out"
            break

    assert [r.prize for r in results].count(mug) == 2
    assert keyring.pk not in {pid for r in results for pid, _w in r.weights}
    assert all(r.prize is None for r in results if r.prize != mug)
    assert results[-1].prize == mug  # the last mug went, then nothing real was left
    mug.refresh_from_db()
    assert mug.stock == 0
    balance = points_balance(member_id=player.pk)
    assert balance == 1000 - 10 * len(results)
    with pytest.raises(LotteryError) as refused:
        draw(player, campaign, "after")
    assert refused.value.code == "sold_out"
    assert points_balance(member_id=player.pk) == balance
    assert campaign_odds(campaign)[0]["percent"] == 0
    assert campaign_odds(campaign)[2]["percent"] == 100


def test_every_stored_draw_recomputes_to_its_prize(player):
    campaign = running_campaign(
        daily_limit=60,
        prizes=[
            {"name": "10 积分", "kind": "points", "points": 10, "weight": 30, "stock": 8},
            {"name": "马克杯", "kind": "goods", "weight": 20, "stock": 3},
            {"name": "谢谢参与", "kind": "nothing", "weight": 50, "stock": None},
        ],
    )
    for i in range(60):
        try:
            draw(player, campaign, f"r{i}")
        except LotteryError:
            break
    nothing = campaign.prizes.get(kind="nothing").pk
    for row in LotteryDraw.objects.filter(campaign=campaign):
        assert 0 <= row.roll < sum(w for _p, w in row.weights)
        expected = None if draw_recompute(row) == nothing else draw_recompute(row)
        assert row.prize_id == expected


# --- Limits, windows, refusals --------------------------------------------------------------


def test_the_daily_limit_resets_at_shanghai_midnight_not_utc(player):
    # 23:59 and 00:01 in Shanghai are the same UTC day (15:59 and 16:01 UTC)
    evening = datetime(2026, 12, 10, 23, 59, tzinfo=SHANGHAI)
    with time_machine.travel(evening, tick=False):
        campaign = running_campaign(daily_limit=2, prizes=GOODS_ONLY)
        draw(player, campaign, "a"), draw(player, campaign, "b")
        assert draws_left_today(member=player, campaign=campaign) == 0
        with pytest.raises(LotteryError) as refused:
            draw(player, campaign, "c")
        assert refused.value.code == "daily_limit"
        assert draw_refusal(member=player, campaign=campaign).code == "daily_limit"
    with time_machine.travel(evening + timedelta(minutes=2), tick=False):
        assert draws_left_today(member=player, campaign=campaign) == 2
        assert draw(player, campaign, "c").drawn_on.isoformat() == "2026-12-11"
    assert points_balance(member_id=player.pk) == 970


def test_the_total_limit_counts_every_day(player):
    start = datetime(2026, 12, 10, 12, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=False):
        campaign = running_campaign(daily_limit=2, total_limit=3)
        draw(player, campaign, "a"), draw(player, campaign, "b")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        assert draws_left_today(member=player, campaign=campaign) == 1
        draw(player, campaign, "c")
        with pytest.raises(LotteryError) as refused:
            draw(player, campaign, "d")
    assert refused.value.code == "total_limit"
    assert LotteryDraw.objects.filter(member=player).count() == 3


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"starts_at_in": timedelta(hours=1)}, "not_started"),
        ({"ends_at_in": -timedelta(seconds=1)}, "ended"),
        ({"published": False}, "not_published"),
    ],
)
def test_outside_the_window_or_unpublished_a_draw_is_refused_and_spends_nothing(
    player, fields, code
):
    now = timezone.now()
    extra = {}
    if "starts_at_in" in fields:
        extra["starts_at"] = now + fields["starts_at_in"]
    if "ends_at_in" in fields:
        extra["ends_at"] = now + fields["ends_at_in"]
    campaign = running_campaign(published=fields.get("published", True), **extra)

    with pytest.raises(LotteryError) as refused:
        draw(player, campaign)

    assert refused.value.code == code
    assert draw_refusal(member=player, campaign=campaign).code == code
    assert draws_left_today(member=player, campaign=campaign) is None
    nothing_changed(player, campaign)


def test_members_see_published_campaigns_open_or_to_come_for_their_store(player, store):
    now = timezone.now()
    running = running_campaign(name="进行中")
    upcoming = running_campaign(name="即将开始", starts_at=now + timedelta(days=2))
    running_campaign(name="未发布", published=False)
    running_campaign(name="已结束", starts_at=now - timedelta(days=9), ends_at=now)
    running_campaign(name="他店", store=StoreFactory(code="S09"))
    ours = running_campaign(name="本店", store=store)

    seen = set(campaigns_for_member(member=player))

    assert seen == {running, upcoming, ours}


def test_another_stores_campaign_refuses_the_member(player):
    campaign = running_campaign(store=StoreFactory(code="S09", name="天一店"))
    with pytest.raises(LotteryError) as refused:
        draw(player, campaign)
    assert refused.value.code == "wrong_store" and "天一店" in str(refused.value.message)
    nothing_changed(player, campaign)


def test_an_inactive_member_is_refused(player):
    campaign = running_campaign()
    Member.objects.filter(pk=player.pk).update(status=Member.Status.FROZEN)
    with pytest.raises(LotteryError) as refused:
        draw(player, campaign)
    assert refused.value.code == "member_inactive"
    nothing_changed(player, campaign)


def test_without_enough_points_nothing_is_spent_or_taken(store):
    poor = MemberFactory(home_store=store)
    give_points(poor, 9)
    campaign = running_campaign(prizes=GOODS_ONLY)

    with pytest.raises(InsufficientPoints):
        draw(poor, campaign)

    assert isinstance(draw_refusal(member=poor, campaign=campaign), InsufficientPoints)
    nothing_changed(poor, campaign, balance=9)
    assert campaign.prizes.get().stock == 5


def test_the_same_key_twice_is_one_draw_and_a_key_reused_elsewhere_is_refused(player):
    campaign, other = running_campaign(), running_campaign(name="另一个")

    first, again = draw(player, campaign, "tap"), draw(player, campaign, "tap")

    assert again.pk == first.pk
    with pytest.raises(LotteryError) as refused:
        draw(player, other, "tap")
    assert refused.value.code == "key_reused"
    assert LotteryDraw.objects.count() == 1
    assert points_balance(member_id=player.pk) == 990 + (first.prize.points if first.prize else 0)


@pytest.mark.parametrize("key", ["", "   ", "x" * 65])
def test_a_bad_key_is_refused(player, key):
    with pytest.raises(LotteryError) as refused:
        draw(player, running_campaign(), key)
    assert refused.value.code == "bad_key"


# --- What the pages read ----------------------------------------------------------------------


def test_odds_are_the_weights_over_the_prizes_in_stock():
    campaign = running_campaign(
        prizes=[
            {"name": "A", "kind": "points", "points": 1, "weight": 1, "stock": 5},
            {"name": "B", "kind": "goods", "weight": 2, "stock": 0},
            {"name": "C", "kind": "nothing", "weight": 2, "stock": None},
        ]
    )
    odds = campaign_odds(campaign)
    assert [(o["prize"].name, str(o["percent"]), o["stock_left"]) for o in odds] == [
        ("A", "33.33", 5),
        ("B", "0.00", 0),
        ("C", "66.67", None),
    ]


def test_winners_ticker_and_totals_come_from_real_draws_and_on_site_winners_are_marked(
    player, store
):
    campaign = running_campaign(prizes=GOODS_ONLY)
    second = MemberFactory(home_store=store, name="", phone="13812345678")
    give_points(second, 100)
    draw(player, campaign, "a"), draw(second, campaign, "b"), draw(player, campaign, "c")
    hq = StaffFactory(user__role=Role.HQ_ADMIN).user
    on_site_winner_record(
        campaign=campaign,
        actor=hq,
        prize_name="电饭煲",
        winner_name="欧阳娜娜",
        drawn_at=timezone.now(),
    )

    ticker = recent_winners(campaign=campaign)

    assert ticker[0] == {
        "name": "欧阳**",
        "prize": "电饭煲",
        "at": ticker[0]["at"],
        "on_site": True,
    }
    assert [(r["name"], r["on_site"]) for r in ticker[1:]] == [
        ("张**", False),
        ("138****5678", False),
        ("张**", False),
    ]
    assert campaign_totals(campaign=campaign) == {"participants": 2, "draws": 3, "winners": 2}
    assert len(recent_winners(campaign=campaign, limit=2)) == 2
    assert list(member_draws(member=player)) == list(
        LotteryDraw.objects.filter(member=player).order_by("-created_at")
    )


def test_on_site_winners_are_recorded_only_once_the_campaign_started(player):
    hq = StaffFactory(user__role=Role.HQ_ADMIN).user
    later = running_campaign(starts_at=timezone.now() + timedelta(days=1))
    with pytest.raises(LotteryError) as refused:
        on_site_winner_record(
            campaign=later,
            actor=hq,
            prize_name="电饭煲",
            winner_name="王五",
            drawn_at=timezone.now(),
        )
    assert refused.value.code == "not_started"
    campaign = running_campaign()
    for bad in ({"winner_name": " "}, {"drawn_at": timezone.now() + timedelta(hours=1)}):
        with pytest.raises(LotteryError):
            on_site_winner_record(
                campaign=campaign,
                actor=hq,
                **(
                    {"prize_name": "电饭煲", "winner_name": "王五", "drawn_at": timezone.now()}
                    | bad
                ),
            )
    store_clerk = StaffFactory(user__role=Role.CUSTOMER_SERVICE).user
    with pytest.raises(lottery.PermissionDenied):
        on_site_winner_record(
            campaign=campaign,
            actor=store_clerk,
            prize_name="电饭煲",
            winner_name="王五",
            drawn_at=timezone.now(),
        )


# --- The desk -------------------------------------------------------------------------------


def test_the_desk_hands_a_prize_over_once_within_its_scope(player, store):
    campaign = running_campaign(prizes=GOODS_ONLY, store=store)
    won = draw(player, campaign)
    elsewhere = StaffFactory(
        user__role=Role.STORE_MANAGER, scope="store", store=StoreFactory(code="S09")
    ).user
    desk = StaffFactory(user__role=Role.CUSTOMER_SERVICE, scope="store", store=store).user
    analyst = StaffFactory(user__role=Role.ANALYST).user

    with pytest.raises(LotteryError) as refused:
        draw_pickup_verify(code=won.pickup_code, actor=elsewhere)
    assert refused.value.code == "unknown_code"
    with pytest.raises(lottery.PermissionDenied):
        draw_pickup_verify(code=won.pickup_code, actor=analyst)

    handed = draw_pickup_verify(
        code=won.pickup_code.lower()[:5] + "-" + won.pickup_code[5:], actor=desk
    )

    assert (handed.status, handed.picked_up_by, handed.picked_up_store) == (
        "picked_up",
        desk,
        store,
    )
    with pytest.raises(LotteryError) as again:
        draw_pickup_verify(code=won.pickup_code, actor=desk)
    assert again.value.code == "picked_up" and "已" in str(again.value.message)


def test_a_prize_of_a_campaign_for_every_store_is_handed_over_at_the_clerks_store(player, store):
    won = draw(player, running_campaign(prizes=GOODS_ONLY))
    desk = StaffFactory(user__role=Role.CUSTOMER_SERVICE, scope="store", store=store).user
    assert draw_pickup_verify(code=won.pickup_code, actor=desk).picked_up_store == store


def test_an_unclaimed_prize_past_its_date_is_refused_and_unknown_codes_too(player, store):
    won = draw(player, running_campaign(prizes=GOODS_ONLY, claim_days=3))
    desk = StaffFactory(user__role=Role.CUSTOMER_SERVICE, scope="store", store=store).user
    for code, reason in (("ZZZZZZZZZZ", "unknown_code"), ("12", "code")):
        with pytest.raises(LotteryError) as refused:
            draw_pickup_verify(code=code, actor=desk)
        assert refused.value.code == reason
    with time_machine.travel(won.claim_until + timedelta(minutes=1)):
        with pytest.raises(LotteryError) as refused:
            draw_pickup_verify(code=won.pickup_code, actor=desk)
        assert refused.value.code == "expired"
        assert lottery.lottery_draws_expire() == 1
    won.refresh_from_db()
    assert won.status == "expired"


def test_the_nightly_job_expires_only_prizes_past_their_date_and_is_on_the_schedule(player):
    """mall.tasks.lottery_draws_expire_nightly, scheduled by the data migration at 00:15
    Shanghai: an overdue prize becomes expired, one still claimable stays, a rerun is a no-op."""
    import importlib

    from django.apps import apps as django_apps
    from django_celery_beat.models import PeriodicTask

    from mall.tasks import lottery_draws_expire_nightly

    overdue = draw(player, running_campaign(prizes=GOODS_ONLY, claim_days=1))
    give_points(player, 100)
    current = draw(player, running_campaign(prizes=GOODS_ONLY, claim_days=30), key="k2")
    importlib.import_module("mall.migrations.0006_lottery_expiry_schedule").schedule(
        django_apps, None
    )
    entry = PeriodicTask.objects.get(task="mall.tasks.lottery_draws_expire_nightly")
    assert entry.enabled and (entry.crontab.hour, entry.crontab.minute) == ("0", "15")
    assert str(entry.crontab.timezone) == "Asia/Shanghai"
    with time_machine.travel(overdue.claim_until + timedelta(hours=1)):
        assert lottery_draws_expire_nightly() == 1
        assert lottery_draws_expire_nightly() == 0
    overdue.refresh_from_db()
    current.refresh_from_db()
    assert (overdue.status, current.status) == ("expired", "pending_pickup")


# --- The member's data ----------------------------------------------------------------------


def test_draws_are_in_the_data_download_and_deletion_masks_on_site_names(player):
    campaign = running_campaign(prizes=GOODS_ONLY)
    won = draw(player, campaign)
    hq = StaffFactory(user__role=Role.HQ_ADMIN).user
    winner = on_site_winner_record(
        campaign=campaign,
        actor=hq,
        prize_name="电饭煲",
        winner_name="张小花",
        drawn_at=timezone.now(),
        member=player,
    )

    exported = member_data_export(member=player)["lottery_draws"]

    assert exported == member_draws_export(player)
    assert exported[0]["pickup_code"] == won.pickup_code and exported[0]["prize"] == "马克杯"
    for erase in member_data_erasers():
        erase(member_id=player.pk)
    winner.refresh_from_db()
    assert winner.winner_name == "张**"
    assert LotteryPrize.objects.filter(campaign=campaign).exists()


def test_the_page_stops_on_the_prize_or_on_a_nothing_segment(player):
    from mall.lottery_selectors import draw_segment

    campaign = running_campaign(
        prizes=[
            {"name": "马克杯", "kind": "goods", "weight": 1, "stock": 1},
            {"name": "谢谢参与", "kind": "nothing", "weight": 1, "stock": None},
            {"name": "再接再厉", "kind": "nothing", "weight": 1, "stock": None},
        ]
    )
    mug, thanks, again = campaign.prizes.order_by("position")
    won = LotteryDraw(campaign=campaign, prize=mug, weights=[[mug.pk, 1]], roll=0)
    rolled_nothing = LotteryDraw(
        campaign=campaign, prize=None, weights=[[mug.pk, 1], [thanks.pk, 1], [again.pk, 1]], roll=2
    )
    raced = LotteryDraw(campaign=campaign, prize=None, weights=[[mug.pk, 1]], roll=0)

    assert [draw_segment(d) for d in (won, rolled_nothing, raced)] == [mug.pk, again.pk, thanks.pk]
