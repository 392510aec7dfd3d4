"""Edges of the accepted input (issue 12): every accepted input finishes in
bounded time and memory or is refused before any solver runs, and no false
answer comes out at the edges.  One regression test (or a few) per item of
the issue, in its order.

Tolerances: TOL = 1e-8 (conftest) for physics compared across methods or
with closed forms; where a number is exact to rounding (the overdamped closed
form against the Chebyshev engine, measured 4e-16) the bound says so in a
comment.  Time bounds are generous (10× what was measured on the project's
2-core machine) so that a loaded machine does not fail them; what they catch
is a hang (hours), not a slowdown.
"""
from __future__ import annotations

import math
import time
import tracemalloc

import numpy as np
import pytest

import qbhelpers as qb
from conftest import TOL
from qbhelpers import battery, problem, units
from qbhelpers.engines import CostLimitError
from qbhelpers.engines.reference import quadrature_step
from qbhelpers.problem import make_setup


def overdamped_first_max(kappa: float, g: float = 1.0) -> tuple[float, float]:
    """τ̄ and Ē of one qubit charged by one photon for κ > 2g (SPEC §5).

    In the one-excitation sector the no-jump amplitudes of |1, g⟩ and |0, e⟩
    obey c₁' = −κc₁ − igc₂, c₂' = −igc₁ (the jump leaves |0, g⟩, which is
    dark), so c₂(t) = −ig (e^{−λ₁t} − e^{−λ₂t})/(λ₂ − λ₁) with
    λ₁,₂ = (κ ∓ √(κ² − 4g²))/2, and E_h = |c₂|² peaks where
    λ₁e^{−λ₁t} = λ₂e^{−λ₂t}: τ̄ = ln(λ₂/λ₁)/(λ₂ − λ₁).  λ₁ is computed as
    g²/λ₂ (no cancellation at large κ)."""
    root = math.sqrt(kappa * kappa - 4 * g * g)
    fast = 0.5 * (kappa + root)
    slow = g * g / fast
    tau = math.log(fast / slow) / root
    energy = g * g / root ** 2 * (math.exp(-slow * tau) - math.exp(-fast * tau)) ** 2
    return tau, energy


# ------------------------------------------- item 1: reference engines' memory
def test_reference_engine_keeps_no_state_per_quadrature_node():
    """Regression: "dicke"/"full" stored the state at every quadrature node
    (4.8 GB for an 84-dimensional problem).  Here the heat quadrature has
    thousands of nodes; the peak of Python-allocated memory must stay at a few
    states, far below one state per node."""
    setup = make_setup(1, "fock", 2.0, n_th=0.5, method="dicke")
    t_end = 2.0
    nodes = 8 * t_end / quadrature_step(setup)
    assert nodes > 2000  # the old engine would have kept this many states
    state_bytes = 16 * ((setup.n_cut + 1) * 2) ** 2
    qb.charge(1, "fock", 2.0, n_th=0.5, times=[0.0, 0.1], method="dicke")  # warm up QuTiP
    tracemalloc.start()
    try:
        tr = qb.charge(1, "fock", 2.0, n_th=0.5, times=np.linspace(0.0, t_end, 5),
                       method="dicke")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * state_bytes < nodes * state_bytes / 10
    # and the heat is still right: the balance (Q integrated on its own)
    np.testing.assert_allclose(tr.balance, 1.0, rtol=0, atol=TOL)


def test_a_reference_run_beyond_memory_is_refused_before_it_starts(no_solver, monkeypatch):
    """Regression: first_max(10, method="full") (and `sweep --n 10 --method
    full`) passed validation and died in a MemoryError inside QuTiP."""
    monkeypatch.setenv(problem.MAX_MEMORY_VARIABLE, "16")  # as on a 20 GB machine
    with pytest.raises(CostLimitError, match=r"(?s)memory.*n_qubits=10.*method='full'"):
        qb.first_max(10, "fock", 0.5, method="full")


# ------------------------------------------------------ item 2: no hangs
def test_very_long_runs_end_in_the_steady_state():
    """Regression: charge(1, "fock", 0.5, times=[0, 1e15]) never ended, and
    times=[0, 1e4] took 54 s for two points.  Past the relaxation time the
    battery is in its steady state (vacuum, qubit in its ground state: every
    photon has gone to the bath, Q = n̄)."""
    start = time.perf_counter()
    for t_end in (1e4, 1e15):
        tr = qb.charge(1, "fock", 0.5, times=[0.0, 1.0, t_end])
        assert tr.E_h[-1] == pytest.approx(0.0, abs=1e-15)
        assert tr.E_c[-1] == pytest.approx(0.0, abs=1e-15)
        assert tr.Q[-1] == pytest.approx(1.0, abs=TOL)
        np.testing.assert_allclose(tr.balance, 1.0, rtol=0, atol=TOL)
    assert time.perf_counter() - start < 30  # measured 0.1 s


def test_the_steady_state_route_agrees_with_integrating_all_the_way(monkeypatch):
    """The steady-state values the long run reports are what integrating the
    whole span gives (warm bath: the Gibbs state, E_h = n_th/(2n_th+1))."""
    times = np.array([0.0, 2.0, 150.0, 300.0])
    routed = qb.charge(1, "fock", 1.0, n_th=0.5, times=times)
    monkeypatch.setattr(battery, "LONG_RUN", math.inf)  # no shortcut
    direct = qb.charge(1, "fock", 1.0, n_th=0.5, times=times, n_cut=routed.n_cut)
    for f in ("E_h", "E_c", "Q", "ergotropy", "ergotropy_symmetric", "holder_states"):
        np.testing.assert_allclose(getattr(routed, f), getattr(direct, f), rtol=0, atol=TOL,
                                   err_msg=f)
    assert routed.E_h[-1] == pytest.approx(0.5 / 2.0, abs=TOL)


def test_a_strongly_damped_battery_followed_until_it_relaxes_is_propagated_exactly():
    """κ = 1000g: the qubit relaxes at 2g²/κ (time ~κ/g²) while a step lasts
    ~1/(4κ): 2e8 generator applications, 81 min, beyond the work limit.  The
    generator of its one small sector is diagonalised instead (exact for any
    t); E_h(t) = g²(e^{−λ₁t} − e^{−λ₂t})²/(λ₂ − λ₁)² (see
    overdamped_first_max) at every time, the balance to TOL."""
    kappa = 1000.0
    times = np.array([0.0, 1e-3, 1e-2, 1.0, 1e3, 1e6])
    setup = make_setup(1, "fock", kappa, t_span=times[-1])
    with pytest.raises(CostLimitError):  # stepping would be refused ...
        problem.check_cost(setup, times[-1], what="stepping")
    start = time.perf_counter()
    tr = qb.charge(1, "fock", kappa, times=times)  # ... so it is propagated exactly
    assert time.perf_counter() - start < 10.0  # measured 0.2 s
    root = math.sqrt(kappa ** 2 - 4)
    fast, slow = 0.5 * (kappa + root), 2 / (kappa + root)
    exact = (np.exp(-slow * times) - np.exp(-fast * times)) ** 2 / root ** 2
    # relative accuracy of the small numbers: about cond(V)·1e-16 of the state
    np.testing.assert_allclose(tr.E_h, exact, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(tr.balance, 1.0, rtol=0, atol=TOL)
    early = qb.charge(1, "fock", kappa, times=times[:4])  # stepped by blocks
    for f in ("E_h", "E_c", "Q", "holder_states"):
        np.testing.assert_allclose(getattr(tr, f)[:4], getattr(early, f), rtol=0, atol=TOL,
                                   err_msg=f)


def test_a_closed_battery_over_astronomical_times_is_refused_up_front(no_solver):
    """κ = 0 never relaxes: 1e15 time units would take centuries; refused
    with the estimate and what to change."""
    with pytest.raises(CostLimitError, match=r"(?s)would take about .*years.*time span"):
        qb.charge(1, "fock", 0.0, times=[0.0, 1e15])


@pytest.mark.parametrize("call, names", [
    (lambda: qb.first_max(1, "fock", 0.5, mean_photons=10**6), r"n_cut=1000000"),
    (lambda: qb.first_max(1, "fock", 0.5, n_cut=10**6), r"n_cut=1000000"),
    (lambda: qb.first_max(1, "fock", 0.5, n_th=100.0), r"n_th=100"),
], ids=["fock-1e6-photons", "n_cut-1e6", "n_th-100"])
def test_costly_inputs_are_refused_before_any_solver_runs(call, names, no_solver, monkeypatch):
    """Regression: these ran for hours.  The limit is the expected duration;
    n_th = 100 (about 5 min here) is refused under a 60 s limit, the others
    under the default one."""
    monkeypatch.setenv(problem.MAX_SECONDS_VARIABLE, "60")
    with pytest.raises(CostLimitError, match=names) as info:
        call()
    assert problem.MAX_SECONDS_VARIABLE in str(info.value)


def test_the_work_limit_can_be_raised_or_lifted(monkeypatch):
    setup = make_setup(1, "fock", 0.5)
    monkeypatch.setenv(problem.MAX_SECONDS_VARIABLE, "inf")
    assert problem.max_seconds() == math.inf
    monkeypatch.setenv(problem.MAX_SECONDS_VARIABLE, "1e-9")
    with pytest.raises(CostLimitError):
        problem.check_cost(setup, 1.0, what="this run")
    monkeypatch.setenv(problem.MAX_SECONDS_VARIABLE, "soon")
    with pytest.raises(ValueError, match=problem.MAX_SECONDS_VARIABLE):
        problem.max_seconds()


def test_a_search_that_runs_past_its_work_limit_is_stopped(monkeypatch):
    """A search expected to be cheap that runs on (E_h only saturates here:
    no maximum, the search would go on for 20 time scales) is stopped at its
    work limit with a CostLimitError, not left to run."""
    setup = make_setup(1, "fock", 5.0, n_th=0.2, method="blocks-rk")
    t_est = problem.expected_search(setup, 1.0)
    est = setup.method.estimate(setup, t_est)
    monkeypatch.setenv(problem.MAX_SECONDS_VARIABLE, repr(1.5 * est.seconds))
    with pytest.raises(CostLimitError, match=r"reached t=.* without finding it"):
        qb.first_max(1, "fock", 5.0, n_th=0.2, method="blocks-rk")


def test_a_tiny_coupling_is_as_fast_as_g_equal_one():
    """Regression: g <= 1e-17 made the expansion choice use an absolute 1e-12
    floor, so the steps were tiny and the run took seconds to hours.  Results
    depend on g·t only."""
    start = time.perf_counter()
    fm = qb.first_max(1, "fock", 0.0, g=1e-17)
    assert time.perf_counter() - start < 1.0  # measured 0.005 s at g = 1
    assert fm.tau * 1e-17 == pytest.approx(math.pi / 2, rel=1e-12)


# ---------------------------------------- item 3: the overdamped first maximum
@pytest.mark.parametrize("kappa", [3.0, 10.0, 100.0, 2000.0, 1e4, 1e5, 5e5, 1e6])
def test_overdamped_first_max_matches_the_closed_form(kappa):
    """Regression: first_max(1, "fock", 2000) raised NoMaximumError after 48 s
    (an absolute noise floor took the tiny, clean maximum for rounding) and
    κ = 1e6 ran for hours.  Measured agreement: 4e-16 (τ̄) and 3e-15 (Ē,
    relative, Ē ~ 1e-12 at κ = 1e6); 1e-12 leaves three orders of margin."""
    start = time.perf_counter()
    fm = qb.first_max(1, "fock", kappa)
    elapsed = time.perf_counter() - start
    tau, energy = overdamped_first_max(kappa)
    assert fm.tau == pytest.approx(tau, rel=1e-12)
    assert fm.energy == pytest.approx(energy, rel=1e-12)
    assert elapsed < 10.0  # measured 0.01 s


@pytest.mark.parametrize("method", ["blocks-rk", "dicke"])
def test_a_rise_shorter_than_the_sample_spacing_is_found(method):
    """Regression: at κ = 100 the stepping engines' first sample came after
    τ̄, the search bracketed [0, t] with dE_h/dt(0) = 0 and returned τ̄ = 0
    (ZeroDivisionError in the power).  Their accuracy here is set by their
    absolute tolerance atol = 1e-12 on a maximum only 1e-4 high: 1e-7."""
    fm = qb.first_max(1, "fock", 100.0, method=method)
    tau, energy = overdamped_first_max(100.0)
    assert fm.tau == pytest.approx(tau, rel=1e-7)
    assert fm.energy == pytest.approx(energy, rel=1e-7)


# --------------------------- item 4: the references at a flat maximum, warm bath
@pytest.mark.parametrize("method", ["dicke", "full"])
def test_references_place_a_flat_maximum_like_blocks(method):
    """Regression: with a warm bath the maximum is flat (|E_h''(τ̄)|·τ̄ =
    3e-4 here), so an error δ in dE_h/dt moves τ̄ by δ/|E_h''|; the QuTiP
    references (Adams, default tolerances) put τ̄ 1.2e-6 away from blocks.
    With Verner's 9th-order integrator they agree to 1.4e-11."""
    ref = qb.first_max(1, "fock", 3.0, n_th=0.5)
    got = qb.first_max(1, "fock", 3.0, n_th=0.5, method=method)
    assert got.tau == pytest.approx(ref.tau, rel=TOL)
    for f in ("energy", "ergotropy", "E_c", "Q"):
        assert getattr(got, f) == pytest.approx(getattr(ref, f), abs=TOL), f


# ------------------------------------------------- item 8: discharge_trajectory
def test_discharge_trajectory_reports_the_charging_setup_and_its_balance():
    """Regression: it returned mean_photons=0 and the charging charger, and its
    balance was documented as n̄ but equals the initial holder energy (off by
    0.96 for N = 2, coherent, κ = 0.5)."""
    tr = qb.discharge_trajectory(2, "coherent", 0.5, times=np.linspace(0.0, 2.0, 9))
    d = qb.discharge(2, "coherent", 0.5)
    assert tr.stage == "discharging"
    assert (tr.charger, tr.mean_photons, tr.n_qubits, tr.kappa) == ("coherent", 2.0, 2, 0.5)
    assert tr.setup == d.setup  # the charging run's record
    assert tr.E_h[0] == pytest.approx(d.E_start, abs=TOL)
    np.testing.assert_allclose(tr.balance, d.E_start, rtol=0, atol=TOL)
    assert abs(tr.balance[0] - tr.mean_photons) > 0.5  # not n̄: the holder's energy
    assert "initial holder energy" in type(tr).balance.__doc__


# --------------------------------------------------- item 9: ergotropy inputs
@pytest.mark.parametrize("rho, H, exc, pattern", [
    (np.array([[0.5, 1.0], [0.0, 0.5]]), np.diag([0.0, 1.0]), ValueError, r"rho must be Hermitian"),
    (np.diag([1.5, -0.5]), np.diag([0.0, 1.0]), ValueError, r"positive semidefinite"),
    (np.diag([1.0, 1.0]), np.diag([0.0, 1.0]), ValueError, r"trace 1.*got trace 2"),
    (np.diag([0.5, 0.5]), np.array([[0.0, 1.0], [0.0, 1.0]]), ValueError, r"H must be Hermitian"),
    ("abc", np.diag([0.0, 1.0]), TypeError, r"rho must be a square matrix of numbers"),
    (np.diag([0.5, 0.5]), [["a", "b"], ["c", "d"]], TypeError, r"H must be a square matrix"),
    (np.ones((2, 3)) / 3, np.diag([0.0, 1.0]), ValueError, r"rho must be a square matrix"),
], ids=["non-hermitian", "negative", "trace-2", "H-non-hermitian", "string", "H-strings",
        "not-square"])
def test_ergotropy_refuses_what_is_not_a_state_or_a_hamiltonian(rho, H, exc, pattern):
    """Regression: a non-Hermitian ρ gave 0.0 or 0.5 depending on the triangle
    read, a non-positive ρ or a trace of 2 gave a number, a non-Hermitian H
    was accepted, and a string said "complex() arg is a malformed string"."""
    with pytest.raises(exc, match=pattern):
        qb.ergotropy(rho, H)


def test_the_holder_and_charger_ergotropies_check_their_state_too():
    with pytest.raises(ValueError, match=r"rho_h must be positive"):
        qb.holder_ergotropy(np.diag([1.2, -0.2]))
    with pytest.raises(ValueError, match=r"trace 1"):
        qb.charger_ergotropy(np.diag([1.0, 1.0]))
    # a state truncated by the package (trace 1 − tail) is still accepted
    assert qb.ergotropy(np.diag([0.0, 0.999]), np.diag([0.0, 1.0])) == pytest.approx(0.999)


# --------------------------------------- item 10: the warm-bath balance over time
def test_warm_bath_balance_holds_over_a_long_integrated_span(monkeypatch):
    """Regression: the balance drifted linearly in t (9.7e-10 at t = 100,
    2.8e-8 at t = 2000 for κ = 0.5, n_th = 1): the truncated gain a† cannot
    lift the top photon level, so E_h + E_c + Q leaks at 2κ n_th (n_cut+1)
    P_top.  The margin now grows with the span (here κt = 400: with the old
    n_cut = 41 the balance was 1.2e-8 off; now n_cut = 48, measured 3.3e-9).
    The steady-state shortcut is switched off, so the whole span is
    integrated."""
    monkeypatch.setattr(battery, "LONG_RUN", math.inf)
    tr = qb.charge(1, "fock", 2.0, n_th=1.0, times=np.linspace(0.0, 200.0, 5))
    old_margin = 2 + qb.physics.states.bath_margin(1.0)
    assert tr.n_cut > old_margin
    np.testing.assert_allclose(tr.balance, 1.0, rtol=0, atol=TOL)


@pytest.mark.parametrize("n_th", [0.1, 1.0, 2.0, 50.0])
@pytest.mark.parametrize("exposure", [0.0, 10.0, 1e4, 1e12])
def test_the_bath_margin_bounds_the_balance_drift(n_th, exposure):
    """bath_margin's promise, checked on its own formula: the bath's tail
    beyond the margin is below the truncation tolerance, and the drift bound
    exposure·n_th·(n_cut+1)·q^margin is below BALANCE_DRIFT_TOL; the margin
    grows like the logarithm of the exposure (2κ·time span)."""
    states = qb.physics.states
    base = 5
    m = states.bath_margin(n_th, exposure=exposure, base=base)
    q = n_th / (n_th + 1)
    assert states.truncation_error("thermal", n_th, m - 1) < states.TRUNCATION_TOL
    assert exposure * n_th * (base + m + 1) * q ** m <= states.BALANCE_DRIFT_TOL
    # and not more than needed: the smallest margin that meets both, by brute force
    least = states.bath_margin(n_th)
    while exposure * n_th * (base + least + 1) * q ** least > states.BALANCE_DRIFT_TOL:
        least += 1
    assert least <= m <= least + 1


@pytest.mark.parametrize("t_end", [1e3, 1e9])
def test_warm_bath_balance_holds_over_any_span(t_end):
    tr = qb.charge(2, "fock", 0.5, n_th=1.0, times=[0.0, 1.0, 10.0, t_end])
    np.testing.assert_allclose(tr.balance, 2.0, rtol=0, atol=TOL)
    # and the end is the Gibbs state of the qubits: E_h = Σ k q^k / Σ q^k, q = 1/2
    assert tr.E_h[-1] == pytest.approx((0.5 + 2 * 0.25) / 1.75, abs=TOL)


# ---------------------------------------------------- item 11: absurd sizes
@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: qb.first_max(1, g=1e200), ValueError, r"\bg must be at most"),
    (lambda: qb.first_max(1, g=1e-200), ValueError, r"\bg must be at least"),
    (lambda: qb.first_max(1, "fock", 1e9), ValueError, r"kappa must be at most"),
    (lambda: qb.first_max(1, "coherent", mean_photons=1e300), ValueError, r"mean_photons"),
    (lambda: qb.first_max(1, "coherent", mean_photons=1e15), ValueError, r"mean_photons"),
    (lambda: qb.first_max(1, "fock", n_cut=10**12), ValueError, r"n_cut must be at most"),
    (lambda: qb.first_max(1, "thermal", 0.5, mean_photons=1e9), ValueError,
     r"photon truncation needed"),
    (lambda: qb.first_max(2000, "fock", 0.5), CostLimitError, r"memory"),
], ids=["g-1e200", "g-1e-200", "kappa-over-g", "coherent-1e300", "coherent-1e15",
        "n_cut-1e12", "thermal-1e9", "N-2000"])
def test_absurd_sizes_are_refused_with_a_clear_message(call, exc, pattern, no_solver,
                                                       monkeypatch):
    """Regression: SciPy LinAlgError at g = 1e200, a hang or "Unable to
    allocate 7 PiB" for the huge charger states and n_cut."""
    monkeypatch.setenv(problem.MAX_MEMORY_VARIABLE, "16")
    start = time.perf_counter()
    with pytest.raises(exc, match=pattern):
        call()
    assert time.perf_counter() - start < 10.0  # refused at once (measured < 0.5 s)


# -------------------------------------------------------- item 12: leniencies
@pytest.mark.parametrize("times", [
    ["0", "1"], np.array([0.0, 1.0 + 1e-3j]), [0.0, 1.0 + 0j], "0 1", [False, True],
], ids=["strings", "complex", "complex-zero-imaginary", "text", "bools"])
def test_times_must_be_real_numbers(times, no_solver):
    """Regression: strings were accepted and complex times lost their
    imaginary part with only a warning."""
    with pytest.raises(TypeError, match=r"times must be a 1-D array of real numbers"):
        qb.charge(1, times=times)


@pytest.mark.parametrize("value", ["no", 0, 1, None, "False"])
def test_with_charger_must_be_a_bool(value, no_solver):
    """Regression: with_charger='no' counted as true."""
    with pytest.raises(TypeError, match=r"with_charger must be True or False"):
        qb.charge(1, times=[0.0, 1.0], with_charger=value)
    with pytest.raises(TypeError, match=r"with_charger"):
        qb.discharge_trajectory(1, times=[0.0, 1.0], with_charger=value)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: units.time_unit(0), ValueError, r"\bg must be > 0"),
    (lambda: units.time_unit(-1), ValueError, r"\bg must be > 0"),
    (lambda: units.rabi_frequency("1"), TypeError, r"\bg must be a real number"),
    (lambda: units.kappa_from_paper(-0.5), ValueError, r"kappa_over_omega_r must be >= 0"),
    (lambda: units.kappa_from_paper([0.1, -0.5]), ValueError, r"kappa_over_omega_r"),
    (lambda: units.kappa_from_paper("0.5"), TypeError, r"kappa_over_omega_r"),
    (lambda: units.kappa_to_paper(-1.0), ValueError, r"kappa must be >= 0"),
    (lambda: units.time_to_paper("1"), TypeError, r"\bt must be a real number"),
    (lambda: units.time_to_paper(1.0, g=math.nan), ValueError, r"\bg must be finite"),
    (lambda: units.rate_to_paper([1j]), TypeError, r"rate"),
], ids=["time_unit-0", "time_unit-neg", "rabi-str", "kappa-neg", "kappa-array-neg",
        "kappa-str", "kappa_to-neg", "time-str", "g-nan", "rate-complex"])
def test_units_helpers_check_their_arguments(call, exc, pattern):
    """Regression: time_unit(0) raised ZeroDivisionError, time_unit(-1)
    returned −π/2, and strings and negative κ went through."""
    with pytest.raises(exc, match=pattern):
        call()


# ----------------------------------------------------------- progress bars
def test_a_long_run_shows_progress_and_a_short_one_does_not(monkeypatch, capsys):
    """A run expected to last longer than PROGRESS_AFTER shows a tqdm bar on
    stderr (only on a terminal, or with QBHELPERS_PROGRESS=1); the tests and
    notebooks, whose stderr is not a terminal, see none by default."""
    qb.first_max(2, "fock", 0.5)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(problem, "PROGRESS_AFTER", 0.0)
    qb.first_max(2, "fock", 0.5)
    assert capsys.readouterr().err == ""  # stderr is not a terminal here
    monkeypatch.setenv(problem.PROGRESS_VARIABLE, "1")
    qb.first_max(2, "fock", 0.5)
    qb.charge(2, "fock", 0.5, times=[0.0, 1.0], method="blocks-rk")
    err = capsys.readouterr().err
    assert "qbhelpers: first_max" in err and "qbhelpers: charging trajectory" in err
    monkeypatch.setenv(problem.PROGRESS_VARIABLE, "0")
    qb.first_max(2, "fock", 0.5)
    assert capsys.readouterr().err == ""
