"""Storage of N qubits under local decay and dephasing, in the total-spin basis (SPEC §9).

During storage every qubit has its own environment:

    dρ/dt = γ_↓ Σ_i D[σ_i⁻]ρ + (γ_φ/2) Σ_i D[σ_i^z]ρ,   D[L]ρ = LρL† − ½{L†L, ρ}

(γ_↓ = ``gamma_decay``, γ_φ = ``gamma_dephasing``, both in units of g, like all
times here; energies are in ħω).  One qubit's excited population decays at γ_↓
and its coherence at γ_↓/2 + γ_φ.

The jump operators act on one qubit each, so they are not permutation
symmetric, but the sum over i is: a state that is invariant under permutations
of the qubits stays invariant.  By Schur–Weyl duality such a state is block
diagonal in the total spin J = N/2, N/2 − 1, …, (1/2 or 0),

    ρ = ⊕_J ρ_J ⊗ 1_{d_J},

one (2J+1)×(2J+1) matrix ρ_J acting on the ladder ``|J, M⟩``, repeated on the d_J
degenerate copies of spin J (d_J = N!(2J+1)/((N/2+J+1)!(N/2−J)!)).  The memory
and the cost grow as N³ instead of 4^N.  This is the structure of
``qutip.piqs`` (Shammah, Ahmed, Lambert, De Liberato, Nori, PRA 98, 063815
(2018)), written again here in double precision (piqs's ``Dicke`` class
computes its coefficients in single precision) and with the block layout below.

Conventions of this module
--------------------------
* A block is keyed by the integer ``j2`` = 2J (never by a float J).
* Inside a block the basis is ordered by ``k`` = J + M = 0 … 2J, the number of
  excitations *within* the ladder.  The qubit energy of ``|J, M⟩`` is
  N/2 + M = (N − j2)/2 + k, in units of ħω.
* Normalisation: a block stores σ_J = d_J ρ_J, the block summed over its d_J
  identical copies.  Then Σ_J Tr σ_J = 1, the weight of spin J is
  p_J = Tr σ_J, and σ_J / p_J is a normalised state of one (2J+1)-level ladder
  (what a collective process, which conserves J, sees).  ``qutip.piqs`` uses
  the same normalisation.  The per-copy block is ρ_J = σ_J / d_J.
* Vector layout (``to_vector``, :func:`storage_generator`): the blocks one
  after the other, j2 = N, N − 2, …, each flattened row-major in (k, k').
  Length Σ_J (2J+1)² ≈ N³/6.

The storage generator
---------------------
For a block entry (J, M, M') the anticommutator parts are collective and act
in place: Σ_i σ_i⁺σ_i⁻ = N/2 + J_z gives −(γ_↓/2)(N + M + M'), and
Σ_i (σ_i^z)² = N gives −(γ_φ/2) N.  The jump parts Σ_i L_i ρ L_i† send the
entry to the same J and to J ± 1 (removing one spin-½ from the coupled state
and adding it back changes J by at most 1); emission also lowers M and M' by
one, dephasing keeps them.  With n = N/2 the coefficients, source → target, are

    emission, (J, M, M') → (J, M−1, M'−1):
        (γ_↓/2) √[(J+M)(J−M+1)(J+M')(J−M'+1)] · (n+1)/(J(J+1))
    emission, (J, M, M') → (J−1, M−1, M'−1):
        (γ_↓/2) √[(J+M)(J+M−1)(J+M')(J+M'−1)] · (n+J+1)/(J(2J+1))
    emission, (J, M, M') → (J+1, M−1, M'−1):
        (γ_↓/2) √[(J−M+1)(J−M+2)(J−M'+1)(J−M'+2)] · (n−J)/((J+1)(2J+1))
    dephasing, (J, M, M') → (J, M, M'):
        γ_φ · M M' (n+1)/(J(J+1))        (0 at J = 0)
    dephasing, (J, M, M') → (J−1, M, M'):
        γ_φ · √[(J²−M²)(J²−M'²)] · (n+J+1)/(J(2J+1))
    dephasing, (J, M, M') → (J+1, M, M'):
        γ_φ · √[((J+1)²−M²)((J+1)²−M'²)] · (n−J)/((J+1)(2J+1))

(Shammah et al. 2018, their local emission and local dephasing terms, with
their γ_E = γ_↓ and γ_D = 2γ_φ.)  The tests rebuild the 2^N master equation
for N ≤ 4 and agree with these to rounding.

Two exact symmetries make the propagation cheap:

* every term conserves the coherence order q = M − M' = k − k', so the
  generator is block diagonal in q and a sector that is empty at t = 0 stays
  empty (a Fock-charged holder is diagonal: only q = 0 is propagated);
* the coefficients are real and symmetric in M ↔ M', so the q < 0 entries are
  the complex conjugates of the q > 0 ones and only q ≥ 0 is propagated.

Propagation is Al-Mohy and Higham's truncated Taylor series with scaling
(SIAM J. Sci. Comput. 33, 488 (2011), the algorithm behind
``scipy.sparse.linalg.expm_multiply``), written out here so that its
parameters come from the exact 1-norm of the shifted generator, computed once,
instead of norm estimates of its powers redone at every output time (which
took longer than the propagation itself).  Each sub-step has a backward error
below the unit roundoff 2⁻⁵³; the tests agree with a dense ``expm`` of the 2^N
master equation to ~1e-15.

Cost.  The generator has at most 6 non-zeros per column on Σ_J (2J+1)² ≈ N³/6
rows (about N²/4 rows per coherence order), and the number of products grows
as ‖A − μ‖₁ t (μ the mean of the diagonal), of order (γ_↓ + γ_φ) N t
(measured: 1.5 γ_↓ N t for decay alone, 0.5 γ_φ N t for dephasing alone).  A diagonal
holder (Fock charger) costs ~ N³ γt operations, one with every coherence order
populated ~ N⁴ γt.  Measured (one core, γ_↓ t = 1 with γ_φ t = 0.5, complex
coherences): N = 64 in 0.03 s (diagonal) and 0.2 s (all orders), N = 128 in
0.1 s and 2–4 s; see benchmarks/bench_storage.py.  A real state (a coherent
charger with real α) is propagated in real arithmetic, about twice as fast.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

#: Tolerance on the input state: anti-Hermitian part, |trace − 1| and the most
#: negative eigenvalue of any block may not exceed this.  States produced by
#: the charging solvers (tolerances ~1e-10, photon tail < 1e-10) pass it.
STATE_TOLERANCE = 1e-8


# ------------------------------------------------------------- validation
def _check_n_qubits(n_qubits: Any) -> int:
    """``n_qubits`` as an int, after checking that it is a positive integer."""
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, numbers.Integral):
        raise TypeError(f"n_qubits must be a positive integer (number of qubits), got {n_qubits!r}")
    n = int(n_qubits)
    if n < 1:
        raise ValueError(f"n_qubits must be a positive integer (>= 1), got {n}")
    return n


def _check_rate(name: str, value: Any) -> float:
    """A finite, non-negative real number (a rate, in units of g)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number >= 0 (a rate in units of g), got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite real number >= 0 (a rate in units of g), "
                         f"got {v}")
    return v


def _check_times(name: str, times: Any) -> np.ndarray:
    """A non-empty 1-D array of finite, non-negative, non-decreasing times (units of 1/g)."""
    if isinstance(times, numbers.Real) and not isinstance(times, bool):
        times = [times]
    try:
        t = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be real numbers (times in units of 1/g), got {times!r}") \
            from None
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of times, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {times!r}")
    if np.any(t < 0):
        raise ValueError(f"{name} must be >= 0 (storage starts at t = 0), got min {t.min()}")
    if np.any(np.diff(t) < 0):
        raise ValueError(f"{name} must be non-decreasing")
    return t


def _check_hermitian_block(name: str, block: np.ndarray) -> None:
    """Refuse a block whose anti-Hermitian part exceeds ``STATE_TOLERANCE``."""
    anti = float(np.max(np.abs(block - block.conj().T)))
    if anti > STATE_TOLERANCE:
        raise ValueError(f"{name} is not Hermitian: max |A - A^dag| = {anti:.3g} "
                         f"(tolerance {STATE_TOLERANCE:g})")


# ------------------------------------------------------ total-spin bookkeeping
def j2_values(n_qubits: int) -> tuple[int, ...]:
    """The allowed values of 2J for N spins-½, descending: N, N − 2, …, 1 or 0."""
    n = _check_n_qubits(n_qubits)
    return tuple(range(n, -1, -2))


def spin_degeneracy(n_qubits: int, j2: int) -> int:
    """d_J, the number of copies of spin J = j2/2 in N spins-½ (an exact int).

    d_J = N! (2J+1) / ((N/2 + J + 1)! (N/2 − J)!) = C(N, N/2 − J) − C(N, N/2 − J − 1),
    computed with Python integers, so any N works (d_J ~ 2^N / N for J ~ √N).
    """
    n = _check_n_qubits(n_qubits)
    if isinstance(j2, bool) or not isinstance(j2, numbers.Integral):
        raise TypeError(f"j2 must be an integer (twice the total spin), got {j2!r}")
    j2 = int(j2)
    if not (0 <= j2 <= n and (n - j2) % 2 == 0):
        raise ValueError(f"j2 = 2J must be one of {n}, {n - 2}, ..., >= 0 for n_qubits={n}; "
                         f"got {j2}")
    lower = (n - j2) // 2                      # N/2 − J: qubits paired into singlets
    return math.comb(n, lower) - (math.comb(n, lower - 1) if lower >= 1 else 0)


def block_offsets(n_qubits: int) -> dict[int, int]:
    """Start of each block (key j2) in the vectorised state; see the module's layout."""
    offsets, start = {}, 0
    for j2 in j2_values(n_qubits):
        offsets[j2] = start
        start += (j2 + 1) ** 2
    return offsets


def vector_length(n_qubits: int) -> int:
    """Σ_J (2J+1)², the length of the vectorised block state (≈ N³/6)."""
    return sum((j2 + 1) ** 2 for j2 in j2_values(n_qubits))


# --------------------------------------------------------------- the state
@dataclass(frozen=True, eq=False)
class PermutationInvariantState:
    """A state of N qubits invariant under their permutations, as total-spin blocks.

    ``blocks[j2]`` is σ_J, the (2J+1)×(2J+1) block of spin J = j2/2 summed over its
    d_J copies, in the basis k = J + M = 0 … 2J (qubit energy (N − j2)/2 + k, in ħω).
    Σ_J Tr σ_J = 1.  Every allowed j2 is present (blocks not given are zero); the
    arrays are read-only.  Construction checks the state (Hermitian, trace 1,
    positive, each to ``STATE_TOLERANCE``) and keeps the Hermitian part.

    Build one with :meth:`from_dicke` (a symmetric holder state, as the charging
    solvers return), :meth:`from_blocks` or :meth:`from_vector`.
    """

    n_qubits: int
    blocks: Mapping[int, np.ndarray]

    def __post_init__(self) -> None:
        n = _check_n_qubits(self.n_qubits)
        if not isinstance(self.blocks, Mapping):
            raise TypeError(f"blocks must be a mapping j2 -> (j2+1)x(j2+1) array, "
                            f"got {type(self.blocks).__name__}")
        allowed = j2_values(n)
        extra = [key for key in self.blocks if key not in allowed]
        if extra:
            raise ValueError(f"blocks has keys {extra} that are not allowed values of j2 = 2J "
                             f"for n_qubits={n} (allowed: {n}, {n} - 2, ..., {allowed[-1]})")
        clean: dict[int, np.ndarray] = {}
        total_trace = 0.0
        for j2 in allowed:
            if j2 in self.blocks:
                try:
                    block = np.array(self.blocks[j2], dtype=complex)
                except (TypeError, ValueError):
                    raise TypeError(f"blocks[{j2}] must be a complex matrix") from None
                if block.shape != (j2 + 1, j2 + 1):
                    raise ValueError(f"blocks[{j2}] must have shape {(j2 + 1, j2 + 1)} "
                                     f"(2J+1 = {j2 + 1}), got {block.shape}")
                if not np.all(np.isfinite(block)):
                    raise ValueError(f"blocks[{j2}] contains NaN or inf")
                _check_hermitian_block(f"blocks[{j2}]", block)
                block = 0.5 * (block + block.conj().T)
            else:
                block = np.zeros((j2 + 1, j2 + 1), dtype=complex)
            smallest = float(np.linalg.eigvalsh(block)[0])
            if smallest < -STATE_TOLERANCE:
                raise ValueError(f"blocks[{j2}] is not positive semidefinite: smallest "
                                 f"eigenvalue {smallest:.3g} (tolerance {STATE_TOLERANCE:g})")
            total_trace += float(np.trace(block).real)
            block.setflags(write=False)
            clean[j2] = block
        if abs(total_trace - 1.0) > STATE_TOLERANCE:
            raise ValueError(f"the state is not normalised: sum of the block traces = "
                             f"{total_trace!r} (must be 1 within {STATE_TOLERANCE:g})")
        object.__setattr__(self, "n_qubits", n)
        object.__setattr__(self, "blocks", MappingProxyType(clean))

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_dicke(cls, rho_dicke: Any) -> PermutationInvariantState:
        """The state of a holder that lives in the symmetric (Dicke) subspace.

        ``rho_dicke`` is (N+1)×(N+1) in the Dicke basis (``|k⟩``, k = 0 … N excited
        qubits; what :func:`qbhelpers.charge` returns as ``holder_states``); a
        ``qutip.Qobj`` is accepted.  It lands entirely in J = N/2, where
        k = J + M and d_J = 1, so σ_{N/2} is the same matrix.
        """
        if hasattr(rho_dicke, "full"):
            rho_dicke = rho_dicke.full()
        try:
            rho = np.array(rho_dicke, dtype=complex)
        except (TypeError, ValueError):
            raise TypeError("rho_dicke must be a square complex matrix (Dicke basis)") from None
        if rho.ndim != 2 or rho.shape[0] != rho.shape[1] or rho.shape[0] < 2:
            raise ValueError(f"rho_dicke must be a square (N+1)x(N+1) matrix with N >= 1, "
                             f"got shape {rho.shape}")
        n = rho.shape[0] - 1
        return cls(n, {n: rho})

    @classmethod
    def from_blocks(cls, n_qubits: int, blocks: Mapping[int, Any]) -> PermutationInvariantState:
        """From σ_J blocks (summed normalisation) keyed by j2; missing blocks are zero."""
        return cls(n_qubits, dict(blocks))

    @classmethod
    def from_vector(cls, n_qubits: int, vector: Any) -> PermutationInvariantState:
        """From the vectorised layout of the module docstring (length Σ_J (2J+1)²)."""
        n = _check_n_qubits(n_qubits)
        v = np.asarray(vector, dtype=complex)
        if v.shape != (vector_length(n),):
            raise ValueError(f"vector must have shape ({vector_length(n)},) for n_qubits={n}, "
                             f"got {v.shape}")
        offsets = block_offsets(n)
        return cls(n, {j2: v[o:o + (j2 + 1) ** 2].reshape(j2 + 1, j2 + 1)
                       for j2, o in offsets.items()})

    def to_vector(self) -> np.ndarray:
        """The blocks flattened one after the other (layout of the module docstring)."""
        return np.concatenate([b.ravel() for b in self.blocks.values()])

    # ---------------------------------------------------------- observables
    @property
    def block_weights(self) -> dict[int, float]:
        """p_J = Tr σ_J for every j2 (descending), the probability of total spin J = j2/2."""
        return {j2: float(np.trace(b).real) for j2, b in self.blocks.items()}

    @property
    def symmetric_weight(self) -> float:
        """p_{N/2}, the weight of the symmetric (Dicke) subspace."""
        return float(np.trace(self.blocks[self.n_qubits]).real)

    @property
    def energy(self) -> float:
        """Holder energy E = ⟨Σ_i σ_i⁺σ_i⁻⟩, in ħω."""
        return float(self.energy_distribution @ np.arange(self.n_qubits + 1))

    @property
    def trapped_energy(self) -> float:
        """E_trap = ⟨N/2 − Ĵ⟩ = Σ_J (N/2 − J) p_J, in ħω (SPEC §9).

        The energy no collective (J-conserving) process can remove: a block J
        goes down at most to M = −J, qubit energy N/2 − J.
        """
        return float(sum((self.n_qubits - j2) / 2 * p for j2, p in self.block_weights.items()))

    @property
    def energy_distribution(self) -> np.ndarray:
        """The probability P(e) that e = 0 … N qubits are excited (summed over blocks)."""
        n = self.n_qubits
        dist = np.zeros(n + 1)
        for j2, b in self.blocks.items():
            low = (n - j2) // 2
            dist[low:low + j2 + 1] += np.diag(b).real
        return dist

    @property
    def ergotropy(self) -> float:
        """Ergotropy over all unitaries of the N qubits, in ħω (never negative).

        The spectrum of ρ is every eigenvalue of each per-copy block
        ρ_J = σ_J/d_J, repeated d_J times; the 2^N levels of H_h = Σσ⁺σ⁻ are
        e = 0 … N with multiplicity C(N, e).  See :func:`ergotropy_all_unitaries`.
        """
        return ergotropy_all_unitaries(self)

    def per_copy_block(self, j2: int) -> np.ndarray:
        """ρ_J = σ_J / d_J, the block acting on one copy of spin J = j2/2."""
        return self.blocks[self._key(j2)] / spin_degeneracy(self.n_qubits, j2)

    def ladder_state(self, j2: int) -> np.ndarray:
        """The normalised state σ_J / p_J of one (2J+1)-level ladder ``|J, M⟩``, k = J + M.

        This is what a J-conserving (collective) discharge acts on, with weight
        p_J.  Raises ``ValueError`` if p_J = 0 (there is no such state).
        """
        key = self._key(j2)
        weight = float(np.trace(self.blocks[key]).real)
        if weight <= 0.0:
            raise ValueError(f"block j2={key} has weight {weight!r}: no ladder state to normalise")
        return self.blocks[key] / weight

    def _key(self, j2: int) -> int:
        if j2 not in self.blocks:
            raise ValueError(f"j2 must be one of {tuple(self.blocks)} for n_qubits="
                             f"{self.n_qubits}, got {j2!r}")
        return int(j2)


def ergotropy_all_unitaries(state: PermutationInvariantState) -> float:
    """Ergotropy of a permutation-invariant state over all unitaries of the N qubits (ħω).

    ℰ = E − Σ_k r_k↓ ε_k↑, done on runs instead of the 2^N list: an eigenvalue
    μ of σ_J stands for d_J eigenvalues μ/d_J of ρ (a run of mass μ); the
    levels e = 0 … N are runs of C(N, e) states.  Runs of eigenvalues, sorted
    by μ/d_J descending (compared through logarithms, so that huge d_J do not
    underflow), fill the levels from e = 0 upwards; a run cut between levels
    hands each level the mass μ · (count/d_J), a fraction of μ computed from
    exact integers.  The masses never exceed the μ they come from, so rounding
    stays at the level of the eigenvalue solver (≈ 1e-15 N).  Eigenvalues below
    zero (rounding) are clipped to 0; zero runs take the top levels and add
    nothing.
    """
    n = state.n_qubits
    runs = []                           # (log of the per-state value, mass μ, count d_J)
    for j2, block in state.blocks.items():
        eig = np.linalg.eigvalsh(block)
        d = spin_degeneracy(n, j2)
        log_d = math.log(d)
        for mu in eig:
            mu = float(mu)
            if mu > 0.0:
                runs.append((math.log(mu) - log_d, mu, d))
    runs.sort(key=lambda r: r[0], reverse=True)
    passive = 0.0
    level, room = 0, 1                  # current level e and its free states C(N, e)
    for _, mu, count in runs:
        left = count
        while left > 0:
            take = min(left, room)
            passive += level * (mu * (take / count)) if take != count else level * mu
            left -= take
            room -= take
            if room == 0:
                level += 1
                if level > n and left > 0:      # Σ_J (2J+1) d_J = 2^N: cannot happen
                    raise RuntimeError("more eigenvalues than the 2^N states")
                room = math.comb(n, level)
    return max(state.energy - passive, 0.0)


# ------------------------------------------------------------- the generator
def _check_generator_inputs(n_qubits: Any, gamma_decay: Any, gamma_dephasing: Any
                            ) -> tuple[int, float, float]:
    return (_check_n_qubits(n_qubits), _check_rate("gamma_decay", gamma_decay),
            _check_rate("gamma_dephasing", gamma_dephasing))


def _entry_coordinates(n_qubits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every vector entry: j2, k and k' (integer arrays in the vector layout)."""
    j2s, ks, kps = [], [], []
    for j2 in j2_values(n_qubits):
        k, kp = np.divmod(np.arange((j2 + 1) ** 2), j2 + 1)
        j2s.append(np.full(k.size, j2))
        ks.append(k)
        kps.append(kp)
    return np.concatenate(j2s), np.concatenate(ks), np.concatenate(kps)


def storage_generator(n_qubits: int, gamma_decay: float = 0.0, gamma_dephasing: float = 0.0
                      ) -> sp.csr_array:
    """The storage master equation of SPEC §9 on the vectorised block state.

    Returns the real sparse matrix A with d(vec σ)/dt = A vec σ, in the layout of
    the module docstring (blocks j2 = N, N−2, …, each row-major in (k, k')).
    Rates in units of g.  At most 6 non-zeros per column on Σ_J (2J+1)² ≈ N³/6
    rows; the coefficients are listed in the module docstring.
    """
    n, gd, gp = _check_generator_inputs(n_qubits, gamma_decay, gamma_dephasing)
    j2, k, kp = _entry_coordinates(n)
    rows, cols, vals = _generator_triplets(n, gd, gp, j2, k, kp)
    return sp.csr_array((vals, (rows, cols)), shape=(j2.size, j2.size))


def _generator_triplets(n: int, gd: float, gp: float, j2: np.ndarray, k: np.ndarray,
                        kp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero entries of the generator in the columns of the given source entries.

    ``j2, k, kp``: coordinates of the source entries (any subset closed under the
    dynamics, e.g. some coherence orders).  Returns (target index in the full
    vector layout, position of the source in the given arrays, coefficient).
    """
    half = n / 2.0
    offsets = block_offsets(n)
    base = np.array([offsets.get(x, -1) for x in range(n + 1)])
    J = j2 / 2.0
    M = k - J
    Mp = kp - J
    source = np.arange(j2.size)
    rows, cols, vals = [], [], []

    def add(mask: np.ndarray, t_j2: np.ndarray, t_k: np.ndarray, t_kp: np.ndarray,
            coeff: np.ndarray) -> None:
        mask = mask & (coeff != 0.0)
        if np.any(mask):
            t_j2 = t_j2[mask]
            rows.append(base[t_j2] + t_k[mask] * (t_j2 + 1) + t_kp[mask])
            cols.append(source[mask])
            vals.append(coeff[mask])

    with np.errstate(divide="ignore", invalid="ignore"):
        jj1 = np.where(J > 0, J * (J + 1), np.inf)          # J(J+1); 1/inf = 0 at J = 0
        # diagonal: anticommutators, plus the same-J part of the dephasing jump
        diag = -(gd / 2.0) * (n + M + Mp) - gp * half + gp * M * Mp * (half + 1) / jj1
        add(np.ones(j2.size, bool), j2, k, kp, diag)
        if gd > 0.0:
            # emission, same J: (J, M, M') -> (J, M-1, M'-1), i.e. k -> k-1
            c = (gd / 2.0) * np.sqrt((J + M) * (J - M + 1) * (J + Mp) * (J - Mp + 1)) \
                * (half + 1) / jj1
            add((k >= 1) & (kp >= 1), j2, k - 1, kp - 1, c)
            # emission, J -> J-1: k = J+M -> (J-1)+(M-1) = k-2
            c = (gd / 2.0) * np.sqrt((J + M) * (J + M - 1) * (J + Mp) * (J + Mp - 1)) \
                * (half + J + 1) / (J * (2 * J + 1))
            add((j2 >= 2) & (k >= 2) & (kp >= 2), j2 - 2, k - 2, kp - 2, c)
            # emission, J -> J+1: k = J+M -> (J+1)+(M-1) = k
            c = (gd / 2.0) * np.sqrt((J - M + 1) * (J - M + 2) * (J - Mp + 1) * (J - Mp + 2)) \
                * (half - J) / ((J + 1) * (2 * J + 1))
            add(j2 + 2 <= n, j2 + 2, k, kp, c)
        if gp > 0.0:
            # dephasing, J -> J-1: k = J+M -> (J-1)+M = k-1
            c = gp * np.sqrt((J * J - M * M) * (J * J - Mp * Mp)) \
                * (half + J + 1) / (J * (2 * J + 1))
            add((j2 >= 2) & (k >= 1) & (kp >= 1) & (k <= j2 - 1) & (kp <= j2 - 1),
                j2 - 2, k - 1, kp - 1, c)
            # dephasing, J -> J+1: k -> (J+1)+M = k+1
            c = gp * np.sqrt(((J + 1) ** 2 - M * M) * ((J + 1) ** 2 - Mp * Mp)) \
                * (half - J) / ((J + 1) * (2 * J + 1))
            add(j2 + 2 <= n, j2 + 2, k + 1, kp + 1, c)
    if not rows:            # e.g. one qubit, dephasing only, no coherence: nothing moves
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


# Al-Mohy & Higham, SIAM J. Sci. Comput. 33, 488 (2011), Table 3.1: θ_m such that
# the degree-m Taylor polynomial of exp(X) v has backward error <= 2^-53 when
# ‖X‖₁ <= θ_m (double precision).
_TAYLOR_THETA = {5: 2.40e-3, 10: 1.44e-1, 15: 6.41e-1, 20: 1.44, 25: 2.43, 30: 3.54,
                 35: 4.7, 40: 6.0, 45: 7.2, 50: 8.5, 55: 9.9}


def _taylor_parameters(norm: float) -> tuple[int, int]:
    """(m, s): Taylor degree and number of sub-steps, norm/s <= θ_m, m·s smallest."""
    if norm == 0.0:
        return 0, 1
    return min(((m, max(1, math.ceil(norm / theta))) for m, theta in _TAYLOR_THETA.items()),
               key=lambda ms: (ms[0] * ms[1], ms[0]))


def _expm_multiply_shifted(shifted: sp.csr_array, shift: float, norm1: float,
                           vector: np.ndarray, dt: float) -> np.ndarray:
    """exp(dt (shifted + shift·1)) · vector, by Al-Mohy and Higham's Algorithm 3.2.

    ``shifted`` = A − shift·1 with 1-norm ``norm1`` (computed exactly, not
    estimated: an upper bound of every ‖X^p‖^{1/p} the algorithm needs), so s
    sub-steps of a degree-m Taylor series each have backward error <= 2^-53;
    a sub-step's series stops early once two consecutive terms are below
    2^-53 of the partial sum (infinity norm), as in the paper.
    """
    m, s = _taylor_parameters(norm1 * dt)
    h = dt / s
    growth = math.exp(shift * h)
    tol = 2.0 ** -53
    result = vector
    for _ in range(s):
        term = result
        previous = float(np.max(np.abs(term), initial=0.0))
        for j in range(1, m + 1):
            term = (h / j) * (shifted @ term)
            result = result + term
            current = float(np.max(np.abs(term), initial=0.0))
            if previous + current <= tol * float(np.max(np.abs(result), initial=0.0)):
                break
            previous = current
        result = growth * result
    return result


def storage_work(n_qubits: int, gamma_decay: float, gamma_dephasing: float,
                 storage_time: float, coherences: bool = True) -> tuple[float, float]:
    """(memory in bytes, nonzero-times-vector products) that storing an
    ``n_qubits`` holder for ``storage_time`` will need, bounded before
    anything is built: the generator has at most 6 nonzeros per column on
    the propagated entries (all coherence orders with ``coherences``, the
    populations alone otherwise), its 1-norm is at most 4 (γ_↓ + 2γ_φ) N, and
    the Taylor method takes m·s products for a norm·time of that size."""
    entries = vector_length(n_qubits) if coherences else sum(j + 1 for j in j2_values(n_qubits))
    norm = 4.0 * (gamma_decay + 2.0 * gamma_dephasing) * n_qubits * storage_time
    m, s = _taylor_parameters(norm)
    nonzeros = 6.0 * entries
    memory = nonzeros * 24.0 + entries * 16.0 * 6
    return memory, nonzeros * m * s


# ------------------------------------------------------------- propagation
def _as_state(state: Any) -> PermutationInvariantState:
    if isinstance(state, PermutationInvariantState):
        return state
    if isinstance(state, np.ndarray) or hasattr(state, "full"):
        return PermutationInvariantState.from_dicke(state)
    raise TypeError("state must be a PermutationInvariantState or an (N+1)x(N+1) Dicke-basis "
                    f"holder state, got {type(state).__name__}")


def storage_states(state: Any, times: Sequence[float], *, gamma_decay: float = 0.0,
                   gamma_dephasing: float = 0.0) -> tuple[PermutationInvariantState, ...]:
    """The holder after storing for each time in ``times`` (units of 1/g), from t = 0.

    ``state``: a :class:`PermutationInvariantState`, or a symmetric holder state
    (Dicke basis, (N+1)×(N+1), as :func:`qbhelpers.charge` returns).
    ``gamma_decay`` (γ_↓) and ``gamma_dephasing`` (γ_φ) in units of g.
    ``times``: non-negative, non-decreasing.  Zero time or zero rates return
    the input state unchanged.  Every input is checked before anything runs.

    Only the coherence orders q = k − k' ≥ 0 that are non-zero at t = 0 are
    propagated (see the module docstring), interval by interval between the
    output times.
    """
    gd = _check_rate("gamma_decay", gamma_decay)
    gp = _check_rate("gamma_dephasing", gamma_dephasing)
    t = _check_times("times", times)
    start = _as_state(state)
    n = start.n_qubits
    if (gd == 0.0 and gp == 0.0) or not np.any(t > 0):
        return tuple(start for _ in t)
    vec0 = start.to_vector()
    j2, k, kp = _entry_coordinates(n)
    q = k - kp
    # active entries: q >= 0 in a coherence order that is populated at t = 0
    populated = np.unique(q[np.abs(vec0) > 0.0])
    active = np.flatnonzero(np.isin(q, populated[populated >= 0]))
    position = np.full(j2.size, -1)
    position[active] = np.arange(active.size)
    rows, cols, vals = _generator_triplets(n, gd, gp, j2[active], k[active], kp[active])
    if vals.size == 0:      # the generator vanishes on the populated coherence orders
        return tuple(start for _ in t)
    diagonal = vals[rows == active[cols]]
    shift = float(np.mean(diagonal)) if diagonal.size else 0.0    # mean of the diagonal
    shifted = sp.csr_array((vals, (position[rows], cols)), shape=(active.size, active.size))
    shifted = (shifted - shift * sp.eye_array(active.size, format="csr")).tocsr()
    norm1 = float(np.max(np.abs(shifted).sum(axis=0)))
    current = vec0[active]
    if not np.any(current.imag):
        current = current.real.copy()         # a diagonal state stays real
    mirror = _mirror_index(n)
    states: list[PermutationInvariantState] = []
    now = 0.0
    for ti in t:
        dt = float(ti) - now
        if dt > 0.0:
            current = _expm_multiply_shifted(shifted, shift, norm1, current, dt)
            now = float(ti)
        vec = np.zeros(j2.size, dtype=complex)
        vec[active] = current
        lower = q < 0
        vec[lower] = np.conj(vec[mirror[lower]])
        states.append(PermutationInvariantState.from_vector(n, vec))
    return tuple(states)


def _mirror_index(n_qubits: int) -> np.ndarray:
    """For each vector entry (J, k, k'), the index of (J, k', k)."""
    offsets = block_offsets(n_qubits)
    j2, k, kp = _entry_coordinates(n_qubits)
    base = np.array([offsets.get(x, 0) for x in range(n_qubits + 1)])
    return base[j2] + kp * (j2 + 1) + k


def store(state: Any, storage_time: float, *, gamma_decay: float = 0.0,
          gamma_dephasing: float = 0.0) -> PermutationInvariantState:
    """The holder after storing for ``storage_time`` (units of 1/g); see :func:`storage_states`."""
    if isinstance(storage_time, bool) or not isinstance(storage_time, numbers.Real):
        raise TypeError(f"storage_time must be a real number >= 0 (units of 1/g), "
                        f"got {storage_time!r}")
    return storage_states(state, _check_times("storage_time", [storage_time]),
                          gamma_decay=gamma_decay, gamma_dephasing=gamma_dephasing)[0]


@dataclass(frozen=True, eq=False)
class StorageTrajectory:
    """Stored figures on a grid of storage times (energies in ħω, times in 1/g).

    ``block_weights[i, b]`` is p_J at ``times[i]`` for 2J = ``j2[b]``.
    """

    n_qubits: int
    gamma_decay: float
    gamma_dephasing: float
    times: np.ndarray
    energy: np.ndarray
    ergotropy: np.ndarray
    trapped_energy: np.ndarray
    symmetric_weight: np.ndarray
    j2: tuple[int, ...]
    block_weights: np.ndarray
    states: tuple[PermutationInvariantState, ...]


def storage_trajectory(state: Any, times: Sequence[float], *, gamma_decay: float = 0.0,
                       gamma_dephasing: float = 0.0) -> StorageTrajectory:
    """E, ergotropy (all unitaries), E_trap and the block weights over the storage times."""
    states = storage_states(state, times, gamma_decay=gamma_decay,
                            gamma_dephasing=gamma_dephasing)
    n = states[0].n_qubits
    j2 = j2_values(n)
    arrays = {
        "energy": np.array([s.energy for s in states]),
        "ergotropy": np.array([s.ergotropy for s in states]),
        "trapped_energy": np.array([s.trapped_energy for s in states]),
        "symmetric_weight": np.array([s.symmetric_weight for s in states]),
        "block_weights": np.array([[s.block_weights[b] for b in j2] for s in states]),
    }
    for a in arrays.values():
        a.setflags(write=False)
    t = _check_times("times", times).copy()
    t.setflags(write=False)
    return StorageTrajectory(n_qubits=n, gamma_decay=float(gamma_decay),
                             gamma_dephasing=float(gamma_dephasing), times=t, j2=j2,
                             states=states, **arrays)
