"""Property-based check (Hypothesis) over small valid inputs (issue 12).

Hypothesis draws a battery — N ≤ 4 qubits, any charger, κ ∈ [0, 50],
n_th ∈ [0, 2], either version — and the default engine ("blocks",
Chebyshev) must agree with "blocks-rk" (DOP853, an independent propagator
of the same equations) and keep the energy balance:

* along a short trajectory (E_h, E_c, Q, ergotropies, holder states, to
  TOL = 1e-8, the book's accuracy), with E_h + E_c + Q = n̄ to TOL for both;
* at the first maximum (τ̄ relative, the figures absolute, to TOL), both
  engines reporting the same answer when there is none (NoMaximumError),
  and Ē + E_c + Q = n̄ there.

Bounded time: the profile is derandomized with no example database (the same
examples on every machine and run), 25 examples, no per-example deadline;
instead, a first maximum whose Runge–Kutta search is estimated
(:meth:`Method.estimate`) to take more than SEARCH_BUDGET seconds, or that
runs past a work limit of a few seconds, is left out (the trajectory is still
checked), and the trajectory window shrinks with κ.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import qbhelpers as qb
from conftest import TOL
from qbhelpers import problem
from qbhelpers.engines import CostLimitError
from qbhelpers.problem import expected_search, make_setup

#: Largest estimated duration (s) of the Runge–Kutta first-maximum search that
#: the property test runs.
SEARCH_BUDGET = 1.5
#: The work limit while the test runs (s of estimated work, see
#: qbhelpers.problem.MAX_SECONDS): a search that finds no maximum early (E_h
#: saturates under a warm bath) is stopped with a CostLimitError instead of
#: scanning its whole quiet window (which took 6 minutes for N = 1, κ = 39,
#: n_th = 2 with Runge–Kutta).
WORK_LIMIT = "3"


@pytest.fixture(scope="module", autouse=True)
def work_limit():
    saved = os.environ.get(problem.MAX_SECONDS_VARIABLE)
    os.environ[problem.MAX_SECONDS_VARIABLE] = WORK_LIMIT
    yield
    if saved is None:
        del os.environ[problem.MAX_SECONDS_VARIABLE]
    else:
        os.environ[problem.MAX_SECONDS_VARIABLE] = saved

PROFILE = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

batteries = st.fixed_dictionaries({
    "n_qubits": st.integers(1, 4),
    "charger": st.sampled_from(["fock", "coherent", "thermal"]),
    "kappa": st.one_of(st.just(0.0), st.floats(0.0, 50.0, allow_nan=False)),
    "n_th": st.one_of(st.just(0.0), st.floats(0.0, 2.0, allow_nan=False)),
    "version": st.sampled_from(["collective", "parallel"]),
})


def _window(kappa: float) -> np.ndarray:
    """Four times through the early dynamics, shorter when the loss is fast."""
    return np.linspace(0.0, min(1.5, 6.0 / (kappa + 1e-300)), 4)


@PROFILE
@given(batteries)
def test_default_engine_agrees_with_runge_kutta_and_keeps_the_balance(b):
    n, charger, kappa, n_th = b["n_qubits"], b["charger"], b["kappa"], b["n_th"]
    note(f"battery: {b}")

    # ---- a short trajectory of the collective battery
    t = _window(kappa)
    ref = qb.charge(n, charger, kappa, n_th=n_th, times=t)
    rk = qb.charge(n, charger, kappa, n_th=n_th, times=t, method="blocks-rk")
    assert rk.n_cut == ref.n_cut
    for f in ("E_h", "E_c", "Q", "ergotropy", "ergotropy_symmetric", "holder_states"):
        np.testing.assert_allclose(getattr(ref, f), getattr(rk, f), rtol=0, atol=TOL,
                                   err_msg=f)
    for tr in (ref, rk):
        np.testing.assert_allclose(tr.balance, n, rtol=0, atol=TOL)

    # ---- the first maximum, when its Runge–Kutta search is cheap enough
    version = b["version"]
    cell = (n, n) if version == "collective" else (1, 1)
    setup = make_setup(cell[0], charger, kappa, n_th=n_th, mean_photons=cell[1],
                       method="blocks-rk")
    est = setup.method.estimate(setup, expected_search(setup, cell[1]))
    if est.seconds > SEARCH_BUDGET:
        event("first maximum: left out (estimated too long)")
        return
    outcomes = []
    for method in ("blocks", "blocks-rk"):
        try:
            outcomes.append(qb.first_max(n, charger, kappa, n_th=n_th, version=version,
                                         method=method))
        except qb.NoMaximumError:
            outcomes.append(None)
        except CostLimitError:
            event("first maximum: left out (work limit reached)")
            return
    fm, fm_rk = outcomes
    assert (fm is None) == (fm_rk is None), "one engine found a maximum, the other none"
    if fm is None:
        event("first maximum: none, for both engines")
        return
    event("first maximum: compared")
    assert fm.tau == pytest.approx(fm_rk.tau, rel=TOL, abs=0)
    for f in ("energy", "ergotropy", "ergotropy_symmetric", "E_c", "Q", "power"):
        assert getattr(fm, f) == pytest.approx(getattr(fm_rk, f), rel=0, abs=TOL), f
    assert fm.energy + fm.E_c + fm.Q == pytest.approx(n, abs=TOL)
    assert math.isfinite(fm.rate) and fm.rate > 0
