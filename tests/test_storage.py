"""Storage of the holder under local decay and dephasing, in the total-spin basis (SPEC §9).

The module under test (``qbhelpers.physics.permutational``) keeps a
permutation-invariant state of N qubits as blocks of total spin J.  It is
checked against things that know nothing of that representation:

* the full 2^N tensor-product master equation (N <= 4), built here with
  ``numpy.kron``, with the |J, M, α⟩ basis built here from the kernel of J₊;
* ``qutip.piqs`` (its double-precision ``Pim`` for diagonal states, its
  ``Dicke`` Liouvillian, which is single precision, for states with coherences);
* closed forms: one qubit; E(t) = E(0) e^{-γ_↓ t}; the binomial thinning of
  the excitation-number distribution under decay; ⟨J²⟩(t) from the two-qubit
  marginal (valid at every N); the first-order rate of the trapped energy; the
  fully dephased state; product states whose ergotropy is known.

Tolerances (and why):

* ``EXACT = 1e-10``: two exact propagators (a dense ``scipy.linalg.expm`` of the
  2^N Liouvillian; the module's Taylor propagator, backward error 2^-53) on
  entries of order 1, with ‖L‖t <= ~20: rounding leaves ~1e-14.  1e-10 is far
  below the 1e-8 the book promises and far above rounding.  A wrong
  coefficient moves results by O(γt) ~ 0.1.
* ``ROUND = 1e-12``: identities that involve only rounding (a trace, a
  generator applied to a vector, an eigenvalue pairing), on numbers of order
  1..N with N <= 128.  Scaled by N where quantities are extensive.
* piqs's ``Dicke`` computes its coefficients in C ``float`` (32-bit, unit
  roundoff 6e-8); that comparison is documented where it is made.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg as sl
from scipy.special import comb as real_comb

import qbhelpers
from qbhelpers.physics import permutational as pm
from qbhelpers.physics.permutational import PermutationInvariantState as PIState

EXACT = 1e-10
ROUND = 1e-12


# ----------------------------------------------------------------- 2^N reference
def qubit_operators(n_qubits: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """σ_i⁻ and σ_i^z on 2^N states; one qubit's basis is (ground, excited),
    so a basis index's binary digits are the excitations (H_h = popcount)."""
    lower = np.array([[0.0, 1.0], [0.0, 0.0]])          # |g⟩⟨e|
    sz = np.diag([-1.0, 1.0])

    def on_site(op: np.ndarray, site: int) -> np.ndarray:
        out = np.array([[1.0]])
        for q in range(n_qubits):
            out = np.kron(out, op if q == site else np.eye(2))
        return out

    return ([on_site(lower, i) for i in range(n_qubits)],
            [on_site(sz, i) for i in range(n_qubits)])


def full_liouvillian(n_qubits: int, gamma_decay: float, gamma_dephasing: float) -> np.ndarray:
    """SPEC §9 on 2^N states, column-stacking vec: vec(AXB) = (Bᵀ ⊗ A) vec X."""
    lowers, zs = qubit_operators(n_qubits)
    eye = np.eye(2 ** n_qubits)

    def dissipator(L: np.ndarray, rate: float) -> np.ndarray:
        LdL = L.conj().T @ L
        return rate * (np.kron(L.conj(), L) - 0.5 * np.kron(eye, LdL) - 0.5 * np.kron(LdL.T, eye))

    return sum(dissipator(lowers[i], gamma_decay) + dissipator(zs[i], gamma_dephasing / 2)
               for i in range(n_qubits))


def evolve_full(rho: np.ndarray, liouvillian: np.ndarray, time: float) -> np.ndarray:
    dim = rho.shape[0]
    vec = sl.expm(liouvillian * time) @ rho.reshape(-1, order="F")
    return vec.reshape(dim, dim, order="F")


def coupled_basis(n_qubits: int) -> dict[int, list[np.ndarray]]:
    """basis[j2][k]: (2^N, d_J) orthonormal columns |J, M = k − J, α⟩, α = 1..d_J.

    Highest weights: the states of energy N/2 + J annihilated by J₊ (an
    orthonormal basis of that kernel); the rest by lowering with J₋ and the
    Condon–Shortley factor √((J+M)(J−M+1))."""
    lowers, _ = qubit_operators(n_qubits)
    j_minus = sum(lowers)
    j_plus = j_minus.T
    energy = np.array([bin(x).count("1") for x in range(2 ** n_qubits)])
    basis = {}
    for j2 in range(n_qubits, -1, -2):
        top = np.flatnonzero(energy == (n_qubits + j2) // 2)
        kernel = sl.null_space(j_plus[:, top])
        highest = np.zeros((2 ** n_qubits, kernel.shape[1]))
        highest[top] = kernel
        ladder = [None] * (j2 + 1)
        ladder[j2] = highest
        J = j2 / 2
        for k in range(j2, 0, -1):
            M = k - J
            ladder[k - 1] = j_minus @ ladder[k] / math.sqrt((J + M) * (J - M + 1))
        basis[j2] = ladder
    return basis


def to_full(state: PIState, basis: dict[int, list[np.ndarray]]) -> np.ndarray:
    """ρ = Σ_J Σ_α Σ_{k,k'} (σ_J[k,k']/d_J) |J,k,α⟩⟨J,k',α| on 2^N states."""
    dim = 2 ** state.n_qubits
    rho = np.zeros((dim, dim), dtype=complex)
    for j2, block in state.blocks.items():
        ladder = basis[j2]
        copies = ladder[0].shape[1]
        for k, kp in itertools.product(range(j2 + 1), repeat=2):
            rho += block[k, kp] / copies * ladder[k] @ ladder[kp].T
    return rho


def full_energy(rho: np.ndarray) -> float:
    energy = np.array([bin(x).count("1") for x in range(rho.shape[0])], dtype=float)
    return float(np.real(np.diag(rho)) @ energy)


def full_trapped_energy(rho: np.ndarray, n_qubits: int) -> float:
    """⟨N/2 − Ĵ⟩ with Ĵ from the eigenvalues J(J+1) of J² on 2^N states."""
    lowers, zs = qubit_operators(n_qubits)
    jm = sum(lowers)
    jx, jy, jz = (jm + jm.T) / 2, (jm.T - jm) / 2j, sum(zs) / 2
    j_squared = jx @ jx + jy @ jy + jz @ jz
    values, vectors = np.linalg.eigh(j_squared)
    spin = (-1 + np.sqrt(1 + 4 * np.clip(values, 0, None))) / 2
    trapped = vectors @ np.diag(n_qubits / 2 - spin) @ vectors.conj().T
    return float(np.real(np.trace(rho @ trapped)))


def full_ergotropy(rho: np.ndarray) -> float:
    """Generic pairing on all 2^N eigenvalues (descending) and levels (ascending)."""
    energy = np.sort([bin(x).count("1") for x in range(rho.shape[0])]).astype(float)
    values = np.linalg.eigvalsh(rho)[::-1]
    return full_energy(rho) - float(values @ energy)


# ----------------------------------------------------------------- states
def random_symmetric(rng: np.random.Generator, n_qubits: int) -> np.ndarray:
    """A random full-rank Dicke-basis state with complex coherences."""
    A = rng.standard_normal((n_qubits + 1,) * 2) + 1j * rng.standard_normal((n_qubits + 1,) * 2)
    rho = A @ A.conj().T
    return rho / np.trace(rho).real


def random_block_state(rng: np.random.Generator, n_qubits: int) -> PIState:
    """Random weight in every J block, each block a random state with coherences."""
    weights = rng.uniform(0.2, 1.0, len(pm.j2_values(n_qubits)))
    weights /= weights.sum()
    blocks = {}
    for w, j2 in zip(weights, pm.j2_values(n_qubits)):
        blocks[j2] = w * random_symmetric(rng, j2) if j2 > 0 else np.array([[w]])
    return PIState.from_blocks(n_qubits, blocks)


def dicke_state(n_qubits: int, excitations: int) -> PIState:
    rho = np.zeros((n_qubits + 1, n_qubits + 1))
    rho[excitations, excitations] = 1.0
    return PIState.from_dicke(rho)


def product_state(n_qubits: int, excited: float) -> PIState:
    """⊗ diag(1−p, p): σ_J[k,k] = d_J p^e (1−p)^{N−e}, e = (N−j2)/2 + k (logs: d_J is huge)."""
    blocks = {}
    for j2 in pm.j2_values(n_qubits):
        e = (n_qubits - j2) // 2 + np.arange(j2 + 1)
        log_w = (math.log(pm.spin_degeneracy(n_qubits, j2)) + e * math.log(excited)
                 + (n_qubits - e) * math.log1p(-excited))
        blocks[j2] = np.diag(np.exp(log_w))
    return PIState.from_blocks(n_qubits, blocks)


def charged_state(n_qubits: int) -> np.ndarray:
    """A holder state reached by charging (coherent charger, κ = 0.5 g): real coherences."""
    return qbhelpers.charge(n_qubits, "coherent", 0.5, times=[0.0, 0.7]).holder_states[-1]


RATES = [(0.7, 0.0), (0.0, 0.4), (0.3, 0.5)]        # (γ_↓, γ_φ) in units of g


# ----------------------------------------------------------------- bookkeeping
def test_j2_values_and_degeneracies_count_every_state():
    for n in range(1, 301):
        j2s = pm.j2_values(n)
        assert j2s[0] == n and j2s[-1] == n % 2 and all(a - b == 2 for a, b in zip(j2s, j2s[1:]))
        # Σ_J (2J+1) d_J = 2^N, exactly (Python ints)
        assert sum((j2 + 1) * pm.spin_degeneracy(n, j2) for j2 in j2s) == 2 ** n
    for n in range(1, 61):
        for j2 in pm.j2_values(n):
            a, b = (n + j2) // 2 + 1, (n - j2) // 2     # N/2+J+1, N/2−J
            assert pm.spin_degeneracy(n, j2) == math.factorial(n) * (j2 + 1) // (
                math.factorial(a) * math.factorial(b))
    # N = 128: d_J is far beyond float factorials but exact here
    assert pm.spin_degeneracy(128, 0) == math.comb(128, 64) - math.comb(128, 63)
    assert pm.vector_length(7) == sum((j2 + 1) ** 2 for j2 in (7, 5, 3, 1))


def test_degeneracy_is_the_number_of_highest_weight_states():
    """d_J = dimension of the kernel of J₊ at M = J, counted on 2^N states."""
    for n in range(1, 7):
        basis = coupled_basis(n)
        for j2 in pm.j2_values(n):
            assert basis[j2][0].shape[1] == pm.spin_degeneracy(n, j2)
        # the coupled basis is orthonormal and complete
        V = np.hstack([c for j2 in basis for c in basis[j2]])
        assert V.shape == (2 ** n, 2 ** n)
        assert np.allclose(V.T @ V, np.eye(2 ** n), atol=ROUND)


# ----------------------------------------------------------------- the state
def test_dicke_state_lands_in_the_symmetric_block(rng):
    from conftest import dicke_isometry
    for n in (1, 2, 3, 4):
        rho_d = random_symmetric(rng, n)
        state = PIState.from_dicke(rho_d)
        assert state.symmetric_weight == pytest.approx(1.0, abs=ROUND)
        assert state.trapped_energy == pytest.approx(0.0, abs=ROUND)
        for j2 in pm.j2_values(n)[1:]:
            assert not np.any(state.blocks[j2])
        V = dicke_isometry(n)
        assert np.allclose(to_full(state, coupled_basis(n)), V @ rho_d @ V.T, atol=ROUND)
        assert state.energy == pytest.approx(float(np.real(np.diag(rho_d)) @ np.arange(n + 1)),
                                             abs=ROUND)


def test_observables_match_the_full_space(rng):
    for n in (1, 2, 3, 4):
        basis = coupled_basis(n)
        for state in (random_block_state(rng, n), PIState.from_dicke(random_symmetric(rng, n))):
            rho = to_full(state, basis)
            assert np.trace(rho).real == pytest.approx(1.0, abs=ROUND)
            assert np.linalg.eigvalsh(rho)[0] > -ROUND
            assert state.energy == pytest.approx(full_energy(rho), abs=ROUND)
            assert state.trapped_energy == pytest.approx(full_trapped_energy(rho, n), abs=ROUND)
            assert state.ergotropy == pytest.approx(full_ergotropy(rho), abs=ROUND)
            energy = np.array([bin(x).count("1") for x in range(2 ** n)])
            dist = [np.real(np.diag(rho))[energy == e].sum() for e in range(n + 1)]
            assert np.allclose(state.energy_distribution, dist, atol=ROUND)


def test_vector_round_trip_and_ladder_states(rng):
    state = random_block_state(rng, 7)
    again = PIState.from_vector(7, state.to_vector())
    for j2 in pm.j2_values(7):
        assert np.array_equal(again.blocks[j2], state.blocks[j2])
        ladder = state.ladder_state(j2)
        assert np.trace(ladder).real == pytest.approx(1.0, abs=ROUND)
        assert np.allclose(state.per_copy_block(j2) * pm.spin_degeneracy(7, j2),
                           state.blocks[j2], atol=ROUND)
    assert sum(state.block_weights.values()) == pytest.approx(1.0, abs=ROUND)
    with pytest.raises(ValueError, match="weight"):
        dicke_state(4, 2).ladder_state(2)


# ----------------------------------------------------------------- ergotropy
def test_ergotropy_runs_against_the_expanded_spectrum(rng):
    """N = 10 and 14 (2^N up to 16384 states): expand every eigenvalue d_J times
    and every level C(N, e) times, sort, pair; the run-based pairing must agree."""
    for n in (10, 14):
        for _ in range(3):
            state = random_block_state(rng, n)
            values = np.concatenate([
                np.repeat(np.linalg.eigvalsh(state.per_copy_block(j2)), pm.spin_degeneracy(n, j2))
                for j2 in pm.j2_values(n)])
            levels = np.repeat(np.arange(n + 1), [math.comb(n, e) for e in range(n + 1)])
            assert values.size == levels.size == 2 ** n
            expected = state.energy - float(np.sort(values)[::-1] @ levels)
            assert state.ergotropy == pytest.approx(expected, abs=ROUND * n)


def test_ergotropy_of_a_symmetric_state_is_holder_ergotropy(rng):
    """In J = N/2 the full-space ergotropy is E − (1 − r_max) (SPEC §4), which the
    package's holder_ergotropy computes from the Dicke matrix; the symmetric-subspace
    ergotropy can only be smaller."""
    for n in (1, 2, 3, 5, 8, 16, 64):
        for rho_d in (random_symmetric(rng, n), np.diag(rng.dirichlet(np.ones(n + 1)))):
            state = PIState.from_dicke(rho_d)
            assert state.ergotropy == pytest.approx(qbhelpers.holder_ergotropy(rho_d),
                                                    abs=ROUND * n)
            assert state.ergotropy >= qbhelpers.symmetric_ergotropy(rho_d) - ROUND * n


@pytest.mark.parametrize("n_qubits", [16, 128, 200])
def test_ergotropy_of_product_states_at_large_n(n_qubits):
    """⊗ diag(1−p, p): passive for p < 1/2 (ℰ = 0); for p > 1/2 the passive state is
    the product with p ↔ 1 − p, so ℰ = N(2p − 1).  Runs of up to C(200,100) ~ 9e58
    states; masses must not amplify rounding."""
    for p in (0.1, 0.3, 0.45):
        state = product_state(n_qubits, p)
        assert sum(state.block_weights.values()) == pytest.approx(1.0, abs=ROUND * n_qubits)
        assert state.energy == pytest.approx(n_qubits * p, rel=ROUND)
        assert state.ergotropy == pytest.approx(0.0, abs=ROUND * n_qubits)
    for p in (0.55, 0.8, 0.97):
        state = product_state(n_qubits, p)
        assert state.ergotropy == pytest.approx(n_qubits * (2 * p - 1), abs=ROUND * n_qubits)
    # the maximally mixed state (p = 1/2) has no ergotropy
    assert product_state(n_qubits, 0.5).ergotropy == pytest.approx(0.0, abs=ROUND * n_qubits)


# ----------------------------------------------------------------- the generator
def test_generator_preserves_trace_and_keeps_the_coherence_order():
    for n in (1, 2, 5, 8):
        A = pm.storage_generator(n, 0.7, 0.3)
        j2, k, kp = pm._entry_coordinates(n)
        diagonal = (k == kp).astype(float)
        assert np.max(np.abs(diagonal @ A)) < ROUND * n      # d(Tr σ)/dt = 0 for any σ
        rows, cols = A.nonzero()
        assert np.array_equal((k - kp)[rows], (k - kp)[cols])   # q = M − M' conserved
        assert np.all(A.diagonal() <= 0)


def test_fully_dephased_states_are_stationary():
    """Under dephasing every bitstring's population is conserved and coherences die, so
    any P(e) spread uniformly over the C(N, e) bitstrings of each energy is stationary:
    σ_J[k,k] = P(e) d_J / C(N, e).  The generator has no d_J in it: a sharp check."""
    rng = np.random.default_rng(3)
    for n in (2, 7, 16, 40):
        dist = rng.dirichlet(np.ones(n + 1))
        blocks = {j2: np.diag([dist[(n - j2) // 2 + k] * pm.spin_degeneracy(n, j2)
                               / math.comb(n, (n - j2) // 2 + k) for k in range(j2 + 1)])
                  for j2 in pm.j2_values(n)}
        state = PIState.from_blocks(n, blocks)
        A = pm.storage_generator(n, 0.0, 1.0)
        assert np.max(np.abs(A @ state.to_vector())) < ROUND
        assert np.allclose(state.energy_distribution, dist, atol=ROUND)


# ----------------------------------------------------------------- against 2^N
@pytest.mark.parametrize("n_qubits", [1, 2, 3, 4])
@pytest.mark.parametrize("rates", RATES)
def test_storage_agrees_with_the_full_tensor_product_basis(n_qubits, rates, rng):
    gamma_decay, gamma_dephasing = rates
    basis = coupled_basis(n_qubits)
    L = full_liouvillian(n_qubits, gamma_decay, gamma_dephasing)
    dicke = np.zeros((n_qubits + 1,) * 2)
    dicke[n_qubits // 2 + 1, n_qubits // 2 + 1] = 1.0
    starts = {"dicke": PIState.from_dicke(dicke),
              "random symmetric": PIState.from_dicke(random_symmetric(rng, n_qubits)),
              "charged": PIState.from_dicke(charged_state(n_qubits)),
              "all J blocks": random_block_state(rng, n_qubits)}
    times = [0.0, 0.4, 1.5, 3.0]
    for name, start in starts.items():
        rho0 = to_full(start, basis)
        states = pm.storage_states(start, times, gamma_decay=gamma_decay,
                                   gamma_dephasing=gamma_dephasing)
        for t, state in zip(times, states):
            rho = evolve_full(rho0, L, t)
            assert np.max(np.abs(to_full(state, basis) - rho)) < EXACT, (name, t)
            assert state.energy == pytest.approx(full_energy(rho), abs=EXACT)
            assert state.trapped_energy == pytest.approx(full_trapped_energy(rho, n_qubits),
                                                         abs=EXACT)
            assert state.ergotropy == pytest.approx(full_ergotropy(rho), abs=EXACT)


# ----------------------------------------------------------------- against qutip.piqs
def test_piqs_conventions_on_one_qubit():
    """piqs writes (γ_E/2) L[σ⁻] + (γ_D/2) L[σ_z/2] with L[A] = 2A·A† − {A†A, ·}:
    emission γ_E = γ_↓ and dephasing γ_D = 2γ_φ (SPEC §9).  Checked on the closed
    forms: excited population e^{-γ_E t}, coherence e^{-(γ_E + γ_D)t/2}.  Rates
    0.5 and 0.25 are exact in single precision (see the next test)."""
    piqs = pytest.importorskip("qutip.piqs.piqs")
    import qutip
    gamma_e, gamma_d, t = 0.5, 0.25, 1.3
    L = piqs.Dicke(1, emission=gamma_e, dephasing=gamma_d).liouvillian()
    rho0 = qutip.Qobj(np.array([[0.6, 0.3 - 0.2j], [0.3 + 0.2j, 0.4]]))  # piqs: excited first
    rho = qutip.vector_to_operator((L * t).expm() * qutip.operator_to_vector(rho0)).full()
    assert rho[0, 0].real == pytest.approx(0.6 * math.exp(-gamma_e * t), abs=ROUND)
    assert rho[0, 1] == pytest.approx((0.3 - 0.2j) * math.exp(-(gamma_e + gamma_d) / 2 * t),
                                      abs=ROUND)


def _piqs_matrix(state: PIState) -> np.ndarray:
    """piqs's Dicke-basis matrix: blocks J descending, inside a block m descending."""
    return sl.block_diag(*[state.blocks[j2][::-1, ::-1] for j2 in pm.j2_values(state.n_qubits)])


@pytest.mark.parametrize("n_qubits", [2, 5, 8])
def test_diagonal_states_agree_with_piqs_pim(n_qubits):
    """piqs.Pim evolves diagonal states (populations of every (J, M)) with
    coefficients computed in double precision; its matrix is exponentiated here."""
    piqs = pytest.importorskip("qutip.piqs.piqs")
    gamma_decay, gamma_dephasing, t = 0.7, 0.3, 1.1
    pim = piqs.Pim(n_qubits, emission=gamma_decay, dephasing=2 * gamma_dephasing)
    M = pim.coefficient_matrix().toarray()
    where = {}
    for row, col in itertools.product(range(n_qubits + 1), range(n_qubits // 2 + 1)):
        if pim.isdicke(row, col):
            j, m = pim.calculate_j_m(row, col)
            where[pim.calculate_k(row, col)] = (round(2 * j), round(j + m))   # (j2, k)
    size = len(where)
    M = M[:size, :size]
    start = random_block_state(np.random.default_rng(5), n_qubits)
    start = PIState.from_blocks(n_qubits, {j2: np.diag(np.diag(b).real)
                                           for j2, b in start.blocks.items()})
    p0 = np.array([start.blocks[j2][k, k].real for j2, k in (where[i] for i in range(size))])
    expected = sl.expm(M * t) @ p0
    state = pm.store(start, t, gamma_decay=gamma_decay, gamma_dephasing=gamma_dephasing)
    got = np.array([state.blocks[j2][k, k].real for j2, k in (where[i] for i in range(size))])
    assert np.max(np.abs(got - expected)) < EXACT


@pytest.mark.parametrize("n_qubits", [3, 6, 8])
def test_coherent_states_agree_with_piqs_dicke(n_qubits, rng):
    """piqs.Dicke builds its Liouvillian from C ``float`` (32-bit) coefficients
    (measured: a coefficient 0.9 comes out as 0.89999998).  So (1) the sparsity must
    be the same and every entry must be ours rounded to single precision:
    |Δ| <= 8 ulp₃₂ = 8·2^-24·|entry| (a coefficient goes through a few roundings);
    (2) evolved states can then differ by up to ‖ΔA‖₁·t ≈ 5e-7·(2γ_↓+γ_φ)N·t ~ 1e-5
    in the worst case; the roundings have random signs and the measured difference
    is 5e-9 at N = 8.  Checked at 1e-6: a bound from single precision, not the
    1e-8 of the book (the 2^N test above is the exact one)."""
    piqs = pytest.importorskip("qutip.piqs.piqs")
    import qutip
    gamma_decay, gamma_dephasing, t = 0.7, 0.3, 0.9
    ours = pm.storage_generator(n_qubits, gamma_decay, gamma_dephasing).toarray()
    theirs = piqs.Dicke(n_qubits, emission=gamma_decay,
                        dephasing=2 * gamma_dephasing).liouvillian()
    # where each of our entries (J, k, k') sits in piqs's column-stacked vector:
    # row J − M = j2 − k, column j2 − k', inside the block of J (blocks J descending)
    nds = sum(j2 + 1 for j2 in pm.j2_values(n_qubits))
    where, start = [], 0
    for j2 in pm.j2_values(n_qubits):
        k, kp = np.divmod(np.arange((j2 + 1) ** 2), j2 + 1)
        where.append((start + j2 - kp) * nds + start + j2 - k)
        start += j2 + 1
    where = np.concatenate(where)
    full = theirs.full()
    assert np.count_nonzero(full) == np.count_nonzero(full[np.ix_(where, where)])
    theirs_here = full[np.ix_(where, where)]
    assert np.max(np.abs(theirs_here.imag)) == 0.0
    assert np.array_equal(theirs_here != 0, ours != 0)
    assert np.all(np.abs(theirs_here.real - ours) <= 8 * 2.0 ** -24 * np.abs(ours))
    # evolution of a state with complex coherences in every block
    start_state = random_block_state(rng, n_qubits)
    rho = qutip.vector_to_operator((theirs * t).expm() * qutip.operator_to_vector(
        qutip.Qobj(_piqs_matrix(start_state)))).full()
    state = pm.store(start_state, t, gamma_decay=gamma_decay, gamma_dephasing=gamma_dephasing)
    assert np.max(np.abs(_piqs_matrix(state) - rho)) < 1e-6


# ----------------------------------------------------------------- SPEC §9 closed forms
@pytest.mark.parametrize("n_qubits", [1, 2, 5, 16, 64])
def test_dephasing_alone_conserves_the_energy_distribution(n_qubits, rng):
    """γ_φ alone never changes a qubit's population: E and all of P(e) are conserved."""
    start = PIState.from_dicke(random_symmetric(rng, n_qubits))
    for state in pm.storage_states(start, [0.1, 1.0, 5.0], gamma_dephasing=0.8):
        assert state.energy == pytest.approx(start.energy, abs=ROUND * n_qubits)
        assert np.allclose(state.energy_distribution, start.energy_distribution,
                           atol=ROUND * n_qubits)


@pytest.mark.parametrize("n_qubits", [1, 2, 5, 16, 64])
def test_decay_thins_the_excitations_binomially(n_qubits, rng):
    """γ_↓ alone: each excited qubit survives with probability a = e^{-γ_↓ t}, on its
    own, so E(t) = E(0) a and P_t(e) = Σ_{e0} P_0(e0) C(e0, e) a^e (1−a)^{e0−e};
    adding dephasing changes neither."""
    start = PIState.from_dicke(random_symmetric(rng, n_qubits))
    p0 = start.energy_distribution
    for gamma_dephasing in (0.0, 0.6):
        times = [0.05, 0.5, 2.0]
        states = pm.storage_states(start, times, gamma_decay=0.9, gamma_dephasing=gamma_dephasing)
        for t, state in zip(times, states):
            a = math.exp(-0.9 * t)
            assert state.energy == pytest.approx(start.energy * a, abs=ROUND * n_qubits)
            e = np.arange(n_qubits + 1)
            thinning = real_comb(e[None, :], e[:, None]) * a ** e[:, None] \
                * (1 - a) ** np.clip(e[None, :] - e[:, None], 0, None)
            assert np.allclose(state.energy_distribution, thinning @ p0, atol=ROUND * n_qubits)


def test_zero_time_or_zero_rates_return_the_state_unchanged(rng):
    start = random_block_state(rng, 6)
    for state in (pm.store(start, 0.0, gamma_decay=1.0, gamma_dephasing=1.0),
                  pm.store(start, 3.0),
                  pm.storage_states(start, [0.0, 0.0, 2.0])[2]):
        assert state is start
    first = pm.storage_states(start, [0.0, 1.0], gamma_decay=0.5)[0]
    assert all(np.array_equal(first.blocks[j2], start.blocks[j2]) for j2 in start.blocks)


def test_one_qubit_closed_forms():
    """One qubit: p_e(t) = p_e e^{-γ_↓ t}; ρ_eg(t) = ρ_eg e^{-(γ_↓/2 + γ_φ) t}; no dark state."""
    rho = np.array([[0.35, 0.2 + 0.3j], [0.2 - 0.3j, 0.65]])     # Dicke basis: k = 0 (g), 1 (e)
    for gamma_decay, gamma_dephasing in RATES + [(1.0, 1.0)]:
        for t in (0.2, 1.0, 4.0):
            state = pm.store(rho, t, gamma_decay=gamma_decay, gamma_dephasing=gamma_dephasing)
            out = state.blocks[1]
            assert out[1, 1].real == pytest.approx(0.65 * math.exp(-gamma_decay * t), abs=ROUND)
            assert out[1, 0] == pytest.approx(
                (0.2 - 0.3j) * math.exp(-(gamma_decay / 2 + gamma_dephasing) * t), abs=ROUND)
            assert state.trapped_energy == 0.0
            r_max = np.linalg.eigvalsh(out)[-1]
            assert state.ergotropy == pytest.approx(max(0.0, out[1, 1].real - (1 - r_max)),
                                                    abs=ROUND)


def test_no_trapped_energy_while_the_state_stays_symmetric():
    """All qubits excited (a product state) stays a product under dephasing: J = N/2,
    E_trap = 0 at all times; so does the ground state under both processes."""
    for n in (2, 9, 32):
        full = dicke_state(n, n)
        for state in pm.storage_states(full, [0.3, 3.0], gamma_dephasing=1.0):
            assert state.symmetric_weight == pytest.approx(1.0, abs=ROUND)
            assert state.trapped_energy == pytest.approx(0.0, abs=ROUND * n)
        for state in pm.storage_states(dicke_state(n, 0), [0.3, 3.0], gamma_decay=1.0,
                                       gamma_dephasing=1.0):
            assert state.trapped_energy == pytest.approx(0.0, abs=ROUND * n)


@pytest.mark.parametrize("n_qubits", [3, 64])
def test_decay_of_the_fully_charged_holder_is_a_product_state(n_qubits):
    """|1…1⟩ under local processes stays the product ⊗ diag(1 − a, a), a = e^{-γ_↓ t}
    (dephasing does nothing to it): E = N a, ℰ = max(0, N(2a − 1)) (passive once
    a <= 1/2), and the whole state is the product state's."""
    times = [0.1, 0.5, math.log(2), 1.0]
    for t, state in zip(times, pm.storage_states(dicke_state(n_qubits, n_qubits), times,
                                                 gamma_decay=1.0, gamma_dephasing=0.3)):
        a = math.exp(-t)
        assert state.energy == pytest.approx(n_qubits * a, abs=ROUND * n_qubits)
        assert state.ergotropy == pytest.approx(max(0.0, n_qubits * (2 * a - 1)),
                                                abs=ROUND * n_qubits)
        product = product_state(n_qubits, a)
        for j2 in pm.j2_values(n_qubits):
            assert np.allclose(state.blocks[j2], product.blocks[j2], atol=ROUND)


def _spin_casimir(state: PIState) -> float:
    return sum(p * (j2 / 2) * (j2 / 2 + 1) for j2, p in state.block_weights.items())


def _ladder_moments(state: PIState) -> tuple[float, float, float]:
    """(E, ⟨E²⟩, ⟨J₊J₋⟩) from the block populations."""
    n = state.n_qubits
    e1 = e2 = raising = 0.0
    for j2, block in state.blocks.items():
        J = j2 / 2
        k = np.arange(j2 + 1)
        M = k - J
        pop = np.diag(block).real
        e = (n - j2) / 2 + k
        e1 += pop @ e
        e2 += pop @ e ** 2
        raising += pop @ ((J + M) * (J - M + 1))
    return e1, e2, raising


@pytest.mark.parametrize("n_qubits", [3, 8, 32, 64])
def test_total_spin_follows_the_two_qubit_closed_form(n_qubits, rng):
    """⟨J²⟩ = ⟨C⟩ + ⟨E²⟩ − N⟨E⟩ + N/2 (N/2 + 1), with C = Σ_{i≠j} σ_i⁺σ_j⁻.  Local
    channels act on each factor: σ⁺ → e^{-(γ_↓/2+γ_φ)t} σ⁺, n_i → e^{-γ_↓ t} n_i, so
    ⟨C⟩ → c⟨C⟩ with c = e^{-(γ_↓+2γ_φ)t} and ⟨E²⟩ → a⟨E⟩ + a²(⟨E²⟩ − ⟨E⟩), a = e^{-γ_↓ t}.
    Valid at every N, and it does not know about J blocks."""
    start = PIState.from_dicke(random_symmetric(rng, n_qubits))
    e1, e2, raising = _ladder_moments(start)
    c0 = raising - e1
    half = n_qubits / 2
    times = [0.1, 0.7, 2.0]
    for gamma_decay, gamma_dephasing in RATES:
        states = pm.storage_states(start, times, gamma_decay=gamma_decay,
                                   gamma_dephasing=gamma_dephasing)
        for t, state in zip(times, states):
            a = math.exp(-gamma_decay * t)
            c = math.exp(-(gamma_decay + 2 * gamma_dephasing) * t)
            expected = (c * c0 + a * e1 + a * a * (e2 - e1) - 2 * half * a * e1
                        + half * (half + 1))
            assert _spin_casimir(state) == pytest.approx(expected, abs=ROUND * n_qubits ** 2)


def trapped_energy_rate(dist: np.ndarray, gamma_decay: float, gamma_dephasing: float) -> float:
    """dE_trap/dt at t = 0 for a state in J = N/2 with excitation distribution P(k):
    (1/N) [γ_↓ (⟨k²⟩ − ⟨k⟩) + 2γ_φ (N⟨k⟩ − ⟨k²⟩)].  From the J → J−1 coefficients at
    J = N/2, where (N/2 + J + 1)/(J(2J+1)) = 2/N: decay (J+M)(J+M−1) = k(k−1),
    dephasing 2·(J² − M²) = 2k(N−k); each unit of weight moved lowers J by one."""
    n = dist.size - 1
    k = np.arange(n + 1)
    mean, square = dist @ k, dist @ k ** 2
    return (gamma_decay * (square - mean) + 2 * gamma_dephasing * (n * mean - square)) / n


def test_first_order_trapped_energy_rate(rng):
    """The closed form against the generator (any N) and against the 2^N master equation."""
    for n in (1, 2, 4, 17, 64):
        for rho_d in (random_symmetric(rng, n), np.diag(np.eye(n + 1)[n // 3])):
            start = PIState.from_dicke(rho_d)
            trap = np.concatenate([np.full((j2 + 1) ** 2, (n - j2) / 2)
                                   * np.eye(j2 + 1).ravel() for j2 in pm.j2_values(n)])
            for gamma_decay, gamma_dephasing in RATES:
                rate = trap @ (pm.storage_generator(n, gamma_decay, gamma_dephasing)
                               @ start.to_vector()).real
                expected = trapped_energy_rate(np.diag(rho_d).real, gamma_decay,
                                               gamma_dephasing)
                assert rate == pytest.approx(expected, abs=ROUND * n)
                if n <= 4:
                    basis = coupled_basis(n)
                    L = full_liouvillian(n, gamma_decay, gamma_dephasing)
                    rho0 = to_full(start, basis)
                    drho = (L @ rho0.reshape(-1, order="F")).reshape(rho0.shape, order="F")
                    assert full_trapped_energy(drho, n) == pytest.approx(expected, abs=ROUND)


def test_two_qubit_singlet_fraction_under_dephasing():
    """N = 2 from |J=1, M=0⟩: the |01⟩⟨10| coherence decays at 2γ_φ, so the singlet
    weight (and E_trap, one quantum per singlet) is (1 − e^{-2γ_φ t})/2 exactly."""
    for t in (0.05, 0.5, 3.0):
        state = pm.store(dicke_state(2, 1), t, gamma_dephasing=0.7)
        assert state.trapped_energy == pytest.approx((1 - math.exp(-1.4 * t)) / 2, abs=ROUND)


def test_long_dephasing_spreads_a_dicke_state_over_its_energy_shell():
    """γ_φ t → ∞: |N/2, k⟩ becomes the uniform mixture of the C(N, k) bitstrings with k
    ones, so p_J = d_J / C(N, k) for J >= |k − N/2| and E_trap = Σ_J (N/2 − J) d_J / C(N, k).
    The slowest rate of the dephasing generator is γ_φ (measured), so γ_φ t = 35
    leaves e^{-35} ~ 6e-16."""
    for n, k in ((4, 2), (9, 3), (16, 8)):
        state = pm.store(dicke_state(n, k), 35.0, gamma_dephasing=1.0)
        shell = [j2 for j2 in pm.j2_values(n) if j2 >= abs(2 * k - n)]
        weights = {j2: pm.spin_degeneracy(n, j2) / math.comb(n, k) for j2 in shell}
        for j2, p in state.block_weights.items():
            assert p == pytest.approx(weights.get(j2, 0.0), abs=EXACT)
        expected = sum((n - j2) / 2 * w for j2, w in weights.items())
        assert state.trapped_energy == pytest.approx(expected, abs=EXACT)


def test_long_decay_empties_the_holder():
    state = pm.store(random_block_state(np.random.default_rng(9), 12), 40.0, gamma_decay=1.0,
                     gamma_dephasing=0.2)
    assert state.energy == pytest.approx(0.0, abs=EXACT)
    assert state.symmetric_weight == pytest.approx(1.0, abs=EXACT)
    assert state.blocks[12][0, 0].real == pytest.approx(1.0, abs=EXACT)


def test_trace_and_positivity_are_kept(rng):
    for n in (5, 16):
        start = random_block_state(rng, n)
        for state in pm.storage_states(start, [0.01, 0.3, 2.0, 10.0], gamma_decay=0.4,
                                       gamma_dephasing=0.9):
            assert sum(state.block_weights.values()) == pytest.approx(1.0, abs=ROUND * n)
            for block in state.blocks.values():
                assert np.linalg.eigvalsh(block)[0] > -ROUND
                assert np.array_equal(block, block.conj().T)


def test_trajectory_collects_the_stored_figures(rng):
    start = PIState.from_dicke(random_symmetric(rng, 6))
    times = np.linspace(0.0, 2.0, 5)
    traj = pm.storage_trajectory(start, times, gamma_decay=0.2, gamma_dephasing=0.5)
    states = pm.storage_states(start, times, gamma_decay=0.2, gamma_dephasing=0.5)
    assert traj.j2 == pm.j2_values(6)
    assert traj.block_weights.shape == (5, 4)
    for i, state in enumerate(states):
        assert traj.energy[i] == state.energy
        assert traj.ergotropy[i] == state.ergotropy
        assert traj.trapped_energy[i] == state.trapped_energy
        assert traj.symmetric_weight[i] == traj.block_weights[i, 0]
    assert np.allclose(traj.block_weights.sum(axis=1), 1.0, atol=ROUND)
    assert traj.energy[-1] == pytest.approx(start.energy * math.exp(-0.4), abs=ROUND)


# ----------------------------------------------------------------- bad input
GOOD = np.diag([0.5, 0.5, 0.0])

BAD_INPUT = {
    "gamma_decay=-1": (lambda: pm.store(GOOD, 1.0, gamma_decay=-1.0), ValueError, "gamma_decay"),
    "gamma_decay=nan": (lambda: pm.store(GOOD, 1.0, gamma_decay=math.nan), ValueError,
                        "gamma_decay"),
    "gamma_decay=inf": (lambda: pm.store(GOOD, 1.0, gamma_decay=math.inf), ValueError,
                        "gamma_decay"),
    "gamma_decay='1'": (lambda: pm.store(GOOD, 1.0, gamma_decay="1"), TypeError, "gamma_decay"),
    "gamma_dephasing=-1": (lambda: pm.store(GOOD, 1.0, gamma_dephasing=-0.1), ValueError,
                           "gamma_dephasing"),
    "gamma_dephasing=nan": (lambda: pm.storage_states(GOOD, [1.0], gamma_dephasing=math.nan),
                            ValueError, "gamma_dephasing"),
    "storage_time=-1": (lambda: pm.store(GOOD, -1.0, gamma_decay=1.0), ValueError,
                        "storage_time"),
    "storage_time=nan": (lambda: pm.store(GOOD, math.nan, gamma_decay=1.0), ValueError,
                         "storage_time"),
    "storage_time=None": (lambda: pm.store(GOOD, None, gamma_decay=1.0), TypeError,
                          "storage_time"),
    "times negative": (lambda: pm.storage_states(GOOD, [0.0, -1.0], gamma_decay=1.0),
                       ValueError, "times"),
    "times decreasing": (lambda: pm.storage_states(GOOD, [2.0, 1.0], gamma_decay=1.0),
                         ValueError, "times"),
    "times empty": (lambda: pm.storage_states(GOOD, [], gamma_decay=1.0), ValueError, "times"),
    "times 2-D": (lambda: pm.storage_states(GOOD, [[1.0]], gamma_decay=1.0), ValueError,
                  "times"),
    "times nan": (lambda: pm.storage_trajectory(GOOD, [0.0, math.nan], gamma_decay=1.0),
                  ValueError, "times"),
    "n_qubits=0": (lambda: pm.storage_generator(0, 1.0), ValueError, "n_qubits"),
    "n_qubits=2.5": (lambda: pm.j2_values(2.5), TypeError, "n_qubits"),
    "n_qubits=True": (lambda: pm.spin_degeneracy(True, 1), TypeError, "n_qubits"),
    "n_qubits='3'": (lambda: PIState("3", {}), TypeError, "n_qubits"),
    "j2 parity": (lambda: pm.spin_degeneracy(4, 1), ValueError, "j2"),
    "state not square": (lambda: pm.store(np.ones((2, 3)) / 2, 1.0, gamma_decay=1.0),
                         ValueError, "rho_dicke"),
    "state not Hermitian": (lambda: pm.store(np.array([[0.5, 0.1], [0.3, 0.5]]), 1.0,
                                             gamma_decay=1.0), ValueError, "Hermitian"),
    "state trace 0.9": (lambda: pm.store(np.diag([0.4, 0.5]), 1.0, gamma_decay=1.0),
                        ValueError, "normalised"),
    "state not positive": (lambda: pm.store(np.diag([1.2, -0.2]), 1.0, gamma_decay=1.0),
                           ValueError, "positive"),
    "state NaN": (lambda: PIState.from_dicke(np.diag([math.nan, 1.0])), ValueError, "NaN"),
    "state list": (lambda: pm.store([[1.0, 0.0], [0.0, 0.0]], 1.0, gamma_decay=1.0), TypeError,
                   "state"),
    "block key": (lambda: PIState.from_blocks(3, {3: np.eye(4) / 4, 2: np.eye(3)}), ValueError,
                  "j2"),
    "block shape": (lambda: PIState.from_blocks(3, {3: np.eye(3) / 3}), ValueError,
                    r"blocks\[3\]"),
    "vector length": (lambda: PIState.from_vector(3, np.zeros(5)), ValueError, "vector"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_before_any_computation(case, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the generator was built before the input was checked")

    monkeypatch.setattr(pm, "_generator_triplets", forbidden)
    call, error, pattern = BAD_INPUT[case]
    with pytest.raises(error, match=pattern):
        call()


# ----------------------------------------------------------------- scale
@pytest.mark.slow
def test_large_batteries_run_and_obey_the_closed_forms():
    """N = 64 and 128 with coherences in every order (the costly case; timings are in
    benchmarks/bench_storage.py): energy decay and the ⟨J²⟩ closed form still hold."""
    rng = np.random.default_rng(11)
    for n in (64, 128):
        psi = rng.standard_normal(n + 1) + 1j * rng.standard_normal(n + 1)
        psi /= np.linalg.norm(psi)
        start = PIState.from_dicke(np.outer(psi, psi.conj()))
        e1, e2, raising = _ladder_moments(start)
        state = pm.store(start, 1.0, gamma_decay=0.5, gamma_dephasing=0.25)
        a, c, half = math.exp(-0.5), math.exp(-1.0), n / 2
        assert state.energy == pytest.approx(start.energy * a, abs=ROUND * n)
        expected = c * (raising - e1) + a * e1 + a * a * (e2 - e1) - 2 * half * a * e1 \
            + half * (half + 1)
        assert _spin_casimir(state) == pytest.approx(expected, abs=ROUND * n ** 2)
        assert 0.0 <= state.ergotropy <= state.energy
