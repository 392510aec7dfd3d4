"""Results do not depend on the solver tolerances (issue "physics core", item 4).

Tightening rtol/atol 100× (1e-10, 1e-12 → 1e-12, 1e-14) must not move τ̄
(relative), Ē, ℰ̄, E_c or Q (absolute) beyond 1e-8 (conftest.TOL): otherwise
the default tolerances would not deliver the book's accuracy.

For method="blocks" (Chebyshev) rtol/atol are accepted but the series is
always summed to machine precision; the check is then that they do not
change anything either.  The step-size-controlled engines are "blocks-rk"
(DOP853) and "dicke" (QuTiP).
"""
from __future__ import annotations

import numpy as np
import pytest

import qbhelpers as qb
from conftest import TOL

TIGHT = {"rtol": 1e-12, "atol": 1e-14}


@pytest.mark.parametrize("method,n,charger,kappa,n_th", [
    ("blocks", 3, "coherent", 1.0, 0.0),
    ("blocks", 2, "thermal", 0.0, 0.0),
    ("blocks-rk", 3, "coherent", 1.0, 0.0),
    ("blocks-rk", 2, "thermal", 0.0, 0.0),
    ("blocks-rk", 2, "thermal", 1.0, 0.0),
    ("blocks-rk", 4, "fock", 0.3, 0.0),
    ("blocks-rk", 2, "coherent", 0.5, 0.2),
    ("dicke", 2, "fock", 0.3, 0.0),
    ("dicke", 2, "coherent", 1.0, 0.0),
    ("dicke", 1, "thermal", 0.0, 0.0),
])
def test_first_max_insensitive_to_tightening_tolerances(method, n, charger, kappa, n_th):
    default = qb.first_max(n, charger, kappa, n_th=n_th, method=method)
    tight = qb.first_max(n, charger, kappa, n_th=n_th, method=method, **TIGHT)
    assert tight.tau == pytest.approx(default.tau, rel=TOL, abs=0)
    for f in ("energy", "ergotropy", "E_c", "Q"):
        assert getattr(tight, f) == pytest.approx(getattr(default, f), rel=0, abs=TOL), f


@pytest.mark.parametrize("method,n,charger,kappa", [
    ("blocks-rk", 3, "coherent", 1.0),
    ("blocks-rk", 2, "thermal", 1.0),
    ("dicke", 2, "coherent", 1.0),
])
def test_trajectory_insensitive_to_tightening_tolerances(method, n, charger, kappa):
    t = np.linspace(0.0, 2.0, 9)
    default = qb.charge(n, charger, kappa, times=t, method=method)
    tight = qb.charge(n, charger, kappa, times=t, method=method, **TIGHT)
    for f in ("E_h", "E_c", "Q", "ergotropy", "holder_states"):
        np.testing.assert_allclose(getattr(tight, f), getattr(default, f), rtol=0, atol=TOL,
                                   err_msg=f)
