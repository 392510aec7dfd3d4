"""Power-law fits and local exponents for figures of merit against N.

Pure analysis helpers (no physics): they take numbers computed elsewhere,
e.g. τ̄(N) from :func:`qbhelpers.first_max_grid`, and answer "how does f
scale with N?".  A power law f = A·N^a is a straight line on log–log axes,
log f = log A + a·log N, so :func:`fit_power_law` is an ordinary least-squares
line through (log N, log f) with the usual standard errors, and
:func:`local_exponent` is the slope d log f / d log N between neighbouring
points, which shows whether a single exponent describes the data at all.
:func:`fit_log_corrected` fits the other two-parameter law the book meets,
f = (A + B ln N)/√N, a power −1/2 with a logarithmic correction, so the two
can be compared on the same points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LogCorrectedLaw", "PowerLaw", "fit_log_corrected", "fit_power_law", "local_exponent"]


@dataclass(frozen=True)
class PowerLaw:
    """A fitted power law y ≈ prefactor · n^exponent.

    ``exponent`` and ``prefactor`` with their standard errors (one standard
    deviation, from the residual scatter of the log–log least-squares fit;
    they are 0 for an exact power law and NaN when there are no spare points
    left to estimate the scatter, i.e. never here since at least 3 points are
    required).  ``n_range`` = (smallest, largest) n used, ``n_points`` how many,
    ``r2`` the coefficient of determination of the log–log line (1 = perfect),
    ``residuals`` = log y − fitted log y at the points used (natural log, so a
    residual of 0.01 is a 1 % deviation).
    """

    exponent: float
    exponent_stderr: float
    prefactor: float
    prefactor_stderr: float
    n_range: tuple[float, float]
    n_points: int
    r2: float
    residuals: np.ndarray

    def __call__(self, n) -> np.ndarray:
        """The fitted law evaluated at ``n``."""
        return self.prefactor * np.asarray(n, dtype=float) ** self.exponent

    def interval(self, n_sigma: float = 2.0) -> tuple[float, float]:
        """(exponent − n_sigma·stderr, exponent + n_sigma·stderr)."""
        return (self.exponent - n_sigma * self.exponent_stderr,
                self.exponent + n_sigma * self.exponent_stderr)

    @property
    def rms(self) -> float:
        """Root mean square of the residuals in ln y (0.01: 1 % typical deviation)."""
        return float(np.sqrt(np.mean(self.residuals ** 2)))


@dataclass(frozen=True)
class LogCorrectedLaw:
    """A fitted law y ≈ (offset + slope · ln n) / √n.

    ``offset`` A and ``slope`` B from least squares of y√n against ln n;
    ``n_range`` and ``n_points`` the points used; ``residuals`` = ln y − ln of
    the law at those points (as for :class:`PowerLaw`, so the two compare).
    """

    offset: float
    slope: float
    n_range: tuple[float, float]
    n_points: int
    residuals: np.ndarray

    def __call__(self, n) -> np.ndarray:
        """The fitted law evaluated at ``n``."""
        n = np.asarray(n, dtype=float)
        return (self.offset + self.slope * np.log(n)) / np.sqrt(n)

    @property
    def rms(self) -> float:
        """Root mean square of the residuals in ln y."""
        return float(np.sqrt(np.mean(self.residuals ** 2)))

    def local_exponent(self, n) -> np.ndarray:
        """d ln y / d ln n of the law: −1/2 + B/(A + B ln n), which tends to
        −1/2 only logarithmically slowly."""
        n = np.asarray(n, dtype=float)
        return -0.5 + self.slope / (self.offset + self.slope * np.log(n))


def _positive_pair(n, y) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(n, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if n.shape != y.shape:
        raise ValueError(f"n and y must have the same length, got {n.size} and {y.size}")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(y))):
        raise ValueError("n and y must be finite (no NaN or inf)")
    if np.any(n <= 0) or np.any(y <= 0):
        raise ValueError("a power law is fitted on log-log axes: every n and y must be > 0 "
                         f"(got min n = {n.min():g}, min y = {y.min():g})")
    return n, y


def _in_range(n, y, n_min: float | None, n_max: float | None,
              too_few: str) -> tuple[np.ndarray, np.ndarray]:
    """The valid points with n_min ≤ n ≤ n_max; at least 3 of them, else
    ``ValueError`` starting with ``too_few``."""
    n, y = _positive_pair(n, y)
    keep = np.ones(n.size, dtype=bool)
    if n_min is not None:
        keep &= n >= n_min
    if n_max is not None:
        keep &= n <= n_max
    n, y = n[keep], y[keep]
    if n.size < 3:
        raise ValueError(f"{too_few}, got {n.size} (n_min={n_min}, n_max={n_max})")
    return n, y


def _line(x: np.ndarray, z: np.ndarray, what: str) -> tuple[float, float, float]:
    """Least-squares line z = intercept + slope·x: (slope, intercept, Σ(x − x̄)²);
    ``ValueError`` naming ``what`` is undefined when every x is equal."""
    sxx = float(np.sum((x - x.mean()) ** 2))
    if sxx == 0.0:
        raise ValueError(f"all n are equal: {what} is undefined")
    slope = float(np.sum((x - x.mean()) * (z - z.mean())) / sxx)
    return slope, float(z.mean() - slope * x.mean()), sxx


def fit_power_law(n, y, n_min: float | None = None, n_max: float | None = None) -> PowerLaw:
    """Least-squares fit of y = A · n^a on log–log axes.

    Parameters
    ----------
    n : sizes (e.g. numbers of qubits), all > 0.
    y : values at those sizes, all > 0 (pass |y| or a ratio if needed).
    n_min, n_max : fit only the points with n_min ≤ n ≤ n_max (default: all),
        e.g. the large-N range.

    Returns
    -------
    PowerLaw with ``exponent`` a, ``prefactor`` A, their standard errors,
    the n range used, and r² and residuals of the log–log line.

    The errors are the ordinary least-squares ones: with residual variance
    s² = Σr²/(k−2) over k points and x = ln n, stderr(a) = s/√Σ(x−x̄)²;
    stderr(ln A) = s·√(1/k + x̄²/Σ(x−x̄)²), and stderr(A) = A·stderr(ln A)
    (first order).  They measure how well a straight line describes the
    points, not the numerical error of each point (which is tiny here).

    Raises
    ------
    ValueError : fewer than 3 points in the range (2 points fit any power
        law exactly and leave no error estimate), non-positive or non-finite
        values, mismatched lengths, or all n equal.
    """
    n, y = _in_range(n, y, n_min, n_max,
                     "need at least 3 points to fit a power law with an error estimate")
    x, z = np.log(n), np.log(y)
    slope, intercept, sxx = _line(x, z, "the exponent")
    resid = z - (intercept + slope * x)
    k = n.size
    s2 = float(np.sum(resid ** 2)) / (k - 2)
    slope_err = math.sqrt(s2 / sxx)
    intercept_err = math.sqrt(s2 * (1.0 / k + x.mean() ** 2 / sxx))
    szz = float(np.sum((z - z.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid ** 2)) / szz if szz > 0 else 1.0
    prefactor = math.exp(intercept)
    return PowerLaw(exponent=slope, exponent_stderr=slope_err, prefactor=prefactor,
                    prefactor_stderr=prefactor * intercept_err,
                    n_range=(float(n.min()), float(n.max())), n_points=k, r2=r2,
                    residuals=resid)


def fit_log_corrected(n, y, n_min: float | None = None,
                      n_max: float | None = None) -> LogCorrectedLaw:
    """Least-squares fit of y = (A + B ln n)/√n: a straight line through
    (ln n, y√n), on the points with n_min ≤ n ≤ n_max (default: all).

    The same two parameters as a power law, so the residuals of the two fits
    on the same points say which law describes them better.  Raises
    ``ValueError`` for fewer than 3 points in the range, non-positive or
    non-finite values, mismatched lengths, all n equal, or a fitted law that is
    not positive at every point used (its logarithm would be undefined).
    """
    n, y = _in_range(n, y, n_min, n_max, "need at least 3 points to compare two-parameter laws")
    x = np.log(n)
    slope, offset, _ = _line(x, y * np.sqrt(n), "the law")
    fitted = (offset + slope * x) / np.sqrt(n)
    if np.any(fitted <= 0):
        raise ValueError("the fitted law is not positive at every point: it does not describe these data")
    return LogCorrectedLaw(offset=offset, slope=slope, n_range=(float(n.min()), float(n.max())),
                           n_points=int(n.size), residuals=np.log(y) - np.log(fitted))


def local_exponent(n, y) -> np.ndarray:
    """The local slope d ln y / d ln n at every point.

    Centred (second-order, non-uniform) finite differences in x = ln n at
    interior points, one-sided at the two ends; for an exact power law
    y = A·n^a every entry equals a.  A slope that drifts with n means no
    single power law fits.  ``n`` must be strictly increasing, all values > 0,
    at least 2 points.
    """
    n, y = _positive_pair(n, y)
    if n.size < 2:
        raise ValueError(f"need at least 2 points for a slope, got {n.size}")
    if np.any(np.diff(n) <= 0):
        raise ValueError("n must be strictly increasing")
    return np.gradient(np.log(y), np.log(n), edge_order=1)
