"""Packaging, licences, citation and the lock file.

Fast checks: the version is written in one place (``qbhelpers/_version.py``)
and everything that shows it agrees; the licence files and every statement of
the licences; ``CITATION.cff``; the lock pins every package of this
environment and satisfies what ``pyproject.toml`` declares.

Slow checks (each builds a throwaway virtual environment, ~30 s):
``pip install .`` with only the declared core dependencies (pinned to the
lock's versions with ``-c requirements.txt``) gives an importable package, a
working ``qbhelpers`` console command and the right version, without
matplotlib; and ``cffconvert --validate`` accepts ``CITATION.cff`` against the
official Citation File Format schema.
"""
from __future__ import annotations

import ast
import datetime as dt
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = ROOT / "requirements.txt"
DIRECT = ROOT / "requirements.in"
INIT = (ROOT / "qbhelpers" / "__init__.py").read_text()
CORE = ["numpy", "scipy", "qutip", "numba", "tqdm"]
#: cffconvert, used only to validate CITATION.cff (in a throwaway venv: its
#: pins, jsonschema < 4 among them, do not fit the book's environment).
CFFCONVERT = "cffconvert==2.0.0"


def version_in_source() -> str:
    """The version, parsed from the one file that defines it."""
    tree = ast.parse((ROOT / "qbhelpers" / "_version.py").read_text())
    assigns = [n for n in tree.body if isinstance(n, ast.Assign)]
    assert [t.id for n in assigns for t in n.targets] == ["__version__"], \
        "qbhelpers/_version.py must assign __version__ and nothing else"
    return ast.literal_eval(assigns[0].value)


def _lock() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+!\-]+)", line)
        assert m, f"requirements.txt: not an exact pin: {line!r}"
        pins[canonicalize_name(m[1])] = m[2]
    return pins


# ------------------------------------------------------------------ version
def test_version_is_defined_once():
    assert re.fullmatch(r"\d+\.\d+\.\d+", version_in_source())
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "qbhelpers._version.__version__"}
    assert not re.search(r"^__version__\s*=", INIT, re.M), \
        "qbhelpers/__init__.py must import the version, not write it again"


def test_package_reports_the_version():
    import qbhelpers
    assert qbhelpers.__version__ == version_in_source()


def test_citation_and_changelog_carry_the_version():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == version_in_source()
    assert f"## [{version_in_source()}]" in (ROOT / "CHANGELOG.md").read_text()


# ----------------------------------------------------------------- licences
def test_licence_files_hold_the_full_texts():
    mit = (ROOT / "LICENSE").read_text()
    assert mit.startswith("MIT License") and "Permission is hereby granted, free of charge" in mit
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in mit
    cc = (ROOT / "LICENSE-CC-BY-4.0").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in cc
    for n, title in enumerate(["Definitions", "Scope", "License Conditions",
                               "Sui Generis Database Rights",
                               "Disclaimer of Warranties and Limitation of Liability",
                               "Term and Termination", "Other Terms and Conditions",
                               "Interpretation"], start=1):
        assert f"Section {n} -- {title}." in cc
    assert len(cc) > 18_000   # the whole legal code, not a summary


def test_licences_are_stated_everywhere():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert json.loads((ROOT / "package.json").read_text())["license"] == "MIT"
    readme = (ROOT / "README.md").read_text()
    assert "CC BY 4.0" in readme and "MIT" in readme and "LICENSE-CC-BY-4.0" in readme
    footer = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["extra_footer"]
    assert "CC BY 4.0" in footer and "MIT" in footer
    assert "{version}" in footer and "{build_date}" in footer


def test_citation_file_has_the_required_fields():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "date-released", "license"):
        assert citation.get(key), f"CITATION.cff: no {key}"
    dt.date.fromisoformat(str(citation["date-released"]))
    assert sorted(citation["license"]) == ["CC-BY-4.0", "MIT"]


# --------------------------------------------------------------------- lock
def test_lock_pins_every_package_of_this_environment():
    """Every distribution installed here (but qbhelpers itself) is in the lock,
    at the installed version: nothing in the environment is unpinned."""
    lock = _lock()
    # site-packages only: setuptools puts its vendored packages on sys.path
    site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    installed = {canonicalize_name(d.metadata["Name"]): d.version
                 for d in importlib.metadata.distributions(path=sorted(site))}
    installed.pop("qbhelpers", None)
    unpinned = sorted(set(installed) - set(lock))
    assert not unpinned, f"installed but not in requirements.txt: {unpinned}"
    moved = {n: (v, lock[n]) for n, v in installed.items() if lock[n] != v}
    assert not moved, f"installed version differs from the lock (run `make venv`): {moved}"


def test_direct_requirements_are_pinned_the_same_in_the_lock():
    lock = _lock()
    for line in DIRECT.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert str(req.specifier).startswith("=="), f"requirements.in: pin {line!r} exactly"
        assert lock.get(name) == str(req.specifier)[2:], f"{line} vs lock {lock.get(name)}"


def test_declared_dependencies_are_met_by_the_lock():
    lock = _lock()
    project = PYPROJECT["project"]
    declared = list(project["dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        declared += [r for r in reqs if not r.startswith("qbhelpers")]
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in lock, f"pyproject declares {text} but the lock has no {name}"
        assert req.specifier.contains(lock[name], prereleases=True), \
            f"pyproject declares {text}; the lock pins {name}=={lock[name]}"
    assert [Requirement(r).name for r in project["dependencies"]] == CORE
    assert PYPROJECT["project"]["scripts"] == {"qbhelpers": "qbhelpers.cli:main"}


# --------------------------------------------------- fresh environments (slow)
def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          env=env, timeout=600, **kwargs)


def _fresh_venv(path: Path) -> Path:
    """A new venv with the lock's pip; returns its bin/ folder."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    bin_ = path / "bin"
    done = _run(bin_ / "python", "-m", "pip", "install", "--quiet",
                f"pip=={_lock()['pip']}")
    assert done.returncode == 0, done.stderr
    return bin_


@pytest.mark.slow
def test_pip_install_gives_a_working_package(tmp_path):
    """`pip install .` in a fresh venv, dependencies resolved by pip from what
    pyproject declares (constrained to the lock's versions): the package
    imports, without matplotlib; `qbhelpers --help` works and equals
    `python -m qbhelpers --help`; the version is the one of _version.py."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "qbhelpers", source / "qbhelpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    bin_ = _fresh_venv(tmp_path / "venv")
    done = _run(bin_ / "python", "-m", "pip", "install", "--quiet", "-c", LOCK, source)
    assert done.returncode == 0, done.stderr[-3000:]
    check = _run(bin_ / "python", "-m", "pip", "check")
    assert check.returncode == 0, check.stdout
    installed = _run(bin_ / "python", "-m", "pip", "list", "--format=json")
    names = {canonicalize_name(d["name"]) for d in json.loads(installed.stdout)}
    assert {"qbhelpers", *CORE} <= names
    assert "matplotlib" not in names and "papermill" not in names

    probe = _run(bin_ / "python", "-c",
                 "import sys, importlib.metadata as m, qbhelpers; "
                 "print(qbhelpers.__version__, m.version('qbhelpers')); "
                 "print('matplotlib' in sys.modules, qbhelpers.__file__)", cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr[-3000:]
    # nothing on stderr: `import qutip` warns "matplotlib not found" when it is
    # imported without matplotlib, so qbhelpers must import qutip only when used
    assert probe.stderr == "", probe.stderr[-3000:]
    versions, rest = probe.stdout.splitlines()
    assert versions.split() == [version_in_source()] * 2
    assert rest.startswith("False ") and str(tmp_path / "venv") in rest

    console = _run(bin_ / "qbhelpers", "--help", cwd=tmp_path)
    module = _run(bin_ / "python", "-m", "qbhelpers", "--help", cwd=tmp_path)
    assert console.returncode == 0, console.stderr[-3000:]
    assert module.returncode == 0, module.stderr[-3000:]
    assert console.stderr == "" and module.stderr == "", console.stderr[-3000:]
    assert "run" in console.stdout and "sweep" in console.stdout
    normalise = lambda text: re.sub(r"^usage: \S+( -m qbhelpers)?", "usage:", text)  # noqa: E731
    assert normalise(console.stdout) == normalise(module.stdout)


@pytest.mark.slow
def test_citation_file_is_valid_cff(tmp_path):
    """cffconvert validates CITATION.cff against the official CFF 1.2.0 schema."""
    bin_ = _fresh_venv(tmp_path / "venv")
    done = _run(bin_ / "python", "-m", "pip", "install", "--quiet", CFFCONVERT)
    assert done.returncode == 0, done.stderr[-3000:]
    valid = _run(bin_ / "cffconvert", "--validate", "--infile", ROOT / "CITATION.cff")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "valid" in (valid.stdout + valid.stderr).lower()
