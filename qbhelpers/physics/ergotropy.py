"""Ergotropy: the energy that a cyclic unitary can extract from a state.

For a state ρ and Hamiltonian H (Allahverdyan, Balian and Nieuwenhuizen),

    ℰ(ρ, H) = Tr(ρH) − Σ_k r_k↓ ε_k↑,

with the eigenvalues r of ρ in descending order paired with the energies ε of
H in ascending order.  All energies are in units of ħω.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _as_array(x: Any) -> np.ndarray:
    if hasattr(x, "full"):  # qutip.Qobj
        x = x.full()
    a = np.asarray(x, dtype=complex)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"expected a square matrix, got shape {a.shape}")
    return a


def passive_energy(rho: Any, H: Any) -> float:
    """Energy of the passive state of ρ: Σ_k r_k↓ ε_k↑ (units of H)."""
    r = np.linalg.eigvalsh(_as_array(rho))[::-1]
    e = np.linalg.eigvalsh(_as_array(H))
    return float(np.dot(r, e))


def ergotropy(rho: Any, H: Any) -> float:
    """Ergotropy of the density matrix ``rho`` for the Hamiltonian ``H``.

    Both may be numpy arrays or ``qutip.Qobj`` of the same dimension.  The
    result is in the units of ``H`` and is never negative (the identity is an
    allowed unitary): rounding below zero is clipped.
    """
    R = _as_array(rho)
    Hm = _as_array(H)
    if R.shape != Hm.shape:
        raise ValueError(f"rho and H must have the same shape, got {R.shape} and {Hm.shape}")
    energy = float(np.real(np.trace(R @ Hm)))
    return max(energy - passive_energy(R, Hm), 0.0)


def holder_ergotropy(rho_h: np.ndarray) -> float:
    """Full-space ergotropy of N qubits whose state lives in the symmetric subspace.

    ``rho_h`` is the (N+1)×(N+1) holder state in the Dicke basis |k⟩,
    k = number of excited qubits.  Unitaries act on all 2^N states of the N
    qubits, where the energy level 1 (one excitation) is N-fold degenerate.
    Because ρ_h has rank ≤ N+1, its passive state fills the ground state and
    N states of energy 1, so ℰ_h = E_h − (Tr ρ_h − r_max) (= E_h − (1 − r_max)
    for a normalised state; the trace is kept so that a truncated state, of
    trace 1 − δ, is treated exactly like :func:`ergotropy` treats it).
    """
    R = _as_array(rho_h)
    k = np.arange(R.shape[0])
    diag = np.real(np.diag(R))
    energy = float(diag @ k)
    r_max = float(np.linalg.eigvalsh(R)[-1])
    return max(energy - (float(diag.sum()) - r_max), 0.0)


def symmetric_ergotropy(rho_h: np.ndarray) -> float:
    """Holder ergotropy when only permutation-symmetric unitaries are allowed.

    The levels are then 0, 1, …, N, each once (the Dicke ladder), so the
    passive state is more energetic and this is ≤ :func:`holder_ergotropy`.
    """
    R = _as_array(rho_h)
    return ergotropy(R, np.diag(np.arange(R.shape[0], dtype=float)))


def charger_ergotropy(rho_c: np.ndarray) -> float:
    """Ergotropy of the charger state (Fock basis 0..n_cut) for H_c = a†a."""
    R = _as_array(rho_c)
    return ergotropy(R, np.diag(np.arange(R.shape[0], dtype=float)))


# ------------------------------------------------ many states at once (engines)
def holder_ergotropy_many(rho_h: np.ndarray) -> np.ndarray:
    """:func:`holder_ergotropy` of every state of a stack of shape (T, N+1, N+1)."""
    R = np.asarray(rho_h, dtype=complex)
    diag = np.real(np.diagonal(R, axis1=-2, axis2=-1))
    energy = diag @ np.arange(R.shape[-1])
    r_max = np.linalg.eigvalsh(R)[..., -1]
    return np.maximum(energy - (diag.sum(axis=-1) - r_max), 0.0)


def symmetric_ergotropy_many(rho_h: np.ndarray) -> np.ndarray:
    """:func:`symmetric_ergotropy` of every state of a stack of shape (T, N+1, N+1)."""
    R = np.asarray(rho_h, dtype=complex)
    levels = np.arange(R.shape[-1], dtype=float)
    energy = np.real(np.diagonal(R, axis1=-2, axis2=-1)) @ levels
    passive = np.linalg.eigvalsh(R)[..., ::-1] @ levels
    return np.maximum(energy - passive, 0.0)
