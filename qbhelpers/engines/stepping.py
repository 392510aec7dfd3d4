"""What the two state-stepping engines share (Runge–Kutta sectors, QuTiP).

Both advance a whole state with an adaptive ODE solver; a subclass supplies

* ``initial(which)``: the initial state (``which`` as in
  :meth:`qbhelpers.engines.sectors.SectorLayout.initial_sectors`),
* ``evolve(state, t0, times, heat=True)``: yields (state, Q − Q(t0)) at each
  time (the heat may be skipped, and reported as 0, when ``heat`` is False),
* ``march(state, t0, t_max, max_step)``: yields (t, state, Q − Q(t0)) after
  every solver step,
* ``observe(state)``: (E_h, E_c, dE_h/dt, top-level population),
* ``reduced_holder(state)`` and ``reduced_charger(state)``: the reduced states,

and gets the :class:`~qbhelpers.engines.base.Engine` interface from them:
trajectories, chunks (one per solver step) and the holder state at τ̄.
``state_ergotropy`` may be overridden (the full-basis engine computes the
ergotropy on the 2^N state itself).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..physics.ergotropy import holder_ergotropy
from .base import (SEARCH_WINDOW, Chunk, Engine, Measurement, Samples, samples_from_states,
                   time_scale)


class StepChunk(Chunk):
    """One solver step [t0, t1]; values inside it come from evolving the
    state at t0 (to the solver's tolerances)."""

    def __init__(self, engine: "SteppingEngine", t0: float, state0, q0: float, t1: float,
                 state1, q1: float):
        self.engine = engine
        self.t0, self.state0, self.q0 = t0, state0, q0
        self.t1 = t1
        e_h, e_c, de, top = engine.observe(state1)
        self._end = Measurement(e_h, e_c, de, top, q1)
        self.sample_times = np.array([t1])
        self.sample_dE = np.array([de])
        self.top = top

    def state(self, t: float, heat: bool = True):
        """(state, Q) at t (Q is not computed, and 0, with ``heat=False``)."""
        st, dq = next(self.engine.evolve(self.state0, self.t0, [t], heat=heat))
        return st, self.q0 + dq

    def derivative(self, t: float) -> float:
        if t == self.t1:
            return self._end.dE_h
        return self.engine.observe(self.state(t, heat=False)[0])[2]

    def measure(self, t: float) -> Measurement:
        if t == self.t1:
            return self._end
        st, q = self.state(t)
        e_h, e_c, de, top = self.engine.observe(st)
        return Measurement(e_h, e_c, de, top, q)


class SteppingEngine(Engine):
    """Engine interface for engines that step a full state (see module doc)."""

    def trajectory(self, times: np.ndarray, with_charger: bool = False) -> Samples:
        state0 = self.initial("charger" if with_charger else "holder")
        T = times.size
        cols = {k: np.empty(T) for k in ("E_h", "E_c", "Q", "top")}
        rho_h, rho_c, erg = [], [], np.empty(T)
        for i, (st, q) in enumerate(self.evolve(state0, 0.0, times)):
            self.on_time(float(times[i]))
            cols["E_h"][i], cols["E_c"][i], _, cols["top"][i] = self.observe(st)
            cols["Q"][i] = q
            rho_h.append(self.reduced_holder(st))
            erg[i] = self.state_ergotropy(st, rho_h[-1])
            if with_charger:
                rho_c.append(self.reduced_charger(st))
        return samples_from_states(times, cols["E_h"], cols["E_c"], cols["Q"], cols["top"],
                                   np.array(rho_h), np.array(rho_c) if with_charger else None,
                                   ergotropy=erg)

    def state_ergotropy(self, state, rho_h: np.ndarray) -> float:
        """Holder ergotropy over all unitaries of ``state`` (default: the closed
        form E_h − (Tr ρ_h − r_max) on its Dicke-basis holder state ``rho_h``)."""
        return holder_ergotropy(rho_h)

    def chunks(self) -> Iterator[Chunk]:
        scale = time_scale(self.setup, self.excitations)
        state0 = self.initial("energy")
        t_prev, st_prev, q_prev = 0.0, state0, 0.0
        for t, st, q in self.march(state0, 0.0, SEARCH_WINDOW * scale, scale / 8):
            yield StepChunk(self, t_prev, st_prev, q_prev, t, st, q)
            t_prev, st_prev, q_prev = t, st, q

    def holder_at(self, chunk: StepChunk, t: float) -> tuple[np.ndarray, float]:
        st = self._full_state_at(chunk, t)
        rho_h = self.reduced_holder(st)
        return rho_h, self.state_ergotropy(st, rho_h)

    def _full_state_at(self, chunk: StepChunk, t: float):
        """The state at t with every sector the holder needs (the search ran
        on sector 0 alone; a coherent state is evolved again from t = 0)."""
        full0 = self.initial("holder")
        if self.needs_rerun(full0):
            st, _ = next(self.evolve(full0, 0.0, [t]))
            return st
        return chunk.state(t)[0]

    def needs_rerun(self, full_state) -> bool:
        """True when the state the search evolved lacks part of ``full_state``."""
        return False
