"""Shared set-up, fixtures and helpers for the unit tests of ``qbhelpers``.

Tolerances used throughout (and why):

* ``TOL = 1e-8``: the accuracy the book promises for every reported number
  (SPEC §5).  The solvers run at rtol = 1e-10, atol = 1e-12 on quantities of
  order 1..N, and the photon truncation leaves an initial tail below 1e-10,
  so independent engines / closed forms must agree to 1e-8.  It is never
  loosened to make a test pass.
* ``LINALG_TOL = 1e-12``: pure linear algebra on matrices of dimension <= 16
  with entries of order 1 (eigvalsh, products): rounding is ~1e-15, so 1e-12
  leaves three orders of margin and still catches any real error.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import sys
from pathlib import Path

# Single-threaded BLAS.  The "blocks" engine drives scipy's DOP853 on small
# arrays; with OpenBLAS threads on a busy 2-core machine each tiny dot product
# becomes a thread rendez-vous and runs are 10-100x slower (measured).  This
# only changes speed, never results.  It must be set before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("MPLBACKEND", "Agg")

# Test *this* checkout of the package, whatever an editable install points to.
_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.linalg import expm  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

import qbhelpers  # noqa: E402

TOL = 1e-8
LINALG_TOL = 1e-12

assert Path(qbhelpers.__file__).resolve().parent == _REPO / "qbhelpers", (
    f"tests would run against {qbhelpers.__file__}, not this checkout")


# ----------------------------------------------------------------- helpers
def dicke_isometry(n_qubits: int) -> np.ndarray:
    """(2^N, N+1) isometry: column k = normalised sum of the bitstrings with k ones.

    Qubit bit 1 = excited, matching H_h = sum sigma+ sigma- = popcount.
    Written here independently of the package's own helper."""
    dim = 2 ** n_qubits
    V = np.zeros((dim, n_qubits + 1))
    for k in range(n_qubits + 1):
        idx = [sum(1 << q for q in qs) for qs in itertools.combinations(range(n_qubits), k)]
        V[idx, k] = 1.0 / math.sqrt(math.comb(n_qubits, k))
    return V


def qubit_number_hamiltonian(n_qubits: int) -> np.ndarray:
    """H_h = sum_i sigma_i^+ sigma_i^- on the 2^N space (diagonal: number of ones)."""
    return np.diag([float(bin(x).count("1")) for x in range(2 ** n_qubits)])


def random_unitary(rng: np.random.Generator, dim: int) -> np.ndarray:
    """Haar-random unitary (QR of a complex Ginibre matrix, phases fixed)."""
    z = (rng.standard_normal((dim, dim)) + 1j * rng.standard_normal((dim, dim))) / math.sqrt(2)
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_density_matrix(rng: np.random.Generator, dim: int, rank: int | None = None
                          ) -> np.ndarray:
    """Random density matrix of the given rank (default: full rank)."""
    rank = dim if rank is None else rank
    A = rng.standard_normal((dim, rank)) + 1j * rng.standard_normal((dim, rank))
    rho = A @ A.conj().T
    return rho / np.trace(rho).real


def random_hermitian(rng: np.random.Generator, dim: int) -> np.ndarray:
    A = rng.standard_normal((dim, dim)) + 1j * rng.standard_normal((dim, dim))
    return (A + A.conj().T) / 2


def _unitary_from_params(x: np.ndarray, dim: int) -> np.ndarray:
    """U = exp(iX) with X Hermitian built from dim**2 real parameters."""
    X = np.zeros((dim, dim), dtype=complex)
    iu = np.triu_indices(dim, 1)
    m = len(iu[0])
    X[iu] = x[:m] + 1j * x[m:2 * m]
    X = X + X.conj().T
    X[np.diag_indices(dim)] = x[2 * m:]
    return expm(1j * X)


def brute_force_ergotropy(rho: np.ndarray, H: np.ndarray, rng: np.random.Generator,
                          restarts: int = 4) -> float:
    """max_U Tr(rho H) - Tr(U rho U^dag H) by direct numerical optimisation.

    Knows nothing of the passive-state formula.  The orbit function
    U -> Tr(U rho U^dag H) has no spurious local minima, so BFGS from a few
    random starts finds the global minimum to ~1e-10 in the value."""
    dim = rho.shape[0]
    e0 = float(np.real(np.trace(rho @ H)))

    def energy(x):
        U = _unitary_from_params(x, dim)
        return float(np.real(np.trace(U @ rho @ U.conj().T @ H)))

    best = e0
    for _ in range(restarts):
        x0 = rng.uniform(-math.pi, math.pi, dim * dim)
        res = minimize(energy, x0, method="BFGS", options={"gtol": 1e-10, "maxiter": 5000})
        best = min(best, res.fun)
    return e0 - best


# ----------------------------------------------------------------- fixtures
@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for every test (reproducible, order-independent)."""
    return np.random.default_rng(20220517)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """Point the package's disk cache at an empty temporary folder."""
    folder = tmp_path / "qbcache"
    monkeypatch.setenv("QBHELPERS_CACHE", str(folder))
    return folder


@pytest.fixture
def no_solver(monkeypatch):
    """Make any attempt to build an engine (i.e. to start a solver) fail loudly,
    so a test can check that bad input is rejected before any solver runs."""
    from qbhelpers.engines.base import Engine

    def _forbidden(*args, **kwargs):
        raise AssertionError("a solver engine was built before the input was validated")

    monkeypatch.setattr(Engine, "__init__", _forbidden)


def write_notebook(path: Path, parameters: str | None, body: str, *, title: str | None = None,
                   metadata: dict | None = None) -> Path:
    """A small chapter-like notebook at ``path`` (for the command-line tests):
    an optional markdown title, an optional cell tagged ``parameters`` holding
    ``parameters``, then one code cell ``body``; notebook metadata ``metadata``
    beside the kernelspec."""
    cells = []
    if title is not None:
        cells.append({"id": "title", "cell_type": "markdown", "metadata": {}, "source": title})
    if parameters is not None:
        cells.append({"id": "params", "cell_type": "code", "metadata": {"tags": ["parameters"]},
                      "source": parameters, "outputs": [], "execution_count": None})
    cells.append({"id": "body", "cell_type": "code", "metadata": {}, "source": body,
                  "outputs": [], "execution_count": None})
    meta = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
            **(metadata or {})}
    path.write_text(json.dumps({"cells": cells, "metadata": meta, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path
