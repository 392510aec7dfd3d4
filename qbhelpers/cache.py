"""An explicit on-disk cache for results that take long to compute.

A result is stored under a key that hashes every parameter that changes it,
the package version, a hash of the package's own source files and the
versions of numpy and scipy, so a change of parameters or of code never
returns stale numbers.  The folder is ``$QBHELPERS_CACHE`` or, by default,
``~/.cache/qbhelpers``; delete it to start afresh, or pass ``cache=False``.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from . import __version__


def cache_dir() -> Path:
    return Path(os.environ.get("QBHELPERS_CACHE", Path.home() / ".cache" / "qbhelpers"))


#: The modules whose code can change a cached number (plotting, widgets, the
#: command line and the analysis helpers cannot, so editing them keeps the cache).
PHYSICS_MODULES = ("battery", "blocks", "cache", "chebyshev", "dynamics", "ergotropy", "fast",
                   "model", "states", "sweep", "validation")


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """Hash of the physics modules' source (so edited code never hits old results)."""
    h = hashlib.sha256()
    for f in (Path(__file__).parent / f"{m}.py" for m in PHYSICS_MODULES):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def key(kind: str, params: dict[str, Any]) -> str:
    payload = {"kind": kind, "params": params, "version": __version__,
               "source": source_hash(), "numpy": np.__version__, "scipy": scipy.__version__}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()


def load(kind: str, params: dict[str, Any]) -> dict | None:
    path = cache_dir() / kind / f"{key(kind, params)}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def store(kind: str, params: dict[str, Any], value: dict) -> None:
    folder = cache_dir() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{os.getpid()}.tmp"
        tmp.write_text(json.dumps(value))
        tmp.replace(folder / f"{key(kind, params)}.json")
    except OSError:
        pass  # a read-only home must not stop a computation


def cached_first_max(cache: bool = True, **params):
    """:func:`qbhelpers.first_max` through the disk cache (same keywords)."""
    from .battery import FirstMax, first_max

    if cache:
        hit = load("first_max", params)
        if hit is not None:
            return FirstMax(**hit)
    result = first_max(**params)
    if cache:
        store("first_max", params, dataclasses.asdict(result))
    return result
