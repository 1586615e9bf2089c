"""The pure BG/NBD and Gamma-Gamma module against Fader, Hardie & Lee's CDNOW figures and
against lifetimes 0.11.3 (a test-only dependency) on the data it ships."""

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from analytics import clv

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def cdnow_days():
    """The CDNOW sample's calibration period (1997-01-01 .. 1997-09-30) summarised in days,
    a purchase day counted once: frequency, recency, T and the mean spend of repeat days."""
    raw = pd.read_csv(
        files("lifetimes.datasets") / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer", "customer_2", "date", "qty", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    end = pd.Timestamp("1997-09-30")
    days = raw[raw["date"] <= end].groupby(["customer", "date"])["amount"].sum().reset_index()
    by = days.groupby("customer")
    first, last, count = by["date"].min(), by["date"].max(), by["date"].count()
    return (
        (count - 1).to_numpy(),
        (last - first).dt.days.to_numpy(),
        (end - first).dt.days.to_numpy(),
    )


def test_bgnbd_reproduces_the_paper_on_cdnow(cdnow_days):
    params = clv.bgnbd_fit(*cdnow_days)

    assert len(cdnow_days[0]) == 2357
    # Fader, Hardie & Lee (2005): r 0.243, alpha 4.414 per week (30.895 per day), a 0.793, b 2.426
    assert params.r == pytest.approx(0.2426, rel=1e-3)
    assert params.alpha == pytest.approx(30.895, rel=1e-3)
    assert params.a == pytest.approx(0.7929, rel=1e-3)
    assert params.b == pytest.approx(2.4259, rel=1e-3)


def test_bgnbd_predictions_match_lifetimes(cdnow_days):
    x, tx, T = cdnow_days
    ours = clv.bgnbd_fit(x, tx, T)
    theirs = lifetimes.BetaGeoFitter().fit(x, tx, T)
    sample = np.random.default_rng(11).choice(len(x), 200, replace=False)
    x, tx, T = x[sample], tx[sample], T[sample]

    assert ours.r == pytest.approx(theirs.params_["r"], rel=1e-6)
    assert ours.alpha == pytest.approx(theirs.params_["alpha"], rel=1e-6)
    assert ours.a == pytest.approx(theirs.params_["a"], rel=1e-6)
    assert ours.b == pytest.approx(theirs.params_["b"], rel=1e-6)
    np.testing.assert_allclose(
        clv.p_alive(ours, x, tx, T), theirs.conditional_probability_alive(x, tx, T), atol=1e-8
    )
    for t in (30, 90, 365):
        np.testing.assert_allclose(
            clv.expected_purchases(ours, t, x, tx, T),
            theirs.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T),
            rtol=1e-6,
            atol=1e-6,
        )


def test_bgnbd_closed_forms_on_a_single_member():
    params = clv.BgNbdParams(r=0.25, alpha=30.0, a=0.8, b=2.5)

    # Never came back: alive for sure under BG/NBD (drop-out only happens after a purchase).
    assert clv.p_alive(params, 0, 0, 100) == pytest.approx(1.0)
    # x = 2, tx = 50, T = 100: 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    expected = 1 / (1 + 0.8 / 3.5 * (130 / 80) ** 2.25)
    assert clv.p_alive(params, 2, 50, 100) == pytest.approx(expected)
    # The longer the silence since the last purchase, the less likely alive.
    assert clv.p_alive(params, 2, 90, 100) > clv.p_alive(params, 2, 10, 100)
    assert clv.expected_purchases(params, 0, 2, 50, 100) == pytest.approx(0.0)


def test_gamma_gamma_matches_lifetimes_on_cdnow_summary():
    summary = pd.read_csv(
        files("lifetimes.datasets") / "cdnow_customers_summary_with_transactions.csv"
    )
    ours = clv.gamma_gamma_fit(summary["x"], summary["zbar"])
    repeat = summary[summary["x"] > 0]
    theirs = lifetimes.GammaGammaFitter().fit(repeat["x"], repeat["zbar"])

    assert (ours.p, ours.q, ours.v) == pytest.approx((6.25, 3.74, 15.45), rel=2e-3)
    assert ours.p == pytest.approx(theirs.params_["p"], rel=1e-6)
    assert ours.q == pytest.approx(theirs.params_["q"], rel=1e-6)
    assert ours.v == pytest.approx(theirs.params_["v"], rel=1e-6)
    np.testing.assert_allclose(
        clv.expected_average_spend(ours, summary["x"], summary["zbar"]),
        theirs.conditional_expected_average_profit(summary["x"], summary["zbar"]),
        rtol=1e-4,
    )
    # No repeat purchase: the population mean v p / (q - 1).
    assert clv.expected_average_spend(ours, 0, 0) == pytest.approx(ours.v * ours.p / (ours.q - 1))


def test_expected_value_is_purchases_times_spend():
    bg = clv.BgNbdParams(r=0.25, alpha=30.0, a=0.8, b=2.5)
    gg = clv.GammaGammaParams(p=6.0, q=4.0, v=15.0)

    value = clv.expected_value(bg, gg, 3, 60, 120, 25.0)

    assert value == pytest.approx(
        clv.expected_purchases(bg, 365, 3, 60, 120) * clv.expected_average_spend(gg, 3, 25.0)
    )


def test_fit_refuses_an_impossible_summary():
    with pytest.raises(clv.FitError):
        clv.bgnbd_fit([], [], [])
    with pytest.raises(clv.FitError):
        clv.bgnbd_fit([1], [10], [5])
    with pytest.raises(clv.FitError):
        clv.gamma_gamma_fit([0, 0], [0, 0])


def test_frequent_buyers_stay_finite():
    """Eq. (10) as printed overflows in 2F1 for hundreds of purchase days; the transformed form
    agrees with it where it is finite and stays finite beyond."""
    from scipy.special import hyp2f1

    params = clv.BgNbdParams(r=0.8, alpha=20.0, a=1.3, b=3.0)
    r, alpha, a, b, t, T = 0.8, 20.0, 1.3, 3.0, 365, 400
    for x in (3, 50):
        printed = (
            (a + b + x - 1)
            / (a - 1)
            * (
                1
                - ((alpha + T) / (alpha + T + t)) ** (r + x)
                * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
            )
            * clv.p_alive(params, x, T, T)
        )
        assert clv.expected_purchases(params, t, x, T, T) == pytest.approx(printed, rel=1e-9)
    for x in (600, 5000):
        assert np.isfinite(clv.expected_purchases(params, t, x, T, T))
        assert (
            clv.expected_purchases(params, t, x, T, T) > x * t / T * 0.5
        )  # dropping out is still possible
        assert clv.p_alive(params, x, 10, T) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("a", "b"), [(0.7929, 2.4259), (5.0, 20.0), (40.0, 900.0)])
def test_the_series_of_eq_10_equals_scipys_2f1_where_that_works(a, b):
    from scipy.special import hyp2f1

    r, alpha = 0.2426, 4.414
    x = np.array([0.0, 1, 3, 12, 40, 0, 7])
    T = np.array([1.0, 30, 200, 400, 700, 700, 60])
    for t in (90, 365):
        z = t / (alpha + T + t)
        scipy_value = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        series = clv._power_times_hyp_series(r, a, b, x, z, 1 - z, np.ones(len(x), bool))
        assert series == pytest.approx(scipy_value, rel=1e-10)


def test_expected_purchases_stay_finite_when_a_and_b_run_into_millions():
    """A fit on 1M members of bench/rfm_bench.py: scipy's 2F1 gave nan for every member. With
    a and b that large the drop-out probability is a fixed p = a / (a + b), and eq. (10) tends
    to (1 / p) (1 - ((1 - z) / (1 - (1 - p) z)) ** (r + x)) P(alive)."""
    bg = clv.BgNbdParams(r=0.15256, alpha=1.48536, a=1240837.2, b=21883093.4)
    x = np.array([0.0, 1, 2, 5, 30, 120])
    T = np.array([0.0, 10, 100, 365, 500, 720])
    tx = np.minimum(T, x * 5)
    p = bg.a / (bg.a + bg.b)
    for t in (90, 365):
        got = clv.expected_purchases(bg, t, x, tx, T)
        z = t / (bg.alpha + T + t)
        limit = (1 - ((1 - z) / (1 - (1 - p) * z)) ** (bg.r + x)) / p
        assert np.all(np.isfinite(got))
        assert got == pytest.approx(limit * clv.p_alive(bg, x, tx, T), rel=1e-4)
