"""Tests of qbhelpers.studies.scaling: power-law fits and local exponents.

Tolerances: an exact power law is a straight line in (ln n, ln y), so the fit
recovers it up to rounding of logs of order 1..10 (≲1e-14): 1e-12 leaves
margin.  Noisy data: the fitted exponent must lie within 3 standard errors of
the true one (a 3-sigma event has probability ~0.3 %; the generator is seeded,
so the test is deterministic).
"""
from __future__ import annotations

import numpy as np
import pytest

from qbhelpers.studies.scaling import (LogCorrectedLaw, PowerLaw, fit_log_corrected, fit_power_law,
                                     local_exponent)

EXACT = 1e-12


@pytest.mark.parametrize("a, A", [(0.5, 1.0), (-0.5, 3.7), (1.0, 0.2), (-1.3, 250.0), (0.0, 2.0)])
def test_exact_power_law_is_recovered(a, A):
    n = np.array([1, 2, 4, 8, 16, 32, 64, 100, 128], dtype=float)
    fit = fit_power_law(n, A * n ** a)
    assert isinstance(fit, PowerLaw)
    assert abs(fit.exponent - a) < EXACT
    assert abs(fit.prefactor - A) < EXACT * A
    assert fit.exponent_stderr < EXACT and fit.prefactor_stderr < EXACT * A
    assert fit.r2 == pytest.approx(1.0, abs=EXACT)
    assert np.all(np.abs(fit.residuals) < EXACT)
    assert fit.n_range == (1.0, 128.0) and fit.n_points == n.size
    assert np.allclose(fit(n), A * n ** a, rtol=EXACT, atol=0)


def test_range_selection_uses_only_points_inside():
    n = np.array([1, 2, 4, 8, 16, 32, 64])
    # a different law below n = 8 must not affect a fit restricted to n >= 8
    y = np.where(n >= 8, 5.0 * n ** -0.25, 1.0 + n)
    fit = fit_power_law(n, y, n_min=8)
    assert fit.n_range == (8.0, 64.0) and fit.n_points == 4
    assert abs(fit.exponent + 0.25) < EXACT
    fit2 = fit_power_law(n, y, n_min=2, n_max=4 * 2)
    assert fit2.n_range == (2.0, 8.0) and fit2.n_points == 3


def test_noisy_power_law_within_three_sigma():
    rng = np.random.default_rng(2022)
    n = np.geomspace(4, 400, 12)
    a, A = -0.42, 1.7
    y = A * n ** a * np.exp(rng.normal(0.0, 0.03, n.size))
    fit = fit_power_law(n, y)
    assert 0 < fit.exponent_stderr < 0.02
    assert abs(fit.exponent - a) < 3 * fit.exponent_stderr
    lo, hi = fit.interval(3.0)
    assert lo < a < hi
    assert 0.9 < fit.r2 <= 1.0


def test_stderr_is_calibrated():
    """Over many noisy data sets the true exponent falls within 2 stderr about as
    often as Student's t with k - 2 = 10 degrees of freedom says (92.7 %)."""
    rng = np.random.default_rng(11)
    n = np.geomspace(4, 400, 12)
    a = 0.37
    z = [(fit.exponent - a) / fit.exponent_stderr
         for fit in (fit_power_law(n, n ** a * np.exp(rng.normal(0.0, 0.05, n.size)))
                     for _ in range(400))]
    inside = np.mean(np.abs(z) < 2.0)
    assert 0.88 < inside < 0.97


def test_stderr_matches_polyfit_covariance():
    rng = np.random.default_rng(3)
    n = np.geomspace(2, 200, 9)
    y = 0.8 * n ** 0.6 * np.exp(rng.normal(0.0, 0.05, n.size))
    fit = fit_power_law(n, y)
    p, cov = np.polyfit(np.log(n), np.log(y), 1, cov="unscaled")
    resid = np.log(y) - np.polyval(p, np.log(n))
    cov = cov * np.sum(resid ** 2) / (n.size - 2)
    assert fit.exponent == pytest.approx(p[0], rel=1e-12)
    assert fit.exponent_stderr == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-10)
    assert fit.prefactor_stderr == pytest.approx(np.exp(p[1]) * np.sqrt(cov[1, 1]), rel=1e-10)


@pytest.mark.parametrize("n, y, match", [
    ([1, 2], [1, 2], "at least 3 points"),
    ([1, 2, 3], [1, 0, 3], "must be > 0"),
    ([1, 2, 3], [1, -2, 3], "must be > 0"),
    ([0, 2, 3], [1, 2, 3], "must be > 0"),
    ([1, 2, 3], [1, np.nan, 3], "finite"),
    ([1, 2, 3], [1, 2], "same length"),
    ([2, 2, 2], [1, 2, 3], "all n are equal"),
])
def test_fit_rejects_bad_input(n, y, match):
    with pytest.raises(ValueError, match=match):
        fit_power_law(n, y)


def test_fit_rejects_too_few_points_in_range():
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_power_law([1, 2, 4, 8, 16], [1, 2, 3, 4, 5], n_min=8)


def test_local_exponent_of_exact_power_law():
    n = np.array([1, 2, 4, 8, 16, 32, 64, 100, 128], dtype=float)  # non-uniform in ln n
    assert np.all(np.abs(local_exponent(n, 3.0 * n ** -0.7) + 0.7) < EXACT)


def test_local_exponent_follows_a_changing_slope():
    # y = n / (1 + n): slope 1 at small n, 0 at large n; exact d ln y/d ln n = 1/(1+n)
    n = np.geomspace(0.01, 1000, 200)
    slope = local_exponent(n, n / (1 + n))
    assert np.allclose(slope[1:-1], 1 / (1 + n[1:-1]), atol=1e-3)
    assert slope[0] > 0.98 and slope[-1] < 0.02


@pytest.mark.parametrize("n, y, match", [
    ([1], [1], "at least 2 points"),
    ([1, 4, 2], [1, 2, 3], "strictly increasing"),
    ([1, 2, 3], [1, 0, 3], "must be > 0"),
])
def test_local_exponent_rejects_bad_input(n, y, match):
    with pytest.raises(ValueError, match=match):
        local_exponent(n, y)


# ------------------------------------------------- the log-corrected law
@pytest.mark.parametrize("A, B", [(1.0, 0.3), (2.5, -0.1), (0.7, 0.0)])
def test_exact_log_corrected_law_is_recovered(A, B):
    n = np.array([4, 8, 16, 32, 64, 128, 256], dtype=float)
    y = (A + B * np.log(n)) / np.sqrt(n)
    law = fit_log_corrected(n, y)
    assert isinstance(law, LogCorrectedLaw)
    assert abs(law.offset - A) < EXACT and abs(law.slope - B) < EXACT
    assert law.rms < EXACT and law.n_points == n.size and law.n_range == (4.0, 256.0)
    assert np.allclose(law(n), y, rtol=EXACT, atol=0)
    # its local exponent is -1/2 + B/(A + B ln n), which local_exponent approaches on a fine grid
    fine = np.geomspace(4, 256, 4001)
    numeric = local_exponent(fine, law(fine))
    assert np.allclose(numeric[1:-1], law.local_exponent(fine)[1:-1], atol=1e-6)


def test_the_two_laws_tell_each_other_apart():
    n = np.array([8, 16, 32, 64, 128, 256], dtype=float)
    log_data = (1.0 + 0.4 * np.log(n)) / np.sqrt(n)
    pow_data = 2.0 * n ** -0.4
    assert fit_log_corrected(n, log_data).rms < 1e-12 < fit_power_law(n, log_data).rms
    assert fit_power_law(n, pow_data).rms < 1e-12 < fit_log_corrected(n, pow_data).rms


def test_log_corrected_fit_range_and_bad_input():
    n = np.array([1, 2, 4, 8, 16, 32])
    y = np.where(n >= 4, (1.0 + 0.2 * np.log(n)) / np.sqrt(n), 5.0)
    law = fit_log_corrected(n, y, n_min=4)
    assert law.n_points == 4 and abs(law.slope - 0.2) < EXACT
    with pytest.raises(ValueError, match="at least 3"):
        fit_log_corrected(n, y, n_min=16)
    with pytest.raises(ValueError, match="> 0"):
        fit_log_corrected([1, 2, 3], [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="not positive"):
        # y sqrt(n) falls steeply with ln n: the fitted line goes negative at the last point
        fit_log_corrected([1, 2, 4, 8], [1.0, 0.5, 0.01, 1e-9])
