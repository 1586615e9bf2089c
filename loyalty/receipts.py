"""Recording till receipts and the points they earn: the POS API (pos/services.py), receipt
claims and the importer all come through receipt_record."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from loyalty import earning
from loyalty.ledger import points_post, receipt_points_earn, refund_key
from loyalty.models import PointsAccount, PointsEntry, Receipt, ReceiptLine
from loyalty.signals import sale_refunded_in_full
from loyalty.tables import (
    brands_cached,
    categories_cached,
    earn_rules_cached,
    promotions_cached,
    tiers_cached,
)
from loyalty.tiers import tier_after_sale, tier_of
from members.models import Member
from stores.models import Division, Sku, Store


class ReceiptInvalid(ServiceError):
    """The receipt does not add up; `fields` names what, like the API's field errors."""

    code = "invalid_receipt"
    default_message = _("The receipt is not valid.")

    def __init__(self, fields: dict[str, str], message=None):
        self.fields = {name: str(text) for name, text in fields.items()}
        super().__init__(message)


class ReceiptConflict(ServiceError):
    code = "receipt_conflict"
    default_message = _(
        "A different receipt with this store, POS number and receipt number is already recorded."
    )


@dataclass(frozen=True)
class LineIn:
    name: str
    qty: Decimal
    amount_fen: int
    sku: str = ""
    spec: str = ""
    brand: str = ""
    category: str = ""
    non_merchandise: bool = False


@dataclass(frozen=True)
class ReceiptIn:
    store: Store
    pos_no: str
    receipt_no: str
    occurred_at: datetime
    member: Member | None
    lines: list[LineIn]
    total_fen: int
    payments: list[tuple[str, int]] = field(default_factory=list)
    refund_of: str | None = None


# An approved 拍小票 claim records its purchase as a receipt: on the POS the claim names, or on
# CLAIM_POS_NO when nobody knows it, with `payload_hash` CLAIM_HASH_PREFIX + the claim's id
# until the till's own copy arrives (see receipt_record).
CLAIM_POS_NO = "CLAIM"
CLAIM_HASH_PREFIX = "claim:"
POS_NO = re.compile(r"[A-Za-z0-9_-]{1,16}")  # as the POS API accepts them
MAX_FEN = 10**10  # 1 亿 yuan: anything larger is a typo or an attack
FUTURE_SLACK = timedelta(minutes=10)  # a till's clock running ahead


def claims_lock() -> None:
    """Claim approvals one at a time, and none while a receipt import runs (it takes this lock
    too, and matches its receipts against the claims' in one go)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('loyalty:claims'))")


def purchase_lock(*, store_id: int, receipt_no: str) -> None:
    """Hold until the transaction ends the lock of one purchase, a store's receipt number in
    any case: a claim approval and the till's copy of the same purchase take it, so the
    second to come sees the first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"purchase:{store_id}:{receipt_no.upper()}"],
        )


def purchase_receipts(*, store: Store, receipt_no: str, pos_no: str = ""):
    """The recorded sales of a purchase: the store's receipt number in any case (a member
    types what is printed), on `pos_no` when it is known."""
    sales = Receipt.objects.annotate(number=Upper("receipt_no")).filter(
        store=store, number=receipt_no.upper(), kind=Receipt.Kind.SALE
    )
    return sales.filter(pos_no=pos_no) if pos_no else sales


def _claimed_receipt(data: ReceiptIn) -> Receipt | None:
    """The receipt an approved claim recorded for the purchase of this till receipt, while the
    till's own copy has not replaced it; locked. (purchase_receipts' filter in SQL: this runs
    for every till receipt.)"""
    found = Receipt.objects.raw(
        "SELECT * FROM loyalty_receipt WHERE store_id = %s AND upper(receipt_no) = %s"
        " AND kind = 'sale' AND pos_no IN (%s, %s) AND starts_with(payload_hash, %s)"
        " ORDER BY occurred_at DESC, id DESC LIMIT 1 FOR UPDATE",
        [data.store.pk, data.receipt_no.upper(), data.pos_no, CLAIM_POS_NO, CLAIM_HASH_PREFIX],
    )
    return next(iter(found), None)


def receipt_earn_window_start(now: datetime | None = None) -> datetime:
    """The oldest receipt time that still earns points: RECEIPT_EARN_WINDOW_DAYS before now.
    An instant compared as such (UTC), whatever offset a till sends: no local-midnight edge."""
    return (now or timezone.now()) - timedelta(days=settings.RECEIPT_EARN_WINDOW_DAYS)


def receipt_replay(*, store: Store, pos_no: str, receipt_no: str, payload_hash: str):
    """The receipt already recorded under this natural key if `payload_hash` matches it,
    None if there is none; ReceiptConflict if it was recorded with other content."""
    found = Receipt.objects.raw(  # the natural key's unique index; in SQL, as on every receipt
        "SELECT * FROM loyalty_receipt WHERE store_id = %s AND pos_no = %s AND receipt_no = %s",
        [store.pk, pos_no, receipt_no],
    )
    existing = next(iter(found), None)
    if existing is None or existing.payload_hash.startswith(CLAIM_HASH_PREFIX):
        return None  # a claim's stand-in is replaced by the till's copy (receipt_record)
    if not payload_hash or existing.payload_hash != payload_hash:
        raise ReceiptConflict()
    return existing


def receipt_record(
    *,
    data: ReceiptIn,
    payload_hash: str = "",
    terminal=None,
    earn_points: bool = True,
    replay_checked: bool = False,
    then=None,
) -> tuple[Receipt, bool]:
    """Record a receipt and earn its points, or for a refund take back the share of points
    its original earned, in one transaction; returns (receipt, created). The same receipt
    again (same natural key and payload hash) returns the first one with created=False.
    A sale whose purchase an approved claim recorded first (same store, receipt number in
    any case, the claim's POS or none) earns nothing more: the claim's receipt takes this
    one's POS, number, time, lines and total, keeps its member and points, and is returned
    as created, with points_earned 0.
    A refund that returns what was left of its sale sends sale_refunded_in_full (coupons
    gives the sale's coupons back). `terminal` is the pos.PosTerminal that sent the receipt;
    `then(receipt)`, called in the same transaction once the receipt is recorded, returns
    what to add to the stored answer (pos/services.py: the coupons a till's receipt uses).
    `replay_checked`: the caller has just called receipt_replay and found nothing. Locks a
    refund's original receipt, or the purchase (purchase_lock) and a claim's receipt; then the
    member's points account."""
    _check_sums(data)
    if not replay_checked:
        replay = receipt_replay(
            store=data.store,
            pos_no=data.pos_no,
            receipt_no=data.receipt_no,
            payload_hash=payload_hash,
        )
        if replay is not None:
            return replay, False
    try:
        with transaction.atomic():
            return _record(
                data, payload_hash=payload_hash, terminal=terminal, earn=earn_points, then=then
            )
    except (IntegrityError, _Twin):
        # The same receipt was being recorded concurrently and won; it has committed by now.
        replay = receipt_replay(
            store=data.store,
            pos_no=data.pos_no,
            receipt_no=data.receipt_no,
            payload_hash=payload_hash,
        )
        if replay is None:
            raise
        return replay, False


class _Twin(Exception):
    """The receipt's natural key was taken by a concurrent transaction that committed."""


_RECEIPT_INSERT = """
    INSERT INTO loyalty_receipt (store_id, pos_no, receipt_no, occurred_at, member_id, kind,
        refund_of_id, division, total_fen, created_at, terminal_id, payload_hash)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (store_id, pos_no, receipt_no) DO NOTHING RETURNING id"""


def _receipt_insert(receipt: Receipt) -> None:
    """Insert a new receipt in one statement, no savepoint: _Twin if a concurrent twin holds
    its natural key (ON CONFLICT waits for that transaction and sees it commit)."""
    receipt.created_at = receipt.created_at or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _RECEIPT_INSERT,
            [
                receipt.store_id,
                receipt.pos_no,
                receipt.receipt_no,
                receipt.occurred_at,
                receipt.member_id,
                receipt.kind,
                receipt.refund_of_id,
                receipt.division,
                receipt.total_fen,
                receipt.created_at,
                receipt.terminal_id,
                receipt.payload_hash,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise _Twin()
    receipt.pk = row[0]
    receipt._state.adding, receipt._state.db = False, "default"


def _check_sums(data: ReceiptIn) -> None:
    errors = {}
    if not data.lines:
        errors["lines"] = _("A receipt has at least one line.")
    elif sum(line.amount_fen for line in data.lines) != data.total_fen:
        errors["total_fen"] = _("The lines add up to %(sum)s fen, not %(total)s.") % {
            "sum": sum(line.amount_fen for line in data.lines),
            "total": data.total_fen,
        }
    if data.payments and sum(amount for _m, amount in data.payments) != data.total_fen:
        errors["payments"] = _("The payments add up to %(sum)s fen, not the total %(total)s.") % {
            "sum": sum(amount for _m, amount in data.payments),
            "total": data.total_fen,
        }
    if data.refund_of is not None and data.refund_of == data.receipt_no:
        errors["refund_of"] = _("A refund cannot refer to itself.")
    if errors:
        raise ReceiptInvalid(errors)


def _record(
    data: ReceiptIn, *, payload_hash: str, terminal, earn: bool, then=None
) -> tuple[Receipt, bool]:
    original = None
    member = data.member
    if data.refund_of is not None:
        original = (
            Receipt.objects.select_for_update()
            .filter(store=data.store, pos_no=data.pos_no, receipt_no=data.refund_of)
            .first()
        )
        if original is None or original.kind != Receipt.Kind.SALE:
            raise ReceiptInvalid(
                {"refund_of": _("No sale %(no)s on this POS.") % {"no": data.refund_of}}
            )
        if member is not None and member.pk != original.member_id:
            raise ReceiptInvalid({"member": _("The refund's member is not the sale's.")})
        member = original.member
    lines = _lines(data.lines)
    claimed = None
    if original is None:
        purchase_lock(store_id=data.store.pk, receipt_no=data.receipt_no)
        claimed = _claimed_receipt(data)
    if claimed is not None:
        receipt = claimed  # its member, and the points the claim earned, stay
        ReceiptLine.objects.filter(receipt=receipt).delete()
    else:
        receipt = Receipt(
            store=data.store,
            member=member,
            kind=Receipt.Kind.REFUND if original else Receipt.Kind.SALE,
            refund_of=original,
        )
    receipt.pos_no, receipt.receipt_no = data.pos_no, data.receipt_no
    receipt.occurred_at, receipt.total_fen = data.occurred_at, data.total_fen
    receipt.division = original.division if original else _division(lines)
    receipt.terminal, receipt.payload_hash = terminal, payload_hash
    if claimed is not None:
        receipt.save()
    else:
        _receipt_insert(receipt)
    for number, line in enumerate(lines, start=1):
        line.receipt, line.line_no = receipt, number
    _lines_insert(lines)

    points, standing = 0, None
    if original is not None:
        refunded_before = (
            Receipt.objects.filter(refund_of=original)
            .exclude(pk=receipt.pk)
            .aggregate(total=Sum("total_fen"))["total"]
            or 0
        )
        if refunded_before + data.total_fen > original.total_fen:
            raise ReceiptInvalid(
                {
                    "total_fen": _("Only %(left)s fen of the sale is left to refund.")
                    % {"left": original.total_fen - refunded_before}
                }
            )
        if member is not None and earn:
            points = _reverse_points(receipt, original, refunded_before)
        if refunded_before + data.total_fen == original.total_fen:
            # After the points account (lock order: account, then coupons): a till using a
            # coupon given back here holds the account while it waits for the coupon row.
            sale_refunded_in_full.send(sender=Receipt, sale=original)
    elif member is not None:
        if member.home_store_id is None:
            members_home_store_fill(member_ids=[member.pk])
        if earn and claimed is None:
            points, standing = _earn_points(receipt, data, lines)

    receipt.response = receipt_result(receipt, points=points, standing=standing)
    if then is not None:
        receipt.response.update(then(receipt) or {})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE loyalty_receipt SET response = %s::jsonb WHERE id = %s",
            [json.dumps(receipt.response, cls=DjangoJSONEncoder), receipt.pk],
        )
    return receipt, True


def members_home_store_fill(*, member_ids) -> int:
    """Give the members among `member_ids` who have no home store the store of their first
    sale (and its region if they have none); the one place this happens, for the POS API,
    claims and the import alike. A member with a home store keeps it. Returns how many."""
    first_sale = Receipt.objects.filter(member=OuterRef("pk"), kind=Receipt.Kind.SALE).order_by(
        "occurred_at", "pk"
    )
    return (
        Member.objects.filter(pk__in=list(member_ids), home_store__isnull=True)
        .filter(Exists(first_sale))
        .update(
            home_store_id=Subquery(first_sale.values("store_id")[:1]),
            region_id=Coalesce("region_id", Subquery(first_sale.values("store__region_id")[:1])),
        )
    )


class _Sku(NamedTuple):
    spec: str
    category_id: int | None
    brand_id: int | None
    non_merchandise: bool


def _skus(codes: set[str]) -> dict[str, _Sku]:
    """The catalogue's SKUs among `codes`, in SQL (on every till receipt)."""
    if not codes:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT code, spec, category_id, brand_id, non_merchandise FROM {Sku._meta.db_table}"  # noqa: S608
            " WHERE code = ANY(%s)",
            [list(codes)],
        )
        return {row[0]: _Sku(*row[1:]) for row in cursor.fetchall()}


def _lines(lines: list[LineIn]) -> list[ReceiptLine]:
    skus = _skus({x.sku for x in lines if x.sku})
    categories, categories_by_name = categories_cached()
    brands, brands_by_name = brands_cached()
    rows = []
    for line in lines:
        sku = skus.get(line.sku)
        category = categories_by_name.get(line.category) or (
            categories.get(sku.category_id) if sku else None
        )
        brand = brands_by_name.get(line.brand) or (brands.get(sku.brand_id) if sku else None)
        rows.append(
            ReceiptLine(
                sku_code=line.sku,
                name=line.name,
                spec=line.spec or (sku.spec if sku else ""),
                brand_name=line.brand or (brand.name if brand else ""),
                category_name=line.category or (category.name if category else ""),
                brand=brand,
                category=category,
                qty=line.qty,
                amount_fen=line.amount_fen,
                non_merchandise=line.non_merchandise or bool(sku and sku.non_merchandise),
            )
        )
    return rows


_LINE_COLUMNS = (
    "receipt_id",
    "line_no",
    "sku_code",
    "name",
    "spec",
    "brand_name",
    "category_name",
    "brand_id",
    "category_id",
    "qty",
    "amount_fen",
    "non_merchandise",
)
_LINE_INSERT = f"INSERT INTO loyalty_receiptline ({', '.join(_LINE_COLUMNS)}) VALUES "  # noqa: S608
_LINE_VALUES = "(" + ", ".join(["%s"] * len(_LINE_COLUMNS)) + ")"


def _lines_insert(lines: list[ReceiptLine]) -> None:
    """The receipt's lines in one INSERT, in SQL as on every till receipt (a third of
    bulk_create's CPU); nothing reads their ids."""
    params = []
    for line in lines:
        params += [getattr(line, column) for column in _LINE_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(_LINE_INSERT + ", ".join([_LINE_VALUES] * len(lines)), params)


def _division(lines: list[ReceiptLine]) -> str:
    """The division most of the money went to (department store when nothing is known)."""
    fen = Counter()
    for line in lines:
        if line.category is not None:
            fen[line.category.division] += line.amount_fen
    return fen.most_common(1)[0][0] if fen else Division.DEPARTMENT


def _earn_points(receipt: Receipt, data: ReceiptIn, lines: list[ReceiptLine]):
    """Earn a member's sale's points (at the multiplier of the tier the account is in when
    its row is locked) and raise the tier if the sale reaches the next; returns (points,
    standing) with standing the account's (balance, tier) after."""
    local_day = timezone.localdate(receipt.occurred_at)
    paid = data.total_fen - sum(
        amount for method, amount in data.payments if method in earning.NON_EARNING_PAYMENTS
    )
    promotion = promotion_percent(receipt.store_id, receipt.division, local_day)
    rules = earn_rules()
    rows = [
        earning.Line(
            division=line.category.division if line.category else receipt.division,
            category_id=line.category_id,
            parent_category_id=line.category.parent_id if line.category else None,
            amount_fen=line.amount_fen,
            non_merchandise=line.non_merchandise,
        )
        for line in lines
    ]

    def points_at(multiplier_percent: int) -> int:
        return earning.points_earned(
            lines=rows,
            paid_fen=max(0, paid),
            store_id=receipt.store_id,
            rules=rules,
            multiplier_percent=multiplier_percent * promotion // 100,
        )

    tiers = tiers_cached()
    by_tier = {tier.pk: points_at(tier.multiplier_percent) for tier in tiers}
    earned = receipt_points_earn(
        member_id=receipt.member_id,
        receipt_id=receipt.pk,
        points_by_tier=by_tier,
        points_without_tier=by_tier[tiers[0].pk] if tiers else points_at(100),
        earned_on=local_day,
        memo=str(receipt),
    )
    tier = tier_after_sale(earned=earned, tiers=tiers)
    return earned.points, (earned.balance, tier)


def earn_rules() -> list[earning.Rule]:
    """The active earning rules (cached per process: loyalty/tables.py)."""
    return earn_rules_cached()


def promotion_percent(store_id: int, division: str, day) -> int:
    """The highest promotion multiplier running for this store, division and day (100: none)."""
    best = 100
    for promo in promotions_cached():
        if not promo.starts_on <= day <= promo.ends_on:
            continue
        if promo.store_id not in (None, store_id) or promo.division not in ("", division):
            continue
        if promo.weekdays and str(day.isoweekday()) not in promo.weekdays:
            continue
        best = max(best, promo.multiplier_percent)
    return best


def _reverse_points(refund: Receipt, original: Receipt, refunded_before: int) -> int:
    earned = PointsEntry.objects.filter(kind=PointsEntry.Kind.EARN, receipt=original).first()
    if earned is None:
        return 0
    reversed_before = -(
        PointsEntry.objects.filter(reverses=earned).aggregate(total=Sum("points"))["total"] or 0
    )
    due = earning.points_reversed(
        earned=earned.points,
        sale_total_fen=original.total_fen,
        refunded_before_fen=refunded_before,
        refund_fen=refund.total_fen,
        reversed_before=reversed_before,
    )
    if due <= 0:
        return 0
    # Points already spent cannot be taken back: the balance goes to zero, no further.
    entry, _created = points_post(
        member_id=original.member_id,
        kind=PointsEntry.Kind.REFUND,
        points=-due,
        key=refund_key(receipt_id=refund.pk),
        receipt_id=refund.pk,
        reverses=earned,
        memo=str(refund),
        floor_at_zero=True,
    )
    return entry.points if entry else 0


def receipt_result(receipt: Receipt, *, points: int, standing=None) -> dict:
    """The POS API's answer for a recorded receipt (stored, and returned again to retries);
    pos/services.py fills in the coupons a till's receipt used. `standing`: the member's
    (balance, tier) when the caller knows them (read from the account otherwise)."""
    body = {
        "receipt_id": receipt.pk,
        "card_no": None,
        "points_earned": points,
        "points_balance": None,
        "tier": None,
        "coupons": [],
    }
    if receipt.member_id and standing is not None:
        balance, tier = standing
        body.update(
            card_no=receipt.member.card_no,
            points_balance=balance,
            tier=tier.name if tier else None,
        )
    elif receipt.member_id:
        account = (
            PointsAccount.objects.filter(member_id=receipt.member_id).select_related("tier").first()
        )
        tier = tier_of(account)
        body.update(
            card_no=receipt.member.card_no,
            points_balance=account.balance if account else 0,
            tier=tier.name if tier else None,
        )
    return body
