"""What a coupon takes off a basket, or why it cannot be used. No ORM: coupons.redeeming feeds
it plain terms and lines.

Scope: a coupon limited to stores applies only there; one limited to floors, brands or
categories applies to the lines that match every limit it has (any of the listed values of
each), and its threshold is counted on those lines only.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError

# Every reason a coupon can be refused: the code the POS API answers (DESIGN.md; order as in
# docs/POS_API.md) and the words the desk and the member pages show.
REFUSALS = {
    "already_used": _("This coupon has already been used."),
    "expired": _("This coupon has expired."),
    "not_owner": _("This coupon belongs to another member."),
    "below_threshold": _("The purchase does not reach the coupon's minimum spend."),
    "out_of_scope": _("This coupon cannot be used here (store, floor, brand or category)."),
    "voided": _("This coupon was voided."),
    "unknown_code": _("There is no coupon with this code."),
    "not_yet_valid": _("This coupon is not valid yet."),
    "not_stackable": _("This coupon cannot be combined with other coupons."),
}
# A single verification never combines coupons; only a receipt naming several can.
VERIFY_REFUSALS = [reason for reason in REFUSALS if reason != "not_stackable"]


class Refusal(ServiceError):
    """A coupon that cannot be used: `reason` (also its `code`) is the POS API's error code,
    `message` says it in words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(REFUSALS[reason], code=reason)


def state_refusal(
    *, status: str, valid_from: datetime, valid_until: datetime, now: datetime
) -> str | None:
    """Why a coupon in this state cannot be used at `now` (a REFUSALS code), or None."""
    if status == "voided":
        return "voided"
    if status == "used":
        return "already_used"
    if now < valid_from:
        return "not_yet_valid"
    if now >= valid_until:
        return "expired"
    return None


@dataclass(frozen=True)
class Terms:
    kind: str  # cash, threshold, percent, gift
    face_value_fen: int = 0
    min_spend_fen: int = 0
    percent_off: int = 0
    max_discount_fen: int = 0
    store_ids: frozenset = field(default_factory=frozenset)
    floor_ids: frozenset = field(default_factory=frozenset)
    brand_ids: frozenset = field(default_factory=frozenset)
    category_ids: frozenset = field(default_factory=frozenset)

    @property
    def limits_lines(self) -> bool:
        return bool(self.floor_ids or self.brand_ids or self.category_ids)


@dataclass(frozen=True)
class BasketLine:
    amount_fen: int
    brand_id: int | None = None
    category_id: int | None = None
    parent_category_id: int | None = None
    floor_ids: frozenset = field(default_factory=frozenset)  # floors where the brand has a shop


def line_in_scope(terms: Terms, line: BasketLine) -> bool:
    if terms.brand_ids and line.brand_id not in terms.brand_ids:
        return False
    if (
        terms.category_ids
        and not ({line.category_id, line.parent_category_id} - {None}) & terms.category_ids
    ):
        return False
    return not (terms.floor_ids and not (line.floor_ids & terms.floor_ids))


def eligible_fen(terms: Terms, *, store_id: int, basket_fen: int, lines: list[BasketLine]) -> int:
    """The part of the basket the coupon applies to; Refusal("out_of_scope") if none."""
    if terms.store_ids and store_id not in terms.store_ids:
        raise Refusal("out_of_scope")
    if not terms.limits_lines:
        return basket_fen
    amount = sum(line.amount_fen for line in lines if line_in_scope(terms, line))
    if amount <= 0:
        raise Refusal("out_of_scope")
    return min(amount, basket_fen)


def discount_fen(terms: Terms, *, store_id: int, basket_fen: int, lines: list[BasketLine]) -> int:
    """What the coupon takes off this basket (0 for a gift coupon, exchanged at the desk);
    Refusal with the reason it cannot be used."""
    eligible = eligible_fen(terms, store_id=store_id, basket_fen=basket_fen, lines=lines)
    if terms.kind == "gift":
        return 0
    if eligible < terms.min_spend_fen or eligible <= 0:
        raise Refusal("below_threshold")
    if terms.kind in ("cash", "threshold"):
        return min(terms.face_value_fen, eligible)
    if terms.kind == "percent":
        off = eligible * terms.percent_off // 100
        return min(off, terms.max_discount_fen) if terms.max_discount_fen else off
    raise ValueError(f"unknown coupon kind {terms.kind!r}")
