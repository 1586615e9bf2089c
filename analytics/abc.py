"""ABC (Pareto) classes: the pure rule, for values already aggregated (brands, categories).
Members, too many to bring out of Postgres, are classed by the same rule in SQL
(analytics/statistics.py, _ABC_SQL); a test holds the two to the same answers.

Items with a positive value are ranked by it, highest first (ties by key). An item is A while
the value ranked above it is under ABC_CUT_A % of the total, B while under ABC_CUT_B %, else C:
the item that crosses a cut belongs to the class it starts in, so the top item is always A and
class A holds at least 70 % of the value. Shares are percentages rounded to 0.1; the Pareto
curve has at most 100 points (share of items, cumulative share of value, rounded to 0.01),
one per item up to 100 items, then the last item of each percentile of items.
"""

from collections.abc import Iterable

ABC_CUT_A = 70
ABC_CUT_B = 90


def abc_class(value_above: int, total: int) -> str:
    """The class of an item with `value_above` ranked above it (integers: exact at the cuts)."""
    if value_above * 100 < ABC_CUT_A * total:
        return "A"
    if value_above * 100 < ABC_CUT_B * total:
        return "B"
    return "C"


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def abc_summary(
    n: int, total: int, per_class: dict[str, tuple[int, int]], curve: list[tuple[int, int]]
) -> dict:
    """The result both implementations return: per class (items, value) and curve points
    (rank, cumulative value), as shares."""
    classes = []
    for label in "ABC":
        items, value = per_class.get(label, (0, 0))
        classes.append(
            {
                "class": label,
                "items": items,
                "items_share": _share(items, n),
                "value_fen": value,
                "value_share": _share(value, total),
            }
        )
    points = sorted(
        (round(100 * rank / n, 2), round(100 * running / total, 2)) for rank, running in curve
    )
    return {"items": n, "total_fen": total, "classes": classes, "curve": [(0.0, 0.0), *points]}


def abc_classes(values: Iterable[tuple[object, int]]) -> dict:
    """ABC classes and Pareto curve of (key, value) pairs; keys of one kind (sortable)."""
    ranked = sorted(
        ((k, v) for k, v in values if k is not None and v > 0), key=lambda kv: (-kv[1], kv[0])
    )
    n, total = len(ranked), sum(v for _k, v in ranked)
    per_class: dict[str, tuple[int, int]] = {}
    last_of_bucket: dict[int, tuple[int, int]] = {}
    running = 0
    for rank, (_key, value) in enumerate(ranked, start=1):
        label = abc_class(running, total)
        running += value
        items, sum_value = per_class.get(label, (0, 0))
        per_class[label] = (items + 1, sum_value + value)
        last_of_bucket[-(-rank * 100 // n)] = (rank, running)  # the percentile, rounded up
    return abc_summary(n, total, per_class, list(last_of_bucket.values()))
