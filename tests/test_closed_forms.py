"""Closed-form checks at κ = 0 (issue "physics core", item 1).

With no dissipation and a Fock charger the dynamics is a finite Rabi problem:

* N = 1, n photons (Jaynes–Cummings): |n, g⟩ ↔ |n−1, e⟩ with coupling g√n, so
  E_h(t) = sin²(g√n t), τ̄ = π/(2g√n), and the holder state is diagonal with
  excited population p = E_h, hence ℰ_h = max(0, 2p − 1) = max(0, −cos 2g√n t).
  The charger populates only n−1 (prob. p) and n (prob. 1−p); its passive state
  puts max(p, 1−p) on 0 and min(p, 1−p) on 1, so ℰ_c = E_c − min(p, 1−p).
* N = 2, 2 photons: the chain |2,0⟩ –2g– |1,1⟩ –√2g– |0,2⟩ has frequency
  Ω = √6 g; E_h(t) = (2/3) sin²Ωt + (4/9)(1 − cos Ωt)², τ̄ = π/(√6 g),
  Ē = 16/9 and, with ρ_h = diag(1/9, 0, 8/9) at τ̄, ℰ̄ = 16/9 − 1/9 = 5/3.

All to 1e-8 (conftest.TOL): see the module docstring there.
"""
import math

import numpy as np
import pytest

import qbhelpers as qb
from conftest import TOL

METHODS = qb.engines.METHODS  # every registered method


@pytest.mark.parametrize("method", METHODS)
def test_single_qubit_fock_first_max_g1(method):
    fm = qb.first_max(1, "fock", 0.0, method=method)
    assert fm.tau == pytest.approx(math.pi / 2, rel=TOL)
    assert fm.energy == pytest.approx(1.0, rel=TOL)
    assert fm.ergotropy == pytest.approx(1.0, rel=TOL)
    assert fm.ergotropy_symmetric == pytest.approx(1.0, rel=TOL)
    assert fm.power == pytest.approx(2 / math.pi, rel=TOL)
    assert fm.rate == pytest.approx(4.0, rel=TOL)
    # closed battery: no heat, the charger is empty at τ̄
    assert fm.Q == 0.0
    assert fm.E_c == pytest.approx(0.0, abs=TOL)
    assert (fm.n_qubits, fm.charger, fm.version, fm.method) == (1, "fock", "collective", method)


@pytest.mark.parametrize("method", METHODS)
def test_single_qubit_fock_trajectory_g1(method):
    t = np.linspace(0.0, 2 * math.pi, 41)
    tr = qb.charge(1, "fock", 0.0, times=t, method=method)
    np.testing.assert_array_equal(tr.t, t)
    np.testing.assert_allclose(tr.E_h, np.sin(t) ** 2, rtol=0, atol=TOL)
    np.testing.assert_allclose(tr.E_c, np.cos(t) ** 2, rtol=0, atol=TOL)
    np.testing.assert_allclose(tr.Q, 0.0, rtol=0, atol=TOL)
    expected = np.maximum(0.0, 1 - 2 * np.cos(t) ** 2)
    np.testing.assert_allclose(expected, np.maximum(0.0, -np.cos(2 * t)), atol=1e-15)
    np.testing.assert_allclose(tr.ergotropy, expected, rtol=0, atol=TOL)
    # one qubit: the symmetric subspace is the whole space
    np.testing.assert_allclose(tr.ergotropy_symmetric, expected, rtol=0, atol=TOL)


def test_single_qubit_fock_first_max_g07():
    g = 0.7
    fm = qb.first_max(1, "fock", 0.0, g=g)
    tau = math.pi / (2 * g)
    assert fm.tau == pytest.approx(tau, rel=TOL)
    assert fm.energy == pytest.approx(1.0, rel=TOL)
    assert fm.ergotropy == pytest.approx(1.0, rel=TOL)
    assert fm.power == pytest.approx(1 / tau, rel=TOL)
    assert fm.rate == pytest.approx(4 * g, rel=TOL)


def test_single_qubit_fock_trajectory_g07():
    g = 0.7
    t = np.linspace(0.0, 2 * math.pi / g, 41)
    tr = qb.charge(1, "fock", 0.0, g=g, times=t)
    np.testing.assert_allclose(tr.E_h, np.sin(g * t) ** 2, rtol=0, atol=TOL)
    np.testing.assert_allclose(tr.ergotropy, np.maximum(0.0, -np.cos(2 * g * t)), rtol=0, atol=TOL)


@pytest.mark.parametrize("g", [1.0, 0.7])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_jaynes_cummings_fock_n_photons(n, g):
    w = g * math.sqrt(n)
    t = np.linspace(0.0, 2 * math.pi / w, 33)
    tr = qb.charge(1, "fock", 0.0, g=g, mean_photons=n, times=t, with_charger=True)
    p = np.sin(w * t) ** 2
    np.testing.assert_allclose(tr.E_h, p, rtol=0, atol=TOL)
    np.testing.assert_allclose(tr.E_c, n - p, rtol=0, atol=TOL)
    np.testing.assert_allclose(tr.ergotropy, np.maximum(0.0, -np.cos(2 * w * t)), rtol=0, atol=TOL)
    np.testing.assert_allclose(tr.charger_ergotropy, (n - p) - np.minimum(p, 1 - p),
                               rtol=0, atol=TOL)

    fm = qb.first_max(1, "fock", 0.0, g=g, mean_photons=n)
    assert fm.tau == pytest.approx(math.pi / (2 * w), rel=TOL)
    assert fm.energy == pytest.approx(1.0, rel=TOL)
    assert fm.E_c == pytest.approx(n - 1.0, abs=TOL)


def test_two_qubits_two_photons_closed_form():
    W = math.sqrt(6.0)
    fm = qb.first_max(2, "fock", 0.0)
    assert fm.tau == pytest.approx(math.pi / W, rel=TOL)
    assert fm.energy == pytest.approx(16 / 9, abs=TOL)
    assert fm.ergotropy == pytest.approx(5 / 3, abs=TOL)
    # populations (1/9, 0, 8/9) on the Dicke ladder: the symmetric passive
    # state has energy 1/9 as well
    assert fm.ergotropy_symmetric == pytest.approx(5 / 3, abs=TOL)

    t = np.linspace(0.0, 2 * math.pi / W, 25)
    tr = qb.charge(2, "fock", 0.0, times=t)
    c = np.cos(W * t)
    np.testing.assert_allclose(tr.E_h, (2 / 3) * np.sin(W * t) ** 2 + (4 / 9) * (1 - c) ** 2,
                               rtol=0, atol=TOL)
