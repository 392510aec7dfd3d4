"""A weighted sum of engines, and the discharge of a holder split into total-spin blocks.

After storage (SPEC §9) the holder is no longer in the symmetric subspace: it is
a mixture, with weights p_J, of states of spin-J ladders (see
:mod:`qbhelpers.physics.permutational`).  The discharge Hamiltonian and the
charger's losses are collective, so they conserve J: every block discharges on
its own as a spin-J Tavis–Cummings battery, which is the battery of 2J qubits
restricted to its symmetric subspace.  Each block is therefore an ordinary
engine run (any registered method) with ``n_qubits = 2J``, starting from the
block's ladder state σ_J / p_J (basis k = J + M = the Dicke basis of 2J
qubits) and an empty charger; the whole battery's observables are the
weighted sums

    E_h(t) = Σ_J p_J [E_h^J(t) + (N − 2J)/2],   E_c(t) = Σ_J p_J E_c^J(t),
    Q(t) = Σ_J p_J Q^J(t),   dE_h/dt = Σ_J p_J dE_h^J/dt,

((N − 2J)/2 is the qubit energy of the bottom of ladder J, which a collective
process cannot remove: the trapped energy).

:class:`EngineSum` is the generic part: a weighted sum of engines whose
chunks are the intersections of the parts' chunks (derivative and
observables are the weighted sums; sample times are the parts' sample times
inside the intersection), so that the first-extremum search of
:mod:`.base` runs on it unchanged.  :class:`BlockDischarge` builds one from a
:class:`~qbhelpers.physics.permutational.PermutationInvariantState` and
assembles the holder state (all blocks) at any instant.

Skipped blocks.  A block that cannot move is *frozen* (kept as it is, exactly):
spin 0 (2J = 0, which does not couple to the charger), and, with a cold bath
(n_th = 0), a ladder in its ground state (M = −J: vacuum ⊗ |J, −J⟩ is
stationary).  Blocks of small weight may also be frozen, to save work: the
blocks with the smallest p_J · 2J are frozen as long as their sum stays
below ``block_tol``.  Within a block the qubit energy stays in
[(N − 2J)/2, (N + 2J)/2], so freezing block J moves E_h(t) by at most
p_J · 2J at any time; the sum, :attr:`BlockDischarge.error_bound`, bounds
the error of E_h(t), E_c(t) + Q(t) and of the first minimum's E_h (ħω).  The
assembled holder state is then off by at most 2 Σ p_J in trace norm, so its
ergotropy is off by at most N times that (:attr:`BlockDischarge.ergotropy_bound`).

Units: energies in ħω, times in 1/g.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from ..physics.permutational import PermutationInvariantState
from ..physics.states import bath_margin
from .base import Chunk, Engine, Measurement, Setup, find_first_extremum, no_extremum


# ------------------------------------------------------------ generic sum
@dataclass(frozen=True)
class Part:
    """One engine of a weighted sum: its observables enter times ``weight``,
    and ``offset`` (ħω) is added to its holder energy before weighting."""

    weight: float
    engine: Engine
    offset: float = 0.0


class SumChunk(Chunk):
    """The intersection [t0, t1] of one chunk of every part.

    ``chunks[i]`` is part i's chunk covering [t0, t1]; the sample times are
    every part's sample times inside (t0, t1], and t1; ``top`` the largest
    top-level population of the parts' chunks (each part is its own
    truncated run); ``constant`` (ħω) is added to the holder energy."""

    def __init__(self, parts: Sequence[Part], chunks: Sequence[Chunk], t0: float, t1: float,
                 constant: float = 0.0):
        self.parts, self.chunks = tuple(parts), tuple(chunks)
        self.t0, self.t1 = t0, t1
        self.constant = constant
        inside = [c.sample_times[(c.sample_times > t0) & (c.sample_times <= t1)] for c in chunks]
        self.sample_times = np.unique(np.concatenate(inside + [np.array([t1])]))
        self.sample_dE = sum(p.weight * c.derivatives(self.sample_times)
                             for p, c in zip(self.parts, self.chunks))
        self.top = max(c.top for c in chunks)

    def derivative(self, t: float) -> float:
        return float(sum(p.weight * c.derivative(t) for p, c in zip(self.parts, self.chunks)))

    def measure(self, t: float) -> Measurement:
        ms = [c.measure(t) for c in self.chunks]
        w = [p.weight for p in self.parts]
        return Measurement(
            E_h=self.constant + float(sum(wi * (m.E_h + p.offset)
                                          for wi, m, p in zip(w, ms, self.parts))),
            E_c=float(sum(wi * m.E_c for wi, m in zip(w, ms))),
            dE_h=float(sum(wi * m.dE_h for wi, m in zip(w, ms))),
            top=max(m.top for m in ms),
            Q=float(sum(wi * m.Q for wi, m in zip(w, ms))))


@dataclass(frozen=True)
class SumSamples:
    """A weighted sum's observables on a time grid (arrays over ``t``), and
    each part's own :class:`~.base.Samples` (``parts``, in the order of the
    sum's parts).  ``top`` is the largest of the parts' top-level populations."""

    t: np.ndarray
    E_h: np.ndarray
    E_c: np.ndarray
    Q: np.ndarray
    top: np.ndarray
    parts: tuple = field(repr=False)


class EngineSum:
    """Σ_i w_i · (engine_i + offset_i): a battery made of independent parts.

    ``setup`` sets the time scale and the noise floor of the first-extremum
    search (:func:`~.base.time_scale`, :func:`~.base.noise_floor`) and
    names the battery in error messages; ``constant`` (ħω) is added to the
    holder energy (parts that do not move)."""

    def __init__(self, parts: Sequence[Part], setup: Setup, constant: float = 0.0):
        if not parts:
            raise ValueError("an EngineSum needs at least one part")
        self.parts = tuple(parts)
        self.setup = setup
        self.constant = float(constant)

    @property
    def excitations(self) -> float:
        """Mean initial excitation number that the parts can move (weighted)."""
        return float(sum(p.weight * p.engine.excitations for p in self.parts))

    def chunks(self) -> Iterator[SumChunk]:
        """The intersections of the parts' chunks, from t = 0 on (endless)."""
        iters = [p.engine.chunks() for p in self.parts]
        current = [next(it) for it in iters]
        t0 = 0.0
        while True:
            t1 = min(c.t1 for c in current)
            yield SumChunk(self.parts, current, t0, t1, self.constant)
            t0 = t1
            current = [next(it) if c.t1 <= t1 else c for it, c in zip(iters, current)]

    def first_extremum(self, kind: str = "max") -> tuple[float, "SumChunk", float]:
        """(τ̄, the chunk holding it, the largest top-level population seen):
        :func:`~.base.find_first_extremum` on the summed chunks."""
        return find_first_extremum(self.chunks(), self.setup, self.excitations, kind)

    def trajectory(self, times: np.ndarray, with_charger: bool = False) -> SumSamples:
        """Every part's :meth:`Engine.trajectory` on ``times``, summed."""
        runs = tuple(p.engine.trajectory(times, with_charger) for p in self.parts)
        total = {k: sum(p.weight * getattr(r, k) for p, r in zip(self.parts, runs))
                 for k in ("E_h", "E_c", "Q")}
        total["E_h"] = total["E_h"] + sum(p.weight * p.offset for p in self.parts) + self.constant
        top = np.max([r.top for r in runs], axis=0)
        return SumSamples(t=np.asarray(times, float), top=top, parts=runs, **total)


# ------------------------------------------------------- the block discharge
@dataclass(frozen=True)
class BlockExtremum:
    """The first extremum of the whole holder's energy during a block discharge.

    ``tau`` (1/g); ``E_h``, ``E_c``, ``Q`` there (ħω; Q since the discharge
    began); ``top`` the largest top-level population seen; ``state`` the
    holder (all blocks) there, ``ergotropy`` its ergotropy over all unitaries
    of the N qubits and ``trapped_energy`` ⟨N/2 − Ĵ⟩ (constant during the
    discharge)."""

    tau: float
    E_h: float
    E_c: float
    Q: float
    top: float
    ergotropy: float
    trapped_energy: float
    state: PermutationInvariantState = field(repr=False)


@dataclass(frozen=True)
class BlockSamples:
    """A block discharge on a time grid: the summed observables (``t``, ``E_h``,
    ``E_c``, ``Q``, ``top``), the ergotropy over all unitaries and the trapped
    energy of the holder at every time, and the holder states."""

    t: np.ndarray
    E_h: np.ndarray
    E_c: np.ndarray
    Q: np.ndarray
    top: np.ndarray
    ergotropy: np.ndarray
    trapped_energy: np.ndarray
    states: tuple[PermutationInvariantState, ...] = field(repr=False)


def block_setup(setup: Setup, j2: int) -> Setup:
    """The discharge of a spin-J ladder (2J = ``j2``) after charging ``setup``:
    the same battery with N → 2J, an empty charger and photon levels for every
    excitation of the ladder (plus a bath margin when n_th > 0), as
    :func:`qbhelpers.battery.discharge` chooses for the symmetric block."""
    need = j2 + (bath_margin(setup.n_th) if setup.n_th > 0 else 0)
    return dataclasses.replace(setup, n_qubits=j2, mean_photons=0.0, n_cut=need)


class BlockDischarge:
    """Discharge of a permutation-invariant holder ``state`` through an empty
    charger, block by block (see the module docstring).

    ``setup`` is the charging run's (its method, κ, g, n_th are used; N must
    be the state's); ``block_tol`` (ħω, ≥ 0) the largest total p_J · 2J of
    the blocks frozen to save work (0: only the exactly frozen ones).
    """

    def __init__(self, state: PermutationInvariantState, setup: Setup, block_tol: float = 0.0):
        if setup.n_qubits != state.n_qubits:
            raise ValueError(f"the setup has n_qubits={setup.n_qubits} but the state has "
                             f"{state.n_qubits}")
        self.state = state
        self.n_qubits = N = state.n_qubits
        self.setup = block_setup(setup, N)
        weights = state.block_weights
        moving, frozen = [], []
        for j2, p in weights.items():
            if p <= 0.0:
                continue
            ladder_energy = float(np.real(np.diag(state.blocks[j2])) @ np.arange(j2 + 1))
            if j2 == 0 or (setup.n_th == 0 and ladder_energy == 0.0):
                frozen.append(j2)
            else:
                moving.append(j2)
        # freeze the lightest blocks (smallest p_J·2J) while the bound stays within block_tol
        skipped, bound = [], 0.0
        for j2 in sorted(moving, key=lambda j: (weights[j] * j, j)):
            if bound + weights[j2] * j2 > block_tol:
                break
            bound += weights[j2] * j2
            skipped.append(j2)
        moving = [j2 for j2 in moving if j2 not in skipped]
        #: blocks that are propagated, and those kept as they are
        self.moving: tuple[int, ...] = tuple(moving)
        self.frozen: tuple[int, ...] = tuple(sorted(frozen + skipped, reverse=True))
        #: blocks frozen to save work (not exactly stationary), and their total weight
        self.skipped: tuple[int, ...] = tuple(sorted(skipped, reverse=True))
        self.skipped_weight = float(sum(weights[j] for j in skipped))
        #: bound on the error of E_h(t) (and of E_c + Q) from the skipped blocks (ħω)
        self.error_bound = float(bound)
        #: bound on the error of the holder's ergotropy from the skipped blocks (ħω)
        self.ergotropy_bound = 2.0 * N * self.skipped_weight
        #: ⟨N/2 − Ĵ⟩, conserved by the discharge (ħω)
        self.trapped_energy = state.trapped_energy
        frozen_energy = sum(float(np.real(np.diag(state.blocks[j])) @ np.arange(j + 1))
                            + weights[j] * (N - j) / 2 for j in self.frozen)
        self.parts = tuple(
            Part(weights[j2], setup.method.engine(block_setup(setup, j2), state.ladder_state(j2)),
                 (N - j2) / 2) for j2 in self.moving)
        self.sum = EngineSum(self.parts, self.setup, frozen_energy) if self.parts else None
        self._frozen_energy = frozen_energy

    # ------------------------------------------------------------------
    def assemble(self, ladder_states: Sequence[np.ndarray]) -> PermutationInvariantState:
        """The holder from the moving blocks' ladder states (in the order of
        :attr:`moving`) and the frozen blocks as they are."""
        w = self.state.block_weights
        blocks = {j2: w[j2] * np.asarray(rho) for j2, rho in zip(self.moving, ladder_states)}
        blocks.update({j2: self.state.blocks[j2] for j2 in self.frozen})
        return PermutationInvariantState(self.n_qubits, blocks)

    def first_extremum(self, kind: str = "min") -> BlockExtremum:
        """The first local minimum (``kind="min"``, the default) or maximum of
        the whole holder's energy, located by the search of :mod:`.base` on
        the summed chunks; the holder state there is assembled from every
        block's state.  Raises :class:`~.base.NoMaximumError` if there is none
        (in particular if no block can move)."""
        if self.sum is None:
            raise no_extremum(self.setup, 0.0, kind)
        tau, chunk, top = self.sum.first_extremum(kind)
        m = chunk.measure(tau)
        ladders = [p.engine.holder_at(c, tau)[0] for p, c in zip(self.parts, chunk.chunks)]
        state = self.assemble(ladders)
        return BlockExtremum(tau=tau, E_h=m.E_h, E_c=m.E_c, Q=m.Q, top=max(top, m.top),
                             ergotropy=state.ergotropy, trapped_energy=state.trapped_energy,
                             state=state)

    def trajectory(self, times: np.ndarray) -> BlockSamples:
        """The whole holder on ``times`` (increasing, from 0): energies, heat,
        ergotropy over all unitaries, trapped energy and the states."""
        times = np.asarray(times, float)
        if self.sum is None:
            zeros = np.zeros(times.size)
            states = tuple(self.state for _ in times)
            return BlockSamples(times, np.full(times.size, self._frozen_energy), zeros, zeros,
                                zeros, np.full(times.size, self.state.ergotropy),
                                np.full(times.size, self.trapped_energy), states)
        run = self.sum.trajectory(times)
        states = tuple(self.assemble([r.holder_states[i] for r in run.parts])
                       for i in range(times.size))
        return BlockSamples(times, run.E_h, run.E_c, run.Q, run.top,
                            np.array([s.ergotropy for s in states]),
                            np.array([s.trapped_energy for s in states]), states)
