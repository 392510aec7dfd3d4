"""Grids of first maxima, the disk cache and the CSV export.

Values from the grid are compared *exactly* with direct first_max calls: the
grid calls the same deterministic code with the same arguments (the parallel
battery is built from its cell by the same ``problem.parallel`` as
``first_max(..., version="parallel")``, and the cache stores floats
losslessly through JSON), so any difference would be a bug.

Parallel execution (executors, Dask) is tested in test_sweep_executors.py,
the command line's sweep and cache commands in test_sweep_cli.py.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import subprocess
import sys
import threading
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import qbhelpers as qb
import qbhelpers.studies.cache as cache
import qbhelpers.studies.sweep as sweep_module
from qbhelpers.studies.sweep import QUANTITIES

N_VALUES = (1, 2)
KAPPAS = (0.3, 0.7, 1.5)
CHARGERS = ("fock", "coherent")
VERSIONS = ("collective", "parallel")
REPO = Path(__file__).resolve().parents[1]

#: A point with no first maximum, found quickly: one qubit, a Fock photon and
#: a warm bath (n_th = 1) at strong damping (κ = 4g).  E_h rises monotonically
#: to the steady state n_th/(2n_th+1) = 1/3: QuTiP's mesolve at rtol 1e-12
#: shows no overshoot above 1/3 and no decrease larger than rounding (4e-16)
#: up to t = 40/g, so "no maximum" is the right answer, not a search failure.
NO_MAX = dict(n_qubits=1, charger="fock", kappa=4.0, n_th=1.0)


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


@pytest.fixture
def count_first_max(monkeypatch) -> list[tuple]:
    """Record every first maximum the sweep computes (in this process)."""
    calls = []
    real = sweep_module.first_max

    def counting(n_qubits, charger, kappa, **kw):
        calls.append((n_qubits, charger, kappa))
        return real(n_qubits, charger, kappa, **kw)

    monkeypatch.setattr(sweep_module, "first_max", counting)
    return calls


# ---------------------------------------------------------------- values
def test_grid_values_equal_direct_first_max_calls(sweep, direct):
    assert sweep.versions == VERSIONS and sweep.chargers == CHARGERS
    assert sweep.n_values == N_VALUES and sweep.complete and sweep.failures == ()
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
        assert r["status"] == "ok"
        i = N_VALUES.index(int(r["n_qubits"]))
        j = KAPPAS.index(float(r["kappa"]))
        for q in QUANTITIES:
            assert _same(float(r[q]), sweep.get(q, r["charger"], r["version"])[i, j])
    assert [p.name for p in tmp_path.iterdir()] == ["grid.csv"]  # no temporary file left


def test_parallel_cell_is_computed_once_per_charger_and_kappa(count_first_max):
    s = qb.first_max_grid((2, 3, 4), (0.3, 0.7), chargers=("fock", "coherent"), progress=False,
                          cache=False)
    cells = [c for c in count_first_max if c[0] == 1]
    assert sorted(cells) == sorted((1, ch, k) for ch in ("fock", "coherent") for k in (0.3, 0.7))
    assert len(count_first_max) == 2 * 2 * 3 + len(cells)  # collective points + one cell each
    # and the parallel rows built from it are first_max's own parallel results
    direct = qb.first_max(4, "coherent", 0.7, version="parallel")
    for q in QUANTITIES:
        assert s.get(q, "coherent", "parallel")[2, 1] == getattr(direct, q)


def test_get_names_what_is_allowed(sweep):
    with pytest.raises(ValueError, match="charger 'thermal' is not in this sweep; it has "
                                         "'fock', 'coherent'"):
        sweep.get("tau", "thermal")
    one = qb.first_max_grid((1,), (0.5,), versions="collective", progress=False, cache=False)
    with pytest.raises(ValueError, match="version 'parallel' is not in this sweep; it has "
                                         "'collective'"):
        one.get("tau", "fock", "parallel")
    with pytest.raises(ValueError, match="quantity must be one of 'tau', 'energy'"):
        sweep.get("heat")


# ------------------------------------------------------------ validation
@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_values=[2.7]), TypeError, "n_qubits must be a positive integer"),
    (dict(n_values=[True]), TypeError, "n_qubits must be a positive integer"),
    (dict(n_values=["2"]), TypeError, "n_qubits must be a positive integer"),
    (dict(n_values=[1, 0]), ValueError, "n_qubits must be a positive integer"),
    (dict(n_values=[]), ValueError, "n_values must hold at least one value"),
    (dict(kappas=["0.5"]), TypeError, "kappa must be a real number"),
    (dict(kappas=[0.5, 1.0, -1.0]), ValueError, "kappa must be >= 0"),  # the last one
    (dict(kappas=[0.5, float("nan")]), ValueError, "kappa must be finite"),
    (dict(chargers=("fock", "squeezed")), ValueError, "charger must be one of"),
    (dict(chargers="squeezed"), ValueError, "charger must be one of"),
    (dict(chargers=("fock", "fock")), ValueError, "chargers must not repeat"),
    (dict(versions=("serial",)), ValueError, "version must be one of"),
    (dict(g=0.0), ValueError, "g must be > 0"),
    (dict(n_th="1"), TypeError, "n_th must be a real number"),
    (dict(method="magic"), ValueError, "method must be one of"),
    (dict(errors="ignore"), ValueError, "errors must be one of 'raise', 'record'"),
    (dict(executor="threads"), TypeError, "executor must be None or a "
                                          "concurrent.futures.Executor"),
])
def test_grid_refuses_bad_input_before_computing(kwargs, error, message, no_solver, cache_dir):
    args = dict(n_values=[1, 2], kappas=[0.5], progress=False)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        qb.first_max_grid(args.pop("n_values"), args.pop("kappas"), **args)
    assert not cache_dir.exists()  # nothing was computed, nothing stored


def test_grid_accepts_single_names_and_integer_valued_numbers():
    s = qb.first_max_grid(np.array([1, 2]), [np.float64(0.5)], chargers="fock",
                          versions="collective", g=1, n_th=0, progress=False, cache=False)
    assert s.chargers == ("fock",) and s.versions == ("collective",)
    assert s.n_values == (1, 2) and all(type(n) is int for n in s.n_values)
    assert s.g == 1.0 and isinstance(s.g, float)
    assert s.get("tau")[1, 0] == qb.first_max(2, "fock", 0.5).tau


# ---------------------------------------------------------------- failures
def test_a_failing_point_is_recorded_or_raised_and_the_others_are_kept(cache_dir,
                                                                       count_first_max):
    kw = dict(chargers="fock", n_th=NO_MAX["n_th"], progress=False)
    kappas = (0.5, NO_MAX["kappa"])
    s = qb.first_max_grid((1,), kappas, errors="record", **kw)
    assert not s.complete
    assert [(f.charger, f.version, f.n_qubits, f.kappa) for f in s.failures] == [
        ("fock", "collective", 1, 4.0), ("fock", "parallel", 1, 4.0)]
    assert all(f.error.startswith("NoMaximumError: E_h(t) has no local maximum")
               for f in s.failures)
    assert "charger=fock version=parallel n_qubits=1 kappa=4: NoMaximumError" in \
        s.failures[1].describe()
    assert np.isnan(s.get("tau")[0, 1]) and np.isnan(s.get("tau", "fock", "parallel")[0, 1])
    good = qb.first_max(1, "fock", 0.5, n_th=NO_MAX["n_th"])
    assert s.get("tau")[0, 0] == good.tau
    assert len(list((cache_dir / "first_max").glob("*.json"))) == 1  # the good point only
    count_first_max.clear()

    # "raise": the point's own exception, its parameters in a note; the good
    # point comes from the cache (only the failing one is computed again)
    with pytest.raises(qb.NoMaximumError) as info:
        qb.first_max_grid((1,), kappas, **kw)
    assert "while computing the first maximum at n_qubits=1, charger='fock', kappa=4.0" in \
        "\n".join(info.value.__notes__)
    assert count_first_max == [(1, "fock", 4.0)]


def test_csv_of_a_sweep_with_failures(tmp_path):
    failure = sweep_module.Failure("fock", "collective", 2, 0.5, "MemoryError: too big,\nsorry")
    data = {q: np.array([[[[1.5, np.nan]]]]) for q in QUANTITIES}
    s = sweep_module.Sweep((2,), np.array([0.25, 0.5]), ("fock",), ("collective",), 1.0, 0.0,
                           data, (failure,))
    s.to_csv(tmp_path / "f.csv")
    with open(tmp_path / "f.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["status"] for r in rows] == ["ok", "failed: MemoryError: too big, sorry"]
    assert all(rows[0][q] == "1.5" for q in QUANTITIES)
    assert all(rows[1][q] == "" for q in QUANTITIES)  # never a number for a failed point


# ------------------------------------------------------------------ cache
def test_cache_returns_identical_results_without_recomputing(cache_dir, monkeypatch):
    first = qb.first_max_grid((1, 2), (0.0, 0.5), chargers=("fock",), progress=False)
    stored = list((cache_dir / "first_max").glob("*.json"))
    assert len(stored) == 2 * 2  # N × κ collective; the parallel cell is N = 1's entry

    def no_recompute(*args, **kwargs):
        raise AssertionError("first_max was recomputed although the result is cached")

    monkeypatch.setattr(sweep_module, "first_max", no_recompute)
    second = qb.first_max_grid((1, 2), (0.0, 0.5), chargers=("fock",), progress=False)
    for q in QUANTITIES:
        np.testing.assert_array_equal(second.data[q], first.data[q])
    # cache=False bypasses it
    with pytest.raises(AssertionError, match="recomputed"):
        qb.first_max_grid((1,), (0.0,), chargers=("fock",), progress=False, cache=False)


def test_cached_first_max_round_trips_every_field(cache_dir):
    params = dict(n_qubits=2, charger="coherent", kappa=0.5, version="collective", g=1.0,
                  n_th=0.0, method="blocks")
    a = cache.cached_first_max(**params)
    b = cache.cached_first_max(**params)
    assert dataclasses.asdict(a) == dataclasses.asdict(b) == dataclasses.asdict(
        qb.first_max(**params))
    # the arguments are validated before the cache is read
    with pytest.raises(TypeError, match="n_qubits must be a positive integer"):
        cache.cached_first_max(**{**params, "n_qubits": 2.7})


def _params(**changes) -> dict:
    base = dict(n_qubits=2, charger="fock", kappa=0.5, version="collective", g=1.0, n_th=0.0,
                method=qb.engines.REGISTRY["blocks"]())
    base.update(changes)
    return cache.first_max_params(base.pop("n_qubits"), base.pop("charger"), base.pop("kappa"),
                                  **base)


def test_cache_key_depends_on_every_parameter():
    k0 = cache.key("first_max", _params())
    assert k0 == cache.key("first_max", _params())  # deterministic
    assert k0 == cache.key("first_max", _params(n_th=0, g=1))  # normalised: 0 == 0.0
    changes = dict(n_qubits=3, charger="coherent", kappa=0.6, version="parallel", g=0.7,
                   n_th=0.1, method=qb.engines.REGISTRY["blocks-rk"](),
                   )
    keys = {k0}
    for name, value in changes.items():
        k = cache.key("first_max", _params(**{name: value}))
        assert k != k0, name
        keys.add(k)
    assert len(keys) == 1 + len(changes)
    # a method's options are part of the key
    rk = qb.engines.REGISTRY["blocks-rk"]
    assert cache.key("first_max", _params(method=rk(rtol=1e-12))) != \
        cache.key("first_max", _params(method=rk()))
    assert cache.key("other_kind", _params()) != k0


@pytest.mark.parametrize("library", ["numba", "qutip", "numpy", "scipy"])
def test_cache_key_depends_on_the_numerical_libraries(library, monkeypatch):
    fp = cache.fingerprint()
    assert fp[library] == metadata.version(library)
    k0 = cache.key("first_max", _params())
    real = cache._installed_version
    monkeypatch.setattr(cache, "_installed_version",
                        lambda name: "0.0-other" if name == library else real(name))
    assert cache.key("first_max", _params()) != k0


def test_fingerprint_does_not_import_qutip():
    code = ("import sys, qbhelpers.studies.cache as c; fp = c.fingerprint(); "
            "print('qutip' in sys.modules, fp['qutip'] != 'absent')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("env, expected", [
    ({"QBHELPERS_CACHE": "{tmp}/mine", "XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/mine"),
    ({"XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/xdg/qbhelpers"),
    ({"QBHELPERS_CACHE": "", "XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/xdg/qbhelpers"),
    ({"XDG_CACHE_HOME": "relative/xdg"}, "{home}/.cache/qbhelpers"),  # relative: ignored
    ({"XDG_CACHE_HOME": ""}, "{home}/.cache/qbhelpers"),
    ({}, "{home}/.cache/qbhelpers"),
])
def test_cache_folder_follows_the_environment(env, expected, tmp_path, monkeypatch):
    monkeypatch.delenv("QBHELPERS_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    assert cache.cache_dir() == Path(expected.format(tmp=tmp_path, home=tmp_path / "home"))


def test_the_fixture_points_the_cache_at_a_temporary_folder(cache_dir):
    assert cache.cache_dir() == cache_dir


# A valid entry, and ways to break it.  Every broken entry must count as a
# miss: the point is recomputed, the file overwritten with a valid entry, and
# nothing of it reaches the results.
def _broken(valid: dict) -> dict[str, object]:
    def edit(path, value):
        out = json.loads(json.dumps(valid))
        target = out
        for part in path[:-1]:
            target = target[part]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return out

    return {
        "empty object": {},
        "a list": [valid],
        "a string": "tau",
        "a number": 3.0,
        "null": None,
        "tau as text": edit(["tau"], "1.0"),
        "tau is true": edit(["tau"], True),
        "tau is NaN": edit(["tau"], float("nan")),
        "energy is inf": edit(["energy"], float("inf")),
        "Q is -inf": edit(["Q"], float("-inf")),
        "extra key": {**valid, "comment": "hand-edited"},
        "missing key": edit(["power"], _DELETE),
        "setup is a list": edit(["setup"], [1, 2]),
        "setup extra key": edit(["setup", "extra"], 1),
        "n_qubits is 1.0": edit(["setup", "n_qubits"], 1.0),
        "n_cut negative": edit(["setup", "n_cut"], -1),
        "unknown charger": edit(["setup", "charger"], "squeezed"),
        "unknown method": edit(["setup", "method", "name"], "magic"),
        "bad method option": edit(["setup", "method", "options"], {"speed": 11}),
        "unknown version": edit(["version"], "serial"),
        "another point": edit(["setup", "kappa"], 0.75),
    }


_DELETE = object()


def test_broken_entries_are_misses_recomputed_and_overwritten(cache_dir):
    grid = dict(n_values=(1,), kappas=(0.5,), versions="collective", progress=False)
    good = qb.first_max_grid(**grid)
    (path,) = (cache_dir / "first_max").glob("*.json")
    valid = json.loads(path.read_text())
    assert cache.decode_first_max(valid) is not None
    cases = {name: json.dumps(value) for name, value in _broken(valid).items()}
    cases["garbage"] = "\x00\x01 not json"
    cases["truncated"] = path.read_text()[:40]
    cases["not UTF-8"] = b"\xff\xfe{".decode("latin-1")
    for name, text in cases.items():
        path.write_text(text, encoding="latin-1" if name == "not UTF-8" else "utf-8")
        again = qb.first_max_grid(**grid)
        for q in QUANTITIES:
            assert again.data[q][0, 0, 0, 0] == good.data[q][0, 0, 0, 0], (name, q)
            assert math.isfinite(again.data[q][0, 0, 0, 0]), (name, q)
        assert json.loads(path.read_text()) == valid, name  # overwritten with the right one


def test_cached_first_max_ignores_a_broken_entry(cache_dir):
    params = dict(n_qubits=1, charger="fock", kappa=0.5)
    good = cache.cached_first_max(**params)
    (path,) = (cache_dir / "first_max").glob("*.json")
    data = json.loads(path.read_text())
    data["tau"] = float("nan")
    path.write_text(json.dumps(data))
    assert cache.cached_first_max(**params).tau == good.tau


def test_concurrent_writers_never_leave_a_broken_entry(cache_dir):
    """Threads of one process (where a per-process temporary name used to
    collide) write the same entry over and over, each its own large value,
    while a reader reads: the reader sees either no file yet or one writer's
    complete value, and no temporary file is left."""
    params = {"point": 1}
    values = [{"writer": i, "values": [float(i)] * 50_000} for i in range(3)]
    path = cache.entry_path("concurrency", params)
    stop = threading.Event()
    seen_bad, seen_good = [], set()

    def writer(value):
        while not stop.is_set():
            assert cache.store("concurrency", params, value)

    def reader():
        for _ in range(100):
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue  # not written yet
            try:
                value = json.loads(text)
                assert value in values
                seen_good.add(value["writer"])
            except (ValueError, AssertionError):  # pragma: no cover - the failure itself
                seen_bad.append(text[:60] + "..." + text[-60:])
        stop.set()

    threads = [threading.Thread(target=writer, args=(v,)) for v in values] + [
        threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not seen_bad, seen_bad[:3]
    assert seen_good  # the reader did see complete entries
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_an_unwritable_cache_does_not_stop_a_sweep(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("QBHELPERS_CACHE", str(blocker))
    assert not cache.store_first_max(_params(), qb.first_max(2, "fock", 0.5))
    s = qb.first_max_grid((1,), (0.5,), versions="collective", progress=False)
    assert s.get("tau")[0, 0] == qb.first_max(1, "fock", 0.5).tau
    # and non-finite values are never written
    assert not cache.store(cache.FIRST_MAX, _params(), {"tau": float("nan")})


def test_info_and_clear(cache_dir):
    empty = cache.info()
    assert (empty.folder, empty.exists, empty.entries, empty.size) == (cache_dir, False, 0, 0)
    assert cache.clear() == 0
    qb.first_max_grid((1, 2), (0.5,), versions="collective", progress=False)
    (cache_dir / "first_max" / ".interrupted.tmp").write_text("{")
    (cache_dir / "notes.txt").write_text("mine")  # not the cache's: left alone
    (cache_dir / "first_max" / "README").write_text("mine too")
    found = cache.info()
    sizes = sum(p.stat().st_size for p in (cache_dir / "first_max").glob("*.json"))
    assert found.exists and found.entries == 2 and found.size == sizes > 0
    assert found.kinds == {"first_max": (2, sizes)} and found.temporary == 1
    assert cache.clear() == 2
    assert cache.info().entries == 0
    assert sorted(p.name for p in cache_dir.rglob("*")) == ["README", "first_max", "notes.txt"]
    (cache_dir / "notes.txt").unlink()
    (cache_dir / "first_max" / "README").unlink()
    cache.clear()
    assert not cache_dir.exists()  # empty folders are removed


def test_a_grid_point_beyond_the_work_limit_is_refused_before_any_is_computed(monkeypatch,
                                                                               no_solver):
    """Bounded cost (issue 12) for grids: every point's estimate is checked up
    front, so a grid whose last point is too costly computes nothing."""
    from qbhelpers.engines.base import CostLimitError
    monkeypatch.setenv("QBHELPERS_MAX_SECONDS", "1")
    with pytest.raises(CostLimitError, match=r"n_qubits=200, charger='thermal'"):
        qb.first_max_grid([1, 200], [0.5], chargers=("thermal",), progress=False, cache=False)
