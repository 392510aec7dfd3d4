"""The whole battery cycle: charge, store, discharge (SPEC §9).

1. **Charge** the battery (N qubits, one charger with n̄ photons) to the first
   maximum τ̄ of the holder energy, as :func:`qbhelpers.first_max` does.
2. **Store** the holder's reduced state (the charger is decoupled and
   discarded) for ``storage_time`` τ_s under local decay γ_↓ and dephasing γ_φ
   of every qubit, dρ/dt = γ_↓ Σ_i D[σ_i⁻]ρ + (γ_φ/2) Σ_i D[σ_i^z]ρ, in the
   total-spin basis (:mod:`qbhelpers.physics.permutational`).
3. **Discharge** the stored holder through an empty charger under the
   charging master equation (same g, κ, n_th; no qubit losses) to the first
   minimum τ̄_d of the holder energy.  The collective dynamics conserves the
   total spin J, so every block discharges as a spin-J battery
   (:class:`qbhelpers.engines.combined.BlockDischarge`); the energy
   ⟨N/2 − Ĵ⟩ is trapped in states dark to the charger.

The verbs take the parameters of :mod:`qbhelpers.battery` (n_qubits, charger,
kappa, g, n_th, mean_photons, n_cut, method, truncation_tol, version), plus

``storage_time``
    τ_s ≥ 0, units of 1/g (``storage_times`` for the scans).
``gamma_decay``
    γ_↓ ≥ 0, each qubit's excited population decays at this rate (units of g).
``gamma_dephasing``
    γ_φ ≥ 0, each qubit's coherence decays at γ_↓/2 + γ_φ (units of g).
``block_tol``
    the discharge may skip (freeze) total-spin blocks of small weight
    as long as Σ p_J · 2J ≤ block_tol (ħω), which bounds the error this makes
    in every energy of the discharge; default 1e-12.

Parallel version: N cells, each one qubit with its own charger holding n̄/N
photons, go through the same cycle; extensive figures are N times one cell's
(a single qubit has no dark state).  Energies in ħω, times in 1/g.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .battery import _cell_setup, _charge_to_first_max
from .engines import NoMaximumError, Setup
from .engines.base import time_scale
from .engines.base import CostLimitError
from .engines.combined import BlockDischarge, block_setup
from .physics.permutational import (PermutationInvariantState, j2_values, storage_states,
                                    storage_work)
from .physics.states import TRUNCATION_TOL
from .problem import (MAX_SECONDS_VARIABLE, VERSIONS, FirstMax, Result, check_cost,
                      check_truncation, expected_search, extensive, initial_excitations,
                      make_setup, max_memory, max_seconds, parallel, ratios)
from .validation import (check_choice, check_positive_int, check_real, check_time_grid,
                         check_times)

#: The figures whose collective enhancement Γ = f#/f‖ :func:`cycle_enhancement` returns.
CYCLE_FIGURES = ("stored_energy", "stored_ergotropy", "discharged_energy", "efficiency")

#: Default bound (ħω) on the energy error from total-spin blocks frozen to save work.
BLOCK_TOL = 1e-12

#: Keys of :meth:`Cycle.energy_budget`, in the order energy meets them.
BUDGET_ITEMS = ("charging_heat", "charger_at_decoupling", "storage_loss", "discharging_heat",
                "charger_at_tau_d", "trapped", "bright_residual")


# ----------------------------------------------------------------- results
@dataclass(frozen=True)
class Cycle(Result):
    """One charge–store–discharge cycle (SPEC §9).  Energies in ħω, times in 1/g.

    ``charging``: the :class:`~qbhelpers.problem.FirstMax` of the charging
    stage (τ̄, Ē, ℰ̄, E_c and Q at τ̄, …).  Storage: ``storage_time`` τ_s,
    ``gamma_decay`` γ_↓, ``gamma_dephasing`` γ_φ; ``stored_energy`` E_s and
    ``stored_ergotropy`` ℰ_s (all unitaries of the N qubits) at the end of
    storage; ``trapped_energy`` E_trap = ⟨N/2 − Ĵ⟩ there (unchanged by the
    discharge); ``storage_loss`` Ē − E_s.  Discharge: ``tau_d`` τ̄_d, the
    first minimum of E_h; ``discharged_energy`` E_d = E_s − E_h(τ̄_d);
    ``discharge_power`` E_d/τ̄_d; ``discharge_rate`` 2π/τ̄_d; ``efficiency``
    η = E_d / n̄ (NaN if n̄ = 0); ``final_energy`` E_h(τ̄_d) and ``final_ergotropy`` there;
    ``discharging_heat`` and ``charger_at_tau_d``, Q and E_c at τ̄_d (Q
    counted from the start of the discharge).  ``block_error_bound``: bound
    on the error of the discharge energies from skipped blocks (0 when none
    was skipped).  ``stored_state`` and ``final_state``: the holder at the end
    of storage and at τ̄_d (for the parallel version: one cell's).

    ``version="parallel"``: extensive figures are N times one cell's; τ̄_d,
    the rate and η are one cell's (η is the same for N cells and for one).
    """

    charging: FirstMax
    storage_time: float
    gamma_decay: float
    gamma_dephasing: float
    stored_energy: float = extensive()
    stored_ergotropy: float = extensive()
    trapped_energy: float = extensive()
    storage_loss: float = extensive()
    tau_d: float
    discharged_energy: float = extensive()
    discharge_power: float = extensive()
    discharge_rate: float
    efficiency: float
    final_energy: float = extensive()
    final_ergotropy: float = extensive()
    discharging_heat: float = extensive()
    charger_at_tau_d: float = extensive()
    block_error_bound: float = extensive()
    stored_state: PermutationInvariantState = field(repr=False)
    final_state: PermutationInvariantState = field(repr=False)
    version: str = "collective"

    def energy_budget(self) -> dict[str, float]:
        """Where the n̄ photons the charger started with went (ħω; keys
        :data:`BUDGET_ITEMS`; the values sum to n̄ = ``mean_photons``):

        ``charging_heat`` Q(τ̄) released while charging; ``charger_at_decoupling``
        E_c(τ̄), left in the charger when it was decoupled; ``storage_loss``
        Ē − E_s, lost by the qubits to their own environment during storage;
        ``discharging_heat`` Q released while discharging; ``charger_at_tau_d``
        E_c(τ̄_d), in the charger at the end of the discharge; ``trapped``
        E_trap, in states dark to the charger; ``bright_residual``
        E_h(τ̄_d) − E_trap, left in the states the charger could still reach.
        The discharged energy E_d is discharging_heat + charger_at_tau_d.
        """
        c = self.charging
        values = (c.Q, c.E_c, self.storage_loss, self.discharging_heat, self.charger_at_tau_d,
                  self.trapped_energy, self.final_energy - self.trapped_energy)
        return dict(zip(BUDGET_ITEMS, (float(v) for v in values)))

    @property
    def budget_total(self) -> float:
        """Sum of :meth:`energy_budget`: n̄ up to the solvers' accuracy."""
        return float(sum(self.energy_budget().values()))


@dataclass(frozen=True)
class StorageTrace(Result):
    """The holder during storage, on a grid of storage times ``t`` (1/g), after
    charging to τ̄ (``charging``).  Arrays over ``t``: ``energy`` E, ``ergotropy``
    (all unitaries), ``trapped_energy`` ⟨N/2 − Ĵ⟩ (ħω), ``symmetric_weight``
    p_{N/2}; ``block_weights[i, b]`` is p_J at t[i] for 2J = ``j2[b]``.  For
    ``version="parallel"`` the energies are N times one cell's and the weights
    one cell's (a single qubit: J = 1/2 only)."""

    charging: FirstMax
    gamma_decay: float
    gamma_dephasing: float
    t: np.ndarray
    energy: np.ndarray = extensive()
    ergotropy: np.ndarray = extensive()
    trapped_energy: np.ndarray = extensive()
    symmetric_weight: np.ndarray
    j2: tuple[int, ...]
    block_weights: np.ndarray
    version: str = "collective"


@dataclass(frozen=True)
class CycleDischargeTrace(Result):
    """The discharge after storage on a time grid ``t`` (1/g, clock restarted at
    0 when the discharge starts).  Arrays over ``t`` (ħω): ``E_h``, ``E_c``,
    ``Q`` (heat since the discharge began), ``ergotropy`` (all unitaries of
    the N qubits), ``trapped_energy`` (constant: the discharge conserves J);
    ``stored_energy`` E_s = E_h(0) = E_h + E_c + Q; ``states``: the holder at
    every time (one cell's for the parallel version, whose arrays are N
    times one cell's).  ``cycle``: the :class:`Cycle` of the same charging,
    storage and discharge (what :func:`cycle` returns for these arguments),
    or None if E_h has no first minimum."""

    charging: FirstMax
    storage_time: float
    gamma_decay: float
    gamma_dephasing: float
    stored_energy: float = extensive()
    t: np.ndarray
    E_h: np.ndarray = extensive()
    E_c: np.ndarray = extensive()
    Q: np.ndarray = extensive()
    ergotropy: np.ndarray = extensive()
    trapped_energy: np.ndarray = extensive()
    states: tuple = field(repr=False)
    version: str = "collective"
    cycle: Cycle | None = field(default=None, repr=False)

    @property
    def balance(self) -> np.ndarray:
        """The sum E_h + E_c + Q, constant and equal to the stored energy E_s."""
        return self.E_h + self.E_c + self.Q


# -------------------------------------------------------------- validation
@dataclass(frozen=True)
class _Plan:
    """Checked arguments: the battery's setup (collective or one cell) and the storage."""

    setup: Setup
    version: str
    n_cells: int
    gamma_decay: float
    gamma_dephasing: float
    block_tol: float


def _plan(n_qubits, charger, kappa, version, g, n_th, mean_photons, n_cut, method,
          truncation_tol, gamma_decay, gamma_dephasing, block_tol) -> _Plan:
    """Check every argument, before anything is computed."""
    version = check_choice("version", version, VERSIONS)
    setup = make_setup(n_qubits, charger, kappa, g=g, n_th=n_th, mean_photons=mean_photons,
                       n_cut=n_cut if version == "collective" else None, method=method,
                       truncation_tol=truncation_tol)
    gd = check_real("gamma_decay", gamma_decay)
    gp = check_real("gamma_dephasing", gamma_dephasing)
    tol = check_real("block_tol", block_tol)
    if version == "parallel":
        cell = _cell_setup(setup, n_cut, truncation_tol)
        return _Plan(cell, version, setup.n_qubits, gd, gp, tol)
    return _Plan(setup, version, 1, gd, gp, tol)


def _finish(result: Result, plan: _Plan) -> Result:
    """The parallel battery from one cell's result (its charging, and the
    cycle a discharge trace carries, too)."""
    if plan.version == "collective":
        return result
    par = parallel(result, plan.n_cells)
    nested = {"charging": parallel(result.charging, plan.n_cells)}
    if getattr(result, "cycle", None) is not None:
        nested["cycle"] = _finish(result.cycle, plan)
    return dataclasses.replace(par, **nested)


# ---------------------------------------------------------------- the stages
#: Seconds per nonzero-times-vector product of the storage propagation (scipy
#: sparse products, measured on the project's 2-core machine, rounded up).
STORAGE_SECONDS_PER_PRODUCT = 3e-9


def _check_storage_cost(plan: _Plan, storage_time: float) -> None:
    """Refuse, before anything runs, a storage the machine cannot afford."""
    setup = plan.setup
    memory, products = storage_work(setup.n_qubits, plan.gamma_decay, plan.gamma_dephasing,
                                    storage_time, coherences=setup.charger == "coherent")
    seconds = products * STORAGE_SECONDS_PER_PRODUCT
    what = (f"storing {setup.n_qubits} qubits for storage_time={storage_time:g} "
            f"(gamma_decay={plan.gamma_decay:g}, gamma_dephasing={plan.gamma_dephasing:g})")
    if memory > max_memory():
        raise CostLimitError(f"{what} would need about {memory / 2**30:.1f} GiB of memory, more "
                             f"than the {max_memory() / 2**30:.1f} GiB it may use; use fewer qubits")
    if seconds > max_seconds():
        raise CostLimitError(
            f"{what} would take about {seconds:.3g} s, more than the limit of "
            f"{max_seconds():.3g} s: use a shorter storage time or smaller rates (the holder "
            f"has relaxed long before γ·t ≈ 50), fewer qubits, or raise the limit with the "
            f"environment variable {MAX_SECONDS_VARIABLE}")


def _check_discharge_cost(blocks: BlockDischarge, setup: Setup) -> None:
    """Refuse, before any block is propagated, a discharge over the work or
    memory limit (every moving block is an engine run of its own)."""
    total = 0.0
    for j2 in blocks.moving:
        bsetup = block_setup(setup, j2)
        holder = blocks.state.ladder_state(j2)
        t_est = expected_search(bsetup, initial_excitations(bsetup, holder))
        total += check_cost(bsetup, t_est, holder,
                            what=f"the discharge of the spin-J block 2J={j2}").seconds
    if total > max_seconds():
        raise CostLimitError(
            f"the discharge of {len(blocks.moving)} total-spin blocks of {setup.n_qubits} qubits "
            f"would take about {total:.3g} s, more than the limit of {max_seconds():.3g} s; use "
            f"fewer qubits, or raise the limit with the environment variable "
            f"{MAX_SECONDS_VARIABLE}")


def _charge(setup: Setup) -> tuple[FirstMax, PermutationInvariantState]:
    fm, holder = _charge_to_first_max(setup)
    return fm, PermutationInvariantState.from_dicke(holder)


def _store(state: PermutationInvariantState, times: np.ndarray, plan: _Plan
           ) -> tuple[PermutationInvariantState, ...]:
    return storage_states(state, times, gamma_decay=plan.gamma_decay,
                          gamma_dephasing=plan.gamma_dephasing)


def _blocks(stored: PermutationInvariantState, plan: _Plan) -> BlockDischarge:
    """The discharge of a stored state, its cost checked before anything runs."""
    blocks = BlockDischarge(stored, plan.setup, plan.block_tol)
    _check_discharge_cost(blocks, plan.setup)
    return blocks


def _discharge(charging: FirstMax, stored: PermutationInvariantState, storage_time: float,
               plan: _Plan, blocks: BlockDischarge | None = None) -> Cycle:
    """The cycle of a stored state, discharged to the first minimum (by
    ``blocks`` if given: the same discharge, which can then also be traced)."""
    setup = plan.setup
    blocks = _blocks(stored, plan) if blocks is None else blocks
    r = blocks.first_extremum("min")
    check_truncation(blocks.setup, r.top)
    e_s = stored.energy
    e_d = e_s - r.E_h
    return Cycle(
        setup=setup, charging=charging, storage_time=storage_time,
        gamma_decay=plan.gamma_decay, gamma_dephasing=plan.gamma_dephasing,
        stored_energy=e_s, stored_ergotropy=stored.ergotropy,
        trapped_energy=stored.trapped_energy, storage_loss=charging.energy - e_s,
        tau_d=r.tau, discharged_energy=e_d, discharge_power=e_d / r.tau,
        discharge_rate=2 * math.pi / r.tau,
        efficiency=e_d / setup.mean_photons if setup.mean_photons > 0 else math.nan,
        final_energy=r.E_h, final_ergotropy=r.ergotropy, discharging_heat=r.Q,
        charger_at_tau_d=r.E_c, block_error_bound=blocks.error_bound,
        stored_state=stored, final_state=r.state)


# ------------------------------------------------------------------- verbs
def cycle(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *, storage_time: float,
          gamma_decay: float = 0.0, gamma_dephasing: float = 0.0, version: str = "collective",
          g: float = 1.0, n_th: float = 0.0, mean_photons: float | None = None,
          n_cut: int | None = None, method: Any = "blocks",
          truncation_tol: float = TRUNCATION_TOL, block_tol: float = BLOCK_TOL) -> Cycle:
    """Charge to the first maximum, store for ``storage_time`` under local decay
    and dephasing, discharge to the first minimum: a :class:`Cycle`.

    With ``storage_time=0`` or zero rates the result's discharge is that of
    :func:`qbhelpers.discharge`.  Raises :class:`qbhelpers.NoMaximumError` if
    the charging has no first maximum or the discharge no first minimum (e.g.
    one qubit at κ ≥ 2g).  Parameters: see the module docstring and
    :mod:`qbhelpers.battery`.
    """
    plan = _plan(n_qubits, charger, kappa, version, g, n_th, mean_photons, n_cut, method,
                 truncation_tol, gamma_decay, gamma_dephasing, block_tol)
    t_s = check_real("storage_time", storage_time)
    _check_storage_cost(plan, t_s)
    charging, state = _charge(plan.setup)
    stored = _store(state, np.array([t_s]), plan)[0]
    return _finish(_discharge(charging, stored, t_s, plan), plan)


def cycle_scan(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
               storage_times: Any, gamma_decay: float = 0.0, gamma_dephasing: float = 0.0,
               version: str = "collective", g: float = 1.0, n_th: float = 0.0,
               mean_photons: float | None = None, n_cut: int | None = None,
               method: Any = "blocks", truncation_tol: float = TRUNCATION_TOL,
               block_tol: float = BLOCK_TOL) -> tuple[Cycle, ...]:
    """:func:`cycle` for every storage time of ``storage_times`` (increasing,
    ≥ 0, units of 1/g), sharing one charging run and one storage propagation:
    one :class:`Cycle` per storage time, each equal to what :func:`cycle`
    returns for it."""
    plan = _plan(n_qubits, charger, kappa, version, g, n_th, mean_photons, n_cut, method,
                 truncation_tol, gamma_decay, gamma_dephasing, block_tol)
    times = check_time_grid("storage_times", storage_times)
    _check_storage_cost(plan, float(times.max(initial=0.0)))
    charging, state = _charge(plan.setup)
    return tuple(_finish(_discharge(charging, stored, float(t), plan), plan)
                 for t, stored in zip(times, _store(state, times, plan)))


def cycle_enhancement(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
                      storage_time: float, gamma_decay: float = 0.0,
                      gamma_dephasing: float = 0.0, g: float = 1.0, n_th: float = 0.0,
                      mean_photons: float | None = None, n_cut: int | None = None,
                      method: Any = "blocks", truncation_tol: float = TRUNCATION_TOL,
                      block_tol: float = BLOCK_TOL) -> dict[str, float]:
    """Γ_f = f#/f‖ for f in :data:`CYCLE_FIGURES` (E_s, ℰ_s, E_d, η): the
    collective cycle against N one-qubit cells with n̄/N photons each.  NaN
    where the parallel figure vanishes (below 1e-12)."""
    kw = dict(storage_time=storage_time, gamma_decay=gamma_decay,
              gamma_dephasing=gamma_dephasing, g=g, n_th=n_th, mean_photons=mean_photons,
              n_cut=n_cut, method=method, truncation_tol=truncation_tol, block_tol=block_tol)
    # check both versions' arguments before computing either
    for version in VERSIONS:
        _plan(n_qubits, charger, kappa, version, g, n_th, mean_photons, n_cut, method,
              truncation_tol, gamma_decay, gamma_dephasing, block_tol)
    check_real("storage_time", storage_time)
    return ratios(cycle(n_qubits, charger, kappa, **kw),
                  cycle(n_qubits, charger, kappa, version="parallel", **kw), CYCLE_FIGURES)


def cycle_storage_trace(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
                        storage_times: Any, gamma_decay: float = 0.0,
                        gamma_dephasing: float = 0.0, version: str = "collective",
                        g: float = 1.0, n_th: float = 0.0, mean_photons: float | None = None,
                        n_cut: int | None = None, method: Any = "blocks",
                        truncation_tol: float = TRUNCATION_TOL) -> StorageTrace:
    """Charge to τ̄, then record the holder over ``storage_times`` (increasing,
    ≥ 0, units of 1/g): energy, ergotropy, trapped energy, block weights."""
    plan = _plan(n_qubits, charger, kappa, version, g, n_th, mean_photons, n_cut, method,
                 truncation_tol, gamma_decay, gamma_dephasing, BLOCK_TOL)
    times = check_time_grid("storage_times", storage_times)
    _check_storage_cost(plan, float(times.max(initial=0.0)))
    charging, state = _charge(plan.setup)
    states = _store(state, times, plan)
    j2 = j2_values(state.n_qubits)
    trace = StorageTrace(
        setup=plan.setup, charging=charging, gamma_decay=plan.gamma_decay,
        gamma_dephasing=plan.gamma_dephasing, t=times,
        energy=np.array([s.energy for s in states]),
        ergotropy=np.array([s.ergotropy for s in states]),
        trapped_energy=np.array([s.trapped_energy for s in states]),
        symmetric_weight=np.array([s.symmetric_weight for s in states]), j2=j2,
        block_weights=np.array([[s.block_weights[b] for b in j2] for s in states]))
    return _finish(trace, plan)


def cycle_discharge_trace(n_qubits: int, charger: str = "fock", kappa: float = 0.0, *,
                          storage_time: float, gamma_decay: float = 0.0,
                          gamma_dephasing: float = 0.0, version: str = "collective",
                          g: float = 1.0, n_th: float = 0.0, mean_photons: float | None = None,
                          n_cut: int | None = None, method: Any = "blocks",
                          truncation_tol: float = TRUNCATION_TOL, block_tol: float = BLOCK_TOL,
                          times: Any = None, window: float = 1.5,
                          n_times: int = 301) -> CycleDischargeTrace:
    """Charge to τ̄, store for ``storage_time``, then record the discharge on
    ``times`` (from 0, increasing, units of 1/g; default: ``n_times`` points
    from 0 to ``window`` τ̄_d, or to 20 collective time scales if E_h has no
    first minimum).  The trace carries the :class:`Cycle` of the same run
    (``trace.cycle``), found on the way: no need to call :func:`cycle` too."""
    plan = _plan(n_qubits, charger, kappa, version, g, n_th, mean_photons, n_cut, method,
                 truncation_tol, gamma_decay, gamma_dephasing, block_tol)
    t_s = check_real("storage_time", storage_time)
    t = None if times is None else check_times(times)
    window = check_real("window", window, positive=True)
    n_times = check_positive_int("n_times", n_times, "number of time points")
    if n_times < 2:
        raise ValueError(f"n_times must be at least 2, got {n_times}")
    _check_storage_cost(plan, t_s)
    charging, state = _charge(plan.setup)
    stored = _store(state, np.array([t_s]), plan)[0]
    blocks = _blocks(stored, plan)
    try:
        cyc = _discharge(charging, stored, t_s, plan, blocks)
    except NoMaximumError:
        cyc = None
    if t is None:
        t_end = (window * cyc.tau_d if cyc is not None else
                 20 * time_scale(blocks.setup, max(stored.energy - stored.trapped_energy, 1e-2)))
        t = np.linspace(0.0, t_end, n_times)
    run = blocks.trajectory(t)
    check_truncation(blocks.setup, float(run.top.max(initial=0.0)))
    trace = CycleDischargeTrace(
        setup=plan.setup, charging=charging, storage_time=t_s, gamma_decay=plan.gamma_decay,
        gamma_dephasing=plan.gamma_dephasing, stored_energy=stored.energy, t=t, E_h=run.E_h,
        E_c=run.E_c, Q=run.Q, ergotropy=run.ergotropy, trapped_energy=run.trapped_energy,
        states=run.states, cycle=cyc)
    return _finish(trace, plan)
