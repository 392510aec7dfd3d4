"""The public verbs: charge, first maximum, discharge, and the enhancements.

All six take the same parameters, with the same meaning:

n_qubits : number of qubits N in the holder.
charger : "fock", "coherent" or "thermal" initial charger state.
kappa : charger dissipation κ ≥ 0 (photon loss rate 2κ), units of g.
g : coupling (sets the unit of time, default 1).
n_th : mean photon number of the bath (default 0).
mean_photons : initial mean photon number n̄ of the charger (default N; for
    the parallel version, all cells together: each cell gets n̄/N).
n_cut : photon truncation of the charging run (default: chosen so that the
    initial tail is below ``truncation_tol``; a smaller one is an error that
    says what is needed).  Discharging into an empty charger chooses its own.
method : the engine, by name — "blocks" (production), "blocks-rk",
    "dicke", "full" — or as a method object that carries its options, e.g.
    ``qbhelpers.engines.RungeKutta(rtol=1e-12, atol=1e-14)``; see
    :mod:`qbhelpers.engines`.
truncation_tol : bound on the initial photon tail beyond n_cut.

Units: energies in ħω; times in 1/g; rates in 1/time.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .validation import check_choice, check_parallel_split, check_times
from .engines import NoMaximumError, Setup
from .engines.base import time_scale
from .physics.ergotropy import (charger_ergotropy, holder_ergotropy, symmetric_ergotropy,
                                symmetric_ergotropy_many)
from .physics.states import TRUNCATION_TOL, bath_margin
from .problem import (DISCHARGE_FIGURES, FIGURES, VERSIONS, Discharge, FirstMax, Trajectory,
                      check_truncation, make_setup, parallel, ratios)


def _setup(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method,
           truncation_tol) -> Setup:
    return make_setup(n_qubits, charger, kappa, g=g, n_th=n_th, mean_photons=mean_photons,
                      n_cut=n_cut, method=method, truncation_tol=truncation_tol)


def _cell_setup(setup: Setup, n_cut, truncation_tol) -> Setup:
    """One cell of the parallel version of ``setup``: one qubit, n̄/N photons."""
    per_cell = check_parallel_split(setup.charger, setup.mean_photons, setup.n_qubits)
    return make_setup(1, setup.charger, setup.kappa, g=setup.g, n_th=setup.n_th,
                      mean_photons=per_cell, n_cut=n_cut, method=setup.method,
                      truncation_tol=truncation_tol)


def _check_not_empty(setup: Setup) -> None:
    if setup.mean_photons == 0 and setup.n_th == 0:
        raise NoMaximumError("the charger is empty (mean_photons=0, n_th=0): E_h stays 0, "
                             "there is no first maximum")


# ------------------------------------------------------------ first maximum
def first_max(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
              version: str = "collective", g: float = 1.0, n_th: float = 0.0,
              mean_photons: float | None = None, n_cut: int | None = None,
              method: Any = "blocks", truncation_tol: float = TRUNCATION_TOL) -> FirstMax:
    """Figures of merit at the first maximum τ̄ of the holder energy.

    τ̄ is bracketed on the engine's steps and refined by root finding on the
    exact dE_h/dt = 2g Im⟨aJ₊⟩ (relative accuracy ~1e-13).  ``version``:
    "collective" (N qubits, one charger with ``mean_photons``) or "parallel"
    (N independent cells, each one qubit and a charger with
    ``mean_photons / N``; extensive figures summed over the cells).  The
    other parameters are described in :mod:`qbhelpers.battery`.
    """
    version = check_choice("version", version, VERSIONS)
    setup = _setup(n_qubits, charger, kappa, g, n_th, mean_photons,
                   n_cut if version == "collective" else None, method, truncation_tol)
    if version == "parallel":
        return parallel(_first_max(_cell_setup(setup, n_cut, truncation_tol)), setup.n_qubits)
    return _first_max(setup)


def _first_max(setup: Setup) -> FirstMax:
    return _charge_to_first_max(setup)[0]


def _charge_to_first_max(setup: Setup) -> tuple[FirstMax, np.ndarray]:
    """The figures at the first maximum of charging ``setup``, and the holder
    state there (Dicke basis)."""
    _check_not_empty(setup)
    r = setup.method.engine(setup).first_extremum("max")
    check_truncation(setup, r.top)
    fm = FirstMax(setup=setup, tau=r.tau, energy=r.E_h, ergotropy=r.ergotropy,
                  ergotropy_symmetric=symmetric_ergotropy(r.holder_state),
                  power=r.E_h / r.tau, rate=2 * math.pi / r.tau, E_c=r.E_c, Q=r.Q)
    return fm, r.holder_state


def enhancement(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *, g: float = 1.0,
                n_th: float = 0.0, mean_photons: float | None = None, n_cut: int | None = None,
                method: Any = "blocks",
                truncation_tol: float = TRUNCATION_TOL) -> dict[str, float]:
    """Collective enhancements Γ_f = f# / f‖ for f in energy, ergotropy, power, rate.

    Both batteries hold n̄ photons in total (default N: n̄ = N collectively, 1
    per cell in parallel).  Γ_ergotropy is NaN where the parallel ergotropy
    vanishes (below 1e-12 ħω).
    """
    kw = dict(g=g, n_th=n_th, mean_photons=mean_photons, n_cut=n_cut, method=method,
              truncation_tol=truncation_tol)
    setup = _setup(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method,
                   truncation_tol)
    _cell_setup(setup, n_cut, truncation_tol)  # refuse a bad split before computing
    return ratios(first_max(n_qubits, charger, kappa, **kw),
                  first_max(n_qubits, charger, kappa, version="parallel", **kw), FIGURES)


# ---------------------------------------------------------------- trajectory
def charge(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *, g: float = 1.0,
           n_th: float = 0.0, mean_photons: float | None = None, n_cut: int | None = None,
           method: Any = "blocks", truncation_tol: float = TRUNCATION_TOL,
           times: Any = None, with_charger: bool = False) -> Trajectory:
    """Charge the collective battery and record energies, heat and ergotropy.

    ``times`` (units of 1/g) must start at 0 and increase; by default 301
    points up to 1.5 τ̄ (the first maximum of E_h), or up to 20 π/(2g√(N n̄))
    when E_h has no maximum.  ``with_charger=True`` also records the charger
    ergotropy.  The other parameters are described in :mod:`qbhelpers.battery`.
    """
    setup = _setup(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method,
                   truncation_tol)
    t = None if times is None else check_times(times)
    return _record(setup, setup, None, t, with_charger, "max")


def _record(setup: Setup, shown: Setup, holder: np.ndarray | None, times: np.ndarray | None,
            with_charger: bool, kind: str) -> Trajectory:
    """Run ``setup`` (from ``holder`` when discharging) on ``times`` (default:
    301 points up to 1.5 × the first extremum of E_h of the given ``kind``);
    the trajectory reports the setup ``shown``."""
    engine = setup.method.engine(setup, holder)
    if times is None:
        try:
            t_end = 1.5 * engine.first_extremum(kind).tau
        except NoMaximumError:
            t_end = 20 * time_scale(setup, engine.excitations)
        times = np.linspace(0.0, t_end, 301)
    r = engine.trajectory(times, with_charger)
    check_truncation(setup, float(r.top.max()))
    return Trajectory(
        setup=shown, t=times, E_h=r.E_h, E_c=r.E_c, Q=r.Q, ergotropy=r.ergotropy,
        ergotropy_symmetric=symmetric_ergotropy_many(r.holder_states),
        holder_states=r.holder_states,
        charger_ergotropy=(np.array([charger_ergotropy(x) for x in r.charger_states])
                           if with_charger else None),
        stage="charging" if holder is None else "discharging")


# --------------------------------------------------------------- discharging
def _discharge_setup(setup: Setup) -> tuple[Setup, np.ndarray]:
    """The discharging run that follows charging ``setup``: its setup (empty
    charger, photon levels for every excitation of the holder plus a bath
    margin) and the holder state at the charging τ̄."""
    _check_not_empty(setup)
    holder = setup.method.engine(setup).first_extremum("max").holder_state
    N = setup.n_qubits
    need = N + (bath_margin(setup.n_th) if setup.n_th > 0 else 0)
    return dataclasses.replace(setup, mean_photons=0.0, n_cut=need), holder


def discharge(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
              version: str = "collective", g: float = 1.0, n_th: float = 0.0,
              mean_photons: float | None = None, n_cut: int | None = None,
              method: Any = "blocks", truncation_tol: float = TRUNCATION_TOL) -> Discharge:
    """Charge to the first maximum, then discharge through the empty charger
    to the first minimum of E_h (SPEC §8).  ``version`` as in
    :func:`first_max`; the other parameters in :mod:`qbhelpers.battery`."""
    version = check_choice("version", version, VERSIONS)
    setup = _setup(n_qubits, charger, kappa, g, n_th, mean_photons,
                   n_cut if version == "collective" else None, method, truncation_tol)
    if version == "parallel":
        return parallel(_discharge(_cell_setup(setup, n_cut, truncation_tol)), setup.n_qubits)
    return _discharge(setup)


def _discharge(setup: Setup) -> Discharge:
    dsetup, rho0 = _discharge_setup(setup)
    r = dsetup.method.engine(dsetup, rho0).first_extremum("min")
    check_truncation(dsetup, r.top)
    e0 = float(np.real(np.diag(rho0)) @ np.arange(setup.n_qubits + 1))
    e_d = e0 - r.E_h
    return Discharge(setup=setup, tau=r.tau, energy=e_d, power=e_d / r.tau,
                     rate=2 * math.pi / r.tau, E_start=e0, E_end=r.E_h,
                     ergotropy_start=holder_ergotropy(rho0), ergotropy_end=r.ergotropy,
                     E_c=r.E_c, Q=r.Q)


def discharge_trajectory(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
                         g: float = 1.0, n_th: float = 0.0, mean_photons: float | None = None,
                         n_cut: int | None = None, method: Any = "blocks",
                         truncation_tol: float = TRUNCATION_TOL, times: Any = None,
                         with_charger: bool = False) -> Trajectory:
    """E_h, E_c, Q and ergotropy while the collective battery discharges (the
    clock restarts at 0 when discharging starts; Q counts only this stage and
    the balance E_h + E_c + Q stays at the holder energy it started with).
    Default times: 301 points up to 1.5 τ̄_d.  Parameters as in :func:`charge`."""
    setup = _setup(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method,
                   truncation_tol)
    t = None if times is None else check_times(times)
    dsetup, holder = _discharge_setup(setup)
    return _record(dsetup, setup, holder, t, with_charger, "min")


def discharge_enhancement(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
                          g: float = 1.0, n_th: float = 0.0, mean_photons: float | None = None,
                          n_cut: int | None = None, method: Any = "blocks",
                          truncation_tol: float = TRUNCATION_TOL) -> dict[str, float]:
    """Γ_f = f#/f‖ of the discharge for f in energy, power, rate."""
    kw = dict(g=g, n_th=n_th, mean_photons=mean_photons, n_cut=n_cut, method=method,
              truncation_tol=truncation_tol)
    setup = _setup(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method,
                   truncation_tol)
    _cell_setup(setup, n_cut, truncation_tol)
    return ratios(discharge(n_qubits, charger, kappa, **kw),
                  discharge(n_qubits, charger, kappa, version="parallel", **kw),
                  DISCHARGE_FIGURES)
