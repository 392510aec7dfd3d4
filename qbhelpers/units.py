"""The paper's plot units.

The paper measures frequencies in Ω_R = 2g (the Rabi frequency of one qubit
and one photon), dissipation as κ/Ω_R, and time in π/Ω_R (the first maximum
of that closed N = 1 battery).  The package works in units set by g.
"""
from __future__ import annotations

import math

import numpy as np


def rabi_frequency(g: float = 1.0) -> float:
    """Ω_R = 2g."""
    return 2.0 * g


def time_unit(g: float = 1.0) -> float:
    """π/Ω_R, the paper's unit of time (π/2 for g = 1)."""
    return math.pi / rabi_frequency(g)


def kappa_from_paper(kappa_over_omega_r, g: float = 1.0):
    """κ (package units) from the paper's κ/Ω_R."""
    return np.asarray(kappa_over_omega_r) * rabi_frequency(g) if np.ndim(kappa_over_omega_r) \
        else float(kappa_over_omega_r) * rabi_frequency(g)


def kappa_to_paper(kappa, g: float = 1.0):
    """κ/Ω_R from κ."""
    return np.asarray(kappa) / rabi_frequency(g) if np.ndim(kappa) else float(kappa) / rabi_frequency(g)


def time_to_paper(t, g: float = 1.0):
    """t/(π/Ω_R) from t (units of 1/g)."""
    return np.asarray(t) / time_unit(g)


def rate_to_paper(rate, g: float = 1.0):
    """A rate (units of g) in units of Ω_R."""
    return np.asarray(rate) / rabi_frequency(g)
