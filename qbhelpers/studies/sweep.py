"""First maxima over grids of N, κ and chargers, with progress, a disk cache
and, optionally, an executor that computes the points in parallel.

Units: κ (``kappas``) and g in units of g (photon loss rate 2κ), times in
1/g, energies in ħω, as everywhere in the package.

How a grid is computed (:func:`first_max_grid`):

1. every argument and every point is checked before anything is computed;
2. the grid is reduced to the distinct first maxima it needs: the
   collective battery at every (charger, N, κ), and for the parallel version
   one cell (one qubit, n̄ = 1) per (charger, κ), which does not depend on N
   (the parallel battery is N copies of it: :func:`qbhelpers.problem.parallel`);
3. those found in the disk cache are read, the others computed, in this
   process or on ``executor`` (any :class:`concurrent.futures.Executor`: a
   ``ProcessPoolExecutor``, a Dask client's ``get_executor()``; see
   :func:`qbhelpers.studies.executor`).  A worker receives a call of the
   module-level :func:`first_max_point` with plain arguments and returns plain
   data with the fingerprint of its environment; this process checks it,
   writes the cache entry (atomically) and advances the progress bar;
4. the results are placed in the grid; the order of completion plays no part.
"""
from __future__ import annotations

import contextlib
import csv
import itertools
import os
import sys
import tempfile
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from ..battery import first_max
from ..engines import Method
from ..physics.states import CHARGERS
from ..problem import (FIGURES, VERSIONS, FirstMax, check_cost, enhancement_ratio,
                       expected_search, initial_excitations, make_setup, parallel,
                       resolve_method)
from ..validation import check_choice
from .cache import (BadEntry, decode_first_max, encode_first_max, fingerprint, first_max_params,
                    load_first_max, store_first_max)

QUANTITIES = ("tau", "energy", "ergotropy", "ergotropy_symmetric", "power", "rate", "E_c", "Q")

#: What ``errors`` may be: stop at the first failing point, or record it and go on.
ERROR_MODES = ("raise", "record")


# ------------------------------------------------------------------ result
@dataclass(frozen=True)
class Failure:
    """A grid point that could not be computed: its parameters and the error
    (``"TypeName: message"``).  ``kappa`` in units of g."""

    charger: str
    version: str
    n_qubits: int
    kappa: float
    error: str

    def describe(self) -> str:
        """One line naming the point and the error."""
        return (f"charger={self.charger} version={self.version} n_qubits={self.n_qubits} "
                f"kappa={self.kappa:g}: {self.error}")


@dataclass(frozen=True)
class Sweep:
    """Figures of merit at the first maximum on a grid.

    ``data[quantity]`` has shape (len(chargers), len(versions), len(n_values),
    len(kappas)); use :meth:`get` and :meth:`enhancement` rather than indexing.
    ``failures`` lists the points that could not be computed (only with
    ``errors="record"``); their entries in ``data`` are NaN.
    """

    n_values: tuple[int, ...]
    kappas: np.ndarray
    chargers: tuple[str, ...]
    versions: tuple[str, ...]
    g: float
    n_th: float
    data: dict[str, np.ndarray]
    failures: tuple[Failure, ...] = ()

    def get(self, quantity: str, charger: str = "fock", version: str = "collective") -> np.ndarray:
        """Array of shape (len(n_values), len(kappas))."""
        if quantity not in self.data:
            raise ValueError(f"quantity must be one of {', '.join(map(repr, QUANTITIES))}; "
                             f"got {quantity!r}")
        if charger not in self.chargers:
            raise ValueError(f"charger {charger!r} is not in this sweep; it has "
                             f"{', '.join(map(repr, self.chargers))}")
        if version not in self.versions:
            raise ValueError(f"version {version!r} is not in this sweep; it has "
                             f"{', '.join(map(repr, self.versions))}")
        return self.data[quantity][self.chargers.index(charger), self.versions.index(version)]

    def per_qubit(self, quantity: str, charger: str = "fock",
                  version: str = "collective") -> np.ndarray:
        """An extensive figure divided by N (energy, ergotropy, power, E_c, Q)."""
        return self.get(quantity, charger, version) / np.asarray(self.n_values)[:, None]

    def enhancement(self, figure: str, charger: str = "fock") -> np.ndarray:
        """Γ_f = f# / f‖ (NaN where the parallel value is below 1e-12)."""
        if figure not in FIGURES:
            raise ValueError(f"figure must be one of {FIGURES}, got {figure!r}")
        return enhancement_ratio(self.get(figure, charger, "collective"),
                                 self.get(figure, charger, "parallel"))

    @property
    def complete(self) -> bool:
        """True if every point was computed."""
        return not self.failures

    def to_csv(self, path) -> None:
        """One row per (charger, version, N, κ) with every quantity and a
        ``status`` column: "ok", or "failed: <error>" with the quantities left
        empty.  Written to a temporary file beside ``path``, then renamed, so
        an interrupted write never leaves half a file."""
        failed = {(f.charger, f.version, f.n_qubits, f.kappa): f.error for f in self.failures}
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.",
                                   suffix=".tmp")
        try:
            with os.fdopen(fd, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["charger", "version", "n_qubits", "kappa", "g", "n_th", *QUANTITIES,
                            "status"])
                for (ci, c), (vi, ver), (ni, n), (ki, k) in itertools.product(
                        enumerate(self.chargers), enumerate(self.versions),
                        enumerate(self.n_values), enumerate(self.kappas)):
                    error = failed.get((c, ver, n, float(k)))
                    values = ([""] * len(QUANTITIES) if error is not None else
                              [repr(float(self.data[q][ci, vi, ni, ki])) for q in QUANTITIES])
                    status = "ok" if error is None else "failed: " + " ".join(error.split())
                    w.writerow([c, ver, n, repr(float(k)), self.g, self.n_th, *values, status])
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


# -------------------------------------------------------- one point (task)
def first_max_point(n_qubits: int, charger: str, kappa: float, g: float, n_th: float,
                    method: Method) -> dict[str, Any]:
    """One collective first maximum, as plain data: what a worker runs.

    Returns ``{"environment": fingerprint(), "result": encode_first_max(...)}``
    so that the caller can refuse a result computed with other code or other
    numerical libraries than its own (and never cache it)."""
    result = first_max(n_qubits, charger, kappa, g=g, n_th=n_th, method=method)
    return {"environment": fingerprint(), "result": encode_first_max(result)}


@dataclass(frozen=True)
class _Point:
    """A distinct first maximum the grid needs (always the collective
    battery; a parallel cell is the point with n_qubits = 1)."""

    n_qubits: int
    charger: str
    kappa: float


class EnvironmentMismatch(RuntimeError):
    """A worker computed with other code or other numerical libraries."""


def _received(payload: Any, params: dict[str, Any]) -> FirstMax:
    """Check a worker's answer (:func:`first_max_point`) and decode it."""
    if not isinstance(payload, dict) or set(payload) != {"environment", "result"}:
        raise BadEntry(f"a worker returned {type(payload).__name__}, not a first-maximum record")
    theirs, ours = payload["environment"], fingerprint()
    if theirs != ours:
        theirs = theirs if isinstance(theirs, dict) else {}
        diff = "; ".join(f"{name} {theirs.get(name)!r} on the worker, {value!r} here"
                         for name, value in ours.items() if theirs.get(name) != value)
        raise EnvironmentMismatch(
            f"the worker's environment differs from this process's ({diff}): its result is "
            "not used; install the same qbhelpers and libraries on every worker")
    return decode_first_max(payload["result"], expected=params)


def _error_text(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# ---------------------------------------------------------------- the grid
def _as_list(name: str, values: Any) -> list:
    items = list(np.ravel(np.asarray(values, dtype=object)))
    if not items:
        raise ValueError(f"{name} must hold at least one value")
    return items


def _names(name: str, values: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    items = (values,) if isinstance(values, str) else tuple(_as_list(name, values))
    for item in items:
        check_choice(name[:-1] if name.endswith("s") else name, item, allowed)
    if len(set(items)) != len(items):
        raise ValueError(f"{name} must not repeat a value, got {items!r}")
    return items


@dataclass(frozen=True)
class Grid:
    """A checked grid (see :func:`check_grid`): every value validated and
    normalised (``n_values`` ints, ``kappas`` floats in units of g, ``method``
    a method object)."""

    n_values: tuple[int, ...]
    kappas: np.ndarray
    chargers: tuple[str, ...]
    versions: tuple[str, ...]
    g: float
    n_th: float
    method: Method


def check_grid(n_values, kappas, *, chargers=("fock",), versions=VERSIONS, g: Any = 1.0,
               n_th: Any = 0.0, method: Any = "blocks") -> Grid:
    """Check a grid with the rules of :func:`qbhelpers.first_max`, every point
    of it, without computing anything: the error names the parameter and what
    is allowed.  ``chargers`` and ``versions`` may be one name or a sequence
    (no repeats); ``n_values`` and ``kappas`` a number or a sequence."""
    method = resolve_method(method)
    chargers = _names("chargers", chargers, CHARGERS)
    versions = _names("versions", versions, VERSIONS)
    raw_n = _as_list("n_values", n_values)
    raw_k = _as_list("kappas", kappas)
    # every point (N = 1, the parallel cell, is valid whenever any N is)
    setups = {(i, j, c): make_setup(n, c, k, g=g, n_th=n_th, method=method)
              for (i, n), (j, k), c in itertools.product(enumerate(raw_n), enumerate(raw_k),
                                                          chargers)}
    # and what each would cost: a point beyond the work or memory limit is
    # refused now, not found out after the others were computed
    for setup in setups.values():
        check_cost(setup, expected_search(setup, initial_excitations(setup)),
                   what=f"the first maximum at n_qubits={setup.n_qubits}, "
                        f"charger={setup.charger!r}, kappa={setup.kappa:g}")
    any_setup = setups[0, 0, chargers[0]]
    return Grid(n_values=tuple(setups[i, 0, chargers[0]].n_qubits for i in range(len(raw_n))),
                kappas=np.array([setups[0, j, chargers[0]].kappa for j in range(len(raw_k))]),
                chargers=chargers, versions=versions, g=any_setup.g, n_th=any_setup.n_th,
                method=method)


def first_max_grid(n_values, kappas, *, chargers=("fock",), versions=VERSIONS,
                   g: float = 1.0, n_th: float = 0.0, method: Any = "blocks",
                   progress: bool = True, cache: bool = True, executor: Executor | None = None,
                   errors: str = "raise") -> Sweep:
    """:func:`qbhelpers.first_max` for every N in ``n_values``, κ in ``kappas``
    (units of g), charger and version (each a sequence, or one name).

    Every argument and every point is checked (:func:`check_grid`), with the
    same rules as :func:`qbhelpers.first_max`, before any is computed.  The
    parallel battery's cell (one qubit, n̄ = 1) does not depend on N: it is
    computed once per (charger, κ).

    ``cache``: read and write the disk cache (:mod:`qbhelpers.studies.cache`);
    points found there are neither computed nor submitted.
    ``executor``: None (default) computes in this process; any
    :class:`concurrent.futures.Executor` (e.g. from
    :func:`qbhelpers.studies.executor`, a ``ProcessPoolExecutor``, or a Dask
    ``Client.get_executor()``) computes the missing points on its workers,
    which must be able to import this same version of qbhelpers (each result
    carries its worker's environment and is refused if it differs).  The
    results equal the serial ones; this process writes the cache entries.
    ``progress``: a bar on stderr counting the distinct first maxima done.
    ``errors``: "raise" (default) stops at the first point that fails, with
    that point's exception (its parameters in a note), cancelling the points
    not yet started; "record" goes on, leaves NaN at the failed points and
    lists them in ``Sweep.failures``.  Either way every point finished
    before is in the cache, so a rerun computes only what is missing.
    """
    grid = check_grid(n_values, kappas, chargers=chargers, versions=versions, g=g, n_th=n_th,
                      method=method)
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor must be None or a concurrent.futures.Executor (e.g. from "
                        f"qbhelpers.studies.executor), got {type(executor).__name__}")
    check_choice("errors", errors, ERROR_MODES)
    g, n_th, method = grid.g, grid.n_th, grid.method

    points = _needed_points(grid)
    params = {p: first_max_params(p.n_qubits, p.charger, p.kappa, g=g, n_th=n_th, method=method)
              for p in points}
    done: dict[_Point, FirstMax] = {}
    failed: dict[_Point, str] = {}
    if cache:
        for p in points:
            hit = load_first_max(params[p])
            if hit is not None:
                done[p] = hit
    missing = [p for p in points if p not in done]
    bar = tqdm(total=len(points), initial=len(done), desc="qbhelpers: first maxima",
               disable=not progress, file=sys.stderr, mininterval=1.0, leave=False)

    def finished(p: _Point, outcome: Callable[[], Any]) -> None:
        try:
            result = _received(outcome(), params[p])
        except Exception as exc:
            if errors == "raise":
                exc.add_note(f"while computing the first maximum at n_qubits={p.n_qubits}, "
                             f"charger={p.charger!r}, kappa={p.kappa!r} (units of g), g={g!r}, "
                             f"n_th={n_th!r}, method={method!r}")
                raise
            failed[p] = _error_text(exc)
            bar.set_postfix(failed=len(failed), refresh=False)
        else:
            done[p] = result
            if cache:
                store_first_max(params[p], result)
        bar.update(1)

    try:
        if executor is None:
            for p in missing:
                finished(p, lambda p=p: first_max_point(p.n_qubits, p.charger, p.kappa, g, n_th,
                                                        method))
        else:
            _run_on(executor, missing, g, n_th, method, finished)
    finally:
        bar.close()
    return _assemble(grid, done, failed)


def _needed_points(grid: Grid) -> list[_Point]:
    """The distinct first maxima the grid needs, in grid order."""
    points: dict[_Point, None] = {}
    for c, k in itertools.product(grid.chargers, grid.kappas):
        if "collective" in grid.versions:
            for n in grid.n_values:
                points[_Point(n, c, float(k))] = None
        if "parallel" in grid.versions:
            points[_Point(1, c, float(k))] = None
    return list(points)


def _run_on(executor: Executor, points: list[_Point], g: float, n_th: float, method: Method,
            finished: Callable[[_Point, Callable[[], Any]], None]) -> None:
    """Submit every point (largest N first: the longest run start first, which
    shortens the whole) and hand each outcome to ``finished`` as it arrives.
    Whatever ends this early (a raised point, Ctrl-C) cancels what has not
    started."""
    order = sorted(points, key=lambda p: -p.n_qubits)
    futures: dict[Future, _Point] = {}
    try:
        for p in order:
            futures[executor.submit(first_max_point, p.n_qubits, p.charger, p.kappa, g, n_th,
                                    method)] = p
        for fut in as_completed(futures):
            finished(futures[fut], fut.result)
    finally:
        for fut in futures:
            fut.cancel()


def _assemble(grid: Grid, done: dict[_Point, FirstMax], failed: dict[_Point, str]) -> Sweep:
    n_values, kappas, chargers, versions = grid.n_values, grid.kappas, grid.chargers, grid.versions
    shape = (len(chargers), len(versions), len(n_values), len(kappas))
    data = {q: np.full(shape, np.nan) for q in QUANTITIES}
    failures = []
    for (ci, c), (vi, ver), (ni, n), (ki, k) in itertools.product(
            enumerate(chargers), enumerate(versions), enumerate(n_values), enumerate(kappas)):
        p = _Point(n if ver == "collective" else 1, c, float(k))
        if p in failed:
            cell = " (the parallel cell: one qubit, one photon)" if ver == "parallel" else ""
            failures.append(Failure(c, ver, n, float(k), failed[p] + cell))
            continue
        fm = done[p] if ver == "collective" else parallel(done[p], n)
        for q in QUANTITIES:
            data[q][ci, vi, ni, ki] = getattr(fm, q)
    return Sweep(n_values, kappas, chargers, versions, grid.g, grid.n_th, data, tuple(failures))

