"""Side-by-side benchmark of the ways to find the first maximum, and how far
the production engine is from its floor.

    full    QuTiP mesolve in the 2^N tensor-product basis (reference)
    dicke   QuTiP mesolve in the symmetric Dicke basis ("plain QuTiP")
    blocks  the book's engine: Chebyshev propagation of excitation sectors

For each charger and growing N, every method that fits its limits runs one
first maximum (collective, κ = g by default) in a fresh subprocess; the table
reports wall time, peak resident memory, the time ratio to the fast method
and the largest difference from it (|Δτ̄|/τ̄ and |Δ| of Ē, ℰ̄, Q).

For every ``blocks`` run it also reports how far the engine is from its limits:

* applications: generator applications (terms of the Chebyshev series,
  summed over steps and sectors) against the *floor* Σ_d W_d·τ̄, with W_d the
  spread of the commutator with H on each sector the run propagates to τ̄
  (sector 0 alone for Fock and thermal chargers; every d ≤ N for coherent
  ones): the fewest applications any polynomial method needs to follow the
  Hamiltonian dynamics to τ̄;
* bandwidth: the bytes the kernel streams (counted by the engine: 32 per
  active entry and application on average, two arrays read and one written
  per term and the running sum read and written every other term) per second
  of the whole run, against a streaming kernel with the same access pattern
  measured at the start of the same run (on every core, and on one).

    python benchmarks/bench_methods.py            # full run (~40 min on 2 cores)
    python benchmarks/bench_methods.py --quick    # small sizes only (~1 min)

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

#: N values per charger, and the largest N each reference method is given.
PLAN = {
    "fock": ([2, 4, 6, 8, 16, 32, 64, 128, 200, 256, 400, 600], {"full": 6, "dicke": 16}),
    "coherent": ([2, 3, 4, 6, 8, 16, 32, 48, 64, 96, 128, 200], {"full": 4, "dicke": 6}),
    "thermal": ([2, 3, 4, 6, 8, 16, 32, 64, 96], {"full": 2, "dicke": 3}),
}
QUICK = {
    "fock": ([2, 4, 8, 16], {"full": 4, "dicke": 16}),
    "coherent": ([2, 3, 4], {"full": 3, "dicke": 4}),
    "thermal": ([2, 3], {"full": 2, "dicke": 3}),
}
#: Extra ``blocks`` runs at other κ (units of g): the cost of stronger dissipation.
EXTRA = [("thermal", 64, 2.0), ("thermal", 64, 4.0), ("fock", 200, 4.0)]
QUICK_EXTRA = [("thermal", 3, 2.0)]
ALL_CHARGERS = "fock,coherent,thermal"

CHILD = r"""
import json, resource, sys, time
import qbhelpers as qb
from qbhelpers.problem import make_setup
args = json.loads(sys.argv[1])
qb.first_max(1, "fock", 0.5, method=args["method"])          # warm-up: imports, JIT
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
setup = make_setup(args["n"], args["charger"], args["kappa"], method=args["method"])
engine = setup.method.engine(setup)
t0 = time.perf_counter()
x = engine.first_extremum("max")
el = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {"time": el, "peak_mb": peak / 1024, "base_mb": base / 1024, "tau": x.tau,
       "energy": x.E_h, "ergotropy": x.ergotropy, "Q": x.Q, "n_cut": setup.n_cut}
if args["method"] == "blocks":
    out.update(engine.counts)
    out["floor"] = engine.floor(x.tau)
print(json.dumps(out))
"""

STREAM = r"""
import json, time
import numba, numpy as np
from qbhelpers.engines.chebyshev import _work_array

@numba.njit(parallel=True, fastmath=True)
def sweep(T, P, A, a, b, acc):
    # the recurrence's traffic without its arithmetic: read T and P, write P,
    # and, with acc, read and write A
    for k in numba.prange(T.shape[0]):
        if acc:
            for x in range(T.shape[1]):
                new = 2.0 * T[k, x] - P[k, x]
                P[k, x] = new
                A[k, x] += a * T[k, x] + b * new
        else:
            for x in range(T.shape[1]):
                P[k, x] = 2.0 * T[k, x] - P[k, x]

shape = (4000, 2000)  # 8e6 entries, 64 MB per array: far beyond the caches
T, P, A = (_work_array(shape, k) for k in range(3))
for X in (T, P, A):
    X[...] = 1e-3
sweep(T, P, A, 0.1, 0.2, True); sweep(T, P, A, 0.1, 0.2, False)
best = float("inf")
for _ in range(5):
    t0 = time.perf_counter()
    for k in range(20):
        sweep(T, P, A, 0.1, 0.2, k % 2 == 1)
        T, P = P, T
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"gb_s": 20 * T.size * 32 / best / 1e9}))
"""


def run(method: str, n: int, charger: str, kappa: float, timeout: float) -> dict:
    return run_child(CHILD, {"method": method, "n": n, "charger": charger, "kappa": kappa},
                     timeout)


def streaming_bandwidth(threads: int) -> float:
    """GB/s of the streaming kernel on ``threads`` threads."""
    out = run_child(STREAM, {}, 600.0, dict(os.environ, NUMBA_NUM_THREADS=str(threads)))
    if "error" in out:
        raise RuntimeError(f"the streaming kernel failed: {out['error']}")
    return out["gb_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--kappa", type=float, default=1.0, help="dissipation κ (units of g)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    ap.add_argument("--chargers", default=ALL_CHARGERS,
                    help="comma-separated; a subset writes its own results file")
    args = ap.parse_args()
    plan = QUICK if args.quick else PLAN
    stream1 = streaming_bandwidth(1)
    stream = streaming_bandwidth(os.cpu_count() or 1)
    print(f"streaming kernel: {stream:.1f} GB/s on {os.cpu_count()} threads, "
          f"{stream1:.1f} GB/s on one", flush=True)
    rows = []

    def add(charger, n, method, kappa, r, fast):
        row = {"charger": charger, "N": n, "method": method, "kappa": kappa, **r}
        if "error" not in r and "error" not in fast:
            row["ratio"] = r["time"] / fast["time"]
            row["diff"] = max(abs(r["tau"] - fast["tau"]) / fast["tau"],
                              *(abs(r[k] - fast[k]) for k in ("energy", "ergotropy", "Q")))
        if method == "blocks" and "error" not in r:
            row["gb_s"] = r["bytes"] / r["time"] / 1e9
            row["stream"] = stream
        rows.append(row)
        print(fmt(row), flush=True)

    for charger in args.chargers.split(","):
        n_values, limits = plan[charger]
        for n in n_values:
            res = {"blocks": run("blocks", n, charger, args.kappa, args.timeout)}
            for method in ("dicke", "full"):
                if n <= limits[method]:
                    res[method] = run(method, n, charger, args.kappa, args.timeout)
            for method in ("full", "dicke", "blocks"):
                if method in res:
                    add(charger, n, method, args.kappa, res[method], res["blocks"])
    for charger, n, kappa in (QUICK_EXTRA if args.quick else EXTRA):
        if charger in args.chargers.split(","):
            r = run("blocks", n, charger, kappa, args.timeout)
            add(charger, n, "blocks", kappa, r, r)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d")
    text = report(rows, args, stamp, stream, stream1)
    subset = "" if args.chargers == ALL_CHARGERS else "_" + args.chargers.replace(",", "_")
    path = (Path(__file__).parent / "results"
            / f"methods_{stamp}{'_quick' if args.quick else ''}{subset}.md")
    path.write_text(text)
    print("\n" + text)
    print(f"written to {path}")


def fmt(r: dict) -> str:
    lead = f"| {r['charger']} | {r['N']} | {r['kappa']:g} | {r['method']} |"
    if "error" in r:
        return lead + f" {r['error']} | | | | | | |"
    ratio = f"{r['ratio']:.3g}" if "ratio" in r else ""
    diff = f"{r['diff']:.1e}" if "diff" in r else ""
    apps = (f"{r['applications']} ({r['applications'] / r['floor']:.2f}× floor)"
            if "applications" in r else "")
    bw = f"{r['gb_s']:.1f} ({r['gb_s'] / r['stream']:.0%})" if "gb_s" in r else ""
    return (lead + f" {r['time']:.3g} | {r['peak_mb']:.0f} | {ratio} | {diff} | {r['n_cut']} "
            f"| {apps} | {bw} |")


def report(rows, args, stamp, stream, stream1) -> str:
    head = [f"# Methods benchmark ({stamp})", "",
            f"Machine: {machine()}. Collective battery, one first maximum per run.",
            "Time: wall seconds of the engine's search (imports and JIT warmed up first). Peak:",
            "resident memory of the whole process in MB (about 200 MB of it is the imports).",
            "Ratio: time / time of `blocks`. Max diff: largest of |Δτ̄|/τ̄ and |ΔĒ|, |Δℰ̄|, |ΔQ|",
            "(ħω) against `blocks`. Applications: generator applications of `blocks` against",
            "the floor Σ_d W_d·τ̄ (W_d: spread of the commutator with H on each sector propagated",
            "to τ̄). Bandwidth: bytes the kernels stream per second of the run, and its share of a",
            f"streaming kernel measured in the same run on all {os.cpu_count()} cores "
            f"({stream:.1f} GB/s; on one core: {stream1:.1f} GB/s).",
            "The engine runs on two threads (QBHELPERS_THREADS): independent sectors side by",
            "side, or one sector's blocks shared between them.", "",
            "| charger | N | κ/g | method | time (s) | peak (MB) | ratio to blocks | max diff "
            "| n_cut | applications | GB/s |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    return "\n".join(head + [fmt(r) for r in rows]) + "\n"


if __name__ == "__main__":
    main()
