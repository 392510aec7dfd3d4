"""qbhelpers.checks: a correct sweep passes, and each broken relation is reported.

The corrupted copies change one number by far more than the tolerance (1e-3
against 1e-8), so each must be named; the untouched sweep, computed by the
engine to ~1e-10, must pass at the book's accuracy 1e-8.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import qbhelpers as qb
from qbhelpers import checks, units as u


@pytest.fixture(scope="module")
def sweep():
    return qb.first_max_grid([1, 2, 3], u.kappa_from_paper(np.array([0.0, 0.5, 2.0])),
                             chargers=("fock", "thermal"), progress=False)


def _corrupt(sweep, quantity, charger, version, i, j, delta):
    data = {q: a.copy() for q, a in sweep.data.items()}
    data[quantity][sweep.chargers.index(charger), sweep.versions.index(version), i, j] += delta
    return dataclasses.replace(sweep, data=data)


def test_a_correct_sweep_passes(sweep):
    assert checks.sweep_violations(sweep) == []


@pytest.mark.parametrize("quantity, delta, words", [
    ("Q", 1e-3, "E + E_c + Q != N"),
    ("power", 1e-3, "power != E/tau"),
    ("rate", 1e-3, "rate != 2 pi/tau"),
    ("ergotropy", 10.0, "ergotropy outside [0, E]"),
    ("ergotropy_symmetric", 5.0, "symmetric ergotropy outside [0, ergotropy]"),
])
def test_each_broken_relation_is_named(sweep, quantity, delta, words):
    bad = _corrupt(sweep, quantity, "thermal", "collective", 2, 1, delta)
    found = checks.sweep_violations(bad)
    assert any(words in f and "N = 3" in f and "thermal, collective" in f for f in found), found


def test_energy_minus_ergotropy_below_one_quantum(sweep):
    # lower the ergotropy of the collective N = 3 battery by 1.5 quanta: E - ergotropy >= 1
    bad = _corrupt(sweep, "ergotropy", "fock", "collective", 2, 0, -1.5)
    assert any("E - ergotropy >= 1" in f for f in checks.sweep_violations(bad))
    # the parallel battery may lose up to one quantum per cell: 1.5 for three cells is allowed
    ok = _corrupt(sweep, "ergotropy", "fock", "parallel", 2, 0,
                  -(1.5 - (sweep.get("energy", "fock", "parallel")[2, 0]
                           - sweep.get("ergotropy", "fock", "parallel")[2, 0])))
    assert not any("E - ergotropy" in f for f in checks.sweep_violations(ok))


def test_missing_points_are_skipped(sweep):
    data = {q: a.copy() for q, a in sweep.data.items()}
    for a in data.values():
        a[0, 0, 1, 1] = math.nan
    assert checks.sweep_violations(dataclasses.replace(sweep, data=data)) == []


def test_tolerance_must_be_positive(sweep):
    with pytest.raises(ValueError):
        checks.sweep_violations(sweep, tol=0.0)
