"""Sweeps on executors (issue 14): local worker processes and a Dask cluster.

A real ``distributed.LocalCluster`` with two worker processes is started once
for the module.  Parallel results must equal the serial run's to 1e-12
(relative; 1e-14 absolute for figures that vanish): the workers run the same
deterministic code on the same arguments, and only a different number of
engine threads (which changes how a sector's blocks are split between
threads and the order in which their functionals are added) could change a
rounding.  Grids are tiny (N ≤ 3) so that every test takes seconds.
"""
from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import qbhelpers as qb
import qbhelpers.studies.executors as executors
import qbhelpers.studies.sweep as sweep_module
from qbhelpers import cli
from qbhelpers.studies import executor
from qbhelpers.studies.sweep import QUANTITIES

REPO = Path(__file__).resolve().parents[1]
GRID = dict(n_values=(1, 2, 3), kappas=(0.3, 1.1), chargers=("fock", "coherent"))
KAPPAS_PAPER = ("0.15", "0.55")  # κ/Ω_R = κ/(2g): exactly GRID's κ (doubling is exact)
RTOL, ATOL = 1e-12, 1e-14

#: A point with no first maximum (see test_sweep_cache.NO_MAX): one qubit, a
#: Fock photon, n_th = 1, κ = 4g (κ/Ω_R = 2); E_h rises monotonically.
NO_MAX_ARGS = ["--n", "1", "--kappa-paper", "0.25", "0.5", "2", "--n-th", "1"]


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def serial():
    return qb.first_max_grid(**GRID, progress=False, cache=False)


def assert_same_sweep(got, want):
    assert got.n_values == want.n_values and got.chargers == want.chargers
    assert got.versions == want.versions
    np.testing.assert_array_equal(got.kappas, want.kappas)
    assert got.complete
    for q in QUANTITIES:
        np.testing.assert_allclose(got.data[q], want.data[q], rtol=RTOL, atol=ATOL, err_msg=q)


def rows_of(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def assert_csv_equals(path, want):
    rows = rows_of(path)
    assert len(rows) == 2 * 2 * 3 * 2
    for r in rows:
        assert r["status"] == "ok"
        i = want.n_values.index(int(r["n_qubits"]))
        j = list(want.kappas).index(float(r["kappa"]))
        for q in QUANTITIES:
            expected = want.get(q, r["charger"], r["version"])[i, j]
            assert math.isclose(float(r[q]), expected, rel_tol=RTOL, abs_tol=ATOL), (r, q)


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that records what is submitted to it."""

    def __init__(self):
        super().__init__(max_workers=2)
        self.submitted = []

    def submit(self, fn, *args, **kwargs):
        self.submitted.append(args[:3])
        return super().submit(fn, *args, **kwargs)


class OtherEnvironment(Executor):
    """Runs a point at once, then pretends its worker had another numba."""

    def submit(self, fn, *args, **kwargs):
        future = Future()
        payload = fn(*args, **kwargs)
        payload["environment"] = dict(payload["environment"], numba="0.0-other")
        future.set_result(payload)
        return future


# ------------------------------------------------------- library: equality
def test_dask_client_executor_equals_serial(cluster, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(cluster) as client:
        got = qb.first_max_grid(**GRID, progress=False, cache=False,
                                executor=client.get_executor())
    assert_same_sweep(got, serial)


def test_process_pool_equals_serial(serial):
    with executor(workers=2) as ex:
        assert isinstance(ex, ProcessPoolExecutor)
        got = qb.first_max_grid(**GRID, progress=False, cache=False, executor=ex)
        # each worker gets its share of the engine's threads
        from qbhelpers.engines.chebyshev import engine_threads
        assert ex.submit(engine_threads).result() == max(1, (os.cpu_count() or 1) // 2)
    assert_same_sweep(got, serial)
    with pytest.raises(RuntimeError):  # shut down on leaving the block
        ex.submit(pow, 2, 3)


def test_executor_on_a_scheduler_address(cluster, serial, cache_dir):
    from distributed.cfexecutor import ClientExecutor

    with executor(scheduler=cluster.scheduler_address) as ex:
        assert isinstance(ex, ClientExecutor)
        got = qb.first_max_grid(**GRID, progress=False, executor=ex)
    assert_same_sweep(got, serial)
    with pytest.raises(RuntimeError):  # the client's executor is shut down
        ex.submit(pow, 2, 3)
    # the workers were started before this test pointed the cache elsewhere:
    # the entries here were written by this process
    assert len(list((cache_dir / "first_max").glob("*.json"))) == 2 * 2 * 3


def test_executor_defaults_to_serial():
    with executor() as ex:
        assert ex is None
    with executor(workers=0, scheduler="") as ex:
        assert ex is None


@pytest.mark.parametrize("kwargs, message", [
    (dict(workers=-1), "workers must be an integer >= 0"),
    (dict(workers=True), "workers must be an integer >= 0"),
    (dict(workers=1.5), "workers must be an integer >= 0"),
    (dict(workers="2"), "workers must be an integer >= 0"),
    (dict(scheduler=8786), "scheduler must be a Dask scheduler address"),
    (dict(workers=2, scheduler="tcp://127.0.0.1:8786"), "not both"),
])
def test_executor_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        with executor(**kwargs):
            pass  # pragma: no cover - never entered


def test_leaving_with_an_exception_stops_the_workers_at_once():
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        with executor(workers=1) as ex:
            ex.submit(time.sleep, 60)
            time.sleep(0.5)
            raise KeyboardInterrupt
    assert time.perf_counter() - start < 30  # not the 60 s of the running task


# --------------------------------------------- library: cache and progress
def test_cached_points_are_not_submitted_and_the_caller_writes_the_cache(cache_dir,
                                                                         monkeypatch):
    writers = set()
    real_store = sweep_module.store_first_max

    def recording_store(params, result):
        writers.add(threading.get_ident())
        return real_store(params, result)

    monkeypatch.setattr(sweep_module, "store_first_max", recording_store)
    bars = []
    real_tqdm = sweep_module.tqdm

    def recording_tqdm(*args, **kwargs):
        bar = real_tqdm(*args, **kwargs)
        bars.append(bar)
        return bar

    monkeypatch.setattr(sweep_module, "tqdm", recording_tqdm)
    with CountingExecutor() as first:
        qb.first_max_grid((1,), (0.3, 0.7), executor=first, progress=False)
    assert sorted(first.submitted) == [(1, "fock", 0.3), (1, "fock", 0.7)]
    with CountingExecutor() as second:  # progress on: a disabled bar counts nothing
        s = qb.first_max_grid((1, 2), (0.3, 0.7), executor=second, progress=True)
    # only N = 2 was missing (N = 1 is also the parallel cell), largest N first
    assert sorted(second.submitted) == [(2, "fock", 0.3), (2, "fock", 0.7)]
    assert writers == {threading.get_ident()}  # every entry written by this thread
    # the bar counts the distinct first maxima: 2 found in the cache, 2 computed
    assert (bars[-1].total, bars[-1].n) == (4, 4)
    assert s.get("tau")[1, 1] == qb.first_max(2, "fock", 0.7).tau


def test_results_from_another_environment_are_refused_and_not_cached(cache_dir):
    s = qb.first_max_grid((1,), (0.5,), executor=OtherEnvironment(), errors="record",
                          progress=False)
    assert len(s.failures) == 2 and not cache_dir.exists()
    assert "EnvironmentMismatch: the worker's environment differs" in s.failures[0].error
    assert "numba '0.0-other' on the worker" in s.failures[0].error
    with pytest.raises(sweep_module.EnvironmentMismatch):
        qb.first_max_grid((1,), (0.5,), executor=OtherEnvironment(), progress=False)


# -------------------------------------------------------- Dask is optional
def test_import_qbhelpers_loads_no_dask():
    code = ("import sys, qbhelpers\n"
            "with qbhelpers.studies.executor() as ex:\n    assert ex is None\n"
            "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code],
                         capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_missing_dask_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(executors.MissingDaskError, match=r'pip install "qbhelpers\[dask\]"'):
        with executor(scheduler="tcp://127.0.0.1:8786"):
            pass  # pragma: no cover - never entered
    with pytest.raises(SystemExit) as info:
        cli.main(["sweep", "--n", "1", "--kappa-paper", "0.5", "--scheduler",
                  "tcp://127.0.0.1:8786", "--out", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.strip().count("\n") == 0  # one line
    assert 'needs dask[distributed]: pip install "qbhelpers[dask]"' in err
    assert not (tmp_path / "r.csv").exists()


def test_unreachable_scheduler_is_an_error_not_a_hang():
    pytest.importorskip("distributed")
    start = time.perf_counter()
    with pytest.raises(OSError, match="cannot connect to the Dask scheduler at"):
        executors.connect("tcp://127.0.0.1:9", connect_timeout=1.0)
    assert time.perf_counter() - start < 20


def test_scheduler_without_workers_is_an_error_not_a_hang():
    distributed = pytest.importorskip("distributed")
    # a scheduler alone, on TCP; HTTP on a free port (8787 may be the other cluster's)
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp",
                                  dashboard_address=":0") as empty:
        with pytest.raises(OSError, match="no worker joined .* dask worker tcp://"):
            executors.connect(empty.scheduler_address, worker_timeout=1.0)


# ---------------------------------------------------------- command line
def test_cli_workers_2_equals_serial(serial, cache_dir, tmp_path):
    out = tmp_path / "w.csv"
    argv = ["sweep", "--n", "1", "2", "3", "--kappa-paper", *KAPPAS_PAPER, "--charger",
            "fock", "coherent", "--workers", "2", "--quiet", "--out", str(out)]
    assert cli.main(argv) == 0
    assert_csv_equals(out, serial)


def test_cli_scheduler_equals_serial(cluster, serial, cache_dir, tmp_path):
    out = tmp_path / "s.csv"
    argv = ["sweep", "--n", "1", "2", "3", "--kappa-paper", *KAPPAS_PAPER, "--charger",
            "fock", "coherent", "--scheduler", cluster.scheduler_address, "--quiet",
            "--out", str(out)]
    assert cli.main(argv) == 0
    assert_csv_equals(out, serial)


# 7 s at load 4.5 on 2 cores, 18 s at load 8: the no-maximum point is computed twice
def test_cli_partial_failure_keeps_the_rest_and_a_rerun_computes_only_what_failed(
        cluster, cache_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "partial.csv"
    argv = ["sweep", *NO_MAX_ARGS, "--quiet", "--out", str(out)]
    code = cli.main(argv + ["--scheduler", cluster.scheduler_address])
    err = capsys.readouterr().err
    assert code == 1
    assert "failed: charger=fock version=collective n=1 kappa-paper=2 (kappa=4 g): " \
           "NoMaximumError: E_h(t) has no local maximum" in err
    assert "failed: charger=fock version=parallel n=1 kappa-paper=2" in err
    assert "error: 2 of 6 rows failed" in err and "rerun the same command" in err
    rows = rows_of(out)
    assert [(r["version"], float(r["kappa"]), r["status"].split(":")[0]) for r in rows] == [
        ("collective", 0.5, "ok"), ("collective", 1.0, "ok"), ("collective", 4.0, "failed"),
        ("parallel", 0.5, "ok"), ("parallel", 1.0, "ok"), ("parallel", 4.0, "failed")]
    for r in rows:
        if r["status"] == "ok":
            direct = qb.first_max(1, "fock", float(r["kappa"]), n_th=1.0, version=r["version"])
            assert all(float(r[q]) == getattr(direct, q) for q in QUANTITIES), r
        else:
            assert all(r[q] == "" for q in QUANTITIES)

    # the rerun submits only the point that failed (the others are cached)
    from distributed.cfexecutor import ClientExecutor

    submitted = []
    real_submit = ClientExecutor.submit

    def recording(self, fn, *args, **kwargs):
        submitted.append(args[:3])
        return real_submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ClientExecutor, "submit", recording)
    assert cli.main(argv + ["--scheduler", cluster.scheduler_address]) == 1
    assert submitted == [(1, "fock", 4.0)]
    assert [r["status"].split(":")[0] for r in rows_of(out)] == [
        "ok", "ok", "failed", "ok", "ok", "failed"]
