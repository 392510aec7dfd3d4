"""The steady state, the time after which the battery is in it to rounding, and
an exact propagator for small sectors.

With κ > 0 the charger's losses drive every initial state to one steady
state.  In the truncated model (photons 0..n_cut) it is the product Gibbs
state

    ρ_ss ∝ Σ_{n ≤ n_cut, k ≤ N} q^{n+k} ``|n, k⟩⟨n, k|``,   q = n_th/(n_th + 1),

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

The same decomposition propagates exactly: e^{tL}v = V e^{tΛ} V⁻¹ v for any
t at the cost of one diagonalisation, with an error of about cond(V) times
the rounding, independent of t and of κ.  :func:`dense_trajectory` uses it
(when cond(V) ≤ DENSE_CONDITION) where stepping would take too long: a
strongly damped battery followed until it relaxes (κ = 1000g: steps of
~1/(4κ) over a relaxation time ~κ/g², 2e8 generator applications) costs a
few small eigendecompositions.  The heat is integrated in closed form,
∫₀ᵗ e^{λs} ds = expm1(λt)/λ (t for the steady state's zero).

Units: times in 1/g, rates in g.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .base import Samples, Setup, samples_from_states
from .cost import sectors_needed
from .runge_kutta import sector0_observables, sector_rhs
from .sectors import Sector, SectorLayout

#: Largest sector (valid entries) whose generator is diagonalised densely.
DENSE_LIMIT = 900
#: Relative size of what is left of the initial deviation at the relaxation time.
RELAXED = 1e-17
#: An eigenvalue of sector 0 with |λ| below this times the largest |λ| is the
#: steady state's zero.
ZERO_EIGENVALUE = 1e-10
#: Largest condition number of the eigenvectors for the exact propagation
#: (its error is about cond(V) × 1e-16 of the state's norm: 1e-12 at most).
DENSE_CONDITION = 1e4
#: Relative error of computed eigenvalues (Bauer–Fike: rounding × cond(V) ×
#: the largest |λ|), and the largest error it may cause in a mode that has not
#: decayed, err·t (a phase): beyond it (κ = 0 at t = 1e15, say) the exact
#: propagation is not used.
EIGENVALUE_ERROR = 1e-15
DENSE_TOL = 1e-10


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


def _decompose(setup: Setup, sec: Sector):
    """(λ, V, V⁻¹, valid mask) of a sector's generator, or None when the
    sector is too large or its eigenvectors too ill-conditioned."""
    valid = (sec.n_row[:, :, None] >= 0) & (sec.n_col[:, None, :] >= 0)
    if valid.sum() > DENSE_LIMIT:
        return None
    L, valid = sector_generator(setup, sec)
    lam, V = scipy.linalg.eig(L)
    cond = np.linalg.cond(V)
    if not np.isfinite(cond) or cond > DENSE_CONDITION:
        return None
    err = EIGENVALUE_ERROR * cond * max(float(np.abs(lam).max()), 1e-300)
    # the steady state's zero exactly, so that e^{λt} stays 1 for any t;
    # rounding must not make a decaying mode grow either
    scale = max(float(np.abs(lam).max()), 1e-300)
    lam = np.where(np.abs(lam) <= ZERO_EIGENVALUE * scale, 0.0,
                   np.minimum(lam.real, 0.0) + 1j * lam.imag)
    return lam, V, np.linalg.inv(V), valid, err


def _phase_error(lam: np.ndarray, weight: np.ndarray, err: float, t: float) -> float:
    """Bound on what the eigenvalues' error (``err``) does at time t to the
    state: err·t·max |c_j|·‖V_j‖·e^{Re λ_j t} over the modes (``weight`` =
    |c_j|·‖V_j‖, the steady state's exact zero excluded)."""
    live = lam != 0
    if not np.any(live) or t == 0:
        return 0.0
    return err * t * float((weight[live] * np.exp(lam[live].real * t)).max())


def dense_trajectory(setup: Setup, holder: np.ndarray | None, times: np.ndarray,
                     with_charger: bool = False) -> Samples | None:
    """The trajectory of ``setup`` (discharging ``holder`` when given) at
    ``times``, propagated exactly by diagonalising the generator of every
    sector the holder (and charger) states need; None when a sector is too
    large (DENSE_LIMIT) or its eigenvectors too ill-conditioned
    (DENSE_CONDITION) for it."""
    layout = SectorLayout(setup, holder)
    which = "charger" if with_charger else "holder"
    initial = layout.initial_sectors(which)
    parts = {}
    for d, R0 in initial.items():
        dec = _decompose(setup, layout.sector(d))
        if dec is None:
            return None  # too large or ill-conditioned
        lam, V, Vinv, valid, err = dec
        weight = np.abs(Vinv @ R0[valid]) * np.linalg.norm(V, axis=0)
        if max(_phase_error(lam, weight, err, float(t)) for t in times) > DENSE_TOL:
            return None  # the eigenvalues' error would show (κ = 0 at huge t, say)
        parts[d] = dec
    T = times.size
    n_cut = float(setup.n_cut)
    states: list[dict[int, np.ndarray]] = [{} for _ in range(T)]
    for d, R0 in initial.items():
        lam, V, Vinv, valid, _ = parts[d]
        c0 = Vinv @ R0[valid]
        for k, t in enumerate(times):
            R = np.zeros(R0.shape, dtype=complex)
            R[valid] = V @ (np.exp(lam * t) * c0)
            states[k][d] = R
    # the heat: 2κ ∫ (E_c − n_th) dt, E_c a linear functional of sector 0
    lam, V, Vinv, valid, _ = parts[0]
    sec = layout.sector(0)
    n_of_entry = np.broadcast_to(sec.n_row[:, :, None], sec.shape)
    diag = np.zeros(sec.shape, dtype=bool)
    idx = np.arange(sec.shape[1])
    diag[:, idx, idx] = True
    f = np.where(diag & valid, n_of_entry, 0.0)[valid]  # E_c = f · v
    c0 = Vinv @ initial[0][valid]
    weights = (f @ V) * c0
    zero = lam == 0
    safe = np.where(zero, 1.0, lam)
    E_h, E_c, Q, top = (np.empty(T) for _ in range(4))
    for k, t in enumerate(times):
        integral = np.where(zero, t, np.expm1(lam * t) / safe)
        Q[k] = 2 * setup.kappa * (float(np.real(weights @ integral)) - setup.n_th * t)
        _, E_h[k], E_c[k], _, top[k] = sector0_observables(states[k][0], sec.c_row, sec.n_row,
                                                           n_cut)
    holder_states = np.array([layout.holder_state(st) for st in states])
    charger_states = (np.array([layout.charger_state(st) for st in states])
                      if with_charger else None)
    return samples_from_states(times, E_h, E_c, Q, top, holder_states, charger_states)
