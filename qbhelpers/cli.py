"""Command line: rerun a chapter notebook, or sweep first maxima into a CSV file.

    qbhelpers run 01 -p N_values "[1, 2]" --out rerun      (or python -m qbhelpers ...)
    qbhelpers sweep --n 1 2 4 --kappa-paper 0 0.5 1 2 \\
        --charger fock coherent --n-th 0 --out results.csv

Every argument is checked before anything is computed; a bad one ends the
program with exit code 2 and a message that says what is allowed.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from .validation import check_choice, check_n_qubits, check_real
from .engines import MAX_QUBITS, METHODS
from .physics.states import CHARGERS
from .problem import VERSIONS

#: The book's chapter notebooks, next to the package in a source checkout.
CHAPTERS_DIR = Path(__file__).resolve().parents[1] / "chapters"

#: Type of a parameter's default -> name shown in messages.
_TYPE_NAMES = {bool: "bool", int: "int", float: "float", list: "list", str: "str"}


class CliError(Exception):
    """A bad argument: reported by argparse as ``error: ...`` with exit code 2."""


# --------------------------------------------------------------- chapters
def chapters_dir() -> Path:
    """``chapters/`` of the checkout the package lives in, else of the current folder."""
    if CHAPTERS_DIR.is_dir():
        return CHAPTERS_DIR
    return Path.cwd() / "chapters"


def available_chapters(folder: Path | None = None) -> list[str]:
    """Names (without ``.ipynb``) of the chapter notebooks ``NN_*.ipynb``."""
    folder = chapters_dir() if folder is None else folder
    return sorted(p.stem for p in folder.glob("[0-9][0-9]_*.ipynb"))


def resolve_chapter(chapter: str, folder: Path | None = None) -> Path:
    """``01``, ``01_model``, ``01_model.ipynb`` or a path -> the notebook's path."""
    folder = chapters_dir() if folder is None else folder
    as_path = Path(chapter)
    if as_path.suffix == ".ipynb" and as_path.is_file():
        return as_path.resolve()
    stem = as_path.name[:-len(".ipynb")] if as_path.name.endswith(".ipynb") else as_path.name
    names = available_chapters(folder)
    if stem in names:
        return (folder / f"{stem}.ipynb").resolve()
    prefixed = [n for n in names if n.split("_", 1)[0] == stem]
    if len(prefixed) == 1:
        return (folder / f"{prefixed[0]}.ipynb").resolve()
    allowed = ", ".join(names) if names else f"none (no NN_*.ipynb in {folder})"
    raise CliError(f"unknown chapter {chapter!r}; available: {allowed} "
                   "(give the number, e.g. 01, the name, or a path to a notebook)")


# ------------------------------------------------------------- parameters
#: What to install for the commands that need more than the physics.
BOOK_EXTRA = 'pip install "qbhelpers[book]"'


class MissingExtra(Exception):
    """A command needs a package of an optional extra that is not installed:
    reported in one line, naming the install command, with exit code 1."""


def _require(module: str, extra: str = BOOK_EXTRA):
    """Import ``module`` or stop with a one-line message naming ``extra``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"this command needs {module}, which is not installed; install "
                           f"the book's extras: {extra}") from None


def _read_text(path, failure: str) -> str:
    """A UTF-8 text file, or a CliError: ``failure``, then why."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{failure}: {exc}") from None


def read_notebook(path: Path) -> dict:
    """A notebook's JSON, or a CliError that says what is wrong with the file."""
    text = _read_text(path, f"cannot read the notebook {str(path)!r}")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{str(path)!r} is not a valid notebook (not JSON: {exc.msg} at line "
                       f"{exc.lineno}, column {exc.colno})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or \
            not isinstance(nb.get("nbformat"), int) or \
            not all(isinstance(c, dict) and "cell_type" in c for c in nb["cells"]):
        raise CliError(f"{str(path)!r} is not a valid notebook (a Jupyter notebook is a JSON "
                       "object with 'nbformat' and a list of 'cells', each with a 'cell_type')")
    return nb


def _parameters_cell(nb: dict) -> str | None:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell.get("source", "")
            return "".join(src) if isinstance(src, list) else src
    return None


def _default_type(node: ast.expr) -> type | None:
    """Type of a default value: from its literal, else from the shape of the
    expression (``list(range(1, 21))`` is a list); None when unknown."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        if isinstance(node, (ast.List, ast.ListComp)):
            return list
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("list", "sorted"):
            return list
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("int", "float", "str"):
            return {"int": int, "float": float, "str": str}[node.func.id]
        return None
    if isinstance(value, tuple):
        return list
    return type(value) if type(value) in _TYPE_NAMES else None


#: Builtin names an annotation may use (``n_times: int = 301``, ``N_values: list[int]``).
_ANNOTATIONS = {"int": int, "float": float, "str": str, "bool": bool, "list": list,
                "tuple": list, "dict": dict}


def _annotation(node: ast.expr | None) -> tuple[type | None, type | None]:
    """(type, item type) from a parameter's annotation: ``int`` -> (int, None),
    ``list[float]`` -> (list, float); (None, None) for anything else."""
    if isinstance(node, ast.Name):
        return _ANNOTATIONS.get(node.id), None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and \
            _ANNOTATIONS.get(node.value.id) is list:
        item = node.slice
        return list, (_ANNOTATIONS.get(item.id) if isinstance(item, ast.Name) else None)
    return None, None


#: A range a chapter declares in a parameter's comment: ``>= 2``, ``> 0``,
#: ``<= 10``, ``< 1`` (several may be given, e.g. ``>= 0, <= 2``).  For a list
#: it applies to every item.
_BOUND = re.compile(r"(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])")


def declared_range(comment: str) -> list[tuple[str, float]]:
    """The bounds a parameter's comment declares, as (operator, number)."""
    return [(op, float(num)) for op, num in _BOUND.findall(comment)]


def notebook_parameters(path: Path) -> dict[str, dict[str, Any]]:
    """The parameters of a notebook's cell tagged ``parameters``.

    The cell is read with :mod:`ast`, which finds every assignment (papermill's
    line parser skips a line with a second ``=``, say in a comment).  For
    each name: ``default`` (its source text), ``type`` (from the annotation,
    ``n_times: int = 301``, else from the default; None when it cannot be
    told without running code), ``item`` (the item type of an annotated list),
    ``help`` (the comment after it, which papermill shows too) and ``range``
    (the bounds the comment declares, see :func:`declared_range`).
    """
    nb = read_notebook(path)
    source = _parameters_cell(nb)
    params: dict[str, dict[str, Any]] = {}
    try:
        tree = ast.parse(source) if source is not None else None
    except SyntaxError as exc:
        raise CliError(f"the parameters cell of {Path(path).name} is not valid Python "
                       f"({exc.msg}, line {exc.lineno})") from None
    if tree is not None:  # in the cell's order
        lines = source.splitlines()
        for stmt in tree.body:
            annotation = None
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                targets, value, annotation = [stmt.target], stmt.value, stmt.annotation
            else:
                continue
            tail = lines[stmt.end_lineno - 1][stmt.end_col_offset:]
            comment = tail.split("#", 1)[1].strip() if "#" in tail else ""
            kind, item = _annotation(annotation)
            for target in targets:
                if isinstance(target, ast.Name):
                    params[target.id] = {
                        "default": ast.get_source_segment(source, value),
                        "type": kind or _default_type(value), "item": item,
                        "help": comment, "range": declared_range(comment)}
    return params


def parse_value(text: str) -> Any:
    """A ``-p`` value: a Python literal (``3``, ``0.5``, ``[1, 2]``, ``'fock'``),
    otherwise the text itself as a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def check_parameter(chapter: str, name: str, text: str, spec: dict[str, Any]) -> Any:
    """Parse ``text`` (a ``-p`` value) and check it (:func:`check_value`)."""
    return check_value(chapter, name, parse_value(text), spec, text)


def check_value(chapter: str, name: str, value: Any, spec: dict[str, Any],
                text: str | None = None) -> Any:
    """Check a parameter's value against the type of its annotation or
    default, and against its declared range (or, without one, the sign of a
    non-negative numeric default)."""
    text = repr(value) if text is None else text
    want = spec.get("type")
    if want is None or want is bool:
        if want is bool and not isinstance(value, bool):
            raise CliError(f"parameter {name!r} of chapter {chapter} must be True or False "
                           f"(default {spec['default']}); got {text!r}")
        return value
    what = f"parameter {name!r} of chapter {chapter} must be"
    default = f"(default {spec['default']})"
    if want is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CliError(f"{what} an int {default}; got {_type_name(value)} {text!r}")
    elif want is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CliError(f"{what} a number (float) {default}; got {_type_name(value)} {text!r}")
        value = float(value)
    elif want is list:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise CliError(f"{what} a list, e.g. \"[1, 2]\" {default}; "
                           f"got {_type_name(value)} {text!r}")
        value = _check_items(what, default, value, spec)
    elif want is str:
        if not isinstance(value, str):
            raise CliError(f"{what} a string {default}; got {_type_name(value)} {text!r} "
                           f"(to pass it as text, quote it: \"'{text}'\")")
    elif want is dict:
        if not isinstance(value, dict):
            raise CliError(f"{what} a dict {default}; got {_type_name(value)} {text!r}")
    _check_range(what, default, value, spec)
    return value


def _check_items(what: str, default: str, value: list, spec: dict[str, Any]) -> list:
    """If the annotation gives the item type (``list[int]``), or the default
    is a literal list of one kind (ints, numbers, strings), so must the new
    list's items be."""
    item = spec.get("item")
    if item is not None:
        kinds = {{int: "int", float: "float", str: "str"}.get(item, "other")}
    else:
        try:
            items = ast.literal_eval(spec["default"])
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return value
        kinds = {_type_name(x) for x in items}
    if kinds == {"int"}:
        bad = [x for x in value if isinstance(x, bool) or not isinstance(x, int)]
        kind = "ints"
    elif kinds <= {"int", "float"} and kinds:
        bad = [x for x in value if isinstance(x, bool) or not isinstance(x, (int, float))]
        kind = "numbers"
    elif kinds == {"str"}:
        bad = [x for x in value if not isinstance(x, str)]
        kind = "strings"
    else:
        return value
    if bad:
        raise CliError(f"{what} a list of {kind} {default}; got {bad[0]!r} in {value!r}")
    return value


_HOLDS = {">=": lambda x, b: x >= b, ">": lambda x, b: x > b,
          "<=": lambda x, b: x <= b, "<": lambda x, b: x < b}


def _check_range(what: str, default: str, value: Any, spec: dict[str, Any]) -> None:
    """The number (or every number of a list) within the declared range; with
    no declared range, not negative if the default is a non-negative number
    (or list of them)."""
    numbers_ = [x for x in (value if isinstance(value, list) else [value])
                if isinstance(x, (int, float)) and not isinstance(x, bool)]
    bounds = spec.get("range") or []
    for op, bound in bounds:
        for x in numbers_:
            if not _HOLDS[op](x, bound):
                shown = " and ".join(f"{o} {b:g}" for o, b in bounds)
                each = "every item " if isinstance(value, list) else ""
                raise CliError(f"{what} {each}{shown} (its declared range) {default}; "
                               f"got {x!r}")
    if bounds:
        return
    try:
        reference = ast.literal_eval(spec["default"])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, KeyError):
        return
    refs = reference if isinstance(reference, (list, tuple)) else [reference]
    refs = [x for x in refs if isinstance(x, (int, float)) and not isinstance(x, bool)]
    if refs and min(refs) >= 0:
        for x in numbers_:
            if x < 0:
                raise CliError(f"{what} >= 0 {default[:-1]}; a chapter may declare another "
                               "range in the parameter's comment, e.g. '# ..., >= -1'); "
                               f"got {x!r}")


# -------------------------------------------------------------------- run
@contextlib.contextmanager
def _kernel_environment():
    """The notebook kernel inherits this environment.  MPLBACKEND=Agg (set by
    the tests, say) would stop the inline backend and drop every figure from
    the executed notebook, so it is unset while the kernel runs."""
    saved = os.environ.pop("MPLBACKEND", None)
    prefer = os.environ.get("JUPYTER_PREFER_ENV_PATH")
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"  # this venv's python3 kernel
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved
        if prefer is None:
            os.environ.pop("JUPYTER_PREFER_ENV_PATH", None)
        else:
            os.environ["JUPYTER_PREFER_ENV_PATH"] = prefer


def read_params_file(path: str) -> dict[str, Any]:
    """The parameters of a YAML file: a mapping from names to values."""
    yaml = _require("yaml")
    text = _read_text(path, f"--params-file: cannot read {path!r}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f"--params-file: {path!r} is not valid YAML: "
                       f"{str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise CliError(f"--params-file: {path!r} must hold a mapping of parameter names to "
                       "values, e.g. 'n_times: 101'")
    return data


def check_out_dir(out: str) -> Path:
    """``--out``: a folder that exists or can be made (checked before running)."""
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise CliError(f"--out must be a folder (for the notebook and its data/), but "
                       f"{out!r} is an existing file")
    parent = path.resolve()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"--out: cannot create or write into {out!r} "
                       f"({str(parent)!r} is not a writable folder)")
    return path.resolve()


def prepare_run(args) -> tuple[Path, dict[str, Any]]:
    """Check the chapter, the output folder and every parameter: the chapter's
    small ones (``--quick``), then those of ``--params-file``, then each
    ``-p`` (later ones override earlier ones).  Nothing runs here."""
    notebook = resolve_chapter(args.chapter)
    chapter = notebook.stem
    spec = notebook_parameters(notebook)
    quick = getattr(args, "quick", False)
    params_file = getattr(args, "params_file", None)
    if (args.params or params_file or quick) and not spec:
        raise CliError(f"chapter {chapter} has no cell tagged 'parameters': it takes no "
                       "parameters")
    values: dict[str, Any] = {}

    def take(source: str, items: dict[str, Any], parse: bool) -> None:
        for name, raw in items.items():
            if name not in spec:
                raise CliError(f"unknown parameter {name!r} for chapter {chapter}"
                               + (f" (in {source})" if source else "")
                               + f"; allowed: {', '.join(spec)}")
            values[name] = (check_parameter(chapter, name, raw, spec[name]) if parse
                            else check_value(chapter, name, raw, spec[name]))

    if quick:
        small = read_notebook(notebook).get("metadata", {}).get("qb_small_params")
        if not isinstance(small, dict) or not small:
            raise CliError(f"chapter {chapter} declares no small parameters "
                           "(notebook metadata 'qb_small_params'): --quick has nothing to use")
        take("its qb_small_params", small, parse=False)
    if params_file:
        take(params_file, read_params_file(params_file), parse=False)
    for name, text in args.params or []:
        take("", {name: text}, parse=True)
    if not getattr(args, "list_params", False):
        check_out_dir(args.out)
    return notebook, values


def _csv_snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    return {p.relative_to(folder): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.rglob("*.csv")} if folder.is_dir() else {}


def cmd_run(args) -> int:
    notebook, values = prepare_run(args)
    if args.list_params:
        spec = notebook_parameters(notebook)
        width = max((len(n) for n in spec), default=0)
        for name, p in spec.items():
            print(f"{name:<{width}} = {p['default']}" + (f"    # {p['help']}" if p["help"] else ""))
        return 0

    papermill = _require("papermill")
    out_dir = check_out_dir(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"--out: cannot create {args.out!r}: {exc}") from None
    output = out_dir / notebook.name
    # The notebook runs in a scratch copy of its folder, so relative paths
    # (data/...) work as in the book, but the book's own data/ is not overwritten.
    with tempfile.TemporaryDirectory(prefix="qbhelpers-run-") as tmp:
        work = Path(tmp) / notebook.parent.name
        shutil.copytree(notebook.parent, work,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        before = _csv_snapshot(work / "data")
        print(f"running {notebook.name} with {values or 'its default parameters'}", file=sys.stderr)
        failed = None
        with _kernel_environment():
            try:
                papermill.execute_notebook(str(notebook), str(output), parameters=values,
                                           progress_bar=True, cwd=str(work))
            except papermill.PapermillExecutionError as exc:
                failed = f"the notebook raised {exc.ename}: {exc.evalue}"
            except Exception as exc:  # the kernel died, the notebook is malformed, ...
                failed = f"papermill could not run the notebook: {type(exc).__name__}: {exc}"
        after = _csv_snapshot(work / "data")
        written = sorted(p for p, stamp in after.items() if before.get(p) != stamp)
        for rel in written:
            dest = out_dir / "data" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(work / "data" / rel, dest)
    if output.exists():
        print(f"wrote {output}", file=sys.stderr)
    if written:
        print(f"wrote {len(written)} CSV file(s) to {out_dir / 'data'}: "
              + ", ".join(str(p) for p in written), file=sys.stderr)
    if failed is not None:
        where = f" (see the failing cell in {output})" if output.exists() else ""
        print(f"error: {failed.splitlines()[0] if failed else failed}{where}", file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------------ sweep
def prepare_sweep(args) -> dict[str, Any]:
    """Check every sweep argument (nothing runs here); keywords for first_max_grid."""
    from .units import kappa_from_paper

    try:
        method = check_choice("--method", args.method, METHODS)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    n_values = []
    for text in args.n:
        try:
            n = int(text)
        except ValueError:
            raise CliError(f"--n takes positive integers (numbers of qubits); got {text!r}") from None
        try:
            n_values.append(check_n_qubits(n, method, MAX_QUBITS[method]))
        except (TypeError, ValueError) as exc:
            raise CliError(f"--n: {exc}") from None
    kappas = []
    for text in args.kappa_paper:
        try:
            k = float(text)
        except ValueError:
            raise CliError(f"--kappa-paper takes finite numbers >= 0 (kappa/Omega_R); "
                           f"got {text!r}") from None
        kappas += _each(lambda x: check_real("--kappa-paper (kappa/Omega_R)", x), [k])
    chargers = _each(lambda c: check_choice("--charger", c, CHARGERS), args.charger)
    versions = _each(lambda x: check_choice("--version", x, VERSIONS), args.version)
    try:
        n_th = check_real("--n-th (mean photon number of the bath)", _number("--n-th", args.n_th))
        g = check_real("--g (coupling)", _number("--g", args.g), positive=True)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    kwargs = dict(n_values=n_values, kappas=[kappa_from_paper(k, g) for k in kappas],
                  chargers=tuple(chargers), versions=tuple(versions), g=g, n_th=n_th,
                  method=method)
    from .studies.sweep import check_grid

    try:  # every point, with first_max's rules (nothing is computed)
        check_grid(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc)) from None
    check_output_file("--out", args.out)
    workers, scheduler = _where(args)
    return dict(kwargs, progress=not args.quiet, cache=not args.no_cache, workers=workers,
                scheduler=scheduler)


def check_output_file(option: str, text: str) -> Path:
    """A file that can be written: not a folder, in an existing folder where
    a file can be created (tried with a temporary file, removed at once)."""
    out = Path(text)
    if text.endswith(("/", os.sep)) or out.is_dir():
        raise CliError(f"{option} must be a file name for the CSV, got the folder {text!r}")
    folder = out.resolve().parent
    if not folder.is_dir():
        raise CliError(f"{option}: the folder {str(folder)!r} does not exist")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CliError(f"{option}: cannot write in the folder {str(folder)!r} "
                       f"({exc.strerror or exc})") from None
    if out.exists() and not os.access(out, os.W_OK):
        raise CliError(f"{option}: the file {text!r} exists and is not writable")
    return out


def _where(args) -> tuple[int, str]:
    """--workers and --scheduler, checked (at most one; Dask installed if needed)."""
    try:
        workers = int(args.workers)
    except ValueError:
        raise CliError(f"--workers takes a number of local worker processes (an integer "
                       f">= 1, or 0 for none); got {args.workers!r}") from None
    if workers < 0:
        raise CliError(f"--workers takes a number of local worker processes (an integer "
                       f">= 1, or 0 for none); got {workers}")
    scheduler = args.scheduler.strip()
    if workers and scheduler:
        raise CliError("give --workers (local processes) or --scheduler (a Dask cluster), "
                       "not both")
    if args.scheduler and not scheduler:
        raise CliError("--scheduler takes the address of a running Dask scheduler, e.g. "
                       "tcp://10.0.0.5:8786")
    if scheduler:
        from .studies.executors import MissingDaskError, import_distributed

        try:
            import_distributed()
        except MissingDaskError as exc:
            raise CliError(str(exc)) from None
    return workers, scheduler


def _each(check, items) -> list:
    """``check`` every item (a validation function), turning its ValueError into a CliError."""
    out = []
    for item in items:
        try:
            out.append(check(item))
        except ValueError as exc:
            raise CliError(str(exc)) from None
    return out


def _number(option: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{option} takes a finite number >= 0; got {text!r}") from None


def cmd_sweep(args) -> int:
    """Compute the grid (failed points recorded, not fatal), write the CSV,
    report failures; exit code 1 if any point failed."""
    kwargs = prepare_sweep(args)
    from .studies import sweep as sweep_module
    from .studies.executors import executor
    from .units import kappa_to_paper

    workers, scheduler = kwargs.pop("workers"), kwargs.pop("scheduler")
    try:
        with contextlib.ExitStack() as stack:
            try:
                ex = stack.enter_context(executor(workers=workers, scheduler=scheduler))
            except OSError as exc:  # the scheduler cannot be reached, or has no worker
                raise CliError(str(exc)) from None
            result = sweep_module.first_max_grid(**kwargs, executor=ex, errors="record")
    except KeyboardInterrupt:
        print("interrupted: nothing written to " + args.out
              + ("; the points finished so far are in the cache, a rerun skips them"
                 if kwargs["cache"] else ""), file=sys.stderr)
        return 130
    try:
        result.to_csv(args.out)
    except OSError as exc:  # checked before computing, but the disk may fill up meanwhile
        print(f"error: could not write {args.out} ({exc.strerror or exc})"
              + ("; the points computed are in the cache: rerun to write them"
                 if kwargs["cache"] else ""), file=sys.stderr)
        return 1
    rows = len(result.chargers) * len(result.versions) * len(result.n_values) * len(result.kappas)
    print(f"wrote {rows} rows to {args.out}", file=sys.stderr)
    if result.complete:
        return 0
    for f in result.failures:
        print(f"failed: charger={f.charger} version={f.version} n={f.n_qubits} "
              f"kappa-paper={kappa_to_paper(f.kappa, result.g):g} (kappa={f.kappa:g} g): "
              f"{f.error}", file=sys.stderr)
    retry = ("rerun the same command to retry them (finished points are read from the cache)"
             if kwargs["cache"] else "with --no-cache a rerun computes every point again")
    print(f"error: {len(result.failures)} of {rows} rows failed (status 'failed: ...' and empty "
          f"values in the CSV); {retry}", file=sys.stderr)
    return 1


# ------------------------------------------------------------------ cache
def _size(n_bytes: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n_bytes < 1000 or unit == "GB":
            return f"{n_bytes} bytes" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return ""  # not reached


def cmd_cache(args) -> int:
    """``cache info``: folder, entries, size, kinds; ``cache clear``: empty it."""
    from .studies import cache

    if args.action == "clear":
        removed = cache.clear()
        print(f"removed {removed} entries from {cache.cache_dir()}")
        return 0
    found = cache.info()
    print(f"folder: {found.folder}" + ("" if found.exists else " (not created yet)"))
    print(f"entries: {found.entries} ({_size(found.size)})")
    for kind, (count, size) in found.kinds.items():
        print(f"  {kind}: {count} entries ({_size(size)})")
    if found.temporary:
        print(f"temporary files of interrupted writes: {found.temporary} "
              "(removed by 'cache clear')")
    print("keyed by the parameters and the environment: " + ", ".join(
        f"{name} {value}" for name, value in cache.fingerprint().items()))
    return 0


# ----------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    names = available_chapters()
    parser = argparse.ArgumentParser(
        prog="qbhelpers", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_fill("Rerun a chapter of the book 'Dissipative Quantum Batteries' with "
                          "other parameters, or compute first maxima over a grid into a CSV "
                          "file. Every argument is checked before anything runs; a bad one "
                          "exits with code 2 and a message saying what is allowed. "
                          "'python -m qbhelpers' is the same command."))
    sub = parser.add_subparsers(dest="command", metavar="{run,sweep,cache}", required=True)

    run = sub.add_parser(
        "run", help="rerun a chapter notebook with papermill",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_fill("Execute a chapter notebook (chapters/NN_*.ipynb) with papermill. "
                          "The notebook runs in a scratch copy of the chapters folder, so its "
                          "relative paths work and the book's own data/ is left alone. The "
                          "executed notebook goes to DIR/<chapter>.ipynb, and the CSV files "
                          "the notebook wrote under data/ to DIR/data/."),
        epilog="available chapters: " + (", ".join(names) if names else "none found") + "\n"
               "parameters: the names assigned in the chapter's cell tagged 'parameters'; "
               "list them with --list-params.\n"
               "values: Python literals (3, 0.5, \"[1, 2]\", \"'fock'\"), else taken as text; "
               "each must have the type of the\n"
               "annotation or default (int; float, which also takes an int; list; str), and "
               "lie in the range\n"
               "the parameter's comment declares ('# number of time points, >= 2'); without "
               "one, a number\n"
               "whose default is >= 0 must be >= 0.  Precedence: --quick, then --params-file, "
               "then each -p.\n\n"
               "example:\n  qbhelpers run 01 -p N_values \"[1, 2]\" -p n_times 101 "
               "--out rerun\n  qbhelpers run 02 --quick --params-file my.yaml")
    run.add_argument("chapter", metavar="CHAPTER",
                     help="chapter number (01), name (01_model) or path to a notebook")
    run.add_argument("-p", "--parameter", dest="params", nargs=2, action="append",
                     metavar=("NAME", "VALUE"), help="set a parameter (repeatable)")
    run.add_argument("--out", metavar="DIR", default="rerun",
                     help="folder for the executed notebook and its data/ (default: rerun)")
    run.add_argument("--params-file", metavar="FILE.yaml",
                     help="a YAML file of parameters (a mapping: 'n_times: 101'); -p overrides it")
    run.add_argument("--quick", action="store_true",
                     help="use the chapter's small parameters (notebook metadata "
                          "'qb_small_params'): a fast rerun; --params-file and -p override them")
    run.add_argument("--list-params", action="store_true",
                     help="print the chapter's parameters with their defaults and exit")
    run.set_defaults(func=cmd_run)

    sw = sub.add_parser(
        "sweep", help="first maxima over a grid of N, kappa/Omega_R and chargers, to CSV",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_fill("Compute the figures of merit at the first maximum of the stored "
                          "energy (qbhelpers.first_max_grid) for every N, kappa/Omega_R, "
                          "charger and version, with a progress bar on stderr, and write one "
                          "CSV row per combination (Sweep.to_csv). The CSV's 'kappa' column is "
                          "in units of g: kappa = kappa/Omega_R * 2g. Points run in this "
                          "process, on local worker processes (--workers) or on a Dask "
                          "cluster (--scheduler); finished points are kept in the disk cache."
                          ) + "\n\n" + _fill(
                          "A point that fails (no first maximum, out of memory, ...) does not "
                          "stop the others: it is reported on stderr with its parameters, its "
                          "rows get status 'failed: <error>' and empty values (the others "
                          "'ok'), and the exit code is 1. Rerunning the same command computes "
                          "only what is missing."),
        epilog="examples:\n  qbhelpers sweep --n 1 2 4 --kappa-paper 0 0.5 1 2 "
               "--charger fock coherent --n-th 0 --out results.csv\n"
               "  qbhelpers sweep --n 8 16 32 --kappa-paper 0.5 1 --workers 2 "
               "--out r.csv\n"
               "  qbhelpers sweep --n 64 128 --kappa-paper 0.5 "
               "--scheduler tcp://10.0.0.5:8786 --out r.csv")
    sw.add_argument("--n", nargs="+", required=True, metavar="N",
                    help="numbers of qubits, positive integers (the charger holds N photons)")
    sw.add_argument("--kappa-paper", nargs="+", required=True, metavar="K",
                    help="dissipation kappa/Omega_R, finite numbers >= 0")
    sw.add_argument("--charger", nargs="+", default=["fock"], metavar="C",
                    help=f"initial charger states, among {', '.join(CHARGERS)} (default: fock)")
    sw.add_argument("--version", nargs="+", default=list(VERSIONS), metavar="V",
                    help=f"battery versions, among {', '.join(VERSIONS)} (default: both)")
    sw.add_argument("--n-th", default="0", metavar="X",
                    help="mean photon number of the bath, >= 0 (default: 0)")
    sw.add_argument("--g", default="1", metavar="G", help="coupling g > 0 (default: 1)")
    sw.add_argument("--method", default="blocks", metavar="M",
                    help=f"solver, among {', '.join(METHODS)} (default: blocks)")
    sw.add_argument("--out", required=True, metavar="FILE",
                    help="CSV file to write (checked to be writable before computing)")
    sw.add_argument("--workers", default="0", metavar="W",
                    help="compute on W local worker processes (default: 0, in this process)")
    sw.add_argument("--scheduler", default="", metavar="ADDRESS",
                    help="compute on the workers of a running Dask scheduler, e.g. "
                         "tcp://10.0.0.5:8786 (needs dask[distributed]; every worker needs "
                         "the same environment)")
    sw.add_argument("--no-cache", action="store_true",
                    help="neither read nor write the disk cache (see the 'cache' command)")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=cmd_sweep)

    ca = sub.add_parser(
        "cache", help="show or empty the disk cache of first maxima",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_fill("The disk cache holds every first maximum computed by sweep and "
                          "first_max_grid, keyed by its parameters and the environment "
                          "(qbhelpers version and source, numpy, scipy, numba, QuTiP). Its "
                          "folder is $QBHELPERS_CACHE, else $XDG_CACHE_HOME/qbhelpers, else "
                          "~/.cache/qbhelpers."),
        epilog="examples:\n  qbhelpers cache info\n  qbhelpers cache clear")
    ca.add_argument("action", choices=("info", "clear"),
                    help="info: folder, number of entries, size, kinds; clear: delete the "
                         "entries")
    ca.set_defaults(func=cmd_cache)
    # The top-level --help documents every command in full.
    parser.epilog = "\n".join(
        f"=== command '{name}' ===\n{p.format_help()}"
        for name, p in (("run", run), ("sweep", sw), ("cache", ca)))
    return parser


def _fill(text: str) -> str:
    return textwrap.fill(text, width=min(shutil.get_terminal_size().columns, 100) - 2)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        parser.exit(2, f"{parser.prog} {args.command}: error: {exc}\n")
    except MissingExtra as exc:
        parser.exit(1, f"{parser.prog} {args.command}: error: {exc}\n")
    return 0  # not reached


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
