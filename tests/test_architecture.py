"""The package's imports run one way (issue 11).

Layers, lowest first: the leaf utilities (``validation``, ``_version``,
``units``) → ``physics`` → ``engines`` → ``problem`` (setups and results) →
the verbs (``battery``) and ``studies`` → the reader-facing ``plotting``,
``widgets`` and ``cli``.  A module may import from its own layer or below,
never above; there is no import cycle anywhere; no module imports the
package's ``__init__``; and ``import qbhelpers`` loads no plotting library
(nor QuTiP, which loads matplotlib) until one is used.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "qbhelpers"

#: module (dotted, without the package name) -> layer
LAYERS = [
    ("_version", 0), ("validation", 0), ("units", 0),
    ("physics", 1), ("engines", 2), ("problem", 3),
    ("battery", 4), ("whole_cycle", 4), ("studies", 4),
    ("tables", 5), ("claims", 5), ("grids", 5), ("checks", 5),
    ("plotting", 5), ("widgets", 5), ("cli", 5), ("__main__", 5),
]


def _layer(module: str) -> int:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"module {module!r} is in no layer: add it to LAYERS")


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _imports(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import of the package."""
    tree = ast.parse(path.read_text())
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] if node.level > 1 else package
                target = ".".join([p for p in base if p] + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("qbhelpers"):
                target = node.module[len("qbhelpers"):].lstrip(".")
            else:
                continue
            found.append((target, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("qbhelpers"):
                    found.append((alias.name[len("qbhelpers"):].lstrip("."), node.lineno))
    return found


MODULES = _modules()


@pytest.mark.parametrize("name", sorted(m for m in MODULES if m))
def test_imports_run_one_way(name):
    for target, line in _imports(name, MODULES[name]):
        assert target != "", f"{name}:{line} imports the package's __init__"
        assert _layer(target) <= _layer(name), \
            f"{name} (layer {_layer(name)}) imports {target} (layer {_layer(target)}) at line {line}"


def test_no_import_cycle():
    """Module-to-module imports form no cycle (a package's __init__ importing
    its submodules, which Python runs as part of the package, is an edge like
    any other; a submodule's implicit run of its parent package is not)."""
    graph = {name: {t for t, _ in _imports(name, MODULES[name]) if t in MODULES and t != name}
             for name in MODULES if name}
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join(
                stack[stack.index(nxt):] + [nxt])
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_import_qbhelpers_loads_no_plotting_library():
    code = ("import sys, qbhelpers; "
            "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'qutip') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent)
    assert out.stdout.strip() == "[]"
    # and the reader-facing modules load on first use
    code = "import qbhelpers; qbhelpers.plotting.LABELS; import sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent)
    assert out.stdout.strip() == "True"
