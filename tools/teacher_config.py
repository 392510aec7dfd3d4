"""Print the Jupyter Book configuration of the book without solutions.

`make book-teacher` builds the HTML with every solution left out, for a
teacher to put online for a class.  It uses `_config.yml` with three changes:
sphinx-exercise's ``hide_solutions`` on (made to work for gated solutions by
``_ext/hide_solutions.py``), the local extensions found from the repository
(the generated file lives in ``_build/``), and the execution cache of
`make book` (``_build/.jupyter_cache``), so no chapter is executed again.

    python tools/teacher_config.py > _build/teacher_config.yml
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def teacher_config(root: Path = ROOT) -> dict:
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf8"))
    sphinx = config.setdefault("sphinx", {})
    sphinx.setdefault("config", {})["hide_solutions"] = True
    sphinx["local_extensions"] = {name: str((root / path).resolve())
                                  for name, path in sphinx.get("local_extensions", {}).items()}
    config.setdefault("execute", {})["cache"] = str(root / "_build" / ".jupyter_cache")
    config["title"] = f"{config.get('title', '')} (exercises without solutions)".strip()
    return config


if __name__ == "__main__":
    yaml.safe_dump(teacher_config(), sys.stdout, sort_keys=False, allow_unicode=True)
