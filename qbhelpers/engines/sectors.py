"""Excitation-number sectors: the geometry shared by the two sector engines.

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
photon number falls outside 0..n_cut are kept at zero.  The Chebyshev engine
propagates a sector d > 0 stored transposed, R[b, j, i] (see
:meth:`Sector.transpose`): the same entries, with the longer side of each
block in the kernel's inner loop.

:class:`SectorLayout` holds this geometry for one setup: the sectors'
coefficients and the initial sector arrays, for charging (charger state ⊗
ground state) and discharging (empty charger ⊗ a holder state).  The
Runge–Kutta and Chebyshev engines both build on it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..physics.states import charger_amplitudes, photon_distribution
from .base import Setup


@dataclass(frozen=True)
class Sector:
    """Geometry and coefficients of one offset sector d."""

    d: int
    c_row: np.ndarray  # (nb, N+1) coupling between k=i and i+1 in the row block
    c_col: np.ndarray  # (nb, N+1) same for the column block
    n_row: np.ndarray  # (nb, N+1) photon number of row entry (−1 where invalid)
    n_col: np.ndarray  # (nb, N+1)
    #: stored as the transpose: block b holds rows in K' = b and columns in
    #: K = b + d (see :meth:`transpose`)
    transposed: bool = False

    @property
    def shape(self) -> tuple[int, int, int]:
        nb, m = self.c_row.shape
        return nb, m, m

    @property
    def photons(self) -> np.ndarray:
        """Photon numbers of the rows of the *untransposed* blocks (K = b + d)."""
        return self.n_col if self.transposed else self.n_row

    def transpose(self) -> "Sector":
        """The same sector stored as the transpose of each block, R[b, j, i].

        In the real gauge this is sector −d (ρ_{−d} = ρ_d†, and the gauged
        entries are real), which evolves under the same generator with the row
        and column geometry exchanged.  For d > 0 the column block K' = b has
        fewer states than the row block K = b + d (while K' < N), so the
        transposed rows are the long ones: the sweep's inner loop is longer
        and the Chebyshev engine runs faster on it (the kernel's cost per row is
        about that of 25 entries)."""
        return Sector(self.d, self.c_col, self.c_row, self.n_col, self.n_row,
                      not self.transposed)


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


class SectorLayout:
    """The sectors of one setup and its initial state, sector by sector.

    ``holder`` (optional) is a Dicke-basis holder state to discharge into an
    empty charger; without it the battery charges from the setup's charger
    state with every qubit in its ground state.
    """

    def __init__(self, setup: Setup, holder: np.ndarray | None = None):
        self.setup = setup
        self.holder = holder
        # at n_th = 0 the excitation number never exceeds its initial maximum
        self.k_max = setup.n_cut if setup.n_th == 0 else setup.n_cut + setup.n_qubits
        self._sectors: dict[int, Sector] = {}

    def sector(self, d: int) -> Sector:
        if d not in self._sectors:
            s = self.setup
            self._sectors[d] = make_sector(d, self.k_max, s.n_qubits, s.n_cut, s.g)
        return self._sectors[d]

    @property
    def coherent(self) -> bool:
        """Does the initial state fill sectors other than 0?

        Charging: only a coherent charger does.  Discharging (empty charger):
        only a holder state with coherences ρ_h[k, k'], k ≠ k', does; a
        diagonal one (a Fock or thermal charge, stored or not) leaves every
        other sector exactly zero at all times, so they are not propagated."""
        if self.holder is not None:
            h = np.asarray(self.holder)
            return bool(np.any(h[~np.eye(h.shape[0], dtype=bool)] != 0))
        return self.setup.charger == "coherent"

    def offsets(self, which: str = "energy") -> range:
        """The sectors d an initial state fills and a run needs: ``"energy"``
        sector 0 only (energies, heat, dE_h/dt), ``"holder"`` every sector the
        holder state needs (d ≤ N), ``"charger"`` also those the charger state
        needs (d ≤ n_cut)."""
        s = self.setup
        if which == "energy" or not self.coherent:
            return range(1)
        if which == "holder":
            return range(min(s.n_qubits, self.k_max) + 1)
        if which == "charger":
            top = max(s.n_qubits, s.n_cut) if self.holder is None else s.n_qubits
            return range(min(top, self.k_max) + 1)
        raise ValueError(f"which must be 'energy', 'holder' or 'charger', got {which!r}")

    def initial_sectors(self, which: str = "energy") -> dict[int, np.ndarray]:
        """The initial sector arrays (complex, unpadded) of :meth:`offsets`."""
        return {d: self._dense(d) for d in self.offsets(which)}

    def _dense(self, d: int) -> np.ndarray:
        R = np.zeros(self.sector(d).shape, dtype=complex)
        b, i, j, values = self.initial_entries(d)
        R[b, i, j] = values
        return R

    def initial_entries(self, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The nonzero entries (b, i, j, value) of the initial sector d.

        Charging (charger state ⊗ ground state): with no excited qubit K = n,
        so ρ_c[b + d, b] sits at (b, 0, 0).  Discharging (empty charger ⊗ ρ_h):
        entry (n=0, k) ⊗ (n=0, k') sits in block K = k, K' = k', i.e. sector
        d = k − k' at (k', k, k')."""
        s = self.setup
        nb = self.sector(d).shape[0]
        if self.holder is not None:
            b = np.arange(0, min(s.n_qubits - d, nb - 1) + 1)
            return b, b + d, b, np.asarray(self.holder[b + d, b], dtype=complex)
        b = np.arange(max(0, min(nb, s.n_cut + 1 - d)))
        zero = np.zeros(b.size, dtype=int)
        if s.charger == "coherent":
            c = charger_amplitudes(s.mean_photons, s.n_cut)
            values = c[b + d] * c[b]
        elif d == 0:
            values = photon_distribution(s.charger, s.mean_photons, s.n_cut)[b]
        else:
            values = np.zeros(b.size)
        keep = values != 0
        return b[keep], zero[keep], zero[keep], values[keep].astype(complex)

    def holder_state(self, state: dict[int, np.ndarray]) -> np.ndarray:
        """ρ_h (Dicke basis) from unpadded sector arrays."""
        N = self.setup.n_qubits
        rho = np.zeros((N + 1, N + 1), dtype=complex)
        for d, R in state.items():
            if d <= N:
                place_band(rho, sector_holder_diagonal(R, d), d)
        return rho

    def charger_state(self, state: dict[int, np.ndarray]) -> np.ndarray:
        """ρ_c (Fock basis 0..n_cut) from unpadded sector arrays."""
        n_cut = self.setup.n_cut
        rho = np.zeros((n_cut + 1, n_cut + 1), dtype=complex)
        for d, R in state.items():
            if d <= n_cut:
                place_band(rho, sector_charger_diagonal(R, d, self.sector(d).n_row, n_cut), d)
        return rho


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


def sector_state_size(setup: Setup) -> int:
    """Entries of the largest state a sector engine holds: every sector the
    charger state needs (sector 0 alone for Fock and thermal chargers)."""
    N = setup.n_qubits
    k_max = setup.n_cut if setup.n_th == 0 else setup.n_cut + N
    d_max = min(max(N, setup.n_cut), k_max) if setup.charger == "coherent" else 0
    return sum((k_max - d + 1) * (N + 1) ** 2 for d in range(d_max + 1))
