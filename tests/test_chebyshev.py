"""The fast engine's expansion encloses what it must (qbhelpers.chebyshev).

The Chebyshev series converges on an ellipse that must contain the numerical
range of the generator, not only its spectrum (the dissipator is far from
normal; a spectrum-only ellipse once broke the energy balance by 0.43 at
N = 6, κ = 4g).  Here the generator of a small sector is built as a dense
matrix *by applying the engine's own kernel to unit vectors*, and its
numerical range is bounded exactly: the real part by the eigenvalues of the
symmetric part, the imaginary part by the norm of the antisymmetric part.
The bounds the engine uses must contain them.
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
    serial = np.array([0, nb], dtype=np.int64)
    for col, (b, i, j) in enumerate(idx):
        T = np.zeros((nb, m, m + 2))
        T[b, i, j + 1] = 1.0
        out = np.zeros_like(T)
        # two = 1, σ = 0, 1/c = 1, sign = 0: out ← L̃ T
        chebyshev._recurrence_serial(T, out, np.zeros_like(T), 0.0, 1.0, 0.0, *prop._coef,
                                     serial, prop.lo_r, prop.hi_r, prop.hi_c, 0.0, 1.0)
        L[:, col] = out[idx[:, 0], idx[:, 1], idx[:, 2] + 1]
    return L, idx


@pytest.mark.parametrize("n_qubits,charger,kappa,n_th,d", [
    (2, "thermal", 1.0, 0.0, 0),
    (3, "thermal", 4.0, 0.0, 0),
    (2, "fock", 2.0, 0.3, 0),
    (3, "coherent", 1.0, 0.0, 2),
    (2, "coherent", 0.5, 0.5, 1),
])
def test_numerical_range_is_enclosed(n_qubits, charger, kappa, n_th, d):
    mean = 2.0 if charger == "thermal" else float(n_qubits)
    n_cut = min(states.choose_n_cut(charger, mean, n_qubits, n_th, None), 40)
    k_max = n_cut if n_th == 0 else n_cut + n_qubits
    sec = sectors.make_sector(d, k_max, n_qubits, n_cut, 1.0)
    prop = chebyshev.SectorPropagator(sec, kappa, n_th, n_cut, n_qubits)
    L, idx = _dense_generator(prop)
    # the kernel really is the generator: trace preservation in sector 0
    if d == 0:
        diag = idx[:, 1] == idx[:, 2]
        np.testing.assert_allclose(L[diag][:, diag].sum(axis=0), 0.0, atol=1e-9 * kappa * n_cut)
    sym = 0.5 * (L + L.T)
    skew = 0.5 * (L - L.T)
    ev = np.linalg.eigvalsh(sym)
    re_min, re_max, im_dis = chebyshev.dissipator_range(sec, kappa, n_th, n_cut)
    W = chebyshev.commutator_spread(sec)
    tol = 1e-9 * (abs(re_min) + W + 1.0)
    assert ev.min() >= re_min - tol
    assert ev.max() <= re_max + tol
    assert np.linalg.norm(skew, 2) <= W + im_dis + tol
    # the bounds are not vacuous: the real extent is within a factor 2 of the truth
    assert -re_min <= 2.0 * -ev.min() + 1.0
    # and the chosen ellipse contains the bounding rectangle's corners
    ex = prop.exp
    corner = complex(re_min, W + im_dis)
    for z in (corner, corner.conjugate(), complex(max(re_max, 0.0), W + im_dis)):
        x = (z - ex.sigma) / ex.gamma
        assert chebyshev._rho(x) <= ex.rho * (1 + 1e-9)
