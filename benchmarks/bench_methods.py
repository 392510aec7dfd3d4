"""Side-by-side benchmark of the three ways to find the first maximum.

    full    QuTiP mesolve in the 2^N tensor-product basis (reference)
    dicke   QuTiP mesolve in the symmetric Dicke basis ("plain QuTiP")
    blocks  the book's engine: Chebyshev propagation of excitation sectors

For each charger and growing N, every method that fits its limits runs
`qbhelpers.first_max` (collective, κ = g by default) in a fresh subprocess;
the table reports wall time, peak resident memory, the time ratio to the
fast method and the largest difference from it (|Δτ̄|/τ̄ and |Δ| of Ē, ℰ̄, Q).

    python benchmarks/bench_methods.py            # full run (~15 min on 2 cores)
    python benchmarks/bench_methods.py --quick    # small sizes only (~1 min)

Results are printed as a Markdown table and written to benchmarks/results/.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

#: N values per charger, and the largest N each reference method is given.
PLAN = {
    "fock": ([2, 4, 6, 8, 16, 32, 64, 128, 200, 300, 400], {"full": 6, "dicke": 16}),
    "coherent": ([2, 3, 4, 6, 8, 16, 32, 48, 64, 96], {"full": 4, "dicke": 6}),
    "thermal": ([2, 3, 4, 6, 8, 16, 32, 64, 96], {"full": 2, "dicke": 3}),
}
QUICK = {
    "fock": ([2, 4, 8, 16], {"full": 4, "dicke": 16}),
    "coherent": ([2, 3, 4], {"full": 3, "dicke": 4}),
    "thermal": ([2, 3], {"full": 2, "dicke": 3}),
}

CHILD = r"""
import json, resource, sys, time
import qbhelpers as qb
args = json.loads(sys.argv[1])
qb.first_max(1, "fock", 0.5, method=args["method"])          # warm-up: imports, JIT
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
fm = qb.first_max(args["n"], args["charger"], args["kappa"], method=args["method"])
el = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"time": el, "peak_mb": peak / 1024, "base_mb": base / 1024,
                  "tau": fm.tau, "energy": fm.energy, "ergotropy": fm.ergotropy,
                  "Q": fm.Q, "n_cut": fm.n_cut}))
"""


def run(method: str, n: int, charger: str, kappa: float, timeout: float) -> dict:
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(
            {"method": method, "n": n, "charger": charger, "kappa": kappa})],
            capture_output=True, text=True, timeout=timeout, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return {"error": f"> {timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        lines = exc.stderr.strip().splitlines()
        return {"error": lines[-1][:60] if lines else f"killed (signal {-exc.returncode})"}


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--kappa", type=float, default=1.0, help="dissipation κ (units of g)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    ap.add_argument("--chargers", default="fock,coherent,thermal")
    args = ap.parse_args()
    plan = QUICK if args.quick else PLAN
    rows = []
    for charger in args.chargers.split(","):
        n_values, limits = plan[charger]
        for n in n_values:
            res = {"blocks": run("blocks", n, charger, args.kappa, args.timeout)}
            for method in ("dicke", "full"):
                if n <= limits[method]:
                    res[method] = run(method, n, charger, args.kappa, args.timeout)
            fast = res["blocks"]
            for method in ("full", "dicke", "blocks"):
                if method not in res:
                    continue
                r = res[method]
                row = {"charger": charger, "N": n, "method": method, **r}
                if "error" not in r and "error" not in fast:
                    row["ratio"] = r["time"] / fast["time"]
                    row["diff"] = max(abs(r["tau"] - fast["tau"]) / fast["tau"],
                                      *(abs(r[k] - fast[k]) for k in ("energy", "ergotropy", "Q")))
                rows.append(row)
                print(fmt(row), flush=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d")
    text = report(rows, args, stamp)
    path = Path(__file__).parent / "results" / f"methods_{stamp}{'_quick' if args.quick else ''}.md"
    path.write_text(text)
    print("\n" + text)
    print(f"written to {path}")


def fmt(r: dict) -> str:
    if "error" in r:
        return f"| {r['charger']} | {r['N']} | {r['method']} | {r['error']} | | | | |"
    ratio = f"{r['ratio']:.3g}" if "ratio" in r else ""
    diff = f"{r['diff']:.1e}" if "diff" in r else ""
    return (f"| {r['charger']} | {r['N']} | {r['method']} | {r['time']:.3g} | {r['peak_mb']:.0f} "
            f"| {ratio} | {diff} | {r['n_cut']} |")


def report(rows, args, stamp) -> str:
    head = [f"# Methods benchmark ({stamp})", "",
            f"Machine: {machine()}. κ = {args.kappa:g} g, collective battery, `first_max`.",
            "Time: wall seconds of the call (imports and JIT warmed up first). Peak: resident",
            "memory of the whole process in MB (about 200 MB of it is the Python imports).",
            "Ratio: time / time of `blocks`. Max diff: largest of |Δτ̄|/τ̄ and |ΔĒ|, |Δℰ̄|, |ΔQ|",
            "(ħω) against `blocks`.", "",
            "| charger | N | method | time (s) | peak (MB) | ratio to blocks | max diff | n_cut |",
            "|---|---|---|---|---|---|---|---|"]
    return "\n".join(head + [fmt(r) for r in rows]) + "\n"


if __name__ == "__main__":
    main()
