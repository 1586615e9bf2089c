"""Baskets as a sparse matrix: the pure part of mining (no Django imports).

A basket is one sale receipt; an item is an integer code (a SKU, brand or category, numbered
by the caller). The input is two equal-length integer arrays, one (basket, item) pair per
receipt line, as Postgres hands them over. From them:

- pairs are deduplicated (a receipt with the same item on two lines holds it once);
- baskets of a single distinct item are dropped unless `keep_single_item_baskets`;
- support counts are taken over the baskets that remain (all of them), and items whose count
  is below the minimum support count cannot be in any frequent itemset, so their columns
  are dropped before mining. Their baskets stay as rows, so every support stays counted
  over all baskets (a basket left with no frequent item is an empty row).

No dense matrix and no Python object per line: numpy arrays in, a scipy CSR matrix out.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. (numpy 2.4's np.unique took 25× as long as a sort on 5M int64.)"""
    ordered = np.sort(values)
    return (
        ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if ordered.size else ordered
    )


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, the index of each value among them)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.concatenate(([True], ordered[1:] != ordered[:-1])) if ordered.size else ordered
    inverse = np.empty(values.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new.astype(bool)], inverse


@dataclass(frozen=True)
class Baskets:
    matrix: sparse.csr_matrix  # baskets × kept items, boolean
    items: np.ndarray  # the caller's item code of each column
    basket_count: int  # baskets after preprocessing: the support denominator
    item_count: int  # distinct items in those baskets, before the support cut
    dropped_single_item: int  # baskets dropped for holding one item only


def min_support_count(min_support: float, basket_count: int) -> int:
    """The smallest count an itemset needs: support = count / baskets >= min_support.
    (A hair of tolerance so 0.001 × 9835 = 9.835 gives 10, not 11 by a rounding error.)"""
    return max(1, math.ceil(min_support * basket_count - 1e-9))


def baskets_build(
    basket_ids: np.ndarray,
    item_ids: np.ndarray,
    *,
    min_support: float,
    keep_single_item_baskets: bool = False,
    max_basket_items: int | None = None,
) -> Baskets:
    """The basket matrix of (basket, item) pairs. With `max_basket_items`, baskets holding
    more distinct items than that are dropped too (a few huge baskets make mining explode)."""
    basket_ids = np.asarray(basket_ids, dtype=np.int64)
    item_ids = np.asarray(item_ids, dtype=np.int64)
    if basket_ids.shape != item_ids.shape:
        raise ValueError("basket_ids and item_ids differ in length")
    if not 0 < min_support <= 1:
        raise ValueError("min_support must be in (0, 1]")
    if basket_ids.size == 0:
        return Baskets(sparse.csr_matrix((0, 0), dtype=bool), np.empty(0, np.int64), 0, 0, 0)

    # Deduplicate pairs and renumber baskets and items densely (sorted, so deterministic):
    # one sort of int64 keys (basket rank × item range + item) rather than of row pairs.
    _, basket_rank = _unique_inverse(basket_ids)
    item_min = int(item_ids.min())
    item_range = int(item_ids.max()) - item_min + 1
    keys = _unique(basket_rank * item_range + (item_ids - item_min))
    basket_index, pair_items = np.divmod(keys, item_range)
    pair_items += item_min
    sizes = np.bincount(basket_index)
    keep = sizes >= (1 if keep_single_item_baskets else 2)
    dropped_single = int(np.count_nonzero(sizes == 1)) if not keep_single_item_baskets else 0
    if max_basket_items is not None:
        keep &= sizes <= max_basket_items
    kept_rows = keep[basket_index]
    pair_items, basket_index = pair_items[kept_rows], basket_index[kept_rows]
    # rows numbered 0..n-1 over the kept baskets
    row_of_basket = np.cumsum(keep) - 1
    rows = row_of_basket[basket_index]
    basket_count = int(np.count_nonzero(keep))

    items, item_index = _unique_inverse(pair_items)
    counts = np.bincount(item_index, minlength=items.size)
    frequent = (
        counts >= min_support_count(min_support, basket_count) if basket_count else counts < 0
    )
    column_of_item = np.cumsum(frequent) - 1
    on = frequent[item_index]
    matrix = sparse.csr_matrix(
        (np.ones(int(on.sum()), dtype=bool), (rows[on], column_of_item[item_index[on]])),
        shape=(basket_count, int(frequent.sum())),
    )
    return Baskets(
        matrix=matrix,
        items=items[frequent],
        basket_count=basket_count,
        item_count=int(items.size),
        dropped_single_item=dropped_single,
    )
