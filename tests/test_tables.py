"""qbhelpers.tables: numbers as text and Markdown tables for the chapters' prose."""
from __future__ import annotations

import math

import pytest

from qbhelpers import tables as T


@pytest.mark.parametrize("value, digits, text", [
    (0.46489, 3, "0.465"),
    (-1e-12, 4, "0.0000"),          # rounds to zero: no sign
    (-0.00004, 4, "0.0000"),
    (-0.00006, 4, "-0.0001"),
    (3.0, 0, "3"),
    (float("nan"), 2, T.UNDEFINED),
])
def test_fmt(value, digits, text):
    assert T.fmt(value, digits) == text


def test_fmt_rejects_bad_digits():
    with pytest.raises(ValueError, match="digits"):
        T.fmt(1.0, -1)
    with pytest.raises(ValueError, match="digits"):
        T.fmt(1.0, 1.5)


@pytest.mark.parametrize("value, text", [(0.25, "0.25"), (1.0, "1"), (2.0 * 0.5, "1"), (-0.0, "0"), (1e-20, "1e-20"),
                                         (0.1 + 0.2, "0.3"), (4.0, "4")])
def test_fmt_g(value, text):
    assert T.fmt_g(value) == text


def test_pct_and_range():
    assert T.pct(0.4213) == "42%"
    assert T.pct(0.0167, 1) == "1.7%"
    assert T.pct(math.nan) == T.UNDEFINED
    assert T.fmt_range(0.861, 0.889) == "0.86–0.89"
    assert T.fmt_range(0.861, 0.8649) == "0.86"      # both ends print the same: one number


def test_join_words_and_lists():
    assert T.join_words([]) == ""
    assert T.join_words(["a"]) == "a"
    assert T.join_words(["a", "b"]) == "a and b"
    assert T.join_words(["a", "b", "c"], last="or") == "a, b or c"
    assert T.fmt_list([1, 1.667, 2.35]) == "1.00, 1.67 and 2.35"


@pytest.mark.parametrize("values, text", [
    ([1, 2, 3, 4, 6, 8], "1–4, 6, 8"),
    ([8, 1, 2], "1, 2, 8"),           # unsorted input; a run of two stays as two numbers
    ([5], "5"),
    ([], "none"),
    ([3, 3, 4, 5], "3–5"),            # duplicates are ignored
])
def test_int_list(values, text):
    assert T.int_list(values) == text


def test_markdown_table_layout_and_escaping():
    md = T.markdown_table(["N", "value"], [[1, "a|b"], [2, 0.5]])
    assert md.splitlines() == ["| N | value |", "| :--- | ---: |", "| 1 | a\\|b |", "| 2 | 0.5 |"]
    md = T.markdown_table(["x", "y", "z"], [[1, 2, 3]], align=["c", "l", "r"])
    assert md.splitlines()[1] == "| :---: | :--- | ---: |"


def test_markdown_table_rejects_ragged_rows_and_bad_alignment():
    with pytest.raises(ValueError, match="2 cells"):
        T.markdown_table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="align"):
        T.markdown_table(["a", "b"], [[1, 2]], align=["l"])
    with pytest.raises(ValueError, match="at least one column"):
        T.markdown_table([], [])


def test_table_has_a_short_plain_text_form():
    rows = [[i, i * i] for i in range(30)]
    table = T.Table(["n", "n squared"], rows, title="Squares")
    plain = repr(table)
    assert plain == "<Table 'Squares': 30 rows × 2 columns>"     # one line, whatever the size
    md = table._repr_markdown_()
    assert md.startswith("**Squares**\n\n| n | n squared |")
    assert md.count("\n") == 2 + 1 + 30                            # title, blank line, header, rule, rows


def test_charger_words_cover_every_charger():
    from qbhelpers.physics.states import CHARGERS
    assert set(T.CHARGER_WORDS) == set(CHARGERS)
    assert T.CHARGER_WORDS["fock"] == "Fock"                       # a name, capitalised in prose too
