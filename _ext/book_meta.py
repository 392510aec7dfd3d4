"""The book's version and build date, in the footer of every page and on the
PDF's title page.

The version is the package's, read from ``qbhelpers/_version.py`` (the one
place it is written; parsed, not imported, so building the book does not
depend on importing the package).  The build date is today's (UTC), or the
date of ``SOURCE_DATE_EPOCH`` when that is set, for reproducible builds.
``html.extra_footer`` in ``_config.yml`` may use ``{version}`` and
``{build_date}``; the pages may use the MyST substitutions ``{{ version }}``,
``{{ build_date }}`` and ``{{ build_year }}``.
"""
from __future__ import annotations

import ast
import datetime as dt
import os
from pathlib import Path


def package_version(root: Path) -> str:
    """``__version__`` as assigned in ``qbhelpers/_version.py`` under ``root``."""
    tree = ast.parse((root / "qbhelpers" / "_version.py").read_text(encoding="utf8"))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "__version__"):
            return ast.literal_eval(node.value)
    raise ValueError("qbhelpers/_version.py assigns no __version__")


def build_date() -> dt.date:
    """Today (UTC), or the day of SOURCE_DATE_EPOCH when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch
           else dt.datetime.now(dt.timezone.utc))
    return now.date()


def _set_version(app, config) -> None:
    version = package_version(Path(app.srcdir))
    date = build_date().isoformat()
    config.version = config.release = version
    config.today = date
    config.myst_substitutions = {**(config.myst_substitutions or {}), "version": version,
                                 "build_date": date, "build_year": date[:4]}
    options = config.html_theme_options
    footer = options.get("extra_footer")
    if footer:
        options["extra_footer"] = footer.format(version=version, build_date=date)


def setup(app):
    app.connect("config-inited", _set_version)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
