"""From the public functions' arguments to a :class:`Setup`, and the results
they return: trajectories, first maxima, discharges; the parallel battery
and the collective enhancements Γ, each written once.

Units: energies in ħω; times in 1/g (g from the setup, default 1); ``kappa``
as in the master equation (photon loss rate 2κ); rates in 1/time.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from .validation import (check_choice, check_mean_photons, check_n_cut, check_n_qubits,
                         check_real, check_tolerance)
from .engines import MAX_QUBITS, METHODS, REGISTRY, CostLimitError, Estimate, Method, Setup
from .engines.base import SEARCH_WINDOW, time_scale
from .engines.cost import available_memory
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

# ------------------------------------------------------------------ limits
#: Range of the coupling g.  Results depend on κ/g and g·t only; beyond this
#: range squares of rates over- or underflow.
G_RANGE = (1e-100, 1e100)
#: Largest κ/g.  In the overdamped regime E_h falls after τ̄ at the relative
#: rate 2g²/κ, which must stay above the search's relative noise floor (1e-9):
#: the closed form of the first maximum is met up to κ = 1e6 g (tests).
MAX_KAPPA_OVER_G = 1e8
#: Largest mean photon number and photon truncation accepted (a state with
#: more levels would not fit in any memory).
MAX_MEAN_PHOTONS = 1e9
MAX_N_CUT = 10**9

#: A run whose estimated duration (:meth:`Method.estimate`, calibrated on the
#: project's 2-core machine) exceeds this many seconds is refused before it
#: starts, and a search that runs past its share of it is stopped.  The
#: environment variable QBHELPERS_MAX_SECONDS overrides it (a number of
#: seconds, or "inf" for no limit) for users who mean to wait.
MAX_SECONDS = 1800.0
MAX_SECONDS_VARIABLE = "QBHELPERS_MAX_SECONDS"
#: A run whose estimated memory exceeds this fraction of the memory available
#: now (MemAvailable) is refused; QBHELPERS_MAX_MEMORY_GB overrides the limit
#: (gigabytes, or "inf").
MEMORY_FRACTION = 0.8
MAX_MEMORY_VARIABLE = "QBHELPERS_MAX_MEMORY_GB"
#: A progress bar (tqdm, on stderr) is shown for a run expected to last longer
#: than this many seconds, when stderr is a terminal; QBHELPERS_PROGRESS=1
#: shows it whenever stderr accepts it, QBHELPERS_PROGRESS=0 never.
PROGRESS_AFTER = 5.0
PROGRESS_VARIABLE = "QBHELPERS_PROGRESS"


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
               truncation_tol: Any = TRUNCATION_TOL, t_span: float | None = None) -> Setup:
    """Check every argument (nothing is computed before) and choose the photon
    truncation: a user-given ``n_cut`` that is too small is an error that says
    what is needed.  ``t_span`` (1/g) is how long the run will be followed
    (default: the longest search for a first extremum); with a warm bath the
    automatic n_cut keeps a margin that grows with it, so that the energy
    balance holds over the whole run (:func:`~qbhelpers.physics.states.bath_margin`)."""
    method = resolve_method(method)
    charger = check_choice("charger", charger, CHARGERS)
    g = check_real("g", g, positive=True, maximum=G_RANGE[1])
    if g < G_RANGE[0]:
        raise ValueError(f"g must be at least {G_RANGE[0]:g}, got {g:g} (results depend on "
                         "kappa/g and g*t only: rescale the units)")
    kappa = check_real("kappa", kappa)
    if kappa > MAX_KAPPA_OVER_G * g:
        raise ValueError(f"kappa must be at most {MAX_KAPPA_OVER_G:g} g = "
                         f"{MAX_KAPPA_OVER_G * g:g}, got {kappa:g} (beyond it the first maximum "
                         "of E_h falls too slowly to be told from rounding)")
    n_th = check_real("n_th", n_th)
    n = check_n_qubits(n_qubits, method.name, MAX_QUBITS[method.name])
    mean = check_mean_photons(charger, mean_photons, n, maximum=MAX_MEAN_PHOTONS)
    n_cut = check_n_cut(n_cut, MAX_N_CUT)
    truncation_tol = check_tolerance("truncation_tol", truncation_tol)
    if t_span is None:
        probe = Setup(n, charger, kappa, g, n_th, mean, 0, method)
        t_span = search_window(probe, mean)
    cut = choose_n_cut(charger, mean, n, n_th, n_cut, truncation_tol, 2 * kappa * t_span)
    if cut > MAX_N_CUT:
        raise ValueError(
            f"the photon truncation needed, n_cut={cut}, exceeds {MAX_N_CUT:.0e} levels "
            f"(charger={charger!r}, mean_photons={mean:g}, n_th={n_th:g}): no memory holds "
            "such a state; lower mean_photons or n_th")
    return Setup(n, charger, kappa, g, n_th, mean, cut, method)


def initial_excitations(setup: Setup, holder: np.ndarray | None = None) -> float:
    """Mean initial excitation number: the charger's photons, plus the
    holder's excited qubits when discharging ``holder``."""
    e = setup.mean_photons
    if holder is not None:
        e += float(np.real(np.diag(holder)) @ np.arange(holder.shape[0]))
    return e


def search_window(setup: Setup, excitations: float) -> float:
    """The longest a search for the first extremum may run (1/g)."""
    return SEARCH_WINDOW * time_scale(setup, excitations)


def expected_search(setup: Setup, excitations: float) -> float:
    """How long (1/g) a search for the first extremum is expected to run:
    twice the smaller of the collective Rabi half-period π/(2g√(N n))
    (:func:`~qbhelpers.engines.base.time_scale`) and, when overdamped
    (κ > 2g√(N n)), the time ln(λ₂/λ₁)/(λ₂ − λ₁) at which a single
    excitation would peak (λ₁,₂ = (κ ∓ √(κ² − 4g²N n))/2).  Only an estimate:
    the search itself is stopped by its work limit, not by this."""
    scale = time_scale(setup, excitations)
    g_eff = math.pi / (2 * scale)
    k = setup.kappa
    if k > 2 * g_eff:
        root = math.sqrt(k * k - 4 * g_eff * g_eff)
        slow = 2 * g_eff * g_eff / (k + root)
        fast = 0.5 * (k + root)
        scale = min(scale, math.log(fast / slow) / (fast - slow))
    return 2 * scale


# ------------------------------------------------------------------- cost
def _limit(variable: str, default: float, unit: float = 1.0) -> float:
    text = os.environ.get(variable)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"the environment variable {variable} must be a number or 'inf', "
                         f"got {text!r}") from None
    if not value > 0:
        raise ValueError(f"the environment variable {variable} must be > 0, got {text!r}")
    return value * unit


def max_seconds() -> float:
    """The work limit in expected seconds (MAX_SECONDS or $QBHELPERS_MAX_SECONDS)."""
    return _limit(MAX_SECONDS_VARIABLE, MAX_SECONDS)


def max_memory() -> float:
    """The memory limit in bytes: MEMORY_FRACTION of what is available now, or
    $QBHELPERS_MAX_MEMORY_GB; infinite when the available memory is unknown."""
    available = available_memory()
    default = MEMORY_FRACTION * available if available > 0 else math.inf
    return _limit(MAX_MEMORY_VARIABLE, default, 1e9)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} h"
    if seconds < 2 * 3.15e7:
        return f"{seconds / 86400:.3g} days"
    return f"{seconds / 3.15e7:.3g} years"


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1e3:.3g} kB"


def output_memory(setup: Setup, n_times: int, with_charger: bool) -> float:
    """Bytes of a trajectory's arrays: holder states (and charger states)
    at every output time, complex, with the copies the ergotropies make."""
    per_time = 3 * 16 * (setup.n_qubits + 1) ** 2 + 6 * 8
    if with_charger:
        per_time += 3 * 16 * (setup.n_cut + 1) ** 2
    return float(n_times) * per_time


def check_cost(setup: Setup, t_end: float, holder: np.ndarray | None = None, *,
               what: str, with_charger: bool = False, n_times: int = 0) -> Estimate:
    """Refuse, before anything is built, a run of ``setup`` from 0 to ``t_end``
    (1/g) that would exceed the memory or the work limit (``what`` names the
    run in the message); return its :class:`Estimate` otherwise."""
    est = setup.method.estimate(setup, t_end, holder, with_charger=with_charger)
    memory = est.memory + output_memory(setup, n_times, with_charger)
    params = (f"n_qubits={setup.n_qubits}, charger={setup.charger!r}, "
              f"kappa={setup.kappa:g}, n_th={setup.n_th:g}, n_cut={setup.n_cut}, "
              f"method={setup.method.name!r}, time span {t_end:.3g}/g"
              + (f", {n_times} output times" if n_times else ""))
    limit = max_memory()
    if memory > limit:
        raise CostLimitError(
            f"{what} would need about {_bytes(memory)} of memory ({params}), more than the "
            f"{_bytes(limit)} it may use ({MEMORY_FRACTION:.0%} of what is available now, or "
            f"${MAX_MEMORY_VARIABLE}); " + _advice(setup, n_times, memory=True) + ".")
    limit = max_seconds()
    if est.seconds > limit:
        raise CostLimitError(
            f"{what} would take about {_duration(est.seconds)} ({est.work:.2g} "
            f"{est.work_unit}; {params}), more than the limit of {_duration(limit)}; "
            + _advice(setup, n_times)
            + f", or raise the limit with the environment variable {MAX_SECONDS_VARIABLE} "
            "(seconds, or 'inf') if you mean to wait.")
    return est


def _advice(setup: Setup, n_times: int, memory: bool = False) -> str:
    """What makes a run cheaper, for the messages of :func:`check_cost`."""
    tips = ["fewer qubits"] if memory else ["fewer qubits", "a shorter time span"]
    if setup.n_cut > 4 * max(setup.n_qubits, 1):
        tips.append(f"fewer photon levels (n_cut={setup.n_cut} is set by mean_photons, "
                    "n_th and truncation_tol)")
    if not memory and setup.kappa * setup.n_cut > 100 * setup.g * math.sqrt(
            setup.n_qubits * setup.n_cut + 1):
        tips.append("a smaller kappa (the decay rate 2·kappa·n_cut sets the step)")
    if setup.method.name != "blocks":
        tips.append("method='blocks'")
    if n_times > 10**5:
        tips.append("fewer output times")
    if len(tips) == 1:
        return "to make it cheaper use " + tips[0]
    return "to make it cheaper use " + ", ".join(tips[:-1]) + " or " + tips[-1]


def search_stop(setup: Setup, est: Estimate, t_est: float) -> float:
    """The time at which a search expected to run to ``t_est`` at the cost
    ``est`` would reach the work limit (it is stopped there)."""
    if est.seconds <= 0:
        return math.inf
    return t_est * max_seconds() / est.seconds


@contextlib.contextmanager
def progress(engine: Any, est: Estimate, t_end: float, what: str) -> Iterator[None]:
    """Show a progress bar over the engine's time while the block runs, when
    ``est`` expects more than PROGRESS_AFTER seconds (see PROGRESS_VARIABLE)."""
    setting = os.environ.get(PROGRESS_VARIABLE, "").strip()
    if setting == "0" or (est.seconds < PROGRESS_AFTER and setting != "1"):
        yield
        return
    from tqdm import tqdm

    bar = tqdm(total=float(t_end), desc=f"qbhelpers: {what}", unit="/g",
               disable=None if setting != "1" else False, file=sys.stderr, mininterval=1.0,
               leave=False, bar_format="{desc}: {percentage:3.0f}%|{bar}| t={n:.3g}/{total:.3g} "
                                       "[{elapsed}<{remaining}]")
    reached = [0.0]

    def advance(t: float) -> None:
        step = min(t, bar.total) - reached[0]
        if step > 0:
            bar.update(step)
            reached[0] += step

    engine.on_time = advance
    try:
        yield
    finally:
        bar.close()


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
        """The sum E_h + E_c + Q, constant in time and equal to the initial
        excitation number (n̄ when charging, the initial holder energy when
        discharging)."""
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
    """Γ_f = f# / f‖ for each figure f (default: ``FIGURES``: energy, ergotropy, power, rate) of two results
    of the same kind, collective and parallel."""
    return {f: enhancement_ratio(getattr(col, f), getattr(par, f)) for f in figures}
