"""First maxima over grids of N, κ and chargers, with progress and a disk cache."""
from __future__ import annotations

import csv
import itertools
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from ..validation import check_choice
from ..physics.states import CHARGERS
from ..problem import FIGURES, VERSIONS, enhancement_ratio, make_setup, resolve_method
from .cache import cached_first_max

QUANTITIES = ("tau", "energy", "ergotropy", "ergotropy_symmetric", "power", "rate", "E_c", "Q")


@dataclass(frozen=True)
class Sweep:
    """Figures of merit at the first maximum on a grid.

    ``data[quantity]`` has shape (len(chargers), len(versions), len(n_values),
    len(kappas)); use :meth:`get` and :meth:`enhancement` rather than indexing.
    """

    n_values: tuple[int, ...]
    kappas: np.ndarray
    chargers: tuple[str, ...]
    versions: tuple[str, ...]
    g: float
    n_th: float
    data: dict[str, np.ndarray]

    def get(self, quantity: str, charger: str = "fock", version: str = "collective") -> np.ndarray:
        """Array of shape (len(n_values), len(kappas))."""
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

    def to_csv(self, path) -> None:
        """One row per (charger, version, N, κ) with every quantity."""
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["charger", "version", "n_qubits", "kappa", "g", "n_th", *QUANTITIES])
            for (ci, c), (vi, ver), (ni, n), (ki, k) in itertools.product(
                    enumerate(self.chargers), enumerate(self.versions),
                    enumerate(self.n_values), enumerate(self.kappas)):
                w.writerow([c, ver, n, repr(float(k)), self.g, self.n_th,
                            *(repr(float(self.data[q][ci, vi, ni, ki])) for q in QUANTITIES)])


def first_max_grid(n_values, kappas, *, chargers=("fock",), versions=VERSIONS,
                   g: float = 1.0, n_th: float = 0.0, method: Any = "blocks",
                   progress: bool = True, cache: bool = True) -> Sweep:
    """:func:`qbhelpers.first_max` for every N in ``n_values``, κ in ``kappas``,
    charger and version (each a sequence).  Every point is checked before any
    is computed.  The parallel battery's cell (one qubit, n̄ = 1) does not
    depend on N; it is computed once and then read from the disk cache."""
    method = resolve_method(method)
    chargers = (chargers,) if isinstance(chargers, str) else tuple(chargers)
    versions = (versions,) if isinstance(versions, str) else tuple(versions)
    raw_n = list(np.ravel(np.asarray(n_values, dtype=object)))
    raw_k = list(np.ravel(np.asarray(kappas, dtype=object)))
    for name, items in (("n_values", raw_n), ("kappas", raw_k), ("chargers", chargers),
                        ("versions", versions)):
        if not items:
            raise ValueError(f"{name} must hold at least one value")
    for c in chargers:
        check_choice("charger", c, CHARGERS)
    for ver in versions:
        check_choice("version", ver, VERSIONS)
    # every point, before any is computed (the parallel cell is checked by first_max)
    for n, k, c in itertools.product(raw_n, raw_k, chargers):
        make_setup(n, c, k, g=g, n_th=n_th, method=method)
    n_values = tuple(int(n) for n in raw_n)
    kappas = np.array([float(k) for k in raw_k])
    shape = (len(chargers), len(versions), len(n_values), len(kappas))
    data = {q: np.full(shape, np.nan) for q in QUANTITIES}
    jobs = list(itertools.product(enumerate(chargers), enumerate(versions), enumerate(n_values),
                                  enumerate(kappas)))
    bar = tqdm(jobs, desc="qbhelpers: first maxima", disable=not progress, file=sys.stderr,
               mininterval=1.0, leave=False)
    for (ci, c), (vi, ver), (ni, n), (ki, k) in bar:
        fm = cached_first_max(cache=cache, n_qubits=n, charger=c, kappa=float(k),
                              version=ver, g=g, n_th=n_th, method=method)
        for q in QUANTITIES:
            data[q][ci, vi, ni, ki] = getattr(fm, q)
    bar.close()
    return Sweep(n_values, kappas, chargers, versions, g, n_th, data)
