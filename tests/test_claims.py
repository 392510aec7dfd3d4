"""qbhelpers.claims: verdicts from boolean arrays, and rises/falls with a tolerance."""
from __future__ import annotations

import numpy as np
import pytest

from qbhelpers import claims as C


def test_verdict_words():
    assert C.verdict([True, True], np.ones((2, 3), bool)) == C.HOLDS
    assert C.verdict([True, False], [True]) == C.PARTLY
    assert C.verdict([True, True], [False, False]) == C.FAILS
    assert C.verdict([], [True]) == C.NOT_TESTED
    with pytest.raises(ValueError):
        C.verdict()


def test_verdict_only_needs_one_counterexample():
    assert C.verdict_only([True, True]) == C.HOLDS
    assert C.verdict_only([True, False, True]) == C.FAILS
    assert C.verdict_only([]) == C.NOT_TESTED


def test_rises_and_falls_tolerate_wobbles_but_not_changes():
    values = np.array([1.0, 1.0 - 1e-4, 1.1, 1.05])
    # -1e-4 relative is a wobble below a tolerance of 1e-3; -4.5% is a fall
    assert C.rises(values, 1e-3).tolist() == [True, True, False]
    assert C.rises(values, 0.05).tolist() == [True, True, True]
    assert C.rises(values, 0.0).tolist() == [False, True, False]
    assert C.falls(values, 1e-3).tolist() == [True, False, True]


def test_numerical_zeros_have_no_direction():
    values = np.array([1e-17, 3e-17, 0.0, 0.0])
    assert C.rises(values, 0.0).all() and C.falls(values, 0.0).all()
    assert not C.falls(np.array([1e-17, 1e-3]), 0.0).all()     # a real rise from zero is seen


def test_rises_along_an_axis_and_relative_steps():
    grid = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 4.0]])
    assert C.rises(grid, 0.0, axis=1).tolist() == [[True, True], [False, True]]
    assert C.rises(grid, 0.0, axis=0).tolist() == [[True, False, True]]
    assert np.allclose(C.relative_steps([2.0, 1.0]), [-0.5])


def test_tolerance_must_be_a_fraction():
    with pytest.raises(ValueError, match="tol"):
        C.rises([1.0, 2.0], -0.1)
    with pytest.raises(ValueError, match="tol"):
        C.falls([1.0, 2.0], float("nan"))


def test_gains_shrink_on_an_uneven_grid():
    n = [1, 2, 4, 8]
    concave = np.sqrt(np.asarray(n, float))            # gains per qubit shrink
    assert C.gains_shrink(n, concave, 0.0).all()
    convex = np.asarray(n, float) ** 2                  # they grow
    assert not C.gains_shrink(n, convex, 0.0).any()
    both = np.stack([concave, convex], axis=1)          # columns judged separately
    assert C.gains_shrink(n, both, 0.0).tolist() == [[True, False], [True, False]]
    with pytest.raises(ValueError, match="increasing"):
        C.gains_shrink([1, 1, 2], [1.0, 2.0, 3.0], 0.0)
    with pytest.raises(ValueError, match="rows"):
        C.gains_shrink([1, 2], [1.0, 2.0, 3.0], 0.0)


def test_relative_spread():
    stack = np.array([[1.0, 0.0], [0.9, 0.0], [0.5, 0.0]])
    assert np.allclose(C.relative_spread(stack), [0.5, 0.0])    # all-zero column: no spread


def test_where_texts():
    k = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    assert C.runs_text([True, True, False, True, False], k) == "0–0.1, 0.3"
    assert C.runs_text([False] * 5, k) == "none"
    assert C.steps_text([False, True, False, False], k) == "0.1–0.2"
    assert C.steps_text([True, False, False, True], k) == "0–0.1, 0.3–0.4"
    with pytest.raises(ValueError):
        C.steps_text([True], k)
    with pytest.raises(ValueError):
        C.runs_text([True], k)


def test_from_value():
    k = np.array([0.0, 0.1, 0.2, 0.3])
    assert C.from_value([False, True, True, True], k) == 0.1
    assert C.from_value([True, False, True, True], k) == 0.2
    assert C.from_value([True, True, True, True], k) == 0.0
    assert C.from_value([True, True, True, False], k) is None


def test_smallest_reaching():
    n = [4, 1, 2, 3]                                   # unsorted N
    values = np.array([[0.9, 0.4], [0.1, 0.1], [0.5, 0.2], [0.7, 0.3]])
    assert C.smallest_reaching(n, values, 0.5) == [2, None]
    assert C.smallest_reaching(n, values[:, 0], 0.75) == 4
    assert C.smallest_reaching(n, values[:, 1], 1.0) is None
    with pytest.raises(ValueError, match="shape"):
        C.smallest_reaching(n, np.zeros((4, 2, 2)), 0.5)


def test_paper_claims_catalogue():
    keys = list(C.PAPER_CLAIMS)
    assert keys == ["1", "2", "3", "4", "5", "6a", "6b", "6c", "6d", "7a", "7b", "7c", "8a", "8b", "8c"]
    for statement, where in C.PAPER_CLAIMS.values():
        assert statement and where
        assert statement.count("$") % 2 == 0, f"unbalanced math in {statement!r}"
        assert where.startswith(("Sec.", "App.")), where
