"""Predicted member value: BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader, Hardie &
Lee 2005b; Hardie's note 025). Pure: numpy and scipy only, no Django.

The likelihoods, the starting point (0.1 for every log-parameter), the time rescaling
(T / max T) and the unpenalized optimizer are the ones lifetimes 0.11.3 uses, so on its bundled
CDNOW sample the fit reproduces the paper (tests/analytics/test_clv_model.py). Inputs are plain
arrays of the per-member summary, one entry per member (or per distinct pattern with `weights`):
  x  = frequency: repeat purchase periods (purchase days after the first)
  tx = recency: last purchase minus first purchase, in periods
  T  = age: as-of minus first purchase, in periods
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1


class FitError(Exception):
    """The optimizer did not converge, or there is nothing to fit."""


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float


def _as_float(*arrays):
    return tuple(np.asarray(a, dtype=float) for a in arrays)


def _compress(*columns):
    """Distinct rows of the columns and how often each occurs: the likelihood is evaluated
    once per pattern, which is what makes a million members cheap (most share a pattern)."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


# --- BG/NBD ---------------------------------------------------------------------------------


def bgnbd_negative_log_likelihood(log_params, x, tx, T, weights) -> float:
    """Mean negative log-likelihood, section 7 of the paper (and Hardie's note 004)."""
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + tx)
    # log(exp(a3) + [x > 0] exp(a4)), stable
    top = np.where(x > 0, np.maximum(a3, a4), a3)
    ll = a1 + a2 + top + np.log(np.exp(a3 - top) + np.where(x > 0, np.exp(a4 - top), 0.0))
    return float(-(weights * ll).sum() / weights.sum())


def bgnbd_fit(frequency, recency, T) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters, time in the unit of recency and T."""
    x, tx, T = _as_float(frequency, recency, T)
    if x.size == 0:
        raise FitError("no members to fit")
    if not (np.all(x >= 0) and np.all(tx >= 0) and np.all(tx <= T) and np.all((x > 0) | (tx == 0))):
        raise FitError("inconsistent summary: need 0 <= recency <= T, recency 0 when frequency 0")
    if T.max() <= 0:
        raise FitError("every member's first purchase is on the as-of date")
    # Rescale time so the largest T is 1 (as lifetimes does): it keeps alpha near 1 for the
    # optimizer; alpha scales back linearly, r, a and b do not depend on the time unit.
    scale = 1.0 / T.max()
    (x, tx, T), weights = _compress(x, tx * scale, T * scale)
    result = minimize(
        bgnbd_negative_log_likelihood,
        x0=np.full(4, 0.1),
        args=(x, tx, T, weights),
        method="BFGS",
        tol=1e-7,
    )
    if not np.isfinite(result.fun) or not _converged(result):
        raise FitError(f"BG/NBD did not converge: {result.message}")
    r, alpha, a, b = np.exp(result.x)
    return BgNbdParams(r=float(r), alpha=float(alpha / scale), a=float(a), b=float(b))


def _converged(result) -> bool:
    # With a numerical gradient BFGS often stops on "precision loss" at the optimum itself;
    # accept that when the gradient is small, as lifetimes' exact gradient would have.
    if result.success:
        return True
    return bool(np.all(np.isfinite(result.x)) and np.max(np.abs(result.jac)) < 1e-4)


def p_alive(params: BgNbdParams, frequency, recency, T):
    """P(the member has not dropped out by T | x, tx, T): the paper's eq. (A10)/note 021."""
    x, tx, T = _as_float(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * np.exp(log_ratio), 0.0)
    return 1.0 / (1.0 + odds)


def expected_purchases(params: BgNbdParams, t, frequency, recency, T):
    """E[purchases in (T, T + t] | x, tx, T]: the paper's eq. (10)."""
    x, tx, T = _as_float(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    # For a < 1 (CDNOW's a is 0.79) both (a - 1) and the bracket are negative: still exact.
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    first = (a + b + x - 1) / (a - 1)
    second = 1 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
    log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    denominator = 1 + np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * np.exp(log_ratio), 0.0)
    return first * second / denominator


# --- Gamma-Gamma ----------------------------------------------------------------------------


def gamma_gamma_negative_log_likelihood(log_params, x, m, weights) -> float:
    """Mean negative log-likelihood of the members' average spends, Hardie's note 025 (1a)."""
    p, q, v = np.exp(log_params)
    ll = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + (p * x) * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )
    return float(-(weights * ll).sum() / weights.sum())


def gamma_gamma_fit(frequency, monetary) -> GammaGammaParams:
    """Gamma-Gamma parameters from the members with repeat purchases (frequency > 0) and a
    positive average spend per repeat purchase; the others carry no information on spend."""
    x, m = _as_float(frequency, monetary)
    keep = (x > 0) & (m > 0)
    if not keep.any():
        raise FitError("no member with a repeat purchase")
    (x, m), weights = _compress(x[keep], m[keep])
    result = minimize(
        gamma_gamma_negative_log_likelihood,
        x0=np.full(3, 0.1),
        args=(x, m, weights),
        method="BFGS",
        tol=1e-7,
    )
    if not np.isfinite(result.fun) or not _converged(result):
        raise FitError(f"Gamma-Gamma did not converge: {result.message}")
    p, q, v = np.exp(result.x)
    return GammaGammaParams(p=float(p), q=float(q), v=float(v))


def expected_average_spend(params: GammaGammaParams, frequency, monetary):
    """E[spend per purchase | x, m]: a weighted average of the member's own mean spend and the
    population mean v p / (q - 1); with no repeat purchase it is the population mean."""
    x, m = _as_float(frequency, monetary)
    p, q, v = params.p, params.q, params.v
    if q <= 1:
        raise FitError("the population mean spend needs q > 1")
    individual_weight = p * x / (p * x + q - 1)
    population_mean = v * p / (q - 1)
    return (1 - individual_weight) * population_mean + individual_weight * m


def expected_value(
    bgnbd: BgNbdParams, gg: GammaGammaParams, frequency, recency, T, monetary, *, days=365
):
    """Expected spend in the next `days`: E[purchases in (T, T + days] | x, tx, T] (BG/NBD)
    times E[spend per purchase | x, m] (Gamma-Gamma). Undiscounted: over one year a discount
    rate changes the ranking of members very little and would only add an assumption."""
    return expected_purchases(bgnbd, days, frequency, recency, T) * expected_average_spend(
        gg, frequency, monetary
    )
