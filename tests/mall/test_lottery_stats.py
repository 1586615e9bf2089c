"""The draw is fair: outcomes match the configured weights (Pearson's chi-square, p > 0.001,
so a correct draw fails about once in a thousand runs). The pick itself over 100,000 CSPRNG
rolls and 1,000 draws through the service run in the default suite; 100,000 draws through
the service (each its own committed transaction, from 4 connections) in the slow one."""

import secrets
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from scipy.stats import chisquare

from loyalty.ledger import EntryIn, ledger_check, points_post_many
from mall.lottery import lottery_draw, prize_pick
from mall.models import LotteryDraw
from tests.mall.lottery_factories import running_campaign
from tests.members.factories import MemberFactory

P_MIN = 0.001
PRIZES = [
    {"name": "88 积分", "kind": "points", "points": 88, "weight": 5},
    {"name": "10 积分", "kind": "points", "points": 10, "weight": 20},
    {"name": "马克杯", "kind": "goods", "weight": 2, "value_fen": 3900},
    {"name": "帆布袋", "kind": "goods", "weight": 13, "value_fen": 2900},
    {"name": "谢谢参与", "kind": "nothing", "weight": 60, "stock": None},
]


def _fair(counts: list[int], weights: list[int]) -> float:
    total, weight_sum = sum(counts), sum(weights)
    expected = [total * w / weight_sum for w in weights]
    return chisquare(counts, expected).pvalue


def test_the_pick_over_100000_csprng_rolls_matches_the_weights():
    weights = [[i + 1, p["weight"]] for i, p in enumerate(PRIZES)]
    total = sum(w for _i, w in weights)
    picked = Counter(prize_pick(weights, secrets.randbelow(total)) for _n in range(100_000))
    counts = [picked[i + 1] for i in range(len(PRIZES))]
    assert sum(counts) == 100_000
    assert _fair(counts, [p["weight"] for p in PRIZES]) > P_MIN


def test_a_skewed_pick_is_caught():
    """The test above can fail: a pick off by one weight unit in a hundred is detected."""
    weights = [[1, 50], [2, 50]]
    picked = Counter(
        prize_pick(weights, min(99, secrets.randbelow(100) + 1)) for _n in range(100_000)
    )
    assert _fair([picked[1], picked[2]], [50, 50]) < P_MIN


def service_draws(store, total: int, *, members: int, threads: int = 1) -> tuple[list[int], float]:
    """`total` draws by `members` members (a few each, as in life: the limits count a
    member's draws of the day), from `threads` connections at once."""
    per_member = total // members
    people = MemberFactory.create_batch(members, home_store=store)
    points_post_many(
        EntryIn(member_id=m.pk, kind="earn", points=10 * per_member, key=f"seed:stats:{m.pk}")
        for m in people
    )
    campaign = running_campaign(
        daily_limit=per_member,
        prizes=[
            p | {"stock": p.get("stock", total)} if p["kind"] != "nothing" else p for p in PRIZES
        ],
    )
    prizes = list(campaign.prizes.order_by("position"))

    def work(thread):
        try:
            for member in people[thread::threads]:
                for n in range(per_member):
                    lottery_draw(member=member, campaign=campaign, idempotency_key=f"s{n}")
        finally:
            if threads > 1:
                connection.close()

    started = time.monotonic()
    if threads == 1:
        work(0)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(threads)))
    seconds = time.monotonic() - started
    won = Counter(LotteryDraw.objects.filter(campaign=campaign).values_list("prize_id", flat=True))
    counts = [won[None] if p.kind == "nothing" else won[p.pk] for p in prizes]
    assert sum(counts) == total
    assert ledger_check() == []
    return counts, seconds


@pytest.mark.django_db
def test_1000_draws_through_the_service_match_the_weights(store):
    counts, _seconds = service_draws(store, 1000, members=50)
    assert _fair(counts, [p["weight"] for p in PRIZES]) > P_MIN


@pytest.mark.fairness
@pytest.mark.django_db(transaction=True)
def test_100000_draws_through_the_service_match_the_weights(store):
    counts, seconds = service_draws(store, 100_000, members=2000, threads=4)
    print(f"100,000 draws through lottery_draw in {seconds:.0f}s: {counts}")  # noqa: T201
    assert _fair(counts, [p["weight"] for p in PRIZES]) > P_MIN
