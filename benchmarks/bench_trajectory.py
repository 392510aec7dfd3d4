"""A charging trajectory three ways, side by side in one run.

    charge   qbhelpers.charge: E_h, E_c, Q and the holder ergotropy (full and
             symmetric) at every output time (Chebyshev engine)
    mesolve  plain QuTiP mesolve in the Dicke basis, E_h only (e_ops)
    expm     scipy.sparse.linalg.expm_multiply of the same Liouvillian (the
             vectorised Dicke-basis density matrix), E_h only

Same battery for all (collective, Fock charger, κ = g by default), the same
output grid (301 points from 0 to 1.5 τ̄).  QuTiP runs at its default
tolerances unless they miss E_h by more than 1e-6; then they are tightened
tenfold until they do not, so every row is accurate to 1e-6 in E_h.  Each
method runs in a fresh process after a warm-up (imports, JIT); the best of
``--repeat`` runs is reported, with the ratio to ``charge``.

    python benchmarks/bench_trajectory.py              # N = 24 (and 8, 16)
    python benchmarks/bench_trajectory.py --n 8 16 24 32
"""
from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import machine, run_child  # noqa: E402

CHILD = r"""
import json, sys, time
import numpy as np
args = json.loads(sys.argv[1])
N, kappa, method, reps = args["n"], args["kappa"], args["method"], args["repeat"]
import qbhelpers as qb
tau = qb.first_max(N, "fock", kappa).tau
times = np.linspace(0.0, 1.5 * tau, 301)

if method == "charge":
    def run():
        tr = qb.charge(N, "fock", kappa, times=times)
        return tr.E_h
else:
    import qutip as qt
    from qbhelpers.physics import model
    ops = model.operators(N, N, "dicke")
    H = model.hamiltonian(ops, 1.0)
    c_ops = model.collapse_operators(ops, kappa, 0.0)
    rho0 = model.initial_state(ops, np.diag(np.eye(N + 1)[N]))
    if method == "mesolve":
        tol = {"atol": args["atol"], "rtol": args["rtol"]}
        def run():
            r = qt.mesolve(H, rho0, times, c_ops, e_ops=[ops.n_holder],
                           options={**tol, "progress_bar": False})
            return np.asarray(r.expect[0]).real
    else:
        from scipy.sparse.linalg import expm_multiply
        L = qt.liouvillian(H, c_ops).to("csr").data_as("csr_matrix")
        v0 = qt.operator_to_vector(rho0).full().ravel()
        nh = qt.operator_to_vector(ops.n_holder.dag()).full().ravel().conj()
        def run():
            vs = expm_multiply(L, v0, start=times[0], stop=times[-1], num=times.size,
                               endpoint=True)
            return (vs @ nh).real

run()  # warm-up
best = float("inf")
for _ in range(reps):
    t0 = time.perf_counter(); eh = run(); best = min(best, time.perf_counter() - t0)
ref = qb.charge(N, "fock", kappa, times=times).E_h
print(json.dumps({"time": best, "err": float(np.abs(eh - ref).max())}))
"""


def run(method: str, n: int, kappa: float, repeat: int, timeout: float, **extra) -> dict:
    return run_child(CHILD, {"method": method, "n": n, "kappa": kappa, "repeat": repeat,
                             **extra}, timeout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[8, 16, 24])
    ap.add_argument("--kappa", type=float, default=1.0, help="dissipation κ (units of g)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per method (best is kept)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per method")
    args = ap.parse_args()
    lines = [f"# Trajectory benchmark ({datetime.date.today()})", "",
             f"Machine: {machine()}. Fock charger, collective, κ = {args.kappa:g} g, 301 "
             "output times from 0 to 1.5 τ̄; best of "
             f"{args.repeat} runs after a warm-up. `charge` records E_h, E_c, Q and both "
             "ergotropies; the others E_h only. Error: largest |ΔE_h| against `charge`.", "",
             "| N | method | tolerances | time (s) | ratio to charge | max error in E_h |",
             "|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for n in args.n:
        base = run("charge", n, args.kappa, args.repeat, args.timeout)
        rows = [("charge", "exact to rounding", base)]
        tol = {"atol": 1e-8, "rtol": 1e-6}  # QuTiP's defaults
        while True:
            r = run("mesolve", n, args.kappa, args.repeat, args.timeout, **tol)
            if "error" in r or r["err"] <= 1e-6 or tol["rtol"] < 1e-11:
                break
            tol = {k: v / 10 for k, v in tol.items()}
        rows.append(("mesolve", f"atol {tol['atol']:.0e}, rtol {tol['rtol']:.0e}", r))
        rows.append(("expm_multiply", "SciPy default",
                     run("expm", n, args.kappa, args.repeat, args.timeout)))
        for name, tols, r in rows:
            if "error" in r:
                line = f"| {n} | {name} | {tols} | {r['error']} | | |"
            else:
                ratio = r["time"] / base["time"] if "time" in base else float("nan")
                line = (f"| {n} | {name} | {tols} | {r['time']:.3g} | {ratio:.3g} | "
                        f"{r['err']:.1e} |")
            lines.append(line)
            print(line, flush=True)
    path = Path(__file__).parent / "results" / f"trajectory_{datetime.date.today()}.md"
    path.write_text("\n".join(lines) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
