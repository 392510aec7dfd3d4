"""The production engine: Chebyshev propagation of the excitation sectors.

Same equations as :class:`qbhelpers.dynamics.BlocksEngine` (they share the
sectors, their coefficients and initial states); a different propagator, see
:mod:`qbhelpers.chebyshev`.  Sectors are independent, so they are propagated
one at a time and memory stays at a few copies of the largest sector.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from . import blocks
from .chebyshev import SectorPropagator
from .dynamics import QUIET_WINDOW, SEARCH_WINDOW, BlocksEngine, Problem, no_maximum, noise_floor, time_scale
from .ergotropy import holder_ergotropy

#: Points per step at which the sign of dE_h/dt is inspected (at least).
SIGN_POINTS = 64


def _integral_coefficients(ex, lo: float, hi: float, n: int) -> np.ndarray:
    """∫_lo^hi a_m(s) ds for m < n (Gauss–Legendre; the a_m are entire functions
    whose fastest oscillation has frequency |γ|, so an order of 1.5|γ|(hi − lo)
    plus a margin integrates them to rounding)."""
    L = hi - lo
    if L <= 0:
        return np.zeros(n)
    order = max(32, int(1.5 * abs(ex.gamma) * L) + 32)
    x, w = np.polynomial.legendre.leggauss(order)
    return (0.5 * L * w) @ ex.coefficients(lo + 0.5 * L * (x + 1), n)


class ChebyshevEngine:
    def __init__(self, p: Problem):
        self.p = p
        self.geometry = BlocksEngine(p)  # sectors and initial states

    # ---------------------------------------------------------------- helpers
    def _propagator(self, d: int, with_charger: bool) -> SectorPropagator:
        p = self.p
        return SectorPropagator(self.geometry._sector(d), p.kappa, p.n_th, p.n_cut, p.n_qubits,
                                with_charger)

    def _sectors(self, with_charger: bool) -> dict[int, np.ndarray]:
        state = self.geometry.initial_state(full=True)
        if with_charger:
            state = self.geometry.with_charger_sectors(state)
        return state

    def _heat(self, ex, F, n, lo: float, hi: float) -> float:
        """Heat given to the bath between lo and hi within a step (times from the
        step's start): 2κ(∫ E_c dt − n_th (hi − lo))."""
        p = self.p
        if p.kappa == 0.0 or hi <= lo:
            return 0.0
        return float(2 * p.kappa * ((_integral_coefficients(ex, lo, hi, n) @ F[:, 2]).real
                                    - p.n_th * (hi - lo)))

    def _layout(self, d: int, with_charger: bool) -> tuple[slice, slice]:
        N, n_cut = self.p.n_qubits, self.p.n_cut
        nh = N + 1 - d if d <= N else 0
        nc = (n_cut + 1 - d) if (with_charger and d <= n_cut) else 0
        return slice(5, 5 + nh), slice(5 + nh, 5 + nh + nc)

    @staticmethod
    def _place(rho, band, d, phase: bool = True):
        """Put a band ρ[i, i−d] (and its conjugate) into ``rho``; ``phase`` undoes
        the gauge of the holder band (factor i^d)."""
        blocks.place_band(rho, band * (1j ** d) if phase else band, d)

    # ------------------------------------------------------------ trajectory
    def trajectory(self, times: np.ndarray, with_charger: bool = False) -> dict:
        p = self.p
        N, T = p.n_qubits, times.size
        out = {k: np.zeros(T) for k in ("E_h", "E_c", "Q", "top")}
        out["rho_h"] = np.zeros((T, N + 1, N + 1), dtype=complex)
        if with_charger:
            out["rho_c"] = np.zeros((T, p.n_cut + 1, p.n_cut + 1), dtype=complex)
        for d, R in self._sectors(with_charger).items():
            prop = self._propagator(d, with_charger)
            R = prop.to_real(R)
            hs, cs = self._layout(d, with_charger)
            t, q, idx = 0.0, 0.0, 0
            while idx < T:
                h = min(prop.exp.h, times[-1] - t)
                if h <= 0:  # only t = 0 remains
                    h = 0.0
                R_new, F, n = prop.step(R, h) if h > 0 else (R, None, 0)
                stop = np.searchsorted(times, t + h, side="right")
                sel = np.arange(idx, stop)
                if F is None:
                    F, n = prop.functionals(R)[None, :], 1
                a = prop.exp.coefficients(times[sel] - t, n)
                vals = a @ F
                if d == 0:
                    out["E_h"][sel] = vals[:, 1].real
                    out["E_c"][sel] = vals[:, 2].real
                    out["top"][sel] = vals[:, 4].real
                    # heat piece by piece between consecutive output times
                    edges = np.concatenate([[0.0], times[sel] - t, [h]])
                    pieces = [self._heat(prop.exp, F, n, lo, hi)
                              for lo, hi in zip(edges[:-1], edges[1:])]
                    out["Q"][sel] = q + np.cumsum(pieces[:-1])
                    q += sum(pieces)
                block = out["rho_h"][sel]  # fancy indexing copies: write back below
                self._place(block, vals[:, hs], d)
                out["rho_h"][sel] = block
                if with_charger:
                    block = out["rho_c"][sel]
                    self._place(block, vals[:, cs], d, phase=False)
                    out["rho_c"][sel] = block
                idx, t, R = stop, t + h, R_new
        out["ergotropy"] = np.array([holder_ergotropy(r) for r in out["rho_h"]])
        return out

    # ------------------------------------------------------------ first max
    def first_max(self, kind: str = "max") -> dict:
        """τ̄: first local maximum of E_h (``kind="min"``: minimum)."""
        p = self.p
        sgn = 1.0 if kind == "max" else -1.0
        N = p.n_qubits
        ts = time_scale(p)
        t_max = SEARCH_WINDOW * ts
        sectors = self._sectors(False)
        prop = self._propagator(0, False)
        ex = prop.exp
        R = prop.to_real(sectors[0])
        t, q, top = 0.0, 0.0, 0.0
        tol = noise_floor(p)
        rising_before = True  # E_h starts at its minimum (charging) / maximum (discharging)
        found = None
        quiet = 0.0
        while t < t_max:
            h = ex.h
            R_new, F, n = prop.step(R, h)
            k = max(SIGN_POINTS, int(np.ceil(8 * h / ts)))
            s = np.linspace(0.0, h, k + 1)[1:]
            vals = ex.coefficients(s, n) @ F
            de = sgn * vals[:, 3].real
            top = max(top, float(vals[:, 4].real.max()))
            lo, hit = (0.0 if rising_before else None), None
            for j in range(k):
                if de[j] < -tol:
                    hit = j
                    break
                if de[j] > 0:
                    lo = s[j]
            if hit is not None:
                def dE(x: float) -> float:
                    return sgn * float((ex.coefficients(np.array([x]), n)[0] @ F[:, 3]).real)
                a = 0.0 if lo is None else lo
                if dE(a) > 0:
                    x = brentq(dE, a, s[hit], xtol=1e-15 * max(t + s[hit], 1e-300), rtol=1e-14,
                               maxiter=200)
                else:  # the rise ended in rounding noise at the step boundary
                    x = a
                found = (t, x, F, n, q)
                break
            rising_before = bool(de[-1] > 0) or (rising_before and de[-1] >= -tol and lo == s[-1])
            quiet = quiet + h if np.abs(de).max() < tol else 0.0
            if quiet > QUIET_WINDOW * ts:  # E_h settled on a steady value: no extremum
                raise no_maximum(p, t + h, kind)
            q += self._heat(ex, F, n, 0.0, h)
            t, R = t + h, R_new
        if found is None:
            raise no_maximum(p, t_max, kind)
        t0, x, F, n, q0 = found
        tau = t0 + x
        vals = ex.coefficients(np.array([x]), n)[0] @ F
        rho_h = np.zeros((N + 1, N + 1), dtype=complex)
        self._place(rho_h, vals[self._layout(0, False)[0]], 0)
        # the other sectors (coherent chargers): propagate each to τ̄
        for d, Rd in sectors.items():
            if d == 0:
                continue
            pd = self._propagator(d, False)
            Rd = pd.to_real(Rd)
            td = 0.0
            while True:
                h = min(pd.exp.h, tau - td)
                Rd_new, Fd, nd = pd.step(Rd, h)
                if td + h >= tau:
                    band = pd.exp.coefficients(np.array([tau - td]), nd)[0] @ Fd
                    self._place(rho_h, band[self._layout(d, False)[0]], d)
                    break
                td, Rd = td + h, Rd_new
        return {"tau": tau, "E_h": float(vals[1].real), "E_c": float(vals[2].real),
                "Q": q0 + self._heat(ex, F, n, 0.0, x), "top": max(top, float(vals[4].real)),
                "ergotropy": holder_ergotropy(rho_h), "rho_h": rho_h}
