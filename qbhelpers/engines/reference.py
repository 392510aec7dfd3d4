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
sub-intervals short enough (phase ≲ 1 rad) for 16th-order accuracy, with
⟨a†a⟩ evaluated while the solver steps through the nodes: the engines keep
only the states they return (never one per quadrature node).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Iterator

import numpy as np

from ..physics.ergotropy import ergotropy
from ..physics.states import charger_density_matrix
from ..validation import check_tolerance
from .base import Estimate, Method, Setup
from .cost import qutip_estimate
from .stepping import SteppingEngine

RTOL = 1e-10
ATOL = 1e-12
#: QuTiP's integrator: Verner's 9th-order explicit Runge–Kutta.  Its global
#: error stays at the tolerances' level over a run; the default Adams
#: integrator (variable order, local error control) drifted to ~1e-11 in
#: dE_h/dt, which at a flat maximum (warm bath, κ ≈ 3.7g) moved τ̄ by 2e-8.
INTEGRATOR = "vern9"


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

    def estimate(self, setup: Setup, t_end: float, holder: np.ndarray | None = None, *,
                 with_charger: bool = False) -> Estimate:
        return qutip_estimate(setup, t_end, self.basis, quadrature_step(setup))

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
        options = {"atol": atol, "rtol": rtol, "nsteps": 10**7, "progress_bar": False,
                   "method": INTEGRATOR}
        self._liouvillian = qt.liouvillian(H, c_ops)
        self._options = options
        self.solver = qt.MESolver(self._liouvillian, options=options)  # for march()
        self._evolver = None  # a second solver for evolve(), built on first use
        self._dEop = model.power_operator(self.ops, s.g)
        self._top = qt.tensor(qt.fock_dm(s.n_cut + 1, s.n_cut),
                              qt.qeye(self.ops.holder_hamiltonian.dims[0]))
        self._iso = _dicke_isometry(s.n_qubits) if basis == "full" else None
        self._h_max = quadrature_step(s)

    def initial(self, which: str):
        qt, s = self.qt, self.setup
        if self.holder is not None:  # discharging: empty charger ⊗ ρ_h
            rho_h = self.holder if self._iso is None else self._iso @ self.holder @ self._iso.T
            vac = qt.fock_dm(s.n_cut + 1, 0)
            return qt.tensor(vac, qt.Qobj(rho_h, dims=[self.ops.holder_hamiltonian.dims[0]] * 2))
        rho_c = charger_density_matrix(s.charger, s.mean_photons, s.n_cut)
        return self.model.initial_state(self.ops, rho_c)

    def _walk(self, solver, state, t0: float, targets,
              heat: bool = True) -> Iterator[tuple[float, object, float]]:
        """Step ``solver`` from ``state`` at ``t0`` through the increasing
        ``targets``, yielding (t, state, Q − Q(t0)) at each.  The heat is the
        Gauss–Legendre quadrature of 2κ(⟨a†a⟩ − n_th) between consecutive
        targets, ⟨a†a⟩ being evaluated as the solver passes the nodes: only
        the states at the targets are kept.  ``heat=False`` skips it (Q = 0)."""
        qt, s = self.qt, self.setup
        solver.start(state, t0)
        t_prev, q, current = t0, 0.0, state
        for target in targets:
            target = float(target)
            if target > t_prev:
                if heat and s.kappa > 0:
                    nodes, weights, _ = _gauss_legendre([t_prev, target], self._h_max)
                    for node, w in zip(nodes, weights):
                        ec = qt.expect(self.ops.n_charger, solver.step(float(node), copy=False))
                        q += w * 2 * s.kappa * (ec - s.n_th)
                current = solver.step(target)
                t_prev = target
            yield target, current, q

    def evolve(self, state, t0: float, times, heat: bool = True) -> Iterator[tuple[object, float]]:
        if self._evolver is None:
            self._evolver = self.qt.MESolver(self._liouvillian, options=self._options)
        for _, st, q in self._walk(self._evolver, state, t0, times, heat):
            yield st, q

    def march(self, state, t0: float, t_max: float, max_step: float):
        """(t, state, Q − Q(t0)) on a grid of spacing ``max_step``."""
        def grid():
            k = 1
            while t0 + k * max_step <= t_max + 1e-15:
                yield t0 + k * max_step
                k += 1
        yield from self._walk(self.solver, state, t0, grid())

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


def quadrature_step(setup: Setup) -> float:
    """Longest sub-interval of the heat quadrature: phase ≤ 1 rad at the
    largest frequency present (the Rabi frequency of the top photon level plus
    the fastest decay rate), so that 8 Gauss–Legendre nodes integrate
    ⟨a†a⟩(t) to 16th order."""
    s = setup
    omega = 2 * s.g * math.sqrt((s.n_cut + 1) * (s.n_qubits + 1) * (s.n_qubits + 2) / 4)
    return 1.0 / (omega + 2 * s.kappa * (2 * s.n_th + 1) * (s.n_cut + 1))


def _gauss_legendre(edges, h_max: float, order: int = 8):
    """Nodes (increasing), weights and owning interval index for ∫ over each
    [edges[i], edges[i+1]]."""
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
