"""Operators of the Tavis–Cummings battery as QuTiP objects (reference bases).

Two bases, charger first in every tensor product:

* ``"dicke"``: |n⟩ ⊗ |k⟩ with n = 0..n_cut photons and k = 0..N excited qubits
  (the symmetric Dicke states |J = N/2, M = k − N/2⟩);
* ``"full"``: |n⟩ ⊗ |q_1 … q_N⟩, the 2^N tensor-product basis of the qubits
  (q = 0 ground, 1 excited).  Slow, and obviously correct.

Frame rotating at ω, on resonance: H = g (a J₊ + a† J₋).  Energies in ħω.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import qutip as qt


@dataclass(frozen=True)
class Operators:
    """Operators of one battery in one basis."""

    a: qt.Qobj  # charger annihilation operator
    j_plus: qt.Qobj  # collective raising operator J₊ = Σ σ_i⁺
    n_holder: qt.Qobj  # Σ σ_i⁺σ_i⁻  (holder energy, ħω)
    n_charger: qt.Qobj  # a†a (charger energy, ħω)
    holder_hamiltonian: qt.Qobj  # H_h on the holder space alone
    holder_ground: qt.Qobj  # ket of the holder with every qubit in its ground state


def _dicke_jplus(n_qubits: int) -> np.ndarray:
    k = np.arange(n_qubits)
    return np.diag(np.sqrt((k + 1.0) * (n_qubits - k)), -1)


def operators(n_qubits: int, n_cut: int, basis: str = "dicke") -> Operators:
    """Charger and holder operators for ``n_qubits`` qubits and photons 0..n_cut."""
    a_c = qt.destroy(n_cut + 1)
    if basis == "dicke":
        jp_h = qt.Qobj(_dicke_jplus(n_qubits))
        nh_h = qt.Qobj(np.diag(np.arange(n_qubits + 1, dtype=float)))
        ground = qt.basis(n_qubits + 1, 0)
        id_h = qt.qeye(n_qubits + 1)
    elif basis == "full":
        sp = qt.Qobj(np.array([[0.0, 0.0], [1.0, 0.0]]))  # |1⟩⟨0|: ground 0 → excited 1
        ids = [qt.qeye(2)] * n_qubits
        jp_h = sum(qt.tensor(*(ids[:i] + [sp] + ids[i + 1:])) for i in range(n_qubits))
        nh_h = sum(qt.tensor(*(ids[:i] + [sp * sp.dag()] + ids[i + 1:])) for i in range(n_qubits))
        ground = qt.tensor(*([qt.basis(2, 0)] * n_qubits))
        id_h = qt.tensor(*ids)
    else:
        raise ValueError(f"basis must be 'dicke' or 'full', got {basis!r}")
    id_c = qt.qeye(n_cut + 1)
    return Operators(
        a=qt.tensor(a_c, id_h),
        j_plus=qt.tensor(id_c, jp_h),
        n_holder=qt.tensor(id_c, nh_h),
        n_charger=qt.tensor(a_c.dag() * a_c, id_h),
        holder_hamiltonian=nh_h,
        holder_ground=ground,
    )


def hamiltonian(ops: Operators, g: float) -> qt.Qobj:
    """Tavis–Cummings interaction H = g (a J₊ + a† J₋) (rotating frame, resonance)."""
    return g * (ops.a * ops.j_plus + ops.a.dag() * ops.j_plus.dag())


def collapse_operators(ops: Operators, kappa: float, n_th: float) -> list[qt.Qobj]:
    """Loss √(2κ(n_th+1)) a and, for a warm bath, gain √(2κ n_th) a†."""
    c_ops = []
    if kappa > 0:
        c_ops.append(np.sqrt(2 * kappa * (n_th + 1)) * ops.a)
        if n_th > 0:
            c_ops.append(np.sqrt(2 * kappa * n_th) * ops.a.dag())
    return c_ops


def power_operator(ops: Operators, g: float) -> qt.Qobj:
    """Hermitian operator whose mean is dE_h/dt = 2g Im⟨a J₊⟩."""
    x = ops.a * ops.j_plus
    return 1j * g * (x.dag() - x)


def initial_state(ops: Operators, rho_charger: np.ndarray) -> qt.Qobj:
    """ρ_c ⊗ |ground⟩⟨ground| with the charger matrix given in the Fock basis."""
    g_h = ops.holder_ground * ops.holder_ground.dag()
    return qt.tensor(qt.Qobj(rho_charger), g_h)
