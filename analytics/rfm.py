"""RFM scoring, pure: plain arrays in, plain arrays out (no Django).

Inputs are one row per member of the snapshot: `recency_days` (as-of date minus the date of
the last purchase), `frequency` (sale receipts in the window) and `monetary_fen` (sales minus
refunds in the window, may be zero or negative).

Scores 1–5 (tie-aware quintiles). A value's score is 1 + floor(5 × share of the members whose
value is strictly worse), where worse is lower for F and M and longer for R. So:

- equal values always get equal scores, whatever their position in the sorted list;
- the best values of a spread-out column land in 5, the worst in 1;
- when one value holds many members the quintiles collapse and scores are skipped rather than
  split arbitrarily: with half the members buying once, every one-time buyer has F score 1 (no
  one bought less) and a member who bought twice has F score 3 (half the members are below
  them), so no member has F score 2. A column where every member has the same value scores 1
  for everyone. Scores are therefore ranks, not equal-sized bins.

High/low flags compare each member to a cut computed over the members of the snapshot (or a
fixed value): "high" F or M is strictly above the cut, "short" R is strictly below it. The mean
cut is decided in integers (x × n > Σx), so a member exactly at the mean is never "high" by a
rounding error. The median of an even count is the midpoint of the two middle values.

The class of a member is looked up from a mapping (r_short, f_high, m_high) → label: the eight
combinations, kept as data so staff can rename them (see analytics.models.RfmClass).

Lifecycle stages cut recency at points taken from the distribution of repurchase intervals:
recency < first cut is active, < second is silent, < third is dormant, otherwise lost.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MEAN = "mean"
MEDIAN = "median"
FIXED = "fixed"
CUT_METHODS = (MEAN, MEDIAN, FIXED)

ACTIVE, SILENT, DORMANT, LOST = "active", "silent", "dormant", "lost"
STAGES = (ACTIVE, SILENT, DORMANT, LOST)
# as rfm_export writes them (the deck's names, whatever the language of the page)
STAGE_NAMES = {ACTIVE: "活跃", SILENT: "沉默", DORMANT: "睡眠", LOST: "流失"}

ClassKey = tuple[bool, bool, bool]  # (r_short, f_high, m_high)


@dataclass(frozen=True)
class Cuts:
    recency: float
    frequency: float
    monetary: float


@dataclass(frozen=True)
class Scored:
    r_score: np.ndarray
    f_score: np.ndarray
    m_score: np.ndarray
    r_short: np.ndarray
    f_high: np.ndarray
    m_high: np.ndarray
    rfm_class: list[str]
    cuts: Cuts


def quintile_scores(values: Sequence[int] | np.ndarray, *, higher_is_better: bool = True):
    """Scores 1–5: 1 + floor(5 × share of values strictly worse); ties score alike."""
    x = np.asarray(values, dtype=np.int64)
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    ordered = np.sort(x)
    if higher_is_better:
        worse = np.searchsorted(ordered, x, side="left")  # values strictly below
    else:
        worse = n - np.searchsorted(ordered, x, side="right")  # values strictly above
    return (1 + (5 * worse) // n).astype(np.int16)


def _above(x: np.ndarray, *, method: str, fixed: float | None) -> tuple[np.ndarray, float]:
    """Members strictly above the cut, and the cut."""
    n = len(x)
    if method == MEAN:
        total = int(x.sum())
        return x * n > total, (total / n if n else 0.0)
    if method == MEDIAN:
        # the two middle values (the same one for an odd count), compared in integers
        ordered = np.sort(x)
        twice = int(ordered[(n - 1) // 2]) + int(ordered[n // 2]) if n else 0
        return 2 * x > twice, twice / 2
    if method == FIXED:
        if fixed is None:
            raise ValueError("a fixed cut needs its value")
        return x > fixed, float(fixed)
    raise ValueError(f"unknown cut method {method!r}")


def flags(
    recency_days,
    frequency,
    monetary_fen,
    *,
    method: str = MEAN,
    fixed: Cuts | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Cuts]:
    """(r_short, f_high, m_high, cuts): R strictly below its cut, F and M strictly above."""
    r = np.asarray(recency_days, dtype=np.int64)
    f = np.asarray(frequency, dtype=np.int64)
    m = np.asarray(monetary_fen, dtype=np.int64)
    fixed_r = fixed_f = fixed_m = None
    if fixed is not None:
        fixed_r, fixed_f, fixed_m = fixed.recency, fixed.frequency, fixed.monetary
    # short R = strictly below the cut: strictly above it for -R
    r_short, r_cut = _above(-r, method=method, fixed=None if fixed_r is None else -fixed_r)
    f_high, f_cut = _above(f, method=method, fixed=fixed_f)
    m_high, m_cut = _above(m, method=method, fixed=fixed_m)
    return r_short, f_high, m_high, Cuts(recency=-r_cut + 0.0, frequency=f_cut, monetary=m_cut)


def classify(r_short, f_high, m_high, mapping: Mapping[ClassKey, str]) -> list[str]:
    """The label of each member's (r_short, f_high, m_high) combination."""
    missing = {(a, b, c) for a in (True, False) for b in (True, False) for c in (True, False)}
    missing -= set(mapping)
    if missing:
        raise ValueError(f"the class mapping lacks {sorted(missing)}")
    return [
        mapping[(bool(a), bool(b), bool(c))]
        for a, b, c in zip(r_short, f_high, m_high, strict=True)
    ]


def score(
    recency_days,
    frequency,
    monetary_fen,
    *,
    mapping: Mapping[ClassKey, str],
    method: str = MEAN,
    fixed: Cuts | None = None,
) -> Scored:
    """Scores, flags and class of every member of one snapshot."""
    r_short, f_high, m_high, cuts = flags(
        recency_days, frequency, monetary_fen, method=method, fixed=fixed
    )
    return Scored(
        r_score=quintile_scores(recency_days, higher_is_better=False),
        f_score=quintile_scores(frequency),
        m_score=quintile_scores(monetary_fen),
        r_short=r_short,
        f_high=f_high,
        m_high=m_high,
        rfm_class=classify(r_short, f_high, m_high, mapping),
        cuts=cuts,
    )


def percentile_cuts(intervals, percentiles: Sequence[float]) -> list[float]:
    """Cut points at the given percentiles (0–100) of the repurchase intervals (days)."""
    x = np.asarray(intervals, dtype=np.float64)
    if len(x) == 0:
        return []
    return [float(v) for v in np.percentile(x, list(percentiles))]


def percentile_cuts_counted(counts: Sequence[tuple[int, int]], fractions: Sequence[float]):
    """Postgres's percentile_cont at each fraction (0–1) of the values described by `counts`,
    (value, how many) pairs in ascending order of value: the values at positions
    floor and ceil of fraction × (n − 1) of the sorted list, interpolated exactly as
    Postgres does (lo + fraction part × (hi − lo)). A histogram of a few hundred gap lengths
    stands in for millions of gaps, so nothing has to sort them."""
    values = np.asarray([v for v, _ in counts], dtype=np.float64)
    ends = np.cumsum([n for _, n in counts], dtype=np.int64)  # last position + 1 of each value
    if len(ends) == 0 or ends[-1] == 0:
        return []
    cuts = []
    for fraction in fractions:
        position = fraction * float(ends[-1] - 1)
        first, second = np.floor(position), np.ceil(position)
        lo = values[np.searchsorted(ends, first, side="right")]
        hi = values[np.searchsorted(ends, second, side="right")]
        cuts.append(float(lo) if first == second else float(lo + (position - first) * (hi - lo)))
    return cuts


def lifecycle_stages(recency_days, cuts: Sequence[float]) -> list[str]:
    """active below the first cut, silent below the second, dormant below the third, else lost."""
    r = np.asarray(recency_days, dtype=np.float64)
    if len(cuts) != 3:  # no repurchase yet anywhere: no distribution to cut
        return [""] * len(r)
    index = np.searchsorted(np.asarray(cuts, dtype=np.float64), r, side="right")
    return [STAGES[i] for i in index]
