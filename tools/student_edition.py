"""Tag the solutions of the chapter notebooks, and write the student edition.

The chapters write each worked solution with sphinx-exercise's gated
directives: a markdown cell holding ```` ```{solution-start} label ```` , then
markdown and code cells, then a markdown cell holding ```` ```{solution-end} ````
(a short solution may also be one ```` ```{solution} ```` directive).

``tag``    gives every cell of a solution (the two gate cells and every cell
           between them) the cell tag ``solution``, and takes it away from any
           other cell.  Where a markdown cell holds both a solution's edge and
           something else (the exercise before it, the next exercise after it),
           the cell is first split there, so that the tag covers the solution
           and nothing more.  Running it again changes nothing.
``build``  writes one student notebook per chapter: the cells tagged
           ``solution`` left out (the tagging is applied first, in memory, so an
           untagged chapter gives the same result), outputs and execution counts
           removed, the exercises and the ``parameters`` cell kept, and a first
           cell saying how to install ``qbhelpers`` and run the notebook.

    python tools/student_edition.py tag chapters/0*.ipynb       (make tag-solutions)
    python tools/student_edition.py build --out _build/student chapters/0*.ipynb
                                                                (make student)
"""
from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
#: An opening directive fence: ```{name} or :::{name} at the start of a line.
OPEN_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[A-Za-z][\w-]*)\}")
ROOT = Path(__file__).resolve().parents[1]


class SolutionStructureError(ValueError):
    """The gates of a notebook do not pair up (a start without its end, or the reverse)."""


def _source(cell) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def _closing_index(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes the directive opened at ``lines[start]``
    (a line of only the fence character, at least as long as the opening fence);
    the last line when the cell ends first."""
    char, length = fence[0], len(fence)
    closing = re.compile(rf"^{re.escape(char)}{{{length},}}\s*$")
    for j in range(start + 1, len(lines)):
        if closing.match(lines[j]):
            return j
    return len(lines) - 1


def split_markdown(text: str, in_solution: bool) -> tuple[list[tuple[str, bool]], bool]:
    """Split a markdown cell's text where a solution starts or ends.

    ``in_solution`` says whether the cell starts inside a gated solution.
    Returns the pieces, each ``(text, is_solution)`` in order (blank pieces
    dropped), and whether the cell ends inside a gated solution."""
    lines = text.splitlines(keepends=True)
    pieces: list[tuple[str, bool]] = []
    current: list[str] = []
    current_is_solution = in_solution

    def flush() -> None:
        chunk = "".join(current)
        if chunk.strip():
            pieces.append((chunk, current_is_solution))
        current.clear()

    i = 0
    while i < len(lines):
        m = OPEN_FENCE.match(lines[i])
        name = m["name"] if m else None
        if name in ("solution", "solution-start") and not in_solution:
            flush()
            end = _closing_index(lines, i, m["fence"])
            current_is_solution = True
            current.extend(lines[i:end + 1])
            if name == "solution":          # self-contained: the piece ends here
                flush()
                current_is_solution = False
            else:                           # gated: the solution goes on until its end
                in_solution = True
            i = end + 1
            continue
        if name == "solution-end":
            if not in_solution:
                raise SolutionStructureError("a {solution-end} without a {solution-start} before it")
            end = _closing_index(lines, i, m["fence"])
            current.extend(lines[i:end + 1])
            flush()
            in_solution, current_is_solution = False, False
            i = end + 1
            continue
        if name == "solution-start":
            raise SolutionStructureError("a {solution-start} inside another solution")
        current.append(lines[i])
        i += 1
    flush()
    return pieces, in_solution


def _set_tag(cell, on: bool) -> None:
    tags = list(cell.get("metadata", {}).get("tags", []))
    if on and SOLUTION_TAG not in tags:
        cell.setdefault("metadata", {})["tags"] = tags + [SOLUTION_TAG]
    elif not on and SOLUTION_TAG in tags:
        tags.remove(SOLUTION_TAG)
        if tags:
            cell["metadata"]["tags"] = tags
        else:
            del cell["metadata"]["tags"]


def _trim(text: str) -> str:
    """A piece of a split cell, without the blank lines around it."""
    return text.strip("\n")


def tag_solutions(nb):
    """A copy of ``nb`` whose solution cells, and only those, carry the tag
    ``solution``; markdown cells that mix a solution edge with other text are
    split at the edge.  Idempotent.  Raises :class:`SolutionStructureError`
    when the gates do not pair up."""
    nb = copy.deepcopy(nb)
    used_ids = {c.get("id") for c in nb.cells}
    cells = []
    in_solution = False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            _set_tag(cell, in_solution)
            cells.append(cell)
            continue
        pieces, in_solution_after = split_markdown(_source(cell), in_solution)
        if len(pieces) <= 1:
            is_solution = pieces[0][1] if pieces else in_solution
            _set_tag(cell, is_solution)
            cells.append(cell)
        else:
            base = cell.get("id") or "cell"
            for k, (text, is_solution) in enumerate(pieces):
                part = copy.deepcopy(cell)
                part["source"] = _trim(text)
                if k and "id" in cell:
                    new_id, n = f"{base}-{k}", k
                    while new_id in used_ids:
                        n += 1
                        new_id = f"{base}-{n}"
                    used_ids.add(new_id)
                    part["id"] = new_id
                _set_tag(part, is_solution)
                cells.append(part)
        in_solution = in_solution_after
    if in_solution:
        raise SolutionStructureError("a {solution-start} without its {solution-end}")
    nb.cells = cells
    return nb


def package_version(root: Path = ROOT) -> str:
    """``__version__`` of qbhelpers, read from ``qbhelpers/_version.py`` (not imported)."""
    tree = ast.parse((root / "qbhelpers" / "_version.py").read_text(encoding="utf8"))
    for node in tree.body:
        if (isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", None) == "__version__"):
            return ast.literal_eval(node.value)
    raise ValueError("qbhelpers/_version.py assigns no __version__")


def first_cell_text(version: str) -> str:
    """The note at the top of every student notebook."""
    return f"""\
**Student edition** of *Dissipative Quantum Batteries* (version {version}): this
notebook holds the chapter and its exercises, without the worked solutions and
without outputs. Run the cells yourself, from the top.

**To run it** you need Python 3.11 and the book's package `qbhelpers`. In a copy
of the book's repository, `make lab` creates the environment (`.venv/`) and opens
JupyterLab; or, in an environment of your own, `pip install ".[book]"` from the
repository root. Then open this notebook and choose *Run ▸ Run All Cells*. The
cell tagged `parameters` near the top holds the chapter's knobs, each with its
unit; change them and rerun to explore.

Text and figures: CC BY 4.0; code: MIT."""


def student_notebook(nb, version: str):
    """The student edition of one chapter notebook (a new notebook)."""
    nb = tag_solutions(nb)
    kept = []
    for cell in nb.cells:
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
        kept.append(cell)
    note = nbformat.v4.new_markdown_cell(first_cell_text(version))
    note["id"] = "student-edition"
    nb.cells = [note] + kept
    for key in ("widgets", "papermill"):
        nb.metadata.pop(key, None)
    return nb


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def cmd_tag(paths: list[Path]) -> int:
    for path in paths:
        nb = _read(path)
        try:
            tagged = tag_solutions(nb)
        except SolutionStructureError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 1
        n_tagged = sum(SOLUTION_TAG in c.get("metadata", {}).get("tags", []) for c in tagged.cells)
        if tagged == nb:
            print(f"{path}: unchanged ({n_tagged} solution cells)")
            continue
        nbformat.validate(tagged)
        nbformat.write(tagged, path)
        print(f"{path}: tagged {n_tagged} solution cells "
              f"({len(tagged.cells) - len(nb.cells)} cells split off)")
    return 0


def cmd_build(paths: list[Path], out: Path) -> int:
    version = package_version()
    out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        try:
            student = student_notebook(_read(path), version)
        except SolutionStructureError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 1
        nbformat.validate(student)
        nbformat.write(student, out / path.name)
        print(f"{out / path.name}: {len(student.cells)} cells")
    print(f"Student edition (version {version}) in {out}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_tag = sub.add_parser("tag", help="tag the solution cells of notebooks, in place")
    p_tag.add_argument("notebooks", nargs="+", type=Path)
    p_build = sub.add_parser("build", help="write the student notebooks")
    p_build.add_argument("--out", type=Path, default=Path("_build/student"))
    p_build.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.command == "tag":
        return cmd_tag(args.notebooks)
    return cmd_build(args.notebooks, args.out)


if __name__ == "__main__":
    sys.exit(main())
