"""The uplift maths against Newcombe (1998) Table II and values worked by hand."""

import math

import pytest

from analytics.uplift import mean_difference, rate_difference_newcombe, rate_difference_wald, wilson


def close(a, b, tol=5e-5):
    return abs(a - b) <= tol


@pytest.mark.parametrize(
    ("counts", "wald", "newcombe"),
    [
        # Newcombe 1998, Table II, examples (a) and (b)
        ((56, 70, 48, 80), (0.0575, 0.3425), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.2605, 0.9395), (0.1705, 0.8090)),
    ],
)
def test_intervals_match_newcombes_table(counts, wald, newcombe):
    w = rate_difference_wald(*counts)
    n = rate_difference_newcombe(*counts)
    assert close(w.low, wald[0]) and close(w.high, wald[1])
    assert close(n.low, newcombe[0]) and close(n.high, newcombe[1])
    assert close(n.estimate, counts[0] / counts[1] - counts[2] / counts[3], 1e-12)


def test_wilson_by_hand():
    # x=0, n=10: centre = (z²/2)/(10+z²), half the same, so the interval is [0, z²/(10+z²)]
    z2 = 1.959963984540054**2
    low, high = wilson(0, 10)
    assert low == 0 and close(high, z2 / (10 + z2), 1e-12)
    assert close(high, 0.2775, 5e-5)  # Newcombe's Table I, 0/10


def test_zero_conversions_in_both_arms_straddle_zero():
    interval = rate_difference_newcombe(0, 900, 0, 100)
    assert interval.estimate == 0 and interval.low < 0 < interval.high
    assert not interval.excludes_zero


def test_empty_arm_gives_the_widest_interval():
    interval = rate_difference_newcombe(5, 10, 0, 0)
    assert interval.low < -0.5 and interval.high > 0.75


def test_mean_difference_by_hand():
    # arm 1: 0, 10, 20 → mean 10, variance 100; arm 2: 0, 0, 0, 4 → mean 1, variance 4
    interval = mean_difference(3, 30, 500, 4, 4, 16)
    se = math.sqrt(100 / 3 + 4 / 4)
    assert interval.estimate == 9
    assert close(interval.low, 9 - 1.959963984540054 * se, 1e-9)
    assert close(interval.high, 9 + 1.959963984540054 * se, 1e-9)


def test_mean_difference_with_a_single_member_arm():
    interval = mean_difference(1, 100, 10000, 0, 0, 0)
    assert interval.estimate == 100 and interval.low == interval.high == 100
