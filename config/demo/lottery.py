"""The demo mall's lottery: a running nine-square grid (points, a coupon, two physical prizes,
no prize), a wheel still to come and one that has ended, each published before its start as
the prize-sales rules want; winners of an on-site draw recorded by the marketing staff.

The draws are real: demo members with points draw through lottery_draw, whose CSPRNG and
clock are the present's, so they are made only when the demo is built for now (seed_demo
without --as-of). A demo built as of another moment stays reproducible and has no draws."""

import random
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from coupons.models import CouponTemplate
from loyalty.models import PointsAccount
from mall.lottery import LotteryError, draw_pickup_verify, lottery_draw, on_site_winner_record
from mall.models import LotteryCampaign, LotteryDraw, LotteryPrize
from members.models import Member

NOW_WITHIN = timedelta(hours=1)  # as_of this close to the clock: the demo is built for now
RULES = (
    "1. 活动期间，会员每次抽奖消耗 {points} 积分，每人每天最多 {daily} 次{total}。\n"
    "2. 奖品、数量和中奖概率见下方奖品表，开始后不再更改；奖品抽完即止。\n"
    "3. 积分奖品即时到账，优惠券奖品放入券包，实物奖品凭领奖码到服务台领取。\n"
    "4. 中奖结果由系统随机产生，每次抽奖均留有记录可查。"
)
CLAIM = "实物奖品请于中奖后 {days} 天内凭领奖码到一楼服务台领取，逾期视为放弃。"

RUNNING = [
    # name, kind, weight, stock, points, value (fen)
    ("8 积分", "points", 300, 2000, 8, 0),
    ("88 积分", "points", 60, 300, 88, 0),
    ("888 积分", "points", 2, 5, 888, 0),
    ("女装满300减50券", "coupon", 100, 500, 0, 5000),
    ("品牌保温杯", "goods", 8, 30, 0, 12900),
    ("蓝牙耳机", "goods", 1, 3, 0, 29900),
    ("谢谢参与", "nothing", 400, None, 0, 0),
    ("再接再厉", "nothing", 129, None, 0, 0),
]
UPCOMING = [
    ("18 积分", "points", 300, 1000, 18, 0),
    ("188 积分", "points", 40, 100, 188, 0),
    ("新会员 10 元现金券", "coupon", 150, 300, 0, 1000),
    ("电饭煲", "goods", 2, 5, 0, 39900),
    ("谢谢参与", "nothing", 508, None, 0, 0),
]
ENDED = [
    ("50 积分", "points", 200, 500, 50, 0),
    ("环保购物袋", "goods", 50, 100, 0, 1990),
    ("谢谢参与", "nothing", 750, None, 0, 0),
]


def demo_lottery(rng: random.Random, *, as_of: datetime) -> dict:
    """The three campaigns, about 150 draws by members with points (when built for now) and
    two on-site winners."""
    marketing = User.objects.filter(username="marketing").first()
    templates = {
        t.code: t for t in CouponTemplate.objects.filter(code__in=["DRESS300-50", "WELCOME10"])
    }
    day = timedelta(days=1)
    running = _campaign(
        "双旦积分九宫格",
        LotteryCampaign.Style.GRID,
        starts_at=as_of - 10 * day,
        ends_at=as_of + 20 * day,
        points=20,
        daily=3,
        prizes=RUNNING,
        template=templates.get("DRESS300-50"),
        actor=marketing,
    )
    _campaign(
        "新春幸运大转盘",
        LotteryCampaign.Style.WHEEL,
        starts_at=as_of + 5 * day,
        ends_at=as_of + 35 * day,
        points=30,
        daily=2,
        total=20,
        prizes=UPCOMING,
        template=templates.get("WELCOME10"),
        actor=marketing,
    )
    ended = _campaign(
        "双十一幸运转盘",
        LotteryCampaign.Style.WHEEL,
        starts_at=as_of - 40 * day,
        ends_at=as_of - 25 * day,
        points=10,
        daily=1,
        prizes=ENDED,
        template=None,
        actor=marketing,
    )
    draws = 0
    if abs(timezone.now() - as_of) < NOW_WITHIN:
        draws = _draws(rng, running)
    winners = 0
    if marketing is not None:
        for campaign, prize, name, when in (
            (running, "戴森吹风机", "周婷婷", as_of - 3 * day),
            (ended, "扫地机器人", "陈建国", ended.ends_at - day),
        ):
            try:
                on_site_winner_record(
                    campaign=campaign,
                    actor=marketing,
                    prize_name=prize,
                    winner_name=name,
                    drawn_at=when.replace(hour=15, minute=0),
                    note="一楼中庭现场抽奖",
                )
                winners += 1
            except LotteryError:
                continue
    return {"campaigns": 3, "draws": draws, "on_site_winners": winners}


def _campaign(name, style, *, starts_at, ends_at, points, daily, prizes, template, actor, total=0):
    claim_days = 15
    campaign = LotteryCampaign.objects.create(
        name=name,
        style=style,
        starts_at=starts_at.replace(hour=10, minute=0),
        ends_at=ends_at.replace(hour=22, minute=0),
        points_per_draw=points,
        daily_limit=daily,
        total_limit=total,
        rules=RULES.format(
            points=points, daily=daily, total=f"，活动期间共 {total} 次" if total else ""
        ),
        claim_rules=CLAIM.format(days=claim_days),
        claim_days=claim_days,
        published_at=starts_at - timedelta(days=3),
        created_by=actor,
        created_at=starts_at - timedelta(days=4),
    )
    for position, (prize, kind, weight, stock, granted, value) in enumerate(prizes):
        if kind == "coupon" and template is None:
            continue
        LotteryPrize.objects.create(
            campaign=campaign,
            name=prize,
            kind=kind,
            weight=weight,
            stock=stock,
            initial_stock=stock,
            points=granted,
            coupon_template=template if kind == "coupon" else None,
            value_fen=value,
            position=position,
        )
    return campaign


def _draws(rng: random.Random, campaign: LotteryCampaign, target: int = 150) -> int:
    """Members with points for a few draws each draw until about `target` draws are made; a
    desk hands the first physical prize over."""
    rich = list(
        PointsAccount.objects.filter(
            balance__gte=campaign.points_per_draw * campaign.daily_limit,
            member__status=Member.Status.ACTIVE,
        )
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    rng.shuffle(rich)
    made = 0
    for member in Member.objects.filter(pk__in=rich[: target // 2]).order_by("pk"):
        for n in range(rng.randint(1, campaign.daily_limit)):
            if made >= target:
                break
            try:
                lottery_draw(member=member, campaign=campaign, idempotency_key=f"demo-{n}")
            except LotteryError:
                break
            made += 1
    desk = User.objects.filter(username="service").first()
    won = LotteryDraw.objects.filter(campaign=campaign, status=LotteryDraw.Status.PENDING_PICKUP)
    first = won.order_by("pk").first()
    if desk is not None and first is not None:
        draw_pickup_verify(code=first.pickup_code, actor=desk)
    return made
