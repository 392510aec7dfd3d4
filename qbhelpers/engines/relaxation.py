"""The steady state and the time after which the battery is in it to rounding.

With κ > 0 the charger's losses drive every initial state to one steady
state.  In the truncated model (photons 0..n_cut) it is the product Gibbs
state

    ρ_ss ∝ Σ_{n ≤ n_cut, k ≤ N} q^{n+k} |n, k⟩⟨n, k|,   q = n_th/(n_th + 1),

(the vacuum and every qubit in its ground state at n_th = 0): it commutes
with H, which conserves n + k, and the dissipator, acting on the charger
alone, leaves the truncated thermal distribution q^n in detailed balance.

How long the approach takes follows from the spectrum of the generator L of
each excitation sector (:mod:`.sectors`) that the run needs: for a
diagonalisable L = V Λ V⁻¹, ‖e^{tL}(ρ₀ − ρ_ss)‖ ≤ cond(V) e^{−Γt} ‖ρ₀ − ρ_ss‖
with Γ the slowest decay rate (the gap).  :func:`relaxation_time` gives the
time after which this bound, times the largest observable, is below
RELAXED (1e-17): from then on the state *is* the steady state to rounding,
and a trajectory need not be integrated further (problem → battery use it
for long time spans).  The spectrum is computed densely, so only for sectors
of at most DENSE_LIMIT entries; larger ones return None.

Units: times in 1/g, rates in g.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .base import Setup
from .cost import sectors_needed
from .runge_kutta import sector_rhs
from .sectors import Sector, SectorLayout

#: Largest sector (valid entries) whose generator is diagonalised densely.
DENSE_LIMIT = 900
#: Relative size of what is left of the initial deviation at the relaxation time.
RELAXED = 1e-17
#: An eigenvalue of sector 0 with |λ| below this times the largest |λ| is the
#: steady state's zero.
ZERO_EIGENVALUE = 1e-10


@dataclass(frozen=True)
class SteadyState:
    """The truncated model's steady state: energies (ħω) and reduced states
    (holder in the Dicke basis, charger in the Fock basis 0..n_cut)."""

    E_h: float
    E_c: float
    holder_state: np.ndarray
    charger_state: np.ndarray


def steady_state(setup: Setup) -> SteadyState:
    """The product Gibbs state of the module docstring for ``setup``."""
    q = setup.n_th / (setup.n_th + 1.0)
    k = np.arange(setup.n_qubits + 1, dtype=float)
    n = np.arange(setup.n_cut + 1, dtype=float)
    ph = q ** k
    pc = q ** n
    ph /= ph.sum()
    pc /= pc.sum()
    return SteadyState(E_h=float(ph @ k), E_c=float(pc @ n),
                       holder_state=np.diag(ph).astype(complex),
                       charger_state=np.diag(pc).astype(complex))


def sector_generator(setup: Setup, sec: Sector) -> tuple[np.ndarray, np.ndarray]:
    """The generator of sector ``sec`` as a dense matrix on its valid entries,
    and the boolean mask of those entries in the sector array (built by
    applying the Runge–Kutta engine's right-hand side to unit vectors)."""
    valid = (sec.n_row[:, :, None] >= 0) & (sec.n_col[:, None, :] >= 0)
    where = np.flatnonzero(valid)
    M = where.size
    L = np.empty((M, M), dtype=complex)
    unit = np.zeros(sec.shape, dtype=complex)
    out = np.zeros(sec.shape, dtype=complex)
    flat = unit.reshape(-1)
    for col, idx in enumerate(where):
        flat[idx] = 1.0
        sector_rhs(unit, out, sec.c_row, sec.c_col, sec.n_row, sec.n_col, setup.kappa,
                   setup.n_th, float(setup.n_cut))
        L[:, col] = out.reshape(-1)[where]
        flat[idx] = 0.0
    return L, valid


def relaxation_time(setup: Setup, holder: np.ndarray | None = None,
                    with_charger: bool = False) -> float | None:
    """Time (1/g) after which the run of ``setup`` (discharging ``holder``
    when given) is in its steady state to rounding, for every sector its
    holder (and, with ``with_charger``, charger) states need; None when κ = 0
    (no relaxation), when a sector is too large to diagonalise, or when the
    steady state is not unique."""
    if setup.kappa == 0:
        return None
    layout = SectorLayout(setup, holder)
    ds = sectors_needed(setup, holder, with_charger)
    largest_observable = max(setup.n_cut, setup.n_qubits, 1) * math.sqrt(
        (setup.n_cut + 1) * (setup.n_qubits + 1))
    t_relax = 0.0
    for d in ds:
        sec = layout.sector(d)
        valid = (sec.n_row[:, :, None] >= 0) & (sec.n_col[:, None, :] >= 0)
        if valid.sum() > DENSE_LIMIT:
            return None
        L, _ = sector_generator(setup, sec)
        lam, V = scipy.linalg.eig(L)
        order = np.argsort(-lam.real)
        lam, V = lam[order], V[:, order]
        if d == 0:
            scale = max(float(np.abs(lam).max()), 1e-300)
            if abs(lam[0]) > ZERO_EIGENVALUE * scale or \
                    (lam.size > 1 and abs(lam[1]) <= ZERO_EIGENVALUE * scale):
                return None  # no zero eigenvalue, or more than one
            rest = lam[1:]
        else:
            rest = lam
        if rest.size == 0:
            continue
        gap = -float(rest.real.max())
        if not gap > 0:
            return None
        cond = float(np.linalg.cond(V))
        if not math.isfinite(cond):
            return None
        t_relax = max(t_relax, (math.log(cond * largest_observable) - math.log(RELAXED)) / gap)
    return t_relax
