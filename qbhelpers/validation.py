"""Argument checks and their error messages, in one place.

Small, generic checkers with no knowledge of the rest of the package (they
import nothing from it), so that every layer can refuse bad input before it
builds an operator or starts a solver.  Every message names the parameter
and says what is allowed.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def check_positive_int(name: str, value: Any, what: str = "") -> int:
    """A positive integer (integer-valued reals accepted; bools refused)."""
    hint = f" ({what})" if what else ""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a positive integer{hint}, got {value!r}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be a positive integer{hint}, got {value!r}")
    n = int(value)
    if n < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {n}")
    return n


def check_n_qubits(n_qubits: Any, method: str, limit: int) -> int:
    """``n_qubits`` as an int, checked to be a positive integer at most ``limit``
    (the largest N that ``method`` accepts)."""
    n = check_positive_int("n_qubits", n_qubits, "number of qubits")
    if n > limit:
        raise ValueError(
            f"n_qubits={n} is too large for method={method!r} (at most {limit}); "
            + ("use method='blocks' for large batteries" if method != "blocks" else
               "the excitation-number blocks would not fit in memory")
        )
    return n


def check_real(name: str, value: Any, *, positive: bool = False,
               maximum: float | None = None) -> float:
    """A finite real number, non-negative (or strictly positive), at most
    ``maximum`` if given."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be at most {maximum:g}, got {v:g}")
    return v


def check_bool(name: str, value: Any) -> bool:
    """True or False (NumPy booleans accepted; strings and numbers refused)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def check_real_array(name: str, value: Any, *, nonnegative: bool = False) -> Any:
    """A real number or array of real numbers, finite (and >= 0 with
    ``nonnegative``): a float for a scalar, else a float array.  Strings,
    booleans and complex numbers are refused."""
    a = np.asarray(value)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or an array of real numbers, "
                        f"got {value!r}")
    a = a.astype(float)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if nonnegative and np.any(a < 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(a) if a.ndim == 0 else a


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}"
        )
    return value


def check_mean_photons(charger: str, mean_photons: Any, n_qubits: int,
                       maximum: float | None = None) -> float:
    """Mean photon number of the charger; defaults to ``n_qubits``; at most
    ``maximum``.  A Fock charger needs a non-negative integer."""
    if mean_photons is None:
        return float(n_qubits)
    v = check_real("mean_photons", mean_photons, maximum=maximum)
    if charger == "fock" and not v.is_integer():
        raise ValueError(
            f"mean_photons must be a non-negative integer for a Fock charger, got {mean_photons!r}"
        )
    return v


def check_parallel_split(charger: str, mean_photons: float, n_qubits: int) -> float:
    """Photons per cell of the parallel battery."""
    per_cell = mean_photons / n_qubits
    if charger == "fock" and not float(per_cell).is_integer():
        raise ValueError(
            f"mean_photons={mean_photons:g} must be divisible by n_qubits={n_qubits} for the "
            "parallel version of a Fock battery (each cell holds mean_photons / n_qubits photons)"
        )
    return per_cell


def check_n_cut(n_cut: Any, maximum: int | None = None) -> int | None:
    """None (automatic) or a non-negative integer, at most ``maximum``."""
    if n_cut is None:
        return None
    if isinstance(n_cut, (bool, np.bool_)) or not isinstance(n_cut, numbers.Integral):
        raise TypeError(f"n_cut must be a non-negative integer or None, got {n_cut!r}")
    if n_cut < 0:
        raise ValueError(f"n_cut must be a non-negative integer or None, got {n_cut}")
    if maximum is not None and n_cut > maximum:
        raise ValueError(f"n_cut must be at most {maximum:g} (photon levels), got {n_cut}")
    return int(n_cut)


def check_times(times: Any) -> np.ndarray:
    """A 1-D, finite, strictly increasing array of real times starting at 0
    (strings, booleans and complex numbers refused)."""
    try:
        raw = np.asarray(times)
    except (TypeError, ValueError):
        raw = None
    if raw is None or raw.dtype.kind not in "iuf":
        raise TypeError("times must be a 1-D array of real numbers (units of 1/g), got "
                        f"{type(times).__name__}"
                        + (f" of {raw.dtype}" if raw is not None and raw.dtype.kind != "O"
                           else ""))
    t = raw.astype(float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError("times must be a 1-D array with at least two entries")
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite")
    if t[0] != 0.0:
        raise ValueError(f"times must start at 0 (the start of charging), got times[0]={t[0]}")
    if np.any(np.diff(t) <= 0):
        raise ValueError("times must be strictly increasing")
    return t


def check_tolerance(name: str, value: Any) -> float:
    v = check_real(name, value, positive=True)
    if v >= 1e-2:
        raise ValueError(f"{name} must be a small positive number (< 1e-2), got {v}")
    return v


def check_time_grid(name: str, times: Any) -> np.ndarray:
    """A non-empty 1-D array of finite, non-negative, strictly increasing times
    (units of 1/g), e.g. storage times; it need not start at 0."""
    if isinstance(times, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array of times (units of 1/g), got {times!r}")
    try:
        t = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of times (units of 1/g), "
                        f"got {type(times).__name__}") from None
    if t.ndim != 1 or t.size < 1:
        raise ValueError(f"{name} must be a non-empty 1-D array of times, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if np.any(t < 0):
        raise ValueError(f"{name} must be >= 0 (units of 1/g), got min {t.min()}")
    if np.any(np.diff(t) <= 0):
        raise ValueError(f"{name} must be strictly increasing")
    return t
