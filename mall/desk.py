"""What the service desk (兑换核销) reads before it hands a good over: the redemption of a
pickup code at one of the user's stores, or else the lottery draw whose physical prize has
that pickup code (the two kinds of code never collide), and in words why it cannot be handed
over now. A read without locks: redemption_verify and draw_pickup_verify check everything
again under their locks."""

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.models import Goods, LotteryDraw, Redemption
from mall.redeeming import CODE_LENGTH, pickup_code_normalise
from members.models import Member
from members.selectors import members_search
from stores.models import Store
from stores.scoping import scoped

Status = Redemption.Status
DrawStatus = LotteryDraw.Status


@dataclass(frozen=True)
class DeskLookup:
    code: str
    redemption: Redemption | None
    refusal: str  # "" when it can be handed over
    draw: LotteryDraw | None = None  # a lottery prize's pickup code, when no redemption has it


def _when(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def desk_lookup(*, raw_code: str, user) -> DeskLookup:
    """The redemption of `raw_code` (case, spaces and dashes forgiven) picked up at one of
    `user`'s stores, else the lottery draw of a campaign of theirs (or for every store) whose
    prize has that pickup code, and why it cannot be handed over, if it cannot. Another
    store's code is as unknown as a made-up one."""
    code = pickup_code_normalise(raw_code)
    if len(code) != CODE_LENGTH:
        return DeskLookup(
            code,
            None,
            str(_("Enter the %(length)s-character pickup code.") % {"length": CODE_LENGTH}),
        )
    redemption = (
        scoped(Redemption.objects.all(), user=user, store_field="pickup_store")
        .select_related("goods", "member", "pickup_store", "verified_by__staff_profile")
        .filter(code=code)
        .first()
    )
    if redemption is None:
        draw = desk_draw(code=code, user=user)
        if draw is not None:
            return DeskLookup(code, None, draw_refusal_at_desk(draw), draw=draw)
        return DeskLookup(
            code, None, str(_("No redemption or prize with this pickup code at your stores."))
        )
    refusal = ""
    if redemption.status == Status.PICKED_UP:
        refusal = _("Already picked up on %(when)s.") % {"when": _when(redemption.verified_at)}
    elif redemption.status == Status.CANCELLED:
        refusal = _("This redemption was cancelled: %(reason)s") % {
            "reason": redemption.cancel_reason
        }
    elif redemption.status != Status.PENDING_PICKUP:
        refusal = _("This redemption is %(status)s, not awaiting pickup.") % {
            "status": redemption.get_status_display()
        }
    return DeskLookup(code, redemption, str(refusal))


def desk_draw(*, code: str, user) -> LotteryDraw | None:
    """The draw whose physical prize has the (normalised) pickup `code`, of a campaign at one
    of `user`'s stores or for every store, scoped as draw_pickup_verify scopes it."""
    mine = scoped(Store.objects.all(), user=user, store_field="")
    if not mine.exists():
        return None
    return (
        LotteryDraw.objects.select_related(
            "campaign", "prize", "member", "picked_up_by__staff_profile", "picked_up_store"
        )
        .filter(pickup_code=code)
        .filter(Q(campaign__store__in=mine) | Q(campaign__store__isnull=True))
        .first()
    )


def draw_refusal_at_desk(draw: LotteryDraw, *, now=None) -> str:
    """Why the desk cannot hand `draw`'s prize over now, in the words draw_pickup_verify
    refuses it with; "" when it can."""
    now = now or timezone.now()
    if draw.status == DrawStatus.PICKED_UP:
        return str(
            _("This prize was already picked up at %(at)s.") % {"at": _when(draw.picked_up_at)}
        )
    if draw.claim_until and (draw.status == DrawStatus.EXPIRED or draw.claim_until <= now):
        return str(
            _("The time to claim this prize ended at %(until)s.")
            % {"until": _when(draw.claim_until)}
        )
    if draw.status != DrawStatus.PENDING_PICKUP:
        return str(_("This prize is not awaiting pickup."))
    return ""


def desk_member(query: str) -> Member | None:
    """The active member with exactly this card number or phone (no partial matches). The
    member stands at the desk; what is shown of them stays masked."""
    return (
        members_search(Member.objects.filter(status=Member.Status.ACTIVE), query)
        .order_by("pk")
        .first()
    )


def desk_goods(*, user, now=None):
    """Goods the desk can hand over now at one of `user`'s stores: things on the shelf,
    picked up, at a store of theirs (or at any store when the good names none)."""
    now = now or timezone.now()
    stores = scoped(Store.objects.all(), user=user, store_field="").values("pk")
    return (
        Goods.objects.filter(is_active=True, kind=Goods.Kind.THING, offers_pickup=True)
        .filter(Q(shelf_from__isnull=True) | Q(shelf_from__lte=now))
        .filter(Q(shelf_until__isnull=True) | Q(shelf_until__gt=now))
        .filter(Q(pickup_stores__in=stores) | Q(pickup_stores__isnull=True))
        .distinct()
        .order_by("position", "id")
    )
