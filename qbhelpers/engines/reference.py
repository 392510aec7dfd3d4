"""Methods ``"dicke"`` and ``"full"``: QuTiP's ``mesolve``, the references.

``"dicke"`` integrates the whole density matrix on the (n_cut+1)(N+1)
Dicke basis |n⟩ ⊗ |J = N/2, M⟩; ``"full"`` on the (n_cut+1)·2^N
tensor-product basis of the charger and every qubit (slow, and obviously
correct), where the holder ergotropy is computed by the generic passive-state
formula on all 2^N qubit states, an independent check of the closed form the
other engines use.  Operators come from :mod:`qbhelpers.physics.model`.

Options: ``rtol`` = 1e-10 and ``atol`` = 1e-12 (QuTiP's adaptive integrator).
QuTiP (which loads matplotlib) is imported when an engine is built, not when
the package is.
The heat is the Gauss–Legendre quadrature of 2κ(⟨a†a⟩ − n_th) on
sub-intervals short enough (phase ≲ 1 rad) for 16th-order accuracy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Iterator

import numpy as np

from ..physics.ergotropy import ergotropy
from ..physics.states import charger_density_matrix
from ..validation import check_tolerance
from .base import Method, Setup
from .stepping import SteppingEngine

RTOL = 1e-10
ATOL = 1e-12


@dataclass(frozen=True)
class _Qutip(Method):
    rtol: float = RTOL
    atol: float = ATOL
    basis: ClassVar[str]

    def __post_init__(self):
        object.__setattr__(self, "rtol", check_tolerance("rtol", self.rtol))
        object.__setattr__(self, "atol", check_tolerance("atol", self.atol))

    def engine(self, setup: Setup, holder: np.ndarray | None = None) -> "QutipEngine":
        return QutipEngine(setup, holder, self.basis, self.rtol, self.atol)

    def state_size(self, setup: Setup) -> int:
        holder_dim = setup.n_qubits + 1 if self.basis == "dicke" else 2 ** setup.n_qubits
        return ((setup.n_cut + 1) * holder_dim) ** 2


@dataclass(frozen=True)
class QutipDicke(_Qutip):
    """QuTiP ``mesolve`` on the Dicke basis, tolerances ``rtol``, ``atol`` (< 1e-2)."""

    name: ClassVar[str] = "dicke"
    #: its Liouvillian has dimension ((n_cut+1)(N+1))**2
    max_qubits: ClassVar[int] = 64
    summary: ClassVar[str] = "QuTiP mesolve on the Dicke basis (plain reference)"
    basis: ClassVar[str] = "dicke"


@dataclass(frozen=True)
class QutipFull(_Qutip):
    """QuTiP ``mesolve`` on the 2^N tensor-product basis, tolerances ``rtol``, ``atol``."""

    name: ClassVar[str] = "full"
    max_qubits: ClassVar[int] = 10
    summary: ClassVar[str] = "QuTiP mesolve on the 2^N tensor-product basis (obviously correct)"
    basis: ClassVar[str] = "full"


class QutipEngine(SteppingEngine):
    """QuTiP ``mesolve`` in the Dicke (``basis="dicke"``) or full basis."""

    def __init__(self, setup: Setup, holder: np.ndarray | None, basis: str, rtol: float,
                 atol: float):
        super().__init__(setup, holder)
        import qutip as qt

        from ..physics import model

        self.qt, self.model = qt, model
        s = setup
        self.basis = basis
        self.ops = model.operators(s.n_qubits, s.n_cut, basis)
        H = model.hamiltonian(self.ops, s.g)
        c_ops = model.collapse_operators(self.ops, s.kappa, s.n_th)
        options = {"atol": atol, "rtol": rtol, "nsteps": 10**7, "store_states": True,
                   "progress_bar": False}
        self.solver = qt.MESolver(H, c_ops, options=options)
        self._dEop = model.power_operator(self.ops, s.g)
        self._top = qt.tensor(qt.fock_dm(s.n_cut + 1, s.n_cut),
                              qt.qeye(self.ops.holder_hamiltonian.dims[0]))
        self._iso = _dicke_isometry(s.n_qubits) if basis == "full" else None
        # quadrature sub-interval: phase ≤ 1 rad at the largest frequency present
        omega = 2 * s.g * math.sqrt((s.n_cut + 1) * (s.n_qubits + 1) * (s.n_qubits + 2) / 4)
        self._h_max = 1.0 / (omega + 2 * s.kappa * (2 * s.n_th + 1) * (s.n_cut + 1))

    def initial(self, which: str):
        qt, s = self.qt, self.setup
        if self.holder is not None:  # discharging: empty charger ⊗ ρ_h
            rho_h = self.holder if self._iso is None else self._iso @ self.holder @ self._iso.T
            vac = qt.fock_dm(s.n_cut + 1, 0)
            return qt.tensor(vac, qt.Qobj(rho_h, dims=[self.ops.holder_hamiltonian.dims[0]] * 2))
        rho_c = charger_density_matrix(s.charger, s.mean_photons, s.n_cut)
        return self.model.initial_state(self.ops, rho_c)

    def evolve(self, state, t0: float, times) -> Iterator[tuple[object, float]]:
        qt, s = self.qt, self.setup
        times = [float(t) for t in times]
        outs = [t for t in times if t > t0]
        for t in times:
            if t <= t0:
                yield state, 0.0
        if not outs:
            return
        nodes, weights, owner = _gauss_legendre([t0] + outs, self._h_max)
        tlist = np.concatenate([[t0], nodes, outs])
        order = np.argsort(tlist, kind="stable")
        result = self.solver.run(state, tlist[order])
        states = [None] * tlist.size
        for pos, st in zip(order, result.states):
            states[pos] = st
        nn = len(nodes)
        ec = np.array([qt.expect(self.ops.n_charger, st) for st in states[1:1 + nn]])
        dq = np.bincount(owner, weights * 2 * s.kappa * (ec - s.n_th), minlength=len(outs))
        q = np.cumsum(dq)
        for i, st in enumerate(states[1 + nn:]):
            yield st, float(q[i])

    def march(self, state, t0: float, t_max: float, max_step: float):
        """(t, state, Q − Q(t0)) on a grid of spacing ``max_step``."""
        q_acc = 0.0
        t = t0
        chunk = 16
        while t < t_max:
            ts = t + max_step * np.arange(1, chunk + 1)
            ts = ts[ts <= t_max + 1e-15] if ts[-1] > t_max else ts
            if ts.size == 0:
                return
            for tt, (st, q) in zip(ts, self.evolve(state, t, ts)):
                yield float(tt), st, q_acc + q
            state, q_acc, t = st, q_acc + q, float(ts[-1])

    def observe(self, state) -> tuple[float, float, float, float]:
        qt, o = self.qt, self.ops
        return (float(qt.expect(o.n_holder, state)), float(qt.expect(o.n_charger, state)),
                float(qt.expect(self._dEop, state)), float(qt.expect(self._top, state)))

    def _holder_native(self, state) -> np.ndarray:
        """Reduced holder state in this engine's own basis (2^N for "full")."""
        keep = list(range(1, 1 + (self.setup.n_qubits if self.basis == "full" else 1)))
        return state.ptrace(keep).full()

    def reduced_holder(self, state) -> np.ndarray:
        rho = self._holder_native(state)
        return rho if self._iso is None else self._iso.conj().T @ rho @ self._iso

    def reduced_charger(self, state) -> np.ndarray:
        return state.ptrace(0).full()

    def state_ergotropy(self, state, rho_h: np.ndarray) -> float:
        if self.basis != "full":
            return super().state_ergotropy(state, rho_h)
        # generic ergotropy on all 2^N states: an independent check of E_h − (1 − r_max)
        return ergotropy(self._holder_native(state), self.ops.holder_hamiltonian)


def _gauss_legendre(edges, h_max: float, order: int = 8):
    """Nodes, weights and owning interval index for ∫ over each [edges[i], edges[i+1]]."""
    x, w = np.polynomial.legendre.leggauss(order)
    nodes, weights, owner = [], [], []
    for i in range(len(edges) - 1):
        a, b = edges[i], edges[i + 1]
        m = max(1, math.ceil((b - a) / h_max))
        cuts = np.linspace(a, b, m + 1)
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            nodes.append(0.5 * (hi - lo) * x + 0.5 * (hi + lo))
            weights.append(0.5 * (hi - lo) * w)
            owner.append(np.full(order, i))
    return np.concatenate(nodes), np.concatenate(weights), np.concatenate(owner)


def _dicke_isometry(n_qubits: int) -> np.ndarray:
    """Columns: the Dicke states |k⟩ (k excitations) as vectors of the 2^N basis."""
    dim = 2 ** n_qubits
    ones = np.array([bin(x).count("1") for x in range(dim)])
    V = np.zeros((dim, n_qubits + 1))
    for k in range(n_qubits + 1):
        mask = ones == k
        V[mask, k] = 1.0 / math.sqrt(mask.sum())
    return V
