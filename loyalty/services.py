"""Loyalty writes beyond the till: staff adjustments, daily sign-in, receipt-photo claims."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.dates import local_day_start
from core.exceptions import ServiceError
from loyalty.ledger import points_balance, points_post
from loyalty.models import LoyaltySettings, PointsEntry, Receipt, ReceiptClaim, SignIn
from loyalty.receipts import LineIn, ReceiptIn, receipt_record
from members.models import Member, Store

CLAIM_POS_NO = "CLAIM"  # receipts from approved claims: no till, one line
CLAIM_MAX_AGE_DAYS = 30
MAX_ADJUSTMENT = 1_000_000


def points_adjust(*, member: Member, points: int, reason: str, actor) -> PointsEntry:
    """A staff correction of a member's points, with a reason; audited. A debit larger than
    the balance is refused. Locks the member's account."""
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Give a reason for the adjustment."), code="reason_required")
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise ServiceError(
            _("Adjust by a non-zero number of points up to %(max)s.") % {"max": MAX_ADJUSTMENT},
            code="bad_points",
        )
    with transaction.atomic():
        entry, _created = points_post(
            member_id=member.pk,
            kind=PointsEntry.Kind.ADJUST,
            points=points,
            key=f"adjust:{member.pk}:{timezone.now().timestamp()}:{actor.pk}",
            memo=reason,
            actor=actor,
        )
        audit_log(
            actor=actor,
            action="loyalty.points.adjusted",
            target=member,
            data={"points": points, "reason": reason, "entry": entry.pk},
        )
    return entry


def sign_in(*, member: Member, today: date | None = None) -> SignIn:
    """签到: once a Shanghai day; the points of the day, plus the streak bonus on every Nth
    day in a row. Signing in twice the same day raises ServiceError."""
    today = today or timezone.localdate()
    policy = LoyaltySettings.current()
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()  # one at a time
        if SignIn.objects.filter(member=member, day=today).exists():
            raise ServiceError(_("You have already signed in today."), code="signed_in")
        yesterday = SignIn.objects.filter(member=member, day=today - timedelta(days=1)).first()
        streak = yesterday.streak + 1 if yesterday else 1
        points = policy.signin_points
        if policy.signin_streak_days and streak % policy.signin_streak_days == 0:
            points += policy.signin_streak_bonus
        record = SignIn.objects.create(member=member, day=today, streak=streak, points=points)
        if points:
            points_post(
                member_id=member.pk,
                kind=PointsEntry.Kind.EARN,
                points=points,
                key=f"signin:{member.pk}:{today.isoformat()}",
                memo=_("Daily sign-in, day %(n)s in a row") % {"n": streak},
                earned_on=today,
            )
    return record


def claim_submit(
    *,
    member: Member,
    store: Store,
    receipt_no: str,
    amount_fen: int,
    purchased_on: date,
    shop_name: str,
    photo,
) -> ReceiptClaim:
    """拍小票: a member asks for the points of a receipt from a till we do not receive.
    The same receipt number of a store can be claimed once (unless a claim was rejected)."""
    receipt_no = receipt_no.strip().upper()
    today = timezone.localdate()
    if purchased_on > today or purchased_on < today - timedelta(days=CLAIM_MAX_AGE_DAYS):
        raise ServiceError(
            _("Receipts of the last %(days)s days can be claimed.") % {"days": CLAIM_MAX_AGE_DAYS},
            code="claim_too_old",
        )
    if amount_fen <= 0:
        raise ServiceError(_("Enter the amount paid."), code="claim_amount")
    if Receipt.objects.filter(store=store, receipt_no=receipt_no).exists():
        raise ServiceError(
            _("This receipt is already recorded; its points were earned at the till."),
            code="claim_duplicate",
        )
    try:
        with transaction.atomic():
            return ReceiptClaim.objects.create(
                member=member,
                store=store,
                receipt_no=receipt_no,
                amount_fen=amount_fen,
                purchased_on=purchased_on,
                shop_name=shop_name.strip(),
                photo=photo,
            )
    except IntegrityError:
        raise ServiceError(
            _("This receipt has already been claimed."), code="claim_duplicate"
        ) from None


def claim_approve(*, claim: ReceiptClaim, actor) -> ReceiptClaim:
    """Approve a claim: the receipt is recorded (pos "CLAIM") and earns its points as if it
    came from a till. Locks the claim; a claim already decided raises ServiceError."""
    with transaction.atomic():
        claim = _pending(claim)
        occurred = local_day_start(claim.purchased_on) + timedelta(hours=12)
        receipt, _created = receipt_record(
            data=ReceiptIn(
                store=claim.store,
                pos_no=CLAIM_POS_NO,
                receipt_no=claim.receipt_no,
                occurred_at=min(occurred, timezone.now()),
                member=claim.member,
                lines=[
                    LineIn(
                        name=claim.shop_name or str(_("Receipt claim")),
                        qty=Decimal(1),
                        amount_fen=claim.amount_fen,
                        brand=claim.shop_name,
                    )
                ],
                total_fen=claim.amount_fen,
            ),
            payload_hash=f"claim:{claim.pk}",
        )
        claim.status, claim.receipt = ReceiptClaim.Status.APPROVED, receipt
        claim.reviewed_by, claim.reviewed_at = actor, timezone.now()
        claim.save(update_fields=["status", "receipt", "reviewed_by", "reviewed_at"])
        audit_log(actor=actor, action="loyalty.claim.approved", target=claim)
        _notify(claim)
    return claim


def claim_reject(*, claim: ReceiptClaim, reason: str, actor) -> ReceiptClaim:
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Tell the member why the claim is rejected."), code="reason_required")
    with transaction.atomic():
        claim = _pending(claim)
        claim.status, claim.reject_reason = ReceiptClaim.Status.REJECTED, reason[:200]
        claim.reviewed_by, claim.reviewed_at = actor, timezone.now()
        claim.save(update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at"])
        audit_log(
            actor=actor, action="loyalty.claim.rejected", target=claim, data={"reason": reason}
        )
        _notify(claim)
    return claim


def _pending(claim: ReceiptClaim) -> ReceiptClaim:
    claim = (
        ReceiptClaim.objects.select_for_update().select_related("store", "member").get(pk=claim.pk)
    )
    if claim.status != ReceiptClaim.Status.PENDING:
        raise ServiceError(_("This claim has already been reviewed."), code="claim_reviewed")
    return claim


def _notify(claim: ReceiptClaim) -> None:
    from members.messaging import messages_send
    from members.models import Message

    if claim.status == ReceiptClaim.Status.APPROVED:
        points = claim.receipt.response.get("points_earned", 0) if claim.receipt.response else 0
        title = _("Receipt claim approved")
        body = _("Your receipt %(no)s was approved: %(points)s points.")
        params = {"no": claim.receipt_no, "points": points}
    else:
        title = _("Receipt claim rejected")
        body = _("Your receipt %(no)s was not approved: %(reason)s")
        params = {"no": claim.receipt_no, "reason": claim.reject_reason}
    messages_send(
        members=Member.objects.filter(pk=claim.member_id),
        kind=Message.Kind.SYSTEM,
        title=title,
        body=body,
        params=params,
        link="/m/claims/",
    )


def member_loyalty_close(*, member_id: int) -> dict:
    """An account being deleted (注销): its points are forfeited through the ledger and the
    photos of its receipt claims erased; receipts and entries stay, without identity."""
    balance = points_balance(member_id=member_id)
    if balance > 0:
        points_post(
            member_id=member_id,
            kind=PointsEntry.Kind.ADJUST,
            points=-balance,
            key=f"forfeit:{member_id}",
            memo=str(_("Account closed: points forfeited")),
            floor_at_zero=True,
        )
    photos = 0
    for claim in ReceiptClaim.objects.filter(member_id=member_id).exclude(photo=""):
        claim.photo.delete(save=False)
        claim.photo = ""
        claim.save(update_fields=["photo"])
        photos += 1
    return {"points_forfeited": balance, "claim_photos": photos}
