"""How many points a purchase earns, and how many a refund takes back. Pure: loyalty.receipts
feeds it plain rows and stores what it returns.

Rounding: points are counted per earning rule over the summed amounts it covers and rounded
down once, so many small supermarket lines still add up; a refund takes back the rounded-down
pro-rata share of what the original earned, and the last refund takes back exactly the rest.
"""

from collections import defaultdict
from dataclasses import dataclass

# Payment methods that are not money paid now: no points on them (coupons are a discount,
# points pay with points, prepaid cards earned when they were bought).
NON_EARNING_PAYMENTS = frozenset({"coupon", "points", "prepaid_card"})
PAYMENT_METHODS = frozenset(
    {"cash", "wechat", "alipay", "unionpay", "bank_card", "digital_rmb", "other"}
    | NON_EARNING_PAYMENTS
)


@dataclass(frozen=True)
class Rule:
    id: int
    store_id: int | None
    division: str  # "" for both divisions
    category_id: int | None
    points: int
    per_fen: int


@dataclass(frozen=True)
class Line:
    division: str
    category_id: int | None
    parent_category_id: int | None
    amount_fen: int
    non_merchandise: bool = False


def rule_for(line: Line, *, store_id: int, rules: list[Rule]) -> Rule | None:
    """The most specific rule covering `line`: its own category, then the parent category,
    then its division, then everything; a store's rule before the all-stores one."""
    best, best_rank = None, None
    for rule in rules:
        if rule.store_id is not None and rule.store_id != store_id:
            continue
        if rule.division and rule.division != line.division:
            continue
        if rule.category_id is None:
            category_rank = 0
        elif line.category_id is not None and rule.category_id == line.category_id:
            category_rank = 2
        elif line.parent_category_id is not None and rule.category_id == line.parent_category_id:
            category_rank = 1
        else:
            continue
        rank = (category_rank, bool(rule.division), rule.store_id is not None)
        if best_rank is None or rank > best_rank:
            best, best_rank = rule, rank
    return best


def paid_shares(amounts: list[int], paid_fen: int) -> list[int]:
    """Spread `paid_fen` over lines in proportion to their amounts (largest remainder), so
    the shares are whole fen that add up to exactly `paid_fen`."""
    total = sum(amounts)
    if total == 0:
        return [0] * len(amounts)
    exact = [amount * paid_fen for amount in amounts]
    shares = [value // total for value in exact]
    left = paid_fen - sum(shares)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(exact[i] % total), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def points_earned(
    *, lines: list[Line], paid_fen: int, store_id: int, rules: list[Rule], multiplier_percent: int
) -> int:
    """Points for a sale: what was paid (spread over the lines), by each line's rule, times
    the tier and promotion multiplier. Non-merchandise lines earn nothing."""
    shares = paid_shares([line.amount_fen for line in lines], paid_fen)
    fen_by_rule: dict[Rule, int] = defaultdict(int)
    for line, share in zip(lines, shares, strict=True):
        if line.non_merchandise or share <= 0:
            continue
        rule = rule_for(line, store_id=store_id, rules=rules)
        if rule is not None:
            fen_by_rule[rule] += share
    return sum(
        fen * rule.points * multiplier_percent // (rule.per_fen * 100)
        for rule, fen in fen_by_rule.items()
    )


def points_reversed(
    *,
    earned: int,
    sale_total_fen: int,
    refunded_before_fen: int,
    refund_fen: int,
    reversed_before: int,
) -> int:
    """Points a refund of `refund_fen` takes back from a sale that earned `earned`."""
    refunded = refunded_before_fen + refund_fen
    if sale_total_fen <= 0 or refunded >= sale_total_fen:
        target = earned
    else:
        target = earned * refunded // sale_total_fen
    return max(0, min(earned, target) - reversed_before)
