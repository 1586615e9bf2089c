"""Loyalty writes beyond the till: staff adjustments, daily sign-in, receipt-photo claims."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.dates import local_day_start
from core.exceptions import ServiceError
from core.retry import retry_on_deadlock
from loyalty.bulk_earning import receipts_earn
from loyalty.claim_photos import claim_photo_clean, claim_photo_is_private
from loyalty.ledger import adjust_key, forfeit_key, points_balance, points_post, signin_key
from loyalty.models import (
    LoyaltySettings,
    PointsEntry,
    Receipt,
    ReceiptClaim,
    SignIn,
)
from loyalty.receipts import (
    CLAIM_HASH_PREFIX,
    CLAIM_POS_NO,
    POS_NO,
    LineIn,
    ReceiptIn,
    claims_lock,
    purchase_lock,
    purchase_receipts,
    receipt_record,
)
from members.models import Member
from stores.models import Store

CLAIM_MAX_AGE_DAYS = 30
MAX_ADJUSTMENT = 1_000_000


@retry_on_deadlock
def points_adjust(
    *, member: Member, points: int, reason: str, actor, key: str | None = None
) -> PointsEntry:
    """A staff correction of a member's points, with a reason; audited. A debit larger than
    the balance is refused. Locks the member's account. The same `key` (the form's one-time
    token) posts once: a repeat returns the first entry."""
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Give a reason for the adjustment."), code="reason_required")
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise ServiceError(
            _("Adjust by a non-zero number of points up to %(max)s.") % {"max": MAX_ADJUSTMENT},
            code="bad_points",
        )
    with transaction.atomic():
        entry, created = points_post(
            member_id=member.pk,
            kind=PointsEntry.Kind.ADJUST,
            points=points,
            key=adjust_key(once=key, member_id=member.pk, actor_id=actor.pk),
            memo=reason,
            actor=actor,
        )
        if not created:
            return entry
        audit_log(
            actor=actor,
            action="loyalty.points.adjusted",
            target=member,
            data={"points": points, "reason": reason, "entry": entry.pk},
        )
    return entry


@retry_on_deadlock
def sign_in(*, member: Member, today: date | None = None) -> SignIn:
    """签到: once a Shanghai day; the points of the day, plus the streak bonus on every Nth
    day in a row. Signing in twice the same day raises ServiceError."""
    today = today or timezone.localdate()
    policy = LoyaltySettings.current()
    with transaction.atomic():
        # NO KEY UPDATE: one sign-in at a time, without blocking the rows that reference the
        # member (receipts, redemptions, draws take FOR KEY SHARE on it, holding the account).
        Member.objects.select_for_update(no_key=True).filter(pk=member.pk).first()
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
                key=signin_key(member_id=member.pk, day=today),
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
    pos_no: str = "",
) -> ReceiptClaim:
    """拍小票: a member asks for the points of a receipt the till did not credit to them.
    A purchase (store, receipt number in any case, POS if given) can be claimed once unless a
    claim was rejected; one already recorded with a member card earned its points then. A
    member sends at most the policy's claims a day, and the photo is stored re-encoded without
    EXIF under a random name. Locks the member row, so two tabs cannot pass the daily limit."""
    receipt_no, pos_no = receipt_no.strip().upper(), _pos_no(pos_no)
    today = timezone.localdate()
    if purchased_on > today or purchased_on < today - timedelta(days=CLAIM_MAX_AGE_DAYS):
        raise ServiceError(
            _("Receipts of the last %(days)s days can be claimed.") % {"days": CLAIM_MAX_AGE_DAYS},
            code="claim_too_old",
        )
    if amount_fen <= 0:
        raise ServiceError(_("Enter the amount paid."), code="claim_amount")
    recorded = purchase_receipts(store=store, receipt_no=receipt_no, pos_no=pos_no)
    if recorded.filter(member__isnull=False).exists():
        raise ServiceError(
            _("This receipt is already recorded; its points were earned at the till."),
            code="claim_duplicate",
        )
    limit = LoyaltySettings.current().claims_per_day
    _claims_quota_check(member=member, today=today, limit=limit)
    cleaned = claim_photo_clean(photo)
    claim = ReceiptClaim(
        member=member,
        store=store,
        receipt_no=receipt_no,
        pos_no=pos_no,
        amount_fen=amount_fen,
        purchased_on=purchased_on,
        shop_name=shop_name.strip(),
    )
    try:
        with transaction.atomic():
            # One at a time; NO KEY UPDATE leaves the member's receipts and entries unblocked.
            Member.objects.select_for_update(no_key=True).filter(pk=member.pk).first()
            _claims_quota_check(member=member, today=today, limit=limit)
            claim.photo.save(cleaned.name, cleaned, save=False)  # named by upload_to
            claim.save()
    except BaseException as exc:
        if claim.photo:
            claim.photo.delete(save=False)  # the row was not written: leave no file behind
        if isinstance(exc, IntegrityError):
            raise ServiceError(
                _("This receipt has already been claimed."), code="claim_duplicate"
            ) from None
        raise
    return claim


def _claims_quota_check(*, member: Member, today: date, limit: int) -> None:
    sent = ReceiptClaim.objects.filter(
        member=member, created_at__gte=local_day_start(today)
    ).count()
    if sent >= limit:
        raise ServiceError(
            _("You can send %(limit)s receipt photos a day. Please try again tomorrow.")
            % {"limit": limit},
            code="claim_quota",
        )


@retry_on_deadlock
def claim_approve(*, claim: ReceiptClaim, actor, pos_no: str | None = None) -> ReceiptClaim:
    """Approve a claim (staff may set or correct its POS number). A purchase is one receipt
    whichever way it comes first: if the till or an import recorded it already, the claim
    is linked to that receipt; it earns nothing if the receipt has its member, earns the
    receipt's points for the member if it had no member card, and is refused if it earned
    for another member. Otherwise the claim's receipt is recorded (on its POS, or "CLAIM")
    and earns as from a till; the till's copy arriving later earns nothing (receipt_record).
    Locks the claim, then the purchase (purchase_lock); ServiceError if already decided."""
    with transaction.atomic():
        claims_lock()
        claim = _pending(claim)
        if pos_no is not None:
            claim.pos_no = _pos_no(pos_no)
        purchase_lock(store_id=claim.store_id, receipt_no=claim.receipt_no)
        recorded = list(
            purchase_receipts(
                store=claim.store, receipt_no=claim.receipt_no, pos_no=claim.pos_no
            ).select_for_update()
        )
        if len(recorded) > 1:
            raise ServiceError(
                _("Several tills recorded this receipt number: set the POS number."),
                code="claim_ambiguous",
            )
        if recorded:
            receipt, points = recorded[0], _claim_link(claim, recorded[0])
        else:
            receipt, points = _claim_record(claim)
        claim.status, claim.receipt, claim.points = ReceiptClaim.Status.APPROVED, receipt, points
        claim.reviewed_by, claim.reviewed_at = actor, timezone.now()
        claim.save(
            update_fields=["status", "pos_no", "receipt", "points", "reviewed_by", "reviewed_at"]
        )
        audit_log(
            actor=actor,
            action="loyalty.claim.approved",
            target=claim,
            data={"receipt": receipt.pk, "points": points, "linked": bool(recorded)},
        )
        _notify(claim)
    return claim


def _pos_no(value: str) -> str:
    value = value.strip()
    if value and not POS_NO.fullmatch(value):
        raise ServiceError(
            _("A POS number is up to 16 letters, digits, - and _."), code="claim_pos_no"
        )
    return value


def _claim_record(claim: ReceiptClaim) -> tuple[Receipt, int]:
    occurred = local_day_start(claim.purchased_on) + timedelta(hours=12)
    receipt, _created = receipt_record(
        data=ReceiptIn(
            store=claim.store,
            pos_no=claim.pos_no or CLAIM_POS_NO,
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
        payload_hash=f"{CLAIM_HASH_PREFIX}{claim.pk}",
    )
    return receipt, receipt.response["points_earned"]


def _claim_link(claim: ReceiptClaim, receipt: Receipt) -> int:
    """The points a claim earns on a receipt recorded before it: those of the receipt if it
    had no member card (it becomes the member's), none if it earned for the member already."""
    if receipt.member_id == claim.member_id:
        return 0
    if receipt.member_id is not None:
        raise ServiceError(
            _("This receipt already earned points for another member card."),
            code="claim_other_member",
        )
    if receipt.refunds.exists():
        raise ServiceError(
            _("This receipt was refunded: adjust the member's points by hand if due."),
            code="claim_refunded",
        )
    Receipt.objects.filter(pk=receipt.pk).update(member=claim.member)
    receipt.member = claim.member
    return receipts_earn(receipt_ids=[receipt.pk]).points


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
    # Only the claim's row: locking its store and member too (a plain select_for_update with
    # select_related) deadlocks against the till's copy, which holds the purchase lock and
    # needs those rows as foreign keys of its receipt.
    claim = (
        # Only the claim's row: FOR UPDATE on the joined member and store would block the till's
        # receipt for the same purchase (its rows reference them) while this waits for its lock.
        ReceiptClaim.objects.select_for_update(of=("self",))
        .select_related("store", "member")
        .get(pk=claim.pk)
    )
    if claim.status != ReceiptClaim.Status.PENDING:
        raise ServiceError(_("This claim has already been reviewed."), code="claim_reviewed")
    return claim


def _notify(claim: ReceiptClaim) -> None:
    from members.messaging import messages_send
    from members.models import Message

    if claim.status == ReceiptClaim.Status.APPROVED:
        title = _("Receipt claim approved")
        body = _("Your receipt %(no)s was approved: %(points)s points.")
        params = {"no": claim.receipt_no, "points": claim.points}
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
            key=forfeit_key(member_id=member_id),
            memo=str(_("Account closed: points forfeited")),
            floor_at_zero=True,
        )
    photos = 0
    for claim in ReceiptClaim.objects.filter(member_id=member_id).exclude(photo=""):
        if not claim_photo_is_private(claim.photo):
            storages["default"].delete(claim.photo.name)  # not yet moved by claim_photos_secure
        claim.photo.delete(save=False)
        claim.photo = ""
        claim.save(update_fields=["photo"])
        photos += 1
    return {"points_forfeited": balance, "claim_photos": photos}


def claim_photos_secure() -> dict:
    """Move claim photos stored before they were private (under MEDIA_ROOT, with the member's
    file name and EXIF) to the private storage: re-encoded without EXIF, under random names,
    the old file deleted. Photos already private are left alone, so a rerun changes nothing.
    Returns counts: moved, already private, missing (no file), unreadable (left in place)."""
    counts = {"moved": 0, "private": 0, "missing": 0, "unreadable": 0}
    public = storages["default"]
    for claim in ReceiptClaim.objects.exclude(photo="").only("pk", "photo").iterator():
        old_name = claim.photo.name
        if claim_photo_is_private(claim.photo):
            counts["private"] += 1
            continue
        if not public.exists(old_name):
            counts["missing"] += 1
            continue
        try:
            with public.open(old_name, "rb") as handle:
                cleaned = claim_photo_clean(handle)
        except ServiceError:
            counts["unreadable"] += 1
            continue
        claim.photo.save(cleaned.name, cleaned, save=False)
        moved = ReceiptClaim.objects.filter(pk=claim.pk, photo=old_name).update(
            photo=claim.photo.name
        )
        if not moved:  # erased or changed meanwhile (an account deleted): keep what it has now
            claim.photo.delete(save=False)
            continue
        public.delete(old_name)
        counts["moved"] += 1
    return counts
