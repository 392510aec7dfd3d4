"""The contract of the engine layer: what an engine takes, what it returns,
and the search for the first extremum of the holder energy, written once.

An *engine* integrates the charging master equation of SPEC §1 for one
battery, described by a :class:`Setup`, from one of two initial states:

* charging: the charger in its initial state (Fock, coherent or thermal with
  ``mean_photons``) and every qubit in its ground state;
* discharging: an empty charger and a given holder state (``holder``, in the
  Dicke basis, states labelled by k = number of excited qubits).

Every engine offers the same three things, declared as the abstract methods
of :class:`Engine`:

* :meth:`Engine.trajectory`: energies, heat, the top photon level's
  population and the reduced holder (and, on request, charger) states on a
  time grid, as a :class:`Samples`;
* :meth:`Engine.chunks`: the run cut into consecutive time intervals
  (:class:`Chunk`), in each of which dE_h/dt and the other observables can be
  evaluated at any instant; :func:`find_first_extremum` scans them;
* :meth:`Engine.holder_at`: the full reduced holder state at an instant
  inside a chunk, with its ergotropy.

:meth:`Engine.first_extremum` combines them into an :class:`Extremum`, the
state at the first maximum (or minimum) of E_h.

Engines are chosen with *method objects* (:class:`Method` subclasses), which
own the engine's options (tolerances, say) and register themselves under
their ``name`` when defined: ``qbhelpers.engines.METHODS`` lists them.

Units: energies in ħω, times in 1/g (g from the setup), ``kappa`` as in the
master equation (photon loss rate 2κ).
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterable, Iterator

import numpy as np
from scipy.optimize import brentq

from ..physics.ergotropy import holder_ergotropy_many

#: Every method defined so far, by name (filled by :meth:`Method.__init_subclass__`).
REGISTRY: dict[str, type["Method"]] = {}


# ----------------------------------------------------------------- setup
@dataclass(frozen=True)
class Setup:
    """Everything that fixes one run: the battery and the method that computes it.

    ``n_qubits`` N; ``charger`` "fock", "coherent" or "thermal";
    ``kappa`` κ (photon loss rate 2κ, units of g); ``g`` the coupling (sets
    the unit of time); ``n_th`` mean photon number of the bath;
    ``mean_photons`` n̄ of the charger's initial state; ``n_cut`` photon
    truncation (levels 0..n_cut); ``method`` a :class:`Method` (its options
    included).  Built and validated by :func:`qbhelpers.problem.make_setup`.
    """

    n_qubits: int
    charger: str
    kappa: float
    g: float
    n_th: float
    mean_photons: float
    n_cut: int
    method: "Method"


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class Measurement:
    """Observables at one instant: ``E_h``, ``E_c``, ``dE_h`` = dE_h/dt, ``top``
    (population of the photon level n_cut), ``Q`` (heat given to the bath since
    t = 0)."""

    E_h: float
    E_c: float
    dE_h: float
    top: float
    Q: float


@dataclass(frozen=True)
class Samples:
    """What an engine returns for a time grid (arrays over ``t``).

    ``holder_states`` has shape (T, N+1, N+1) (Dicke basis); ``charger_states``
    (T, n_cut+1, n_cut+1) or None; ``ergotropy`` is the holder ergotropy over
    all unitaries of the N qubits.
    """

    t: np.ndarray
    E_h: np.ndarray
    E_c: np.ndarray
    Q: np.ndarray
    top: np.ndarray
    ergotropy: np.ndarray
    holder_states: np.ndarray = field(repr=False)
    charger_states: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Extremum:
    """The first local maximum (or minimum) of E_h: its time ``tau``, the
    observables there, the largest top-level population seen up to it, the
    holder state (Dicke basis) and its ergotropy over all unitaries."""

    tau: float
    E_h: float
    E_c: float
    Q: float
    top: float
    ergotropy: float
    holder_state: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Estimate:
    """What a run will cost, estimated before it starts (see :mod:`.cost`).

    ``memory``: peak memory (bytes) of the engine's states and operators;
    ``work``: the engine's unit of work, ``work_unit`` (generator
    applications, right-hand-side evaluations); ``seconds``: expected
    duration on a machine like the project's 2-core one (a guide, good to a
    factor of about 3)."""

    memory: float
    work: float
    seconds: float
    work_unit: str = "generator applications"


class NoMaximumError(ValueError):
    """E_h(t) has no local maximum (or minimum) in the searched window."""


class CostLimitError(ValueError):
    """A run would exceed (or, while searching, has reached) the memory or
    work limit (see :mod:`qbhelpers.problem`); the message names the
    parameters that set its cost and what to change."""


# ----------------------------------------------------------------- chunks
class Chunk(ABC):
    """A piece [t0, t1] of a run in which the observables can be evaluated at
    any instant.  ``sample_times`` (increasing, in (t0, t1]) are where the
    search inspects the sign of dE_h/dt; ``sample_dE`` the values there and
    ``top`` the largest top-level population at them."""

    t0: float
    t1: float
    sample_times: np.ndarray
    sample_dE: np.ndarray
    top: float

    @abstractmethod
    def derivative(self, t: float) -> float:
        """dE_h/dt at ``t`` (t0 ≤ t ≤ t1), to the engine's accuracy."""

    def derivatives(self, times: np.ndarray) -> np.ndarray:
        """dE_h/dt at every one of ``times`` (inside the chunk); engines that
        can evaluate many instants at once override it."""
        return np.array([self.derivative(float(t)) for t in times])

    @abstractmethod
    def measure(self, t: float) -> Measurement:
        """Every observable at ``t`` (t0 ≤ t ≤ t1)."""


# ---------------------------------------------------------------- methods
@dataclass(frozen=True)
class Method(ABC):
    """Options of one engine, and the factory of its :class:`Engine`.

    A subclass that sets the class attribute ``name`` registers itself, so
    ``method="<name>"`` selects it with default options; an instance with
    other options (``RungeKutta(rtol=1e-12)``) can be passed as ``method``
    instead.  ``max_qubits`` is the largest N the engine accepts.
    """

    name: ClassVar[str]
    max_qubits: ClassVar[int]
    summary: ClassVar[str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.name in REGISTRY:
                raise TypeError(f"a method named {cls.name!r} is already registered")
            REGISTRY[cls.name] = cls

    @abstractmethod
    def engine(self, setup: Setup, holder: np.ndarray | None = None) -> "Engine":
        """The engine for ``setup``: charging, or discharging ``holder`` (a
        Dicke-basis holder state) into an empty charger."""

    @abstractmethod
    def estimate(self, setup: Setup, t_end: float, holder: np.ndarray | None = None, *,
                 with_charger: bool = False) -> Estimate:
        """Memory and work of a run from t = 0 to ``t_end`` (1/g) for
        ``setup`` (discharging when a ``holder`` is given, any holder state:
        only its presence matters), following every sector its holder
        states need (and the charger's, with ``with_charger``).  Computed
        from sizes and spectral bounds, without building the engine: it is
        how the public functions refuse a run that would not fit in memory or
        in the work limit before it starts."""

    @abstractmethod
    def state_size(self, setup: Setup) -> int:
        """Number of entries of the largest state the engine integrates for
        ``setup`` (its memory is a small multiple of this)."""


# ---------------------------------------------------------------- engines
class Engine(ABC):
    """Integrates one setup.  Subclasses implement :meth:`trajectory`,
    :meth:`chunks` and :meth:`holder_at`; :meth:`first_extremum` is
    common to all."""

    def __init__(self, setup: Setup, holder: np.ndarray | None = None):
        self.setup = setup
        self.holder = holder
        #: Called with the time reached (1/g) as a long run advances (a
        #: progress bar); engines call it at least once per step or output time.
        self.on_time: Callable[[float], None] = _ignore

    @abstractmethod
    def trajectory(self, times: np.ndarray, with_charger: bool = False) -> Samples:
        """Observables and reduced states at ``times`` (increasing, from 0)."""

    @abstractmethod
    def chunks(self) -> Iterator[Chunk]:
        """The run from t = 0 on, in consecutive chunks (an endless iterator:
        the caller stops it)."""

    @abstractmethod
    def holder_at(self, chunk: Chunk, t: float) -> tuple[np.ndarray, float]:
        """The reduced holder state (Dicke basis) at ``t`` inside ``chunk``, and
        its ergotropy over all unitaries of the N qubits."""

    # ------------------------------------------------------------------
    @property
    def excitations(self) -> float:
        """The mean initial excitation number, photons plus excited qubits."""
        e = self.setup.mean_photons
        if self.holder is not None:
            e += float(np.real(np.diag(self.holder)) @ np.arange(self.holder.shape[0]))
        return e

    def first_extremum(self, kind: str = "max", t_stop: float = math.inf) -> Extremum:
        """The first local maximum (``kind="max"``) or minimum (``"min"``) of
        E_h(t) for t > 0, see :func:`find_first_extremum` (which gives up with
        :class:`CostLimitError` at ``t_stop``)."""
        tau, chunk, top = find_first_extremum(self.chunks(), self.setup, self.excitations, kind,
                                              t_stop=t_stop, on_time=self.on_time)
        m = chunk.measure(tau)
        rho_h, erg = self.holder_at(chunk, tau)
        return Extremum(tau=tau, E_h=m.E_h, E_c=m.E_c, Q=m.Q, top=max(top, m.top),
                        ergotropy=erg, holder_state=rho_h)


def samples_from_states(t: np.ndarray, E_h, E_c, Q, top, holder_states: np.ndarray,
                        charger_states: np.ndarray | None = None,
                        ergotropy: np.ndarray | None = None) -> Samples:
    """A :class:`Samples`, the ergotropy computed from the holder states
    (closed form, all unitaries) unless given."""
    if ergotropy is None:
        ergotropy = holder_ergotropy_many(holder_states)
    return Samples(t=t, E_h=np.asarray(E_h, float), E_c=np.asarray(E_c, float),
                   Q=np.asarray(Q, float), top=np.asarray(top, float),
                   ergotropy=np.asarray(ergotropy, float), holder_states=holder_states,
                   charger_states=charger_states)


# ------------------------------------------------------ the extremum search
#: The search for τ̄ gives up after SEARCH_WINDOW time scales, or after E_h
#: has stayed flat (|dE_h/dt| below the noise floor) for QUIET_WINDOW of them.
SEARCH_WINDOW = 400
QUIET_WINDOW = 20


def time_scale(setup: Setup, excitations: float) -> float:
    """A lower estimate of τ̄: π / (2 g √(N n)), the collective Rabi
    half-period for n excitations (bath photons counted).  Fewer than one
    excitation on average count as one: the dynamics is linear in ρ, so a
    weakly excited state (a holder that decayed during storage) still swings
    at the one-excitation Rabi frequency, and sampling it more sparsely would
    step over its extremum."""
    n_eff = max(excitations + setup.n_th, 1.0)
    return math.pi / (2 * setup.g * math.sqrt(setup.n_qubits * n_eff))


#: Relative size of the noise floor: a change of dE_h/dt smaller than this
#: fraction of the signal (see :func:`noise_floor`) is taken for rounding.
RELATIVE_FLOOR = 1e-9


def noise_floor(setup: Setup, excitations: float, signal: float) -> float:
    """|dE_h/dt| below which a sign change is rounding, not an extremum.

    ``signal`` is the largest change of E_h from its initial value seen so
    far (ħω); the floor is RELATIVE_FLOOR × signal per time scale
    (:func:`time_scale`).  Judged relative to the signal, a clean maximum of
    any height is found (at κ = 10⁶g the first maximum of one qubit is
    ~1e-12 ħω high and falls at ~1e-18 ħω·g afterwards, far above the
    engines' rounding, which is relative within each excitation block), while
    an E_h that only saturates (warm bath, strong damping) does not yield a
    spurious τ̄ from the rounding noise in its tail."""
    return RELATIVE_FLOOR * signal / time_scale(setup, excitations)


def no_extremum(setup: Setup, t_max: float, kind: str) -> NoMaximumError:
    word = "maximum" if kind == "max" else "minimum"
    return NoMaximumError(
        f"E_h(t) has no local {word} before t={t_max:.3g} (1/g) for "
        f"n_qubits={setup.n_qubits}, charger={setup.charger!r}, kappa={setup.kappa:g}, "
        f"n_th={setup.n_th:g}")


def _ignore(t: float) -> None:
    """The default :attr:`Engine.on_time`: no progress shown."""


def find_first_extremum(chunks: Iterable[Chunk], setup: Setup, excitations: float,
                        kind: str = "max", *, t_stop: float = math.inf,
                        on_time: Callable[[float], None] = _ignore
                        ) -> tuple[float, Chunk, float]:
    """First t > 0 where dE_h/dt turns from + to − (``kind="max"``) or from −
    to + (``"min"``): returns (τ̄, the chunk holding it, the largest top-level
    population seen).

    The sign of dE_h/dt is inspected at every chunk's sample times; τ̄ is
    bracketed between the last sample where E_h still rises (falls) and the
    first where it clearly falls (rises), i.e. by more than the noise floor,
    and refined by Brent's method on the exact derivative.  The search gives
    up (:class:`NoMaximumError`) after SEARCH_WINDOW time scales, or once E_h
    has stayed flat to rounding for QUIET_WINDOW of them.  Reaching ``t_stop``
    (the time at which the run would exceed its work limit, set by the
    caller) first ends it with :class:`CostLimitError`; ``on_time`` is told
    the end of every chunk.
    """
    sign = 1.0 if kind == "max" else -1.0
    scale = time_scale(setup, excitations)
    t_max = SEARCH_WINDOW * scale
    lo = 0.0  # last instant where E_h still rises (for "max"); E_h starts at rest
    since_lo: list[Chunk] = []  # the chunks from the one holding lo to the current one
    quiet_from = None
    top = 0.0
    e_start = None  # E_h(0)
    signal = 0.0  # largest |E_h(t) - E_h(0)| seen
    for chunk in chunks:
        if chunk.t0 >= t_max:
            break
        if chunk.t0 >= t_stop:
            raise CostLimitError(
                f"the search for the first {'maximum' if kind == 'max' else 'minimum'} of E_h "
                f"reached t={chunk.t0:.3g} (1/g) without finding it, and going on would exceed "
                f"the work limit (n_qubits={setup.n_qubits}, charger={setup.charger!r}, "
                f"kappa={setup.kappa:g}, n_th={setup.n_th:g}, n_cut={setup.n_cut}, "
                f"method={setup.method.name!r}); raise the limit with the environment "
                "variable QBHELPERS_MAX_SECONDS if you mean to wait")
        on_time(chunk.t1)
        if e_start is None:
            e_start = chunk.measure(chunk.t0).E_h
        since_lo.append(chunk)
        top = max(top, chunk.top)
        # the signal is measured at the chunk's end, so that the floor used on
        # its samples is never larger than the one the chunk itself justifies
        signal = max(signal, abs(chunk.measure(chunk.t1).E_h - e_start))
        floor = noise_floor(setup, excitations, signal)
        de = sign * np.asarray(chunk.sample_dE, dtype=float)
        for t, d in zip(chunk.sample_times, de):
            if d < -floor:
                tau = _refine(since_lo, lo, float(t), sign)
                if tau is None:
                    raise no_extremum(setup, float(t), kind)
                return tau, chunk_holding(since_lo, tau), top
            if d > 0:
                lo, since_lo = float(t), [chunk]
            if abs(d) <= floor:
                quiet_from = t if quiet_from is None else quiet_from
                if t - quiet_from > QUIET_WINDOW * scale:
                    raise no_extremum(setup, float(t), kind)
            else:
                quiet_from = None
    raise no_extremum(setup, t_max, kind)


def _refine(chunks: list[Chunk], lo: float, hi: float, sign: float) -> float | None:
    """The root of dE_h/dt in [lo, hi], evaluated on whichever chunk holds the
    instant.  If the rise ended in rounding noise (dE_h/dt ≤ 0 already at
    lo > 0), lo itself is the extremum.  From lo = 0 (E_h at rest) the start
    of the rise is looked for at hi/2, hi/4, …; None if E_h never rises."""
    def dE(t: float) -> float:
        for c in reversed(chunks):
            if t >= c.t0:
                return sign * c.derivative(t)
        return sign * chunks[0].derivative(t)

    if dE(lo) <= 0:
        if lo > 0.0:
            return lo
        # lo = 0, where E_h starts at rest (dE_h/dt = 0): the rise may be far
        # shorter than the sample spacing (strong damping); find where it is
        for k in range(1, 80):
            t = hi * 0.5 ** k
            if dE(t) > 0:
                lo = t
                break
        else:
            return None
    return float(brentq(dE, lo, hi, xtol=1e-15 * max(hi, 1e-300), rtol=1e-14, maxiter=200))


def chunk_holding(chunks: list[Chunk], t: float) -> Chunk:
    """The last chunk of ``chunks`` whose interval starts at or before ``t``."""
    for c in reversed(chunks):
        if t >= c.t0:
            return c
    return chunks[0]

