"""Charging trajectories, the first maximum, and collective versus parallel.

Units: energies in ħω; times in 1/g-units set by ``g`` (default 1); ``kappa``
as in the master equation (the photon loss rate is 2κ); rates in 1/time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import validation as v
from .dynamics import ATOL, RTOL, NoMaximumError, Problem, make_engine, time_scale
from .ergotropy import charger_ergotropy, symmetric_ergotropy
from .states import TRUNCATION_TOL, choose_n_cut

#: Largest population the top photon level may reach at n_th > 0 before the
#: truncation is declared too small.
TOP_LEVEL_TOL = 1e-9


@dataclass(frozen=True)
class Trajectory:
    """Charging of the collective battery on a time grid (all arrays of equal length).

    ``t`` in units of 1/g; energies in ħω: ``E_h`` holder energy, ``E_c``
    charger energy, ``Q`` heat released to the bath, ``ergotropy`` holder
    ergotropy over all unitaries of the N qubits, ``ergotropy_symmetric`` over
    permutation-symmetric unitaries only, ``charger_ergotropy`` (only with
    ``with_charger=True``), ``holder_states`` the reduced holder states in the
    Dicke basis, shape (len(t), N+1, N+1).
    """

    t: np.ndarray
    E_h: np.ndarray
    E_c: np.ndarray
    Q: np.ndarray
    ergotropy: np.ndarray
    ergotropy_symmetric: np.ndarray
    holder_states: np.ndarray = field(repr=False)
    charger_ergotropy: np.ndarray | None
    n_qubits: int
    charger: str
    kappa: float
    g: float
    n_th: float
    mean_photons: float
    n_cut: int
    method: str

    @property
    def balance(self) -> np.ndarray:
        """E_h + E_c + Q, which equals the initial mean photon number."""
        return self.E_h + self.E_c + self.Q


@dataclass(frozen=True)
class FirstMax:
    """Figures of merit at τ̄, the first local maximum of E_h(t).

    ``tau`` (1/g), ``energy`` Ē = E_h(τ̄) and ``ergotropy`` ℰ̄ = ℰ_h(τ̄) (full
    space) and ``ergotropy_symmetric`` (ħω), ``power`` Ē/τ̄, ``rate`` 2π/τ̄,
    ``E_c`` and ``Q`` at τ̄.  For ``version="parallel"`` the extensive figures
    (energy, ergotropies, power, E_c, Q) are N times one cell's; tau and rate
    are one cell's.
    """

    tau: float
    energy: float
    ergotropy: float
    ergotropy_symmetric: float
    power: float
    rate: float
    E_c: float
    Q: float
    n_qubits: int
    charger: str
    kappa: float
    g: float
    n_th: float
    mean_photons: float
    n_cut: int
    version: str
    method: str


# ------------------------------------------------------------------ helpers
def _problem(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method, rtol, atol,
             truncation_tol) -> Problem:
    method = v.check_choice("method", method, v.METHODS)
    charger = v.check_choice("charger", charger, v.CHARGERS)
    kappa = v.check_real("kappa", kappa)
    g = v.check_real("g", g, positive=True)
    n_th = v.check_real("n_th", n_th)
    n = v.check_n_qubits(n_qubits, method)
    mean = v.check_mean_photons(charger, mean_photons, n)
    n_cut = v.check_n_cut(n_cut)
    rtol = v.check_tolerance("rtol", rtol)
    atol = v.check_tolerance("atol", atol)
    truncation_tol = v.check_tolerance("truncation_tol", truncation_tol)
    cut = choose_n_cut(charger, mean, n, n_th, n_cut, truncation_tol)
    return Problem(n, charger, kappa, g, n_th, mean, cut, rtol, atol)


def _check_truncation(p: Problem, top: float) -> None:
    if p.n_th > 0 and top > TOP_LEVEL_TOL:
        raise ValueError(
            f"n_cut={p.n_cut} is too small for n_th={p.n_th:g}: the top photon level reached "
            f"population {top:.1e} > {TOP_LEVEL_TOL:.0e}; increase n_cut (or leave n_cut=None)"
        )


def _search_first_max(p: Problem, method: str) -> FirstMax:
    if p.mean_photons == 0 and p.n_th == 0:
        raise NoMaximumError("the charger is empty (mean_photons=0, n_th=0): E_h stays 0, "
                             "there is no first maximum")
    r = make_engine(p, method).first_max()
    _check_truncation(p, r["top"])
    tau = r["tau"]
    return FirstMax(tau=tau, energy=r["E_h"], ergotropy=r["ergotropy"],
                    ergotropy_symmetric=symmetric_ergotropy(r["rho_h"]),
                    power=r["E_h"] / tau, rate=2 * math.pi / tau, E_c=r["E_c"], Q=r["Q"],
                    n_qubits=p.n_qubits, charger=p.charger, kappa=p.kappa, g=p.g, n_th=p.n_th,
                    mean_photons=p.mean_photons, n_cut=p.n_cut, version="collective",
                    method=method)


# ------------------------------------------------------------------- public
def first_max(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
              version: str = "collective", g: float = 1.0, n_th: float = 0.0,
              mean_photons: float | None = None, n_cut: int | None = None,
              method: str = "blocks", rtol: float = RTOL, atol: float = ATOL,
              truncation_tol: float = TRUNCATION_TOL) -> FirstMax:
    """Figures of merit at the first maximum τ̄ of the holder energy.

    τ̄ is bracketed on the solver's steps and refined by root finding on the
    exact dE_h/dt = 2g Im⟨aJ₊⟩ (relative accuracy ~1e-13).

    Parameters
    ----------
    n_qubits : number of qubits N in the holder.
    charger : "fock", "coherent" or "thermal" initial charger state.
    kappa : charger dissipation κ ≥ 0 (photon loss rate 2κ), units of g.
    version : "collective" (N qubits, one charger with ``mean_photons``) or
        "parallel" (N independent cells, each one qubit and a charger with
        ``mean_photons / N``); extensive figures are summed over the cells.
    g : coupling (sets the unit of time), n_th : mean bath photon number.
    mean_photons : initial mean photon number n̄ (default N).
    n_cut : photon truncation (default: chosen so that the initial tail is
        below ``truncation_tol``).
    method : "blocks" (production), "dicke" (QuTiP, Dicke basis) or "full"
        (QuTiP, 2^N tensor-product basis; small N only).
    rtol, atol : ODE solver tolerances.
    """
    version = v.check_choice("version", version, v.VERSIONS)
    p = _problem(n_qubits, charger, kappa, g, n_th, mean_photons, None, method, rtol, atol,
                 truncation_tol) if version == "parallel" else None
    if version == "collective":
        p = _problem(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method, rtol, atol,
                     truncation_tol)
        return _search_first_max(p, method)
    N = p.n_qubits
    per_cell = v.check_parallel_split(p.charger, p.mean_photons, N)
    cell = first_max(1, p.charger, p.kappa, g=p.g, n_th=p.n_th, mean_photons=per_cell,
                     n_cut=n_cut, method=method, rtol=rtol, atol=atol,
                     truncation_tol=truncation_tol)
    return FirstMax(tau=cell.tau, energy=N * cell.energy, ergotropy=N * cell.ergotropy,
                    ergotropy_symmetric=N * cell.ergotropy_symmetric, power=N * cell.power,
                    rate=cell.rate, E_c=N * cell.E_c, Q=N * cell.Q, n_qubits=N,
                    charger=p.charger, kappa=p.kappa, g=p.g, n_th=p.n_th,
                    mean_photons=p.mean_photons, n_cut=cell.n_cut, version="parallel",
                    method=method)


def charge(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *, g: float = 1.0,
           n_th: float = 0.0, mean_photons: float | None = None, n_cut: int | None = None,
           times: Any = None, method: str = "blocks", with_charger: bool = False,
           rtol: float = RTOL, atol: float = ATOL,
           truncation_tol: float = TRUNCATION_TOL) -> Trajectory:
    """Charge the collective battery and record energies, heat and ergotropy.

    ``times`` (units of 1/g) must start at 0 and increase; by default 301
    points up to 1.5 τ̄ (the first maximum of E_h), or up to 20 π/(2g√(N n̄))
    when E_h has no maximum.  Other parameters as in :func:`first_max`;
    ``with_charger=True`` also records the charger ergotropy.
    """
    p = _problem(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method, rtol, atol,
                 truncation_tol)
    return _record(p, method, times, with_charger, kind="max")


def _record(p: Problem, method: str, times: Any, with_charger: bool, kind: str) -> Trajectory:
    """Run ``p`` on ``times`` (default: 301 points up to 1.5 × the first
    extremum of E_h of the given ``kind``) and package the trajectory."""
    if times is None:
        try:
            t_end = 1.5 * make_engine(p, method).first_max(kind=kind)["tau"]
        except NoMaximumError:
            t_end = 20 * time_scale(p)
        t = np.linspace(0.0, t_end, 301)
    else:
        t = v.check_times(times)
    r = make_engine(p, method).trajectory(t, with_charger)
    _check_truncation(p, float(r["top"].max()))
    return Trajectory(t=t, E_h=r["E_h"], E_c=r["E_c"], Q=r["Q"], ergotropy=r["ergotropy"],
                      ergotropy_symmetric=np.array([symmetric_ergotropy(x) for x in r["rho_h"]]),
                      holder_states=r["rho_h"],
                      charger_ergotropy=(np.array([charger_ergotropy(x) for x in r["rho_c"]])
                                         if with_charger else None),
                      n_qubits=p.n_qubits, charger=p.charger, kappa=p.kappa, g=p.g,
                      n_th=p.n_th, mean_photons=p.mean_photons, n_cut=p.n_cut, method=method)


FIGURES = ("energy", "ergotropy", "power", "rate")


def enhancement(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *, g: float = 1.0,
                n_th: float = 0.0, method: str = "blocks") -> dict[str, float]:
    """Collective enhancements Γ_f = f# / f‖ for f in energy, ergotropy, power, rate.

    Both batteries hold N photons in total (n̄ = N collectively, 1 per cell in
    parallel).  Γ_ergotropy is NaN where the parallel ergotropy vanishes
    (below 1e-12 ħω).
    """
    col = first_max(n_qubits, charger, kappa, g=g, n_th=n_th, method=method)
    par = first_max(n_qubits, charger, kappa, g=g, n_th=n_th, method=method, version="parallel")
    return ratios(col, par)


def ratios(col: FirstMax, par: FirstMax) -> dict[str, float]:
    """Γ_f = f# / f‖ from two already computed first maxima."""
    out = {}
    for f in FIGURES:
        den = getattr(par, f)
        out[f] = float("nan") if abs(den) < 1e-12 else getattr(col, f) / den
    return out


# ---------------------------------------------------------------- discharging
@dataclass(frozen=True)
class Discharge:
    """Discharging in normal mode, from the holder state reached at the
    charging τ̄ (its reduced state: correlations with the charger dropped)
    through an empty, lossy charger.

    ``tau`` τ̄_d (1/g): first local minimum of E_h; ``energy`` E_d =
    E_h(0) − E_h(τ̄_d) (ħω); ``power`` E_d/τ̄_d; ``rate`` 2π/τ̄_d; ``E_start``,
    ``E_end`` the holder energy before and at τ̄_d; ``ergotropy_start``,
    ``ergotropy_end``; ``E_c`` and ``Q`` at τ̄_d.  For ``version="parallel"``
    the extensive figures are N times one cell's.
    """

    tau: float
    energy: float
    power: float
    rate: float
    E_start: float
    E_end: float
    ergotropy_start: float
    ergotropy_end: float
    E_c: float
    Q: float
    n_qubits: int
    charger: str
    kappa: float
    g: float
    n_th: float
    mean_photons: float
    version: str
    method: str


def _discharge_problem(p: Problem, method: str, n_cut: int | None = None) -> Problem:
    """The discharging problem that follows charging problem ``p``."""
    from .states import bath_margin

    r = make_engine(p, method).first_max()
    N = p.n_qubits
    need = N + (bath_margin(p.n_th) if p.n_th > 0 else 0)
    if n_cut is not None and n_cut < N:
        raise ValueError(f"n_cut={n_cut} is too small to discharge {N} qubits into an empty "
                         f"charger: use n_cut >= {N} (or n_cut=None)")
    return Problem(N, p.charger, p.kappa, p.g, p.n_th, 0.0, n_cut if n_cut is not None else need,
                   p.rtol, p.atol, holder=r["rho_h"])


def discharge(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
              version: str = "collective", g: float = 1.0, n_th: float = 0.0,
              mean_photons: float | None = None, method: str = "blocks",
              rtol: float = RTOL, atol: float = ATOL) -> Discharge:
    """Charge to the first maximum, then discharge through the empty charger
    to the first minimum of E_h.  Parameters as in :func:`first_max`."""
    version = v.check_choice("version", version, v.VERSIONS)
    p = _problem(n_qubits, charger, kappa, g, n_th, mean_photons, None, method, rtol, atol,
                 TRUNCATION_TOL)
    if version == "parallel":
        per_cell = v.check_parallel_split(p.charger, p.mean_photons, p.n_qubits)
        cell = discharge(1, p.charger, p.kappa, g=p.g, n_th=p.n_th, mean_photons=per_cell,
                         method=method, rtol=rtol, atol=atol)
        N = p.n_qubits
        return Discharge(tau=cell.tau, energy=N * cell.energy, power=N * cell.power,
                         rate=cell.rate, E_start=N * cell.E_start, E_end=N * cell.E_end,
                         ergotropy_start=N * cell.ergotropy_start,
                         ergotropy_end=N * cell.ergotropy_end, E_c=N * cell.E_c, Q=N * cell.Q,
                         n_qubits=N, charger=p.charger, kappa=p.kappa, g=p.g, n_th=p.n_th,
                         mean_photons=p.mean_photons, version="parallel", method=method)
    dp = _discharge_problem(p, method)
    r = make_engine(dp, method).first_max(kind="min")
    _check_truncation(dp, r["top"])
    rho0 = dp.holder
    e0 = float(np.real(np.diag(rho0)) @ np.arange(p.n_qubits + 1))
    from .ergotropy import holder_ergotropy
    e_d = e0 - r["E_h"]
    return Discharge(tau=r["tau"], energy=e_d, power=e_d / r["tau"], rate=2 * math.pi / r["tau"],
                     E_start=e0, E_end=r["E_h"], ergotropy_start=holder_ergotropy(rho0),
                     ergotropy_end=r["ergotropy"], E_c=r["E_c"], Q=r["Q"],
                     n_qubits=p.n_qubits, charger=p.charger, kappa=p.kappa, g=p.g, n_th=p.n_th,
                     mean_photons=p.mean_photons, version="collective", method=method)


def discharge_trajectory(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
                         g: float = 1.0, n_th: float = 0.0, mean_photons: float | None = None,
                         times: Any = None, method: str = "blocks") -> Trajectory:
    """E_h, E_c, Q and ergotropy while the collective battery discharges (the
    clock restarts at 0 when discharging starts; Q counts only this stage).
    Default times: 301 points up to 1.5 τ̄_d."""
    p = _problem(n_qubits, charger, kappa, g, n_th, mean_photons, None, method, RTOL, ATOL,
                 TRUNCATION_TOL)
    return _record(_discharge_problem(p, method), method, times, False, kind="min")


DISCHARGE_FIGURES = ("energy", "power", "rate")


def discharge_enhancement(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
                          g: float = 1.0, n_th: float = 0.0,
                          method: str = "blocks") -> dict[str, float]:
    """Γ_f = f#/f‖ of the discharge for f in energy, power, rate."""
    col = discharge(n_qubits, charger, kappa, g=g, n_th=n_th, method=method)
    par = discharge(n_qubits, charger, kappa, g=g, n_th=n_th, method=method, version="parallel")
    return {f: (float("nan") if abs(getattr(par, f)) < 1e-12 else getattr(col, f) / getattr(par, f))
            for f in DISCHARGE_FIGURES}
