"""analytics/rfm.py: the pure scoring, on hand-computed fixtures."""

import pytest

from analytics import rfm

DECK = {
    (True, True, True): "重要保持",
    (True, False, False): "重要发展",
    (True, False, True): "重要价值",
    (False, True, True): "重要挽留",
    (False, False, True): "一般重要",
    (True, True, False): "一般客户",
    (False, True, False): "一般挽留",
    (False, False, False): "无价值",
}


def test_frequency_scores_collapse_where_half_buy_once():
    # 5 of 10 buy once: nobody is below them (score 1); a twice-buyer has half below: 1 + 2
    frequency = [1, 1, 1, 1, 1, 2, 2, 3, 5, 10]
    assert rfm.quintile_scores(frequency).tolist() == [1, 1, 1, 1, 1, 3, 3, 4, 5, 5]


def test_recency_scores_favour_the_recent_and_ties_score_alike():
    # strictly longer recencies above 3: 4 of 5 -> 5; above 10: 2 -> 3; above 40: 1 -> 2
    assert rfm.quintile_scores([3, 10, 10, 40, 100], higher_is_better=False).tolist() == [
        5,
        3,
        3,
        2,
        1,
    ]


def test_scores_do_not_depend_on_the_order_of_rows():
    values = [7, 1, 7, 3, 7, 2]
    scores = dict(zip(values, rfm.quintile_scores(values).tolist(), strict=True))
    reversed_scores = dict(
        zip(values[::-1], rfm.quintile_scores(values[::-1]).tolist(), strict=True)
    )
    # 6 values: 2 has 1 below (1 + 5//6), 3 has 2 (1 + 10//6), 7 has 3 (1 + 15//6)
    assert scores == reversed_scores == {1: 1, 2: 1, 3: 2, 7: 3}


def test_monetary_scores_take_net_refunds_and_one_value_scores_one():
    assert rfm.quintile_scores([-500, 0, 0, 1000, 2000]).tolist() == [1, 2, 2, 4, 5]
    assert rfm.quintile_scores([4, 4, 4]).tolist() == [1, 1, 1]
    assert rfm.quintile_scores([]).tolist() == []


def test_mean_flags_are_strict():
    # R mean 32.6: short below it; F mean 2 (exactly reached by a member: not high); M mean 500
    r_short, f_high, m_high, cuts = rfm.flags(
        [3, 10, 10, 40, 100], [1, 2, 2, 2, 3], [-500, 0, 0, 1000, 2000]
    )
    assert r_short.tolist() == [True, True, True, False, False]
    assert f_high.tolist() == [False, False, False, False, True]
    assert m_high.tolist() == [False, False, False, True, True]
    assert cuts == rfm.Cuts(recency=32.6, frequency=2.0, monetary=500.0)


def test_mean_cut_has_no_rounding_error():
    # mean of [1, 1, 2] is 4/3; 1 must not be high, 2 must
    _r, f_high, _m, _cuts = rfm.flags([1, 1, 1], [1, 1, 2], [0, 0, 0])
    assert f_high.tolist() == [False, False, True]


def test_median_cut_even_count_takes_the_midpoint():
    r_short, f_high, m_high, cuts = rfm.flags(
        [1, 2, 3, 4], [1, 2, 3, 4], [10, 10, 10, 11], method=rfm.MEDIAN
    )
    assert r_short.tolist() == [True, True, False, False]
    assert f_high.tolist() == [False, False, True, True]
    assert m_high.tolist() == [False, False, False, True]
    assert cuts == rfm.Cuts(recency=2.5, frequency=2.5, monetary=10.0)


def test_fixed_cuts():
    r_short, f_high, m_high, cuts = rfm.flags(
        [29, 30, 31],
        [1, 2, 3],
        [100, 200, 300],
        method=rfm.FIXED,
        fixed=rfm.Cuts(recency=30, frequency=1, monetary=200),
    )
    assert r_short.tolist() == [True, False, False]
    assert f_high.tolist() == [False, True, True]
    assert m_high.tolist() == [False, False, True]
    assert cuts == rfm.Cuts(recency=30.0, frequency=1.0, monetary=200.0)
    with pytest.raises(ValueError):
        rfm.flags([1], [1], [1], method=rfm.FIXED)


def test_score_labels_each_member_from_the_mapping():
    # R mean 32.6, F mean 2, M mean 500 (as above)
    scored = rfm.score(
        [3, 10, 10, 40, 100], [1, 3, 2, 3, 1], [2000, 0, 1000, 1000, 0], mapping=DECK
    )
    assert scored.rfm_class == ["重要价值", "一般客户", "重要价值", "重要挽留", "无价值"]
    assert scored.r_score.tolist() == [5, 3, 3, 2, 1]
    assert scored.f_score.tolist() == [1, 4, 3, 4, 1]
    assert scored.m_score.tolist() == [5, 1, 3, 3, 1]


def test_a_mapping_must_cover_the_eight_classes():
    partial = dict(DECK)
    del partial[(False, False, False)]
    with pytest.raises(ValueError):
        rfm.classify([True], [True], [True], partial)


def test_lifecycle_stages_cut_recency_below_each_cut():
    assert rfm.percentile_cuts([1, 2, 3, 4, 5], [50, 80, 100]) == [3.0, 4.2, 5.0]
    assert rfm.lifecycle_stages([0, 9, 10, 29, 30, 89, 90, 400], [10, 30, 90]) == [
        "active",
        "active",
        "silent",
        "silent",
        "dormant",
        "dormant",
        "lost",
        "lost",
    ]
    assert rfm.lifecycle_stages([5], []) == [""]


@pytest.mark.parametrize(
    "values",
    [
        [4, 1],
        [7],
        [1, 1, 1, 2, 3, 3, 9, 30, 30, 30, 31, 400],
        list(range(1, 101)) + [5] * 37 + [366] * 3,
    ],
)
def test_percentiles_from_counts_equal_postgres_percentile_cont(values, db):
    """The lifecycle cuts from the gaps' histogram are what percentile_cont gives over the gaps
    themselves (the service used to ask Postgres for them directly)."""
    from collections import Counter

    from django.db import connection

    fractions = [0.5, 0.8, 0.95, 0.0, 1.0, 0.333]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY v)"
            " FROM unnest(%s::int[]) v",
            [fractions, values],
        )
        expected = cursor.fetchone()[0]
    counts = sorted(Counter(values).items())
    assert rfm.percentile_cuts_counted(counts, fractions) == expected
    assert rfm.percentile_cuts_counted([], fractions) == []
