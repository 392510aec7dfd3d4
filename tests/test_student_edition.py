"""The student edition (tools/student_edition.py; `make tag-solutions`, `make student`).

On a small synthetic notebook: the tagging marks exactly the cells of each
solution (splitting the markdown cells where a solution starts or ends), is
idempotent, and rejects gates that do not pair up; the student notebook keeps
the exercises and the parameters cell and drops the solutions and every
output.  On the real chapters: every exercise is kept and no solution is
left, and (slow) every student notebook runs, with the chapter's small
parameters, up to its first exercise.
"""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in CHAPTERS]

_spec = importlib.util.spec_from_file_location("student_edition",
                                               ROOT / "tools" / "student_edition.py")
se = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(se)

EXERCISE_LABEL = re.compile(r"\{exercise\}[^\n]*\n:label:\s*(\S+)")


def _src(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _md(text: str, **metadata):
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata.update(metadata)
    return cell


def _code(text: str, tags=(), output: str | None = "out\n"):
    cell = nbformat.v4.new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    if output is not None:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
        cell.execution_count = 7
    cell.metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    return cell


def synthetic_notebook():
    """Every way the chapters write solutions: a gate opened in the exercise's
    cell, a gate closed in the next exercise's cell, a one-cell {solution},
    4-backtick fences with code blocks inside, and a stale `solution` tag."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells = [
        _md("# A chapter"),
        _code("n = 2  # N, number of qubits", tags=["parameters"]),
        _code("print(n)", output="2\n"),
        _md("## Exercises\n\n```{exercise} One\n:label: ex-one\n\nDo one.\n```\n\n"
            "```{solution-start} ex-one\n:class: dropdown\n```\n\nANSWER-ONE prose."),
        _code("print('ANSWER-ONE code')\nassert True", output="ANSWER-ONE code\n"),
        _md("```{solution-end}\n```\n\n```{exercise} Two\n:label: ex-two\n\nDo two.\n```"),
        _md("```{solution} ex-two\n:class: dropdown\n\nANSWER-TWO.\n```"),
        _md("````{exercise} Three\n:label: ex-three\n\n```python\nx = 1\n```\n````\n\n"
            "````{solution} ex-three\nANSWER-THREE\n```python\ny = 2\n```\n````\n\n"
            "Text after the third solution.", tags=["solution"]),
        _md("## Checks"),
        _code("assert n == 2", output=None),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nbformat.validate(nb)
    return nb


def _summary(nb) -> list[tuple[str, str, bool]]:
    return [(c["id"], _src(c), "solution" in _tags(c)) for c in nb.cells]


def test_tagging_marks_exactly_the_solutions():
    tagged = se.tag_solutions(synthetic_notebook())
    assert _summary(tagged) == [
        ("c0", "# A chapter", False),
        ("c1", "n = 2  # N, number of qubits", False),
        ("c2", "print(n)", False),
        ("c3", "## Exercises\n\n```{exercise} One\n:label: ex-one\n\nDo one.\n```", False),
        ("c3-1", "```{solution-start} ex-one\n:class: dropdown\n```\n\nANSWER-ONE prose.", True),
        ("c4", "print('ANSWER-ONE code')\nassert True", True),
        ("c5", "```{solution-end}\n```", True),
        ("c5-1", "```{exercise} Two\n:label: ex-two\n\nDo two.\n```", False),
        ("c6", "```{solution} ex-two\n:class: dropdown\n\nANSWER-TWO.\n```", True),
        ("c7", "````{exercise} Three\n:label: ex-three\n\n```python\nx = 1\n```\n````", False),
        ("c7-1", "````{solution} ex-three\nANSWER-THREE\n```python\ny = 2\n```\n````", True),
        ("c7-2", "Text after the third solution.", False),
        ("c8", "## Checks", False),
        ("c9", "assert n == 2", False),
    ]
    # other tags are kept, and the split cells are valid cells with unique ids
    assert _tags(tagged.cells[1]) == ["parameters"]
    assert len({c["id"] for c in tagged.cells}) == len(tagged.cells)
    nbformat.validate(tagged)


def test_tagging_is_idempotent_and_leaves_the_input_alone():
    nb = synthetic_notebook()
    before = json.dumps(nb, sort_keys=True)
    once = se.tag_solutions(nb)
    assert json.dumps(nb, sort_keys=True) == before
    assert se.tag_solutions(once) == once


@pytest.mark.parametrize("cells, message", [
    (["```{solution-start} ex\n```", "text"], "without its {solution-end}"),
    (["text", "```{solution-end}\n```"], "without a {solution-start}"),
    (["```{solution-start} a\n```", "```{solution-start} b\n```"], "inside another solution"),
])
def test_unpaired_gates_are_an_error(cells, message):
    nb = nbformat.v4.new_notebook()
    nb.cells = [_md(text) for text in cells]
    with pytest.raises(se.SolutionStructureError, match=re.escape(message)):
        se.tag_solutions(nb)


def test_student_notebook_keeps_exercises_and_drops_solutions_and_outputs():
    student = se.student_notebook(synthetic_notebook(), version="9.9.9")
    nbformat.validate(student)
    text = "\n".join(_src(c) for c in student.cells)
    first = _src(student.cells[0])
    assert "Student edition" in first and "9.9.9" in first and 'pip install ".[book]"' in first
    assert "make lab" in first
    assert EXERCISE_LABEL.findall(text) == ["ex-one", "ex-two", "ex-three"]
    assert "ANSWER" not in text and "{solution" not in text
    assert "Text after the third solution." in text and "## Checks" in text
    code = [c for c in student.cells if c.cell_type == "code"]
    assert [_src(c) for c in code] == ["n = 2  # N, number of qubits", "print(n)",
                                      "assert n == 2"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert all("execution" not in c.metadata for c in student.cells)
    assert _tags(code[0]) == ["parameters"]
    assert "widgets" not in student.metadata and "kernelspec" in student.metadata


def test_command_line_tags_in_place_then_changes_nothing(tmp_path, capsys):
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(synthetic_notebook(), path)
    assert se.main(["tag", str(path)]) == 0
    tagged = path.read_text()
    assert se.main(["tag", str(path)]) == 0
    assert path.read_text() == tagged
    assert "unchanged (5 solution cells)" in capsys.readouterr().out
    out = tmp_path / "student"
    assert se.main(["build", "--out", str(out), str(path)]) == 0
    student = nbformat.read(out / path.name, as_version=4)
    assert not any("solution" in _tags(c) for c in student.cells)


# ------------------------------------------------------------ real chapters
@pytest.mark.skipif(not CHAPTERS, reason="no chapter notebooks")
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_student_edition_keeps_every_exercise(path):
    original = nbformat.read(path, as_version=4)
    student = se.student_notebook(original, version=se.package_version())
    text = "\n".join(_src(c) for c in student.cells)
    labels = EXERCISE_LABEL.findall("\n".join(_src(c) for c in original.cells))
    assert labels, f"{path.name}: no exercise found"
    assert EXERCISE_LABEL.findall(text) == labels
    assert "{solution" not in text
    assert not any(c.get("outputs") for c in student.cells)
    assert [c for c in student.cells if "parameters" in _tags(c)]


@pytest.mark.skipif(not CHAPTERS, reason="no chapter notebooks")
def test_committed_chapters_are_tagged():
    """Once the chapters carry `solution` tags (`make tag-solutions`), they
    must stay in step with the gates: tagging again changes nothing."""
    notebooks = {p.name: nbformat.read(p, as_version=4) for p in CHAPTERS}
    if not any("solution" in _tags(c) for nb in notebooks.values() for c in nb.cells):
        pytest.skip("the chapters carry no `solution` tags yet: run `make tag-solutions`")
    stale = [name for name, nb in notebooks.items() if se.tag_solutions(nb) != nb]
    assert not stale, f"solution tags out of step (run `make tag-solutions`): {stale}"


def _up_to_first_exercise(nb):
    cut = next(i for i, c in enumerate(nb.cells)
               if c.cell_type == "markdown" and "{exercise" in _src(c))
    nb.cells = nb.cells[:cut]
    return nb


@pytest.mark.slow
@pytest.mark.skipif(not CHAPTERS, reason="no chapter notebooks")
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_student_notebook_runs_up_to_its_first_exercise(path, tmp_path, monkeypatch):
    """The student notebook as handed out runs (the chapter's small parameters
    injected after its `parameters` cell, as papermill does) up to its first
    exercise, in a folder of its own."""
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("QBHELPERS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")   # this venv's python3 kernel
    monkeypatch.delenv("MPLBACKEND", raising=False)      # keep the inline backend
    original = nbformat.read(path, as_version=4)
    student = _up_to_first_exercise(se.student_notebook(original, se.package_version()))
    assert any(c.cell_type == "code" for c in student.cells)
    source, out = tmp_path / path.name, tmp_path / f"ran_{path.name}"
    nbformat.write(student, source)
    papermill.execute_notebook(str(source), str(out), cwd=str(tmp_path),
                               parameters=original.metadata["qb_small_params"],
                               progress_bar=False, kernel_name="python3")
    done = nbformat.read(out, as_version=4)
    injected = [c for c in done.cells if "injected-parameters" in _tags(c)]
    assert len(injected) == 1
    code = [c for c in done.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "a cell did not run"
    assert not [o for c in code for o in c.outputs if o.get("output_type") == "error"]


# ------------------------------------------------- HTML without solutions
HIDDEN_BOOK_PAGE = """# A page

```{exercise} One
:label: ex-one

EXERCISE-TEXT
```

```{solution-start} ex-one
:class: dropdown
```

GATED-PROSE

```python
print("GATED-CODE")
```

```{solution-end}
```

```{solution} ex-one
PLAIN-SOLUTION
```

AFTER-TEXT
"""


@pytest.mark.slow
@pytest.mark.parametrize("hide", [True, False])
def test_hide_solutions_leaves_out_gated_solutions(tmp_path, hide):
    """sphinx-exercise's hide_solutions, with _ext/hide_solutions.py (what
    `make book-teacher` sets): every solution, gated or not, is left out and
    the exercise stays; without it every solution is on the page."""
    import subprocess
    import sys

    (tmp_path / "intro.md").write_text(HIDDEN_BOOK_PAGE)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "_config.yml").write_text(
        "title: T\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: 'off'\n"
        f"sphinx:\n  local_extensions:\n    hide_solutions: {ROOT / '_ext'}\n"
        f"  extra_extensions: [sphinx_exercise]\n  config:\n    hide_solutions: {str(hide).lower()}\n")
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", str(tmp_path), "-W", "-n"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = (tmp_path / "_build" / "html" / "intro.html").read_text()
    assert "EXERCISE-TEXT" in page and "AFTER-TEXT" in page
    for secret in ("GATED-PROSE", "GATED-CODE", "PLAIN-SOLUTION"):
        assert (secret in page) is not hide, secret
