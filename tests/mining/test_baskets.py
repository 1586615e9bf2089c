"""The pure basket and rule code against brute-force counts on hand-built baskets."""

import math

import numpy as np
import pytest

from mining.baskets import baskets_build, min_support_count
from mining.engines import mine
from tests.mining import brute

# Hand-built: 8 receipts over items 1..6; receipt 7 holds item 1 twice (two lines),
# receipt 8 a single item, receipt 9 only item 6 (rare).
BASKETS = {
    1: [1, 2, 3],
    2: [1, 2],
    3: [1, 2, 4],
    4: [2, 3],
    5: [1, 3, 5],
    6: [1, 2, 3, 5],
    7: [1, 1, 4],
    8: [2],
    9: [6],
}


def pairs(baskets=BASKETS):
    b = [k for k, items in baskets.items() for _ in items]
    i = [item for items in baskets.values() for item in items]
    return np.array(b), np.array(i)


def as_dict(rules):
    return {
        (r.antecedents, r.consequents): {
            "count": r.count,
            "support": r.support,
            "confidence": r.confidence,
            "lift": r.lift,
            "leverage": r.leverage,
            "conviction": r.conviction,
        }
        for r in rules
    }


@pytest.mark.parametrize("keep_single", [False, True])
@pytest.mark.parametrize("algorithm", ["fpgrowth", "apriori"])
@pytest.mark.parametrize("single", [True, False])
def test_itemsets_and_every_rule_metric_equal_a_brute_force_count(keep_single, algorithm, single):
    b, i = pairs()
    built = baskets_build(b, i, min_support=0.2, keep_single_item_baskets=keep_single)
    mined = mine(
        built, min_support=0.2, min_confidence=0.5, algorithm=algorithm, single_consequent=single
    )
    sets = brute.prepared([set(v) for v in BASKETS.values()], keep_single=keep_single)
    assert built.basket_count == len(sets)
    assert mined.itemsets == brute.itemsets(sets, 0.2)
    expected = brute.rules(sets, 0.2, 0.5, single=single)
    got = as_dict(mined.rules)
    assert got.keys() == expected.keys()
    assert expected  # the fixture does produce rules
    for key, metrics in expected.items():
        for name, value in metrics.items():
            if math.isinf(value):
                assert math.isinf(got[key][name])
            else:
                assert got[key][name] == pytest.approx(value, rel=1e-12), (key, name)


def test_single_item_baskets_are_dropped_by_default_and_kept_on_request():
    b, i = pairs()
    default = baskets_build(b, i, min_support=0.01)
    kept = baskets_build(b, i, min_support=0.01, keep_single_item_baskets=True)
    # receipts 8 and 9 hold one item; receipt 7 holds two distinct items (1 twice, 4)
    assert (default.basket_count, default.dropped_single_item) == (7, 2)
    assert (kept.basket_count, kept.dropped_single_item) == (9, 0)
    # item 6 only ever appears alone: gone with its basket by default
    assert 6 not in default.items and 6 in kept.items
    # support is over the baskets that remain: {1, 2} is in 4 of 7, or 4 of 9
    d = mine(default, min_support=0.01, min_confidence=0)
    k = mine(kept, min_support=0.01, min_confidence=0)
    assert d.itemsets[frozenset({1, 2})] == k.itemsets[frozenset({1, 2})] == 4
    rule_d = next(r for r in d.rules if r.antecedents == (1,) and r.consequents == (2,))
    rule_k = next(r for r in k.rules if r.antecedents == (1,) and r.consequents == (2,))
    assert rule_d.support == 4 / 7 and rule_k.support == 4 / 9
    assert rule_d.confidence == rule_k.confidence == 4 / 6  # baskets with 1: 1,2,3,5,6,7


def test_a_repeated_item_counts_once_per_basket():
    built = baskets_build(np.array([1, 1, 1, 2, 2]), np.array([7, 7, 8, 7, 8]), min_support=0.5)
    assert built.matrix.sum() == 4
    assert mine(built, min_support=0.5, min_confidence=0).itemsets[frozenset({7})] == 2


def test_infrequent_items_leave_the_matrix_but_their_baskets_still_count():
    # item 9 appears once in 10 baskets: below 0.2, its column goes; its basket stays
    b = np.repeat(np.arange(10), 2)
    i = np.array([1, 2] * 9 + [1, 9])
    built = baskets_build(b, i, min_support=0.2)
    assert built.basket_count == 10
    assert list(built.items) == [1, 2]
    assert built.matrix.shape == (10, 2)
    mined = mine(built, min_support=0.2, min_confidence=0)
    assert mined.itemsets[frozenset({1, 2})] == 9
    assert mined.rules[0].support == 0.9


def test_min_support_count_is_the_ceiling_without_rounding_errors():
    assert min_support_count(0.001, 9835) == 10
    assert min_support_count(0.2, 10) == 2
    assert min_support_count(0.25, 10) == 3


def test_huge_baskets_can_be_left_out():
    b, i = pairs()
    built = baskets_build(b, i, min_support=0.01, max_basket_items=3)
    assert built.basket_count == 6  # receipt 6 (4 items) left out too


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        baskets_build(np.array([1]), np.array([1, 2]), min_support=0.1)
    with pytest.raises(ValueError):
        baskets_build(np.array([1]), np.array([1]), min_support=0)
    empty = baskets_build(np.array([]), np.array([]), min_support=0.1)
    assert empty.basket_count == 0
    assert mine(empty, min_support=0.1, min_confidence=0.5).rules == []
