"""qbhelpers: the physics of the book *Dissipative Quantum Batteries*.

N qubits (the holder) charged by one lossy cavity mode (the charger) through
the Tavis–Cummings interaction.  Energies in ħω; times and rates in units set
by the coupling ``g`` (default 1); ``kappa`` as in the master equation (photon
loss rate 2κ).

Public functions: :func:`charge`, :func:`first_max`, :func:`enhancement`,
:func:`ergotropy` (and :func:`holder_ergotropy`, :func:`symmetric_ergotropy`,
:func:`charger_ergotropy`).
"""
__version__ = "0.1.0"

from .battery import (Discharge, FirstMax, NoMaximumError, Trajectory, charge, discharge,
                      discharge_enhancement, discharge_trajectory, enhancement, first_max, ratios)
from .ergotropy import (charger_ergotropy, ergotropy, holder_ergotropy, passive_energy,
                        symmetric_ergotropy)
from .states import photon_distribution, required_n_cut
from .sweep import Sweep, first_max_grid
from . import plotting, units  # noqa: E402  (qb.units, qb.plotting after `import qbhelpers as qb`)

__all__ = [
    "Discharge", "FirstMax", "NoMaximumError", "Trajectory", "charge", "discharge",
    "discharge_enhancement", "discharge_trajectory", "enhancement", "first_max", "ratios",
    "charger_ergotropy", "ergotropy", "holder_ergotropy", "passive_energy",
    "symmetric_ergotropy", "photon_distribution", "required_n_cut", "Sweep", "first_max_grid",
    "__version__",
]
