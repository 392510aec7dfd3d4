"""What the benchmarks share: running one measurement in a fresh Python
process, and a line describing the machine."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def machine() -> str:
    """CPU model, cores, Python version and system, for a results file's header."""
    cpu = platform.processor() or platform.machine() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _peak_mb(pid: int) -> float:
    """The resident-memory high-water mark of a running process (Linux), MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_child(code: str, args: dict, timeout: float, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter with ``json.dumps(args)`` as its
    argument; return the JSON object its last stdout line holds, or
    ``{"error": ...}``: the last line of its stderr, or, for a run stopped at
    ``timeout`` seconds, the time and the peak memory it had reached.  The
    package is importable from the repository (PYTHONPATH)."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    start = time.monotonic()
    while proc.poll() is None and time.monotonic() - start < timeout:
        peak = max(peak, _peak_mb(proc.pid))
        time.sleep(0.5)
    if proc.poll() is None:
        peak = max(peak, _peak_mb(proc.pid))
        proc.kill()
        proc.communicate()
        return {"error": f"> {timeout:.0f} s (peak so far {peak:.0f} MB)"}
    out, err = proc.communicate()
    if proc.returncode != 0:
        lines = err.strip().splitlines()
        return {"error": lines[-1][:80] if lines else f"killed (signal {-proc.returncode})"}
    return json.loads(out.strip().splitlines()[-1])
