"""The demo mall's lottery: three campaigns, real draws through the service when the demo is
built for now, on-site winners recorded as such."""

import pytest
from django.core.management import call_command

from mall.lottery import draw_recompute
from mall.lottery_selectors import campaign_totals, recent_winners
from mall.models import LotteryCampaign, LotteryDraw, LotteryOnSiteWinner
from members.models import Message

pytestmark = pytest.mark.django_db


def test_the_demo_lottery_is_drawn_through_the_service(loyalty_defaults):
    call_command("seed_demo", members=120, months=2, stdout=open("/dev/null", "w"))  # noqa: SIM115

    grid = LotteryCampaign.objects.get(style="grid")
    assert LotteryCampaign.objects.count() == 3
    assert grid.prizes.count() == 8
    assert {p.kind for p in grid.prizes.all()} == {"points", "coupon", "goods", "nothing"}
    assert all(c.published_at < c.starts_at for c in LotteryCampaign.objects.all())
    draws = LotteryDraw.objects.filter(campaign=grid)
    assert 50 <= draws.count() <= 150
    assert all(d.prize_id in {None, draw_recompute(d)} for d in draws)
    totals = campaign_totals(campaign=grid)
    assert totals["draws"] == draws.count() and totals["participants"] >= draws.count() / 3
    winning = draws.exclude(prize=None).count()
    assert Message.objects.filter(kind="lottery").count() == winning
    assert LotteryOnSiteWinner.objects.count() == 2
    assert any(row["on_site"] for row in recent_winners(campaign=grid, limit=200))
    for prize in grid.prizes.exclude(kind="nothing"):
        assert prize.initial_stock - prize.stock == draws.filter(prize=prize).count()
