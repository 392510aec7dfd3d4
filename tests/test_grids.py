"""qbhelpers.grids: discharge grids, first maxima with gaps, edges found by
bisection, and where a curve first drops below a level.

Tolerances: the grids call the public verbs, so their entries must equal the
verbs' own results to rounding (1e-12).  The edge of the single cell's
discharge is a closed form (a damped oscillator, overdamped from κ = 2g on);
the bisection is asked for a bracket 0.02 wide around it.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import qbhelpers as qb
from qbhelpers import grids, units as u
from qbhelpers.grids import DISCHARGE_QUANTITIES

EXACT = 1e-12


def test_discharge_grid_equals_the_verbs():
    kappas = [0.0, u.kappa_from_paper(0.4)]
    grid = grids.discharge_grid([2, 3], kappas, "fock")
    assert grid.n_values == (2, 3) and grid.missing == []
    for i, n in enumerate(grid.n_values):
        for j, k in enumerate(kappas):
            col = qb.discharge(n, "fock", k)
            par = qb.discharge(n, "fock", k, version="parallel")
            for q in DISCHARGE_QUANTITIES:
                assert abs(grid.get(q)[i, j] - getattr(col, q)) <= EXACT * max(1.0, abs(getattr(col, q)))
                assert abs(grid.get(q, "parallel")[i, j] - getattr(par, q)) <= EXACT * max(1.0, n)
            gamma = qb.discharge_enhancement(n, "fock", k)
            for f in ("energy", "power", "rate"):
                assert abs(grid.enhancement(f)[i, j] - gamma[f]) < 1e-10
    assert np.allclose(grid.per_qubit("energy"), grid.get("energy") / np.array([[2], [3]]), rtol=EXACT)
    with pytest.raises(ValueError, match="not extensive"):
        grid.per_qubit("tau")


def test_discharge_grid_marks_missing_minima_as_nan():
    # one qubit: overdamped from kappa = 2g (kappa/Omega_R = 1) on, no first minimum
    k_over = u.kappa_from_paper(1.2)
    grid = grids.discharge_grid([2], [u.kappa_from_paper(0.3), k_over], "fock")
    assert np.isnan(grid.cell["tau"][1]) and np.isfinite(grid.cell["tau"][0])
    assert (1, k_over) in grid.missing
    assert np.isnan(grid.get("energy", "parallel")[0, 1])
    assert np.isnan(grid.enhancement("rate")[0, 1])


def test_discharge_grid_checks_every_point_first():
    with pytest.raises(ValueError, match="kappa"):
        grids.discharge_grid([1, 2], [0.1, -1.0])
    with pytest.raises(ValueError, match="charger"):
        grids.discharge_grid([1], [0.1], "squeezed")
    with pytest.raises(ValueError, match="n_values"):
        grids.discharge_grid([], [0.1])


def test_sweep_with_gaps_matches_first_max_grid_where_maxima_exist():
    kw = dict(n_th=0.5, chargers=("fock",))
    ks = [u.kappa_from_paper(0.5), u.kappa_from_paper(1.9)]   # one qubit at 1.9: no maximum
    gaps = grids.sweep_with_gaps([1, 2], ks, **kw)
    ref = qb.first_max_grid([1, 2], ks[:1], progress=False, **kw)
    for q in ref.data:
        assert np.allclose(gaps.data[q][..., :1], ref.data[q], rtol=EXACT, atol=EXACT)
    assert np.isnan(gaps.get("tau", "fock", "collective")[0, 1])      # the cell, N = 1
    assert np.isnan(gaps.get("tau", "fock", "parallel")[1, 1])        # its copies
    with pytest.raises(qb.NoMaximumError):
        qb.first_max(1, "fock", ks[1], n_th=0.5)


def test_edge_brackets_a_threshold():
    calls = []

    def inside(x):
        calls.append(x)
        return x < 0.3

    e = grids.edge(inside, 0.0, 1.0, 1e-3)
    assert e.found and e.inside < 0.3 <= e.outside and e.outside - e.inside <= 1e-3
    assert len(calls) <= math.ceil(math.log2(1.0 / 1e-3)) + 2
    assert grids.edge(lambda x: True, 0.0, 1.0, 0.1) == grids.Edge(1.0, None)
    assert grids.edge(lambda x: False, 0.0, 1.0, 0.1) == grids.Edge(None, 0.0)
    assert not grids.Edge(1.0, None).found
    with pytest.raises(ValueError, match="lo < hi"):
        grids.edge(inside, 1.0, 0.5, 0.1)
    with pytest.raises(ValueError, match="tol"):
        grids.edge(inside, 0.0, 1.0, 0.0)


def test_edge_of_the_single_cell_discharge_is_near_critical_damping():
    # E_h of one discharging qubit is E_h(0) |c(t)|^2 with c'' + kappa c' + g^2 c = 0: a first
    # minimum (c = 0) exists exactly for kappa < 2g, i.e. kappa/Omega_R < 1.  Close to 1 the
    # minimum comes so late that E_h, and its rise after the minimum, are ~e^{-kappa tau_d},
    # below the search's noise floor (1e-9 relative): the engine then reports none.  So the
    # edge it finds lies a little below 1 (0.95-0.97 here), never above.
    has_min = grids.exists(lambda x: qb.discharge(1, "fock", u.kappa_from_paper(x)))
    e = grids.edge(has_min, 0.5, 1.5, 0.02)
    assert e.found and 0.9 < e.inside < e.outside <= 1.0 and e.outside - e.inside <= 0.02


def test_first_fall_below():
    x = np.array([0.0, 0.1, 1.0, 10.0])
    assert grids.first_fall_below(x, [2.0, 1.5, 1.2, 1.1]) is None        # never below
    assert grids.first_fall_below(x, [0.9, 1.5, 0.5, 0.5]) is None        # starts below
    # between 1 and 10 on a log axis: halfway in ln x for a drop 1.2 -> 0.8 through 1
    assert grids.first_fall_below(x, [2.0, 1.5, 1.2, 0.8]) == pytest.approx(math.sqrt(10.0), rel=EXACT)
    assert grids.first_fall_below(x, [2.0, 1.5, 1.2, 0.8], log_x=False) == pytest.approx(5.5, rel=EXACT)
    # a drop right after x = 0 is interpolated linearly (no logarithm of 0)
    assert grids.first_fall_below(x, [2.0, 0.0, 0.0, 0.0]) == pytest.approx(0.05, rel=EXACT)
    assert grids.first_fall_below(x, [3.0, 2.0, 1.0, 0.0], level=2.5) == pytest.approx(0.05, rel=EXACT)
    with pytest.raises(ValueError, match="increasing"):
        grids.first_fall_below([1.0, 0.5], [1.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        grids.first_fall_below([1.0, 2.0], [1.0])
