"""Results do not depend on the solver tolerances (issue "physics core", item 4).

Tightening rtol/atol 100× (1e-10, 1e-12 → 1e-12, 1e-14) must not move τ̄
(relative), Ē, ℰ̄, E_c or Q (absolute) beyond 1e-8 (conftest.TOL): otherwise
the default tolerances would not deliver the book's accuracy.

Tolerances are options of the methods that use them (the step-size-controlled
ones: "blocks-rk", DOP853, and the QuTiP engines); the tests run over every
registered method that has them.  The Chebyshev engine ("blocks") has no
tolerance: its series are always summed to machine precision.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import qbhelpers as qb
from conftest import TOL
from qbhelpers.problem import make_setup

#: Methods whose options include rtol and atol.
TOLERANT = tuple(name for name, cls in qb.engines.REGISTRY.items()
                 if {"rtol", "atol"} <= {f.name for f in dataclasses.fields(cls)})
#: The QuTiP engines are checked on states up to this size (entries) here.
STATE_BUDGET = 6_500


def _tight(name: str):
    return dataclasses.replace(qb.engines.REGISTRY[name](), rtol=1e-12, atol=1e-14)


def _within_budget(method, n, charger, kappa, n_th=0.0) -> bool:
    setup = make_setup(n, charger, kappa, n_th=n_th, method=method)
    return setup.method.state_size(setup) <= STATE_BUDGET


FIRST_MAX_CASES = [(3, "coherent", 1.0, 0.0), (2, "thermal", 0.0, 0.0), (2, "thermal", 1.0, 0.0),
                   (4, "fock", 0.3, 0.0), (2, "coherent", 0.5, 0.2), (2, "fock", 0.3, 0.0),
                   (2, "coherent", 1.0, 0.0), (1, "thermal", 0.0, 0.0)]


def test_the_tolerant_methods_are_the_step_size_controlled_ones():
    assert set(TOLERANT) == {"blocks-rk", "dicke", "full"}
    assert "blocks" not in TOLERANT


@pytest.mark.parametrize("method,n,charger,kappa,n_th", [
    (m, *case) for m in TOLERANT for case in FIRST_MAX_CASES if _within_budget(m, *case)])
def test_first_max_insensitive_to_tightening_tolerances(method, n, charger, kappa, n_th):
    default = qb.first_max(n, charger, kappa, n_th=n_th, method=method)
    tight = qb.first_max(n, charger, kappa, n_th=n_th, method=_tight(method))
    assert tight.tau == pytest.approx(default.tau, rel=TOL, abs=0)
    for f in ("energy", "ergotropy", "E_c", "Q"):
        assert getattr(tight, f) == pytest.approx(getattr(default, f), rel=0, abs=TOL), f


@pytest.mark.parametrize("method,n,charger,kappa", [
    (m, *case) for m in TOLERANT
    for case in [(3, "coherent", 1.0), (2, "thermal", 1.0), (2, "coherent", 1.0)]
    if _within_budget(m, *case)])
def test_trajectory_insensitive_to_tightening_tolerances(method, n, charger, kappa):
    t = np.linspace(0.0, 2.0, 9)
    default = qb.charge(n, charger, kappa, times=t, method=method)
    tight = qb.charge(n, charger, kappa, times=t, method=_tight(method))
    for f in ("E_h", "E_c", "Q", "ergotropy", "holder_states"):
        np.testing.assert_allclose(getattr(tight, f), getattr(default, f), rtol=0, atol=TOL,
                                   err_msg=f)
