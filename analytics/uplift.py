"""The uplift of a send over its control group: the difference of two conversion rates with
a 95 % interval (Newcombe's hybrid score interval, his method 10, from two Wilson intervals;
the Wald interval beside it), and the difference of two means (revenue per member).

Pure: plain numbers in, plain numbers out (no Django), checked against Newcombe (1998),
"Interval estimation for the difference between independent proportions", Stat. Med. 17.
"""

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal's 97.5 % point


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = n + z * z
    centre = (successes + z * z / 2) / denominator
    half = z * math.sqrt(n) / denominator * math.sqrt(p * (1 - p) + z * z / (4 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_difference_newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval:
    """p1 - p2 (x1/n1 minus x2/n2) with Newcombe's hybrid score interval; None-free: an empty
    arm gives the widest interval."""
    p1 = x1 / n1 if n1 else 0.0
    p2 = x2 / n2 if n2 else 0.0
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Interval(d, low, high)


def rate_difference_wald(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval:
    """p1 - p2 with the simple Wald interval (too narrow for small counts or rates near 0)."""
    p1 = x1 / n1 if n1 else 0.0
    p2 = x2 / n2 if n2 else 0.0
    se = math.sqrt((p1 * (1 - p1) / n1 if n1 else 0.0) + (p2 * (1 - p2) / n2 if n2 else 0.0))
    d = p1 - p2
    return Interval(d, d - z * se, d + z * se)


def mean_difference(
    n1: int, sum1: float, sumsq1: float, n2: int, sum2: float, sumsq2: float, z: float = Z95
) -> Interval:
    """mean1 - mean2 from each arm's count, sum and sum of squares, with a normal interval on
    unpooled (Welch) variances; an arm of fewer than two contributes no variance."""

    def mean_var(n, total, squares):
        if n == 0:
            return 0.0, 0.0
        mean = total / n
        var = max(0.0, (squares - total * total / n) / (n - 1)) if n > 1 else 0.0
        return mean, var / n

    m1, v1 = mean_var(n1, sum1, sumsq1)
    m2, v2 = mean_var(n2, sum2, sumsq2)
    d = m1 - m2
    se = math.sqrt(v1 + v2)
    return Interval(d, d - z * se, d + z * se)
