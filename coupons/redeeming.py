"""Using coupons: a till's basket as the rules see it, the refusal a coupon's state gives,
the use itself (核销) from the POS API, a receipt or the desk, giving coupons back after a
refund, and voiding. Every use locks the coupon row, so a coupon is consumed exactly once."""

from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.retry import retry_on_deadlock
from coupons import rules
from coupons.issuing import CouponError, coupon_code_normalise
from coupons.models import Coupon, CouponTemplate, CouponVerification
from loyalty.models import Receipt
from loyalty.tables import brands_cached, categories_cached
from members.models import Member
from stores.models import Shop, Store


def basket_lines(*, store: Store, lines: list[dict]) -> list[rules.BasketLine]:
    """Till lines (brand and category by name, as on receipts) as the rules see them; brands
    and categories from loyalty's per-process copies, the brands' shops from the database."""
    _by_id, brands_by_name = brands_cached()
    _by_id, categories_by_name = categories_cached()
    brands = {
        name: brands_by_name[name].pk
        for name in {x.get("brand") for x in lines}
        if name in brands_by_name
    }
    categories = {
        name: (categories_by_name[name].pk, categories_by_name[name].parent_id)
        for name in {x.get("category") for x in lines}
        if name in categories_by_name
    }
    floors: dict[int, set[int]] = {}
    if brands:
        for brand_id, floor_id in Shop.objects.filter(
            brand_id__in=brands.values(), floor__store=store, is_active=True
        ).values_list("brand_id", "floor_id"):
            floors.setdefault(brand_id, set()).add(floor_id)
    result = []
    for line in lines:
        brand_id = brands.get(line.get("brand"))
        category_id, parent_id = categories.get(line.get("category"), (None, None))
        result.append(
            rules.BasketLine(
                amount_fen=line["amount_fen"],
                brand_id=brand_id,
                category_id=category_id,
                parent_category_id=parent_id,
                floor_ids=frozenset(floors.get(brand_id, ())),
            )
        )
    return result


_SCOPES = ("stores", "floors", "brands", "categories")


def _scope_sql() -> str:
    """One SELECT of a template's four scope lists (ids), one array each."""
    parts = []
    for name in _SCOPES:
        field = CouponTemplate._meta.get_field(name)
        through = field.remote_field.through._meta
        owner = through.get_field(field.m2m_field_name()).column
        target = through.get_field(field.m2m_reverse_field_name()).column
        table = through.db_table  # names from the models' metadata, no input
        parts.append(f"ARRAY(SELECT {target} FROM {table} WHERE {owner} = %(id)s)")  # noqa: S608
    return "SELECT " + ", ".join(parts)


def terms_of(template: CouponTemplate) -> rules.Terms:
    """The template's terms; its scopes read in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_scope_sql(), {"id": template.pk})
        stores, floors, brands, categories = cursor.fetchone()
    return rules.Terms(
        kind=template.kind,
        face_value_fen=template.face_value_fen,
        min_spend_fen=template.min_spend_fen,
        percent_off=template.percent_off,
        max_discount_fen=template.max_discount_fen,
        store_ids=frozenset(stores),
        floor_ids=frozenset(floors),
        brand_ids=frozenset(brands),
        category_ids=frozenset(categories),
    )


def coupon_refusal(*, coupon: Coupon, now: datetime | None = None) -> rules.Refusal | None:
    """Why `coupon` cannot be used at `now` whatever the basket (voided, used, not yet or no
    longer valid), as the Refusal coupon_use would raise; None if its state allows a use."""
    reason = rules.state_refusal(
        status=coupon.status,
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        now=now or timezone.now(),
    )
    return rules.Refusal(reason) if reason else None


def coupon_use(
    *,
    code: str,
    store: Store,
    pos_no: str,
    member: Member | None,
    basket_fen: int,
    lines: list[rules.BasketLine],
    cashier: str = "",
    receipt: Receipt | None = None,
    now: datetime | None = None,
) -> Coupon:
    """核销: check owner, state, validity, scope and threshold, then consume the coupon,
    recording where, by whom and what it took off. rules.Refusal with the reason otherwise.
    Locks the coupon row."""
    with transaction.atomic():
        return _coupon_use(
            code=code,
            store=store,
            pos_no=pos_no,
            member=member,
            basket_fen=basket_fen,
            lines=lines,
            cashier=cashier,
            receipt=receipt,
            now=now,
        )


def _coupon_use(
    *, code, store, pos_no, member, basket_fen, lines, cashier="", receipt=None, now=None
) -> Coupon:
    """coupon_use in the caller's transaction: every Refusal comes before the one write, so a
    caller may catch it and go on (no savepoint needed)."""
    now = now or timezone.now()
    coupon = (
        Coupon.objects.select_for_update(of=("self",))
        .select_related("template")
        .filter(code=coupon_code_normalise(code))
        .first()
    )
    if coupon is None:
        raise rules.Refusal("unknown_code")
    if member is None or coupon.member_id != member.pk:
        raise rules.Refusal("not_owner")
    refused = coupon_refusal(coupon=coupon, now=now)
    if refused is not None:
        raise refused
    discount = rules.discount_fen(
        terms_of(coupon.template), store_id=store.pk, basket_fen=basket_fen, lines=lines
    )
    coupon.status, coupon.used_at, coupon.discount_fen = Coupon.Status.USED, now, discount
    coupon.used_store, coupon.used_pos_no, coupon.used_cashier = store, pos_no, cashier[:32]
    coupon.used_receipt = receipt
    coupon.save(
        update_fields=[
            "status",
            "used_at",
            "discount_fen",
            "used_store",
            "used_pos_no",
            "used_cashier",
            "used_receipt",
        ]
    )
    return coupon


@retry_on_deadlock
def coupon_verify_request(*, terminal, request_id: str, code: str, **use) -> tuple[int, dict]:
    """The POS verify call: (HTTP status, answer). The same terminal and request_id get the
    first answer again, success or refusal, without consuming anything twice."""
    previous = CouponVerification.objects.filter(terminal=terminal, request_id=request_id).first()
    if previous is not None:
        return previous.status_code, previous.response
    try:
        with transaction.atomic():
            try:
                coupon = _coupon_use(code=code, **use)
                status, body = (
                    200,
                    {
                        "code": coupon.code,
                        "discount_fen": coupon.discount_fen,
                        "status": "used",
                    },
                )
            except rules.Refusal as refusal:
                status, body = 409, {"error": refusal.reason}
            CouponVerification.objects.create(
                terminal=terminal,
                request_id=request_id,
                code=code[:64],
                status_code=status,
                response=body,
            )
    except IntegrityError:  # the same request_id raced in; its answer is the first
        previous = CouponVerification.objects.get(terminal=terminal, request_id=request_id)
        return previous.status_code, previous.response
    return status, body


def receipt_coupons_use(*, receipt: Receipt, codes: list[str], lines: list[dict]) -> list[dict]:
    """The coupons a receipt names: each is consumed for this receipt now, or, if the same
    till verified it moments before, linked to the receipt. ReceiptCouponRefused on the
    first that cannot be used (the caller rolls the receipt back). Locks all the named
    coupon rows at once, by ascending id (after the caller's points account)."""
    if not codes:
        return []
    normals = [coupon_code_normalise(c) for c in codes]
    # One statement, in id order: two receipts naming the same coupons in opposite orders
    # queue behind each other instead of each holding one and waiting for the other.
    coupons = {
        c.code: c
        for c in Coupon.objects.select_for_update(of=("self",))
        .select_related("template")
        .filter(code__in=normals)
        .order_by("pk")
    }
    if len(codes) > 1 and any(not c.template.stackable for c in coupons.values()):
        raise ReceiptCouponRefused(0, "not_stackable")
    member = receipt.member
    basket = basket_lines(store=receipt.store, lines=lines)
    results = []
    for index, normal in enumerate(normals):
        coupon = coupons.get(normal)
        verified = (
            coupon is not None
            and coupon.status == Coupon.Status.USED
            and coupon.used_receipt_id is None
            and coupon.used_store_id == receipt.store_id
            and coupon.used_pos_no == receipt.pos_no
            and coupon.member_id == (member.pk if member else None)
        )
        if verified:
            coupon.used_receipt = receipt
            coupon.save(update_fields=["used_receipt"])
        else:
            try:
                coupon = coupon_use(
                    code=normal,
                    store=receipt.store,
                    pos_no=receipt.pos_no,
                    member=member,
                    basket_fen=receipt.total_fen,
                    lines=basket,
                    receipt=receipt,
                )
            except rules.Refusal as refusal:
                raise ReceiptCouponRefused(index, refusal.reason) from None
        results.append({"code": coupon.code, "status": "used", "discount_fen": coupon.discount_fen})
    return results


class ReceiptCouponRefused(rules.Refusal):
    """A coupon a receipt names (at `index` of its list) that cannot be used."""

    def __init__(self, index: int, reason: str):
        self.index = index
        super().__init__(reason)


def receipt_coupons_restore(*, sale: Receipt, now: datetime | None = None) -> int:
    """A sale refunded in full gives back its coupons that are still valid."""
    now = now or timezone.now()
    return Coupon.objects.filter(
        used_receipt=sale, status=Coupon.Status.USED, valid_until__gt=now
    ).update(
        status=Coupon.Status.UNUSED,
        used_at=None,
        used_store=None,
        used_pos_no="",
        used_cashier="",
        used_receipt=None,
        discount_fen=0,
    )


def coupon_void(*, coupon: Coupon, reason: str, actor) -> Coupon:
    from core.audit import audit_log

    reason = reason.strip()
    if not reason:
        raise CouponError(_("Give a reason for voiding."), code="reason_required")
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
        if coupon.status != Coupon.Status.UNUSED:
            raise CouponError(_("Only an unused coupon can be voided."), code="not_unused")
        coupon.status, coupon.voided_at, coupon.void_reason = (
            Coupon.Status.VOIDED,
            timezone.now(),
            reason[:200],
        )
        coupon.save(update_fields=["status", "voided_at", "void_reason"])
        audit_log(
            actor=actor, action="coupons.coupon.voided", target=coupon, data={"reason": reason}
        )
    return coupon
