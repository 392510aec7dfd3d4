"""`qbhelpers run` at its edges (issues 12 and 10): a bad output folder, a
broken notebook, values outside a parameter's range, YAML parameter files,
``--quick``, and a missing extra all end in a clear message and an exit
code, never a traceback, and before any kernel starts."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from qbhelpers import cli

from conftest import write_notebook

# A parameters cell with annotations and declared ranges (the convention:
# bounds in the comment, e.g. ">= 2"; without one, a number whose default is
# non-negative must stay non-negative).
PARAMETERS = '''\
n_times: int = 101                # number of time points, >= 2
N_values: list[int] = [1, 2, 3]   # numbers of qubits, >= 1
kappa_over_omega_r: float = 0.5   # dissipation (dimensionless), >= 0, <= 2
window = 1.15                     # a multiple of the first maximum
offset = -1.0                     # may be negative, >= -5
charger = "fock"                  # "fock", "coherent" or "thermal"
'''
SMALL = {"n_times": 11, "N_values": [1]}


def _notebook(path: Path, parameters: str = PARAMETERS, small: dict | None = SMALL) -> Path:
    return write_notebook(path, parameters, "print(n_times)",
                          metadata=None if small is None else {"qb_small_params": small})


@pytest.fixture
def chapters(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "chapters"
    folder.mkdir()
    _notebook(folder / "01_model.ipynb")
    _notebook(folder / "02_nosmall.ipynb", small=None)
    monkeypatch.setattr(cli, "CHAPTERS_DIR", folder)
    return folder


@pytest.fixture
def executed(monkeypatch) -> dict:
    """Record what would be executed instead of starting a kernel."""
    import papermill

    seen: dict = {}

    def fake_execute(input_path, output_path, parameters, progress_bar, cwd, **kw):
        seen.update(input=input_path, parameters=parameters)
        Path(output_path).write_text("{}")

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    return seen


def _fails(argv, capsys, code=2) -> str:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# ------------------------------------------------------------- output folder
def test_out_that_is_an_existing_file_is_refused_before_running(chapters, executed, tmp_path,
                                                               capsys):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    err = _fails(["run", "01", "--out", str(target)], capsys)
    assert "--out must be a folder" in err and "existing file" in err
    assert not executed and target.read_text() == "keep me"


def test_out_that_cannot_be_created_is_refused(chapters, executed, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    err = _fails(["run", "01", "--out", str(blocker / "sub")], capsys)
    assert "--out" in err and not executed


# ------------------------------------------------------------ broken notebooks
@pytest.mark.parametrize("content, message", [
    ('{"cells": [', "not a valid notebook (not JSON"),
    ('{"metadata": {}}', "not a valid notebook (a Jupyter notebook is a JSON object"),
    ('[1, 2]', "not a valid notebook"),
    ('{"cells": [{"source": "x"}], "nbformat": 4}', "each with a 'cell_type'"),
], ids=["truncated", "no-cells", "a-list", "cell-without-type"])
def test_a_broken_notebook_is_a_clear_error(content, message, tmp_path, executed, capsys):
    nb = tmp_path / "broken.ipynb"
    nb.write_text(content)
    err = _fails(["run", str(nb), "--out", str(tmp_path / "out")], capsys)
    assert message in err and not executed


def test_a_parameters_cell_that_is_not_python_is_a_clear_error(tmp_path, executed, capsys):
    nb = _notebook(tmp_path / "bad.ipynb", parameters="n_times = = 3\n")
    err = _fails(["run", str(nb), "--out", str(tmp_path / "out")], capsys)
    assert "parameters cell of bad.ipynb is not valid Python" in err


def test_a_kernel_failure_ends_in_one_line(chapters, monkeypatch, tmp_path, capsys):
    import papermill

    def dies(*args, **kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill, "execute_notebook", dies)
    assert cli.main(["run", "01", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "error: papermill could not run the notebook: RuntimeError: Kernel died" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- ranges
@pytest.mark.parametrize("name, value, message", [
    ("n_times", "-5", "'n_times' of chapter 01_model must be >= 2 (its declared range)"),
    ("n_times", "1", "must be >= 2 (its declared range) (default 101); got 1"),
    ("N_values", "[1, 0]", "must be every item >= 1 (its declared range)"),
    ("N_values", "[1, 2.5]", "must be a list of ints"),
    ("kappa_over_omega_r", "3", "must be >= 0 and <= 2 (its declared range)"),
    ("window", "-1.5", "'window' of chapter 01_model must be >= 0 (default 1.15; a chapter "
                       "may declare another range"),
    ("offset", "-6", "must be >= -5 (its declared range)"),
], ids=["negative", "too-few", "list-item", "list-type", "upper", "sign-rule", "declared-neg"])
def test_values_outside_the_range_are_refused_before_the_kernel_starts(
        name, value, message, chapters, executed, tmp_path, capsys):
    err = _fails(["run", "01", "-p", name, value, "--out", str(tmp_path / "out")], capsys)
    assert message in err
    assert not executed and not (tmp_path / "out").exists()


def test_values_inside_the_range_pass_with_the_annotated_types(chapters, executed, tmp_path):
    assert cli.main(["run", "01", "-p", "n_times", "2", "-p", "kappa_over_omega_r", "2",
                     "-p", "offset", "-5", "-p", "N_values", "(1, 4)",
                     "--out", str(tmp_path / "out")]) == 0
    assert executed["parameters"] == {"n_times": 2, "kappa_over_omega_r": 2.0, "offset": -5.0,
                                      "N_values": [1, 4]}
    assert isinstance(executed["parameters"]["kappa_over_omega_r"], float)


def test_list_params_shows_the_declared_ranges(chapters, capsys):
    assert cli.main(["run", "01", "--list-params"]) == 0
    out = capsys.readouterr().out
    assert "n_times" in out and ">= 2" in out and "<= 2" in out


def test_declared_range_grammar():
    assert cli.declared_range("number of time points, >= 2") == [(">=", 2.0)]
    assert cli.declared_range(">= 0, <= 2.5e1") == [(">=", 0.0), ("<=", 25.0)]
    assert cli.declared_range("> -1 and < .5") == [(">", -1.0), ("<", 0.5)]
    assert cli.declared_range("kappa/Omega_R (dimensionless)") == []
    assert cli.declared_range("units of pi/Omega_R") == []


# ------------------------------------------------------------ YAML and --quick
def test_params_file_values_are_checked_and_p_overrides_them(chapters, executed, tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("n_times: 21\nN_values: [1, 2]\ncharger: coherent\n")
    assert cli.main(["run", "01", "--params-file", str(f), "-p", "n_times", "31",
                     "--out", str(tmp_path / "out")]) == 0
    assert executed["parameters"] == {"n_times": 31, "N_values": [1, 2], "charger": "coherent"}


@pytest.mark.parametrize("content, message", [
    ("n_times: -3\n", "must be >= 2 (its declared range)"),
    ("nope: 3\n", "unknown parameter 'nope' for chapter 01_model (in "),
    ("n_times: [1\n", "is not valid YAML"),
    ("- 1\n- 2\n", "must hold a mapping of parameter names to values"),
    ("n_times: '21'\n", "must be an int (default 101); got str"),
], ids=["range", "unknown", "syntax", "not-a-mapping", "type"])
def test_a_bad_params_file_is_refused(content, message, chapters, executed, tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text(content)
    err = _fails(["run", "01", "--params-file", str(f), "--out", str(tmp_path / "out")],
                 capsys)
    assert message in err and not executed


def test_a_missing_params_file_is_refused(chapters, executed, tmp_path, capsys):
    err = _fails(["run", "01", "--params-file", str(tmp_path / "none.yaml")], capsys)
    assert "--params-file: cannot read" in err


def test_quick_uses_the_chapter_small_parameters(chapters, executed, tmp_path):
    assert cli.main(["run", "01", "--quick", "-p", "n_times", "5",
                     "--out", str(tmp_path / "out")]) == 0
    assert executed["parameters"] == {"n_times": 5, "N_values": [1]}


def test_quick_without_small_parameters_is_refused(chapters, executed, tmp_path, capsys):
    err = _fails(["run", "02", "--quick", "--out", str(tmp_path / "out")], capsys)
    assert "declares no small parameters" in err and not executed


def test_the_book_chapters_small_parameters_pass_the_checks(monkeypatch):
    """Every chapter's qb_small_params is a valid --quick (nothing is run)."""
    for nb in sorted(cli.chapters_dir().glob("[0-9][0-9]_*.ipynb")):
        small = json.loads(nb.read_text())["metadata"].get("qb_small_params")
        if not small:
            continue
        args = cli.build_parser().parse_args(["run", str(nb), "--quick", "--list-params"])
        _, values = cli.prepare_run(args)
        assert set(values) == set(small), nb.name


# --------------------------------------------------------------- missing extra
def test_a_missing_papermill_is_one_line_naming_the_install_command(chapters, monkeypatch,
                                                                     tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "papermill", None)  # as if it were not installed
    err = _fails(["run", "01", "--out", str(tmp_path / "out")], capsys, code=1)
    assert err.strip().count("\n") == 0
    assert 'pip install "qbhelpers[book]"' in err and "papermill" in err
    # --list-params needs no papermill
    assert cli.main(["run", "01", "--list-params"]) == 0
