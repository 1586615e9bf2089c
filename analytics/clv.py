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
from scipy.special import digamma, expit, gammaln, hyp2f1


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
    return _bgnbd_nll_and_gradient(log_params, x, tx, T, weights)[0]


def _bgnbd_nll_and_gradient(log_params, x, tx, T, weights):
    """The mean negative log-likelihood and its exact gradient in the log-parameters (what
    lifetimes gets from autograd): a numerical gradient stalls on "precision loss" on large,
    real data."""
    r, alpha, a, b = np.exp(log_params)
    repeat = x > 0
    b_x = b + np.maximum(x, 1) - 1
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b_x) - (r + x) * np.log(alpha + tx)
    # log(exp(a3) + [x > 0] exp(a4)), stable; w4 is the share of the second term
    top = np.where(repeat, np.maximum(a3, a4), a3)
    e3 = np.exp(a3 - top)
    e4 = np.where(repeat, np.exp(a4 - top), 0.0)
    ll = a1 + a2 + top + np.log(e3 + e4)
    w4 = e4 / (e3 + e4)
    w3 = 1 - w4

    d_r = (
        digamma(r + x)
        - digamma(r)
        + np.log(alpha)
        - w3 * np.log(alpha + T)
        - w4 * np.log(alpha + tx)
    )
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx))
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w4 / b_x
    total = weights.sum()
    gradient = -np.array(
        [
            r * (weights * d_r).sum(),
            alpha * (weights * d_alpha).sum(),
            a * (weights * d_a).sum(),
            b * (weights * d_b).sum(),
        ]
    )
    return float(-(weights * ll).sum() / total), gradient / total


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
    result = _minimize(_bgnbd_nll_and_gradient, 4, (x, tx, T, weights))
    if result is None:
        raise FitError("BG/NBD did not converge")
    r, alpha, a, b = np.exp(result.x)
    return BgNbdParams(r=float(r), alpha=float(alpha / scale), a=float(a), b=float(b))


def _minimize(function, size, args):
    """BFGS from 0.1 for every log-parameter, as lifetimes; should it stop short (real data
    can be awkward), L-BFGS-B then Nelder-Mead continue from where it stopped. None if none
    of them reaches the optimum."""
    x0 = np.full(size, 0.1)
    for method in ("BFGS", "L-BFGS-B", "Nelder-Mead"):
        if method == "Nelder-Mead":
            result = minimize(
                lambda p: function(p, *args)[0],
                x0=x0,
                method=method,
                options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 20000},
            )
            result.jac = function(result.x, *args)[1]
        else:
            result = minimize(function, x0=x0, jac=True, args=args, method=method, tol=1e-7)
        if np.isfinite(result.fun) and _converged(result):
            return result
        if np.all(np.isfinite(result.x)):
            x0 = result.x
    return None


def _converged(result) -> bool:
    # BFGS may still stop on "precision loss" within rounding of the optimum: accept that when
    # the (exact) gradient there is negligible.
    if result.success:
        return True
    return bool(np.all(np.isfinite(result.x)) and np.max(np.abs(result.jac)) < 1e-4)


def p_alive(params: BgNbdParams, frequency, recency, T):
    """P(the member has not dropped out by T | x, tx, T): the paper's eq. (A10)/note 021."""
    x, tx, T = _as_float(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1)
    log_odds = log_odds + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    # 1 / (1 + exp(log_odds)) without overflow; no drop-out before a first repeat purchase
    return np.where(x > 0, expit(-log_odds), 1.0)


def expected_purchases(params: BgNbdParams, t, frequency, recency, T):
    """E[purchases in (T, T + t] | x, tx, T]: the paper's eq. (10)."""
    x, tx, T = _as_float(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    # Eq. (10) has ((alpha + T) / (alpha + T + t)) ** (r + x) * 2F1(r + x, b + x; a + b + x - 1; z)
    # with z = t / (alpha + T + t). For a frequent buyer (x in the hundreds) the 2F1 overflows
    # while the power underflows; Euler's transformation 2F1(A, B; C; z) =
    # (1 - z) ** (C - A - B) 2F1(C - A, C - B; C; z) folds them into the equal, bounded
    # (1 - z) ** (a - 1) * 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z).
    one_minus_z = (alpha + T) / (alpha + T + t)
    z = t / (alpha + T + t)
    with np.errstate(invalid="ignore", over="ignore"):
        hyp = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        power_times_hyp = one_minus_z ** (a - 1) * hyp
    # With a and b in the millions (every member drops out with nearly the same probability:
    # a fit on 1M members of bench/rfm_bench.py gave a 1.2e6, b 2.2e7) scipy's 2F1 returns
    # nan: sum the series of the untransformed form instead, in logs.
    failed = ~np.isfinite(power_times_hyp)
    if a + b > LARGE_AB or failed.any():
        redo = failed | (a + b > LARGE_AB)
        power_times_hyp = np.where(
            redo,
            _power_times_hyp_series(r, a, b, np.broadcast_to(x, z.shape), z, one_minus_z, redo),
            power_times_hyp,
        )
    # For a < 1 (CDNOW's a is 0.79) both (a - 1) and the bracket are negative: still exact.
    first = (a + b + x - 1) / (a - 1)
    second = 1 - power_times_hyp
    return first * second * p_alive(params, x, tx, T)


# Above this a + b, scipy's hyp2f1 with parameters of that size is not trusted (it returns nan
# or loses digits): eq. (10)'s 2F1 is summed term by term instead.
LARGE_AB = 1e4
_SERIES_TERMS = 100_000


def _power_times_hyp_series(r, a, b, x, z, one_minus_z, mask):
    """(1 - z) ** (r + x) * 2F1(r + x, b + x; a + b + x - 1; z) for the entries of `mask`
    (nan elsewhere), by its series in logs: every term is positive, so there is no
    cancellation, and the power is carried in the first term so nothing overflows. Evaluated
    once per distinct (x, z); each entry stops when its next term is below 1e-17 of its sum."""
    out = np.full(z.shape, np.nan)
    pairs, inverse = np.unique(np.column_stack([x[mask], z[mask]]), axis=0, return_inverse=True)
    px, pz = pairs[:, 0], pairs[:, 1]
    big_a, big_b, big_c = r + px, b + px, a + b + px - 1
    log_term = big_a * np.log1p(-pz)  # j = 0: the power itself
    log_sum = log_term.copy()
    active = np.arange(len(px))
    for j in range(_SERIES_TERMS):
        if active.size == 0:
            break
        i = active
        log_term[i] += (
            np.log(big_a[i] + j) + np.log(big_b[i] + j) - np.log(big_c[i] + j) - np.log(j + 1)
        ) + np.log(pz[i])
        log_sum[i] = np.logaddexp(log_sum[i], log_term[i])
        # the terms fall from the first j where the ratio of consecutive terms is below one
        ratio = (big_a[i] + j + 1) * (big_b[i] + j + 1) * pz[i] / ((big_c[i] + j + 1) * (j + 2))
        active = i[(ratio >= 1) | (log_term[i] - log_sum[i] > -39)]
    else:
        raise FitError("the expected purchases' series did not converge")
    out[mask] = np.exp(log_sum)[inverse.ravel()]
    return out


# --- Gamma-Gamma ----------------------------------------------------------------------------


def gamma_gamma_negative_log_likelihood(log_params, x, m, weights) -> float:
    """Mean negative log-likelihood of the members' average spends, Hardie's note 025 (1a)."""
    return _gamma_gamma_nll_and_gradient(log_params, x, m, weights)[0]


def _gamma_gamma_nll_and_gradient(log_params, x, m, weights):
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
    d_p = x * (digamma(p * x + q) - digamma(p * x) + np.log(m) + np.log(x) - np.log(x * m + v))
    d_q = digamma(p * x + q) - digamma(q) + np.log(v) - np.log(x * m + v)
    d_v = q / v - (p * x + q) / (x * m + v)
    total = weights.sum()
    gradient = -np.array(
        [p * (weights * d_p).sum(), q * (weights * d_q).sum(), v * (weights * d_v).sum()]
    )
    return float(-(weights * ll).sum() / total), gradient / total


def gamma_gamma_fit(frequency, monetary) -> GammaGammaParams:
    """Gamma-Gamma parameters from the members with repeat purchases (frequency > 0) and a
    positive average spend per repeat purchase; the others carry no information on spend."""
    x, m = _as_float(frequency, monetary)
    keep = (x > 0) & (m > 0)
    if not keep.any():
        raise FitError("no member with a repeat purchase")
    (x, m), weights = _compress(x[keep], m[keep])
    result = _minimize(_gamma_gamma_nll_and_gradient, 3, (x, m, weights))
    if result is None:
        raise FitError("Gamma-Gamma did not converge")
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
