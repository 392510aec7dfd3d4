"""Numbers as text, and small tables, for the book's prose (no physics here).

The chapters insert computed numbers into their sentences (with myst-nb's
``glue``) and show short tables; both go through these functions, so that a
number is written the same way everywhere and a rerun writes the same text
for the same value (the committed notebooks are compared as text).

Nothing here imports the physics; every function takes plain numbers.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

#: What a table cell shows for a value that is not defined (NaN).
UNDEFINED = "—"

#: The chargers' names inside a sentence (figures and tables capitalise them all,
#: see :data:`qbhelpers.plotting.CHARGER_NAMES`).
CHARGER_WORDS = {"fock": "Fock", "coherent": "coherent", "thermal": "thermal"}


def fmt(x: float, digits: int = 4) -> str:
    """``x`` with ``digits`` decimals; a value that rounds to zero has no sign,
    NaN is written as :data:`UNDEFINED`.

    >>> fmt(-1e-12), fmt(0.46489, 3), fmt(float("nan"))
    ('0.0000', '0.465', '—')
    """
    if not isinstance(digits, (int, np.integer)) or digits < 0:
        raise ValueError(f"digits must be an integer >= 0, got {digits!r}")
    x = float(x)
    if math.isnan(x):
        return UNDEFINED
    text = f"{x:.{digits}f}"
    if float(text) == 0.0:
        text = f"{0.0:.{digits}f}"
    return text


def fmt_g(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits, no trailing zeros (``0.25``, ``1.3``, ``4``)."""
    x = float(x)
    if math.isnan(x):
        return UNDEFINED
    text = f"{x:.{digits}g}"
    return "0" if float(text) == 0.0 else text


def pct(x: float, digits: int = 0) -> str:
    """A fraction as a percentage: ``pct(0.4213) == '42%'``."""
    return UNDEFINED if math.isnan(float(x)) else f"{fmt(100.0 * float(x), digits)}%"


def fmt_range(lo: float, hi: float, digits: int = 2) -> str:
    """``'0.86–0.89'``, or one number when both ends print the same."""
    a, b = fmt(lo, digits), fmt(hi, digits)
    return a if a == b else f"{a}–{b}"


def join_words(items: Sequence[str], last: str = "and") -> str:
    """``'a, b and c'`` (``last`` joins the final two)."""
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def fmt_list(values: Iterable[float], digits: int = 2, last: str = "and") -> str:
    """Numbers as a sentence: ``fmt_list([1, 1.667, 2.35]) == '1.00, 1.67 and 2.35'``."""
    return join_words([fmt(v, digits) for v in values], last)


def int_list(values: Iterable[int]) -> str:
    """Integers, with runs of three or more consecutive ones written ``a–b``:
    ``int_list([1, 2, 3, 4, 6, 8]) == '1–4, 6, 8'``."""
    vals = sorted({int(v) for v in values})
    if not vals:
        return "none"
    parts, start, prev = [], vals[0], vals[0]
    for v in vals[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        if prev - start >= 2:
            parts.append(f"{start}–{prev}")
        else:
            parts.extend(str(x) for x in range(start, prev + 1))
        if v is not None:
            start = prev = v
    return ", ".join(parts)


def _cell(value: Any) -> str:
    text = str(value)
    return text.replace("|", r"\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]],
                   align: Sequence[str] | None = None) -> str:
    """A Markdown (GFM) table.  ``align`` holds one of ``"l"``, ``"c"``, ``"r"``
    per column (default: first column left, the others right)."""
    header = [str(h) for h in header]
    rows = [list(r) for r in rows]
    if not header:
        raise ValueError("a table needs at least one column")
    for r in rows:
        if len(r) != len(header):
            raise ValueError(f"every row must have {len(header)} cells, got {len(r)}: {r!r}")
    if align is None:
        align = ["l"] + ["r"] * (len(header) - 1)
    if len(align) != len(header) or any(a not in ("l", "c", "r") for a in align):
        raise ValueError(f"align must hold one of 'l', 'c', 'r' per column, got {align!r}")
    rule = {"l": ":---", "c": ":---:", "r": "---:"}
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "| " + " | ".join(rule[a] for a in align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


class Table:
    """A table that a notebook displays as a rendered Markdown table.

    Its plain-text form (what a terminal or a text comparison sees) is one
    short line; the numbers are in the Markdown form, which Jupyter and the
    book render as a table.
    """

    def __init__(self, header: Sequence[str], rows: Iterable[Sequence[Any]],
                 align: Sequence[str] | None = None, title: str = "") -> None:
        self.header = [str(h) for h in header]
        self.rows = [list(r) for r in rows]
        self.title = str(title)
        self.markdown = markdown_table(self.header, self.rows, align)

    def _repr_markdown_(self) -> str:
        return (f"**{self.title}**\n\n" if self.title else "") + self.markdown

    def __repr__(self) -> str:
        name = f" {self.title!r}" if self.title else ""
        return f"<Table{name}: {len(self.rows)} rows × {len(self.header)} columns>"
