"""The engines that integrate the battery's master equation, and their registry.

Each engine module defines a :class:`~.base.Method` (the engine's options,
user-facing) that registers itself under its name when the module is
imported, and the :class:`~.base.Engine` it builds.  Importing this package
imports every engine module, so :data:`METHODS` lists them all:

===============  ===============================================================
``"blocks"``     :class:`Chebyshev`: excitation sectors, Chebyshev propagator
                 (production)
``"blocks-rk"``  :class:`RungeKutta`: the same sectors, DOP853 Runge–Kutta
``"dicke"``      :class:`QutipDicke`: QuTiP ``mesolve``, Dicke basis
``"full"``       :class:`QutipFull`: QuTiP ``mesolve``, 2^N tensor-product basis
===============  ===============================================================
"""
from __future__ import annotations

from .base import (REGISTRY, Chunk, CostLimitError, Engine, Estimate, Extremum, Measurement,
                   Method, NoMaximumError, Samples, Setup)
# the order of these imports is the order of METHODS
from .chebyshev import Chebyshev  # noqa: I001
from .runge_kutta import RungeKutta
from .reference import QutipDicke, QutipFull

#: Registered method names, production method first.
METHODS: tuple[str, ...] = tuple(REGISTRY)

#: Largest number of qubits each method accepts.
MAX_QUBITS: dict[str, int] = {name: cls.max_qubits for name, cls in REGISTRY.items()}

__all__ = ["METHODS", "MAX_QUBITS", "REGISTRY", "Chebyshev", "RungeKutta", "QutipDicke",
           "QutipFull", "Method", "Engine", "Chunk", "Setup", "Samples", "Extremum",
           "Measurement", "NoMaximumError", "CostLimitError", "Estimate"]
