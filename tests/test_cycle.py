"""The whole cycle: charge, store, discharge (SPEC §9; qbhelpers.whole_cycle and
qbhelpers.engines.combined).

What is checked, against what:

* no storage (τ_s = 0 or zero rates) gives back ``qb.discharge`` (same engine,
  same state: to rounding);
* dephasing alone keeps E_s = Ē; decay alone gives E_s = Ē e^{−γ_↓ τ_s} at every N;
* one qubit against closed forms derived in this file (charging, storage and
  discharge of a two-level system through an empty lossy cavity);
* the block-by-block discharge against a charge–store–discharge done here in
  the full 2^N tensor-product basis (QuTiP ``mesolve`` for the charger ⊗ N
  qubits, ``scipy.linalg.expm`` for the storage), and against the other
  engines ("blocks-rk", "dicke") run block by block;
* the parallel battery, the energy budget, the enhancements, the scans and
  traces, skipped blocks (the error stays within the stated bound) and the
  refusal of bad input before any solver runs.

Tolerances (and why):

* ``SAME = 1e-10``: the same engine on the same state reached two ways (a
  weight p_J = 1 − O(1e-16) multiplies a block's series; the first-minimum
  root is refined to ~1e-14 relative): rounding only.
* ``TOL = 1e-8`` (conftest): independent methods (QuTiP at rtol 1e-10 / atol
  1e-12, DOP853 at the same tolerances, closed forms), the book's promise.
* ``STORE = 1e-12``: identities of the storage propagator (backward error
  2^-53 per step) on energies of order N ≤ 32.
"""
from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import scipy.linalg as sl

import qbhelpers as qb
from qbhelpers import whole_cycle as cy
from qbhelpers.engines.combined import BlockDischarge, EngineSum, Part
from qbhelpers.physics.permutational import PermutationInvariantState as PIState
from qbhelpers.physics.permutational import store
from qbhelpers.problem import make_setup

from conftest import TOL, dicke_isometry

SAME = 1e-10
STORE = 1e-12


# ------------------------------------------------------------ no storage
@pytest.mark.parametrize("n_qubits, charger, kappa, n_th", [
    (1, "fock", 0.5, 0.0), (2, "fock", 0.0, 0.0), (3, "coherent", 0.6, 0.0),
    (4, "thermal", 0.4, 0.0), (5, "fock", 0.8, 0.0), (3, "fock", 0.6, 0.3)])
@pytest.mark.parametrize("storage", [dict(storage_time=0.0, gamma_decay=0.3, gamma_dephasing=0.2),
                                     dict(storage_time=2.0)])
def test_no_storage_gives_back_the_discharge(n_qubits, charger, kappa, n_th, storage):
    d = qb.discharge(n_qubits, charger, kappa, n_th=n_th)
    c = qb.cycle(n_qubits, charger, kappa, n_th=n_th, **storage)
    assert c.tau_d == pytest.approx(d.tau, rel=SAME, abs=0)
    for mine, theirs in ((c.stored_energy, d.E_start), (c.discharged_energy, d.energy),
                         (c.final_energy, d.E_end), (c.final_ergotropy, d.ergotropy_end),
                         (c.stored_ergotropy, d.ergotropy_start), (c.charger_at_tau_d, d.E_c),
                         (c.discharging_heat, d.Q)):
        assert mine == pytest.approx(theirs, abs=SAME * max(1, n_qubits))
    assert c.trapped_energy == pytest.approx(0.0, abs=SAME)
    assert c.storage_loss == pytest.approx(0.0, abs=SAME)
    fm = qb.first_max(n_qubits, charger, kappa, n_th=n_th)
    assert (c.charging.tau, c.charging.energy, c.charging.ergotropy) == (fm.tau, fm.energy,
                                                                         fm.ergotropy)


def test_no_storage_gives_back_the_parallel_discharge():
    d = qb.discharge(4, "fock", 0.5, version="parallel")
    c = qb.cycle(4, "fock", 0.5, storage_time=0.0, gamma_decay=1.0, version="parallel")
    assert c.tau_d == pytest.approx(d.tau, rel=SAME)
    assert c.discharged_energy == pytest.approx(d.energy, abs=SAME)
    assert c.version == "parallel" and c.charging.version == "parallel"


# ------------------------------------------------------------ the storage checks
@pytest.mark.parametrize("n_qubits", [1, 2, 3, 8, 16])
def test_dephasing_alone_keeps_the_stored_energy(n_qubits):
    for t_s in (0.1, 1.0, 5.0):
        c = qb.cycle(n_qubits, "fock", 0.6, storage_time=t_s, gamma_dephasing=0.7)
        assert c.stored_energy == pytest.approx(c.charging.energy, abs=STORE * n_qubits)
        assert abs(c.storage_loss) < STORE * n_qubits


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 8, 16, 32])
def test_decay_alone_is_exponential(n_qubits):
    gamma, t_s = 0.3, 1.7
    c = qb.cycle(n_qubits, "fock", 0.6, storage_time=t_s, gamma_decay=gamma)
    assert c.stored_energy == pytest.approx(c.charging.energy * math.exp(-gamma * t_s),
                                            abs=STORE * n_qubits)
    # dephasing on top does not change the populations' decay
    c2 = qb.cycle(n_qubits, "fock", 0.6, storage_time=t_s, gamma_decay=gamma,
                  gamma_dephasing=0.4)
    assert c2.stored_energy == pytest.approx(c.stored_energy, abs=STORE * n_qubits)


# ------------------------------------------------------------ one qubit
def one_qubit_closed_forms(kappa: float, gamma_decay: float, t_s: float) -> dict[str, float]:
    """One qubit, one Fock photon, κ < 2g (g = 1).

    Charging stays in span{|1, g⟩, |0, e⟩} until the photon is lost; with
    c_a, c_e the amplitudes, ċ_a = −κ c_a − i g c_e and ċ_e = −i g c_a, so
    c̈_e + κ ċ_e + g² c_e = 0, c_e(0) = 0: c_e = −i (g/ω) e^{−κt/2} sin ωt,
    ω = √(g² − κ²/4).  E_h = |c_e|² peaks where tan ωτ̄ = 2ω/κ, where
    sin² ωτ̄ = ω²/g², so Ē = e^{−κτ̄}; there c_a ∝ ω cos ωτ̄ − (κ/2) sin ωτ̄ = 0,
    so E_c(τ̄) = 0 and Q(τ̄) = 1 − Ē.  Storage: the diagonal state keeps
    p = Ē e^{−γ_↓ τ_s} (dephasing does nothing to it); ergotropy max(0, 2p − 1).
    Discharge from |0, e⟩: c_e = e^{−κt/2}(cos ωt + (κ/2ω) sin ωt), first zero at
    ωτ̄_d = π − arctan(2ω/κ); there c_a = i ċ_e/g has |c_a|² = e^{−κτ̄_d}, so
    E_c(τ̄_d) = p e^{−κτ̄_d}, Q = p (1 − e^{−κτ̄_d}), E_h = 0, E_d = p.
    """
    w = math.sqrt(1 - kappa ** 2 / 4)
    tau = math.atan2(2 * w, kappa) / w
    e_bar = math.exp(-kappa * tau)
    p = e_bar * math.exp(-gamma_decay * t_s)
    tau_d = (math.pi - math.atan2(2 * w, kappa)) / w
    return dict(tau=tau, energy=e_bar, Q=1 - e_bar, stored=p, stored_ergotropy=max(0.0, 2 * p - 1),
                tau_d=tau_d, E_c_d=p * math.exp(-kappa * tau_d),
                Q_d=p * (1 - math.exp(-kappa * tau_d)), omega=w)


@pytest.mark.parametrize("kappa, gamma_decay, gamma_dephasing, t_s", [
    (0.0, 0.0, 0.0, 0.0), (0.4, 0.2, 0.0, 1.0), (1.0, 0.05, 0.3, 2.0), (1.6, 1.0, 1.0, 0.1)])
def test_one_qubit_matches_the_closed_forms(kappa, gamma_decay, gamma_dephasing, t_s):
    x = one_qubit_closed_forms(kappa, gamma_decay, t_s)
    c = qb.cycle(1, "fock", kappa, storage_time=t_s, gamma_decay=gamma_decay,
                 gamma_dephasing=gamma_dephasing)
    assert c.charging.tau == pytest.approx(x["tau"], rel=TOL)
    assert c.charging.energy == pytest.approx(x["energy"], abs=TOL)
    assert c.charging.E_c == pytest.approx(0.0, abs=TOL)
    assert c.stored_energy == pytest.approx(x["stored"], abs=TOL)
    assert c.stored_ergotropy == pytest.approx(x["stored_ergotropy"], abs=TOL)
    assert c.trapped_energy == 0.0                  # one qubit has no dark state
    assert c.tau_d == pytest.approx(x["tau_d"], rel=TOL)
    assert c.final_energy == pytest.approx(0.0, abs=TOL)
    assert c.discharged_energy == pytest.approx(x["stored"], abs=TOL)
    assert c.efficiency == pytest.approx(x["stored"], abs=TOL)     # n̄ = 1
    budget = c.energy_budget()
    expected = dict(charging_heat=x["Q"], charger_at_decoupling=0.0,
                    storage_loss=x["energy"] - x["stored"], discharging_heat=x["Q_d"],
                    charger_at_tau_d=x["E_c_d"], trapped=0.0, bright_residual=0.0)
    for key, value in expected.items():
        assert budget[key] == pytest.approx(value, abs=TOL), key
    # the discharge trace: E_h(t) = p |c_e(t)|²
    t = np.linspace(0.0, 1.3 * x["tau_d"], 27)
    tr = qb.cycle_discharge_trace(1, "fock", kappa, storage_time=t_s, gamma_decay=gamma_decay,
                                  gamma_dephasing=gamma_dephasing, times=t)
    w = x["omega"]
    ce = np.exp(-kappa * t / 2) * (np.cos(w * t) + kappa / (2 * w) * np.sin(w * t))
    assert np.allclose(tr.E_h, x["stored"] * ce ** 2, atol=TOL, rtol=0)
    assert np.allclose(tr.trapped_energy, 0.0)


@pytest.mark.parametrize("gamma_decay, gamma_dephasing", [(0.0, 0.5), (0.3, 0.0), (0.2, 0.4)])
def test_one_qubit_with_coherence_matches_the_closed_forms(gamma_decay, gamma_dephasing):
    """A coherent charger leaves the qubit with a coherence c: storage multiplies
    the excited population P by e^{−γ_↓τ} and c by e^{−(γ_↓/2 + γ_φ)τ}; the
    ergotropy of a qubit is P − 1/2 + √((P − 1/2)² + |c|²).  The discharge moves
    only the |e⟩⟨e| part: E_h = P|c_e(t)|² empties at the same τ̄_d as above."""
    kappa, t_s = 0.6, 1.3
    c = qb.cycle(1, "coherent", kappa, storage_time=t_s, gamma_decay=gamma_decay,
                 gamma_dephasing=gamma_dephasing)
    rho = qb.charge(1, "coherent", kappa, times=[0.0, c.charging.tau]).holder_states[-1]
    big_p = rho[1, 1].real * math.exp(-gamma_decay * t_s)
    coh = abs(rho[1, 0]) * math.exp(-(gamma_decay / 2 + gamma_dephasing) * t_s)
    assert abs(rho[1, 0]) > 0.1                      # there is a coherence to lose
    assert c.stored_energy == pytest.approx(big_p, abs=TOL)
    assert c.stored_ergotropy == pytest.approx(big_p - 0.5 + math.hypot(big_p - 0.5, coh),
                                               abs=TOL)
    x = one_qubit_closed_forms(kappa, 0.0, 0.0)
    assert c.tau_d == pytest.approx(x["tau_d"], rel=TOL)
    assert c.final_energy == pytest.approx(0.0, abs=TOL)
    assert c.final_ergotropy == pytest.approx(0.0, abs=TOL)


# ------------------------------------------------------- the full 2^N reference
def _full_operators(n_qubits: int, n_cut: int):
    """a, σ_i⁻ on charger ⊗ N qubits (QuTiP), qubit basis (ground, excited)."""
    import qutip as qt
    sm = qt.Qobj(np.array([[0.0, 1.0], [0.0, 0.0]]))
    eye_q = [qt.qeye(2)] * n_qubits
    a = qt.tensor([qt.destroy(n_cut + 1)] + eye_q)
    lowers = []
    for i in range(n_qubits):
        ops = [qt.qeye(n_cut + 1)] + [sm if q == i else qt.qeye(2) for q in range(n_qubits)]
        lowers.append(qt.tensor(ops))
    return a, lowers


def _tavis_cummings_run(rho0, n_qubits, n_cut, kappa, times):
    """mesolve of SPEC §1 (g = 1, n_th = 0) on charger ⊗ 2^N qubits."""
    import qutip as qt
    a, lowers = _full_operators(n_qubits, n_cut)
    jm = sum(lowers[1:], lowers[0])
    H = a * jm.dag() + a.dag() * jm
    n_h = sum((s.dag() * s for s in lowers[1:]), lowers[0].dag() * lowers[0])
    power = 1j * (a.dag() * jm - a * jm.dag())       # dE_h/dt = 2g Im⟨a J₊⟩ = ⟨i(a†J₋ − aJ₊)⟩
    res = qt.mesolve(H, rho0, times, [math.sqrt(2 * kappa) * a],
                     options={"atol": 1e-12, "rtol": 1e-10, "nsteps": 10 ** 6,
                              "store_states": True})
    return [(float(qt.expect(n_h, s)), float(qt.expect(a.dag() * a, s)),
             float(qt.expect(power, s)), s) for s in res.states]


def _full_storage_liouvillian(n_qubits, gamma_decay, gamma_dephasing):
    """SPEC §9 on 2^N states (numpy, column-stacking vec: vec(AXB) = (Bᵀ ⊗ A) vec X)."""
    lower, sz = np.array([[0.0, 1.0], [0.0, 0.0]]), np.diag([-1.0, 1.0])
    eye = np.eye(2 ** n_qubits)

    def site(op, i):
        out = np.array([[1.0]])
        for q in range(n_qubits):
            out = np.kron(out, op if q == i else np.eye(2))
        return out

    def dissipator(L, rate):
        LdL = L.T @ L
        return rate * (np.kron(L, L) - 0.5 * np.kron(eye, LdL) - 0.5 * np.kron(LdL.T, eye))

    return sum(dissipator(site(lower, i), gamma_decay) + dissipator(site(sz, i), gamma_dephasing / 2)
               for i in range(n_qubits))


def _trapped_energy_full(rho_q: np.ndarray, n_qubits: int) -> float:
    """⟨N/2 − Ĵ⟩ from the eigen-decomposition of J² = Jx² + Jy² + Jz² on 2^N states."""
    sx, sy, sz = (np.array([[0, 1], [1, 0]]) / 2, np.array([[0, -1j], [1j, 0]]) / 2,
                  np.diag([-0.5, 0.5]))

    def total(op):
        out = 0
        for i in range(n_qubits):
            term = np.array([[1.0]])
            for q in range(n_qubits):
                term = np.kron(term, op if q == i else np.eye(2))
            out = out + term
        return out

    j_sq = sum(total(s) @ total(s) for s in (sx, sy, sz))
    lam, vec = np.linalg.eigh(j_sq)
    spin = -0.5 + np.sqrt(0.25 + np.clip(lam, 0, None))
    weights = np.real(np.einsum("ia,ij,ja->a", vec.conj(), rho_q, vec))
    return float(weights @ (n_qubits / 2 - spin))


@pytest.mark.parametrize("n_qubits, charger, kappa, rates", [
    (2, "fock", 0.6, (0.3, 0.2)), (3, "fock", 0.6, (0.3, 0.2)), (3, "fock", 1.0, (0.0, 0.5)),
    (4, "fock", 0.8, (0.2, 0.3)), (2, "coherent", 0.6, (0.2, 0.3))])
def test_cycle_agrees_with_the_full_tensor_product_basis(n_qubits, charger, kappa, rates):
    """Charge, store and discharge on charger ⊗ 2^N qubits, built here."""
    import qutip as qt
    gamma_decay, gamma_dephasing = rates
    t_s = 0.9
    c = qb.cycle(n_qubits, charger, kappa, storage_time=t_s, gamma_decay=gamma_decay,
                 gamma_dephasing=gamma_dephasing, block_tol=0.0)
    N, n_cut = n_qubits, n_qubits
    dims = [[2] * N, [2] * N]
    # charging: |N⟩ (or |α = √N⟩) ⊗ |g…g⟩ up to the package's τ̄, where dE_h/dt must vanish
    field = (qt.fock(c.n_cut + 1, N) if charger == "fock"
             else qt.coherent(c.n_cut + 1, math.sqrt(N), method="analytic"))
    psi0 = qt.tensor([field] + [qt.basis(2, 0)] * N)
    (_, _, _, _), (e_h, e_c, power, s_tau) = _tavis_cummings_run(
        qt.ket2dm(psi0), N, c.n_cut, kappa, [0.0, c.charging.tau])
    assert abs(power) < 1e-7 * N
    assert e_h == pytest.approx(c.charging.energy, abs=TOL)
    rho_q = s_tau.ptrace(list(range(1, N + 1))).full()
    # storage: the 2^N Lindblad equation, exactly
    vec = sl.expm(_full_storage_liouvillian(N, gamma_decay, gamma_dephasing) * t_s) \
        @ rho_q.reshape(-1, order="F")
    rho_s = vec.reshape(2 ** N, 2 ** N, order="F")
    h_h = np.diag([float(bin(x).count("1")) for x in range(2 ** N)])
    assert c.stored_energy == pytest.approx(np.trace(rho_s @ h_h).real, abs=TOL)
    assert c.stored_ergotropy == pytest.approx(qb.ergotropy(rho_s, h_h), abs=TOL)
    assert c.trapped_energy == pytest.approx(_trapped_energy_full(rho_s, N), abs=TOL)
    assert c.trapped_energy > 1e-3                    # the test exercises the dark states
    # discharge: vacuum ⊗ ρ_s, compared on a grid and at τ̄_d
    start = qt.tensor(qt.fock_dm(n_cut + 1, 0), qt.Qobj(rho_s, dims=dims))
    t = np.linspace(0.0, 1.5 * c.tau_d, 16)
    trace = qb.cycle_discharge_trace(N, charger, kappa, storage_time=t_s, gamma_decay=gamma_decay,
                                     gamma_dephasing=gamma_dephasing, times=t, block_tol=0.0)
    ref = _tavis_cummings_run(start, N, n_cut, kappa, t)
    assert np.allclose(trace.E_h, [r[0] for r in ref], atol=TOL, rtol=0)
    assert np.allclose(trace.E_c, [r[1] for r in ref], atol=TOL, rtol=0)
    assert np.allclose(trace.balance, c.stored_energy, atol=TOL, rtol=0)
    e_h, e_c, power, s_d = _tavis_cummings_run(start, N, n_cut, kappa, [0.0, c.tau_d])[-1]
    assert abs(power) < 1e-7 * N                       # τ̄_d is a stationary point
    assert c.final_energy == pytest.approx(e_h, abs=TOL)
    assert c.charger_at_tau_d == pytest.approx(e_c, abs=TOL)
    rho_d = s_d.ptrace(list(range(1, N + 1))).full()
    assert c.final_ergotropy == pytest.approx(qb.ergotropy(rho_d, h_h), abs=TOL)
    assert _trapped_energy_full(rho_d, N) == pytest.approx(c.trapped_energy, abs=TOL)
    for k in range(t.size):
        rho_k = ref[k][3].ptrace(list(range(1, N + 1))).full()
        assert trace.ergotropy[k] == pytest.approx(qb.ergotropy(rho_k, h_h), abs=TOL)


def test_stored_state_is_the_full_basis_state_in_blocks():
    """The Dicke state charged at τ̄, stored, then expanded to 2^N through the
    isometry of the symmetric block, is the 2^N storage of that state (N = 3)."""
    N, t_s, gd, gp = 3, 0.8, 0.4, 0.3
    c = qb.cycle(N, "fock", 0.6, storage_time=t_s, gamma_decay=gd, gamma_dephasing=gp)
    rho = qb.charge(N, "fock", 0.6, times=[0.0, c.charging.tau]).holder_states[-1]
    V = dicke_isometry(N)
    vec = sl.expm(_full_storage_liouvillian(N, gd, gp) * t_s) @ (V @ rho @ V.T).reshape(-1, order="F")
    rho_s = vec.reshape(2 ** N, 2 ** N, order="F")
    # the symmetric block of the stored state is V† ρ_s V
    assert np.allclose(c.stored_state.blocks[N], V.T @ rho_s @ V, atol=TOL)


# ------------------------------------------------------- other engines, block by block
@pytest.mark.parametrize("method", ["blocks-rk", "dicke"])
def test_block_discharge_agrees_across_methods(method):
    kw = dict(storage_time=1.2, gamma_decay=0.25, gamma_dephasing=0.3, block_tol=0.0)
    fast = qb.cycle(4, "fock", 0.7, **kw)
    other = qb.cycle(4, "fock", 0.7, method=method, **kw)
    assert len(fast.stored_state.block_weights) == 3
    assert other.tau_d == pytest.approx(fast.tau_d, rel=TOL)
    for f in ("stored_energy", "stored_ergotropy", "trapped_energy", "discharged_energy",
              "final_ergotropy", "charger_at_tau_d", "discharging_heat"):
        assert getattr(other, f) == pytest.approx(getattr(fast, f), abs=TOL), f


def test_block_discharge_of_a_coherent_charge_agrees_with_runge_kutta():
    """Coherences in every order of the ladder: the off-diagonal sectors of every block."""
    kw = dict(storage_time=0.7, gamma_decay=0.2, gamma_dephasing=0.2, block_tol=0.0)
    fast = qb.cycle(3, "coherent", 0.6, **kw)
    rk = qb.cycle(3, "coherent", 0.6, method="blocks-rk", **kw)
    assert abs(fast.stored_state.blocks[3][0, 1]) > 1e-3
    assert rk.tau_d == pytest.approx(fast.tau_d, rel=TOL)
    for f in ("discharged_energy", "final_ergotropy", "stored_ergotropy"):
        assert getattr(rk, f) == pytest.approx(getattr(fast, f), abs=TOL), f


# ------------------------------------------------------- the weighted sum itself
def test_engine_sum_of_one_engine_is_that_engine():
    setup = make_setup(3, "fock", 0.5)
    engine = setup.method.engine(setup)
    single = EngineSum([Part(1.0, engine)], setup).first_extremum("max")
    direct = setup.method.engine(setup).first_extremum("max")
    assert single[0] == direct.tau


def test_engine_sum_weights_and_offsets_add_up():
    """Two charging runs (N = 2 and N = 3) summed with weights and offsets: the
    summed trajectory is the weighted sum, and the summed derivative vanishes
    at the joint extremum."""
    s2, s3 = make_setup(2, "fock", 0.5), make_setup(3, "fock", 0.5)
    parts = [Part(0.3, s2.method.engine(s2), 1.0), Part(0.7, s3.method.engine(s3), 0.5)]
    total = EngineSum(parts, s3, constant=0.25)
    t = np.linspace(0.0, 2.0, 41)
    run = total.trajectory(t)
    a = s2.method.engine(s2).trajectory(t)
    b = s3.method.engine(s3).trajectory(t)
    assert np.allclose(run.E_h, 0.3 * (a.E_h + 1.0) + 0.7 * (b.E_h + 0.5) + 0.25, atol=1e-13)
    assert np.allclose(run.Q, 0.3 * a.Q + 0.7 * b.Q, atol=1e-13)
    tau, chunk, _ = total.first_extremum("max")
    assert abs(chunk.derivative(tau)) < 1e-10
    m = chunk.measure(tau)
    assert m.E_h + m.E_c + m.Q == pytest.approx(0.3 * (2 + 1.0) + 0.7 * (3 + 0.5) + 0.25, abs=1e-10)
    # intersections: consecutive, and every part's chunk covers the intersection
    for c, _ in zip(total.chunks(), range(20)):
        assert all(p.t0 <= c.t0 and c.t1 <= p.t1 for p in c.chunks)
        assert np.all((c.sample_times > c.t0) & (c.sample_times <= c.t1))


# ------------------------------------------------------- parallel, budget, Γ
def test_parallel_is_n_copies_of_the_one_qubit_cycle():
    kw = dict(storage_time=1.5, gamma_decay=0.2, gamma_dephasing=0.3)
    cell = qb.cycle(1, "fock", 0.5, **kw)
    par = qb.cycle(5, "fock", 0.5, version="parallel", **kw)
    extensive = [f.name for f in dataclasses.fields(cy.Cycle) if f.metadata.get("extensive")]
    assert {"stored_energy", "discharged_energy", "trapped_energy"} <= set(extensive)
    for f in extensive:
        assert getattr(par, f) == pytest.approx(5 * getattr(cell, f), abs=1e-12), f
    for f in ("tau_d", "discharge_rate", "efficiency", "storage_time"):
        assert getattr(par, f) == getattr(cell, f), f
    assert par.charging.energy == pytest.approx(5 * cell.charging.energy, abs=1e-12)
    assert par.mean_photons == 5 and par.n_qubits == 5
    assert par.trapped_energy == 0.0


@pytest.mark.parametrize("n_qubits, charger, kappa, n_th, version", [
    (6, "fock", 0.8, 0.0, "collective"), (3, "coherent", 0.5, 0.0, "collective"),
    (4, "thermal", 0.6, 0.0, "collective"), (3, "fock", 0.6, 0.2, "collective"),
    (4, "fock", 0.6, 0.0, "parallel")])
def test_energy_budget_closes(n_qubits, charger, kappa, n_th, version):
    c = qb.cycle(n_qubits, charger, kappa, n_th=n_th, version=version, storage_time=1.1,
                 gamma_decay=0.3, gamma_dephasing=0.4)
    budget = c.energy_budget()
    assert tuple(budget) == cy.BUDGET_ITEMS
    assert sum(budget.values()) == pytest.approx(c.mean_photons, abs=TOL)
    assert c.budget_total == pytest.approx(c.mean_photons, abs=TOL)
    assert c.discharged_energy == pytest.approx(budget["discharging_heat"]
                                                + budget["charger_at_tau_d"], abs=TOL)
    assert budget["bright_residual"] >= -TOL            # E_h(τ̄_d) ≥ E_trap
    assert budget["storage_loss"] >= 0.0
    assert c.efficiency == pytest.approx(c.discharged_energy / c.mean_photons, rel=1e-14)


def test_enhancements_are_ratios_of_the_two_versions():
    kw = dict(storage_time=0.8, gamma_decay=0.2, gamma_dephasing=0.5)
    gam = qb.cycle_enhancement(4, "fock", 1.0, **kw)
    col = qb.cycle(4, "fock", 1.0, **kw)
    par = qb.cycle(4, "fock", 1.0, version="parallel", **kw)
    assert set(gam) == set(cy.CYCLE_FIGURES)
    for f in cy.CYCLE_FIGURES:
        expected = getattr(col, f) / getattr(par, f) if getattr(par, f) > 1e-12 else math.nan
        assert gam[f] == pytest.approx(expected, rel=1e-12, nan_ok=True), f
    # same n̄ on both sides: Γ_η = Γ_{E_d}
    assert gam["efficiency"] == pytest.approx(gam["discharged_energy"], rel=1e-12)
    for f, v in qb.ratios(col, par, cy.CYCLE_FIGURES).items():
        assert gam[f] == pytest.approx(v, rel=1e-12, nan_ok=True), f


def test_enhancement_of_the_stored_ergotropy_is_nan_where_the_cell_has_none():
    # one qubit charged at κ = 1 stores less than 1/2: no ergotropy
    gam = qb.cycle_enhancement(3, "fock", 1.0, storage_time=0.5, gamma_decay=0.5)
    par = qb.cycle(3, "fock", 1.0, storage_time=0.5, gamma_decay=0.5, version="parallel")
    assert par.stored_ergotropy == 0.0 and math.isnan(gam["stored_ergotropy"])


# ------------------------------------------------------- scans and traces
def test_scan_equals_single_cycles():
    times = [0.0, 0.3, 2.0]
    kw = dict(gamma_decay=0.2, gamma_dephasing=0.6)
    scan = qb.cycle_scan(5, "fock", 0.7, storage_times=times, **kw)
    assert len(scan) == 3
    for t, c in zip(times, scan):
        one = qb.cycle(5, "fock", 0.7, storage_time=t, **kw)
        assert c.storage_time == t
        for f in ("stored_energy", "stored_ergotropy", "trapped_energy", "tau_d",
                  "discharged_energy", "final_ergotropy"):
            assert getattr(c, f) == pytest.approx(getattr(one, f), abs=1e-12), f
    par = qb.cycle_scan(5, "fock", 0.7, storage_times=times, version="parallel", **kw)
    assert all(p.version == "parallel" for p in par)


def test_storage_trace_follows_the_stored_state():
    times = np.array([0.0, 0.5, 1.0, 4.0])
    kw = dict(gamma_decay=0.2, gamma_dephasing=0.5)
    tr = qb.cycle_storage_trace(6, "fock", 0.8, storage_times=times, **kw)
    assert tr.energy[0] == pytest.approx(tr.charging.energy, abs=1e-12)
    assert tr.trapped_energy[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(tr.trapped_energy[:3]) > 0)
    assert tr.j2 == (6, 4, 2, 0)
    assert np.allclose(tr.block_weights.sum(axis=1), 1.0, atol=1e-12)
    assert np.allclose(tr.block_weights[:, 0], tr.symmetric_weight)
    assert np.allclose(tr.trapped_energy, tr.block_weights @ ((6 - np.array(tr.j2)) / 2))
    for i, t in enumerate(times):
        c = qb.cycle(6, "fock", 0.8, storage_time=t, **kw)
        assert tr.energy[i] == pytest.approx(c.stored_energy, abs=1e-12)
        assert tr.ergotropy[i] == pytest.approx(c.stored_ergotropy, abs=1e-12)
    par = qb.cycle_storage_trace(6, "fock", 0.8, storage_times=times, version="parallel", **kw)
    cell = qb.cycle_storage_trace(1, "fock", 0.8, storage_times=times, **kw)
    assert np.allclose(par.energy, 6 * cell.energy) and np.all(par.trapped_energy == 0)
    assert np.allclose(cell.energy, cell.charging.energy * np.exp(-0.2 * times), atol=1e-12)


def test_discharge_trace_conserves_the_spin_and_the_balance():
    kw = dict(storage_time=1.0, gamma_decay=0.1, gamma_dephasing=0.6)
    c = qb.cycle(8, "fock", 0.8, **kw)
    tr = qb.cycle_discharge_trace(8, "fock", 0.8, **kw)
    assert tr.t.size == 301 and tr.t[-1] == pytest.approx(1.5 * c.tau_d)
    assert np.allclose(tr.balance, c.stored_energy, atol=TOL)
    assert np.allclose(tr.trapped_energy, c.trapped_energy, atol=1e-12)
    assert np.all(tr.E_h >= tr.trapped_energy - TOL)      # the dark part never leaves
    i = np.argmin(np.abs(tr.t - c.tau_d))
    assert tr.E_h[i] >= c.final_energy - TOL              # the minimum is a minimum nearby
    assert tr.E_h[0] == pytest.approx(c.stored_energy, abs=1e-12)
    assert tr.ergotropy[0] == pytest.approx(c.stored_ergotropy, abs=1e-12)
    # the trace carries the cycle of the same run: the one qb.cycle returns
    for f in dataclasses.fields(qb.Cycle):
        if f.name not in ("setup", "charging", "stored_state", "final_state"):
            assert getattr(tr.cycle, f.name) == getattr(c, f.name), f.name
    assert (tr.cycle.charging.tau, tr.cycle.charging.energy) == (c.charging.tau, c.charging.energy)


def test_discharge_trace_window_and_parallel_cycle():
    kw = dict(storage_time=0.5, gamma_dephasing=0.3)
    tr = qb.cycle_discharge_trace(4, "fock", 0.5, window=2.0, n_times=11, **kw)
    assert tr.t.size == 11 and tr.t[-1] == pytest.approx(2.0 * tr.cycle.tau_d)
    # the parallel trace carries the parallel cycle: N cells' energies, one cell's τ̄_d
    par = qb.cycle_discharge_trace(4, "fock", 0.5, version="parallel", n_times=5, **kw)
    cell = qb.cycle(1, "fock", 0.5, **kw)
    assert par.cycle.version == "parallel" and par.cycle.n_qubits == 4
    assert par.cycle.tau_d == pytest.approx(cell.tau_d, rel=1e-12)
    assert par.cycle.discharged_energy == pytest.approx(4 * cell.discharged_energy, rel=1e-12)
    assert par.cycle.charging.energy == pytest.approx(4 * cell.charging.energy, rel=1e-12)
    assert par.E_h[0] == pytest.approx(par.cycle.stored_energy, rel=1e-12)


@pytest.mark.parametrize("bad, exc, word", [
    (dict(window=0.0), ValueError, "window"), (dict(window=math.inf), ValueError, "window"),
    (dict(n_times=1), ValueError, "n_times"), (dict(n_times=2.5), TypeError, "n_times"),
])
def test_discharge_trace_window_is_checked(bad, exc, word, no_solver):
    with pytest.raises(exc, match=word):
        qb.cycle_discharge_trace(3, "fock", 0.5, storage_time=1.0, **bad)


# ------------------------------------------------------- skipped blocks
def test_skipped_blocks_stay_within_the_stated_bound():
    """Freeze the lightest blocks: every energy moves by at most the bound."""
    state = PIState.from_dicke(qb.charge(10, "fock", 0.8, times=[0.0, 0.25]).holder_states[-1])
    state = store(state, 0.4, gamma_decay=0.5, gamma_dephasing=0.2)
    setup = make_setup(10, "fock", 0.8)
    exact = BlockDischarge(state, setup, block_tol=0.0)
    weights = state.block_weights
    assert exact.skipped == () and exact.error_bound == 0.0
    tol = 0.5 * sum(weights[j] * j for j in exact.moving[-3:])   # enough to skip a few
    cheap = BlockDischarge(state, setup, block_tol=tol)
    assert cheap.skipped and 0 < cheap.error_bound <= tol
    assert cheap.error_bound == pytest.approx(sum(weights[j] * j for j in cheap.skipped))
    t = np.linspace(0.0, 2.0, 81)
    a, b = exact.trajectory(t), cheap.trajectory(t)
    assert np.max(np.abs(a.E_h - b.E_h)) <= cheap.error_bound + 1e-12
    assert np.max(np.abs((a.E_c + a.Q) - (b.E_c + b.Q))) <= cheap.error_bound + 1e-12
    assert np.max(np.abs(a.ergotropy - b.ergotropy)) <= cheap.ergotropy_bound + 1e-12
    assert abs(exact.first_extremum().E_h - cheap.first_extremum().E_h) <= cheap.error_bound + TOL


def test_frozen_blocks_are_exact():
    """Spin 0, and ladders in their ground state at n_th = 0, do not move."""
    blocks = {4: np.diag([0.1, 0.2, 0.1, 0.0, 0.0]), 2: np.diag([0.3, 0.0, 0.0]),
              0: np.array([[0.3]])}
    state = PIState.from_blocks(4, blocks)
    bd = BlockDischarge(state, make_setup(4, "fock", 0.5), block_tol=0.0)
    assert bd.moving == (4,) and bd.frozen == (2, 0) and bd.error_bound == 0.0
    r = bd.first_extremum()
    # the same ladder alone, as a 4-qubit discharge of σ/p, scaled and shifted
    alone = make_setup(4, "fock", 0.5)
    ladder = blocks[4] / 0.4
    e = alone.method.engine(dataclasses.replace(alone, mean_photons=0.0, n_cut=4), ladder)
    ref = e.first_extremum("min")
    assert r.tau == pytest.approx(ref.tau, rel=SAME)
    assert r.E_h == pytest.approx(0.4 * ref.E_h + 0.3 * 1.0 + 0.3 * 2.0, abs=SAME)
    assert r.trapped_energy == pytest.approx(0.3 * 1 + 0.3 * 2, abs=1e-15)


def test_a_diagonal_holder_fills_only_sector_zero():
    """Discharging a holder without coherences (a Fock charge, stored or not) needs
    sector 0 only; a coherence brings every sector back."""
    from qbhelpers.engines.sectors import SectorLayout
    setup = dataclasses.replace(make_setup(4, "coherent", 0.5), mean_photons=0.0, n_cut=4)
    diagonal = np.diag([0.1, 0.2, 0.3, 0.2, 0.2])
    assert list(SectorLayout(setup, diagonal).initial_sectors("holder")) == [0]
    assert list(SectorLayout(setup, diagonal).initial_sectors("charger")) == [0]
    coherent = diagonal.astype(complex)
    coherent[3, 1] = coherent[1, 3] = 0.05
    assert list(SectorLayout(setup, coherent).initial_sectors("holder")) == [0, 1, 2, 3, 4]
    charging = make_setup(4, "coherent", 0.5)
    assert len(SectorLayout(charging).initial_sectors("holder")) == 5


def test_nothing_to_discharge_is_reported():
    state = PIState.from_blocks(2, {2: np.diag([0.5, 0.0, 0.0]), 0: np.array([[0.5]])})
    bd = BlockDischarge(state, make_setup(2, "fock", 0.5))
    with pytest.raises(qb.NoMaximumError, match="minimum"):
        bd.first_extremum()


# ------------------------------------------------------- bad input
CALLS = {
    "cycle": lambda **kw: qb.cycle(3, "fock", 0.5, **{"storage_time": 1.0, **kw}),
    "scan": lambda **kw: qb.cycle_scan(3, "fock", 0.5, **{"storage_times": [0.0, 1.0], **kw}),
    "enhancement": lambda **kw: qb.cycle_enhancement(3, "fock", 0.5,
                                                     **{"storage_time": 1.0, **kw}),
    "storage trace": lambda **kw: qb.cycle_storage_trace(3, "fock", 0.5,
                                                         **{"storage_times": [0.0, 1.0], **kw}),
    "discharge trace": lambda **kw: qb.cycle_discharge_trace(3, "fock", 0.5,
                                                             **{"storage_time": 1.0, **kw}),
}
BAD = [
    (dict(gamma_decay=-0.1), ValueError, "gamma_decay"),
    (dict(gamma_decay=math.nan), ValueError, "gamma_decay"),
    (dict(gamma_dephasing=math.inf), ValueError, "gamma_dephasing"),
    (dict(gamma_dephasing="0.1"), TypeError, "gamma_dephasing"),
    (dict(version="both"), ValueError, "version"),
    (dict(method="rk4"), ValueError, "method"),
    (dict(g=0.0), ValueError, "g"),
]
BAD_STORAGE_TIME = [(-1.0, ValueError), (math.nan, ValueError), (math.inf, ValueError),
                    ("1", TypeError), (None, TypeError)]
BAD_STORAGE_TIMES = [([1.0, 0.5], ValueError), ([-1.0, 0.0], ValueError),
                     ([0.0, math.nan], ValueError), ([], ValueError), ("0 1", TypeError),
                     ([[0.0, 1.0]], ValueError)]


@pytest.mark.parametrize("verb, kwargs, error, name", [
    (verb, *bad) for verb in CALLS for bad in BAD
    if not (verb == "enhancement" and "version" in bad[0])])   # it computes both versions
def test_bad_input_is_refused_before_any_solver_runs(verb, kwargs, error, name, no_solver):
    with pytest.raises(error, match=name):
        CALLS[verb](**kwargs)


@pytest.mark.parametrize("verb", ["cycle", "enhancement", "discharge trace"])
@pytest.mark.parametrize("value, error", BAD_STORAGE_TIME)
def test_bad_storage_time_is_refused(verb, value, error, no_solver):
    with pytest.raises(error, match="storage_time"):
        CALLS[verb](storage_time=value)


@pytest.mark.parametrize("verb", ["scan", "storage trace"])
@pytest.mark.parametrize("value, error", BAD_STORAGE_TIMES)
def test_bad_storage_times_are_refused(verb, value, error, no_solver):
    with pytest.raises(error, match="storage_times"):
        CALLS[verb](storage_times=value)


@pytest.mark.parametrize("verb", ["cycle", "scan", "enhancement", "discharge trace"])
def test_bad_block_tol_is_refused(verb, no_solver):
    for value, error in ((-1e-3, ValueError), (math.nan, ValueError), ("x", TypeError)):
        with pytest.raises(error, match="block_tol"):
            CALLS[verb](block_tol=value)


def test_the_parallel_split_is_checked_first(no_solver):
    with pytest.raises(ValueError, match="divisible"):
        qb.cycle(3, "fock", 0.5, mean_photons=4, storage_time=1.0, version="parallel")
    with pytest.raises(ValueError, match="divisible"):
        qb.cycle_enhancement(3, "fock", 0.5, mean_photons=4, storage_time=1.0)


def test_discharge_trace_times_are_checked(no_solver):
    with pytest.raises(ValueError, match="times"):
        qb.cycle_discharge_trace(3, "fock", 0.5, storage_time=1.0, times=[0.1, 0.2])


def test_a_storage_beyond_the_work_limit_is_refused_before_charging(no_solver):
    """Bounded cost (issue 12) for the whole cycle too: a storage that would
    take far beyond the limit is refused before any solver runs."""
    from qbhelpers.engines.base import CostLimitError
    with pytest.raises(CostLimitError, match=r"storage_time=1e\+08.*shorter storage time"):
        qb.cycle(64, "coherent", 1.0, storage_time=1e8, gamma_decay=1.0)


@pytest.mark.parametrize("storage_time", [2.0, 5.0, 10.0])
def test_a_weakly_excited_holder_discharges_at_the_rabi_time(storage_time):
    """After a long decay the stored cell holds e^{-γτ_s} of an excitation; without cavity
    loss it still empties at the one-excitation Rabi time π/(2g).  (With the time scale
    of the search set by the mean excitation, ~0.01, the samples stepped over the minimum
    and the search returned τ̄_d = 0.)"""
    c = qb.cycle(1, "fock", 0.0, storage_time=storage_time, gamma_decay=1.0)
    assert c.tau_d == pytest.approx(math.pi / 2, rel=1e-10)
    assert c.discharged_energy == pytest.approx(math.exp(-storage_time), rel=1e-8)


def test_a_weakly_charged_cell_swings_at_the_rabi_time():
    """A coherent charger with 0.05 photons on average leaves the qubit barely charged;
    without loss its discharge empties it at π/(2g), E_h(t) = E_h(0) cos²(gt)."""
    d = qb.discharge(1, "coherent", 0.0, mean_photons=0.05)
    assert d.tau == pytest.approx(math.pi / 2, rel=1e-10)
    assert d.E_end == pytest.approx(0.0, abs=1e-10)
