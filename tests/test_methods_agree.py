"""The engines agree (issue "physics core", item 2).

``method="blocks"`` (production: Chebyshev propagation of excitation sectors)
is the reference; it is compared with

* ``"blocks-rk"``: the same sectors integrated by DOP853 (another propagator);
* ``"dicke"``: QuTiP ``mesolve`` on the (n_cut+1)(N+1) Dicke basis;
* ``"full"``: QuTiP on the (n_cut+1)·2^N tensor-product basis, where the
  holder ergotropy is the *generic* ``ergotropy(rho_h, H_h)`` on 2^N states,
  so agreement also checks the closed form E_h − (1 − r_max) of the others.

Tolerance: 1e-8 absolute on energies, heat, ergotropies and holder-state
entries, 1e-8 relative on τ̄ (conftest.TOL).

Cost control (the QuTiP engines grow fast with n_cut and 2^N): the largest
"full"/"dicke" cases run at a single κ and along a trajectory only, and for
the big thermal "full"/"dicke" cases the charger is filled less (``mean_photons`` below N) so that n_cut stays
small.  This changes the physical case, not what is checked: both engines get
identical parameters, hence identical truncated models, and must agree.
The photon truncation tolerance is never loosened here: with a truncated
(sub-normalised) state the closed-form and generic ergotropies legitimately
differ by the dropped tail, so a loose truncation would blur the check.
"""
from __future__ import annotations

import numpy as np
import pytest

import qbhelpers as qb
from conftest import TOL
from qbhelpers.problem import make_setup

KAPPAS = (0.0, 0.3, 1.0, 2.5)


def times_for(n_qubits: int) -> np.ndarray:
    """7 times from 0 to 1.8/N^0.4 (1.8 for N = 1, 1.03 for N = 4): through
    the first maximum of the κ = 0 Fock battery (τ̄ = 1.57 for N = 1, 0.92 for
    N = 4; dissipation only shortens it) and not much further, because the
    cost of the QuTiP engines grows with the length of the run."""
    return np.linspace(0.0, 1.8 / n_qubits ** 0.4, 7)


FIRST_MAX_FIELDS = ("energy", "ergotropy", "ergotropy_symmetric", "E_c", "Q", "power")
TRAJECTORY_FIELDS = ("E_h", "E_c", "Q", "ergotropy", "ergotropy_symmetric", "holder_states")


def _id(case):
    m, c, n, k, nth, x = case
    extra = "".join(f"-{key}={val}" for key, val in x.items())
    return f"{m}-{c}-N{n}-k{k}-nth{nth}{extra}"


#: Every registered method but the production one is compared with it.
REFERENCES = tuple(m for m in qb.engines.METHODS if m != "blocks")

#: Largest state (entries, as the method itself counts them) a reference
#: engine integrates here: the QuTiP engines grow as ((n_cut+1)·dim)^2.
STATE_BUDGET = 30_000


def _physical_cases():
    """(charger, N, κ, n_th, extra keyword arguments).  For the thermal
    charger at N ≥ 2 the charger is also filled less (``mean_photons`` below
    N) so that n_cut, and the reference engines' cost, stay small."""
    out = []
    for charger in ("fock", "coherent", "thermal"):
        for n in (1, 2, 3, 4):
            for k in (KAPPAS if n <= 2 else (0.3, 2.5)):
                out.append((charger, n, k, 0.0, {}))
    out += [("fock", 3, 0.0, 0.0, {}), ("fock", 3, 1.0, 0.0, {}), ("fock", 4, 0.0, 0.0, {}),
            ("fock", 4, 1.0, 0.0, {}), ("coherent", 3, 0.0, 0.0, {}),
            ("coherent", 3, 1.0, 0.0, {}), ("coherent", 4, 0.0, 0.0, {}),
            ("coherent", 4, 1.0, 0.0, {})]
    out += [("thermal", 2, k, 0.0, {"mean_photons": 1.0}) for k in (0.0, 0.3)]
    out += [("thermal", 3, 0.3, 0.0, {"mean_photons": 1.0}),
            ("thermal", 3, 0.3, 0.0, {"mean_photons": 0.25})]
    # warm bath
    out += [("fock", 2, 0.3, 0.2, {}), ("coherent", 1, 1.0, 0.2, {}),
            ("thermal", 1, 0.3, 0.2, {}), ("coherent", 3, 1.0, 0.2, {}),
            ("coherent", 2, 1.0, 0.2, {})]
    return out


def _size(method, case) -> int:
    charger, n, kappa, n_th, extra = case
    setup = make_setup(n, charger, kappa, n_th=n_th, method=method, **extra)
    return setup.method.state_size(setup)


def _cases():
    """(method, charger, N, κ, n_th, extra): every reference method on every
    physical case within its state budget."""
    return [(m, *case) for m in REFERENCES for case in _physical_cases()
            if _size(m, case) <= STATE_BUDGET]


CASES = _cases()
#: The biggest problems, compared along a trajectory only (one solver run,
#: where first_max needs a march plus a root search), for every reference
#: method whose state fits TRAJECTORY_BUDGET; above SLOW entries they are
#: marked slow (the full basis for coherent N = 4: n_cut = 23, 384 states).
TRAJECTORY_BUDGET = 150_000
SLOW = 100_000
BIG_CASES = [("coherent", 4, 1.0, 0.0, {}), ("thermal", 4, 0.3, 0.0, {"mean_photons": 0.25}),
             ("thermal", 4, 1.0, 0.0, {"mean_photons": 1.0})]
TRAJECTORY_CASES = CASES + [
    pytest.param((m, *case), id=_id((m, *case)),
                 marks=[pytest.mark.slow] if _size(m, case) > SLOW else [])
    for m in REFERENCES for case in BIG_CASES if _size(m, case) <= TRAJECTORY_BUDGET]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_first_max_agrees_with_blocks(case):
    method, charger, n, kappa, n_th, extra = case
    ref = qb.first_max(n, charger, kappa, n_th=n_th, **extra)
    got = qb.first_max(n, charger, kappa, n_th=n_th, method=method, **extra)
    assert got.method == method and got.n_cut == ref.n_cut
    assert got.tau == pytest.approx(ref.tau, rel=TOL, abs=0)
    assert got.rate == pytest.approx(ref.rate, rel=TOL, abs=0)
    for f in FIRST_MAX_FIELDS:
        assert getattr(got, f) == pytest.approx(getattr(ref, f), rel=0, abs=TOL), f


@pytest.mark.parametrize("case", TRAJECTORY_CASES, ids=_id)
def test_trajectory_agrees_with_blocks(case):
    method, charger, n, kappa, n_th, extra = case
    times = times_for(n)
    if (method, charger, n) == ("full", "coherent", 4):
        times = np.linspace(0.0, 0.8, 5)  # τ̄ = 0.73 here; the costliest run of the suite
    ref = qb.charge(n, charger, kappa, n_th=n_th, times=times, **extra)
    got = qb.charge(n, charger, kappa, n_th=n_th, times=times, method=method, **extra)
    assert got.n_cut == ref.n_cut
    assert got.holder_states.shape == (times.size, n + 1, n + 1)
    for f in TRAJECTORY_FIELDS:
        np.testing.assert_allclose(getattr(got, f), getattr(ref, f), rtol=0, atol=TOL,
                                   err_msg=f)
    # the charging actually happened: the comparison is not between zeros
    assert ref.E_h.max() > 0.05


CHARGER_CASES = [("coherent", 2, 0.3, 0.0, {}), ("coherent", 1, 1.0, 0.2, {}),
                 ("coherent", 3, 1.0, 0.2, {}), ("fock", 2, 1.0, 0.0, {}),
                 ("coherent", 1, 1.0, 0.0, {})]


@pytest.mark.parametrize("method,charger,n,kappa,n_th", [
    (m, c, n, k, nth) for m in REFERENCES for (c, n, k, nth, x) in CHARGER_CASES
    if _size(m, (c, n, k, nth, x)) <= STATE_BUDGET])
def test_charger_ergotropy_agrees_with_blocks(method, charger, n, kappa, n_th):
    """The charger state is reassembled from every sector by "blocks" and by a
    partial trace by QuTiP; its ergotropy must agree along the trajectory.
    (Regression: "blocks-rk" once reported states inside a DOP853 step through
    the dense-output interpolant, 1e-5 off in this ergotropy at n_th > 0.)"""
    times = np.linspace(0.0, 2.0, 9)
    ref = qb.charge(n, charger, kappa, n_th=n_th, times=times, with_charger=True)
    got = qb.charge(n, charger, kappa, n_th=n_th, times=times, with_charger=True, method=method)
    # a coherent charger starts pure: all of its energy n̄ = N is ergotropy
    assert ref.charger_ergotropy[0] == pytest.approx(n, abs=TOL)
    np.testing.assert_allclose(got.charger_ergotropy, ref.charger_ergotropy, rtol=0, atol=TOL)
