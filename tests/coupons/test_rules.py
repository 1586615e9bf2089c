"""Every kind's rule, table-driven: threshold, cap, scope, gifts."""

import pytest

from coupons.rules import BasketLine, Refusal, Terms, discount_fen

CASH = Terms(kind="cash", face_value_fen=1000)
SPEND = Terms(kind="threshold", face_value_fen=5000, min_spend_fen=30000)
PCT = Terms(kind="percent", percent_off=20, max_discount_fen=10000)
PCT_NO_CAP = Terms(kind="percent", percent_off=15)
GIFT = Terms(kind="gift")
IN_STORE_1 = Terms(kind="cash", face_value_fen=1000, store_ids=frozenset({1}))
BRAND_7 = Terms(
    kind="threshold", face_value_fen=5000, min_spend_fen=30000, brand_ids=frozenset({7})
)
WOMENS = Terms(kind="cash", face_value_fen=2000, category_ids=frozenset({50}))  # a parent
FLOOR_3 = Terms(kind="percent", percent_off=10, floor_ids=frozenset({3}))
BRAND_7_ON_FLOOR_3 = Terms(
    kind="cash", face_value_fen=1000, brand_ids=frozenset({7}), floor_ids=frozenset({3})
)

DRESS = BasketLine(
    20000, brand_id=7, category_id=51, parent_category_id=50, floor_ids=frozenset({3})
)
HAT = BasketLine(
    15000, brand_id=8, category_id=60, parent_category_id=None, floor_ids=frozenset({4})
)
MILK = BasketLine(500)


@pytest.mark.parametrize(
    "terms, store, basket, lines, expected",
    [
        (CASH, 1, 30000, [], 1000),
        (CASH, 1, 600, [], 600),  # never more than the basket
        (CASH, 1, 0, [], "below_threshold"),
        (SPEND, 1, 29999, [], "below_threshold"),
        (SPEND, 1, 30000, [], 5000),
        (PCT, 1, 30000, [], 6000),
        (PCT, 1, 80000, [], 10000),  # capped
        (PCT_NO_CAP, 1, 99999, [], 14999),  # rounded down to the fen
        (GIFT, 1, 0, [], 0),
        (IN_STORE_1, 1, 5000, [], 1000),
        (IN_STORE_1, 2, 5000, [], "out_of_scope"),
        (BRAND_7, 1, 35000, [DRESS, HAT], "below_threshold"),  # only the dress counts
        (BRAND_7, 1, 55000, [DRESS, DRESS, HAT], 5000),
        (BRAND_7, 1, 15000, [HAT], "out_of_scope"),
        (BRAND_7, 1, 15000, [], "out_of_scope"),  # a limited coupon needs the lines
        (WOMENS, 1, 35000, [DRESS, HAT], 2000),  # the dress's parent category
        (WOMENS, 1, 500, [MILK], "out_of_scope"),
        (FLOOR_3, 1, 35000, [DRESS, HAT], 2000),
        (BRAND_7_ON_FLOOR_3, 1, 35000, [HAT], "out_of_scope"),
        (BRAND_7_ON_FLOOR_3, 1, 35000, [DRESS], 1000),
    ],
)
def test_discount_or_the_reason_why_not(terms, store, basket, lines, expected):
    if isinstance(expected, str):
        with pytest.raises(Refusal) as refusal:
            discount_fen(terms, store_id=store, basket_fen=basket, lines=lines)
        assert refusal.value.reason == expected
    else:
        assert discount_fen(terms, store_id=store, basket_fen=basket, lines=lines) == expected
