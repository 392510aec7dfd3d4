"""Physics sanity: parallel vs collective, enhancements, bounds (item 7), and
the definition of the first maximum (SPEC §5).

Tolerances: TOL = 1e-8 for computed physics (see conftest); LINALG_TOL =
1e-12 for inequalities that hold exactly and are only blurred by rounding in
eigvalsh (ergotropy ≤ E_h, symmetric ≤ full, E_h ≤ N); exact equality where
the package computes one figure from another by a multiplication.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import qbhelpers as qb
from conftest import LINALG_TOL, TOL

CHARGERS = ("fock", "coherent", "thermal")


# ------------------------------------------------------------ parallel version
@pytest.mark.parametrize("charger", CHARGERS)
@pytest.mark.parametrize("kappa", [0.0, 1.0])
@pytest.mark.parametrize("n", [3])
def test_parallel_is_n_copies_of_the_single_cell(n, kappa, charger):
    par = qb.first_max(n, charger, kappa, version="parallel")
    cell = qb.first_max(1, charger, kappa, mean_photons=1)
    assert par.version == "parallel" and par.n_qubits == n and par.mean_photons == n
    assert par.tau == pytest.approx(cell.tau, rel=1e-14)
    assert par.rate == pytest.approx(cell.rate, rel=1e-14)
    for f in ("energy", "ergotropy", "ergotropy_symmetric", "power", "E_c", "Q"):
        assert getattr(par, f) == pytest.approx(n * getattr(cell, f), rel=1e-14, abs=1e-15), f
    # a cell is one qubit: the symmetric and full ergotropies coincide
    assert cell.ergotropy_symmetric == pytest.approx(cell.ergotropy, abs=LINALG_TOL)


def test_parallel_cell_is_the_n1_battery_with_one_photon():
    """The cell of the parallel Fock battery behaves like the κ = 0 closed form."""
    par = qb.first_max(4, "fock", 0.0, version="parallel")
    assert par.tau == pytest.approx(math.pi / 2, rel=TOL)
    assert par.energy == pytest.approx(4.0, rel=TOL)
    assert par.ergotropy == pytest.approx(4.0, rel=TOL)
    assert par.power == pytest.approx(8 / math.pi, rel=TOL)
    assert par.rate == pytest.approx(4.0, rel=TOL)


# ------------------------------------------------------------ enhancements
@pytest.mark.parametrize("n", [2, 3, 4])
def test_enhancement_fock_closed_battery(n):
    gam = qb.enhancement(n, "fock", 0.0)
    assert set(gam) == {"energy", "ergotropy", "power", "rate"}
    assert gam["energy"] < 1.0       # SPEC §7.2: the parallel battery stores more at κ = 0
    assert gam["rate"] > 1.0         # SPEC §7.3: the collective one is faster
    assert gam["power"] > 1.0        # SPEC §7.4
    assert all(math.isfinite(v) and v > 0 for v in gam.values())


def test_enhancement_is_the_ratio_of_collective_to_parallel():
    gam = qb.enhancement(3, "coherent", 0.5)
    col = qb.first_max(3, "coherent", 0.5)
    par = qb.first_max(3, "coherent", 0.5, version="parallel")
    assert gam == qb.ratios(col, par)
    for f in ("energy", "ergotropy", "power", "rate"):
        assert gam[f] == pytest.approx(getattr(col, f) / getattr(par, f), rel=1e-14)
    assert gam["rate"] == pytest.approx(par.tau / col.tau, rel=1e-12)


def test_enhancement_two_qubits_closed_form():
    """N = 2 Fock (see test_closed_forms): Ē# = 16/9 vs Ē‖ = 2, τ̄# = π/√6 vs π/2."""
    gam = qb.enhancement(2, "fock", 0.0)
    assert gam["energy"] == pytest.approx(8 / 9, rel=TOL)
    assert gam["ergotropy"] == pytest.approx((5 / 3) / 2, rel=TOL)
    assert gam["rate"] == pytest.approx(math.sqrt(6) / 2, rel=TOL)
    assert gam["power"] == pytest.approx((8 / 9) * math.sqrt(6) / 2, rel=TOL)


def test_enhancement_of_ergotropy_is_nan_where_the_parallel_ergotropy_vanishes():
    """A single qubit charged by one lossy photon: at κ = 1.5 the excited
    population at τ̄ is below 1/2, so ρ_h = diag(1 − p, p) is passive and its
    ergotropy max(0, 2p − 1) is exactly zero; Γ_ℰ is then undefined (NaN)."""
    kappa = 1.5
    cell = qb.first_max(1, "fock", kappa)
    assert cell.energy < 0.5
    assert abs(cell.ergotropy) <= 1e-14
    gam = qb.enhancement(2, "fock", kappa)
    assert math.isnan(gam["ergotropy"])
    for f in ("energy", "power", "rate"):
        assert math.isfinite(gam[f]) and gam[f] > 0
    # ratios() gives NaN, never an error, also when both ergotropies vanish
    col = qb.first_max(2, "fock", kappa)
    par = qb.first_max(2, "fock", kappa, version="parallel")
    assert math.isnan(qb.ratios(col, par)["ergotropy"])


def test_energy_enhancement_grows_with_dissipation():
    """SPEC §7.2: Γ_E < 1 near κ = 0 and grows with κ (N = 3, Fock)."""
    g = [qb.enhancement(3, "fock", k)["energy"] for k in (0.0, 0.5, 1.0, 2.0)]
    assert g[0] < 1.0
    assert all(b > a for a, b in zip(g, g[1:]))


# ------------------------------------------------------------ bounds along trajectories
def test_default_time_grid_runs_through_the_first_maximum():
    fm = qb.first_max(3, "fock", 0.5)
    tr = qb.charge(3, "fock", 0.5)
    np.testing.assert_allclose(tr.t, np.linspace(0.0, 1.5 * fm.tau, 301), rtol=1e-12)
    assert tr.E_h.max() == pytest.approx(fm.energy, abs=1e-4)  # grid spacing 0.005 τ̄
    assert 0.6 < tr.t[np.argmax(tr.E_h)] / tr.t[-1] < 0.7


@pytest.mark.parametrize("charger", CHARGERS)
@pytest.mark.parametrize("kappa", [0.0, 1.0])
@pytest.mark.parametrize("n", [1, 3])
def test_bounds_along_trajectories(n, kappa, charger):
    t_end = 2.0 * qb.first_max(n, charger, kappa).tau
    tr = qb.charge(n, charger, kappa, times=np.linspace(0.0, t_end, 41))
    assert np.all(tr.E_h >= -LINALG_TOL) and np.all(tr.E_h <= n + LINALG_TOL)
    assert np.all(tr.ergotropy >= 0.0)
    assert np.all(tr.ergotropy <= tr.E_h + LINALG_TOL)
    assert np.all(tr.ergotropy_symmetric >= 0.0)
    assert np.all(tr.ergotropy_symmetric <= tr.ergotropy + LINALG_TOL)
    assert np.all(tr.E_c >= -LINALG_TOL)
    # holder states are density matrices
    rho = tr.holder_states
    np.testing.assert_allclose(np.trace(rho, axis1=1, axis2=2).real, 1.0, atol=1e-9)
    np.testing.assert_allclose(rho, np.conj(np.swapaxes(rho, 1, 2)), atol=LINALG_TOL)
    assert np.linalg.eigvalsh(rho).min() > -1e-9
    # and E_h is their energy on the Dicke ladder
    np.testing.assert_allclose(np.einsum("tkk,k->t", rho, np.arange(n + 1)).real, tr.E_h,
                               atol=LINALG_TOL)


def test_full_and_symmetric_ergotropy_coincide_for_one_qubit():
    """Both numbers come from the same 2×2 matrix ρ_h: only rounding may separate them,
    however accurate ρ_h itself is.  Regression (fixed in 9388607): holder_ergotropy
    used E_h − (1 − r_max), i.e. assumed Tr ρ_h = 1, but the truncated state has trace
    1 − δ; the two differed by δ (1.0e-8 at truncation_tol=1e-6, used here to make δ
    visible) and 'symmetric ≤ full' (SPEC §4) failed by δ."""
    tr = qb.charge(1, "coherent", 0.5, times=np.linspace(0.0, 2.0, 5), truncation_tol=1e-6)
    np.testing.assert_allclose(tr.ergotropy_symmetric, tr.ergotropy, rtol=0, atol=LINALG_TOL)


@pytest.mark.parametrize("method", qb.engines.METHODS)
def test_vacuum_coherent_charger_charges_nothing(method):
    """Regression (fixed in 9388607): an empty charger had n_cut = 0 and the QuTiP
    engines crashed in qutip.destroy(1)."""
    t = np.linspace(0.0, 3.0, 7)
    tr = qb.charge(2, "coherent", 0.5, mean_photons=0, times=t, method=method,
                   with_charger=True)
    for f in ("E_h", "E_c", "Q", "ergotropy", "ergotropy_symmetric", "charger_ergotropy"):
        np.testing.assert_allclose(getattr(tr, f), 0.0, rtol=0, atol=1e-14, err_msg=f)


# ------------------------------------------------------------ the first maximum
@pytest.mark.parametrize("n,charger,kappa,n_th", [
    (1, "fock", 0.3, 0.0),
    (2, "coherent", 1.0, 0.0),
    (3, "thermal", 0.5, 0.0),
    (4, "fock", 2.0, 0.0),
    (2, "coherent", 0.5, 0.2),
    (1, "fock", 2.5, 0.2),
])
def test_first_max_is_the_first_local_maximum_of_the_trajectory(n, charger, kappa, n_th):
    fm = qb.first_max(n, charger, kappa, n_th=n_th)
    # E_h increases all the way to τ̄ ...
    before = qb.charge(n, charger, kappa, n_th=n_th, times=np.linspace(0.0, fm.tau, 101))
    assert np.all(np.diff(before.E_h) > 0)
    # ... which charge() reproduces: same energies, heat and ergotropy at t = τ̄
    assert before.E_h[-1] == pytest.approx(fm.energy, abs=TOL)
    assert before.E_c[-1] == pytest.approx(fm.E_c, abs=TOL)
    assert before.Q[-1] == pytest.approx(fm.Q, abs=TOL)
    assert before.ergotropy[-1] == pytest.approx(fm.ergotropy, abs=TOL)
    assert before.ergotropy_symmetric[-1] == pytest.approx(fm.ergotropy_symmetric, abs=TOL)
    # ... and decreases right after it (a maximum, not an inflection)
    d = 1e-3 * fm.tau
    around = qb.charge(n, charger, kappa, n_th=n_th,
                       times=[0.0, fm.tau - d, fm.tau, fm.tau + d])
    assert around.E_h[2] > around.E_h[1] and around.E_h[2] > around.E_h[3]
    assert fm.power == pytest.approx(fm.energy / fm.tau, rel=1e-14)
    assert fm.rate == pytest.approx(2 * math.pi / fm.tau, rel=1e-14)


@pytest.mark.parametrize("method", [
    "blocks-rk",
    pytest.param("blocks", marks=pytest.mark.slow),  # ~6 s: Chebyshev is slow at κ = 5, n_th > 0
])
def test_no_first_max_when_E_h_only_saturates(method):
    """With a warm bath and strong damping (κ = 5g, n_th = 0.2) E_h rises
    monotonically to its steady value n_th/(2n_th + 1) = 1/7: there is no local
    maximum (SPEC §5), so first_max must raise NoMaximumError.  Regression (fixed
    in 9388607): a sign change of dE_h/dt at the rounding level, deep in the
    saturated tail, was reported as τ̄ (59.7 with blocks, 49.6 with blocks-rk, none
    with tighter tolerances, a raw brentq ValueError with dicke)."""
    with pytest.raises(qb.NoMaximumError, match="no local maximum"):
        qb.first_max(1, "fock", 5.0, n_th=0.2, method=method)
    # while a genuine maximum at the same n_th, weaker damping, is still found
    fm = qb.first_max(1, "fock", 2.5, n_th=0.2, method=method)
    d = 0.05 * fm.tau
    tr = qb.charge(1, "fock", 2.5, n_th=0.2, method=method,
                   times=[0.0, fm.tau - d, fm.tau, fm.tau + d])
    assert tr.E_h[2] - tr.E_h[1] > 1e-6 and tr.E_h[2] - tr.E_h[3] > 1e-6
