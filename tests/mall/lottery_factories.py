"""Lottery campaigns and prizes for the lottery tests: written straight to the database, as
staff would have published them before the start (the editing services refuse a start in
the past, which is what most tests need)."""

import itertools
from datetime import timedelta

from django.utils import timezone

from loyalty.ledger import points_post
from mall.models import LotteryCampaign, LotteryPrize

_seeds = itertools.count(1)


def running_campaign(*, prizes=None, published=True, **fields) -> LotteryCampaign:
    """A campaign that started an hour ago and ends in a week; `prizes`: a list of dicts
    (default: 10 points ×100, a mug ×5, nothing)."""
    now = timezone.now()
    defaults = {
        "name": "双旦抽奖",
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(days=7),
        "points_per_draw": 10,
        "daily_limit": 3,
        "total_limit": 0,
        "rules": "每次抽奖消耗 10 积分。",
        "claim_rules": "请到一楼服务台领取。",
        "published_at": now - timedelta(days=1) if published else None,
    }
    campaign = LotteryCampaign.objects.create(**(defaults | fields))
    if prizes is None:
        prizes = [
            {"name": "10 积分", "kind": "points", "points": 10, "weight": 50, "stock": 100},
            {"name": "马克杯", "kind": "goods", "weight": 10, "stock": 5, "value_fen": 3900},
            {"name": "谢谢参与", "kind": "nothing", "weight": 40, "stock": None},
        ]
    for position, prize in enumerate(prizes):
        add_prize(campaign, position=position, **prize)
    return campaign


def add_prize(campaign, **fields) -> LotteryPrize:
    fields.setdefault("initial_stock", fields.get("stock"))
    return LotteryPrize.objects.create(campaign=campaign, **fields)


def give_points(member, points):
    points_post(member_id=member.pk, kind="earn", points=points, key=f"lseed:{next(_seeds)}")
