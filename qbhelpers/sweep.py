"""First maxima over grids of N, κ and chargers, with progress and a disk cache."""
from __future__ import annotations

import csv
import itertools
import sys
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from .battery import FIGURES, FirstMax
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
        col = self.get(figure, charger, "collective")
        par = self.get(figure, charger, "parallel")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(par) < 1e-12, np.nan, col / par)

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


def first_max_grid(n_values, kappas, *, chargers=("fock",), versions=("collective", "parallel"),
                   g: float = 1.0, n_th: float = 0.0, method: str = "blocks",
                   progress: bool = True, cache: bool = True) -> Sweep:
    """:func:`qbhelpers.first_max` for every N in ``n_values``, κ in ``kappas``,
    charger and version.  (The parallel battery's cell, one qubit with n̄ = 1,
    does not depend on N but is at present recomputed for every N: cheap, and
    cached on disk like every point.)"""
    n_values = tuple(int(n) for n in n_values)
    kappas = np.asarray(kappas, dtype=float)
    chargers, versions = tuple(chargers), tuple(versions)
    shape = (len(chargers), len(versions), len(n_values), len(kappas))
    data = {q: np.full(shape, np.nan) for q in QUANTITIES}
    jobs = list(itertools.product(enumerate(chargers), enumerate(versions), enumerate(n_values),
                                  enumerate(kappas)))
    bar = tqdm(jobs, desc="qbhelpers: first maxima", disable=not progress, file=sys.stderr,
               mininterval=1.0, leave=False)
    for (ci, c), (vi, ver), (ni, n), (ki, k) in bar:
        fm: FirstMax = cached_first_max(cache=cache, n_qubits=n, charger=c, kappa=float(k),
                                        version=ver, g=g, n_th=n_th, method=method)
        for q in QUANTITIES:
            data[q][ci, vi, ni, ki] = getattr(fm, q)
    bar.close()
    return Sweep(n_values, kappas, chargers, versions, g, n_th, data)
