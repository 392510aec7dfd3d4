"""An explicit on-disk cache for results that take long to compute.

A result is stored under a key that hashes every parameter that changes it
and the environment that computed it: the package version, a hash of the
package's own physics source files, and the versions of numpy, scipy, numba
and QuTiP.  A change of parameters, of code or of a numerical library never
returns stale numbers.

The folder is ``$QBHELPERS_CACHE`` if set, else ``$XDG_CACHE_HOME/qbhelpers``
(an absolute ``XDG_CACHE_HOME`` only, as the XDG specification says), else
``~/.cache/qbhelpers``; one sub-folder per kind of result, one JSON file per
entry.  :func:`info` describes it, :func:`clear` empties it
(``qbhelpers cache info|clear`` on the command line), ``cache=False`` skips it.

Entries are written atomically (a uniquely named temporary file in the same
folder, then :func:`os.replace`), so readers and concurrent writers never see
a partial file.  An entry that cannot be read, or does not have exactly the
shape of the result asked for (missing or extra fields, a wrong type, NaN or
infinity, another point's parameters), counts as a miss: it is recomputed and
overwritten.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import numbers
import os
import re
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .._version import __version__
from ..battery import first_max
from ..engines import REGISTRY, Method, Setup
from ..physics.states import CHARGERS
from ..problem import VERSIONS, FirstMax, make_setup
from ..validation import check_choice

#: The package root; every source file under it counts, except the reader-facing ones.
_ROOT = Path(__file__).resolve().parents[1]
#: Files whose code cannot change a cached number (so editing them keeps the cache).
READER_FACING = ("plotting.py", "widgets.py", "cli.py", "units.py", "__main__.py",
                 "studies/scaling.py", "studies/executors.py", "grids.py", "checks.py")
#: Libraries whose version can change a number (read from the installed
#: distributions' metadata, so QuTiP is not imported to learn its version).
NUMERICAL_LIBRARIES = ("numpy", "scipy", "numba", "qutip")

#: File name of an entry (a SHA-256 key) and of a temporary file being written.
_ENTRY = re.compile(r"[0-9a-f]{64}\.json")
_TEMPORARY = re.compile(r"\..+\.tmp")

#: The kind under which first maxima are stored.
FIRST_MAX = "first_max"


class BadEntry(ValueError):
    """A cache entry that is not a valid record of the result asked for."""


# ------------------------------------------------------------ where, what
def cache_dir() -> Path:
    """The cache folder: ``$QBHELPERS_CACHE``, else ``$XDG_CACHE_HOME/qbhelpers``,
    else ``~/.cache/qbhelpers`` (empty variables count as unset; a relative
    ``XDG_CACHE_HOME`` is ignored, as the XDG specification asks)."""
    explicit = os.environ.get("QBHELPERS_CACHE", "")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "qbhelpers"
    return Path.home() / ".cache" / "qbhelpers"


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


@functools.lru_cache(maxsize=None)
def _installed_version(distribution: str) -> str:
    """The installed version (looked up once per process: the metadata scan is slow)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def fingerprint() -> dict[str, str]:
    """What, besides the parameters, fixes a cached number: the package's
    version and source hash and the versions of :data:`NUMERICAL_LIBRARIES`.
    Worker processes report theirs, so results computed elsewhere are only
    cached when they come from the same environment."""
    return {"qbhelpers": __version__, "source": source_hash(),
            **{lib: _installed_version(lib) for lib in NUMERICAL_LIBRARIES}}


def key(kind: str, params: dict[str, Any]) -> str:
    """SHA-256 of the kind, the parameters (JSON-plain values) and :func:`fingerprint`."""
    payload = {"kind": kind, "params": params, "environment": fingerprint()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def entry_path(kind: str, params: dict[str, Any]) -> Path:
    """The file that holds (or would hold) the entry."""
    return cache_dir() / kind / f"{key(kind, params)}.json"


# ------------------------------------------------------------ read, write
def load(kind: str, params: dict[str, Any]) -> Any:
    """The stored JSON value, or None if there is none or it cannot be read
    (shape checks are the caller's: see :func:`load_first_max`)."""
    try:
        return json.loads(entry_path(kind, params).read_text())
    except (OSError, ValueError):  # missing, unreadable, truncated, not JSON, not UTF-8
        return None


def store(kind: str, params: dict[str, Any], value: Any) -> bool:
    """Write an entry atomically; False (and nothing written) if the value is
    not finite JSON or the folder is not writable (a read-only home must not
    stop a computation)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    path = entry_path(kind, params)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False


# ---------------------------------------------------- info and clear
@dataclass(frozen=True)
class CacheInfo:
    """What the cache folder holds: ``entries`` and ``size`` (bytes) in total
    and per kind (``kinds``: kind -> (entries, bytes)), ``temporary`` files
    left by interrupted writes, and ``exists`` (False if never created)."""

    folder: Path
    exists: bool
    entries: int
    size: int
    kinds: dict[str, tuple[int, int]]
    temporary: int


def info() -> CacheInfo:
    """Describe the cache folder (nothing is changed)."""
    folder = cache_dir()
    kinds: dict[str, tuple[int, int]] = {}
    temporary = 0
    if folder.is_dir():
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            count = size = 0
            for f in sub.iterdir():
                if _ENTRY.fullmatch(f.name) and f.is_file():
                    count += 1
                    size += f.stat().st_size
                elif _TEMPORARY.fullmatch(f.name) and f.is_file():
                    temporary += 1
            if count:
                kinds[sub.name] = (count, size)
    return CacheInfo(folder=folder, exists=folder.is_dir(),
                     entries=sum(c for c, _ in kinds.values()),
                     size=sum(s for _, s in kinds.values()), kinds=kinds, temporary=temporary)


def clear() -> int:
    """Delete every cache entry (and temporary files of interrupted writes);
    returns how many entries were deleted.  Only files named like the cache's
    own are touched, so a cache folder pointed at a folder holding other
    files leaves those alone; folders left empty are removed."""
    folder = cache_dir()
    removed = 0
    if not folder.is_dir():
        return 0
    for sub in [p for p in folder.iterdir() if p.is_dir()]:
        for f in list(sub.iterdir()):
            if f.is_file() and (_ENTRY.fullmatch(f.name) or _TEMPORARY.fullmatch(f.name)):
                with contextlib.suppress(FileNotFoundError):  # a concurrent clear got it first
                    f.unlink()
                    removed += bool(_ENTRY.fullmatch(f.name))
        with contextlib.suppress(OSError):  # not empty: files that are not ours
            sub.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()
    return removed


# ---------------------------------------------------------- first maxima
def method_record(method: Method) -> dict[str, Any]:
    """A method object as plain data: its name and options."""
    return {"name": method.name, "options": dataclasses.asdict(method)}


def first_max_params(n_qubits: int, charger: str, kappa: float, *, version: str = "collective",
                     g: float = 1.0, n_th: float = 0.0, method: Method) -> dict[str, Any]:
    """The cache key's parameters of one first maximum (plain, normalised:
    ``n_th=0`` and ``n_th=0.0`` give the same key)."""
    return {"n_qubits": int(n_qubits), "charger": str(charger), "kappa": float(kappa),
            "version": str(version), "g": float(g), "n_th": float(n_th),
            "method": method_record(method)}


def encode_first_max(result: FirstMax) -> dict:
    """A JSON-ready dict of a :class:`FirstMax` (the method as name + options)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(result):
        if f.name == "setup":
            continue
        value = getattr(result, f.name)
        out[f.name] = value if isinstance(value, str) else float(value)
    setup = {f.name: getattr(result.setup, f.name) for f in dataclasses.fields(result.setup)}
    setup["method"] = method_record(setup["method"])
    for name in ("n_qubits", "n_cut"):
        setup[name] = int(setup[name])
    for name in ("kappa", "g", "n_th", "mean_photons"):
        setup[name] = float(setup[name])
    out["setup"] = setup
    return out


def _real(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise BadEntry(f"{where} is {value!r}, not a number")
    if not math.isfinite(value):
        raise BadEntry(f"{where} is {value!r}, not finite")
    return float(value)


def _integer(where: str, value: Any, lowest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lowest:
        raise BadEntry(f"{where} is {value!r}, not an integer >= {lowest}")
    return int(value)


def _fields(where: str, data: Any, names: set[str]) -> dict:
    if not isinstance(data, dict):
        raise BadEntry(f"{where} is a {type(data).__name__}, not a JSON object")
    if set(data) != names:
        raise BadEntry(f"{where} has the fields {sorted(data)}, expected {sorted(names)}")
    return data


def _method(data: Any) -> Method:
    data = _fields("setup.method", data, {"name", "options"})
    name, options = data["name"], data["options"]
    if not isinstance(name, str) or name not in REGISTRY:
        raise BadEntry(f"setup.method.name is {name!r}, not a registered method")
    if not isinstance(options, dict):
        raise BadEntry("setup.method.options is not a JSON object")
    try:
        return REGISTRY[name](**options)
    except (TypeError, ValueError) as exc:
        raise BadEntry(f"setup.method.options {options!r}: {exc}") from None


def decode_first_max(data: Any, expected: dict[str, Any] | None = None) -> FirstMax:
    """The :class:`FirstMax` that :func:`encode_first_max` encoded.

    Checked strictly: exactly the fields of a :class:`FirstMax` and its
    :class:`Setup`, each of the right type, every number finite; with
    ``expected`` (the :func:`first_max_params` it was stored under) also that
    it is that point's result.  Anything else raises :class:`BadEntry`."""
    result_fields = {f.name for f in dataclasses.fields(FirstMax)}
    data = _fields("the entry", data, result_fields)
    setup = _fields("setup", data["setup"], {f.name for f in dataclasses.fields(Setup)})
    charger = setup["charger"]
    if not isinstance(charger, str) or charger not in CHARGERS:
        raise BadEntry(f"setup.charger is {charger!r}, not one of {CHARGERS}")
    version = data["version"]
    if not isinstance(version, str) or version not in VERSIONS:
        raise BadEntry(f"version is {version!r}, not one of {VERSIONS}")
    decoded_setup = Setup(
        n_qubits=_integer("setup.n_qubits", setup["n_qubits"], 1), charger=charger,
        kappa=_real("setup.kappa", setup["kappa"]), g=_real("setup.g", setup["g"]),
        n_th=_real("setup.n_th", setup["n_th"]),
        mean_photons=_real("setup.mean_photons", setup["mean_photons"]),
        n_cut=_integer("setup.n_cut", setup["n_cut"], 0), method=_method(setup["method"]))
    values = {name: _real(name, data[name])
              for name in result_fields - {"setup", "version"}}
    result = FirstMax(setup=decoded_setup, version=version, **values)
    if expected is not None:
        found = first_max_params(decoded_setup.n_qubits, charger, decoded_setup.kappa,
                                 version=version, g=decoded_setup.g, n_th=decoded_setup.n_th,
                                 method=decoded_setup.method)
        if found != expected:
            raise BadEntry(f"the entry holds the result for {found}, not for {expected}")
    return result


def load_first_max(params: dict[str, Any]) -> FirstMax | None:
    """The cached first maximum for ``params`` (from :func:`first_max_params`),
    or None: no entry, or one that is not a valid record of this point."""
    try:
        return decode_first_max(load(FIRST_MAX, params), expected=params)
    except BadEntry:
        return None


def store_first_max(params: dict[str, Any], result: FirstMax) -> bool:
    """Store a first maximum under ``params`` (atomically; see :func:`store`)."""
    return store(FIRST_MAX, params, encode_first_max(result))


def cached_first_max(cache: bool = True, *, n_qubits: Any, charger: Any = "fock",
                     kappa: Any = 0.0, version: Any = "collective", g: Any = 1.0,
                     n_th: Any = 0.0, method: Any = "blocks") -> FirstMax:
    """:func:`qbhelpers.first_max` through the disk cache (same keywords;
    every argument is validated before the cache is read)."""
    setup = make_setup(n_qubits, charger, kappa, g=g, n_th=n_th, method=method)
    version = check_choice("version", version, VERSIONS)
    params = first_max_params(setup.n_qubits, setup.charger, setup.kappa, version=version,
                              g=setup.g, n_th=setup.n_th, method=setup.method)
    if cache:
        hit = load_first_max(params)
        if hit is not None:
            return hit
    result = first_max(setup.n_qubits, setup.charger, setup.kappa, version=version, g=setup.g,
                       n_th=setup.n_th, method=setup.method)
    if cache:
        store_first_max(params, result)
    return result
