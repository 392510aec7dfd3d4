"""The command line's sweep options that need no computation (output paths,
where to run) and the ``cache`` command.  The sweep itself, serial, on local
workers and on a Dask scheduler, with a failing point, is run for real in
test_cli.py and test_sweep_parallel.py."""
from __future__ import annotations

import pytest

import qbhelpers
import qbhelpers.studies.cache as cache
import qbhelpers.studies.executors as executors
import qbhelpers.studies.sweep as sweep_module
from qbhelpers import cli

SWEEP = ["sweep", "--n", "1", "--kappa-paper", "0.5"]


@pytest.fixture
def nothing_runs(monkeypatch):
    """Fail the test if a sweep, a first maximum or an executor starts."""
    def _forbidden(*args, **kwargs):
        raise AssertionError("something started before the arguments were checked")

    for module, name in ((sweep_module, "first_max_grid"), (sweep_module, "first_max_point"),
                         (qbhelpers, "first_max_grid"), (executors, "local_processes"),
                         (executors, "connect")):
        monkeypatch.setattr(module, name, _forbidden)


def _error(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("out, message", [
    ("/proc/a.csv", "--out: cannot write in the folder '/proc'"),
    ("newdir/", "--out must be a file name for the CSV, got the folder 'newdir/'"),
    ("newdir/a.csv", "--out: the folder '{tmp}/newdir' does not exist"),
    (".", "--out must be a file name for the CSV, got the folder '.'"),
    ("a-file/a.csv", "--out: the folder '{tmp}/a-file' does not exist"),
])
def test_unwritable_output_is_refused_before_computing(out, message, nothing_runs, tmp_path,
                                                       monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("a file, not a folder")
    code, err = _error(SWEEP + ["--out", out], capsys)
    assert code == 2
    assert message.format(tmp=tmp_path) in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # no probe file left


@pytest.mark.parametrize("extra, message", [
    (["--workers", "-1"], "--workers takes a number of local worker processes"),
    (["--workers", "two"], "--workers takes a number of local worker processes"),
    (["--workers", "1.5"], "--workers takes a number of local worker processes"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"],
     "give --workers (local processes) or --scheduler (a Dask cluster), not both"),
    (["--scheduler", "  "], "--scheduler takes the address of a running Dask scheduler"),
    (["--n", "1", "2.7"], "--n takes positive integers"),
    (["--charger", "fock", "fock"], "chargers must not repeat a value"),
])
def test_where_to_run_is_checked_before_computing(extra, message, nothing_runs, tmp_path,
                                                  capsys):
    code, err = _error(SWEEP + extra + ["--out", str(tmp_path / "r.csv")], capsys)
    assert code == 2 and message in err
    assert not (tmp_path / "r.csv").exists()


def test_cache_info_and_clear(cache_dir, capsys):
    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert f"folder: {cache_dir} (not created yet)" in out and "entries: 0 (0 bytes)" in out
    qbhelpers.first_max_grid((1, 2), (0.5,), versions="collective", progress=False)
    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    size = cache.info().size
    assert f"folder: {cache_dir}\n" in out
    assert f"entries: 2 ({size} bytes)" in out and f"first_max: 2 entries ({size} bytes)" in out
    for library in ("numpy", "scipy", "numba", "qutip"):
        assert f"{library} {cache.fingerprint()[library]}" in out
    assert cli.main(["cache", "clear"]) == 0
    assert f"removed 2 entries from {cache_dir}" in capsys.readouterr().out
    assert cache.info().entries == 0


def test_cache_command_needs_an_action(capsys):
    code, err = _error(["cache"], capsys)
    assert code == 2 and "info" in err and "clear" in err
    code, err = _error(["cache", "wipe"], capsys)
    assert code == 2 and "invalid choice: 'wipe'" in err


def test_help_documents_the_new_options():
    text = " ".join(cli.build_parser().format_help().split())  # unwrapped
    for option in ("--workers W", "--scheduler ADDRESS", "=== command 'cache' ===",
                   "{info,clear}", "status 'failed: <error>'", "XDG_CACHE_HOME"):
        assert option in text, option


def test_a_csv_that_cannot_be_written_after_computing_is_an_error_not_a_traceback(
        cache_dir, tmp_path, monkeypatch, capsys):
    def disk_full(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sweep_module.Sweep, "to_csv", disk_full)
    code = cli.main(SWEEP + ["--quiet", "--out", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert code == 1
    assert "could not write" in err and "No space left on device" in err
    assert "the points computed are in the cache: rerun to write them" in err
    assert cache.info().entries == 1  # N = 1 at one κ: collective and parallel share it
