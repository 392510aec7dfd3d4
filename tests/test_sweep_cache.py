"""Grids of first maxima, the disk cache and the CSV export (item 8).

Values from the grid are compared *exactly* with direct first_max calls: the
grid calls the same deterministic code with the same arguments (and the cache
stores floats losslessly through JSON), so any difference would be a bug.
"""
from __future__ import annotations

import csv
import dataclasses
import math

import numpy as np
import pytest

import qbhelpers as qb
import qbhelpers.studies.cache
from qbhelpers.studies.sweep import QUANTITIES

N_VALUES = (1, 2)
KAPPAS = (0.3, 0.7, 1.5)
CHARGERS = ("fock", "coherent")
VERSIONS = ("collective", "parallel")


@pytest.fixture(scope="module")
def sweep():
    return qb.first_max_grid(N_VALUES, KAPPAS, chargers=CHARGERS, progress=False, cache=False)


@pytest.fixture(scope="module")
def direct():
    """first_max called directly for every point of the grid."""
    return {(c, ver, n, k): qb.first_max(n, c, k, version=ver)
            for c in CHARGERS for ver in VERSIONS for n in N_VALUES for k in KAPPAS}


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_grid_values_equal_direct_first_max_calls(sweep, direct):
    assert sweep.versions == VERSIONS and sweep.chargers == CHARGERS
    assert sweep.n_values == N_VALUES
    np.testing.assert_array_equal(sweep.kappas, KAPPAS)
    for q in QUANTITIES:
        assert sweep.data[q].shape == (len(CHARGERS), len(VERSIONS), len(N_VALUES), len(KAPPAS))
    for c in CHARGERS:
        for ver in VERSIONS:
            for i, n in enumerate(N_VALUES):
                for j, k in enumerate(KAPPAS):
                    for q in QUANTITIES:
                        assert _same(sweep.get(q, c, ver)[i, j],
                                     getattr(direct[c, ver, n, k], q)), (c, ver, n, k, q)


def test_per_qubit_divides_by_n(sweep):
    np.testing.assert_array_equal(sweep.per_qubit("energy", "coherent"),
                                  sweep.get("energy", "coherent") / np.array(N_VALUES)[:, None])


def test_sweep_enhancement_matches_ratios(sweep, direct):
    for c in CHARGERS:
        for f in ("energy", "ergotropy", "power", "rate"):
            gam = sweep.enhancement(f, c)
            assert gam.shape == (len(N_VALUES), len(KAPPAS))
            for i, n in enumerate(N_VALUES):
                for j, k in enumerate(KAPPAS):
                    r = qb.ratios(direct[c, "collective", n, k], direct[c, "parallel", n, k])
                    assert _same(gam[i, j], r[f]), (c, f, n, k)
    # N = 1: collective and parallel are the same battery
    for f in ("energy", "power", "rate"):
        np.testing.assert_allclose(sweep.enhancement(f, "fock")[0], 1.0, rtol=1e-14)
    # the Fock cell's ergotropy vanishes at κ = 1.5 (see test_physics_sanity): NaN there
    assert math.isnan(sweep.enhancement("ergotropy", "fock")[1, 2])
    with pytest.raises(ValueError, match="figure"):
        sweep.enhancement("heat")


def test_csv_export_has_one_row_per_point(sweep, tmp_path):
    path = tmp_path / "grid.csv"
    sweep.to_csv(path)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(CHARGERS) * len(VERSIONS) * len(N_VALUES) * len(KAPPAS)
    assert set(QUANTITIES) <= set(rows[0])
    seen = {(r["charger"], r["version"], int(r["n_qubits"]), float(r["kappa"])) for r in rows}
    assert len(seen) == len(rows)  # every point exactly once
    for r in rows:
        i = N_VALUES.index(int(r["n_qubits"]))
        j = KAPPAS.index(float(r["kappa"]))
        for q in QUANTITIES:
            assert _same(float(r[q]), sweep.get(q, r["charger"], r["version"])[i, j])


def test_cache_returns_identical_results_without_recomputing(cache_dir, monkeypatch):
    first = qb.first_max_grid((1, 2), (0.0, 0.5), chargers=("fock",), progress=False)
    stored = list((cache_dir / "first_max").glob("*.json"))
    assert len(stored) == 2 * 2 * 2  # versions × N × κ, one file per point

    def no_recompute(*args, **kwargs):
        raise AssertionError("first_max was recomputed although the result is cached")

    monkeypatch.setattr(qbhelpers.studies.cache, "first_max", no_recompute)
    second = qb.first_max_grid((1, 2), (0.0, 0.5), chargers=("fock",), progress=False)
    for q in QUANTITIES:
        np.testing.assert_array_equal(second.data[q], first.data[q])
    # cache=False bypasses it
    with pytest.raises(AssertionError, match="recomputed"):
        qb.first_max_grid((1,), (0.0,), chargers=("fock",), progress=False, cache=False)


def test_cached_first_max_round_trips_every_field(cache_dir):
    params = dict(n_qubits=2, charger="coherent", kappa=0.5, version="collective", g=1.0,
                  n_th=0.0, method="blocks")
    a = qbhelpers.studies.cache.cached_first_max(**params)
    b = qbhelpers.studies.cache.cached_first_max(**params)
    assert dataclasses.asdict(a) == dataclasses.asdict(b) == dataclasses.asdict(
        qb.first_max(**params))


def test_cache_key_depends_on_every_parameter():
    base = dict(n_qubits=2, charger="fock", kappa=0.5, version="collective", g=1.0, n_th=0.0,
                method="blocks")
    k0 = qbhelpers.studies.cache.key("first_max", base)
    assert k0 == qbhelpers.studies.cache.key("first_max", dict(base))  # deterministic
    changes = dict(n_qubits=3, charger="coherent", kappa=0.6, version="parallel", g=0.7,
                   n_th=0.1, method="dicke")
    keys = {k0}
    for name, value in changes.items():
        k = qbhelpers.studies.cache.key("first_max", {**base, name: value})
        assert k != k0, name
        keys.add(k)
    assert len(keys) == 1 + len(changes)
    assert qbhelpers.studies.cache.key("other_kind", base) != k0


def test_cache_folder_follows_the_environment(cache_dir):
    assert qbhelpers.studies.cache.cache_dir() == cache_dir
