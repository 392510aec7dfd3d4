"""The paper's plot units (item 9): Ω_R = 2g, time in π/Ω_R, κ in Ω_R."""
from __future__ import annotations

import math

import numpy as np
import pytest

import qbhelpers as qb
from qbhelpers import units
from conftest import TOL


@pytest.mark.parametrize("g", [1.0, 0.7, 2.5])
def test_rabi_frequency_and_time_unit(g):
    assert units.rabi_frequency(g) == pytest.approx(2 * g, rel=1e-15)
    assert units.time_unit(g) == pytest.approx(math.pi / (2 * g), rel=1e-15)
    assert units.time_to_paper(units.time_unit(g), g) == pytest.approx(1.0, rel=1e-15)
    assert units.rate_to_paper(2 * g, g) == pytest.approx(1.0, rel=1e-15)


def test_defaults_are_g_equal_one():
    assert units.rabi_frequency() == 2.0
    assert units.time_unit() == pytest.approx(math.pi / 2, rel=1e-15)


@pytest.mark.parametrize("g", [1.0, 0.7])
def test_kappa_round_trip_scalars_and_arrays(g):
    assert units.kappa_from_paper(0.5, g) == pytest.approx(g, rel=1e-15)  # κ = Ω_R/2 = g
    assert isinstance(units.kappa_from_paper(0.5, g), float)
    assert units.kappa_to_paper(g, g) == pytest.approx(0.5, rel=1e-15)
    grid = np.linspace(0.0, 2.0, 21)  # the paper's κ/Ω_R axis
    kappas = units.kappa_from_paper(grid, g)
    assert isinstance(kappas, np.ndarray) and kappas.shape == grid.shape
    np.testing.assert_allclose(kappas, 2 * g * grid, rtol=1e-15)
    np.testing.assert_allclose(units.kappa_to_paper(kappas, g), grid, rtol=1e-15, atol=1e-16)


def test_array_conversions():
    t = np.linspace(0.0, math.pi, 5)
    np.testing.assert_allclose(units.time_to_paper(t), t / (math.pi / 2), rtol=1e-15)
    np.testing.assert_allclose(units.rate_to_paper(np.array([2.0, 4.0])), [1.0, 2.0],
                               rtol=1e-15)


@pytest.mark.parametrize("g", [1.0, 0.7])
def test_closed_single_qubit_battery_in_paper_units(g):
    """π/Ω_R is *defined* as τ̄ of N = 1, κ = 0, Fock: so it is 1 in paper
    units for any g, and the transfer rate 2π/τ̄ is 2Ω_R."""
    fm = qb.first_max(1, "fock", 0.0, g=g)
    assert units.time_to_paper(fm.tau, g) == pytest.approx(1.0, rel=TOL)
    assert units.rate_to_paper(fm.rate, g) == pytest.approx(2.0, rel=TOL)


def test_kappa_in_paper_units_gives_the_same_physics_for_any_g():
    """Dynamics depend on κ/g and g·t only: the same κ/Ω_R at different g gives
    the same τ̄ in units of π/Ω_R and the same energy."""
    a = qb.first_max(2, "fock", units.kappa_from_paper(0.5, 1.0), g=1.0)
    b = qb.first_max(2, "fock", units.kappa_from_paper(0.5, 0.7), g=0.7)
    assert units.time_to_paper(b.tau, 0.7) == pytest.approx(units.time_to_paper(a.tau, 1.0),
                                                            rel=TOL)
    assert b.energy == pytest.approx(a.energy, abs=TOL)
    assert b.Q == pytest.approx(a.Q, abs=TOL)
