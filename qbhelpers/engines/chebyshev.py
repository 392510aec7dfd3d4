"""Chebyshev propagation of the excitation-number sectors (the fast engine).

The generator L of one sector (see :mod:`.sectors`) is linear and
time-independent, so e^{tL} can be expanded in Chebyshev polynomials of a
shifted and scaled generator X = (L − σ)/γ:

    e^{tL} v = e^{tσ} Σ_m ε_m I_m(tγ) T_m(X) v,   ε_0 = 1, ε_{m>0} = 2,

with I_m the modified Bessel functions (for γ = ic: I_m(itc) = i^m J_m(tc),
the Jacobi–Anger expansion).  The numerical range of L (not only its
spectrum: the dissipator is far from normal) lies in the "stadium"
i[−W, W] + disc(−C, r) (W: spread of the commutator with H; the disc holds
the dissipator's numerical range, see :func:`dissipator_disc`); σ = −C and γ
are chosen so that an ellipse with foci σ ± γ encloses it, and the step h so
that the series is short and its rounding is not amplified by more than 1e5.
Only the blocks that carry weight are propagated (see
:class:`SectorPropagator`).

Why this is fast: it needs about as many applications of L as the phase
W·t, the minimum for any polynomial method, while explicit Runge–Kutta is
held by its stability region to several times more.  And everything the book
measures (energies, dE_h/dt, heat, the holder and charger states) is a
*linear* functional of ρ: evaluating it on every T_m v gives its value at
every time inside the step for free, so τ̄ is found by root-finding on an
exact scalar series and no state is ever stored on a time grid.
"""
from __future__ import annotations

import functools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ClassVar, Iterator

import numba
import numpy as np
from scipy.linalg import eigvalsh_tridiagonal
from scipy.special import gammaln

from ..physics.ergotropy import holder_ergotropy
from .base import (SEARCH_WINDOW, Chunk, Engine, Estimate, Measurement, Method, Samples,
                   Setup, samples_from_states, time_scale)
from .cost import chebyshev_estimate
from .sectors import (Sector, SectorLayout, _block_coefficients, place_band,
                      sector_state_size)

#: Bound on Σ_m (m+1) |a_m| ρ^m, the worst-case amplification of rounding by
#: one step: at most 1e5 · 1.1e-16 ≈ 1e-11 of the state's norm per step, 1e-9
#: over a hundred steps, below the 1e-8 the book promises (the tests compare
#: runs at 1e3 and at this cap; a cap of 1e4 cost 8 % more applications).
AMPLIFICATION = 1e5
#: Series truncation: drop terms below this (states have norm ≤ 1).
SERIES_TOL = 1e-15
MAX_TERMS = 600


@numba.njit(cache=True, fastmath=True, inline="always", nogil=True)
def _block(T, Tprev, acc, b, a_prev, a_new, accumulate, f, sign, c_row, cp, dec_r, dp, jmp_r,
           jp, gin_r, gp, lo_r, hi_r, hi_c, sigma):
    """One block b of :func:`recurrence`: Tprev[b] ← f·(L̃ − σ)T[b] + sign·Tprev[b]
    (with ``accumulate``, also acc[b] += a_prev·T[b] + a_new·Tprev[b])."""
    nb, m, _ = T.shape
    bu = min(b + 1, nb - 1)
    bd = max(b - 1, 0)
    end = hi_c[b] + 2
    for i in range(lo_r[b], hi_r[b] + 1):
        ip = min(i + 1, m - 1)
        im = max(i - 1, 0)
        crh = c_row[b, i]  # zero for i = m − 1
        crl = c_row[b, i - 1] if i > 0 else 0.0
        ju = jmp_r[b, i] if b + 1 < nb else 0.0
        gd = gin_r[b, i] if b > 0 else 0.0
        si = sigma + dec_r[b, i]
        if gd == 0.0 and not accumulate:  # zero-temperature bath
            for x in range(1, end):
                w = (-(si + dp[b, x]) * T[b, i, x] + crh * T[b, ip, x]
                     - crl * T[b, im, x] - cp[b, x - 1] * T[b, i, x - 1]
                     + cp[b, x] * T[b, i, x + 1] + ju * jp[b, x] * T[bu, i, x])
                Tprev[b, i, x] = f * w + sign * Tprev[b, i, x]
        elif gd == 0.0:
            for x in range(1, end):
                here = T[b, i, x]
                w = (-(si + dp[b, x]) * here + crh * T[b, ip, x]
                     - crl * T[b, im, x] - cp[b, x - 1] * T[b, i, x - 1]
                     + cp[b, x] * T[b, i, x + 1] + ju * jp[b, x] * T[bu, i, x])
                new = f * w + sign * Tprev[b, i, x]
                Tprev[b, i, x] = new
                acc[b, i, x] += a_prev * here + a_new * new
        elif not accumulate:
            for x in range(1, end):
                w = (-(si + dp[b, x]) * T[b, i, x] + crh * T[b, ip, x]
                     - crl * T[b, im, x] - cp[b, x - 1] * T[b, i, x - 1]
                     + cp[b, x] * T[b, i, x + 1] + ju * jp[b, x] * T[bu, i, x]
                     + gd * gp[b, x] * T[bd, i, x])
                Tprev[b, i, x] = f * w + sign * Tprev[b, i, x]
        else:
            for x in range(1, end):
                here = T[b, i, x]
                w = (-(si + dp[b, x]) * here + crh * T[b, ip, x]
                     - crl * T[b, im, x] - cp[b, x - 1] * T[b, i, x - 1]
                     + cp[b, x] * T[b, i, x + 1] + ju * jp[b, x] * T[bu, i, x]
                     + gd * gp[b, x] * T[bd, i, x])
                new = f * w + sign * Tprev[b, i, x]
                Tprev[b, i, x] = new
                acc[b, i, x] += a_prev * here + a_new * new


@numba.njit(cache=True, fastmath=True, nogil=True)
def recurrence(T, Tprev, acc, a_prev, a_new, accumulate, two, sign, c_row, cp, dec_r, dp,
               jmp_r, jp, gin_r, gp, lo, hi, lo_r, hi_r, hi_c, sigma, cinv,
               d, n_row, n_cut, nh, ncg, tr, fout):
    """Tprev ← two·(L̃ − σ)T/c + sign·Tprev (in place); with ``accumulate``
    also acc += a_prev·T + a_new·Tprev (the series takes its terms two at a
    time, while both are in hand: one pass over acc per two applications);
    and adds the :func:`functionals` of the new Tprev to ``fout`` (sector d,
    band lengths nh and ncg from :func:`bands`, ``tr``: stored transposed, see
    :meth:`.sectors.Sector.transpose`), block by block as each is
    written: read afterwards, the diagonals' scattered cache lines cost a
    sixth of the run.

    L̃ is the generator in the gauge |n, k⟩ → i^k |n, k⟩, where H becomes
    i·A with A real antisymmetric (A[k, k+1] = c_k), so −i[H, ρ] = Aρ − ρA
    is real.  dec = decay rate of an entry's row/column, jmp = √ of the loss
    jump weight from one excitation up, gin = same for the gain jump from
    one excitation down.  sign = +1 for foci on the imaginary axis
    (S_{m+1} = 2Y S_m + S_{m−1}), −1 for real foci (T_{m+1} = 2X T_m −
    T_{m−1}); for the first term two = 1 and Tprev = 0.

    Storage is *padded*: entry (b, i, j) of the sector sits at [b, i, j+1]
    and the columns 0 and m+1 hold zeros, as do the column coefficients
    cp, dp, jp, gp (padded the same way).  Neighbours that fall outside
    the sector are read from clamped indices with zero coefficients, and
    every row is swept from column 0 (entries outside the sector have zero
    coefficients and stay zero), so the inner loop has no branches and no
    negative indices and vectorises.  Only the *active* blocks lo..hi are
    swept; the others hold zeros in every work array.  The kernel itself is
    single-threaded (Numba's parallel loops, with another process on the
    machine, cost 8–150 times more per call in thread wake-ups); the caller
    shares a sweep by giving threads disjoint block ranges (see
    :meth:`SectorPropagator.step`)."""
    f = two * cinv
    for b in range(lo, hi + 1):
        _block(T, Tprev, acc, b, a_prev, a_new, accumulate, f, sign, c_row, cp, dec_r, dp,
               jmp_r, jp, gin_r, gp, lo_r, hi_r, hi_c, sigma)
        # the functionals of the new term's block, while it is still in cache
        block_functionals(Tprev, b, d, c_row, n_row, n_cut, nh, ncg, tr, fout)


@numba.njit(cache=True, nogil=True)
def functionals(R, d, c_row, n_row, n_cut, n_qubits, with_charger, lo, hi, tr):
    """Linear functionals of a (gauge-transformed, real, padded) sector array,
    summed over the blocks lo..hi (the others are zero).

    Layout: [trace, E_h, E_c, dE_h/dt, top-level population] (sector 0 only,
    zeros otherwise), then the holder band ρ̃_h[i, i−d] (i = d..N; the physical
    ρ_h[i, i−d] is i^d times it), then (if ``with_charger``) the charger band
    ρ_c[n, n−d] (n = d..n_cut; unchanged by the gauge).
    dE_h/dt = 2g Im⟨aJ₊⟩ = −Σ c_k (ρ̃[k+1, k] + ρ̃[k, k+1]).
    Entry (b, i, j) is stored at R[b, i, j + 1], or at R[b, j, i + 1] when
    ``tr`` (a sector d > 0 stored transposed); ``n_row`` holds the photon
    numbers of the rows i either way (:attr:`.sectors.Sector.photons`).
    """
    nh, ncg = bands(d, n_qubits, n_cut, with_charger)
    out = np.zeros(5 + nh + ncg)
    for b in range(lo, hi + 1):
        block_functionals(R, b, d, c_row, n_row, n_cut, nh, ncg, tr, out)
    return out


@numba.njit(cache=True, nogil=True)
def bands(d, n_qubits, n_cut, with_charger):
    """Lengths of the holder and charger bands in :func:`functionals`."""
    nh = n_qubits + 1 - d if d <= n_qubits else 0
    ncg = (int(n_cut) + 1 - d) if (with_charger and d <= n_cut) else 0
    return nh, ncg


@numba.njit(cache=True, nogil=True)
def block_functionals(R, b, d, c_row, n_row, n_cut, nh, ncg, tr, out):
    """Add block b's share of :func:`functionals` to ``out``."""
    m = R.shape[1]
    for i in range(m):
        nr = n_row[b, i]
        if nr < 0:
            continue
        if d == 0:
            p = R[b, i, i + 1]
            out[0] += p
            out[1] += i * p
            out[2] += nr * p
            if nr == n_cut:
                out[4] += p
            if i + 1 < m:
                out[3] -= c_row[b, i] * (R[b, i, i + 2] + R[b, i + 1, i + 1])
        if i >= d and nh > 0:
            out[5 + i - d] += R[b, i - d, i + 1] if tr else R[b, i, i - d + 1]
        if ncg > 0 and nr >= d:
            out[5 + nh + int(nr) - d] += R[b, i, i + 1]


@numba.njit(cache=True, nogil=True)
def block_norms(R, lo, hi, diagonal):
    """For every block lo..hi of a padded sector array: its trace (``diagonal``:
    sector 0, whose blocks ρ_KK are positive, so this is their trace norm) or
    its entrywise 1-norm (an upper bound on the trace norm of any block)."""
    nb, m, _ = R.shape
    out = np.zeros(hi - lo + 1)
    for b in range(lo, hi + 1):
        s = 0.0
        if diagonal:
            for i in range(m):
                s += R[b, i, i + 1]
        else:
            for i in range(m):
                for x in range(1, m + 1):
                    s += abs(R[b, i, x])
        out[b - lo] = s
    return out


@numba.njit(cache=True, nogil=True)
def bessel_table(x, n, modified):
    """J_m(x) (``modified=False``) or I_m(x)·e^{−x} (``modified=True``) for
    m = 0..n−1 at every x ≥ 0, shape (len(x), n).

    Miller's backward recurrence (J_{m−1} = (2m/x) J_m − J_{m+1}; for I_m
    with + instead of −), started well above max(n, x) and normalised with the
    sum rule J_0 + 2ΣJ_{2k} = 1 (I_0 + 2ΣI_k = e^x); values are rescaled on
    the way down to avoid overflow.  Accurate to a few 1e-16 absolute (better
    than SciPy's ``jv`` for x of hundreds, checked in the tests against an
    extended-precision run), and about 100 times faster than evaluating
    ``jv`` element by element."""
    out = np.zeros((x.size, n))
    for i in range(x.size):
        xi = x[i]
        if xi == 0.0:
            out[i, 0] = 1.0
            continue
        top = max(n, int(xi))
        start = top + 20 + int(math.sqrt(40.0 * top))
        start += start % 2
        two_over_x = 2.0 / xi
        above = 0.0  # J_{m+1}
        here = 1e-280  # J_m, arbitrary scale
        norm = 0.0
        for m in range(start, 0, -1):
            if modified:
                below = above + m * two_over_x * here
            else:
                below = m * two_over_x * here - above
            above, here = here, below
            k = m - 1  # here = J_k
            if k < n:
                out[i, k] = here
            if modified or k % 2 == 0:
                norm += here if k == 0 else 2.0 * here
            if abs(here) > 1e250:
                here *= 1e-250
                above *= 1e-250
                norm *= 1e-250
                for q in range(k, n):
                    out[i, q] *= 1e-250
        for q in range(n):
            out[i, q] /= norm
    return out


# ------------------------------------------------------------ expansion set-up
def block_spreads(c: np.ndarray) -> np.ndarray:
    """λ_max of every block's interaction H (rows of couplings ``c``, shape (nb, N+1)):
    the Tavis–Cummings blocks are tridiagonal with zero diagonal, their spectra
    symmetric about 0."""
    out = np.zeros(c.shape[0])
    for b in range(c.shape[0]):
        e = c[b, :-1]
        if np.any(e):
            out[b] = eigvalsh_tridiagonal(np.zeros(e.size + 1), e, select="i",
                                          select_range=(e.size, e.size))[0]
    return out


def commutator_spread(sec: Sector) -> float:
    """W = max_b [λ_max(H_row) + λ_max(H_col)]: the spectrum of −i[H, ·] lies in
    [−iW, iW]."""
    if not sec.c_row.size:
        return 0.0
    return float(np.max(block_spreads(sec.c_row) + block_spreads(sec.c_col)))


@dataclass(frozen=True)
class Expansion:
    sigma: float
    gamma: complex
    h: float
    rho: float  # ellipse parameter of the spectrum's corners

    @property
    def imaginary_foci(self) -> bool:
        return self.gamma.real == 0.0

    @property
    def c(self) -> float:
        return abs(self.gamma)

    def coefficients(self, t: np.ndarray, n_terms: int) -> np.ndarray:
        """Real coefficients of the real vectors S_m: e^{tL}v = Σ_m a_m(t) S_m,
        shape (len(t), n_terms), t ≥ 0.  Imaginary foci: a_m = ε_m e^{tσ} J_m(tc)
        and S_m = i^m T_m(X)v; real foci: a_m = ε_m e^{tσ} I_m(tc), S_m = T_m(X)v.
        The Bessel functions come from :func:`bessel_table`."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if self.imaginary_foci:
            a = bessel_table(t * self.c, n_terms, False)
            a *= np.exp(t * self.sigma)[:, None]
        else:  # I_m(x) = e^x · (I_m(x) e^{-x})
            a = bessel_table(t * self.c, n_terms, True)
            a *= np.exp(t * (self.sigma + self.c))[:, None]
        a[:, 1:] *= 2.0
        return a

    def log_coefficients(self, t: np.ndarray, n_terms: int) -> np.ndarray:
        """log |a_m(t)|, computed without letting e^{tσ} underflow."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        b = np.abs(bessel_table(t * self.c, n_terms, not self.imaginary_foci))
        with np.errstate(divide="ignore"):
            out = np.log(b)
        if not self.imaginary_foci:  # I_m(x) = (I_m(x) e^{-x}) e^{x}
            out += (t * self.c)[:, None]
        out += (t * self.sigma)[:, None]
        out[:, 1:] += math.log(2.0)
        return out

    def antiderivative(self, f: np.ndarray, h: float) -> np.polynomial.Chebyshev:
        """P(s) = ∫_0^s Σ_m a_m(u) f_m du on [0, h], as a Chebyshev polynomial.

        The integrand is an entire function of u whose Chebyshev coefficients
        on [0, h] fall off super-exponentially beyond degree (c + |σ|)h/2 (the
        bandwidth of J_m(cu) or I_m(cu) times e^{σu}); it is interpolated at
        degree 0.75(c + |σ|)h + 40 (a 50 % margin plus 40 terms, enough for
        rounding-level accuracy: the tests compare with a quadrature of twice
        that order) and integrated exactly.  One evaluation of the
        coefficients per step serves every output time inside it."""
        f = np.asarray(f)
        deg = int(0.75 * (self.c + abs(self.sigma)) * h) + 40
        cheb = np.polynomial.Chebyshev.interpolate(
            lambda u: (self.coefficients(u, f.size) @ f).real, deg, domain=[0.0, h])
        return cheb.integ(lbnd=0.0)

    def n_terms(self, h: float) -> int:
        """Terms needed for a step h: all later |a_m| ρ^m < SERIES_TOL."""
        return self.terms_and_amplification(h)[0]

    def terms_and_amplification(self, h: float) -> tuple[int, float]:
        """(terms needed for a step h, Σ_m (m+1)|a_m| ρ^m over them)."""
        n = min(MAX_TERMS, int(1.5 * self.c * h) + 60)
        while True:
            logw = self.log_coefficients(np.array([h]), n)[0] + np.arange(n) * math.log(self.rho)
            big = np.nonzero(logw > math.log(SERIES_TOL))[0]
            if n >= MAX_TERMS or not big.size or big[-1] < n - 10:
                k = min(int(big[-1]) + 2, n) if big.size else min(2, n)
                lw = logw[:k] + np.log(np.arange(k) + 1.0)
                amp = float(np.exp(lw).sum()) if np.all(lw < 700) else math.inf
                return (min(k, MAX_TERMS) if big.size else 2), amp
            n = min(MAX_TERMS, 2 * n)


def _rho(x: complex) -> float:
    w = x + np.sqrt(x - 1) * np.sqrt(x + 1)
    return float(max(abs(w), 1 / abs(w)))


def dissipator_disc(sec: Sector, kappa: float, n_th: float, n_cut: int,
                    blocks: slice = slice(None)) -> tuple[float, float]:
    """A disc (centre −C, radius r) that holds the numerical range of the
    dissipator on a sector (or on its blocks ``blocks``).

    The dissipator moves weight between neighbouring excitation blocks (the
    jumps aρa† and a†ρa) and is far from normal, so the spectrum alone does
    not control a polynomial expansion: the numerical range does (Crouzeix:
    ||p(L)|| ≤ (1+√2) max of |p| over it).  In the Hilbert–Schmidt product
    the numerical range of D lies in the disc of radius ||D + C|| about −C,
    and ||D + C|| ≤ √(max row sum · max column sum) of |D + C| entry by entry
    (Schur's test).  At zero temperature an entry decays at Γ = κ(n + n') and
    receives from one excitation up 2κ√((n+1)(n'+1)) ≤ Γ + 2κ, so C = max Γ
    gives r ≈ max Γ + 2κ: a disc from −2 max Γ to 0, round where the old
    bounding rectangle had corners.  C is chosen among a few multiples of
    max Γ for the smallest radius (a warm bath shifts the optimum)."""
    dr, dc, jr, jc, gr, gc = _entry_coefficients(sec, kappa, n_th, n_cut)
    vr, vc = sec.n_row[blocks] >= 0, sec.n_col[blocks] >= 0
    coef = (dr[blocks], dc[blocks], jr[blocks], jc[blocks], gr[blocks], gc[blocks])
    gamma_max = _max_decay(vr, vc, coef[0], coef[1])
    if gamma_max == 0.0:
        return 0.0, 0.0
    best = (0.0, np.inf)
    for f in (0.8, 0.9, 1.0, 1.1):
        C = f * gamma_max
        row, col = _disc_sums(vr, vc, *coef, C)
        r = math.sqrt(row * col)
        if r < best[1]:
            best = (C, r)
    return best


@numba.njit(cache=True, nogil=True)
def _max_decay(vr, vc, dr, dc):
    nb, m = vr.shape
    top = 0.0
    for b in range(nb):
        for i in range(m):
            if vr[b, i]:
                for j in range(m):
                    if vc[b, j]:
                        top = max(top, dr[b, i] + dc[b, j])
    return top


@numba.njit(cache=True, nogil=True)
def _disc_sums(vr, vc, dr, dc, jr, jc, gr, gc, C):
    """Largest row and column sums of |D + C| over the valid entries (b, i, j).

    Row (b, i, j): |C − Γ| plus the loss jump from (b+1, i, j), jr[b,i]·jc[b,j],
    and the gain jump from (b−1, i, j), gr[b,i]·gc[b,j].  Column (b, i, j):
    |C − Γ| plus where it feeds: the loss jump into (b−1), jr[b−1,i]·jc[b−1,j],
    and the gain jump into (b+1), gr[b+1,i]·gc[b+1,j]."""
    nb, m = vr.shape
    row, col = 0.0, 0.0
    for b in range(nb):
        for i in range(m):
            if not vr[b, i]:
                continue
            for j in range(m):
                if not vc[b, j]:
                    continue
                base = abs(C - dr[b, i] - dc[b, j])
                rs = base
                cs = base
                if b + 1 < nb:
                    rs += jr[b, i] * jc[b, j]
                    cs += gr[b + 1, i] * gc[b + 1, j]
                if b > 0:
                    rs += gr[b, i] * gc[b, j]
                    cs += jr[b - 1, i] * jc[b - 1, j]
                row = max(row, rs)
                col = max(col, cs)
    return row, col


def stadium(W: float, C: float, r: float, points: int = 256) -> np.ndarray:
    """Points on the boundary arcs of i[−W, W] + disc(−C, r), the region that
    holds the numerical range of the generator: the commutator with H is
    anti-Hermitian with spectrum in i[−W, W], the dissipator's numerical range
    lies in the disc, and the numerical range of a sum lies in the sum of the
    numerical ranges.  The region is convex and the Chebyshev ellipse
    parameter is quasi-convex, so its maximum over the region is on these arcs."""
    th = np.linspace(0.0, np.pi, points)
    top = -C + r * np.exp(1j * th) + 1j * W
    return np.concatenate([top, top.conjugate()])


def _round_up(x: float) -> float:
    """Round up to a geometric grid of ratio 1.02 (so that nearby problems share
    a cached expansion; a larger bound only encloses the spectrum more)."""
    if x <= 0:
        return 0.0
    return float(1.02 ** math.ceil(math.log(x) / math.log(1.02)))


def choose_expansion(W: float, C: float, r: float) -> Expansion:
    """Pick σ, γ and the step h that minimise the number of generator
    applications per unit time, with rounding amplification ≤ AMPLIFICATION,
    for a numerical range inside i[−W, W] + disc(−C, r).  The inputs are
    rounded up to a geometric grid of ratio 1.02 (C to the grid, r enlarged by
    the shift) so that nearby problems share a cached expansion; a larger
    region only encloses the numerical range more."""
    C_grid = _round_up(C)
    return _choose_expansion(_round_up(W), C_grid, _round_up(r + abs(C_grid - C)))


@functools.lru_cache(maxsize=1024)
def _choose_expansion(W: float, C: float, r: float) -> Expansion:
    scale = max(W + r, 1e-300)
    # a 2 % safety margin on the region
    points = stadium(1.02 * W, C, 1.02 * r + 1e-12 * scale)
    sigma = -C

    def rho_of(gamma: complex) -> float:
        x = (points - sigma) / gamma
        w = x + np.sqrt(x - 1) * np.sqrt(x + 1)
        return float(np.maximum(np.abs(w), 1 / np.abs(w)).max())

    def best_step(gamma: complex, hs: np.ndarray) -> tuple[float, Expansion | None]:
        """The step among ``hs`` (times |γ|) with the fewest terms per unit time."""
        base = Expansion(sigma, complex(gamma), 0.0, rho_of(gamma))
        best, cost = None, np.inf
        for x in hs:  # the amplification grows with h: the first infeasible h ends the scan
            h = x / abs(gamma)
            n, amp = base.terms_and_amplification(h)
            if n >= MAX_TERMS - 10 or amp > AMPLIFICATION:
                break
            if n / h < cost:
                best, cost = Expansion(sigma, complex(gamma), float(h), base.rho), n / h
        return cost, best

    # foci on the imaginary axis (Hamiltonian-dominated) or, when the disc is
    # wide, on the real axis; a coarse scan, then a finer one around the best
    shapes = [("imag", f) for f in np.geomspace(0.5, 2.0, 7)]
    if r > 0.3 * W:
        shapes += [("real", f) for f in np.geomspace(0.5, 1.5, 5)]

    def focus(kind: str, f: float) -> complex:
        return 1j * scale * f if kind == "imag" else complex(r * f)

    coarse_h = np.geomspace(0.5, 300.0, 20)
    results = [(best_step(focus(k, f), coarse_h), k, f) for k, f in shapes]
    (cost, best), kind, f0 = min(results, key=lambda x: x[0][0])
    if best is not None:
        x0 = best.h * abs(best.gamma)
        ratio_f = 2.0 ** (1 / 6) if kind == "imag" else 1.5 ** (1 / 8)
        for f in f0 * ratio_f ** np.linspace(-1, 1, 5):
            c, e = best_step(focus(kind, f), x0 * (300 / 0.5) ** (np.linspace(-1, 1, 9) / 19))
            if c < cost:
                cost, best = c, e
    if best is None:  # tiny steps always work
        gamma = focus("imag", 0.5)
        best = Expansion(sigma, complex(gamma), 0.25 / abs(gamma), rho_of(gamma))
    return best


# ------------------------------------------------------------ propagation
#: Weighted budget, relative to max(1, excitations), for the blocks dropped from
#: the top of a sector during a run (see :meth:`SectorPropagator.adapt`).
TRIM_TOL = 1e-11
#: … and, relative to the excitations the active blocks still hold, for what
#: one drop may take.
TRIM_REL = 1e-10
#: Bound, relative to the sector's norm, on the weight that may leave the
#: active blocks through their lower edge during one step.
LEAK_TOL = 1e-16


class SectorPropagator:
    """Steps one sector forward, recording its functionals.

    Works in the real gauge |n, k⟩ → i^k |n, k⟩ on *padded* arrays (see
    :func:`_make_recurrence`): :meth:`initial` makes one from the nonzero
    entries of an initial sector, :meth:`step` advances it and
    :meth:`functionals` reads it.  The propagator owns three work arrays and
    recycles them: the array :meth:`step` receives becomes a work array, the
    one it returns is the new state.

    Only the *active* blocks lo..hi are computed.  At zero temperature weight
    only flows down in K, so (:meth:`adapt`, at every step boundary)

    * blocks not yet reached are left out until weight can arrive: the active
      range always reaches far enough below the lowest populated block that
      the weight that could leak out of it within the next step, bounded by
      the Poisson tail of the number of photon losses, is below LEAK_TOL of the
      sector's norm;
    * top blocks whose weight has fallen below the tolerance are dropped: as
      long as their trace norms, weighted by what they could still change in
      any reported number (photons, qubit energy, the holder state's
      ergotropy), add up to less than TRIM_TOL · max(1, excitations) over the
      whole run, and each drop takes less than TRIM_REL of the excitations
      the active blocks still hold (so a tiny signal is never dropped whole);
      the expansion is then chosen again for the smaller range.

    The dynamics is a contraction in trace norm (it is trace preserving and
    completely positive), so what is dropped or leaks changes every later value
    by at most its weighted norm: the error is bounded by these budgets (the
    bounds are checked in tests/test_chebyshev.py).  With a warm bath (weight
    also flows up) every block stays active.
    """

    def __init__(self, sec: Sector, kappa: float, n_th: float, n_cut: int,
                 n_qubits: int, with_charger: bool = False, *,
                 spreads: np.ndarray | None = None, scale: float = 1.0):
        self.sec = sec
        self.kappa, self.n_th, self.n_cut = kappa, n_th, n_cut
        self.n_qubits = n_qubits
        self.with_charger = with_charger
        nb = sec.shape[0]
        dr, dc, jr, jc, gr, gc = _entry_coefficients(sec, kappa, n_th, n_cut)
        self._coef = (sec.c_row, _pad(sec.c_col), dr, _pad(dc), jr, _pad(jc), gr, _pad(gc))
        self.lo_r, self.hi_r = _ranges(sec.n_row >= 0)
        lo_c, self.hi_c = _ranges(sec.n_col >= 0)
        # work per block: its valid rows, each swept from column 0 to the last valid one
        rows = np.maximum(self.hi_r - self.lo_r + 1, 0)
        self._work = rows * (self.hi_c + 1) * (self.hi_c >= lo_c)
        if spreads is None:  # λ_max of the row and column blocks
            self._lam = block_spreads(sec.c_row) + block_spreads(sec.c_col)
        else:  # spreads[K] for K = 0..K_max, shared by every sector of a layout
            self._lam = spreads[sec.d:sec.d + nb] + spreads[:nb]
        self.trim = n_th == 0.0
        self.budget = TRIM_TOL * max(1.0, scale)
        self.lo, self.hi = 0, nb - 1
        self._buffers: list[np.ndarray] = []
        #: threads that share one sector's sweep (block ranges of equal work);
        #: the engine sets 1 for sectors that run side by side
        self.threads = 1
        self.applications = 0  # generator applications
        self.entry_applications = 0  # Σ over applications of the entries swept
        self.bytes_streamed = 0  # bytes the kernels read and wrote from the work arrays
        self._choose()

    # ------------------------------------------------------------ expansion
    def _choose(self) -> None:
        """The expansion for the blocks up to the active top.  The numerical range of the generator on
        the active blocks lies in that on blocks 0..hi (a compression of a
        compression), so the bottom may move down without a new expansion;
        one is chosen again only when the top has come down by 2 % or more."""
        lo, hi = self.lo, self.hi
        if getattr(self, "_exp_hi", None) is None or hi < 0.98 * self._exp_hi:
            below = slice(0, hi + 1)
            C, r = dissipator_disc(self.sec, self.kappa, self.n_th, self.n_cut, below)
            W = float(self._lam[below].max()) if hi >= 0 else 0.0
            if not hasattr(self, "_natural"):  # the whole sector's scale, for degenerate ranges
                self._natural = (W + r) or 1.0
            # a range where nothing moves (W = r = 0, e.g. only the vacuum block is
            # left) may use any expansion: give it the sector's own scale
            self.exp = choose_expansion(max(W, 1e-9 * self._natural), C, r)
            self._exp_hi = hi
        self._active_entries = int(self._work[lo:hi + 1].sum())

    def _parts(self) -> list[tuple[int, int]]:
        """The active blocks cut into ``threads`` contiguous ranges of about
        equal work (one range when the sweep is too small to share)."""
        lo, hi = self.lo, self.hi
        if self.threads < 2 or self._active_entries < SPLIT_MIN_ENTRIES or hi <= lo:
            return [(lo, hi)]
        cum = np.cumsum(self._work[lo:hi + 1])
        cuts = np.searchsorted(cum, cum[-1] * np.arange(1, self.threads) / self.threads)
        bounds = [lo - 1] + [lo + int(c) for c in cuts] + [hi]
        return [(a + 1, b) for a, b in zip(bounds, bounds[1:]) if b >= a + 1]

    # --------------------------------------------------------------- arrays
    def _buffer(self, k: int) -> np.ndarray:
        while len(self._buffers) <= k:
            buf = _work_array(self.sec.shape[:2] + (self.sec.shape[2] + 2,), len(self._buffers))
            buf[...] = 0.0
            self._buffers.append(buf)
        return self._buffers[k]

    def initial(self, b: np.ndarray, i: np.ndarray, j: np.ndarray,
                values: np.ndarray) -> np.ndarray:
        """The padded real array of an initial sector given by its nonzero
        entries (b, i, j) → value, in the real gauge ρ̃[i, j] = i^{j−i} ρ[i, j]
        (stored at [b, j, i] when the sector is stored transposed).

        Charging states (qubits in the ground state) are untouched by the gauge;
        a discharging holder state reached by charging is real there too.  A
        state that is not is refused: the fast engine needs it real."""
        g = np.asarray(values, dtype=complex) * 1j ** ((np.asarray(j) - np.asarray(i)) % 4)
        scale = max(np.abs(g).max(initial=0.0), 1e-300)
        if np.abs(g.imag).max(initial=0.0) > 1e-9 * scale:
            raise ValueError("this initial state is not real in the gauge |n,k> -> i^k |n,k>; "
                             "use method='blocks-rk' or 'dicke'")
        R = self._buffer(0)
        keep = g != 0
        if self.trim and keep.any():
            self.lo = self.hi = None
            self._set_range(int(b[keep].min()), int(b[keep].max()))
        if self.sec.transposed:
            i, j = j, i
        R[b, i, np.asarray(j) + 1] = g.real
        self._norm = float(np.abs(g.real).sum())
        return R

    def _set_range(self, lo: int, hi: int) -> None:
        old = (self.lo, self.hi)
        if old[0] is not None:
            for buf in self._buffers:  # keep every array zero outside the active range
                buf[hi + 1:old[1] + 1] = 0.0
        self.lo, self.hi = lo, hi
        if old[1] is None or hi < old[1] or lo < old[0]:
            self._choose()

    def adapt(self, R: np.ndarray, h: float | None = None) -> None:
        """Move the active range before a step of length ``h`` (default: the
        expansion's step): reach down far enough for the photon losses of the
        step, drop top blocks whose weight fits the remaining budget."""
        if not self.trim:
            return
        lo, hi = self.lo, self.hi
        d, N = self.sec.d, self.n_qubits
        norms = block_norms(R, lo, hi, d == 0)
        # top: the blocks above the new hi, weighted by what they could still change
        K = np.arange(lo, hi + 1) + d
        weight = norms * (K + 4 * N + 1)
        from_top = np.cumsum(weight[::-1])
        n_drop = int(np.searchsorted(from_top, self.budget, side="right"))
        # and only what is small against the excitations still there: when the
        # whole signal is tiny (an overdamped battery holds ~(g/κ)^2), the
        # absolute budget alone could drop all of it
        excited = np.cumsum((norms * K)[::-1])
        n_drop = min(n_drop, int(np.searchsorted(excited, TRIM_REL * excited[-1], side="right")))
        n_drop = min(n_drop, hi - lo)  # keep one block
        if n_drop:
            self.budget -= float(from_top[n_drop - 1])
            hi -= n_drop
            norms = norms[:norms.size - n_drop]
        # bottom: the weight that can leave through lo in one step is at most
        # Σ_b norm_b P(Poisson(λ) ≥ b − lo + 1), λ = 2κ n_max h
        h = self.exp.h if h is None else h
        lam = 2 * self.kappa * min(hi + d, self.n_cut) * h
        allow = LEAK_TOL * max(self._norm, 1e-300)
        new_lo = lo
        while new_lo > 0 and _leak(norms, lo - new_lo, lam) > allow:
            new_lo -= 1
        if (new_lo, hi) != (lo, self.hi):
            self._set_range(new_lo, hi)

    # ----------------------------------------------------------------- steps
    def functionals(self, R: np.ndarray) -> np.ndarray:
        sec = self.sec
        return functionals(R, sec.d, sec.c_row, sec.photons, float(self.n_cut), self.n_qubits,
                           self.with_charger, self.lo, self.hi, sec.transposed)

    def step(self, R: np.ndarray, h: float):
        """Advance the real padded sector array ``R`` (returned by
        :meth:`initial` or :meth:`step`) by ``h``.

        Returns (R(h), F, n) with F[m] = functionals(S_m): the functionals at
        any t in [0, h] are ``self.exp.coefficients(t, n) @ F`` (the expansion
        in force during the step; :meth:`adapt` may change it afterwards).
        """
        ex = self.exp
        n = ex.n_terms(h)
        a = ex.coefficients(np.array([h]), n)[0]
        spare = [buf for buf in (self._buffer(0), self._buffer(1), self._buffer(2))
                 if buf is not R]
        if len(spare) == 3:  # not one of ours: copy it in
            spare[0][...] = R
            R = spare.pop(0)
        Tprev, acc = spare
        act = slice(self.lo, self.hi + 1)
        T = R
        Tprev[act] = 0.0
        np.multiply(R[act], a[0], out=acc[act])
        f0 = self.functionals(R)
        fun = np.zeros((n, f0.size))
        fun[0] = f0
        sign = 1.0 if ex.imaginary_foci else -1.0
        cinv = 1.0 / ex.c
        streamed = 0  # bytes per active entry, from the arrays' reads and writes
        parts = self._parts()
        pool = _pool(len(parts) - 1) if len(parts) > 1 else None
        sec = self.sec
        nh, ncg = bands(sec.d, self.n_qubits, self.n_cut, self.with_charger)
        tail = (self.lo_r, self.hi_r, self.hi_c, ex.sigma, cinv, sec.d, sec.photons,
                float(self.n_cut), nh, ncg, sec.transposed)
        scratch = np.zeros((len(parts), f0.size))
        for k in range(1, n):
            head = (T, Tprev, acc, a[k - 1], a[k], k % 2 == 0, 1.0 if k == 1 else 2.0, sign,
                    *self._coef)
            _sweep(pool, parts, head, tail, fun[k], scratch)
            streamed += 40 if k % 2 == 0 else 24
            T, Tprev = Tprev, T  # T holds S_k, Tprev holds S_{k-1}
        if (n - 1) % 2 == 1:  # the last term was not yet added
            acc[act] += a[n - 1] * T[act]
            streamed += 24
        self.applications += n - 1
        self.entry_applications += (n - 1) * self._active_entries
        self.bytes_streamed += streamed * self._active_entries
        return acc, fun, n


def _leak(norms: np.ndarray, extra: int, lam: float) -> float:
    """Σ_b norms[b] · min(1, λ^j/j!) with j = b + extra + 1: a bound on the weight
    that leaves through the lower edge (``extra`` blocks below the first one)."""
    j = np.arange(norms.size) + extra + 1
    if lam <= 0:
        return 0.0
    log_tail = j * math.log(lam) - gammaln(j + 1)
    return float(norms @ np.exp(np.minimum(log_tail, 0.0)))


def _work_array(shape: tuple[int, ...], k: int) -> np.ndarray:
    """An uninitialised float array whose data start k·1088 bytes past a page
    boundary.  The kernel streams through three such arrays at equal indices;
    large allocations all start at the same offset within a 4 KiB page, and
    loads and stores 4 KiB apart then collide in the CPU (4K aliasing): the
    same run was measured at 46 s or 76 s (thermal N = 64) depending on how
    its arrays happened to be allocated.  Distinct offsets remove the lottery."""
    size = int(np.prod(shape))
    buf = np.empty(size + 1024)
    start = (-(buf.ctypes.data % 4096) // 8 + 136 * k) % 512
    return buf[start:start + size].reshape(shape)


def _sweep(pool: ThreadPoolExecutor | None, parts: list[tuple[int, int]], head: tuple,
           tail: tuple, out: np.ndarray, scratch: np.ndarray) -> None:
    """One term of the series: :func:`recurrence` over the block ranges
    ``parts`` (the first on this thread, the others on ``pool``), the
    functionals of the new term added into ``out`` (zeros).  Each range writes
    only its own blocks of Tprev and acc, and its own row of ``scratch``, and
    reads T: the ranges are independent."""
    if pool is None:
        recurrence(*head, *parts[0], *tail, out)
        return
    scratch[...] = 0.0
    others = [pool.submit(recurrence, *head, *part, *tail, row)
              for part, row in zip(parts[1:], scratch[1:])]
    recurrence(*head, *parts[0], *tail, scratch[0])
    for fut in others:
        fut.result()
    scratch.sum(axis=0, out=out)


_POOL: tuple[int, int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """The engine's worker threads, at least ``workers`` of them: one pool per
    process (a pool inherited through fork has no threads), for the other block
    ranges of a shared sector and for sectors run side by side.  Its tasks
    never wait on other tasks of the pool (a sector run side by side sweeps on
    its own thread), so sharing it cannot deadlock."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid() or _POOL[1] < workers:
            _POOL = (os.getpid(), workers, ThreadPoolExecutor(workers))
        return _POOL[2]


def _pad(x: np.ndarray) -> np.ndarray:
    """Column coefficients in the padded layout: x[b, j] at [b, j + 1], zeros at 0 and m+1."""
    out = np.zeros((x.shape[0], x.shape[1] + 2))
    out[:, 1:-1] = x
    return out


def _entry_coefficients(sec: Sector, kappa: float, n_th: float, n_cut: int):
    """Per-row and per-column factors of the dissipator (zero where invalid):
    decay κ(n_th+1)n + κ n_th m (m = n+1 below the cut, else 0), and the square
    roots of the jump weights 2κ(n_th+1)(n+1) (loss, from one excitation up)
    and 2κ n_th n (gain, from one excitation down)."""
    out = []
    for n in (sec.n_row, sec.n_col):
        valid = n >= 0
        nn = np.where(valid, n, 0.0)
        m = np.where(nn < n_cut, nn + 1.0, 0.0)
        dec = np.where(valid, kappa * (n_th + 1) * nn + kappa * n_th * m, 0.0)
        jmp = np.where(valid, np.sqrt(2 * kappa * (n_th + 1) * (nn + 1.0)), 0.0)
        gin = np.where(valid, np.sqrt(2 * kappa * n_th * nn), 0.0)
        out.append((dec, jmp, gin))
    (dr, jr, gr), (dc, jc, gc) = out
    return dr, dc, jr, jc, gr, gc


def _ranges(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last valid index of each row of a boolean (nb, N+1) mask
    (hi < lo for an empty block)."""
    any_ = valid.any(axis=1)
    lo = np.where(any_, valid.argmax(axis=1), 1)
    hi = np.where(any_, valid.shape[1] - 1 - valid[:, ::-1].argmax(axis=1), 0)
    return lo.astype(np.int64), hi.astype(np.int64)


# ------------------------------------------------------------------ engine
#: Environment variable: how many threads the engine uses (default: 2, or 1 on
#: a one-core machine; measured on 2 cores only).  Several sectors (coherent
#: chargers, discharges, charger states) run side by side, one per thread;
#: a sector alone has its sweep shared among them.
THREADS_VARIABLE = "QBHELPERS_THREADS"


def engine_threads() -> int:
    """The engine's thread count: $QBHELPERS_THREADS, else min(2, cores)."""
    raw = os.environ.get(THREADS_VARIABLE, "").strip()
    if not raw:
        return max(1, min(2, os.cpu_count() or 1))
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"the environment variable {THREADS_VARIABLE} must be an integer "
                         f">= 1 (threads of the engine), got {raw!r}")
    return n

#: Fewest active entries per generator application at which one sector's
#: sweep is shared among the engine's threads (below, waking a thread
#: costs more than it saves).
SPLIT_MIN_ENTRIES = 200_000
#: Points per step at which the sign of dE_h/dt is inspected (at least).
SIGN_POINTS = 64
#: Layout of :func:`functionals`: sector-0 observables first.
E_H, E_C, DE_H, TOP = 1, 2, 3, 4


@dataclass(frozen=True)
class Chebyshev(Method):
    """Excitation sectors, Chebyshev expansion of e^{tL} (the production method).

    No options: every series is summed until its terms fall below 1e-15 and
    steps are chosen so that rounding is amplified at most 1e4 per step (see
    the module docstring), so the result is exact to rounding."""

    name: ClassVar[str] = "blocks"
    max_qubits: ClassVar[int] = 2000
    summary: ClassVar[str] = "excitation sectors, Chebyshev propagator (production)"

    def engine(self, setup: Setup, holder: np.ndarray | None = None) -> "ChebyshevEngine":
        return ChebyshevEngine(setup, holder)

    def estimate(self, setup: Setup, t_end: float, holder: np.ndarray | None = None, *,
                 with_charger: bool = False) -> Estimate:
        return chebyshev_estimate(setup, t_end, holder, with_charger,
                                  (choose_expansion, commutator_spread, dissipator_disc))

    def state_size(self, setup: Setup) -> int:
        return sector_state_size(setup)


class ChebyshevChunk(Chunk):
    """One Chebyshev step of sector 0: every observable at any instant of it
    is a short sum over the step's series."""

    def __init__(self, ex: Expansion, setup: Setup, t0: float, h: float, F: np.ndarray, n: int,
                 q0: float, scale: float):
        self.ex = ex
        self.kappa, self.n_th = setup.kappa, setup.n_th
        self.t0, self.t1, self.F, self.n, self.q0 = t0, t0 + h, F, n, q0
        k = max(SIGN_POINTS, int(np.ceil(8 * h / scale)))
        s = np.linspace(0.0, h, k + 1)[1:]
        vals = self.ex.coefficients(s, n) @ F[:, [DE_H, TOP]]
        self.sample_times = t0 + s
        self.sample_dE = vals[:, 0].real
        self.top = float(vals[:, 1].real.max())
        self._heat = None

    def heat(self, s: np.ndarray | float) -> np.ndarray | float:
        """Heat given to the bath between the step's start and s after it:
        2κ(∫ E_c dt − n_th s)."""
        if self.kappa == 0.0:
            return 0.0 * np.asarray(s)
        if self._heat is None:
            self._heat = self.ex.antiderivative(self.F[:self.n, E_C], self.t1 - self.t0)
        return 2 * self.kappa * (self._heat(s) - self._heat(0.0) - self.n_th * np.asarray(s))

    @property
    def q1(self) -> float:
        """Heat at the end of the step."""
        return self.q0 + float(self.heat(self.t1 - self.t0))

    def values(self, t: float) -> np.ndarray:
        return (self.ex.coefficients(np.array([t - self.t0]), self.n)[0] @ self.F).real

    def derivative(self, t: float) -> float:
        return float(self.ex.coefficients(np.array([t - self.t0]), self.n)[0] @ self.F[:, DE_H])

    def derivatives(self, times: np.ndarray) -> np.ndarray:
        return (self.ex.coefficients(np.asarray(times, float) - self.t0, self.n)
                @ self.F[:, DE_H]).real

    def measure(self, t: float) -> Measurement:
        v = self.values(t)
        return Measurement(float(v[E_H]), float(v[E_C]), float(v[DE_H]), float(v[TOP]),
                           self.q0 + float(self.heat(t - self.t0)))


class ChebyshevEngine(Engine):
    """Propagates the sectors of :class:`~.sectors.SectorLayout` one at a time
    (they are independent, and each is built only when its turn comes), so
    memory stays at three copies of the largest sector.

    ``counts`` adds up, over every sector propagated so far, the generator
    applications, the entries they swept, the bytes the kernels streamed and
    the steps (for benchmarks)."""

    def __init__(self, setup: Setup, holder: np.ndarray | None = None):
        super().__init__(setup, holder)
        self.layout = SectorLayout(setup, holder)
        K = np.arange(self.layout.k_max + 1)
        self.spreads = block_spreads(_block_coefficients(K, setup.n_qubits, setup.n_cut,
                                                         setup.g)[0])
        self.counts = {"applications": 0, "entry_applications": 0, "bytes": 0, "steps": 0}
        self.threads = engine_threads()
        self._lock = threading.Lock()

    def floor(self, t: float, which: str = "holder") -> float:
        """The fewest generator applications any polynomial method needs to
        follow the Hamiltonian part of every sector a run to ``t`` propagates:
        Σ_d W_d·t, W_d the commutator spread of sector d (for benchmarks)."""
        k = self.layout.k_max
        return t * sum(float(np.max(self.spreads[d:k + 1] + self.spreads[:k + 1 - d]))
                       for d in self.layout.offsets(which))

    def _propagator(self, d: int, with_charger: bool,
                    threads: int | None = None) -> tuple[SectorPropagator, np.ndarray]:
        """A fresh propagator for sector d and its initial (padded, real)
        array; ``threads`` share its sweep (1 when sectors run side by side)."""
        s = self.setup
        sec = self.layout.sector(d)
        if d > 0:  # the long rows in the sweep's inner loop (coherent N = 96, one step:
            # 1.03x faster at d = 1, 1.2x at d = 48, 1.6x at d = 96)
            sec = sec.transpose()
        prop = SectorPropagator(sec, s.kappa, s.n_th, s.n_cut, s.n_qubits,
                                with_charger, spreads=self.spreads, scale=self.excitations)
        prop.threads = self.threads if threads is None else threads
        return prop, prop.initial(*self.layout.initial_entries(d))

    def _advance(self, prop: SectorPropagator, R: np.ndarray, h: float):
        """One step of length ``h`` (≤ the expansion's), counted."""
        before = prop.applications, prop.entry_applications, prop.bytes_streamed
        out = prop.step(R, h)
        with self._lock:  # sectors may run on several threads
            self.counts["applications"] += prop.applications - before[0]
            self.counts["entry_applications"] += prop.entry_applications - before[1]
            self.counts["bytes"] += prop.bytes_streamed - before[2]
            self.counts["steps"] += 1
        return out

    def _bands(self, d: int, with_charger: bool) -> tuple[slice, slice]:
        """Where the holder and charger bands sit in :func:`functionals`."""
        nh, nc = bands(d, self.setup.n_qubits, self.setup.n_cut, with_charger)
        return slice(5, 5 + nh), slice(5 + nh, 5 + nh + nc)

    @staticmethod
    def _place(rho, band, d, phase: bool = True):
        """Put a band ρ[i, i−d] (and its conjugate) into ``rho``; ``phase`` undoes
        the gauge of the holder band (factor i^d)."""
        place_band(rho, band * (1j ** d) if phase else band, d)

    # ------------------------------------------------------------ trajectory
    def trajectory(self, times: np.ndarray, with_charger: bool = False) -> Samples:
        s = self.setup
        N, T = s.n_qubits, times.size
        out = {k: np.zeros(T) for k in ("E_h", "E_c", "Q", "top")}
        rho_h = np.zeros((T, N + 1, N + 1), dtype=complex)
        rho_c = np.zeros((T, s.n_cut + 1, s.n_cut + 1), dtype=complex) if with_charger else None
        # the sectors are independent and write disjoint bands: several at once
        self._map(lambda d, th: self._trajectory_sector(d, th, times, with_charger, out, rho_h,
                                                         rho_c),
                  self.layout.offsets("charger" if with_charger else "holder"))
        return samples_from_states(times, out["E_h"], out["E_c"], out["Q"], out["top"], rho_h,
                                   rho_c)

    def _map(self, run, sectors) -> None:
        """``run(d, threads)`` for every sector d: one sector alone shares its
        sweep among the engine's threads; several run that many at a time,
        each on one thread (no synchronisation inside a sector's steps)."""
        sectors = list(sectors)
        if len(sectors) == 1 or self.threads == 1:
            for d in sectors:
                run(d, self.threads)
            return
        # in order, so the first error is raised
        for _ in _pool(self.threads).map(lambda d: run(d, 1), sectors):
            pass

    def _trajectory_sector(self, d: int, threads: int, times: np.ndarray, with_charger: bool,
                           out: dict, rho_h: np.ndarray, rho_c: np.ndarray | None) -> None:
        """Sector d of :meth:`trajectory`, written into its bands of the outputs."""
        s = self.setup
        T = times.size
        prop, R = self._propagator(d, with_charger, threads)
        hs, cs = self._bands(d, with_charger)
        t, q, idx = 0.0, 0.0, 0
        while idx < T:
            prop.adapt(R)
            ex = prop.exp
            h = min(ex.h, times[-1] - t)
            if h > 0:
                R_new, F, n = self._advance(prop, R, h)
            else:  # only t = 0 remains
                R_new, F, n = R, prop.functionals(R)[None, :], 1
            stop = np.searchsorted(times, t + h, side="right")
            sel = slice(idx, stop)
            vals = (ex.coefficients(times[sel] - t, n) @ F).real
            if d == 0:
                out["E_h"][sel] = vals[:, E_H]
                out["E_c"][sel] = vals[:, E_C]
                out["top"][sel] = vals[:, TOP]
                if s.kappa > 0 and h > 0:
                    P = ex.antiderivative(F[:n, E_C], h)
                    x = times[sel] - t
                    out["Q"][sel] = q + 2 * s.kappa * (P(x) - P(0.0) - s.n_th * x)
                    q += 2 * s.kappa * (P(h) - P(0.0) - s.n_th * h)
                else:
                    out["Q"][sel] = q
            self._place(rho_h[sel], vals[:, hs], d)
            if with_charger:
                self._place(rho_c[sel], vals[:, cs], d, phase=False)
            idx, t, R = stop, t + h, R_new
            if d == 0:
                self.on_time(t)

    # ------------------------------------------------------------ first max
    def chunks(self) -> Iterator[ChebyshevChunk]:
        scale = time_scale(self.setup, self.excitations)
        # The search never looks beyond SEARCH_WINDOW time scales; a state drained to
        # its stationary block (L = 0 there) would otherwise allow an unbounded step,
        # and a chunk samples its step every scale/8.
        longest = SEARCH_WINDOW * scale
        prop, R = self._propagator(0, False)
        t, q = 0.0, 0.0
        while True:
            prop.adapt(R)
            ex = prop.exp
            h = min(ex.h, longest)
            R_new, F, n = self._advance(prop, R, h)
            chunk = ChebyshevChunk(ex, self.setup, t, h, F, n, q, scale)
            yield chunk
            t, q, R = chunk.t1, chunk.q1, R_new

    def holder_at(self, chunk: ChebyshevChunk, tau: float) -> tuple[np.ndarray, float]:
        """Sector 0 from the chunk's series; the other sectors (coherent
        chargers, discharging) are propagated from t = 0 to τ̄, several at once."""
        N = self.setup.n_qubits
        rho_h = np.zeros((N + 1, N + 1), dtype=complex)
        self._place(rho_h, chunk.values(tau)[self._bands(0, False)[0]], 0)
        self._map(lambda d, th: self._holder_band(d, th, tau, rho_h),
                  [d for d in self.layout.offsets("holder") if d != 0])
        return rho_h, holder_ergotropy(rho_h)

    def _holder_band(self, d: int, threads: int, tau: float, rho_h: np.ndarray) -> None:
        """Sector d propagated to τ̄, its band written into ``rho_h``."""
        prop, R = self._propagator(d, False, threads)
        td = 0.0
        while True:
            prop.adapt(R)
            ex = prop.exp
            h = min(ex.h, tau - td)
            R_new, F, n = self._advance(prop, R, h)
            if td + h >= tau:
                band = (ex.coefficients(np.array([tau - td]), n)[0] @ F).real
                self._place(rho_h, band[self._bands(d, False)[0]], d)
                return
            td, R = td + h, R_new
