"""Grids the chapters need besides :func:`qbhelpers.first_max_grid`.

- :func:`discharge_grid`: the discharge in normal mode (SPEC §8) for every N and
  κ of a grid, collective and parallel, NaN where E_h has no first minimum;
- :func:`sweep_with_gaps`: first maxima on a grid where some points have none
  (a warm bath at strong damping), NaN there instead of an error;
- :func:`edge` with :func:`exists`: where a region ends (the largest κ at which a
  first minimum still exists), by bisection, as a bracket;
- :func:`first_fall_below`: where a curve first drops below a level (e.g. Γ = 1),
  interpolated between grid points.

Reader-facing (layer 5): these functions call the public verbs and add no
physics of their own.  Units as everywhere: κ and g in units of g, times in 1/g,
energies in ħω.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .battery import discharge
from .engines import NoMaximumError
from .physics.states import CHARGERS
from .problem import DISCHARGE_FIGURES, VERSIONS, enhancement_ratio, make_setup, resolve_method
from .studies.sweep import QUANTITIES, Sweep, first_max_grid
from .validation import check_choice, check_real

#: The fields of :class:`qbhelpers.Discharge` a :class:`DischargeGrid` holds.
DISCHARGE_QUANTITIES = ("tau", "energy", "power", "rate", "E_start", "E_end", "E_c", "Q",
                        "ergotropy_start", "ergotropy_end")
#: The intensive ones: the parallel battery has its cell's value, not N times it.
_INTENSIVE = ("tau", "rate")


def _grid_values(n_values: Any, kappas: Any) -> tuple[tuple[int, ...], np.ndarray]:
    raw_n = list(np.ravel(np.asarray(n_values, dtype=object)))
    raw_k = list(np.ravel(np.asarray(kappas, dtype=object)))
    for name, items in (("n_values", raw_n), ("kappas", raw_k)):
        if not items:
            raise ValueError(f"{name} must hold at least one value")
    return tuple(raw_n), np.array(raw_k, dtype=object)


@dataclass(frozen=True)
class DischargeGrid:
    """Discharge figures (SPEC §8) on a grid of N and κ, for one charger.

    ``collective[q]`` has shape (len(n_values), len(kappas)); ``cell[q]`` shape
    (len(kappas),): one cell of the parallel battery (one qubit, n̄ = 1).  NaN
    where E_h has no first minimum.  Use :meth:`get`, :meth:`per_qubit` and
    :meth:`enhancement` rather than indexing.
    """

    n_values: tuple[int, ...]
    kappas: np.ndarray
    charger: str
    g: float
    n_th: float
    collective: dict[str, np.ndarray]
    cell: dict[str, np.ndarray]

    def get(self, quantity: str, version: str = "collective") -> np.ndarray:
        """Array of shape (len(n_values), len(kappas)); the parallel battery's
        extensive figures are N times its cell's, τ̄_d and the rate the cell's."""
        check_choice("quantity", quantity, DISCHARGE_QUANTITIES)
        check_choice("version", version, VERSIONS)
        if version == "collective":
            return self.collective[quantity]
        scale = 1.0 if quantity in _INTENSIVE else np.asarray(self.n_values, dtype=float)[:, None]
        return scale * self.cell[quantity][None, :] * np.ones((len(self.n_values), 1))

    def per_qubit(self, quantity: str, version: str = "collective") -> np.ndarray:
        """An extensive figure divided by N (energy, power, E_start, …)."""
        if quantity in _INTENSIVE:
            raise ValueError(f"{quantity!r} is not extensive: use get()")
        return self.get(quantity, version) / np.asarray(self.n_values, dtype=float)[:, None]

    def enhancement(self, figure: str) -> np.ndarray:
        """Γ_f = f#/f‖ for f in energy, power, rate (NaN where f‖ vanishes or
        a first minimum is missing)."""
        check_choice("figure", figure, DISCHARGE_FIGURES)
        return enhancement_ratio(self.get(figure, "collective"), self.get(figure, "parallel"))

    @property
    def missing(self) -> list[tuple[int, float]]:
        """(N, κ) of the points without a first minimum; N = 1 marks the cell."""
        out = [(1, float(k)) for k, x in zip(self.kappas, self.cell["tau"]) if np.isnan(x)]
        for (i, n), (j, k) in itertools.product(enumerate(self.n_values), enumerate(self.kappas)):
            if np.isnan(self.collective["tau"][i, j]):
                out.append((n, float(k)))
        return out


def discharge_grid(n_values: Sequence[int], kappas: Sequence[float], charger: str = "fock", *,
                   g: float = 1.0, n_th: float = 0.0, method: Any = "blocks") -> DischargeGrid:
    """:func:`qbhelpers.discharge` for every N in ``n_values`` and κ in ``kappas``
    (units of g), collective, and for the parallel battery's cell once per κ.

    Every point is checked before any is computed.  A point whose E_h has no
    first minimum (:class:`qbhelpers.NoMaximumError`) is NaN in every field.
    Discharges are not cached on disk: each costs a charging and a discharging
    run.
    """
    check_choice("charger", charger, CHARGERS)
    method = resolve_method(method)
    raw_n, raw_k = _grid_values(n_values, kappas)
    for n, k in itertools.product(raw_n, raw_k):
        make_setup(n, charger, k, g=g, n_th=n_th, method=method)
    ns = tuple(int(n) for n in raw_n)
    ks = np.array([float(k) for k in raw_k])
    col = {q: np.full((len(ns), ks.size), np.nan) for q in DISCHARGE_QUANTITIES}
    cell = {q: np.full(ks.size, np.nan) for q in DISCHARGE_QUANTITIES}
    for j, k in enumerate(ks):
        for i, n in enumerate((None, *ns)):
            try:
                d = discharge(1 if n is None else n, charger, k, g=g, n_th=n_th, method=method)
            except NoMaximumError:
                continue
            for q in DISCHARGE_QUANTITIES:
                if n is None:
                    cell[q][j] = getattr(d, q)
                else:
                    col[q][i - 1, j] = getattr(d, q)
    return DischargeGrid(ns, ks, charger, float(g), float(n_th), col, cell)


def sweep_with_gaps(n_values: Sequence[int], kappas: Sequence[float], *,
                    chargers: Sequence[str] = ("fock",), versions: Sequence[str] = VERSIONS,
                    g: float = 1.0, n_th: float = 0.0, method: Any = "blocks") -> Sweep:
    """:func:`qbhelpers.first_max_grid`, point by point, with NaN (in every
    quantity) where E_h has no first maximum instead of an error; the points
    that exist come from the same disk cache."""
    chargers = (chargers,) if isinstance(chargers, str) else tuple(chargers)
    versions = (versions,) if isinstance(versions, str) else tuple(versions)
    raw_n, raw_k = _grid_values(n_values, kappas)
    method = resolve_method(method)
    for c in chargers:
        check_choice("charger", c, CHARGERS)
    for v in versions:
        check_choice("version", v, VERSIONS)
    for n, k, c in itertools.product(raw_n, raw_k, chargers):
        make_setup(n, c, k, g=g, n_th=n_th, method=method)
    ns = tuple(int(n) for n in raw_n)
    ks = np.array([float(k) for k in raw_k])
    shape = (len(chargers), len(versions), len(ns), ks.size)
    data = {q: np.full(shape, np.nan) for q in QUANTITIES}
    for (ci, c), (vi, v), (ni, n), (ki, k) in itertools.product(
            enumerate(chargers), enumerate(versions), enumerate(ns), enumerate(ks)):
        try:
            point = first_max_grid([n], [k], chargers=(c,), versions=(v,), g=g, n_th=n_th,
                                   method=method, progress=False)
        except NoMaximumError:
            continue
        for q in QUANTITIES:
            data[q][ci, vi, ni, ki] = point.data[q][0, 0, 0, 0]
    return Sweep(ns, ks, chargers, versions, float(g), float(n_th), data)


# ------------------------------------------------------------ edges, crossings
@dataclass(frozen=True)
class Edge:
    """Where a region ends, as a bracket: ``inside`` is the largest value found
    in the region, ``outside`` the smallest found beyond it (``None`` when the
    whole interval searched lies on one side)."""

    inside: float | None
    outside: float | None

    @property
    def found(self) -> bool:
        """Whether the interval searched holds the edge."""
        return self.inside is not None and self.outside is not None


def exists(compute: Callable[[float], Any]) -> Callable[[float], bool]:
    """A predicate for :func:`edge`: ``True`` where ``compute(x)`` returns, ``False``
    where it raises :class:`qbhelpers.NoMaximumError` (no first maximum or
    minimum there)."""
    def predicate(x: float) -> bool:
        try:
            compute(x)
        except NoMaximumError:
            return False
        return True
    return predicate


def edge(inside: Callable[[float], bool], lo: float, hi: float, tol: float) -> Edge:
    """Bisection for the end of a region that starts at ``lo`` and ends once
    somewhere below ``hi``: ``inside(x)`` is ``True`` in the region.

    Returns an :class:`Edge` whose bracket is at most ``tol`` wide, or, when
    ``inside(hi)`` holds (the region reaches beyond ``hi``), ``Edge(hi, None)``;
    when ``inside(lo)`` fails, ``Edge(None, lo)``.  The region is assumed to be
    one interval; the predicate is evaluated about log2((hi − lo)/tol) + 2 times.
    """
    lo, hi = float(lo), float(hi)
    tol = check_real("tol", tol, positive=True)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        raise ValueError(f"need finite lo < hi, got lo={lo}, hi={hi}")
    if not inside(lo):
        return Edge(None, lo)
    if inside(hi):
        return Edge(hi, None)
    a, b = lo, hi
    while b - a > tol:
        mid = 0.5 * (a + b)
        if inside(mid):
            a = mid
        else:
            b = mid
    return Edge(a, b)


def first_fall_below(x: Sequence[float], y: Sequence[float], level: float = 1.0, *,
                     log_x: bool = True) -> float | None:
    """The first x at which ``y`` drops below ``level``, interpolated linearly
    between the two grid points around the drop (in ln x where ``log_x`` and
    both are > 0, otherwise in x).  ``None`` if ``y`` starts below ``level`` or
    never drops below it.  ``x`` must be increasing."""
    xv = np.asarray(x, dtype=float).ravel()
    yv = np.asarray(y, dtype=float).ravel()
    if xv.shape != yv.shape or xv.size < 2:
        raise ValueError(f"x and y need the same length >= 2, got {xv.size} and {yv.size}")
    if np.any(np.diff(xv) <= 0):
        raise ValueError("x must be strictly increasing")
    if yv[0] < level:
        return None
    below = np.flatnonzero(yv < level)
    if below.size == 0:
        return None
    i = int(below[0])
    x0, x1, y0, y1 = xv[i - 1], xv[i], yv[i - 1], yv[i]
    w = (y0 - level) / (y0 - y1)
    if log_x and x0 > 0:
        return float(math.exp(math.log(x0) + w * (math.log(x1) - math.log(x0))))
    return float(x0 + w * (x1 - x0))
