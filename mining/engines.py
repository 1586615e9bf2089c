"""Mining engines: frequent itemsets from a basket matrix, then association rules (the pure
part, no Django imports).

An engine returns frequent itemsets with their integer counts; the rules and every metric
are then derived from those counts here, with the same arithmetic whichever engine counted,
so mlxtend's FP-growth, its Apriori and Spark give identical rules on the same baskets.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mining.baskets import Baskets, min_support_count

ALGORITHMS = ("fpgrowth", "apriori")


@dataclass(frozen=True)
class Rule:
    antecedents: tuple[int, ...]  # the caller's item codes, ascending
    consequents: tuple[int, ...]
    count: int  # baskets holding antecedents and consequents
    antecedent_count: int
    consequent_count: int
    basket_count: int

    @property
    def support(self) -> float:
        return self.count / self.basket_count

    @property
    def antecedent_support(self) -> float:
        return self.antecedent_count / self.basket_count

    @property
    def consequent_support(self) -> float:
        return self.consequent_count / self.basket_count

    @property
    def confidence(self) -> float:
        return self.count / self.antecedent_count

    @property
    def lift(self) -> float:
        return self.count * self.basket_count / (self.antecedent_count * self.consequent_count)

    @property
    def leverage(self) -> float:
        n = self.basket_count
        return self.count / n - (self.antecedent_count / n) * (self.consequent_count / n)

    @property
    def conviction(self) -> float:
        """(1 − support(B)) / (1 − confidence): infinite when the rule never fails."""
        if self.count == self.antecedent_count:
            return math.inf
        return (1 - self.consequent_support) / (1 - self.confidence)


@dataclass(frozen=True)
class Mined:
    itemsets: dict[frozenset, int]  # frequent itemsets (item codes) → basket count
    rules: list[Rule]


def itemsets_mlxtend(
    baskets: Baskets, *, min_support: float, max_len: int | None, algorithm: str
) -> dict[frozenset, int]:
    """Frequent itemsets by mlxtend on the sparse matrix (a sparse DataFrame: no dense copy).

    Single items are counted straight off the matrix (every column is frequent). Only
    baskets holding two or more frequent items can contain a frequent pair or more, so only
    those rows go to mlxtend, with the same absolute minimum count: every itemset of two or
    more items keeps its exact count, and mlxtend walks fewer baskets."""
    from mlxtend.frequent_patterns import apriori, fpgrowth

    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    if baskets.basket_count == 0 or baskets.matrix.shape[1] == 0:
        return {}
    matrix = baskets.matrix.tocsr()
    codes = baskets.items
    singles = np.asarray(matrix.sum(axis=0)).ravel()
    found_sets = {frozenset([int(code)]): int(n) for code, n in zip(codes, singles, strict=True)}
    needed = min_support_count(min_support, baskets.basket_count)
    multi = matrix[np.diff(matrix.indptr) >= 2]
    if (max_len is not None and max_len < 2) or multi.shape[0] < needed:
        return found_sets
    frame = pd.DataFrame.sparse.from_spmatrix(multi, columns=range(multi.shape[1]))
    mine = fpgrowth if algorithm == "fpgrowth" else apriori
    # count ≥ needed, as a fraction of these rows with half a basket's margin
    found = mine(
        frame, min_support=(needed - 0.5) / multi.shape[0], use_colnames=True, max_len=max_len
    )
    counts = np.rint(found["support"].to_numpy() * multi.shape[0]).astype(np.int64)
    for itemset, count in zip(found["itemsets"], counts, strict=True):
        if len(itemset) >= 2:
            found_sets[frozenset(int(codes[column]) for column in itemset)] = int(count)
    return found_sets


def rules_from_itemsets(
    itemsets: dict[frozenset, int],
    *,
    basket_count: int,
    min_confidence: float,
    min_lift: float = 0.0,
    single_consequent: bool = True,
) -> list[Rule]:
    """Every rule A → B with A ∪ B frequent, A and B non-empty and disjoint, meeting the
    thresholds (with `single_consequent`, B holds one item: arules' convention). Sorted by
    lift, confidence and support, descending, then by items."""
    rules = []
    for itemset, count in itemsets.items():
        if len(itemset) < 2:
            continue
        items = sorted(itemset)
        for consequents in _consequent_sets(items, single_consequent):
            antecedents = tuple(i for i in items if i not in consequents)
            rule = Rule(
                antecedents=antecedents,
                consequents=consequents,
                count=count,
                antecedent_count=itemsets[frozenset(antecedents)],
                consequent_count=itemsets[frozenset(consequents)],
                basket_count=basket_count,
            )
            # confidence compared on counts, so 0.8 × 5 = 4 counts as reaching 0.8
            if rule.count < min_confidence * rule.antecedent_count - 1e-9:
                continue
            if min_lift and rule.lift < min_lift - 1e-12:
                continue
            rules.append(rule)
    rules.sort(key=lambda r: (-r.lift, -r.confidence, -r.count, r.antecedents, r.consequents))
    return rules


def _consequent_sets(items: list[int], single: bool):
    if single:
        return [(item,) for item in items]
    from itertools import combinations

    return [c for size in range(1, len(items)) for c in combinations(items, size)]


def mine(
    baskets: Baskets,
    *,
    min_support: float,
    min_confidence: float,
    min_lift: float = 0.0,
    max_len: int | None = None,
    algorithm: str = "fpgrowth",
    single_consequent: bool = True,
) -> Mined:
    itemsets = itemsets_mlxtend(
        baskets, min_support=min_support, max_len=max_len, algorithm=algorithm
    )
    rules = rules_from_itemsets(
        itemsets,
        basket_count=baskets.basket_count,
        min_confidence=min_confidence,
        min_lift=min_lift,
        single_consequent=single_consequent,
    )
    return Mined(itemsets=itemsets, rules=rules)
