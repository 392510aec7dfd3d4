"""The production engine: the master equation in excitation-number blocks.

Basis |n, k⟩ (n photons, k excited qubits, symmetric Dicke states).  The
total excitation number K = n + k is conserved by H = g(aJ₊ + a†J₋); the loss
a lowers it by one and the gain a† raises it by one.  Write ρ in blocks
ρ_{K,K'}: every term of the master equation keeps the offset d = K − K', so
each *sector* d evolves on its own:

* the energies, heat and dE_h/dt need only the sector d = 0;
* the holder state ρ_h[k, k'] needs the sectors d = k − k', |d| ≤ N;
* the charger state needs every sector (only for coherent chargers is it not
  diagonal).

Fock and thermal chargers start (and stay) in sector 0.  Sectors with d < 0
are the Hermitian conjugates of d > 0 and are never stored.

A sector is stored as an array R[b, i, j], b = 0..K_max−d, holding the block
with rows in K = b + d and columns in K' = b, indexed by the qubit excitation
numbers i, j = 0..N (photon numbers n = K − i, n' = K' − j).  Entries whose
photon number falls outside 0..n_cut are kept at zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np


@dataclass(frozen=True)
class Sector:
    """Geometry and coefficients of one offset sector d."""

    d: int
    c_row: np.ndarray  # (nb, N+1) coupling between k=i and i+1 in the row block
    c_col: np.ndarray  # (nb, N+1) same for the column block
    n_row: np.ndarray  # (nb, N+1) photon number of row entry (−1 where invalid)
    n_col: np.ndarray  # (nb, N+1)

    @property
    def shape(self) -> tuple[int, int, int]:
        nb, m = self.c_row.shape
        return nb, m, m


def _block_coefficients(K: np.ndarray, n_qubits: int, n_cut: int, g: float):
    """Couplings and photon numbers for blocks of total excitation K (1-D)."""
    i = np.arange(n_qubits + 1)[None, :]
    n = K[:, None] - i
    valid = (n >= 0) & (n <= n_cut)
    # coupling ⟨n−1, i+1|H|n, i⟩ = g √n √((i+1)(N−i)), both entries valid
    c = g * np.sqrt(np.clip(n, 0, None) * (i + 1.0) * (n_qubits - i))
    c = np.where(valid & (n >= 1), c, 0.0)
    c[:, -1] = 0.0
    return c, np.where(valid, n, -1).astype(np.float64)


def make_sector(d: int, k_max: int, n_qubits: int, n_cut: int, g: float) -> Sector:
    b = np.arange(k_max - d + 1)
    c_row, n_row = _block_coefficients(b + d, n_qubits, n_cut, g)
    c_col, n_col = _block_coefficients(b, n_qubits, n_cut, g)
    return Sector(d, c_row, c_col, n_row, n_col)


@numba.njit(cache=True)
def sector_rhs(R, out, c_row, c_col, n_row, n_col, kappa, n_th, n_cut):
    """dR/dt for one sector (see module docstring)."""
    nb, m, _ = R.shape
    loss = kappa * (n_th + 1.0)
    gain = kappa * n_th
    for b in range(nb):
        for i in range(m):
            nr = n_row[b, i]
            if nr < 0:
                for j in range(m):
                    out[b, i, j] = 0.0
                continue
            cr_lo = c_row[b, i - 1] if i > 0 else 0.0
            cr_hi = c_row[b, i]
            mr = nr + 1.0 if nr < n_cut else 0.0
            for j in range(m):
                nc = n_col[b, j]
                if nc < 0:
                    out[b, i, j] = 0.0
                    continue
                # −i (H R − R H)
                hr = cr_hi * R[b, i + 1, j] if i + 1 < m else 0.0
                if i > 0:
                    hr += cr_lo * R[b, i - 1, j]
                rh = c_col[b, j] * R[b, i, j + 1] if j + 1 < m else 0.0
                if j > 0:
                    rh += c_col[b, j - 1] * R[b, i, j - 1]
                acc = -1j * (hr - rh)
                mc = nc + 1.0 if nc < n_cut else 0.0
                acc -= (loss * (nr + nc) + gain * (mr + mc)) * R[b, i, j]
                if b + 1 < nb:  # a ρ a† from the blocks one excitation up
                    acc += 2.0 * loss * np.sqrt((nr + 1.0) * (nc + 1.0)) * R[b + 1, i, j]
                if gain > 0.0 and b > 0:  # a† ρ a from the blocks one excitation down
                    acc += 2.0 * gain * np.sqrt(nr * nc) * R[b - 1, i, j]
                out[b, i, j] = acc


@numba.njit(cache=True)
def sector0_observables(R, c_row, n_row, n_cut):
    """trace, E_h, E_c, dE_h/dt·(1/g-free), top-level population of sector 0.

    dE_h/dt = 2 Σ_K Σ_i c_K[i] Im ρ_K[i, i+1] (c includes g).
    """
    nb, m, _ = R.shape
    tr = 0.0
    eh = 0.0
    ec = 0.0
    de = 0.0
    top = 0.0
    for b in range(nb):
        for i in range(m):
            n = n_row[b, i]
            if n < 0:
                continue
            p = R[b, i, i].real
            tr += p
            eh += i * p
            ec += n * p
            if n == n_cut:
                top += p
            if i + 1 < m:
                de += 2.0 * c_row[b, i] * R[b, i, i + 1].imag
    return tr, eh, ec, de, top


@numba.njit(cache=True)
def sector_holder_diagonal(R, d):
    """ρ_h[i, i−d] = Σ_b R[b, i, i−d] for i = d..N."""
    nb, m, _ = R.shape
    out = np.zeros(m - d, dtype=np.complex128)
    for b in range(nb):
        for i in range(d, m):
            out[i - d] += R[b, i, i - d]
    return out


@numba.njit(cache=True)
def sector_charger_diagonal(R, d, n_row, n_cut):
    """ρ_c[n, n−d] = Σ_b Σ_i R[b, i, i] with n = K − i the row photon number."""
    nb, m, _ = R.shape
    out = np.zeros(n_cut + 1 - d, dtype=np.complex128)
    for b in range(nb):
        for i in range(m):
            n = n_row[b, i]
            if n < d or n < 0:
                continue
            out[int(n) - d] += R[b, i, i]
    return out


def place_band(rho: np.ndarray, band: np.ndarray, d: int) -> None:
    """Write the band ρ[i, i−d] = band[..., i−d] (i = d, d+1, …) into ``rho``
    (shape (..., M, M)), and its Hermitian conjugate ρ[i−d, i] when d > 0."""
    idx = np.arange(d, d + band.shape[-1])
    rho[..., idx, idx - d] = band
    if d > 0:
        rho[..., idx - d, idx] = np.conj(band)
