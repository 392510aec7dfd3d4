"""Ergotropy functions (issue "physics core", item 5).

``ergotropy(rho, H)`` = Tr(ρH) − Σ r_k↓ ε_k↑ (Allahverdyan–Balian–Nieuwenhuizen)
and its specialisations ``holder_ergotropy`` (N qubits in the Dicke subspace,
unitaries on all 2^N states), ``symmetric_ergotropy`` (Dicke ladder only),
``charger_ergotropy`` (H_c = a†a) and ``passive_energy``.

Tolerances: LINALG_TOL = 1e-12 for identities of exact linear algebra on
matrices of dimension ≤ 16 (rounding is ~1e-15); 1e-6 against a numerical
optimisation over unitaries (BFGS converges the *value* to ~1e-10 at a
non-degenerate optimum; 1e-6 allows for slow convergence along flat
directions of degenerate spectra, and is still far below any real error).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import qutip as qt
from scipy.special import gammaln

import qbhelpers as qb
from conftest import (LINALG_TOL, brute_force_ergotropy, dicke_isometry,
                      qubit_number_hamiltonian, random_density_matrix, random_hermitian,
                      random_unitary)


def _diag(values) -> np.ndarray:
    return np.diag(np.asarray(values, dtype=float))


# ------------------------------------------------------------- passive states
@pytest.mark.parametrize("levels", [
    [0, 1],
    [0, 1, 2, 3],
    [0, 1, 1, 2],            # two qubits: degenerate middle level
    [0, 1, 1, 1, 2, 2, 2, 3],  # three qubits
    [-1.5, 0.2, 0.2, 4.0, 7.5],
])
def test_zero_on_passive_diagonal_states(rng, levels):
    H = _diag(levels)
    for _ in range(20):
        # populations non-increasing in energy (ties in energy: any order)
        p = np.sort(rng.dirichlet(np.ones(len(levels))))[::-1]
        rho = np.diag(p)
        assert qb.ergotropy(rho, H) == pytest.approx(0.0, abs=LINALG_TOL)
        assert qb.passive_energy(rho, H) == pytest.approx(float(p @ np.asarray(levels)),
                                                          abs=LINALG_TOL)


@pytest.mark.parametrize("dim", [2, 3, 5, 8])
def test_zero_on_thermal_states_of_any_hamiltonian(rng, dim):
    H = random_hermitian(rng, dim)  # not diagonal: the energy basis is rotated
    e, V = np.linalg.eigh(H)
    for beta in (0.0, 0.3, 1.0, 5.0):
        w = np.exp(-beta * (e - e.min()))
        rho = (V * (w / w.sum())) @ V.conj().T
        assert qb.ergotropy(rho, H) == pytest.approx(0.0, abs=LINALG_TOL)


def test_thermal_states_of_the_charger_and_the_ladder_are_passive():
    n = np.arange(40)
    for mean in (0.1, 1.0, 3.0):
        p = (mean / (mean + 1)) ** n / (mean + 1)
        assert qb.charger_ergotropy(np.diag(p)) == pytest.approx(0.0, abs=LINALG_TOL)
        assert qb.symmetric_ergotropy(np.diag(p[:5] / p[:5].sum())) == pytest.approx(
            0.0, abs=LINALG_TOL)


@pytest.mark.parametrize("n_qubits", [2, 3, 4])
def test_dicke_thermal_state_is_not_passive_for_all_qubit_unitaries(rng, n_qubits):
    """A Gibbs-like ladder state diag(r_0 > r_1 > … > r_N) in the Dicke basis is
    passive for symmetric unitaries, but in the 2^N space the level ε = 1 is
    N-fold degenerate: the passive state puts r_1 … r_N all at ε = 1, so
    ℰ = Σ_k k r_k − (1 − r_0) > 0."""
    k = np.arange(n_qubits + 1)
    r = np.exp(-0.7 * k)
    r /= r.sum()
    rho = np.diag(r)
    expected = float(k @ r) - (1 - r[0])
    assert expected > 0.05
    assert qb.holder_ergotropy(rho) == pytest.approx(expected, abs=LINALG_TOL)
    assert qb.symmetric_ergotropy(rho) == pytest.approx(0.0, abs=LINALG_TOL)


# ------------------------------------------------------------- pure states
@pytest.mark.parametrize("dim", [2, 3, 4, 7])
def test_pure_state_ergotropy_is_energy_above_ground(rng, dim):
    H = random_hermitian(rng, dim)
    e0 = np.linalg.eigvalsh(H)[0]
    for _ in range(10):
        psi = rng.standard_normal(dim) + 1j * rng.standard_normal(dim)
        psi /= np.linalg.norm(psi)
        rho = np.outer(psi, psi.conj())
        expected = float(np.real(psi.conj() @ H @ psi)) - e0
        assert qb.ergotropy(rho, H) == pytest.approx(expected, abs=LINALG_TOL)


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 4])
def test_pure_holder_state_all_energy_is_ergotropy(rng, n_qubits):
    psi = rng.standard_normal(n_qubits + 1) + 1j * rng.standard_normal(n_qubits + 1)
    psi /= np.linalg.norm(psi)
    rho = np.outer(psi, psi.conj())
    energy = float(np.abs(psi) ** 2 @ np.arange(n_qubits + 1))
    assert qb.holder_ergotropy(rho) == pytest.approx(energy, abs=LINALG_TOL)
    assert qb.symmetric_ergotropy(rho) == pytest.approx(energy, abs=LINALG_TOL)


def test_charger_ergotropy_of_fock_and_coherent_states():
    for n in range(6):
        rho = np.zeros((8, 8))
        rho[n, n] = 1.0
        assert qb.charger_ergotropy(rho) == pytest.approx(n, abs=LINALG_TOL)
    # coherent |α⟩, |α|² = 2.5, truncated far out: pure, so ℰ_c = ⟨a†a⟩ = 2.5
    n = np.arange(60)
    c = np.exp(0.5 * (-2.5 + n * math.log(2.5) - gammaln(n + 1)))
    assert qb.charger_ergotropy(np.outer(c, c)) == pytest.approx(2.5, abs=1e-10)


# ------------------------------------------------------------- invariance
def _energy_preserving_unitary(rng, levels):
    """Block-diagonal on each degenerate level (random unitary there), which
    includes arbitrary phases on non-degenerate levels."""
    levels = np.asarray(levels, dtype=float)
    U = np.zeros((levels.size, levels.size), dtype=complex)
    for e in np.unique(levels):
        idx = np.nonzero(levels == e)[0]
        U[np.ix_(idx, idx)] = random_unitary(rng, idx.size)
    return U


@pytest.mark.parametrize("levels", [[0, 1, 1, 2], [0, 1, 1, 1, 2, 2, 2, 3], [0, 1, 2, 3, 4]])
def test_invariant_under_energy_preserving_unitaries(rng, levels):
    D = _diag(levels)
    W = random_unitary(rng, len(levels))  # also in a rotated energy basis
    for H, basis in ((D, np.eye(len(levels))), (W @ D @ W.conj().T, W)):
        for rank in (1, 2, len(levels)):
            rho = random_density_matrix(rng, len(levels), rank)
            U = basis @ _energy_preserving_unitary(rng, levels) @ basis.conj().T
            assert np.allclose(U @ H, H @ U, atol=LINALG_TOL)  # it really commutes
            before = qb.ergotropy(rho, H)
            after = qb.ergotropy(U @ rho @ U.conj().T, H)
            assert after == pytest.approx(before, abs=LINALG_TOL)


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 4])
def test_holder_ergotropies_invariant_under_dicke_phases(rng, n_qubits):
    """On the non-degenerate Dicke ladder the energy-preserving unitaries are phases."""
    rho = random_density_matrix(rng, n_qubits + 1)
    U = np.diag(np.exp(1j * rng.uniform(0, 2 * np.pi, n_qubits + 1)))
    rotated = U @ rho @ U.conj().T
    assert qb.holder_ergotropy(rotated) == pytest.approx(qb.holder_ergotropy(rho),
                                                         abs=LINALG_TOL)
    assert qb.symmetric_ergotropy(rotated) == pytest.approx(qb.symmetric_ergotropy(rho),
                                                            abs=LINALG_TOL)


# ------------------------------------------------------------- bounds
def test_never_negative_and_bounded_by_energy_above_ground(rng):
    for _ in range(200):
        dim = int(rng.integers(2, 9))
        rank = int(rng.integers(1, dim + 1))
        rho = random_density_matrix(rng, dim, rank)
        H = random_hermitian(rng, dim)
        erg = qb.ergotropy(rho, H)
        assert erg >= 0.0
        assert erg <= float(np.real(np.trace(rho @ H))) - np.linalg.eigvalsh(H)[0] + LINALG_TOL
        ladder = rho if dim <= 5 else rho[:5, :5] / np.trace(rho[:5, :5]).real
        assert qb.holder_ergotropy(ladder) >= 0.0
        assert qb.symmetric_ergotropy(ladder) >= 0.0
        assert qb.charger_ergotropy(rho) >= 0.0


def test_accepts_numpy_arrays_and_qobj(rng):
    rho = random_density_matrix(rng, 4, 2)
    H = random_hermitian(rng, 4)
    ref = qb.ergotropy(rho, H)
    assert ref > 0
    assert qb.ergotropy(qt.Qobj(rho), qt.Qobj(H)) == pytest.approx(ref, abs=LINALG_TOL)
    assert qb.ergotropy(qt.Qobj(rho), H) == pytest.approx(ref, abs=LINALG_TOL)
    assert qb.passive_energy(qt.Qobj(rho), qt.Qobj(H)) == pytest.approx(
        qb.passive_energy(rho, H), abs=LINALG_TOL)
    assert qb.ergotropy(rho.tolist(), H.tolist()) == pytest.approx(ref, abs=LINALG_TOL)
    for f in (qb.holder_ergotropy, qb.symmetric_ergotropy, qb.charger_ergotropy):
        assert f(qt.Qobj(rho)) == pytest.approx(f(rho), abs=LINALG_TOL)
    # a QuTiP-made state: coherent |α|² = 1.5 truncated at 40 photons (pure)
    assert qb.charger_ergotropy(qt.coherent_dm(40, math.sqrt(1.5))) == pytest.approx(
        1.5, abs=1e-10)


def test_shape_errors():
    with pytest.raises(ValueError, match="same shape"):
        qb.ergotropy(np.eye(2) / 2, np.eye(3))
    with pytest.raises(ValueError, match="square"):
        qb.ergotropy(np.ones((2, 3)), np.eye(2))


# ------------------------------------------------------------- holder closed form
@pytest.mark.parametrize("n_qubits", [1, 2, 3, 4])
def test_holder_ergotropy_equals_generic_ergotropy_on_2_to_the_N_states(rng, n_qubits):
    """E_h − (1 − r_max) (Dicke basis) against the generic formula applied to
    the same state embedded in the 2^N qubit space with H_h = Σ σ⁺σ⁻."""
    V = dicke_isometry(n_qubits)
    assert np.allclose(V.T @ V, np.eye(n_qubits + 1), atol=LINALG_TOL)
    H_full = qubit_number_hamiltonian(n_qubits)
    # the embedding maps the Dicke ladder onto H_h
    assert np.allclose(V.T @ H_full @ V, np.diag(np.arange(n_qubits + 1)), atol=LINALG_TOL)
    for rank in range(1, n_qubits + 2):
        for _ in range(5):
            rho = random_density_matrix(rng, n_qubits + 1, rank)
            embedded = V @ rho @ V.T
            generic = qb.ergotropy(embedded, H_full)
            assert qb.holder_ergotropy(rho) == pytest.approx(generic, abs=LINALG_TOL)
            # the symmetric version is the generic one on the (N+1)-level ladder ...
            ladder = np.diag(np.arange(n_qubits + 1, dtype=float))
            assert qb.symmetric_ergotropy(rho) == pytest.approx(qb.ergotropy(rho, ladder),
                                                                abs=LINALG_TOL)
            # ... and can never beat the full-space one
            assert qb.symmetric_ergotropy(rho) <= qb.holder_ergotropy(rho) + LINALG_TOL


# ------------------------------------------------------------- brute force
@pytest.mark.parametrize("dim", [2, 3, 4])
def test_agrees_with_brute_force_optimisation_over_unitaries(rng, dim):
    cases = [
        (random_density_matrix(rng, dim), random_hermitian(rng, dim)),
        (random_density_matrix(rng, dim, 1), random_hermitian(rng, dim)),
        (random_density_matrix(rng, dim, 2), _diag(np.r_[0.0, np.ones(dim - 1)])),  # degenerate
    ]
    for rho, H in cases:
        brute = brute_force_ergotropy(rho, H, rng)
        assert qb.ergotropy(rho, H) == pytest.approx(brute, abs=1e-6)
        # and the optimum energy reached is the passive energy
        e = float(np.real(np.trace(rho @ H)))
        assert qb.passive_energy(rho, H) == pytest.approx(e - brute, abs=1e-6)


@pytest.mark.parametrize("n_qubits", [1, 2])
def test_holder_ergotropy_brute_force_on_qubits(rng, n_qubits):
    """Over all unitaries of N = 1, 2 qubits (dimension 2, 4), starting from a
    Dicke-subspace state: checks the degenerate ε = 1 level is exploited."""
    V = dicke_isometry(n_qubits)
    rho = random_density_matrix(rng, n_qubits + 1)
    brute = brute_force_ergotropy(V @ rho @ V.T, qubit_number_hamiltonian(n_qubits), rng)
    assert qb.holder_ergotropy(rho) == pytest.approx(brute, abs=1e-6)
