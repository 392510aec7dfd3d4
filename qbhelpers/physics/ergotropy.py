"""Ergotropy: the energy that a cyclic unitary can extract from a state.

For a state ρ and Hamiltonian H (Allahverdyan, Balian and Nieuwenhuizen),

    ℰ(ρ, H) = Tr(ρH) − Σ_k r_k↓ ε_k↑,

with the eigenvalues r of ρ in descending order paired with the energies ε of
H in ascending order.  All energies are in units of ħω.
"""
from __future__ import annotations

from typing import Any

import numpy as np


#: Largest |A − A†| (relative to the largest entry, or 1) of a matrix taken as Hermitian.
HERMITIAN_TOL = 1e-10
#: Most negative eigenvalue of ρ (relative to 1) taken as rounding.
POSITIVE_TOL = 1e-8
#: Lowest trace accepted for ρ: a state whose photon tail beyond the
#: truncation was dropped has trace 1 − (tail), and the package accepts
#: truncation tolerances below 1e-2.  Above 1 only rounding (1e-8) is allowed.
TRACE_MIN = 1 - 1e-2


def _as_array(x: Any, name: str = "matrix") -> np.ndarray:
    """A square complex matrix from an array-like or a ``qutip.Qobj``."""
    if hasattr(x, "full"):  # qutip.Qobj
        x = x.full()
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError):  # ragged nested lists, say
        raw = np.asarray([], dtype=object)
    if raw.dtype.kind not in "iufc":
        raise TypeError(f"{name} must be a square matrix of numbers (a NumPy array or a "
                        f"qutip.Qobj), got {type(x).__name__}")
    if raw.ndim != 2 or raw.shape[0] != raw.shape[1] or raw.shape[0] == 0:
        raise ValueError(f"{name} must be a square matrix, got shape {raw.shape}")
    a = raw.astype(complex)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must have finite entries")
    return a


def _check_hermitian(name: str, a: np.ndarray) -> None:
    scale = max(1.0, float(np.abs(a).max()))
    err = float(np.abs(a - a.conj().T).max())
    if err > HERMITIAN_TOL * scale:
        raise ValueError(f"{name} must be Hermitian: |{name} - {name}^dagger| reaches {err:.1e}")


def _check_state(name: str, rho: np.ndarray) -> np.ndarray:
    """Check that ``rho`` is a density matrix (Hermitian, positive, trace 1
    down to TRACE_MIN); return its eigenvalues, ascending."""
    _check_hermitian(name, rho)
    r = np.linalg.eigvalsh(rho)
    if r[0] < -POSITIVE_TOL:
        raise ValueError(f"{name} must be positive semidefinite (a density matrix): its "
                         f"smallest eigenvalue is {r[0]:.3g}")
    tr = float(np.real(np.trace(rho)))
    if not TRACE_MIN <= tr <= 1 + POSITIVE_TOL:
        raise ValueError(f"{name} must have trace 1 (a density matrix; down to {TRACE_MIN:g} "
                         f"for a truncated state), got trace {tr:.6g}")
    return r


def passive_energy(rho: Any, H: Any) -> float:
    """Energy of the passive state of ρ: Σ_k r_k↓ ε_k↑ (units of H).  ``rho``
    must be a density matrix and ``H`` Hermitian, of the same shape."""
    R, Hm = _state_and_hamiltonian(rho, H)
    return float(np.dot(_check_state("rho", R)[::-1], np.linalg.eigvalsh(Hm)))


def _state_and_hamiltonian(rho: Any, H: Any) -> tuple[np.ndarray, np.ndarray]:
    R = _as_array(rho, "rho")
    Hm = _as_array(H, "H")
    if R.shape != Hm.shape:
        raise ValueError(f"rho and H must have the same shape, got {R.shape} and {Hm.shape}")
    _check_hermitian("H", Hm)
    return R, Hm


def ergotropy(rho: Any, H: Any) -> float:
    """Ergotropy of the density matrix ``rho`` for the Hamiltonian ``H``.

    Both may be numpy arrays or ``qutip.Qobj`` of the same dimension; ``rho``
    must be a density matrix (Hermitian, positive semidefinite, trace 1 —
    slightly less for a state truncated by the package) and ``H`` Hermitian,
    else ValueError.  The result is in the units of ``H`` and is never
    negative (the identity is an allowed unitary): rounding below zero is
    clipped.
    """
    R, Hm = _state_and_hamiltonian(rho, H)
    r = _check_state("rho", R)
    energy = float(np.real(np.trace(R @ Hm)))
    return max(energy - float(np.dot(r[::-1], np.linalg.eigvalsh(Hm))), 0.0)


def holder_ergotropy(rho_h: np.ndarray) -> float:
    """Full-space ergotropy of N qubits whose state lives in the symmetric subspace.

    ``rho_h`` is the (N+1)×(N+1) holder state in the Dicke basis (states
    labelled by k = number of excited qubits).  Unitaries act on all 2^N states of the N
    qubits, where the energy level 1 (one excitation) is N-fold degenerate.
    Because ρ_h has rank ≤ N+1, its passive state fills the ground state and
    N states of energy 1, so ℰ_h = E_h − (Tr ρ_h − r_max) (= E_h − (1 − r_max)
    for a normalised state; the trace is kept so that a truncated state, of
    trace 1 − δ, is treated exactly like :func:`ergotropy` treats it).
    """
    R = _as_array(rho_h, "rho_h")
    k = np.arange(R.shape[0])
    diag = np.real(np.diag(R))
    energy = float(diag @ k)
    r_max = float(_check_state("rho_h", R)[-1])
    return max(energy - (float(diag.sum()) - r_max), 0.0)


def symmetric_ergotropy(rho_h: np.ndarray) -> float:
    """Holder ergotropy when only permutation-symmetric unitaries are allowed.

    The levels are then 0, 1, …, N, each once (the Dicke ladder), so the
    passive state is more energetic and this is ≤ :func:`holder_ergotropy`.
    """
    R = _as_array(rho_h, "rho_h")
    return ergotropy(R, np.diag(np.arange(R.shape[0], dtype=float)))


def charger_ergotropy(rho_c: np.ndarray) -> float:
    """Ergotropy of the charger state (Fock basis 0..n_cut) for H_c = a†a."""
    R = _as_array(rho_c, "rho_c")
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
