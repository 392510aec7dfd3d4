"""From the public functions' arguments to a :class:`Setup`, and the results
they return: trajectories, first maxima, discharges; the parallel battery
and the collective enhancements Γ, each written once.

Units: energies in ħω; times in 1/g (g from the setup, default 1); ``kappa``
as in the master equation (photon loss rate 2κ); rates in 1/time.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .validation import (check_choice, check_mean_photons, check_n_cut, check_n_qubits,
                         check_real, check_tolerance)
from .engines import MAX_QUBITS, METHODS, REGISTRY, Method, Setup
from .physics.states import CHARGERS, TRUNCATION_TOL, choose_n_cut

#: The two ways to charge N qubits.
VERSIONS = ("collective", "parallel")

#: The figures of merit compared by the enhancements of charging …
FIGURES = ("energy", "ergotropy", "power", "rate")
#: … and of discharging.
DISCHARGE_FIGURES = ("energy", "power", "rate")

#: Largest population the top photon level may reach at n_th > 0 before the
#: truncation is declared too small.
TOP_LEVEL_TOL = 1e-9

#: A parallel figure below this (ħω, or ħω per unit time) counts as zero: Γ is NaN.
ZERO_FIGURE = 1e-12


# ------------------------------------------------------------------ setups
def resolve_method(method: Any) -> Method:
    """A method object from a name (default options) or a method object."""
    if isinstance(method, Method):
        return method
    if isinstance(method, str) and method in REGISTRY:
        return REGISTRY[method]()
    raise ValueError(
        f"method must be one of {', '.join(repr(m) for m in METHODS)}, or a method object "
        f"such as qbhelpers.engines.RungeKutta(rtol=1e-12); got {method!r}")


def make_setup(n_qubits: Any, charger: Any, kappa: Any, *, g: Any = 1.0, n_th: Any = 0.0,
               mean_photons: Any = None, n_cut: Any = None, method: Any = "blocks",
               truncation_tol: Any = TRUNCATION_TOL) -> Setup:
    """Check every argument (nothing is computed before) and choose the photon
    truncation: a user-given ``n_cut`` that is too small is an error that says
    what is needed."""
    method = resolve_method(method)
    charger = check_choice("charger", charger, CHARGERS)
    kappa = check_real("kappa", kappa)
    g = check_real("g", g, positive=True)
    n_th = check_real("n_th", n_th)
    n = check_n_qubits(n_qubits, method.name, MAX_QUBITS[method.name])
    mean = check_mean_photons(charger, mean_photons, n)
    n_cut = check_n_cut(n_cut)
    truncation_tol = check_tolerance("truncation_tol", truncation_tol)
    cut = choose_n_cut(charger, mean, n, n_th, n_cut, truncation_tol)
    return Setup(n, charger, kappa, g, n_th, mean, cut, method)


def check_truncation(setup: Setup, top: float) -> None:
    """At n_th > 0 the bath adds photons: refuse a run that filled the top level."""
    if setup.n_th > 0 and top > TOP_LEVEL_TOL:
        raise ValueError(
            f"n_cut={setup.n_cut} is too small for n_th={setup.n_th:g}: the top photon level "
            f"reached population {top:.1e} > {TOP_LEVEL_TOL:.0e}; increase n_cut (or leave "
            "n_cut=None)")


# ----------------------------------------------------------------- results
def extensive(**kwargs) -> Any:
    """A field that the parallel battery sums over its N cells."""
    return field(metadata={"extensive": True}, **kwargs)


@dataclass(frozen=True)
class Result:
    """Base of the results: ``setup`` is the parameter record of the run; its
    fields are readable on the result too (``result.kappa``, …;
    ``result.method`` is the method's name)."""

    setup: Setup = field(repr=False)

    @property
    def n_qubits(self) -> int:
        """Number of qubits N."""
        return self.setup.n_qubits

    @property
    def charger(self) -> str:
        """Initial charger state: "fock", "coherent" or "thermal"."""
        return self.setup.charger

    @property
    def kappa(self) -> float:
        """κ, units of g (photon loss rate 2κ)."""
        return self.setup.kappa

    @property
    def g(self) -> float:
        """Coupling g (sets the unit of time)."""
        return self.setup.g

    @property
    def n_th(self) -> float:
        """Mean photon number of the bath."""
        return self.setup.n_th

    @property
    def mean_photons(self) -> float:
        """Mean photon number n̄ the charger(s) started with (all cells together)."""
        return self.setup.mean_photons

    @property
    def n_cut(self) -> int:
        """Photon truncation of the charging run (of one cell for the parallel version)."""
        return self.setup.n_cut

    @property
    def method(self) -> str:
        """Name of the method that computed it."""
        return self.setup.method.name


@dataclass(frozen=True)
class Trajectory(Result):
    """The collective battery on a time grid (all arrays of equal length).

    ``t`` in units of 1/g; energies in ħω: ``E_h`` holder energy, ``E_c``
    charger energy, ``Q`` heat released to the bath since t = 0,
    ``ergotropy`` holder ergotropy over all unitaries of the N qubits,
    ``ergotropy_symmetric`` over permutation-symmetric unitaries only,
    ``charger_ergotropy`` (only with ``with_charger=True``), ``holder_states``
    the reduced holder states in the Dicke basis, shape (len(t), N+1, N+1).
    ``stage`` is "charging" or "discharging" (clock restarted at 0 when
    discharging starts; ``setup`` is then the charging run's).
    """

    t: np.ndarray
    E_h: np.ndarray
    E_c: np.ndarray
    Q: np.ndarray
    ergotropy: np.ndarray
    ergotropy_symmetric: np.ndarray
    holder_states: np.ndarray = field(repr=False)
    charger_ergotropy: np.ndarray | None = None
    stage: str = "charging"

    @property
    def balance(self) -> np.ndarray:
        """E_h + E_c + Q: constant in time, equal to the initial excitation
        number (n̄ when charging, the initial holder energy when discharging)."""
        return self.E_h + self.E_c + self.Q


@dataclass(frozen=True)
class FirstMax(Result):
    """Figures of merit at τ̄, the first local maximum of E_h(t).

    ``tau`` (1/g), ``energy`` Ē = E_h(τ̄) and ``ergotropy`` ℰ̄ = ℰ_h(τ̄) (all
    unitaries of the N qubits) and ``ergotropy_symmetric`` (permutation-
    symmetric unitaries), in ħω; ``power`` Ē/τ̄; ``rate`` 2π/τ̄; ``E_c`` and
    ``Q`` at τ̄.  ``version="parallel"``: the extensive figures (energy,
    ergotropies, power, E_c, Q) are N times one cell's; tau and rate are one
    cell's.
    """

    tau: float
    energy: float = extensive()
    ergotropy: float = extensive()
    ergotropy_symmetric: float = extensive()
    power: float = extensive()
    rate: float
    E_c: float = extensive()
    Q: float = extensive()
    version: str = "collective"


@dataclass(frozen=True)
class Discharge(Result):
    """Discharging in normal mode, from the holder state reached at the
    charging τ̄ (its reduced state: correlations with the charger dropped)
    through an empty, lossy charger (SPEC §8).

    ``tau`` τ̄_d (1/g): first local minimum of E_h; ``energy`` E_d =
    E_h(0) − E_h(τ̄_d) (ħω); ``power`` E_d/τ̄_d; ``rate`` 2π/τ̄_d; ``E_start``,
    ``E_end`` the holder energy before and at τ̄_d; ``ergotropy_start``,
    ``ergotropy_end``; ``E_c`` and ``Q`` at τ̄_d.  ``setup`` is the charging
    run's.  For ``version="parallel"`` the extensive figures are N times one
    cell's.
    """

    tau: float
    energy: float = extensive()
    power: float = extensive()
    rate: float
    E_start: float = extensive()
    E_end: float = extensive()
    ergotropy_start: float = extensive()
    ergotropy_end: float = extensive()
    E_c: float = extensive()
    Q: float = extensive()
    version: str = "collective"


# ------------------------------------------------------ parallel and Γ
def parallel(cell: Result, n_cells: int) -> Result:
    """The parallel battery of ``n_cells`` copies of ``cell`` (one qubit and
    its own charger): every extensive field times n_cells, the others one
    cell's; its setup has N = n_cells and the cells' photons summed."""
    scaled = {f.name: n_cells * getattr(cell, f.name)
              for f in dataclasses.fields(cell) if f.metadata.get("extensive")}
    setup = dataclasses.replace(cell.setup, n_qubits=n_cells,
                                mean_photons=n_cells * cell.setup.mean_photons)
    return dataclasses.replace(cell, setup=setup, version="parallel", **scaled)


def enhancement_ratio(collective: Any, parallel_value: Any) -> Any:
    """Γ = collective / parallel, NaN where the parallel value is below
    ZERO_FIGURE in size (arrays or numbers)."""
    num = np.asarray(collective, dtype=float)
    den = np.asarray(parallel_value, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.abs(den) < ZERO_FIGURE, np.nan, num / np.where(den == 0, 1.0, den))
    return float(out) if out.ndim == 0 else out


def ratios(col: Result, par: Result, figures: tuple[str, ...] = FIGURES) -> dict[str, float]:
    """Γ_f = f# / f‖ for each figure f (default: :data:`FIGURES`) of two results
    of the same kind, collective and parallel."""
    return {f: enhancement_ratio(getattr(col, f), getattr(par, f)) for f in figures}
