"""Initial charger states: photon-number distributions, amplitudes and truncation.

The charger starts in a Fock, coherent or thermal state of mean photon number
``mean`` (n̄); the qubits start in their ground state.  A truncation ``n_cut``
keeps photon numbers 0..n_cut.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln, pdtrc


#: The initial charger states the package knows.
CHARGERS = ("fock", "coherent", "thermal")

#: Default bound on the initial probability (and on the mean-photon share,
#: relative to max(1, n̄)) left beyond the truncation.
TRUNCATION_TOL = 1e-10


def photon_distribution(charger: str, mean: float, n_max: int) -> np.ndarray:
    """Probabilities p_n, n = 0..n_max, of the initial charger state."""
    n = np.arange(n_max + 1)
    if charger == "fock":
        p = np.zeros(n_max + 1)
        m = int(round(mean))
        if m <= n_max:
            p[m] = 1.0
        return p
    if charger == "coherent":
        if mean == 0:
            return (n == 0).astype(float)
        return np.exp(-mean + n * math.log(mean) - gammaln(n + 1))
    if charger == "thermal":
        if mean == 0:
            return (n == 0).astype(float)
        return np.exp(n * math.log(mean / (mean + 1.0)) - math.log(mean + 1.0))
    raise ValueError(f"charger must be one of {CHARGERS}, got {charger!r}")


def _tails(charger: str, mean: float, n_cut: int) -> tuple[float, float]:
    """Probability and mean-photon share beyond ``n_cut``."""
    if charger == "fock":
        return (0.0, 0.0) if n_cut >= round(mean) else (1.0, mean)
    if charger == "thermal":
        if mean == 0:
            return 0.0, 0.0
        # q^{c+1}, q = mean/(mean+1), without underflow trouble for huge means
        prob = math.exp(-(n_cut + 1) * math.log1p(1.0 / mean))
        # sum_{n>c} n p_n = q^{c+1} (c + 1 + mean)
        return prob, prob * (n_cut + 1 + mean)
    if mean > 0 and n_cut < mean:  # the bulk lies beyond: Poisson survival function
        return float(pdtrc(n_cut, mean)), float(mean * pdtrc(n_cut - 1, mean))
    # coherent: sum the (rapidly decaying) tail explicitly
    far = n_cut + 1 + int(20 * math.sqrt(mean + 1) + 50)
    n = np.arange(n_cut + 1, far + 1)
    p = np.exp(-mean + n * math.log(mean) - gammaln(n + 1)) if mean > 0 else np.zeros(n.size)
    return float(p.sum()), float((n * p).sum())


def truncation_error(charger: str, mean: float, n_cut: int) -> float:
    """Largest of the probability beyond n_cut and its mean-photon share / max(1, n̄)."""
    prob, share = _tails(charger, mean, n_cut)
    return max(prob, share / max(1.0, mean))


def required_n_cut(charger: str, mean: float, tol: float = TRUNCATION_TOL) -> int:
    """Smallest photon truncation whose initial tail is below ``tol``.

    The tail shrinks as the truncation grows, so the answer is bracketed by
    doubling and then bisected: a few dozen evaluations of the tail for any
    ``mean`` (the thermal tail is a closed form; the coherent one a sum over
    about 20√n̄ terms)."""
    if charger == "fock":
        return int(round(mean))
    if truncation_error(charger, mean, 0) < tol:
        return 0
    lo, hi = 0, max(int(mean), 1)  # error(lo) >= tol
    while truncation_error(charger, mean, hi) >= tol:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:  # error(lo) >= tol > error(hi)
        mid = (lo + hi) // 2
        if truncation_error(charger, mean, mid) < tol:
            hi = mid
        else:
            lo = mid
    return hi


#: Largest drift of the energy balance E_h + E_c + Q (ħω) that the photon
#: truncation may cause over a run with a warm bath (see :func:`bath_margin`).
BALANCE_DRIFT_TOL = 1e-9


def bath_margin(n_th: float, tol: float = TRUNCATION_TOL, exposure: float = 0.0,
                base: int = 0) -> int:
    """Extra photon levels to keep for photons that a warm bath (n_th > 0) adds.

    Two conditions.  The bath's own thermal tail beyond the margin is below
    ``tol``.  And the energy balance stays within BALANCE_DRIFT_TOL over the
    run: the truncated gain a† cannot lift the top level n_cut, so
    E_h + E_c + Q drifts at the rate 2κ n_th (n_cut+1) P_top, where the top
    level's population P_top is at most about q^margin (q = n_th/(n_th+1), the
    bath's Boltzmann factor, the initial excitations sitting in the ``base``
    levels below the margin).  Over a run of length t_span, ``exposure`` =
    2κ·t_span, the drift is below exposure·n_th·(n_cut+1)·q^margin, so the
    margin grows with the logarithm of the time span."""
    if n_th == 0:
        return 0
    margin = required_n_cut("thermal", n_th, tol) + 1
    if exposure > 0:
        log_q = -math.log1p(1.0 / n_th)
        log_scale = math.log(exposure) + math.log(n_th)  # in logs: either may be tiny

        def excess(m: int) -> float:  # log(drift bound / BALANCE_DRIFT_TOL)
            return log_scale + math.log(base + m + 1) + m * log_q - math.log(BALANCE_DRIFT_TOL)

        while excess(margin) > 0:
            margin += max(1, int(0.5 * excess(margin) / -log_q))
    return margin


def choose_n_cut(charger: str, mean: float, n_qubits: int, n_th: float,
                 n_cut: int | None, tol: float = TRUNCATION_TOL,
                 exposure: float = 0.0) -> int:
    """The photon truncation to use, checking a user-given one.

    At n_th = 0 the total excitation number never grows, so the initial tail
    is the only truncation error.  At n_th > 0 the bath can add photons and the
    qubits can hand theirs back, so a margin is kept (and checked after the
    run by the caller); it grows with ``exposure`` = 2κ·(time span of the
    run), see :func:`bath_margin`.
    """
    # at least one photon level above the vacuum, so that a and a† exist
    need = max(required_n_cut(charger, mean, tol), 1)
    if n_cut is not None:
        if n_cut < need:
            err = truncation_error(charger, mean, n_cut)
            raise ValueError(
                f"n_cut={n_cut} is too small for a {charger} charger with mean_photons={mean:g}: "
                f"the initial photon tail beyond it is {err:.1e} > tolerance {tol:.0e}; "
                f"use n_cut >= {need} (or n_cut=None to choose automatically)"
            )
        return n_cut
    if n_th > 0:
        base = need + n_qubits
        return base + bath_margin(n_th, tol, exposure, base)
    return need


def charger_amplitudes(mean: float, n_cut: int) -> np.ndarray:
    """Amplitudes c_n of the coherent state |α⟩, α = sqrt(n̄) real, n = 0..n_cut
    (not renormalised: the dropped tail is below the truncation tolerance)."""
    n = np.arange(n_cut + 1)
    if mean == 0:
        return (n == 0).astype(float)
    return np.exp(0.5 * (-mean + n * math.log(mean) - gammaln(n + 1)))


def charger_density_matrix(charger: str, mean: float, n_cut: int) -> np.ndarray:
    """Initial charger density matrix in the Fock basis 0..n_cut."""
    if charger == "coherent":
        c = charger_amplitudes(mean, n_cut)
        return np.outer(c, c)
    return np.diag(photon_distribution(charger, mean, n_cut))
