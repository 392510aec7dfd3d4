"""qbhelpers: the physics of the book *Dissipative Quantum Batteries*.

N qubits (the holder) charged by one lossy cavity mode (the charger) through
the Tavis–Cummings interaction.  Energies in ħω; times and rates in units set
by the coupling ``g`` (default 1); ``kappa`` as in the master equation (photon
loss rate 2κ).

Public functions: :func:`charge`, :func:`first_max`, :func:`enhancement`,
:func:`discharge`, :func:`discharge_trajectory`, :func:`discharge_enhancement`
(the six verbs, which take the same parameters), :func:`first_max_grid`,
:func:`ergotropy` (and :func:`holder_ergotropy`, :func:`symmetric_ergotropy`,
:func:`charger_ergotropy`); the whole charge–store–discharge cycle (SPEC §9):
:func:`cycle`, :func:`cycle_scan`, :func:`cycle_enhancement`,
:func:`cycle_storage_trace`, :func:`cycle_discharge_trace`.  Engines and their
options: :mod:`qbhelpers.engines`.

The package is layered, imports running one way: the verbs
(:mod:`.battery`, :mod:`.whole_cycle`) and studies (:mod:`.studies`) → setups and results
(:mod:`.problem`) → engines (:mod:`.engines`) → physics (:mod:`.physics`).
The reader-facing :mod:`.plotting` and :mod:`.widgets` load matplotlib and
ipywidgets only when first used (``qbhelpers.plotting`` works after a plain
``import qbhelpers``).
"""
from __future__ import annotations

import importlib
from typing import Any

from . import engines, units
from ._version import __version__
from .battery import (charge, discharge, discharge_enhancement, discharge_trajectory,
                      enhancement, first_max)
from .whole_cycle import (CYCLE_FIGURES, Cycle, CycleDischargeTrace, StorageTrace, cycle,
                          cycle_discharge_trace, cycle_enhancement, cycle_scan,
                          cycle_storage_trace)
from .engines import NoMaximumError
from .physics.ergotropy import (charger_ergotropy, ergotropy, holder_ergotropy, passive_energy,
                                symmetric_ergotropy)
from .physics.states import photon_distribution, required_n_cut
from .problem import Discharge, FirstMax, Trajectory, ratios
from .studies.sweep import Sweep, first_max_grid

__all__ = [
    "Discharge", "FirstMax", "NoMaximumError", "Trajectory", "charge", "discharge",
    "discharge_enhancement", "discharge_trajectory", "enhancement", "first_max", "ratios",
    "charger_ergotropy", "ergotropy", "holder_ergotropy", "passive_energy",
    "symmetric_ergotropy", "photon_distribution", "required_n_cut", "Sweep", "first_max_grid",
    "engines", "units", "__version__",
    "CYCLE_FIGURES", "Cycle", "CycleDischargeTrace", "StorageTrace", "cycle", "cycle_discharge_trace",
    "cycle_enhancement", "cycle_scan", "cycle_storage_trace",
]

#: Submodules loaded on first access (they import matplotlib, ipywidgets, …).
_LAZY = ("plotting", "widgets", "cli", "tables", "claims", "grids", "checks")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
