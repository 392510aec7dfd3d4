"""The fast engine's expansion encloses what it must (qbhelpers.engines.chebyshev).

The Chebyshev series converges on an ellipse that must contain the numerical
range of the generator, not only its spectrum (the dissipator is far from
normal; a spectrum-only ellipse once broke the energy balance by 0.43 at
N = 6, κ = 4g).  Here the generator of a small sector is built as a dense
matrix *by applying the engine's own kernel to unit vectors*, and its
numerical range is traced exactly (its boundary point in every direction, from
the top eigenvector of the Hermitian part of e^{-iθ}L).  The region the
engine uses (the commutator's segment plus the dissipator's disc) and the
ellipse it chooses must contain it.
"""
from __future__ import annotations

import numpy as np
import pytest

from qbhelpers.engines import chebyshev, sectors
from qbhelpers.physics import states


def _dense_generator(prop: chebyshev.SectorPropagator) -> tuple[np.ndarray, np.ndarray]:
    """L̃ (real gauge) on the valid entries of a sector, one kernel call per column."""
    sec = prop.sec
    nb, m, _ = sec.shape
    valid = (sec.n_row >= 0)[:, :, None] & (sec.n_col >= 0)[:, None, :]
    idx = np.argwhere(valid)
    L = np.zeros((len(idx), len(idx)))
    for col, (b, i, j) in enumerate(idx):
        T = np.zeros((nb, m, m + 2))
        T[b, i, j + 1] = 1.0
        out = np.zeros_like(T)
        # no accumulation, two = 1, σ = 0, 1/c = 1, sign = 0: out ← L̃ T
        nh, ncg = chebyshev.bands(sec.d, prop.n_qubits, prop.n_cut, prop.with_charger)
        fout = np.zeros(5 + nh + ncg)
        chebyshev.recurrence(T, out, np.zeros_like(T), 0.0, 0.0, False, 1.0, 0.0, *prop._coef,
                             0, nb - 1, prop.lo_r, prop.hi_r, prop.hi_c, 0.0, 1.0,
                             sec.d, sec.photons, float(prop.n_cut), nh, ncg, sec.transposed,
                             fout)
        # the functionals the kernel adds up as it writes are those of its output
        np.testing.assert_array_equal(fout, prop.functionals(out))
        L[:, col] = out[idx[:, 0], idx[:, 1], idx[:, 2] + 1]
    return L, idx


def _numerical_range_boundary(L: np.ndarray, angles: int = 96) -> np.ndarray:
    """Points on the boundary of the numerical range of a real matrix: for each
    direction θ the top eigenvector x of the Hermitian part of e^{−iθ}L gives
    the boundary point ⟨x, Lx⟩ that is extreme in that direction."""
    pts = []
    for th in np.linspace(0.0, 2 * np.pi, angles, endpoint=False):
        M = np.exp(-1j * th) * L
        H = 0.5 * (M + M.conj().T)
        _, vecs = np.linalg.eigh(H)
        x = vecs[:, -1]
        pts.append(np.vdot(x, L @ x))
    return np.array(pts)


@pytest.mark.parametrize("n_qubits,charger,kappa,n_th,d", [
    (2, "thermal", 1.0, 0.0, 0),
    (3, "thermal", 4.0, 0.0, 0),
    (2, "fock", 2.0, 0.3, 0),
    (3, "coherent", 1.0, 0.0, 2),
    (2, "coherent", 0.5, 0.5, 1),
    (3, "thermal", 2.0, 1.0, 0),
])
def test_numerical_range_is_enclosed(n_qubits, charger, kappa, n_th, d):
    mean = 2.0 if charger == "thermal" else float(n_qubits)
    n_cut = min(states.choose_n_cut(charger, mean, n_qubits, n_th, None), 24)
    k_max = n_cut if n_th == 0 else n_cut + n_qubits
    sec = sectors.make_sector(d, k_max, n_qubits, n_cut, 1.0)
    prop = chebyshev.SectorPropagator(sec, kappa, n_th, n_cut, n_qubits)
    L, idx = _dense_generator(prop)
    # the kernel really is the generator: trace preservation in sector 0
    if d == 0:
        diag = idx[:, 1] == idx[:, 2]
        np.testing.assert_allclose(L[diag][:, diag].sum(axis=0), 0.0, atol=1e-9 * kappa * n_cut)
    z = _numerical_range_boundary(L)
    W = chebyshev.commutator_spread(sec)
    C, r = chebyshev.dissipator_disc(sec, kappa, n_th, n_cut)
    tol = 1e-9 * (W + C + r + 1.0)
    # the exact numerical range lies in the stadium i[-W, W] + disc(-C, r) ...
    below = np.clip(np.abs(z.imag) - W, 0.0, None)  # distance beyond the segment, vertically
    assert np.all(np.hypot(z.real + C, below) <= r + tol)
    # ... the bound is not vacuous: the disc is within a factor 2 of the real extent
    assert 2 * r <= 2.0 * (z.real.max() - z.real.min()) + 1.0
    # ... and inside the chosen ellipse (foci σ ± γ, parameter ρ)
    ex = prop.exp
    assert max(chebyshev._rho(complex((p - ex.sigma) / ex.gamma)) for p in z) <= ex.rho * (1 + 1e-9)
    # the old bounding rectangle was bigger: the stadium is round where it had corners
    corner = complex(-C - r, W + r)
    assert chebyshev._rho(complex((corner - ex.sigma) / ex.gamma)) > ex.rho


@pytest.mark.parametrize("d,kappa,n_th", [(1, 1.0, 0.0), (2, 3.0, 0.0), (3, 1.0, 0.5)])
def test_transposed_sector_is_the_same_generator(d, kappa, n_th):
    """A sector d > 0 stored transposed (rows in K' = b, the long columns in
    K = b + d: what the engine propagates) has the generator of the stored one
    with every entry (b, i, j) moved to (b, j, i), and reads the same holder
    and charger bands."""
    n_qubits, n_cut = 3, 9
    k_max = n_cut if n_th == 0 else n_cut + n_qubits
    sec = sectors.make_sector(d, k_max, n_qubits, n_cut, 1.0)
    props = [chebyshev.SectorPropagator(s, kappa, n_th, n_cut, n_qubits, with_charger=True)
             for s in (sec, sec.transpose())]
    assert props[1].sec.transposed and not props[0].sec.transposed
    (L, idx), (Lt, idx_t) = (_dense_generator(p) for p in props)
    # the same entries, each at its transposed place
    pos = {tuple(e): k for k, e in enumerate(idx_t)}
    perm = np.array([pos[(b, j, i)] for b, i, j in idx])
    np.testing.assert_array_equal(Lt[np.ix_(perm, perm)], L)
    # the functionals of a random sector state agree, orientation by orientation
    rng = np.random.default_rng(d)
    nb, m, _ = sec.shape
    R = np.zeros((nb, m, m + 2))
    R[idx[:, 0], idx[:, 1], idx[:, 2] + 1] = rng.standard_normal(len(idx))
    Rt = np.zeros_like(R)
    Rt[:, :, 1:-1] = np.swapaxes(R[:, :, 1:-1], 1, 2)
    np.testing.assert_allclose(props[1].functionals(Rt), props[0].functionals(R), atol=1e-14)
    assert np.abs(props[0].functionals(R)[5:]).max() > 0.1  # the bands are not empty


@pytest.mark.parametrize("n_qubits,charger,kappa,n_th", [
    (8, "thermal", 2.0, 0.0), (6, "coherent", 1.0, 0.0), (16, "fock", 4.0, 0.0),
    (3, "thermal", 4.0, 0.3)])
def test_rounding_cap_does_not_move_results(n_qubits, charger, kappa, n_th, monkeypatch):
    """The cap on the worst-case amplification of rounding per step decides the
    step length; a hundred times stricter cap (more, shorter steps) must give
    the same numbers to far below the book's 1e-8."""
    import qbhelpers as qb
    default = qb.first_max(n_qubits, charger, kappa, n_th=n_th)
    monkeypatch.setattr(chebyshev, "AMPLIFICATION", chebyshev.AMPLIFICATION / 100)
    chebyshev._choose_expansion.cache_clear()
    try:
        strict = qb.first_max(n_qubits, charger, kappa, n_th=n_th)
    finally:
        chebyshev._choose_expansion.cache_clear()
    assert strict.tau == pytest.approx(default.tau, rel=1e-10)
    for f in ("energy", "ergotropy", "E_c", "Q"):
        assert getattr(strict, f) == pytest.approx(getattr(default, f), rel=0, abs=1e-10), f


def _miller_longdouble(x: float, n: int) -> np.ndarray:
    """J_m(x), m < n, by Miller's recurrence in extended precision (an independent,
    slower check: 64-bit mantissa, a far higher start, plain Python)."""
    import math
    X = np.longdouble(x)
    start = max(n, int(x)) + 80 + int(math.sqrt(100 * max(n, int(x))))
    start += start % 2
    above, here = np.longdouble(0), np.longdouble(1e-300)
    vals, norm = {}, np.longdouble(0)
    for m in range(start, 0, -1):
        below = np.longdouble(2 * m) / X * here - above
        above, here = here, below
        k = m - 1
        vals[k] = here
        if k % 2 == 0:
            norm += here if k == 0 else 2 * here
        if abs(here) > 1e250:
            here, above, norm = here * np.longdouble(1e-250), above * np.longdouble(1e-250), \
                norm * np.longdouble(1e-250)
            vals = {q: v * np.longdouble(1e-250) for q, v in vals.items()}
    return np.array([vals[k] / norm for k in range(n)], dtype=np.longdouble)


def test_bessel_tables():
    """The engine's Bessel functions (Miller's recurrence, bessel_table) against
    SciPy at moderate arguments and an extended-precision run at large ones."""
    from scipy.special import ive, jv
    rng = np.random.default_rng(7)
    for xmax in (1e-3, 0.5, 5.0, 50.0):
        x = np.concatenate([[0.0], rng.uniform(0, xmax, 50), [xmax]])
        n = int(1.5 * xmax) + 60
        m = np.arange(n)
        np.testing.assert_allclose(chebyshev.bessel_table(x, n, False),
                                   jv(m[None, :], x[:, None]), rtol=0, atol=2e-15)
        np.testing.assert_allclose(chebyshev.bessel_table(x, n, True),
                                   ive(m[None, :], x[:, None]), rtol=0, atol=2e-15)
    for x in (123.456, 399.9):
        n = int(1.5 * x) + 60
        ref = _miller_longdouble(x, n).astype(float)
        assert np.abs(chebyshev.bessel_table(np.array([x]), n, False)[0] - ref).max() < 3e-15


@pytest.mark.parametrize("n_qubits,charger,kappa_over_omega_r", [
    (2, "fock", 0.95), (2, "thermal", 0.8), (6, "fock", 2.5), (1, "fock", 1.2)])
def test_search_gives_up_cleanly_on_a_drained_state(n_qubits, charger, kappa_over_omega_r):
    """A discharge with no first minimum drains the holder into its stationary
    block, where the generator vanishes and any step length is allowed; the
    search must still stop at its window with NoMaximumError (it once built a
    step of ~1e10 time scales and asked for 666 GiB of sample times)."""
    import time

    import qbhelpers as qb
    start = time.process_time()
    with pytest.raises(qb.NoMaximumError, match="no local minimum"):
        qb.discharge(n_qubits, charger, 2.0 * kappa_over_omega_r)
    assert time.process_time() - start < 30.0   # seconds; ~0.1-0.4 s on the book's machine


@pytest.mark.parametrize("charger,n_th,with_charger", [
    ("fock", 0.0, False), ("thermal", 0.0, True), ("coherent", 0.5, False)])
def test_shared_sweep_matches_one_thread(charger, n_th, with_charger, monkeypatch):
    """A sector swept by two threads (disjoint block ranges, each adding the
    functionals of its own blocks) gives what one thread gives, to rounding:
    the same applications, the same state and functionals to 1e-13."""
    from qbhelpers.engines.chebyshev import ChebyshevEngine
    from qbhelpers.problem import make_setup

    monkeypatch.setattr(chebyshev, "SPLIT_MIN_ENTRIES", 0)
    setup = make_setup(6, charger, 1.0, n_th=n_th)
    engine = ChebyshevEngine(setup)
    out = {}
    for threads in (1, 2, 3):
        prop, R = engine._propagator(0, with_charger, threads)
        assert len(prop._parts()) == min(threads, prop.hi - prop.lo + 1)
        steps = []
        for _ in range(3):
            prop.adapt(R)
            R, F, n = prop.step(R, prop.exp.h)
            steps.append((R.copy(), F))
        out[threads] = steps, prop.applications
    (ref, apps) = out[1]
    for threads in (2, 3):
        steps, apps_t = out[threads]
        assert apps_t == apps
        for (R1, F1), (R2, F2) in zip(ref, steps):
            scale = np.abs(F1).max()
            assert np.abs(F2 - F1).max() <= 1e-13 * scale
            assert np.abs(R2 - R1).max() <= 1e-13 * np.abs(R1).max()


def test_shared_sweep_first_max_matches(monkeypatch):
    """The whole search with a shared sweep finds the same first maximum."""
    from qbhelpers.engines.chebyshev import ChebyshevEngine
    from qbhelpers.problem import make_setup

    setup = make_setup(12, "thermal", 1.0)
    monkeypatch.setenv("QBHELPERS_THREADS", "1")
    one = ChebyshevEngine(setup).first_extremum("max")
    monkeypatch.setenv("QBHELPERS_THREADS", "2")
    monkeypatch.setattr(chebyshev, "SPLIT_MIN_ENTRIES", 0)
    two = ChebyshevEngine(setup).first_extremum("max")
    assert abs(two.tau - one.tau) <= 1e-12 * one.tau
    for key in ("E_h", "ergotropy", "Q"):
        assert abs(getattr(two, key) - getattr(one, key)) <= 1e-12 * abs(one.E_h)


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_bad_thread_count_is_refused(value, monkeypatch):
    import qbhelpers as qb

    monkeypatch.setenv("QBHELPERS_THREADS", value)
    with pytest.raises(ValueError, match="QBHELPERS_THREADS must be an integer >= 1"):
        qb.first_max(2, "fock", 1.0)
