"""The chapter notebooks: structure, and a papermill rerun of each with small values.

nbval (``make test``) re-executes every committed notebook at its default
parameters and compares the outputs; these tests check what nbval does not:
that each chapter can be rerun with *other* parameters (its notebook metadata
``qb_small_params``), that it has exactly one ``parameters`` cell, that its
committed outputs hold no error or warning, that no physics is written inline,
and that every worked solution with code asserts the value its text claims.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in CHAPTERS]

pytestmark = pytest.mark.skipif(not CHAPTERS, reason="no chapter notebooks yet")


def _nb(path: Path) -> dict:
    return json.loads(path.read_text())


def _code(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _src(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_structure(path: Path) -> None:
    nb = _nb(path)
    code = _code(nb)
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert any(c.get("outputs") for c in code), "committed with outputs (nbval compares them)"
    assert isinstance(nb["metadata"].get("qb_small_params"), dict), "metadata qb_small_params"
    src = "\n".join(_src(c) for c in code)
    assert not re.search(r"\b(mesolve|sesolve|liouvillian|qutip\.tensor|qt\.tensor)\b", src), \
        "physics belongs in qbhelpers, not inline"
    assert "import qbhelpers" in src
    md = "\n".join(_src(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "notation" in md, "links the notation page"
    assert md.count("{exercise}") >= 2, "at least two exercises"
    for c in code:
        for o in c.get("outputs", []):
            assert o.get("output_type") != "error", f"error output in {path.name}"
            if o.get("name") == "stderr":
                text = "".join(o.get("text", ""))
                assert not re.search(r"Warning|Error|Traceback", text), text[:200]


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_solutions_assert_their_claims(path: Path) -> None:
    """Every code cell inside a {solution-start} … {solution-end} gate asserts."""
    cells = _nb(path)["cells"]
    inside, code_seen = False, []
    for c in cells:
        s = _src(c)
        if c["cell_type"] == "markdown" and "{solution-start}" in s:
            inside, code_seen = True, []
        elif c["cell_type"] == "markdown" and "{solution-end}" in s:
            assert any("assert" in x for x in code_seen), \
                f"{path.name}: a worked solution with code must assert the value it claims"
            inside = False
        elif inside and c["cell_type"] == "code":
            code_seen.append(s)
    assert not inside, f"{path.name}: unterminated solution-start"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_rerun_with_small_parameters(path: Path, tmp_path: Path, monkeypatch) -> None:
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("QBHELPERS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    params = _nb(path)["metadata"]["qb_small_params"]
    out = tmp_path / path.name
    workdir = tmp_path / "chapters"
    workdir.mkdir()
    papermill.execute_notebook(str(path), str(out), parameters=params, cwd=str(workdir),
                               progress_bar=False, kernel_name="python3")
    done = _nb(out)
    injected = [c for c in done["cells"]
                if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(injected) == 1
    errors = [o for c in _code(done) for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
