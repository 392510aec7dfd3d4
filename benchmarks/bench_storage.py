"""Cost of the storage stage in the total-spin basis (qbhelpers.physics.permutational).

For growing N, one storage time (γ_↓ t = 1 and γ_φ t = 0.5 together, the costly
case) from two holder states:

    diagonal   |J = N/2, k = N/2⟩, a Dicke state (like a Fock-charged holder:
               only the coherence order q = 0 is propagated)
    coherent   a random pure symmetric state (every coherence order populated,
               like a coherent-charged holder)

Each run is in a fresh subprocess (peak memory is its own); the table gives the
wall time of `store`, of the stored figures (energy, trapped energy, ergotropy
over all unitaries), the peak resident memory, and the relative error of two
closed forms that hold at every N: E(t) = E(0) e^{-γ_↓ t} and the ⟨J²⟩(t) of
the two-qubit marginals.  For N <= 32 the same evolution through
qutip.piqs (its Liouvillian and qutip.mesolve, tight tolerances) is timed
for comparison.

    python benchmarks/bench_storage.py            # N up to 128 (~1 min on 2 cores)
    python benchmarks/bench_storage.py --quick    # N up to 32

Results are printed as a Markdown table and written to benchmarks/results/.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import machine, run_child  # noqa: E402

SIZES = [4, 8, 16, 32, 64, 96, 128]
QUICK = [4, 8, 16, 32]
PIQS_MAX = 32
GAMMA_DECAY, GAMMA_DEPHASING, TIME = 1.0, 0.5, 1.0

CHILD = r"""
import json, math, resource, sys, time
import numpy as np
from qbhelpers.physics import permutational as pm
args = json.loads(sys.argv[1])
n, kind = args["n"], args["kind"]
gd, gp, t = args["gd"], args["gp"], args["t"]
pm.store(np.diag([0.5, 0.5]), 0.1, gamma_decay=1.0)           # warm-up: imports
if kind == "diagonal":
    rho = np.zeros((n + 1, n + 1)); rho[n // 2, n // 2] = 1.0
else:
    rng = np.random.default_rng(1)
    psi = rng.standard_normal(n + 1) + 1j * rng.standard_normal(n + 1)
    psi /= np.linalg.norm(psi)
    rho = np.outer(psi, psi.conj())
start = pm.PermutationInvariantState.from_dicke(rho)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
state = pm.store(start, t, gamma_decay=gd, gamma_dephasing=gp)
t_store = time.perf_counter() - t0
t0 = time.perf_counter()
figures = (state.energy, state.trapped_energy, state.ergotropy)
t_figures = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# closed forms (see tests/test_storage.py)
k = np.arange(n + 1); pop = np.diag(rho).real; J = n / 2
e1, e2, raising = pop @ k, pop @ k ** 2, pop @ (k * (n - k + 1))
a, c = math.exp(-gd * t), math.exp(-(gd + 2 * gp) * t)
casimir = c * (raising - e1) + a * e1 + a * a * (e2 - e1) - n * a * e1 + J * (J + 1)
got = sum(p * (j2 / 2) * (j2 / 2 + 1) for j2, p in state.block_weights.items())
out = {"store_s": t_store, "figures_s": t_figures, "peak_mb": peak / 1024,
       "base_mb": base / 1024, "energy": figures[0], "trapped": figures[1],
       "ergotropy": figures[2],
       "energy_err": abs(figures[0] - start.energy * a) / (start.energy * a),
       "casimir_err": abs(got - casimir) / casimir}
if args["piqs"]:
    import qutip
    from qutip.piqs import piqs
    import scipy.linalg as sl
    t0 = time.perf_counter()
    L = piqs.Dicke(n, emission=gd, dephasing=2 * gp).liouvillian()
    rho0 = qutip.Qobj(sl.block_diag(*[start.blocks[j2][::-1, ::-1]
                                      for j2 in pm.j2_values(n)]))
    res = qutip.mesolve(L, rho0, [0.0, t], options={"atol": 1e-12, "rtol": 1e-10})
    out["piqs_s"] = time.perf_counter() - t0
    mine = sl.block_diag(*[state.blocks[j2][::-1, ::-1] for j2 in pm.j2_values(n)])
    out["piqs_diff"] = float(np.max(np.abs(res.states[-1].full() - mine)))
print(json.dumps(out))
"""


def run(n: int, kind: str, timeout: float) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    args = {"n": n, "kind": kind, "gd": GAMMA_DECAY, "gp": GAMMA_DEPHASING, "t": TIME,
            "piqs": n <= PIQS_MAX}
    return run_child(CHILD, args, timeout, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N up to 32 only")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    opts = parser.parse_args()
    sizes = QUICK if opts.quick else SIZES
    lines = [f"# Storage benchmark, {datetime.date.today()}", "",
             f"γ_↓ = {GAMMA_DECAY} g, γ_φ = {GAMMA_DEPHASING} g, storage time {TIME}/g; "
             f"{machine()}; one thread.", "",
             "| N | state | store (s) | figures (s) | peak MB | E | E_trap | ergotropy "
             "| rel. err E | rel. err ⟨J²⟩ | piqs+mesolve (s) | max abs Δρ vs piqs |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for n in sizes:
        for kind in ("diagonal", "coherent"):
            r = run(n, kind, opts.timeout)
            if "error" in r:
                line = f"| {n} | {kind} | {r['error']} |" + " |" * 9
            else:
                piqs = (f"{r['piqs_s']:.2f} | {r['piqs_diff']:.1e}" if "piqs_s" in r
                        else "– | –")
                line = (f"| {n} | {kind} | {r['store_s']:.3f} | {r['figures_s']:.3f} | "
                        f"{r['peak_mb']:.0f} | {r['energy']:.6f} | {r['trapped']:.6f} | "
                        f"{r['ergotropy']:.6f} | {r['energy_err']:.1e} | "
                        f"{r['casimir_err']:.1e} | {piqs} |")
            print(line, flush=True)
            lines.append(line)
    folder = Path(__file__).resolve().parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"storage_{datetime.date.today()}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
