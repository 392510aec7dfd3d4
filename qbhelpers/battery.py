"""The public verbs: charge, first maximum, discharge, and the enhancements.

All six take the same parameters, with the same meaning:

``n_qubits``
    number of qubits N in the holder.
``charger``
    "fock", "coherent" or "thermal" initial charger state.
``kappa``
    charger dissipation κ ≥ 0 (photon loss rate 2κ), units of g.
``g``
    coupling (sets the unit of time, default 1).
``n_th``
    mean photon number of the bath (default 0).
``mean_photons``
    initial mean photon number n̄ of the charger (default N; for the parallel
    version, all cells together: each cell gets n̄/N).
``n_cut``
    photon truncation of the charging run (default: chosen so that the
    initial tail is below ``truncation_tol``; a smaller one is an error that
    says what is needed).  Discharging into an empty charger chooses its own.
``method``
    the engine, by name — "blocks" (production), "blocks-rk", "dicke",
    "full" — or as a method object that carries its options, e.g.
    ``qbhelpers.engines.RungeKutta(rtol=1e-12, atol=1e-14)``; see
    :mod:`qbhelpers.engines`.
``truncation_tol``
    bound on the initial photon tail beyond n_cut.

Units: energies in ħω; times in 1/g; rates in 1/time.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .validation import check_bool, check_choice, check_parallel_split, check_times
from .engines import CostLimitError, NoMaximumError, Setup
from .engines.base import Extremum
from .engines.relaxation import dense_trajectory, relaxation_time, steady_state
from .physics.ergotropy import (charger_ergotropy, holder_ergotropy, symmetric_ergotropy,
                                symmetric_ergotropy_many)
from .physics.states import TRUNCATION_TOL, bath_margin
from .problem import (DISCHARGE_FIGURES, FIGURES, VERSIONS, Discharge, FirstMax, Trajectory,
                      check_cost, check_truncation, expected_search, initial_excitations,
                      make_setup, parallel, progress, ratios, search_stop, search_window)

#: A trajectory longer than this many expected search times is checked for a
#: relaxation time (:func:`~qbhelpers.engines.relaxation.relaxation_time`):
#: past it, the battery is in its steady state to rounding and is not
#: integrated further.
LONG_RUN = 25.0


def _setup(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method,
           truncation_tol, t_span=None) -> Setup:
    return make_setup(n_qubits, charger, kappa, g=g, n_th=n_th, mean_photons=mean_photons,
                      n_cut=n_cut, method=method, truncation_tol=truncation_tol, t_span=t_span)


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


def _check_search(setup: Setup, holder: np.ndarray | None, what: str):
    """Refuse a search whose expected cost exceeds the limits; return the
    time it is expected to run and its estimate."""
    t_est = expected_search(setup, initial_excitations(setup, holder))
    return t_est, check_cost(setup, t_est, holder, what=what)


def _extremum(setup: Setup, holder: np.ndarray | None, kind: str, what: str,
              checked=None) -> Extremum:
    """The first extremum of E_h, its cost checked first (unless ``checked``
    gives the search's (t_est, estimate)), with a progress bar when long."""
    t_est, est = checked if checked is not None else _check_search(setup, holder, what)
    engine = setup.method.engine(setup, holder)
    with progress(engine, est, t_est, what):
        return engine.first_extremum(kind, t_stop=search_stop(setup, est, t_est))


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
    other parameters are described in :mod:`qbhelpers.battery`.  A run that
    would exceed the memory or work limit is refused first
    (:class:`~qbhelpers.engines.CostLimitError`, see :mod:`qbhelpers.problem`).
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
    r = _extremum(setup, None, "max", "first_max")
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
    cell = _cell_setup(setup, n_cut, truncation_tol)  # refuse a bad split before computing
    for s in (setup, cell):  # and a run beyond the limits
        _check_search(s, None, "enhancement")
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

    Long runs: with κ > 0 the battery relaxes to its steady state (the
    product Gibbs state of :mod:`qbhelpers.engines.relaxation`).  When the
    time after which it is there to rounding can be computed (small enough
    sectors) and ``times`` goes beyond it, the run is integrated up to that
    time only and later times get the steady state (E_h, E_c, states,
    ergotropies; Q keeps its value, no net heat flows there).  A run that
    would still exceed the work limit is propagated exactly, by diagonalising
    the generator of its sectors, when they are small and well conditioned
    (a strongly damped battery followed until it relaxes); otherwise it is
    refused before it starts (:class:`~qbhelpers.engines.CostLimitError`).
    """
    t = None if times is None else check_times(times)
    with_charger = check_bool("with_charger", with_charger)
    args = (n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method, truncation_tol)
    setup = _setup(*args)
    if t is None:
        return _record(setup, setup, None, None, with_charger, "max")
    span = _integrated_span(setup, None, t[-1], with_charger)
    setup = _setup(*args, t_span=span if span is not None else t[-1])
    return _record(setup, setup, None, t, with_charger, "max")


def _integrated_span(setup: Setup, holder, t_end: float, with_charger: bool) -> float | None:
    """For a long run (beyond LONG_RUN expected search times) the relaxation
    time, when there is one before ``t_end`` (1.5× it: the truncation margin
    must cover the integrated span); None otherwise."""
    if setup.kappa == 0 or t_end <= LONG_RUN * expected_search(
            setup, initial_excitations(setup, holder)):
        return None
    t_relax = relaxation_time(setup, holder, with_charger)
    return None if t_relax is None or t_relax >= t_end else 1.5 * t_relax


def _record(setup: Setup, shown: Setup, holder: np.ndarray | None, times: np.ndarray | None,
            with_charger: bool, kind: str) -> Trajectory:
    """Run ``setup`` (from ``holder`` when discharging) on ``times`` (default:
    301 points up to 1.5 × the first extremum of E_h of the given ``kind``);
    the trajectory reports the setup ``shown``."""
    stage = "charging" if holder is None else "discharging"
    if times is None:
        checked = _check_search(setup, holder, stage)
        # and the trajectory after it, at its longest (the search window)
        check_cost(setup, 1.5 * search_window(setup, initial_excitations(setup, holder)),
                   holder, what=f"the {stage} trajectory", with_charger=with_charger,
                   n_times=301)
        try:
            t_end = 1.5 * _extremum(setup, holder, kind, stage, checked).tau
        except NoMaximumError:
            t_end = 20 * expected_search(setup, initial_excitations(setup, holder)) / 2
        times = np.linspace(0.0, t_end, 301)
    t_relax = None
    if times[-1] > LONG_RUN * expected_search(setup, initial_excitations(setup, holder)):
        t_relax = relaxation_time(setup, holder, with_charger)
        if t_relax is not None and t_relax >= times[-1]:
            t_relax = None
    run = times if t_relax is None else np.append(times[times < t_relax], t_relax)
    try:
        est = check_cost(setup, float(run[-1]), holder, what=f"the {stage} trajectory",
                         with_charger=with_charger, n_times=times.size)
    except CostLimitError:
        # too long to step through: exact propagation, when the sectors are small
        r = dense_trajectory(setup, holder, times, with_charger)
        if r is None:
            raise
        t_relax = None
    else:
        engine = setup.method.engine(setup, holder)
        with progress(engine, est, float(run[-1]), f"{stage} trajectory"):
            r = engine.trajectory(run, with_charger)
    check_truncation(setup, float(r.top.max()))
    cols = {"E_h": r.E_h, "E_c": r.E_c, "Q": r.Q, "ergotropy": r.ergotropy}
    holder_states, charger_states = r.holder_states, r.charger_states
    if t_relax is not None:
        cols, holder_states, charger_states = _relaxed(setup, r, times.size, with_charger)
    return Trajectory(
        setup=shown, t=times, E_h=cols["E_h"], E_c=cols["E_c"], Q=cols["Q"],
        ergotropy=cols["ergotropy"],
        ergotropy_symmetric=symmetric_ergotropy_many(holder_states),
        holder_states=holder_states,
        charger_ergotropy=(np.array([charger_ergotropy(x) for x in charger_states])
                           if with_charger else None),
        stage=stage)


#: Largest difference between the integrated run at its relaxation time and
#: the steady state (ħω, and entries of the reduced states): the engines'
#: accuracy (the QuTiP and Runge–Kutta references reach 1e-10).
RELAXED_TOL = 1e-9


def _relaxed(setup: Setup, r, n_times: int, with_charger: bool):
    """Observables at every output time from a run that ends at the
    relaxation time (its last sample) followed by the steady state; the
    run's end is checked against the steady state first."""
    ss = steady_state(setup)
    last = {"E_h": r.E_h[-1], "E_c": r.E_c[-1]}
    off = max(abs(last["E_h"] - ss.E_h), abs(last["E_c"] - ss.E_c),
              float(np.abs(r.holder_states[-1] - ss.holder_state).max()))
    if with_charger:
        off = max(off, float(np.abs(r.charger_states[-1] - ss.charger_state).max()))
    if off > RELAXED_TOL:
        raise RuntimeError(
            f"the run reached its computed relaxation time t={r.t[-1]:.6g} {off:.1e} away from "
            "the steady state; please report this (n_qubits={setup.n_qubits}, "
            f"charger={setup.charger!r}, kappa={setup.kappa:g}, n_th={setup.n_th:g})")
    k = r.t.size - 1  # the integrated times before the relaxation time
    later = n_times - k
    erg_ss = holder_ergotropy(ss.holder_state)
    cols = {"E_h": np.concatenate([r.E_h[:k], np.full(later, ss.E_h)]),
            "E_c": np.concatenate([r.E_c[:k], np.full(later, ss.E_c)]),
            "Q": np.concatenate([r.Q[:k], np.full(later, r.Q[-1])]),
            "ergotropy": np.concatenate([r.ergotropy[:k], np.full(later, erg_ss)])}
    holder_states = np.concatenate([r.holder_states[:k],
                                    np.repeat(ss.holder_state[None], later, axis=0)])
    charger_states = None
    if with_charger:
        charger_states = np.concatenate([r.charger_states[:k],
                                         np.repeat(ss.charger_state[None], later, axis=0)])
    return cols, holder_states, charger_states


# --------------------------------------------------------------- discharging
def _discharge_setup(setup: Setup, t_span: float | None = None) -> Setup:
    """The discharging run that follows charging ``setup``: an empty charger
    with photon levels for every excitation of the holder plus, with a warm
    bath, a margin for the bath's photons that covers a run of ``t_span``
    (default: the longest search for the first minimum)."""
    N = setup.n_qubits
    d = dataclasses.replace(setup, mean_photons=0.0, n_cut=N)
    if setup.n_th > 0:
        if t_span is None:
            t_span = search_window(d, max(min(N, setup.mean_photons), 1e-2))
        d = dataclasses.replace(
            d, n_cut=N + bath_margin(setup.n_th, exposure=2 * setup.kappa * t_span, base=N))
    return d


def _charged_holder(setup: Setup) -> np.ndarray:
    """The holder state at the charging τ̄."""
    _check_not_empty(setup)
    return _extremum(setup, None, "max", "charging").holder_state


def _check_discharge(setup: Setup, dsetup: Setup) -> None:
    """Refuse, before charging, a discharge whose charging or discharging
    search would exceed the limits."""
    _check_not_empty(setup)
    _check_search(setup, None, "charging")
    # a stand-in for the charged holder: as many excitations as the charger
    # held, and coherences (all sectors d <= N) when the charger is coherent
    size = setup.n_qubits + 1
    if setup.charger == "coherent":
        placeholder = np.full((size, size), 1.0 / size, dtype=complex)
    else:
        placeholder = np.zeros((size, size), dtype=complex)
        k = min(setup.n_qubits, round(setup.mean_photons))
        placeholder[k, k] = 1.0
    _check_search(dsetup, placeholder, "discharging")

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
    dsetup = _discharge_setup(setup)
    _check_discharge(setup, dsetup)
    rho0 = _charged_holder(setup)
    r = _extremum(dsetup, rho0, "min", "discharging")
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
    The result reports the charging run's setup (charger, n̄, n_cut) and
    ``stage="discharging"``.  Default times: 301 points up to 1.5 τ̄_d.
    Parameters, and long runs, as in :func:`charge`."""
    setup = _setup(n_qubits, charger, kappa, g, n_th, mean_photons, n_cut, method,
                   truncation_tol)
    t = None if times is None else check_times(times)
    with_charger = check_bool("with_charger", with_charger)
    dsetup = _discharge_setup(setup, None if t is None else float(t[-1]))
    _check_discharge(setup, dsetup)
    holder = _charged_holder(setup)
    if t is not None:
        span = _integrated_span(dsetup, holder, t[-1], with_charger)
        if span is not None:
            dsetup = _discharge_setup(setup, span)
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
    cell = _cell_setup(setup, n_cut, truncation_tol)
    for s in (setup, cell):
        _check_discharge(s, _discharge_setup(s))
    return ratios(discharge(n_qubits, charger, kappa, **kw),
                  discharge(n_qubits, charger, kappa, version="parallel", **kw),
                  DISCHARGE_FIGURES)
