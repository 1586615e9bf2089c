"""Brute force over explicit baskets: every itemset's count and every rule's metrics by
counting, to check the miners against."""

from itertools import combinations


def prepared(baskets: list[set], *, keep_single: bool) -> list[frozenset]:
    sets = [frozenset(b) for b in baskets]
    return sets if keep_single else [b for b in sets if len(b) >= 2]


def itemsets(baskets: list[frozenset], min_support: float, max_len=None) -> dict:
    n = len(baskets)
    items = sorted({i for b in baskets for i in b})
    found = {}
    for size in range(1, (max_len or len(items)) + 1):
        for combo in combinations(items, size):
            count = sum(1 for b in baskets if b.issuperset(combo))
            if count / n >= min_support - 1e-12:
                found[frozenset(combo)] = count
    return found


def rules(baskets: list[frozenset], min_support: float, min_confidence: float, single=True):
    n = len(baskets)
    found = itemsets(baskets, min_support)
    out = {}
    for itemset, count in found.items():
        if len(itemset) < 2:
            continue
        for size in [1] if single else range(1, len(itemset)):
            for cons in combinations(sorted(itemset), size):
                ante = itemset - set(cons)
                a = sum(1 for b in baskets if b.issuperset(ante))
                c = sum(1 for b in baskets if b.issuperset(cons))
                conf = count / a
                if conf < min_confidence - 1e-12:
                    continue
                out[(tuple(sorted(ante)), cons)] = {
                    "count": count,
                    "support": count / n,
                    "confidence": conf,
                    "lift": conf / (c / n),
                    "leverage": count / n - (a / n) * (c / n),
                    "conviction": float("inf") if conf == 1 else (1 - c / n) / (1 - conf),
                }
    return out
