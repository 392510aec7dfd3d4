"""Cost of the whole cycle (qbhelpers.cycle): charge, store, discharge block by block.

For growing N, one cycle at κ = g (κ/Ω_R = 0.5), storage time 1/g with either
local decay (γ_↓ = 1 g) or local dephasing (γ_φ = 1 g), the cases that spread
the holder over the most total-spin blocks.  Fock chargers up to N = 128,
coherent chargers (every coherence order of every block is discharged) up to
N = 32.

Each run is in a fresh subprocess (after a small warm-up cycle and charge, so
that the compiled kernels are loaded from numba's cache: a first call in a
fresh session pays up to a few seconds more); the table gives the wall time
of ``qb.cycle`` and, in a second pass, of its three stages (charging to τ̄,
storage, the block discharge), the number of blocks discharged, the peak
resident memory, the figures of the cycle, and how well the energy budget
closes (|Σ budget − n̄|).

    python benchmarks/bench_cycle.py            # N up to 128 (~10 min on 2 cores)
    python benchmarks/bench_cycle.py --quick    # N up to 32

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

CASES = ([("fock", n) for n in (8, 16, 32, 64, 96, 128)]
         + [("coherent", n) for n in (8, 16, 32)])
QUICK = [case for case in CASES if case[1] <= 32]
KAPPA, STORAGE_TIME, RATE = 1.0, 1.0, 1.0

CHILD = r"""
import json, resource, sys, time
import numpy as np
import qbhelpers as qb
from qbhelpers import whole_cycle as wc
from qbhelpers.engines.combined import BlockDischarge
args = json.loads(sys.argv[1])
n, charger, channel = args["n"], args["charger"], args["channel"]
rates = {"gamma_decay": args["rate"]} if channel == "decay" else {"gamma_dephasing": args["rate"]}
qb.cycle(4, charger, args["kappa"], storage_time=0.5, gamma_decay=0.2, gamma_dephasing=0.2)
qb.first_max(48, "fock", 1.0)                   # loads the multi-threaded kernel too
t0 = time.perf_counter()
c = qb.cycle(n, charger, args["kappa"], storage_time=args["t"], **rates)
total = time.perf_counter() - t0
# the stages, timed one by one
plan = wc._plan(n, charger, args["kappa"], "collective", 1.0, 0.0, None, None, "blocks",
                1e-10, rates.get("gamma_decay", 0.0), rates.get("gamma_dephasing", 0.0),
                wc.BLOCK_TOL)
t0 = time.perf_counter(); charging, state = wc._charge(plan.setup); t_charge = time.perf_counter() - t0
t0 = time.perf_counter(); stored = wc._store(state, np.array([args["t"]]), plan)[0]
t_store = time.perf_counter() - t0
t0 = time.perf_counter(); blocks = BlockDischarge(stored, plan.setup, plan.block_tol)
r = blocks.first_extremum("min"); t_discharge = time.perf_counter() - t0
out = {"total_s": total, "charge_s": t_charge, "store_s": t_store, "discharge_s": t_discharge,
       "blocks": len(blocks.moving), "frozen": len(blocks.frozen),
       "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
       "E_s": c.stored_energy, "E_trap": c.trapped_energy, "E_d": c.discharged_energy,
       "eta": c.efficiency, "tau_d": c.tau_d, "budget_err": abs(c.budget_total - c.mean_photons),
       "same": abs(r.E_h - c.final_energy)}
print(json.dumps(out))
"""


def run(charger: str, n: int, channel: str, timeout: float) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    args = {"n": n, "charger": charger, "channel": channel, "kappa": KAPPA, "t": STORAGE_TIME,
            "rate": RATE}
    return run_child(CHILD, args, timeout, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N up to 32 only")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    opts = parser.parse_args()
    cases = QUICK if opts.quick else CASES
    lines = [f"# Whole-cycle benchmark, {datetime.date.today()}", "",
             f"κ = {KAPPA} g (κ/Ω_R = {KAPPA / 2}), storage time {STORAGE_TIME}/g, "
             f"γ = {RATE} g for the channel named; "
             f"{machine()} (the engine on two threads).", "",
             "| charger | N | storage | cycle (s) | charge (s) | store (s) | discharge (s) "
             "| blocks run / frozen | peak MB | E_s | E_trap | E_d | η | budget error |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for charger, n in cases:
        for channel in ("decay", "dephasing"):
            r = run(charger, n, channel, opts.timeout)
            if "error" in r:
                line = f"| {charger} | {n} | {channel} | {r['error']} |" + " |" * 10
            else:
                line = (f"| {charger} | {n} | {channel} | {r['total_s']:.2f} | "
                        f"{r['charge_s']:.2f} | {r['store_s']:.3f} | {r['discharge_s']:.2f} | "
                        f"{r['blocks']} / {r['frozen']} | {r['peak_mb']:.0f} | "
                        f"{r['E_s']:.4f} | {r['E_trap']:.4f} | {r['E_d']:.4f} | "
                        f"{r['eta']:.4f} | {r['budget_err']:.1e} |")
            print(line, flush=True)
            lines.append(line)
    folder = Path(__file__).resolve().parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"cycle_{datetime.date.today()}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
