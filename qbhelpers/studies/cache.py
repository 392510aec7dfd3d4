"""An explicit on-disk cache for results that take long to compute.

A result is stored under a key that hashes every parameter that changes it,
the package version, a hash of the package's own physics source files and
the versions of numpy and scipy, so a change of parameters or of code never
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

from .._version import __version__
from ..battery import first_max
from ..engines import REGISTRY, Setup
from ..problem import FirstMax

#: The package root; every source file under it counts, except the reader-facing ones.
_ROOT = Path(__file__).resolve().parents[1]
#: Files whose code cannot change a cached number (so editing them keeps the cache).
READER_FACING = ("plotting.py", "widgets.py", "cli.py", "units.py", "__main__.py",
                 "studies/scaling.py", "grids.py", "checks.py")


def cache_dir() -> Path:
    return Path(os.environ.get("QBHELPERS_CACHE", Path.home() / ".cache" / "qbhelpers"))


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """Hash of the physics source (so edited code never hits old results)."""
    h = hashlib.sha256()
    for f in sorted(_ROOT.rglob("*.py")):
        rel = f.relative_to(_ROOT).as_posix()
        if rel in READER_FACING:
            continue
        h.update(rel.encode())
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


def encode_first_max(result: FirstMax) -> dict:
    """A JSON-ready dict of a :class:`FirstMax` (the method as name + options)."""
    out = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "setup"}
    setup = {f.name: getattr(result.setup, f.name) for f in dataclasses.fields(result.setup)}
    method = setup.pop("method")
    setup["method"] = {"name": method.name, "options": dataclasses.asdict(method)}
    out["setup"] = setup
    return out


def decode_first_max(data: dict) -> FirstMax:
    """The :class:`FirstMax` that :func:`encode_first_max` encoded."""
    data = dict(data)
    setup = dict(data.pop("setup"))
    m = setup.pop("method")
    setup["method"] = REGISTRY[m["name"]](**m["options"])
    return FirstMax(setup=Setup(**setup), **data)


def cached_first_max(cache: bool = True, **params):
    """:func:`qbhelpers.first_max` through the disk cache (same keywords)."""
    if cache:
        hit = load("first_max", params)
        if hit is not None:
            return decode_first_max(hit)
    result = first_max(**params)
    if cache:
        store("first_max", params, encode_first_max(result))
    return result
