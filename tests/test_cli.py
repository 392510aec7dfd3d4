"""The command line ``python -m qbhelpers``: argument checks (exit code 2, a
message saying what is allowed, nothing computed), a tiny real sweep checked
against :func:`qbhelpers.first_max`, and one real rerun of chapter 01."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import qbhelpers
import qbhelpers.studies.sweep
from qbhelpers import cli
from qbhelpers.studies.sweep import QUANTITIES
from qbhelpers.units import kappa_from_paper

from conftest import write_notebook

REPO = Path(__file__).resolve().parents[1]
TOL = 1e-8  # the book's accuracy (tests/conftest.py); here both sides run the same code

# A parameters cell like the chapters' (the '=' inside a comment hides a line
# from papermill's own parser; the command line must still know the name).
PARAMETERS = '''\
N_values = [1, 2, 3]        # numbers of qubits; the charger holds nbar = N photons
kappa_over_omega_r = 0.5    # dissipation (dimensionless)
n_times = 101               # number of time points
charger = "fock"            # "fock", "coherent" or "thermal"
chargers = ["fock", "coherent"]
means = list(range(1, 5))   # computed default: its type is still a list
'''


def _notebook(path: Path, parameters: str | None = PARAMETERS) -> Path:
    return write_notebook(path, parameters, "print(N_values)", title="# A chapter")


@pytest.fixture
def fake_chapters(tmp_path, monkeypatch) -> Path:
    """A chapters/ folder with two small notebooks, used instead of the book's."""
    folder = tmp_path / "chapters"
    folder.mkdir()
    _notebook(folder / "01_model.ipynb")
    _notebook(folder / "02_plain.ipynb", parameters=None)
    monkeypatch.setattr(cli, "CHAPTERS_DIR", folder)
    return folder


@pytest.fixture
def no_papermill(monkeypatch):
    """Fail the test if a notebook is executed."""
    import papermill

    def _forbidden(*args, **kwargs):
        raise AssertionError("papermill.execute_notebook was called before validation finished")

    monkeypatch.setattr(papermill, "execute_notebook", _forbidden)


@pytest.fixture
def no_sweep(monkeypatch):
    """Fail the test if a sweep or any first maximum starts."""
    import qbhelpers.battery
    import qbhelpers.studies.cache

    def _forbidden(*args, **kwargs):
        raise AssertionError("a computation started before validation finished")

    monkeypatch.setattr(qbhelpers.studies.sweep, "first_max_grid", _forbidden)
    monkeypatch.setattr(qbhelpers, "first_max_grid", _forbidden)
    monkeypatch.setattr(qbhelpers.studies.sweep, "first_max_point", _forbidden)
    monkeypatch.setattr(qbhelpers.studies.cache, "cached_first_max", _forbidden)
    monkeypatch.setattr(qbhelpers.battery, "first_max", _forbidden)
    monkeypatch.setattr(qbhelpers, "first_max", _forbidden)


def _exit_code_and_error(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code, capsys.readouterr().err


# ------------------------------------------------------------------- help
def test_help_documents_both_commands():
    out = subprocess.run([sys.executable, "-m", "qbhelpers", "--help"], capture_output=True,
                         text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    for text in ("run", "sweep", "CHAPTER", "-p NAME VALUE", "--out DIR", "--kappa-paper",
                 "--charger", "--n-th", "fock, coherent, thermal", "exit", "code 2"):
        assert text in out.stdout, text


# -------------------------------------------------------- run: validation
@pytest.mark.parametrize("argv, message", [
    (["run", "01", "-p", "x", "1"],
     "unknown parameter 'x' for chapter 01_model; allowed: N_values, kappa_over_omega_r, "
     "n_times, charger, chargers, means"),
    (["run", "01_model", "-p", "n_times", "1.5"],
     "parameter 'n_times' of chapter 01_model must be an int (default 101); got float '1.5'"),
    (["run", "01", "-p", "n_times", "many"],
     "parameter 'n_times' of chapter 01_model must be an int (default 101); got str 'many'"),
    (["run", "01", "-p", "kappa_over_omega_r", "[1]"],
     "parameter 'kappa_over_omega_r' of chapter 01_model must be a number (float)"),
    (["run", "01", "-p", "N_values", "3"],
     "parameter 'N_values' of chapter 01_model must be a list"),
    (["run", "01", "-p", "N_values", "[1, 2.5]"],
     "must be a list of ints (default [1, 2, 3]); got 2.5 in [1, 2.5]"),
    (["run", "01", "-p", "chargers", "[1]"], "must be a list of strings"),
    (["run", "01", "-p", "means", "4"], "parameter 'means' of chapter 01_model must be a list"),
    (["run", "01", "-p", "charger", "3"],
     "parameter 'charger' of chapter 01_model must be a string (default \"fock\"); got int '3'"),
    (["run", "07", "-p", "n_times", "3"],
     "unknown chapter '07'; available: 01_model, 02_plain"),
    (["run", "02", "-p", "n_times", "3"],
     "chapter 02_plain has no cell tagged 'parameters'"),
])
def test_run_rejects_bad_arguments_before_running(argv, message, fake_chapters, no_papermill,
                                                  capsys):
    code, err = _exit_code_and_error(argv + ["--out", str(fake_chapters.parent / "out")], capsys)
    assert code == 2
    assert message in err
    assert not (fake_chapters.parent / "out").exists()


def test_run_accepts_good_values(fake_chapters, monkeypatch, tmp_path):
    """Values are parsed as literals (fallback: text) and reach papermill with
    the default's type; the notebook runs in a copy of its folder."""
    seen = {}

    def fake_execute(input_path, output_path, parameters, progress_bar, cwd, **kw):
        seen.update(input=input_path, parameters=parameters, progress_bar=progress_bar, cwd=cwd)
        Path(cwd, "data").mkdir(exist_ok=True)
        Path(cwd, "data", "ch01_new.csv").write_text("a,b\n1,2\n")
        Path(output_path).write_text("{}")

    import papermill
    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    out = tmp_path / "out"
    code = cli.main(["run", "01", "-p", "N_values", "[1, 2]", "-p", "kappa_over_omega_r", "1",
                     "-p", "charger", "coherent", "-p", "means", "(1, 2)", "--out", str(out)])
    assert code == 0
    assert seen["parameters"] == {"N_values": [1, 2], "kappa_over_omega_r": 1.0,
                                  "charger": "coherent", "means": [1, 2]}
    assert isinstance(seen["parameters"]["kappa_over_omega_r"], float)
    assert seen["progress_bar"] is True
    assert Path(seen["input"]) == fake_chapters / "01_model.ipynb"
    assert Path(seen["cwd"]).name == "chapters" and Path(seen["cwd"]) != fake_chapters
    assert (out / "01_model.ipynb").exists()
    assert (out / "data" / "ch01_new.csv").read_text() == "a,b\n1,2\n"
    assert not (fake_chapters / "data").exists()  # the book's folder is left alone


def test_run_accepts_a_path(fake_chapters, no_papermill, capsys):
    code, err = _exit_code_and_error(
        ["run", str(fake_chapters / "01_model.ipynb"), "-p", "nope", "1"], capsys)
    assert code == 2 and "unknown parameter 'nope' for chapter 01_model" in err


def test_list_params(fake_chapters, no_papermill, capsys):
    assert cli.main(["run", "01", "--list-params"]) == 0
    out = capsys.readouterr().out
    assert "N_values" in out and "numbers of qubits" in out and "list(range(1, 5))" in out


# ------------------------------------------------------ sweep: validation
SWEEP = ["sweep", "--n", "1", "--kappa-paper", "0.5"]


@pytest.mark.parametrize("extra, message", [
    (["--n", "0"], "n_qubits must be a positive integer (>= 1), got 0"),
    (["--n", "-3"], "n_qubits must be a positive integer (>= 1), got -3"),
    (["--n", "2.5"], "--n takes positive integers (numbers of qubits); got '2.5'"),
    (["--kappa-paper", "-1"], "--kappa-paper (kappa/Omega_R) must be >= 0, got -1.0"),
    (["--kappa-paper", "inf"], "--kappa-paper (kappa/Omega_R) must be finite, got inf"),
    (["--kappa-paper", "nan"], "--kappa-paper (kappa/Omega_R) must be finite, got nan"),
    (["--kappa-paper", "lots"], "--kappa-paper takes finite numbers >= 0"),
    (["--charger", "fock", "squeezed"],
     "--charger must be one of 'fock', 'coherent', 'thermal'; got 'squeezed'"),
    (["--n-th", "-0.1"], "--n-th (mean photon number of the bath) must be >= 0, got -0.1"),
    (["--n-th", "warm"], "--n-th takes a finite number >= 0; got 'warm'"),
    (["--version", "serial"], "--version must be one of 'collective', 'parallel'"),
    (["--method", "magic"], "--method must be one of 'blocks', 'blocks-rk', 'dicke', 'full'"),
    (["--method", "full", "--n", "11"], "too large for method='full' (at most 10)"),
])
def test_sweep_rejects_bad_arguments_before_computing(extra, message, no_sweep, tmp_path, capsys):
    out = tmp_path / "results.csv"
    code, err = _exit_code_and_error(SWEEP + extra + ["--out", str(out)], capsys)
    assert code == 2
    assert message in err
    assert not out.exists()


def test_sweep_rejects_a_missing_folder(no_sweep, tmp_path, capsys):
    code, err = _exit_code_and_error(SWEEP + ["--out", str(tmp_path / "no" / "r.csv")], capsys)
    assert code == 2 and "does not exist" in err


# --------------------------------------------------------- sweep: for real
def test_tiny_sweep_matches_first_max(cache_dir, tmp_path, capsys):
    out = tmp_path / "results.csv"
    kappas_paper = [0.25, 1.0]
    code = cli.main(["sweep", "--n", "1", "2", "--kappa-paper", *map(str, kappas_paper),
                     "--charger", "fock", "coherent", "--n-th", "0", "--out", str(out)])
    assert code == 0
    assert "first maxima" in capsys.readouterr().err  # the progress bar, on stderr
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 2 * 2 * 2  # chargers x versions x N x kappa
    seen = set()
    for row in rows:
        n, kappa = int(row["n_qubits"]), float(row["kappa"])
        k_paper = min(kappas_paper, key=lambda k: abs(kappa_from_paper(k) - kappa))
        assert kappa == pytest.approx(kappa_from_paper(k_paper), rel=0, abs=1e-15)
        seen.add((row["charger"], row["version"], n, k_paper))
        direct = qbhelpers.first_max(n, row["charger"], kappa_from_paper(k_paper),
                                     version=row["version"])
        for q in QUANTITIES:
            want, got = getattr(direct, q), float(row[q])
            assert math.isclose(got, want, rel_tol=TOL, abs_tol=TOL), (row, q, want)
    assert len(seen) == 16


# ----------------------------------------------------------- run: for real
CHAPTER_01 = REPO / "chapters" / "01_model.ipynb"


@pytest.mark.slow
@pytest.mark.skipif(not CHAPTER_01.exists(), reason="chapters/01_model.ipynb is not written yet")
def test_run_chapter_01_with_small_parameters(tmp_path, capsys):
    small = json.loads(CHAPTER_01.read_text())["metadata"].get("qb_small_params")
    if not small:
        pytest.skip("chapters/01_model.ipynb has no qb_small_params in its metadata")
    data = REPO / "chapters" / "data"
    before = {p.name: p.stat().st_mtime_ns for p in data.glob("*.csv")} if data.is_dir() else {}
    argv = ["run", "01"]
    for name, value in small.items():
        argv += ["-p", name, repr(value)]
    out = tmp_path / "rerun"
    assert cli.main(argv + ["--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Executing" in err  # papermill's progress bar

    nb = json.loads((out / "01_model.ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    for name, value in small.items():
        assert f"{name} = {value!r}" in "".join(injected[0]["source"])
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "figures were dropped"
    written = sorted(p.name for p in (out / "data").glob("*.csv"))
    assert written and all(name.startswith("ch01_") for name in written)
    after = {p.name: p.stat().st_mtime_ns for p in data.glob("*.csv")} if data.is_dir() else {}
    assert after == before, "the rerun overwrote the book's chapters/data/"
