"""What a correct computation cannot do: checks a chapter runs on its numbers.

:func:`sweep_violations` looks at every point of a :class:`qbhelpers.Sweep`
(first maxima over a grid) for the relations that hold whatever the physics
parameters are: the energy balance, the definitions of power and rate, and the
bounds on energy and ergotropy.  It returns what it finds as sentences, so a
chapter's check reads ``assert not violations, violations``.  Points that are
NaN (no first maximum there) are skipped.

Reader-facing (layer 5); no physics is computed here.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .studies.sweep import Sweep
from .validation import check_real

#: Relative accuracy the book asks of every number.
ACCURACY = 1e-8


def sweep_violations(sweep: Sweep, tol: float = ACCURACY) -> list[str]:
    """The points of ``sweep`` that break a relation every first maximum obeys.

    For every charger, version, N and κ (energies in ħω, scaled by max(1, N)):

    - energy balance at τ̄: Ē + E_c + Q = n̄, with n̄ = N (the default charger
      of :func:`qbhelpers.first_max_grid`; parallel: N cells of one photon);
    - τ̄ > 0, P̄ = Ē/τ̄ and Ω̄ = 2π/τ̄ (relative ``tol``);
    - 0 ≤ Ē ≤ N, and 0 ≤ ℰ̄_sym ≤ ℰ̄ ≤ Ē;
    - Ē − ℰ̄ < 1 per battery of one holder: the ergotropy over all unitaries
      of the qubits is Ē − (1 − r_max) (checked for the collective battery,
      and for one cell of the parallel one).

    Returns one sentence per broken relation and (charger, version) (empty
    list: nothing found).
    """
    tol = check_real("tol", tol, positive=True)
    n = np.asarray(sweep.n_values, dtype=float)[:, None]
    scale = np.maximum(1.0, n)
    out: list[str] = []
    for c, v in itertools.product(sweep.chargers, sweep.versions):
        q = {name: sweep.get(name, c, v) for name in sweep.data}
        ok = np.isfinite(q["tau"])
        cells = n if v == "parallel" else np.ones_like(n)
        relations = {
            "E + E_c + Q != N": np.abs(q["energy"] + q["E_c"] + q["Q"] - n) <= tol * scale,
            "tau <= 0": q["tau"] > 0,
            "power != E/tau": np.abs(q["power"] * q["tau"] - q["energy"]) <= tol * scale,
            "rate != 2 pi/tau": np.abs(q["rate"] * q["tau"] - 2 * math.pi) <= tol * 2 * math.pi,
            "E outside [0, N]": (q["energy"] >= -tol * scale) & (q["energy"] <= n + tol * scale),
            "ergotropy outside [0, E]": (q["ergotropy"] >= -tol * scale)
                                        & (q["ergotropy"] <= q["energy"] + tol * scale),
            "symmetric ergotropy outside [0, ergotropy]":
                (q["ergotropy_symmetric"] >= -tol * scale)
                & (q["ergotropy_symmetric"] <= q["ergotropy"] + tol * scale),
            "E - ergotropy >= 1 per holder": (q["energy"] - q["ergotropy"]) / cells < 1 + tol,
        }
        for what, holds in relations.items():
            bad = ok & ~holds
            if bad.any():
                where = ", ".join(f"N = {sweep.n_values[i]}, kappa = {sweep.kappas[j]:g}"
                                  for i, j in zip(*np.nonzero(bad)))
                out.append(f"{c}, {v}: {what} at {where}")
    return out
