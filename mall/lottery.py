"""The lottery (抽奖活动): draws, the staff's editing of campaigns and prizes, on-site winners
and the desk's hand-over of physical prizes.

A draw is one transaction, like a redemption (mall/redeeming.py). Lock order: the member's
points account first (the ledger's order: it serialises one member's draws, so the daily and
total limits and the idempotency key are re-checked under it), then the campaign row FOR
SHARE (edits hold it FOR UPDATE, so no draw sees a half-made edit), then the drawn prize's
stock row (one conditional UPDATE, backed by a CHECK), then a coupon template. The prize is
picked with a CSPRNG roll in [0, Σ weights) over the prizes in stock, in position order, and
the weights and roll are stored on the draw so anyone can recompute its result. A prize whose
stock ran out between the read and the UPDATE gives no prize. Any failure rolls everything
back: no points spent, no stock taken.

Prize-sales rules: a campaign and its prizes are edited only before `starts_at`; every edit
locks the campaign row and compares with the clock inside the transaction, so an edit cannot
slip past the start. A campaign with a store is for that store's members (their home store);
one without is for every member.
"""

import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.exceptions import PermissionDenied, ServiceError
from core.masking import mask_name
from core.retry import retry_on_deadlock
from coupons.issuing import CouponError, campaign_get_or_create, coupon_issue, validity_for
from coupons.models import Campaign, Coupon
from loyalty.ledger import (
    InsufficientPoints,
    account_get_or_create,
    points_balance,
    points_post,
    points_spend,
)
from loyalty.models import PointsAccount, PointsEntry
from mall.models import (
    PRIZE_VALUE_MAX_FEN,
    LotteryCampaign,
    LotteryDraw,
    LotteryOnSiteWinner,
    LotteryPrize,
    Redemption,
)
from mall.redeeming import CODE_LENGTH, pickup_code_new, pickup_code_normalise
from members.messaging import messages_send
from members.models import Member, Message
from stores.models import Store
from stores.scoping import scoped, store_lookups

KEY_MAX = 64
MY_DRAWS_PATH = "/m/lottery/draws/"  # until the H5 pages' URL is there to reverse
Kind = LotteryPrize.Kind
Status = LotteryDraw.Status

CAMPAIGN_FIELDS = {
    "name",
    "store",
    "style",
    "starts_at",
    "ends_at",
    "points_per_draw",
    "daily_limit",
    "total_limit",
    "rules",
    "claim_rules",
    "claim_days",
}
PRIZE_FIELDS = {
    "name",
    "kind",
    "weight",
    "stock",
    "points",
    "coupon_template",
    "value_fen",
    "image",
    "position",
}


class LotteryError(ServiceError):
    code = "lottery_error"


def _refuse(message, code, **params):
    raise LotteryError(message, code=code, params=params or None)


# --- The pick: pure, so a draw's audit row can be checked by anyone ---------------------------


def prize_pick(weights: list, roll: int) -> int | None:
    """The prize id of `weights` ([[prize_id, weight], …] in order) whose running weight sum
    first exceeds `roll`; None if the roll is past them all (nothing in stock)."""
    running = 0
    for prize_id, weight in weights:
        running += weight
        if roll < running:
            return prize_id
    return None


def draw_recompute(draw: LotteryDraw) -> int | None:
    """The prize id the draw's stored weights and roll give. It equals `draw.prize_id`, except
    where the roll gave a "nothing" prize or a prize whose last item went meanwhile: then the
    draw holds no prize."""
    return prize_pick(draw.weights, draw.roll)


def draw_ledger_key(*, member_id: int, key: str) -> str:
    """The entry spending a draw's points."""
    return f"lottery:draw:{member_id}:{key}"


def prize_ledger_key(*, draw_id: int) -> str:
    """The entry granting a points prize."""
    return f"lottery:prize:{draw_id}"


# --- Refusals: what the page shows before the tap, re-checked under the locks --------------


def _check_open(campaign: LotteryCampaign, now) -> None:
    if campaign.published_at is None or campaign.published_at > now:
        _refuse(_("This lottery is not available."), "not_published")
    if now < campaign.starts_at:
        _refuse(
            _("This lottery starts at %(start)s."),
            "not_started",
            start=timezone.localtime(campaign.starts_at).strftime("%Y-%m-%d %H:%M"),
        )
    if now >= campaign.ends_at:
        _refuse(_("This lottery has ended."), "ended")


def _check_member(member: Member, campaign: LotteryCampaign) -> None:
    if member.status != Member.Status.ACTIVE:
        _refuse(_("This membership is not active."), "member_inactive")
    if campaign.store_id and member.home_store_id != campaign.store_id:
        _refuse(
            _("This lottery is for members of %(store)s."),
            "wrong_store",
            store=campaign.store.name,
        )


def _draw_counts(member: Member, campaign: LotteryCampaign, today) -> tuple[int, int]:
    counts = LotteryDraw.objects.filter(campaign_id=campaign.pk, member_id=member.pk).aggregate(
        today=Count("id", filter=Q(drawn_on=today)), total=Count("id")
    )
    return counts["today"], counts["total"]


def _check_limits(member: Member, campaign: LotteryCampaign, today) -> None:
    today_count, total_count = _draw_counts(member, campaign, today)
    if campaign.total_limit and total_count >= campaign.total_limit:
        _refuse(
            _("You have used all %(limit)s draws of this lottery."),
            "total_limit",
            limit=campaign.total_limit,
        )
    if today_count >= campaign.daily_limit:
        _refuse(
            _("You have used today's %(limit)s draws; come back tomorrow."),
            "daily_limit",
            limit=campaign.daily_limit,
        )


def _coupon_issuable(prize: LotteryPrize, member: Member, now) -> bool:
    """Whether the prize's coupon can reach this member now (template active and valid, some
    left, the member below its limit): a coupon prize that cannot is out of this draw."""
    template = prize.coupon_template
    if not template.is_active or validity_for(template, now)[1] <= now:
        return False
    if template.total_quantity is not None and template.issued_count >= template.total_quantity:
        return False
    if template.per_member_limit:
        held = Coupon.objects.filter(template=template, member_id=member.pk).count()
        return held < template.per_member_limit
    return True


def _prizes_in_stock(campaign: LotteryCampaign, member: Member, now) -> list[LotteryPrize]:
    prizes = (
        LotteryPrize.objects.filter(campaign_id=campaign.pk)
        .filter(Q(stock__isnull=True) | Q(stock__gt=0))
        .select_related("coupon_template")
        .order_by("position", "id")
    )
    return [p for p in prizes if p.kind != Kind.COUPON or _coupon_issuable(p, member, now)]


def _check_prizes_left(prizes: list[LotteryPrize]) -> None:
    # Nobody pays for a certain "no prize": once every real prize is gone, draws stop.
    if not any(p.kind != Kind.NOTHING for p in prizes):
        _refuse(_("All prizes of this lottery have been drawn."), "sold_out")


def draw_refusal(*, member: Member, campaign: LotteryCampaign) -> ServiceError | None:
    """Why lottery_draw would refuse this member now (for the page: the button and its
    reason), or None. A read without locks: lottery_draw checks everything again under them."""
    now = timezone.now()
    try:
        _check_open(campaign, now)
        _check_member(member, campaign)
        _check_limits(member, campaign, timezone.localdate(now))
        _check_prizes_left(_prizes_in_stock(campaign, member, now))
        if points_balance(member_id=member.pk) < campaign.points_per_draw:
            raise InsufficientPoints()
    except (LotteryError, InsufficientPoints) as refused:
        return refused
    return None


def draws_left_today(*, member: Member, campaign: LotteryCampaign) -> int | None:
    """How many more draws the limits allow the member today; None while the campaign is not
    open (unpublished, not started or ended)."""
    now = timezone.now()
    try:
        _check_open(campaign, now)
    except LotteryError:
        return None
    today_count, total_count = _draw_counts(member, campaign, timezone.localdate(now))
    left = max(0, campaign.daily_limit - today_count)
    if campaign.total_limit:
        left = min(left, max(0, campaign.total_limit - total_count))
    return left


# --- The draw ---------------------------------------------------------------------------------


@retry_on_deadlock
def lottery_draw(*, member: Member, campaign: LotteryCampaign, idempotency_key: str) -> LotteryDraw:
    """Spend the campaign's points for one draw, pick a prize in stock by weight with a CSPRNG,
    take its stock, grant it (points, a coupon or a pickup code), record the draw and message
    a winner; or change nothing (LotteryError, InsufficientPoints). The same key again returns
    the first draw. Locks the points account, the campaign (shared), the prize's stock row."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > KEY_MAX:
        _refuse(_("This draw request is invalid; reload the page."), "bad_key")
    with transaction.atomic():
        locked = PointsAccount.objects.select_for_update().filter(member_id=member.pk)
        if not locked.values_list("pk", flat=True).first():
            account_get_or_create(member_id=member.pk)
            locked.values_list("pk", flat=True).first()
        # Race condition: a retry of the same key may have committed while we waited.
        existing = _replay(member=member, key=key, campaign=campaign)
        if existing is not None:
            return existing
        campaign = _campaign_shared(campaign.pk)
        member = Member.objects.get(pk=member.pk)
        now = timezone.now()
        _check_open(campaign, now)
        _check_member(member, campaign)
        today = timezone.localdate(now)
        _check_limits(member, campaign, today)
        prizes = _prizes_in_stock(campaign, member, now)
        _check_prizes_left(prizes)
        ledger_key = draw_ledger_key(member_id=member.pk, key=key)
        points_spend(
            member_id=member.pk,
            points=campaign.points_per_draw,
            kind=PointsEntry.Kind.LOTTERY,
            key=ledger_key,
            memo=campaign.name,
        )
        weights = [[p.pk, p.weight] for p in prizes]
        roll = secrets.randbelow(sum(w for _p, w in weights))
        picked = next(p for p in prizes if p.pk == prize_pick(weights, roll))
        prize = None
        if picked.kind != Kind.NOTHING and _stock_take(picked):
            prize = picked
        draw = LotteryDraw.objects.create(
            campaign=campaign,
            member=member,
            key=f"{member.pk}:{key}",
            drawn_on=today,
            points_spent=campaign.points_per_draw,
            ledger_key=ledger_key,
            weights=weights,
            roll=roll,
            prize=prize,
            status=Status.NOTHING if prize is None else Status.GRANTED,
            created_at=now,
        )
        if prize is not None:
            _grant(draw, prize, member=member, campaign=campaign, now=now)
            _message_won(draw)
    return draw


def _replay(*, member: Member, key: str, campaign: LotteryCampaign) -> LotteryDraw | None:
    """The draw already made under `key`; a key reused for another campaign is refused."""
    draw = LotteryDraw.objects.filter(key=f"{member.pk}:{key}").first()
    if draw is not None and draw.campaign_id != campaign.pk:
        _refuse(_("This request was already used for another draw."), "key_reused")
    return draw


def _campaign_shared(pk: int) -> LotteryCampaign:
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT 1 FROM mall_lotterycampaign WHERE id = %s FOR SHARE", [pk])
    return LotteryCampaign.objects.select_related("store").get(pk=pk)


def _stock_take(prize: LotteryPrize) -> bool:
    """One item off the prize's stock unless it ran out meanwhile (Postgres re-checks the
    WHERE clause against the committed row)."""
    taken = LotteryPrize.objects.filter(pk=prize.pk, stock__gt=0).update(stock=F("stock") - 1)
    return taken == 1


def _grant(draw: LotteryDraw, prize: LotteryPrize, *, member, campaign, now) -> None:
    if prize.kind == Kind.POINTS:
        draw.grant_ledger_key = prize_ledger_key(draw_id=draw.pk)
        points_post(
            member_id=member.pk,
            kind=PointsEntry.Kind.LOTTERY,
            points=prize.points,
            key=draw.grant_ledger_key,
            memo=f"{campaign.name} {prize.name}"[:200],
        )
    elif prize.kind == Kind.COUPON:
        coupons_campaign = campaign_get_or_create(
            channel=Campaign.Channel.LOTTERY,
            name=str(_("Lottery %(id)s: %(name)s") % {"id": campaign.pk, "name": campaign.name}),
        )
        try:
            draw.coupon = coupon_issue(
                template=prize.coupon_template,
                member=member,
                campaign=coupons_campaign,
                key=f"lottery:{draw.pk}:{member.pk}",
            )
        except CouponError:
            # Issued to the limit by someone else since the check: the whole draw is undone.
            _refuse(_("This prize cannot be granted right now; try again."), "prize_unavailable")
    else:
        draw.status = Status.PENDING_PICKUP
        draw.pickup_code = _unused_code()
        draw.claim_until = now + timedelta(days=campaign.claim_days)
    draw.save(update_fields=["status", "grant_ledger_key", "coupon", "pickup_code", "claim_until"])


def _unused_code() -> str:
    """A pickup code used neither by a redemption nor by another draw: the desk reads both."""
    while True:
        code = pickup_code_new()
        if not (
            Redemption.objects.filter(code=code).exists()
            or LotteryDraw.objects.filter(pickup_code=code).exists()
        ):
            return code


def my_draws_link() -> str:
    try:
        return reverse("h5:lottery_my_draws")
    except NoReverseMatch:
        return MY_DRAWS_PATH


def _message_won(draw: LotteryDraw) -> None:
    prize, campaign = draw.prize, draw.campaign
    params = {"prize": prize.name, "campaign": campaign.name}
    if prize.kind == Kind.POINTS:
        body = _("You won %(points)s points in %(campaign)s; they are in your account now.")
        params["points"] = prize.points
    elif prize.kind == Kind.COUPON:
        body = _("You won %(prize)s in %(campaign)s; the coupon is in your coupons now.")
    else:
        body = _(
            "You won %(prize)s in %(campaign)s. Pick it up at the service desk with the code "
            "%(code)s by %(until)s. %(claim)s"
        )
        params |= {
            "code": draw.pickup_code,
            "until": timezone.localtime(draw.claim_until).strftime("%Y-%m-%d"),
            "claim": campaign.claim_rules,
        }
    messages_send(
        members=Member.objects.filter(pk=draw.member_id),
        kind=Message.Kind.LOTTERY,
        title=_("You won: %(prize)s"),
        body=body,
        link=my_draws_link(),
        params=params,
    )


# --- Staff: campaigns and prizes, editable until the start -----------------------------------


def _require(actor, perm: str) -> None:
    if not (actor is not None and actor.is_active and actor.has_perm(perm)):
        raise PermissionDenied()


def _require_store(actor, store: Store | None) -> None:
    """A campaign of one store is its staff's; one for every store needs a mall-wide scope."""
    lookups = store_lookups(actor)
    if lookups is None:
        raise PermissionDenied()
    if store is None:
        if lookups:
            raise PermissionDenied()
        return
    if not scoped(Store.objects, user=actor, store_field="").filter(pk=store.pk).exists():
        raise PermissionDenied()


def _frozen_check(campaign: LotteryCampaign) -> None:
    if campaign.is_frozen(timezone.now()):
        _refuse(
            _("This lottery has started: its rules and prizes can no longer be changed."),
            "frozen",
        )


def _campaign_locked(pk: int, actor) -> LotteryCampaign:
    campaign = (
        LotteryCampaign.objects.select_for_update(of=("self",)).select_related("store").get(pk=pk)
    )
    _require_store(actor, campaign.store)
    _frozen_check(campaign)
    return campaign


def _unknown(fields: dict, allowed: set) -> None:
    extra = set(fields) - allowed
    if extra:
        raise TypeError(f"unknown fields: {sorted(extra)}")


def _campaign_clean(campaign: LotteryCampaign, now) -> None:
    campaign.name = (campaign.name or "").strip()
    campaign.rules = (campaign.rules or "").strip()
    if not campaign.name or len(campaign.name) > 40:
        _refuse(_("Enter a name of at most 40 characters."), "name")
    if campaign.style not in LotteryCampaign.Style.values:
        _refuse(_("Choose a wheel or a grid."), "style")
    if not campaign.starts_at or not campaign.ends_at or campaign.ends_at <= campaign.starts_at:
        _refuse(_("The end must come after the start."), "window")
    if campaign.starts_at <= now:
        _refuse(_("The start must be in the future: the rules are published before it."), "start")
    for field, low in (("points_per_draw", 1), ("daily_limit", 1), ("total_limit", 0)):
        value = getattr(campaign, field)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            _refuse(_("Enter a whole number of at least %(low)s."), field, low=low)
    if campaign.total_limit and campaign.total_limit < campaign.daily_limit:
        _refuse(_("The total limit cannot be below the daily limit."), "total_limit")
    if not isinstance(campaign.claim_days, int) or campaign.claim_days < 1:
        _refuse(_("Give members at least one day to claim a prize."), "claim_days")
    if not campaign.rules:
        _refuse(_("Write the rules members read before drawing."), "rules")


def campaign_create(*, actor, **fields) -> LotteryCampaign:
    """A new, unpublished campaign (prizes are added next), audited."""
    _require(actor, "mall.add_lotterycampaign")
    _unknown(fields, CAMPAIGN_FIELDS)
    campaign = LotteryCampaign(created_by=actor, **fields)
    _require_store(actor, campaign.store)
    _campaign_clean(campaign, timezone.now())
    with transaction.atomic():
        campaign.save()
        audit_log(
            actor=actor,
            action="mall.lottery.created",
            target=campaign,
            data={"name": campaign.name, "starts_at": campaign.starts_at.isoformat()},
        )
    return campaign


def campaign_update(*, campaign: LotteryCampaign, actor, **fields) -> LotteryCampaign:
    """Change a campaign before its start (refused with "frozen" after it). Locks the campaign."""
    _require(actor, "mall.change_lotterycampaign")
    _unknown(fields, CAMPAIGN_FIELDS)
    with transaction.atomic():
        campaign = _campaign_locked(campaign.pk, actor)
        before = {f: _plain(getattr(campaign, f)) for f in fields}
        for field, value in fields.items():
            setattr(campaign, field, value)
        if "store" in fields:
            _require_store(actor, campaign.store)
        _campaign_clean(campaign, timezone.now())
        campaign.save()
        audit_log(
            actor=actor,
            action="mall.lottery.updated",
            target=campaign,
            data={
                f: [before[f], _plain(getattr(campaign, f))]
                for f in fields
                if before[f] != _plain(getattr(campaign, f))
            },
        )
    return campaign


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "name") and not isinstance(value, str):  # a file
        return value.name
    return value


def campaign_publish(*, campaign: LotteryCampaign, actor) -> LotteryCampaign:
    """Show the campaign, its prizes, odds and rules to members, before its start. Locks it."""
    _require(actor, "mall.change_lotterycampaign")
    with transaction.atomic():
        campaign = _campaign_locked(campaign.pk, actor)
        if campaign.published_at is not None:
            return campaign
        if not campaign.prizes.exclude(kind=Kind.NOTHING).exists():
            _refuse(_("Add at least one prize before publishing."), "no_prizes")
        if campaign.prizes.filter(kind=Kind.GOODS).exists() and not campaign.claim_rules.strip():
            _refuse(
                _("Say where and until when physical prizes are picked up before publishing."),
                "claim_rules",
            )
        campaign.published_at = timezone.now()
        campaign.save(update_fields=["published_at"])
        audit_log(actor=actor, action="mall.lottery.published", target=campaign)
    return campaign


def _prize_clean(prize: LotteryPrize) -> None:
    prize.name = (prize.name or "").strip()
    if not prize.name or len(prize.name) > 32:
        _refuse(_("Enter a prize name of at most 32 characters."), "name")
    if prize.kind not in Kind.values:
        _refuse(_("Choose the kind of prize."), "kind")
    if not isinstance(prize.weight, int) or isinstance(prize.weight, bool) or prize.weight < 1:
        _refuse(_("The weight must be a whole number above 0."), "weight")
    if not isinstance(prize.value_fen, int) or prize.value_fen < 0:
        _refuse(_("Enter the prize's value in yuan."), "value")
    if prize.value_fen > PRIZE_VALUE_MAX_FEN:
        _refuse(_("No prize may be worth more than ¥50,000."), "value_cap")
    if prize.kind == Kind.NOTHING:
        # "No prize" is never used up: its share stays in the draw to the end.
        prize.points, prize.coupon_template, prize.stock = 0, None, None
    elif prize.stock is None:
        _refuse(_("Enter how many of this prize there are."), "stock")
    if prize.stock is not None and (not isinstance(prize.stock, int) or prize.stock < 0):
        _refuse(_("The quantity cannot be below 0."), "stock")
    if prize.kind == Kind.POINTS:
        if not isinstance(prize.points, int) or prize.points < 1:
            _refuse(_("Enter the points this prize grants."), "points")
    else:
        prize.points = 0
    if prize.kind == Kind.COUPON:
        if prize.coupon_template is None:
            _refuse(_("Choose the coupon this prize issues."), "coupon_template")
        if not prize.coupon_template.is_active:
            _refuse(_("This coupon is not active."), "coupon_template")
    else:
        prize.coupon_template = None
    prize.initial_stock = prize.stock  # nothing is drawn before the start


def prize_create(*, campaign: LotteryCampaign, actor, **fields) -> LotteryPrize:
    """Add a prize to a campaign before its start. Locks the campaign."""
    _require(actor, "mall.add_lotteryprize")
    _unknown(fields, PRIZE_FIELDS)
    with transaction.atomic():
        campaign = _campaign_locked(campaign.pk, actor)
        prize = LotteryPrize(campaign=campaign, **fields)
        _prize_clean(prize)
        prize.save()
        audit_log(
            actor=actor,
            action="mall.lottery.prize_created",
            target=campaign,
            data=_prize_data(prize),
        )
    return prize


def prize_update(*, prize: LotteryPrize, actor, **fields) -> LotteryPrize:
    """Change a prize before its campaign's start. Locks the campaign, then the prize."""
    _require(actor, "mall.change_lotteryprize")
    _unknown(fields, PRIZE_FIELDS)
    with transaction.atomic():
        campaign = _campaign_locked(prize.campaign_id, actor)
        prize = LotteryPrize.objects.select_for_update().get(pk=prize.pk)
        before = _prize_data(prize)
        for field, value in fields.items():
            setattr(prize, field, value)
        _prize_clean(prize)
        prize.save()
        after = _prize_data(prize)
        audit_log(
            actor=actor,
            action="mall.lottery.prize_updated",
            target=campaign,
            data={"prize": prize.pk}
            | {f: [before[f], after[f]] for f in after if before[f] != after[f]},
        )
    return prize


def prize_delete(*, prize: LotteryPrize, actor) -> None:
    """Remove a prize before its campaign's start. Locks the campaign."""
    _require(actor, "mall.delete_lotteryprize")
    with transaction.atomic():
        campaign = _campaign_locked(prize.campaign_id, actor)
        prize = LotteryPrize.objects.select_for_update().get(pk=prize.pk)
        data = _prize_data(prize) | {"prize": prize.pk}
        prize.delete()
        audit_log(actor=actor, action="mall.lottery.prize_deleted", target=campaign, data=data)


def _prize_data(prize: LotteryPrize) -> dict:
    return {
        "name": prize.name,
        "kind": prize.kind,
        "weight": prize.weight,
        "stock": prize.stock,
        "points": prize.points,
        "coupon_template": prize.coupon_template_id,
        "value_fen": prize.value_fen,
        "image": prize.image.name if prize.image else "",
        "position": prize.position,
    }


# --- Staff: on-site winners, the desk's hand-over -----------------------------------------


def on_site_winner_record(
    *,
    campaign: LotteryCampaign,
    actor,
    prize_name: str,
    winner_name: str,
    drawn_at,
    member: Member | None = None,
    note: str = "",
) -> LotteryOnSiteWinner:
    """Record a winner of an on-site draw (现场抽奖) held since the campaign started; always
    shown as such, never counted as a draw."""
    _require(actor, "mall.add_lotteryonsitewinner")
    _require_store(actor, campaign.store)
    prize_name, winner_name = (prize_name or "").strip(), (winner_name or "").strip()
    if not prize_name or len(prize_name) > 32:
        _refuse(_("Enter the prize, at most 32 characters."), "prize_name")
    if not winner_name or len(winner_name) > 32:
        _refuse(_("Enter the winner's name, at most 32 characters."), "winner_name")
    now = timezone.now()
    if now < campaign.starts_at:
        _refuse(_("On-site winners are recorded once the lottery has started."), "not_started")
    if drawn_at is None or not campaign.starts_at <= drawn_at <= now:
        _refuse(_("The on-site draw must lie between the start and now."), "drawn_at")
    with transaction.atomic():
        winner = LotteryOnSiteWinner.objects.create(
            campaign=campaign,
            prize_name=prize_name,
            winner_name=winner_name,
            member=member,
            drawn_at=drawn_at,
            note=(note or "").strip()[:200],
            recorded_by=actor,
            recorded_at=now,
        )
        audit_log(
            actor=actor,
            action="mall.lottery.on_site_winner",
            target=campaign,
            data={"winner": winner.pk, "prize": prize_name, "member": getattr(member, "pk", None)},
        )
    return winner


def draw_pickup_verify(*, code: str, actor, store: Store | None = None) -> LotteryDraw:
    """Hand a physical prize over at the desk of `store` (default: the campaign's store, or the
    actor's one store): its pickup code, awaiting pickup, within the claim period, of a
    campaign in the actor's stores (a campaign for every store: any store's desk). Locks the
    draw row."""
    _require(actor, "mall.verify_redemption")
    code = pickup_code_normalise(code)
    if len(code) != CODE_LENGTH:
        _refuse(_("Enter the %(length)s-character pickup code."), "code", length=CODE_LENGTH)
    mine = scoped(Store.objects, user=actor, store_field="")
    with transaction.atomic():
        draw = (
            LotteryDraw.objects.select_for_update(of=("self",))
            .select_related("campaign", "prize", "member")
            .filter(pickup_code=code)
            .filter(Q(campaign__store__in=mine) | Q(campaign__store__isnull=True))
            .first()
        )
        if draw is None or not mine.exists():
            _refuse(_("No lottery prize with this pickup code at your stores."), "unknown_code")
        now = timezone.now()
        if draw.status == Status.PICKED_UP:
            _refuse(
                _("This prize was already picked up at %(at)s."),
                "picked_up",
                at=timezone.localtime(draw.picked_up_at).strftime("%Y-%m-%d %H:%M"),
            )
        if draw.status == Status.EXPIRED or (draw.claim_until and draw.claim_until <= now):
            _refuse(
                _("The time to claim this prize ended at %(until)s."),
                "expired",
                until=timezone.localtime(draw.claim_until).strftime("%Y-%m-%d %H:%M"),
            )
        if draw.status != Status.PENDING_PICKUP:
            _refuse(_("This prize is not awaiting pickup."), "not_pending")
        desk = store or draw.campaign.store
        if desk is None:
            stores = list(mine[:2])
            desk = stores[0] if len(stores) == 1 else None
        elif not mine.filter(pk=desk.pk).exists():
            raise PermissionDenied()
        draw.status, draw.picked_up_at, draw.picked_up_by = Status.PICKED_UP, now, actor
        draw.picked_up_store = desk
        draw.save(update_fields=["status", "picked_up_at", "picked_up_by", "picked_up_store"])
        audit_log(
            actor=actor,
            action="mall.lottery.prize_picked_up",
            target=draw,
            data={"code": code, "store": getattr(desk, "code", "")},
        )
    return draw


def lottery_draws_expire(*, now=None) -> int:
    """Physical prizes not claimed by their date become expired (their stock stays drawn:
    the campaign's quantities were published). Returns how many."""
    now = now or timezone.now()
    return LotteryDraw.objects.filter(status=Status.PENDING_PICKUP, claim_until__lte=now).update(
        status=Status.EXPIRED
    )


# --- The member's data --------------------------------------------------------------------


def member_draws_erase(*, member_id: int) -> dict:
    """An account being deleted (注销): the names staff typed for its on-site wins are cut to
    their masked form; the draws stay (stock, points and the audit of the draws)."""
    count = 0
    for winner in LotteryOnSiteWinner.objects.filter(member_id=member_id):
        masked = mask_name(winner.winner_name)
        if masked != winner.winner_name:
            winner.winner_name = masked
            winner.save(update_fields=["winner_name"])
            count += 1
    return {"on_site_winner_names": count}
