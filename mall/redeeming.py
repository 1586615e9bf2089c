"""Redeeming points-mall goods, and what staff do with redemptions afterwards.

A redemption is one transaction: the member's points account row is locked first (the ledger's
lock order), which serialises one member's redemptions so the per-member limit and an
idempotency key are re-checked under the lock; then the stock moves by one conditional UPDATE
(`stock >= qty`, backed by a CHECK), the points are spent through loyalty.ledger, a coupon good
issues its coupons through coupons.issuing, and the member gets a message. Any failure rolls
all of it back: no points spent, no stock taken. Lock order everywhere: points account, goods,
coupon template; cancelling locks the redemption row before those.
"""

import secrets
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.exceptions import PermissionDenied, ServiceError
from core.retry import retry_on_deadlock
from coupons.issuing import campaign_get_or_create, coupon_issue
from coupons.models import Campaign, Coupon
from coupons.redeeming import coupon_void
from loyalty.ledger import (
    InsufficientPoints,
    account_get_or_create,
    points_balance,
    points_post,
    points_spend,
)
from loyalty.models import PointsAccount, PointsEntry
from mall.models import Goods, LotteryDraw, Redemption, RedemptionEvent
from mall.selectors import redemptions_scoped
from members.messaging import messages_send
from members.models import DeliveryAddress, Member, Message
from stores.models import Store
from stores.scoping import scoped

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, no 1/I: read aloud at the desk
CODE_LENGTH = 10  # 50 random bits
QTY_MAX = 99
Status = Redemption.Status
Delivery = Redemption.Delivery


class RedemptionError(ServiceError):
    code = "redemption_error"


def pickup_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def pickup_code_normalise(raw: str) -> str:
    """What staff typed or scanned: spaces, dashes and case forgiven."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:CODE_LENGTH]


def redeem_ledger_key(*, member_id: int, key: str) -> str:
    return f"redeem:mall:{member_id}:{key}"


def cancel_ledger_key(*, redemption_id: int) -> str:
    return f"refund:mall:{redemption_id}"


def _refuse(message, code, **params):
    raise RedemptionError(message, code=code, params=params or None)


def _check_on_shelf(goods: Goods, now) -> None:
    if not goods.is_active:
        _refuse(_("This item is no longer available."), "inactive")
    if goods.shelf_from and now < goods.shelf_from:
        _refuse(_("This item is not on the shelf yet."), "not_yet")
    if goods.shelf_until and now >= goods.shelf_until:
        _refuse(_("This item is no longer on the shelf."), "off_shelf")


def express_missing(*, member: Member, address: DeliveryAddress | None) -> list[str]:
    """What the member must complete before goods can be sent: a name, a mobile number and a
    delivery address (the minimum a courier needs; the rest of the profile is optional)."""
    missing = []
    if not member.name:
        missing.append(str(_("Name")))
    if not member.phone:
        missing.append(str(_("Mobile number")))
    if address is None:
        missing.append(str(_("Delivery address")))
    return missing


def _address_snapshot(address: DeliveryAddress) -> dict:
    return {
        "recipient": address.recipient,
        "phone": address.phone,
        "region": address.region,
        "detail": address.detail,
    }


def _pickup_store_for(goods: Goods, member: Member, wanted: Store | None) -> Store:
    allowed = list(goods.pickup_stores.filter(is_active=True))
    if wanted is not None:
        if allowed and wanted.pk not in {s.pk for s in allowed}:
            _refuse(_("This item cannot be picked up at %(store)s."), "store", store=wanted.name)
        return wanted
    if len(allowed) == 1:
        return allowed[0]
    home = member.home_store
    if home is not None and (not allowed or home.pk in {s.pk for s in allowed}):
        return home
    _refuse(_("Choose the store where you will pick it up."), "store_required")
    return None  # unreachable


def _check_limit(member: Member, goods: Goods, qty: int) -> None:
    if goods.per_member_limit:
        held = redeemed_qty(member_id=member.pk, goods_id=goods.pk)
        if held + qty > goods.per_member_limit:
            _refuse(
                _("You can redeem at most %(limit)s of this item; you have %(held)s."),
                "limit",
                limit=goods.per_member_limit,
                held=held,
            )


def _stock_take(goods: Goods, qty: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mall_goods SET stock = stock - %s WHERE id = %s AND stock >= %s",
            [qty, goods.pk, qty],
        )
        return cursor.rowcount == 1


def _stock_return(goods_id: int, qty: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE mall_goods SET stock = stock + %s WHERE id = %s", [qty, goods_id])


def redeemed_qty(*, member_id: int, goods_id: int) -> int:
    """How many of a good the member holds (cancelled redemptions given back)."""
    return (
        Redemption.objects.filter(member_id=member_id, goods_id=goods_id)
        .exclude(status=Status.CANCELLED)
        .aggregate(n=Sum("qty"))["n"]
        or 0
    )


def redeem_refusal(*, member: Member, goods: Goods, qty: int = 1) -> ServiceError | None:
    """Why goods_redeem would refuse this now (for pages: the button and its reason), or None.
    A read without locks: goods_redeem checks everything again under them."""
    try:
        _check_on_shelf(goods, timezone.now())
        _check_limit(member, goods, qty)
        if goods.stock < qty:
            _refuse(_("Sorry, this item is out of stock."), "out_of_stock")
        if points_balance(member_id=member.pk) < goods.points_price * qty:
            raise InsufficientPoints()
    except (RedemptionError, InsufficientPoints) as refused:
        return refused
    return None


@retry_on_deadlock
def goods_redeem(
    *,
    member: Member,
    goods: Goods,
    qty: int = 1,
    delivery: str,
    address: DeliveryAddress | None = None,
    pickup_store: Store | None = None,
    idempotency_key: str,
    actor=None,
    now: datetime | None = None,
) -> Redemption:
    """Spend the member's points on `qty` of `goods`: take the stock, record the redemption
    (issuing the coupons of a coupon good) and message the member, or change nothing.
    The same `idempotency_key` again returns the first redemption; `now` dates it (the demo's
    history; default the present). Locks the member's points account, then the goods' stock
    row."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise ValueError("an idempotency key of 1 to 64 characters")
    existing = _replay(member=member, key=key, goods=goods, qty=qty)
    if existing is not None:
        return existing
    if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= QTY_MAX:
        _refuse(_("Choose a quantity from 1 to %(max)s."), "qty", max=QTY_MAX)
    if member.status != Member.Status.ACTIVE:
        _refuse(_("This membership is not active."), "member_inactive")
    now = now or timezone.now()
    _check_on_shelf(goods, now)
    is_coupon = goods.kind == Goods.Kind.COUPON
    snapshot, store = {}, None
    if is_coupon:
        delivery = Delivery.COUPON
    elif delivery == Delivery.PICKUP:
        if not goods.offers_pickup:
            _refuse(_("This item cannot be picked up; choose express delivery."), "no_pickup")
        store = _pickup_store_for(goods, member, pickup_store)
    elif delivery == Delivery.EXPRESS:
        if not goods.offers_express:
            _refuse(_("This item is not sent by express; pick it up at the desk."), "no_express")
        if address is None:
            address = member.addresses.filter(is_default=True).first()
        elif address.member_id != member.pk:
            _refuse(_("Choose one of your own delivery addresses."), "address")
        missing = express_missing(member=member, address=address)
        if missing:
            _refuse(
                _("To have it sent, first complete your profile: %(missing)s."),
                "profile_incomplete",
                missing="、".join(missing),
            )
        snapshot = _address_snapshot(address)
    else:
        _refuse(_("Choose how you want to receive it."), "delivery")
    points = goods.points_price * qty
    with transaction.atomic():
        account = account_get_or_create(member_id=member.pk)
        PointsAccount.objects.select_for_update().get(pk=account.pk)
        # Race condition: a retry of the same key may have committed while we waited.
        existing = _replay(member=member, key=key, goods=goods, qty=qty)
        if existing is not None:
            return existing
        goods = Goods.objects.get(pk=goods.pk)
        _check_on_shelf(goods, now)
        _check_limit(member, goods, qty)
        if not _stock_take(goods, qty):
            _refuse(_("Sorry, this item is out of stock."), "out_of_stock")
        ledger_key = redeem_ledger_key(member_id=member.pk, key=key)
        points_spend(
            member_id=member.pk,
            points=points,
            kind=PointsEntry.Kind.REDEEM,
            key=ledger_key,
            memo=f"{goods.name} ×{qty}"[:200],
            actor=actor,
            now=now,
        )
        redemption = Redemption.objects.create(
            code=_unused_code(),
            key=f"{member.pk}:{key}",
            member=member,
            goods=goods,
            qty=qty,
            points=points,
            delivery=delivery,
            status={
                Delivery.COUPON: Status.ISSUED,
                Delivery.PICKUP: Status.PENDING_PICKUP,
                Delivery.EXPRESS: Status.PENDING_SHIPMENT,
            }[delivery],
            pickup_store=store,
            address=snapshot,
            ledger_key=ledger_key,
            at_desk_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now,
        )
        if is_coupon:
            campaign = campaign_get_or_create(
                channel=Campaign.Channel.POINTS_MALL, name=str(_("Points mall"))
            )
            redemption.coupons.set(
                [
                    coupon_issue(
                        template=goods.coupon_template,
                        member=member,
                        campaign=campaign,
                        key=f"mall:{redemption.pk}-{i}:{member.pk}",
                    )
                    for i in range(qty)
                ]
            )
        _event(redemption, redemption.status, actor=actor, at=now)
        _message_redeemed(redemption)
    return redemption


def _replay(*, member: Member, key: str, goods: Goods, qty) -> Redemption | None:
    """The redemption already made under `key`; a key reused for another good or quantity
    is refused rather than answered with a redemption the caller did not ask for."""
    redemption = Redemption.objects.filter(key=f"{member.pk}:{key}").first()
    if redemption is not None and (redemption.goods_id, redemption.qty) != (goods.pk, qty):
        _refuse(_("This request was already used for another redemption."), "key_reused")
    return redemption


def _unused_code() -> str:
    """A pickup code no redemption and no lottery prize has: the desk looks both up by it."""
    while True:
        code = pickup_code_new()
        if (
            not Redemption.objects.filter(code=code).exists()
            and not LotteryDraw.objects.filter(pickup_code=code).exists()
        ):
            return code


def _event(redemption: Redemption, status: str, *, actor=None, note: str = "", at=None) -> None:
    RedemptionEvent.objects.create(
        redemption=redemption,
        status=status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=note[:200],
        created_at=at or timezone.now(),
    )


def redemption_link(redemption: Redemption) -> str:
    """The member's page of the redemption, for the messages about it."""
    return reverse("h5:points_redemption", kwargs={"code": redemption.code})


def _message_redeemed(redemption: Redemption) -> None:
    goods = redemption.goods
    params = {"goods": goods.name, "qty": redemption.qty, "points": redemption.points}
    if redemption.delivery == Delivery.PICKUP:
        body = _(
            "You redeemed %(goods)s ×%(qty)s for %(points)s points. Pick it up at %(store)s "
            "with the pickup code %(code)s. %(note)s"
        )
        params |= {
            "store": redemption.pickup_store.name,
            "code": redemption.code,
            "note": goods.pickup_note,
        }
    elif redemption.delivery == Delivery.EXPRESS:
        body = _(
            "You redeemed %(goods)s ×%(qty)s for %(points)s points. We will send it to "
            "%(address)s and tell you the tracking number. Order number %(code)s."
        )
        address = redemption.address
        params |= {"address": f"{address['region']} {address['detail']}", "code": redemption.code}
    else:
        body = _(
            "You redeemed %(goods)s ×%(qty)s for %(points)s points. The coupon is in your "
            "coupons now."
        )
    messages_send(
        members=Member.objects.filter(pk=redemption.member_id),
        kind=Message.Kind.REDEMPTION,
        title=_("Redeemed: %(goods)s"),
        body=body,
        link=redemption_link(redemption),
        params=params,
    )


# --- Staff: verify at the desk, ship, cancel, redeem on a member's behalf --------------------


def _require(actor, perm: str) -> None:
    if not (actor is not None and actor.is_active and actor.has_perm(perm)):
        raise PermissionDenied()


def _locked_in_scope(redemption_id: int, actor) -> Redemption:
    found = redemptions_scoped(
        Redemption.objects.select_for_update(of=("self",)), user=actor
    ).filter(pk=redemption_id)
    redemption = found.select_related("goods", "member").first()
    if redemption is None:
        _refuse(_("No such redemption in your stores."), "not_found")
    return redemption


def redemption_verify(*, code: str, actor) -> Redemption:
    """Hand a picked-up good over at the desk: the pickup code of a redemption awaiting
    pickup at one of the actor's stores. Locks the redemption row."""
    _require(actor, "mall.verify_redemption")
    code = pickup_code_normalise(code)
    if len(code) != CODE_LENGTH:
        _refuse(_("Enter the %(length)s-character pickup code."), "code", length=CODE_LENGTH)
    with transaction.atomic():
        found = scoped(
            Redemption.objects.select_for_update(of=("self",)),
            user=actor,
            store_field="pickup_store",
        ).filter(code=code)
        redemption = found.select_related("goods", "member").first()
        if redemption is None:
            _refuse(_("No redemption with this pickup code at your stores."), "unknown_code")
        if redemption.status != Status.PENDING_PICKUP:
            _refuse(
                _("This redemption is %(status)s, not awaiting pickup."),
                "not_pending",
                status=redemption.get_status_display(),
            )
        now = timezone.now()
        redemption.status, redemption.verified_at, redemption.verified_by = (
            Status.PICKED_UP,
            now,
            actor,
        )
        redemption.save(update_fields=["status", "verified_at", "verified_by"])
        _event(redemption, Status.PICKED_UP, actor=actor, at=now)
        audit_log(actor=actor, action="mall.redemption.verified", target=redemption)
    return redemption


def redemption_ship(*, redemption: Redemption, actor, carrier: str, tracking_no: str) -> Redemption:
    """Record that an express redemption was sent; the member is told the tracking number.
    Locks the redemption row."""
    _require(actor, "mall.change_redemption")
    carrier, tracking_no = (carrier or "").strip(), (tracking_no or "").strip()
    if not carrier or not tracking_no:
        _refuse(_("Enter the carrier and the tracking number."), "tracking_required")
    if len(carrier) > 32 or len(tracking_no) > 64:
        _refuse(_("The carrier or tracking number is too long."), "tracking_too_long")
    with transaction.atomic():
        redemption = _locked_in_scope(redemption.pk, actor)
        if redemption.status != Status.PENDING_SHIPMENT:
            _refuse(
                _("This redemption is %(status)s, not awaiting shipment."),
                "not_pending",
                status=redemption.get_status_display(),
            )
        now = timezone.now()
        redemption.status, redemption.shipped_at = Status.SHIPPED, now
        redemption.carrier, redemption.tracking_no = carrier, tracking_no
        redemption.save(update_fields=["status", "shipped_at", "carrier", "tracking_no"])
        _event(redemption, Status.SHIPPED, actor=actor, note=f"{carrier} {tracking_no}", at=now)
        audit_log(
            actor=actor,
            action="mall.redemption.shipped",
            target=redemption,
            data={"carrier": carrier, "tracking_no": tracking_no},
        )
        messages_send(
            members=Member.objects.filter(pk=redemption.member_id),
            kind=Message.Kind.REDEMPTION,
            title=_("Shipped: %(goods)s"),
            body=_("%(goods)s is on its way: %(carrier)s, tracking number %(tracking_no)s."),
            link=redemption_link(redemption),
            params={
                "goods": redemption.goods.name,
                "carrier": carrier,
                "tracking_no": tracking_no,
            },
        )
    return redemption


def redemption_deliver(*, redemption: Redemption, actor) -> Redemption:
    """Record that a shipped redemption reached the member. Locks the redemption row."""
    _require(actor, "mall.change_redemption")
    with transaction.atomic():
        redemption = _locked_in_scope(redemption.pk, actor)
        if redemption.status != Status.SHIPPED:
            _refuse(
                _("This redemption is %(status)s, not shipped."),
                "not_shipped",
                status=redemption.get_status_display(),
            )
        redemption.status = Status.DELIVERED
        redemption.save(update_fields=["status"])
        _event(redemption, Status.DELIVERED, actor=actor)
        audit_log(actor=actor, action="mall.redemption.delivered", target=redemption)
    return redemption


@retry_on_deadlock
def goods_stock_adjust(*, goods: Goods, delta: int, actor, reason: str = "") -> Goods:
    """Restock (delta > 0) or take stock off the shelf (delta < 0) relative to what is there
    now, never by writing an absolute figure read earlier: a form that saved `stock` would
    undo the redemptions made while it was open. Refused below zero."""
    _require(actor, "mall.change_goods")
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        _refuse(_("Enter a whole number of items other than 0."), "delta")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE mall_goods SET stock = stock + %s WHERE id = %s AND stock + %s >= 0"
                " RETURNING stock",
                [delta, goods.pk, delta],
            )
            row = cursor.fetchone()
        if row is None:
            _refuse(_("There are fewer items in stock than that."), "below_zero")
        audit_log(
            actor=actor,
            action="mall.goods.stock_adjusted",
            target=goods,
            data={"delta": delta, "stock": row[0], "reason": reason[:200]},
        )
    goods.stock = row[0]
    return goods


@retry_on_deadlock
def redemption_cancel(*, redemption: Redemption, actor, reason: str) -> Redemption:
    """Cancel a redemption not yet handed over: the points go back through the ledger, the
    stock back on the shelf, unused coupons are voided (a used one refuses the cancel).
    Locks the redemption row, then (the lock order of docs/LOCKING.md) the member's points
    account, the goods' stock row and the coupons by ascending id."""
    _require(actor, "mall.change_redemption")
    reason = (reason or "").strip()
    if not reason:
        _refuse(_("Give a reason for cancelling."), "reason_required")
    with transaction.atomic():
        redemption = _locked_in_scope(redemption.pk, actor)
        if redemption.status not in {Status.PENDING_PICKUP, Status.PENDING_SHIPMENT, Status.ISSUED}:
            _refuse(
                _("This redemption is %(status)s and can no longer be cancelled."),
                "not_cancellable",
                status=redemption.get_status_display(),
            )
        account = account_get_or_create(member_id=redemption.member_id)
        PointsAccount.objects.select_for_update().get(pk=account.pk)
        _stock_return(redemption.goods_id, redemption.qty)  # rolled back if refused below
        coupons = list(redemption.coupons.select_for_update(of=("self",)).order_by("pk"))
        if any(c.status != Coupon.Status.UNUSED for c in coupons):
            _refuse(_("A coupon of this redemption was already used."), "coupon_used")
        spent = PointsEntry.objects.get(key=redemption.ledger_key)
        points_post(
            member_id=redemption.member_id,
            kind=PointsEntry.Kind.REFUND,
            points=redemption.points,
            key=cancel_ledger_key(redemption_id=redemption.pk),
            reverses=spent,
            memo=f"{redemption.goods.name} ×{redemption.qty}"[:200],
            actor=actor,
        )
        for coupon in coupons:
            coupon_void(coupon=coupon, reason=str(_("Redemption cancelled")), actor=actor)
        now = timezone.now()
        redemption.status, redemption.cancelled_at = Status.CANCELLED, now
        redemption.cancelled_by, redemption.cancel_reason = actor, reason[:200]
        redemption.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
        _event(redemption, Status.CANCELLED, actor=actor, note=reason, at=now)
        audit_log(
            actor=actor,
            action="mall.redemption.cancelled",
            target=redemption,
            data={"reason": reason, "points": redemption.points},
        )
        messages_send(
            members=Member.objects.filter(pk=redemption.member_id),
            kind=Message.Kind.REDEMPTION,
            title=_("Cancelled: %(goods)s"),
            body=_(
                "Your redemption %(code)s was cancelled (%(reason)s); %(points)s points are back."
            ),
            link=redemption_link(redemption),
            params={
                "goods": redemption.goods.name,
                "code": redemption.code,
                "reason": reason,
                "points": redemption.points,
            },
        )
    return redemption


@retry_on_deadlock
def redemption_at_desk(
    *,
    member: Member,
    goods: Goods,
    actor,
    pickup_store: Store,
    qty: int = 1,
    idempotency_key: str,
    handed_over: bool = True,
) -> Redemption:
    """A redemption recorded by desk staff on a member's behalf at one of their stores, as
    goods_redeem would; handed over at once unless `handed_over` is False."""
    _require(actor, "mall.verify_redemption")
    if not scoped(Store.objects, user=actor, store_field="").filter(pk=pickup_store.pk).exists():
        raise PermissionDenied()
    with transaction.atomic():
        redemption = goods_redeem(
            member=member,
            goods=goods,
            qty=qty,
            delivery=Delivery.PICKUP,
            pickup_store=pickup_store,
            idempotency_key=f"desk:{idempotency_key}",
            actor=actor,
        )
        audit_log(
            actor=actor,
            action="mall.redemption.at_desk",
            target=redemption,
            data={"member": member.card_no, "goods": goods.pk, "qty": qty},
        )
        if handed_over and redemption.status == Status.PENDING_PICKUP:
            redemption = redemption_verify(code=redemption.code, actor=actor)
    return redemption


def member_redemptions_erase(*, member_id: int) -> dict:
    """An account being deleted (注销): the delivery addresses copied onto its redemptions
    are erased; the redemptions stay, without them, for stock and points history."""
    count = Redemption.objects.filter(member_id=member_id).exclude(address={}).update(address={})
    return {"redemption_addresses": count}
