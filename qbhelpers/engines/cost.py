"""What a run will cost, estimated before it starts: memory, work, duration.

Every method answers :meth:`~qbhelpers.engines.base.Method.estimate` with an
:class:`~qbhelpers.engines.base.Estimate`; the functions here do the
counting for the engines of this package, from the sizes of their states and
the spectral width of the generator (which sets how many applications of it,
or how many solver steps, a unit of time needs).  The duration is the work
times a cost per unit of work measured on the project's 2-core machine
(constants below); it is a guide, good to a factor of about 3, meant to
tell a run of minutes from one of days.

Units: times in 1/g, memory in bytes, durations in seconds.
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .base import Estimate, Setup
from .sectors import make_sector

#: The Chebyshev kernel's cost per application of the generator, measured on
#: the project's 2-core machine: per stored entry (1.5 ns when rows are long
#: enough to vectorise; README, "What limits it now"), per row of a block
#: (loop overhead, which dominates at small N), per entry scanned for the
#: observables, and per application (calls from Python); and per Chebyshev
#: step (series coefficients, heat interpolant).
CHEBYSHEV_SECONDS_PER_ENTRY = 1.5e-9
CHEBYSHEV_SECONDS_PER_ROW = 2.5e-8
CHEBYSHEV_SECONDS_PER_APPLICATION = 5e-6
CHEBYSHEV_SECONDS_PER_STEP = 1e-3
#: Seconds per entry and right-hand-side evaluation of the Runge–Kutta
#: engine (complex entries, numba kernel), and per DOP853 step (SciPy).
RK_SECONDS_PER_ENTRY = 4e-9
RK_SECONDS_PER_STEP = 1.5e-4
#: DOP853: right-hand-side evaluations per step; the step times the
#: oscillation frequency (accuracy at rtol = 1e-10) and times the decay rate
#: (stability), fitted to measured step counts.
RK_STAGES = 12
RK_STEP_TIMES_FREQUENCY = 0.3
RK_STEP_TIMES_RATE = 3.0
#: QuTiP (``mesolve`` with Verner's 9th-order method): seconds per stored
#: Liouvillian entry and right-hand-side evaluation, right-hand sides per
#: step (16 stages and the interpolant's extra ones), the step times frequency
#: and rate as above, and seconds per solver stop (quadrature nodes,
#: outputs) and per entry of the state copied there.
QUTIP_SECONDS_PER_NONZERO = 2e-9
QUTIP_STAGES = 24
QUTIP_STEP_TIMES_FREQUENCY = 0.3
QUTIP_STEP_TIMES_RATE = 3.0
QUTIP_SECONDS_PER_STOP = 1e-4
QUTIP_SECONDS_PER_STOP_ENTRY = 4e-9


# ------------------------------------------------------------------ memory
def available_memory() -> int:
    """Memory the operating system could give this process now (bytes):
    ``MemAvailable`` of /proc/meminfo, else free physical pages
    (``os.sysconf``); 0 when neither can be read (then nothing is refused
    for memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return 0


# ----------------------------------------------------------------- sectors
def k_max(setup: Setup) -> int:
    """Largest total excitation number a sector engine keeps."""
    return setup.n_cut if setup.n_th == 0 else setup.n_cut + setup.n_qubits


def sector_entries(setup: Setup, d: int) -> int:
    """Stored entries of sector d: (K_max − d + 1) blocks of (N+1)²."""
    return max(k_max(setup) - d + 1, 0) * (setup.n_qubits + 1) ** 2


def sectors_needed(setup: Setup, holder: np.ndarray | None, with_charger: bool) -> range:
    """The offsets d of the sectors a trajectory with holder (and, with
    ``with_charger``, charger) states integrates: sector 0 alone unless the
    initial state is coherent in K (a coherent charger, or discharging a
    holder state with coherences), as :meth:`.sectors.SectorLayout.offsets`."""
    if holder is not None:
        h = np.asarray(holder)
        coherent = bool(np.any(h[~np.eye(h.shape[0], dtype=bool)] != 0))
    else:
        coherent = setup.charger == "coherent"
    if not coherent:
        return range(1)
    top = setup.n_qubits
    if with_charger and holder is None:
        top = max(top, setup.n_cut)
    return range(min(top, k_max(setup)) + 1)


def frequency_and_rate(setup: Setup) -> tuple[float, float]:
    """(largest oscillation frequency, largest decay rate) of the generator,
    units of g: 2g√(n_cut)(N+1) and 2κ(2n_th+1)(n_cut+1)."""
    s = setup
    return (2 * s.g * math.sqrt(s.n_cut) * (s.n_qubits + 1.0),
            2 * s.kappa * (2 * s.n_th + 1) * (s.n_cut + 1.0))


# ------------------------------------------------------------- Chebyshev
#: Sectors with more entries than this have their spectral width bounded
#: analytically (:func:`frequency_and_rate`) instead of from their coefficients.
INSPECT_LIMIT = 2_000_000


def chebyshev_step(setup: Setup, choose_expansion, commutator_spread,
                   dissipator_disc) -> tuple[int, float]:
    """(terms per step, step h in 1/g) of the expansion the Chebyshev engine
    would choose for the whole sector 0 (from the sector's coefficients when
    it is small enough to inspect, else from analytic bounds): the commutator
    spread W and the disc (−C, r) that holds the dissipator's numerical range.
    The three functions are the engine's own (:mod:`.chebyshev` passes them,
    so that this module does not import it)."""
    if sector_entries(setup, 0) <= INSPECT_LIMIT:
        sec = make_sector(0, k_max(setup), setup.n_qubits, setup.n_cut, setup.g)
        C, r = dissipator_disc(sec, setup.kappa, setup.n_th, setup.n_cut)
        W = commutator_spread(sec)
    else:
        W, rate = frequency_and_rate(setup)
        C = rate
        r = rate + 2 * setup.kappa * (2 * setup.n_th + 1) * (setup.n_cut + 1.0)
    ex = choose_expansion(max(W, 1e-9 * (W + r) or 1.0), C, r)
    return ex.n_terms(ex.h), ex.h


def chebyshev_estimate(setup: Setup, t_end: float, holder: np.ndarray | None,
                       with_charger: bool, expansion: Any) -> Estimate:
    """Cost of the Chebyshev engine from 0 to ``t_end`` on every sector the
    holder (and charger) states need; sector d ≠ 0 is counted with sector 0's
    expansion (its blocks are fewer and no wider).  ``expansion`` is the
    engine's (choose_expansion, commutator_spread, dissipator_disc)."""
    N = setup.n_qubits
    ds = sectors_needed(setup, holder, with_charger)
    blocks = [max(k_max(setup) - d + 1, 0) for d in ds]
    entries = [b * (N + 1) ** 2 for b in blocks]
    padded = max(entries) * (N + 3) / (N + 1)
    # the initial sectors (complex) all at once, then per sector: the real,
    # padded state, three work arrays and the result
    memory = 16 * sum(entries) + 5 * 8 * padded + 2**22
    terms, h = chebyshev_step(setup, *expansion)
    steps = len(ds) * max(math.ceil(t_end / h), 1)
    applications = steps * terms
    rows = sum(blocks) * (N + 1)
    per_pass = (rows * (CHEBYSHEV_SECONDS_PER_ROW + (N + 3) * CHEBYSHEV_SECONDS_PER_ENTRY)
                / len(ds))
    seconds = (applications * (per_pass + CHEBYSHEV_SECONDS_PER_APPLICATION)
               + steps * CHEBYSHEV_SECONDS_PER_STEP)
    return Estimate(memory=float(memory), work=float(applications), seconds=float(seconds),
                    work_unit="generator applications")


# ------------------------------------------------------------- Runge–Kutta
def solver_steps(setup: Setup, t_end: float, per_frequency: float, per_rate: float) -> float:
    """Steps of an explicit adaptive solver to ``t_end``: the step is limited
    by accuracy on the fastest oscillation and by stability on the fastest
    decay."""
    w, r = frequency_and_rate(setup)
    return t_end * max(w / per_frequency, r / per_rate) + 10


def runge_kutta_estimate(setup: Setup, t_end: float, holder: np.ndarray | None = None,
                         with_charger: bool = False) -> Estimate:
    """Cost of DOP853 on the packed sectors from 0 to ``t_end``."""
    ds = sectors_needed(setup, holder, with_charger)
    total = sum(sector_entries(setup, d) for d in ds)
    # complex: y and its copies, DOP853's 16 stage vectors and its error
    # estimate's temporaries (measured: about 45 copies at the peak)
    memory = 16 * 48 * total + 2**22
    steps = solver_steps(setup, t_end, RK_STEP_TIMES_FREQUENCY, RK_STEP_TIMES_RATE)
    evaluations = RK_STAGES * steps
    seconds = evaluations * total * RK_SECONDS_PER_ENTRY + steps * RK_SECONDS_PER_STEP
    return Estimate(memory=float(memory), work=float(evaluations), seconds=float(seconds),
                    work_unit="right-hand-side evaluations")


# ------------------------------------------------------------------- QuTiP
def hilbert_dimension(setup: Setup, basis: str) -> int:
    """(n_cut+1)·(N+1) (Dicke basis) or (n_cut+1)·2^N (full basis)."""
    holder = setup.n_qubits + 1 if basis == "dicke" else 2 ** setup.n_qubits
    return (setup.n_cut + 1) * holder


def liouvillian_nonzeros(setup: Setup, basis: str) -> float:
    """Stored entries of QuTiP's Liouvillian: the commutator with H (each
    basis state couples to 2 others in the Dicke basis, 2N in the full one,
    on either side of ρ) plus the dissipator (about 3 per entry)."""
    dim = float(hilbert_dimension(setup, basis))
    per_row = 2.0 if basis == "dicke" else 2.0 * setup.n_qubits
    return dim * dim * (2 * per_row + 3)


def qutip_estimate(setup: Setup, t_end: float, basis: str, quadrature_step: float) -> Estimate:
    """Cost of QuTiP's ``mesolve`` from 0 to ``t_end``, with the heat
    quadrature on sub-intervals of ``quadrature_step`` (8 nodes each)."""
    dim = float(hilbert_dimension(setup, basis))
    nnz = liouvillian_nonzeros(setup, basis)
    # the Liouvillian (CSR: value and column index, twice while it is built)
    # and the integrator's ~20 state vectors, plus the operators of the 2^N space
    memory = 2 * 24 * nnz + 20 * 16 * dim * dim + 2**24
    steps = solver_steps(setup, t_end, QUTIP_STEP_TIMES_FREQUENCY, QUTIP_STEP_TIMES_RATE)
    stops = 8 * t_end / quadrature_step if setup.kappa > 0 else 0.0
    evaluations = QUTIP_STAGES * steps
    seconds = (evaluations * nnz * QUTIP_SECONDS_PER_NONZERO
               + (stops + steps) * (QUTIP_SECONDS_PER_STOP
                                    + dim * dim * QUTIP_SECONDS_PER_STOP_ENTRY))
    return Estimate(memory=float(memory), work=float(evaluations), seconds=float(seconds),
                    work_unit="right-hand-side evaluations")
