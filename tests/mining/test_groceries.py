"""Groceries (arules): 9,835 real baskets; Apriori at support 0.001 and confidence 0.8 gives
13,492 frequent itemsets (the longest of 6 items) and 410 rules (Hahsler et al.)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import association_rules, fpgrowth

from mining.baskets import baskets_build
from mining.engines import mine

GROCERIES = Path(__file__).resolve().parents[1] / "data" / "groceries.csv"


def groceries_pairs():
    names: dict[str, int] = {}
    b, i = [], []
    for n, line in enumerate(GROCERIES.read_text().splitlines()):
        for item in line.split(","):
            b.append(n)
            i.append(names.setdefault(item, len(names)))
    return np.array(b), np.array(i)


@pytest.mark.parametrize("algorithm", ["fpgrowth", "apriori"])
def test_the_published_groceries_figures(algorithm):
    b, i = groceries_pairs()
    built = baskets_build(b, i, min_support=0.001, keep_single_item_baskets=True)
    assert built.basket_count == 9835 and built.item_count == 169
    mined = mine(built, min_support=0.001, min_confidence=0.8, algorithm=algorithm)
    assert len(mined.itemsets) == 13492
    assert max(len(s) for s in mined.itemsets) == 6
    assert len(mined.rules) == 410


def test_rules_match_mlxtend_association_rules():
    """Our rules from the itemsets' counts are mlxtend's association_rules, metric for metric."""
    b, i = groceries_pairs()
    built = baskets_build(b, i, min_support=0.002, keep_single_item_baskets=True)
    ours = mine(built, min_support=0.002, min_confidence=0.5, single_consequent=False)
    frame = pd.DataFrame.sparse.from_spmatrix(built.matrix, columns=list(built.items))
    found = fpgrowth(frame, min_support=0.002, use_colnames=True)
    theirs = association_rules(
        found, num_itemsets=built.basket_count, metric="confidence", min_threshold=0.5
    )
    by_key = {
        (
            tuple(sorted(int(x) for x in row.antecedents)),
            tuple(sorted(int(x) for x in row.consequents)),
        ): row
        for row in theirs.itertuples()
    }
    assert len(ours.rules) == len(by_key) > 100
    for rule in ours.rules:
        row = by_key[(rule.antecedents, rule.consequents)]
        assert rule.support == pytest.approx(row.support, rel=1e-9)
        assert rule.confidence == pytest.approx(row.confidence, rel=1e-9)
        assert rule.lift == pytest.approx(row.lift, rel=1e-9)
        assert rule.leverage == pytest.approx(row.leverage, rel=1e-9, abs=1e-15)
