"""抽奖活动 for members: the current and upcoming campaigns, a campaign's wheel or nine-square
grid with its odds, rules, totals and winners ticker, the draw (JSON for the page's script)
and the member's own draws with their pickup codes.

The draw itself happens in mall/lottery.py; the page's animation only shows where the
server's result sits among the cells (`index`), it never decides anything."""

import math
import re
from functools import wraps

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import ServiceError
from loyalty.ledger import points_balance
from mall import lottery
from mall.lottery import draw_refusal, draws_left_today
from mall.lottery_selectors import (
    campaign_odds,
    campaign_totals,
    campaigns_for_member,
    draw_segment,
    member_draws,
    recent_winners,
)
from mall.models import LotteryCampaign, LotteryDraw, LotteryPrize
from members.session import current_member, member_required

GRID_CELLS = 8  # the nine-square grid: eight prize cells around the 抽奖 button
KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Refusals a member can do nothing about right now answer 409; bad requests 400.
BAD_REQUEST_CODES = {"bad_key", "key_reused"}


def _published(pk: int) -> LotteryCampaign:
    """A campaign members may look at: published (ended ones too, for their own draws)."""
    return get_object_or_404(
        LotteryCampaign.objects.filter(published_at__isnull=False).select_related("store"), pk=pk
    )


def display_cells(campaign: LotteryCampaign, prizes: list[LotteryPrize]) -> list[dict]:
    """The cells the page draws, in order: each prize once (the grid repeats them to fill its
    eight cells), plus a 谢谢参与 cell when no prize is of kind "nothing", because a draw whose
    prize ran out meanwhile ends there."""
    cells = [{"prize_id": p.pk, "name": p.name, "kind": p.kind, "prize": p} for p in prizes]
    if not any(p.kind == LotteryPrize.Kind.NOTHING for p in prizes):
        cells.append(
            {"prize_id": None, "name": _("Better luck next time"), "kind": "nothing", "prize": None}
        )
    if campaign.style == LotteryCampaign.Style.GRID and len(cells) <= GRID_CELLS:
        cells = [cells[i % len(cells)] for i in range(GRID_CELLS)]
    return [{**cell, "index": index} for index, cell in enumerate(cells)]


def cell_index(cells: list[dict], draw: LotteryDraw) -> int:
    """Where the animation stops: the first cell of the prize draw_segment names (a no-prize
    draw stops on the "nothing" prize its roll gave, or on the page's 谢谢参与 cell)."""
    target = draw_segment(draw)
    for cell in cells:
        if cell["prize_id"] == target:
            return cell["index"]
    for cell in cells:
        if cell["kind"] == LotteryPrize.Kind.NOTHING:
            return cell["index"]
    return 0


WHEEL_CENTRE, WHEEL_RADIUS = 160, 150  # the SVG's viewBox is 320 × 320
WHEEL_COLOURS = ("#fff4d6", "#ffd98a")


def _wheel_point(degrees: float, radius: float) -> str:
    """The point at `degrees` clockwise from the top, `radius` from the centre."""
    angle = math.radians(degrees)
    x = WHEEL_CENTRE + radius * math.sin(angle)
    y = WHEEL_CENTRE - radius * math.cos(angle)
    return f"{x:.2f} {y:.2f}"


def wheel_segments(cells: list[dict]) -> list[dict]:
    """The wheel's slices: cell i spans [i, i+1) × 360/n degrees clockwise from the top, so
    the script turns the wheel by -(i + ½) × 360/n to bring it under the pointer."""
    n = len(cells)
    sweep = 360 / n
    segments = []
    for cell in cells:
        start, end = cell["index"] * sweep, (cell["index"] + 1) * sweep
        path = (
            f"M {WHEEL_CENTRE} {WHEEL_CENTRE} L {_wheel_point(start, WHEEL_RADIUS)} "
            f"A {WHEEL_RADIUS} {WHEEL_RADIUS} 0 {1 if sweep > 180 else 0} 1 "
            f"{_wheel_point(end, WHEEL_RADIUS)} Z"
        )
        segments.append(
            {
                **cell,
                "path": path if n > 1 else "",
                "rotate": f"{start + sweep / 2:.2f}",
                "colour": WHEEL_COLOURS[cell["index"] % 2]
                if n % 2 == 0 or cell["index"] != n - 1
                else "#ffe7b0",
            }
        )
    return segments


def grid_style(campaign: LotteryCampaign, cells: list[dict]) -> bool:
    return campaign.style == LotteryCampaign.Style.GRID and len(cells) == GRID_CELLS


def draw_message(draw: LotteryDraw) -> str:
    """A message on winning (or not)."""
    prize = draw.prize
    if prize is None or prize.kind == LotteryPrize.Kind.NOTHING:
        return _("No prize this time. Better luck next time!")
    if prize.kind == LotteryPrize.Kind.POINTS:
        return _("Congratulations! You won %(prize)s: %(points)s points are in your account.") % {
            "prize": prize.name,
            "points": prize.points,
        }
    if prize.kind == LotteryPrize.Kind.COUPON:
        return _("Congratulations! You won %(prize)s: the coupon is in your coupons.") % {
            "prize": prize.name
        }
    return _(
        "Congratulations! You won %(prize)s. Show the pickup code at the service desk to "
        "collect it."
    ) % {"prize": prize.name}


@require_GET
@member_required
def lottery_list(request):
    """抽奖活动: the campaigns open now and those announced, each with its window and cost."""
    now = timezone.now()
    campaigns = list(campaigns_for_member(member=request.member, now=now))
    return render(
        request,
        "h5/mall/lottery_list.html",
        {
            "current": [c for c in campaigns if c.starts_at <= now < c.ends_at],
            "upcoming": [c for c in campaigns if c.starts_at > now],
            "tab": "card",
        },
    )


@never_cache  # the balance and draws left must be today's, also after "back"
@require_GET
@member_required
def lottery_detail(request, pk: int):
    """The wheel or the grid, the odds and stock of each prize, the rules, the member's
    balance and draws left, the totals and the recent winners, all from real draws."""
    campaign = _published(pk)
    odds = campaign_odds(campaign)
    cells = display_cells(campaign, [row["prize"] for row in odds])
    refusal = draw_refusal(member=request.member, campaign=campaign)
    return render(
        request,
        "h5/mall/lottery_detail.html",
        {
            "campaign": campaign,
            "odds": odds,
            "cells": cells,
            "grid": grid_style(campaign, cells),
            "segments": wheel_segments(cells),
            "refusal": refusal,
            "balance": points_balance(member_id=request.member.pk),
            "draws_left": draws_left_today(member=request.member, campaign=campaign),
            "totals": campaign_totals(campaign=campaign),
            "winners": recent_winners(campaign=campaign, limit=20),
            "now": timezone.now(),
            "tab": "card",
        },
    )


def _json_member_required(view):
    """member_required for the script's calls: a JSON 403 instead of a sign-in redirect."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        member = current_member(request)
        if member is None:
            return JsonResponse(
                {"error": _("Please sign in again."), "code": "signed_out"}, status=403
            )
        request.member = member
        return view(request, *args, **kwargs)

    return wrapper


def _refused(message, code: str, status: int) -> JsonResponse:
    return JsonResponse({"error": str(message), "code": code}, status=status)


@never_cache
@require_POST
@_json_member_required
def lottery_draw(request, pk: int):
    """One draw (the page's 抽奖 button): JSON with the prize and the cell it sits in, or a
    4xx with the reason. The key, made per tap by the page and sent again on a retry, makes
    a retry return the first draw instead of drawing twice."""
    try:
        campaign = LotteryCampaign.objects.filter(published_at__isnull=False).get(pk=pk)
    except LotteryCampaign.DoesNotExist:
        return _refused(_("This campaign does not exist."), "not_found", 404)
    key = request.headers.get("X-Idempotency-Key") or request.POST.get("key", "")
    if not KEY.fullmatch(key):
        return _refused(_("The request was malformed; please reload the page."), "bad_key", 400)
    try:
        draw = lottery.lottery_draw(member=request.member, campaign=campaign, idempotency_key=key)
    except ServiceError as exc:  # LotteryError and InsufficientPoints
        return _refused(exc.message, exc.code, 400 if exc.code in BAD_REQUEST_CODES else 409)
    if draw.member_id != request.member.pk or draw.campaign_id != campaign.pk:
        return _refused(_("The request was malformed; please reload the page."), "bad_key", 400)
    odds = campaign_odds(campaign)
    cells = display_cells(campaign, [row["prize"] for row in odds])
    prize = draw.prize
    won = prize is not None and prize.kind != LotteryPrize.Kind.NOTHING
    answer = {
        "draw_id": draw.pk,
        "prize_id": prize.pk if prize else None,
        "prize_name": prize.name if prize else _("Better luck next time"),
        "kind": prize.kind if prize else LotteryPrize.Kind.NOTHING.value,
        "won": won,
        "index": cell_index(cells, draw),
        "balance": points_balance(member_id=request.member.pk),
        "draws_left": draws_left_today(member=request.member, campaign=campaign),
        "message": draw_message(draw),
        "stock": {str(row["prize"].pk): row["stock_left"] for row in odds},
        "totals": campaign_totals(campaign=campaign),
    }
    if draw.pickup_code:
        answer["pickup_code"] = draw.pickup_code
        answer["claim_until"] = (
            timezone.localtime(draw.claim_until).strftime("%Y-%m-%d %H:%M")
            if draw.claim_until
            else ""
        )
        answer["claim_rules"] = campaign.claim_rules
    refusal = draw_refusal(member=request.member, campaign=campaign)
    answer["refusal"] = str(refusal.message) if refusal else ""
    return JsonResponse(answer)


@require_GET
@member_required
def lottery_my_draws(request):
    """我的抽奖: the member's draws, newest first; physical prizes awaiting pickup show their
    code and the last day to claim them."""
    draws = member_draws(member=request.member).select_related("campaign", "prize", "coupon")[:100]
    return render(
        request,
        "h5/mall/lottery_my_draws.html",
        {"draws": draws, "tab": "card"},
    )
