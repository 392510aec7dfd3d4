"""Verdicts on the paper's claims, from arrays of computed numbers (no physics here).

A claim is split into sub-statements; each becomes a boolean array, ``True``
where it holds on the grid of (N, κ) points (or on the steps between
neighbouring points).  :func:`verdict` turns them into one of three words;
the other functions say *where* a mask holds, in text, and judge "rises" and
"falls" with a stated tolerance, so that a wobble in the third decimal is not
read as a change of direction.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .tables import fmt_g

#: The paper's claims as the book checks them: key -> (the statement, short; where the paper makes it).
#: Claims 2-6 are made for the Fock charger (the paper's Fig. 4); 7 and 8 compare the chargers.
PAPER_CLAIMS: dict[str, tuple[str, str]] = {
    "1": (r"$E_h + E_c + Q = N$", "Sec. IV, Fig. 3"),
    "2": (r"$\Gamma_E < 1$ at $\kappa = 0$, rises with $\kappa$", "Sec. III–IV, Fig. 4a"),
    "3": (r"$\Gamma_\Omega > 1$, falls with $\kappa$", "Sec. III–IV, Fig. 4a"),
    "4": (r"$\Gamma_P > 1$, rises with $\kappa$", "Sec. IV, Fig. 4a"),
    "5": (r"$\bar E^\#, \bar{\mathcal E}^\#, \bar P^\#$ fall, $\bar\Omega^\#$ rises", "Sec. IV, Fig. 4b"),
    "6a": (r"per-qubit figures rise with $N$", "Sec. IV, Fig. 4b"),
    "6b": (r"gains shrink with $N$", "Sec. IV, Fig. 4b"),
    "6c": (r"… and more as $\kappa$ grows", "Sec. IV, Fig. 4b"),
    "6d": (r"meaningful only up to $\kappa \approx 4g$", "Sec. IV–V"),
    "7a": (r"coherent leaves the most ergotropy ($\kappa > 0$)", "Sec. IV, Figs. 5, 9"),
    "7b": (r"Fock best only near $\kappa = 0$", "Sec. IV, Fig. 5"),
    "7c": (r"… and only for small $N$", "Sec. IV, Fig. 5"),
    "8a": ("performances alike", "App. C, Fig. 6"),
    "8b": ("enhancements alike", "App. C, Fig. 7"),
    "8c": ("… except the ergotropy", "App. C, Fig. 7"),
}

HOLDS = "holds"
PARTLY = "holds for these N and κ"
FAILS = "does not hold"
NOT_TESTED = "not tested"
VERDICTS = (HOLDS, PARTLY, FAILS, NOT_TESTED)


def verdict(*parts) -> str:
    """One boolean array per sub-statement (``True`` where it holds):

    - :data:`HOLDS` if every sub-statement holds everywhere;
    - :data:`PARTLY` if every sub-statement holds somewhere but one fails somewhere;
    - :data:`FAILS` if some sub-statement holds nowhere;
    - :data:`NOT_TESTED` if a sub-statement has no point to be judged on.
    """
    if not parts:
        raise ValueError("verdict needs at least one sub-statement")
    masks = [np.asarray(p, dtype=bool) for p in parts]
    if any(m.size == 0 for m in masks):
        return NOT_TESTED
    if all(m.all() for m in masks):
        return HOLDS
    if all(m.any() for m in masks):
        return PARTLY
    return FAILS


def verdict_only(ok) -> str:
    """A claim of the form "X only where Y", given ``ok = ~X | Y``: one
    counterexample is enough for :data:`FAILS`."""
    ok = np.asarray(ok, dtype=bool)
    if ok.size == 0:
        return NOT_TESTED
    return HOLDS if ok.all() else FAILS


def _check_tol(tol: float) -> float:
    tol = float(tol)
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite number >= 0 (a relative change), got {tol}")
    return tol


def relative_steps(values, axis: int = -1, atol: float = 1e-9) -> np.ndarray:
    """Relative change between neighbours along ``axis``:
    (f[i+1] − f[i]) / max(|f[i]|, |f[i+1]|), and 0 where both values are
    smaller than ``atol`` in size (numerical zeros, e.g. an ergotropy of 1e-17,
    have no direction)."""
    v = np.asarray(values, dtype=float)
    a = np.take(v, np.arange(v.shape[axis] - 1), axis=axis)
    b = np.take(v, np.arange(1, v.shape[axis]), axis=axis)
    scale = np.maximum(np.abs(a), np.abs(b))
    big = scale > atol
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(big, (b - a) / np.where(big, scale, 1.0), 0.0)


def rises(values, tol: float, axis: int = -1, atol: float = 1e-9) -> np.ndarray:
    """Per step along ``axis``: ``True`` unless the value falls by more than
    ``tol`` (relative).  A change smaller than ``tol`` either way is a wobble,
    not a fall; values below ``atol`` in size count as zero."""
    return relative_steps(values, axis, atol) >= -_check_tol(tol)


def falls(values, tol: float, axis: int = -1, atol: float = 1e-9) -> np.ndarray:
    """Per step along ``axis``: ``True`` unless the value rises by more than
    ``tol`` (relative); values below ``atol`` in size count as zero."""
    return relative_steps(values, axis, atol) <= _check_tol(tol)


def gains_shrink(n_values: Sequence[int], values, tol: float) -> np.ndarray:
    """Whether the gain per added qubit shrinks as N grows.

    ``values`` has shape (len(n_values), ...); the gain per added qubit between
    neighbouring N is (f[i+1] − f[i]) / (N[i+1] − N[i]) (the N need not be
    evenly spaced).  Returns, per pair of neighbouring gains, ``True`` unless the
    later gain exceeds the earlier one by more than ``tol`` times the larger of
    the two."""
    n = np.asarray(n_values, dtype=float)
    v = np.asarray(values, dtype=float)
    if v.shape[0] != n.size:
        raise ValueError(f"values must have len(n_values) = {n.size} rows, got {v.shape[0]}")
    if np.any(np.diff(n) <= 0):
        raise ValueError("n_values must be strictly increasing")
    dn = np.diff(n).reshape((-1,) + (1,) * (v.ndim - 1))
    gain = np.diff(v, axis=0) / dn
    return falls(gain, tol, axis=0)


def relative_spread(stack, axis: int = 0) -> np.ndarray:
    """(max − min) / max|·| over ``axis`` (e.g. over the three chargers)."""
    s = np.asarray(stack, dtype=float)
    top = np.abs(s).max(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(top > 0, (s.max(axis=axis) - s.min(axis=axis)) / np.where(top > 0, top, 1.0), 0.0)


def runs_text(mask, values) -> str:
    """Where a 1-D mask is ``True``, as runs of neighbouring grid values:
    ``'0.1–0.3, 0.6'`` (``'none'`` if nowhere)."""
    mask = np.asarray(mask, dtype=bool)
    values = np.asarray(values)
    if mask.shape != values.shape:
        raise ValueError(f"mask and values must have the same shape, got {mask.shape} and {values.shape}")
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return "none"
    runs, start = [], idx[0]
    for a, b in zip(idx[:-1], idx[1:]):
        if b != a + 1:
            runs.append((start, a))
            start = b
    runs.append((start, idx[-1]))
    return ", ".join(fmt_g(values[a]) if a == b else f"{fmt_g(values[a])}–{fmt_g(values[b])}"
                     for a, b in runs)


def steps_text(steps, values) -> str:
    """Where a per-step mask (between neighbouring grid values) is ``True``, as
    spans of grid values (``'0–0.3'``): the union of the steps' end points."""
    steps = np.asarray(steps, dtype=bool)
    values = np.asarray(values)
    if steps.size != values.size - 1:
        raise ValueError(f"steps must have len(values) - 1 = {values.size - 1} entries, got {steps.size}")
    idx = np.flatnonzero(steps)
    points = np.zeros(values.size, dtype=bool)
    points[idx] = True
    points[idx + 1] = True
    return runs_text(points, values)


def from_value(good, values):
    """The smallest grid value from which a 1-D mask is ``True`` up to the end
    of the grid (``None`` if it is not ``True`` at the end)."""
    good = np.asarray(good, dtype=bool)
    values = np.asarray(values)
    if good.size == 0 or not good[-1]:
        return None
    bad = np.flatnonzero(~good)
    return values[bad[-1] + 1] if bad.size else values[0]


def smallest_reaching(n_values: Sequence[int], values, target: float):
    """The smallest N whose value is at least ``target``.

    ``values`` has shape (len(n_values),) or (len(n_values), m); the result is
    an int (or ``None`` if no N on the grid reaches the target), or a list of
    m such entries, one per column."""
    n = np.asarray(n_values)
    v = np.asarray(values, dtype=float)
    if v.ndim not in (1, 2) or v.shape[0] != n.size:
        raise ValueError(f"values must have shape (len(n_values),) or (len(n_values), m) with "
                         f"len(n_values) = {n.size}, got {v.shape}")
    order = np.argsort(n, kind="stable")
    n, v = n[order], v[order]
    ok = v >= target
    if v.ndim == 1:
        return int(n[np.argmax(ok)]) if ok.any() else None
    return [int(n[np.argmax(ok[:, j])]) if ok[:, j].any() else None for j in range(v.shape[1])]
