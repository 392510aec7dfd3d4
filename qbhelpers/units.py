"""The paper's plot units.

The paper measures frequencies in Ω_R = 2g (the Rabi frequency of one qubit
and one photon), dissipation as κ/Ω_R, and time in π/Ω_R (the first maximum
of that closed N = 1 battery).  The package works in units set by g.

Every helper takes a number or an array of numbers (real and finite; κ ≥ 0)
and the coupling ``g > 0``; anything else is refused with a message naming
the argument.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .validation import check_real, check_real_array


def _g(g: Any) -> float:
    return check_real("g", g, positive=True)


def rabi_frequency(g: float = 1.0) -> float:
    """Ω_R = 2g."""
    return 2.0 * _g(g)


def time_unit(g: float = 1.0) -> float:
    """π/Ω_R, the paper's unit of time (π/2 for g = 1)."""
    return math.pi / rabi_frequency(g)


def kappa_from_paper(kappa_over_omega_r: Any, g: float = 1.0) -> Any:
    """κ (package units) from the paper's κ/Ω_R (a float for a number, else an array)."""
    return check_real_array("kappa_over_omega_r", kappa_over_omega_r,
                            nonnegative=True) * rabi_frequency(g)


def kappa_to_paper(kappa: Any, g: float = 1.0) -> Any:
    """κ/Ω_R from κ (a float for a number, else an array)."""
    return check_real_array("kappa", kappa, nonnegative=True) / rabi_frequency(g)


def time_to_paper(t: Any, g: float = 1.0) -> np.ndarray:
    """t/(π/Ω_R) from t (units of 1/g)."""
    return np.asarray(check_real_array("t", t)) / time_unit(g)


def rate_to_paper(rate: Any, g: float = 1.0) -> np.ndarray:
    """A rate (units of g) in units of Ω_R."""
    return np.asarray(check_real_array("rate", rate)) / rabi_frequency(g)
