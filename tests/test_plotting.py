"""qbhelpers.plotting: the book's figure style, the CSV files beside the figures,
and the widgets' labels and colours (which must be the book's)."""
from __future__ import annotations

import csv
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from qbhelpers import plotting as P  # noqa: E402


def test_one_colour_per_quantity_and_charger():
    colours = list(P.QUANTITY_COLORS.values())
    assert len(set(colours)) == len(colours), "two quantities share a colour"
    assert not set(colours) & set(P.CHARGER_COLORS.values()), "a charger shares a colour with a quantity"
    for table in (P.QUANTITY_SYMBOLS, P.QUANTITY_LABELS):
        assert set(table) == set(P.QUANTITY_COLORS)


def test_charger_names_are_capitalised():
    assert P.CHARGER_NAMES == {"fock": "Fock", "coherent": "Coherent", "thermal": "Thermal"}


def test_book_style_fonts_and_sizes():
    P.use_book_style()
    rc = matplotlib.rcParams
    assert rc["figure.figsize"][0] == P.PAGE_WIDTH and rc["figure.dpi"] == P.FIGURE_DPI
    assert rc["savefig.dpi"] == 2 * P.FIGURE_DPI                   # sharp on high-resolution screens
    for key in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        assert float(rc[key]) >= P.MIN_FONT_SIZE, key


def test_per_qubit_label():
    assert P.per_qubit_label("energy") == r"$\bar E^{\#}/N\ (\hbar\omega)$"
    assert P.per_qubit_label("rate") == r"$\bar\Omega^{\#}\ (\Omega_R)$"      # intensive: not divided by N
    with pytest.raises(ValueError, match="figure"):
        P.per_qubit_label("tau")


def test_colour_sequences():
    cols = P.n_colors([4, 1, 2, 2])
    assert list(cols) == [1, 2, 4]
    assert len(P.kappa_colors(5)) == 5 and len(P.sequence_colors(3)) == 3


def _read(path):
    lines = path.read_text().splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    rows = list(csv.reader(ln for ln in lines if not ln.startswith("#")))
    return comments, rows


def test_save_figure_data_writes_header_parameters_units_and_version(tmp_path):
    import qbhelpers

    path = P.save_figure_data("fig", folder=str(tmp_path / "data"), x=np.array([0.0, 0.5]), y=[1.0, 2.0 / 3.0],
                              label=["a", "b"], parameters={"N": [1, 2], "kappa_over_omega_r": 0.5, "charger": "fock"},
                              units={"x": "pi/Omega_R", "y": "hbar*omega"})
    comments, rows = _read(tmp_path / "data" / "fig.csv")
    assert path.endswith("fig.csv")
    assert f"# computed with qbhelpers {qbhelpers.__version__}" in comments
    assert "# N = [1, 2]" in comments and "# kappa_over_omega_r = 0.5" in comments and "# charger = fock" in comments
    assert "# units: x in pi/Omega_R; y in hbar*omega" in comments
    assert rows[0] == ["x", "y", "label"]
    assert rows[2] == ["0.5", "0.6666666667", "b"]                  # 10 significant digits
    columns, header = P.read_figure_data(str(tmp_path / "data" / "fig.csv"))
    assert np.allclose(columns["y"], [1.0, 2.0 / 3.0]) and columns["label"].tolist() == ["a", "b"]
    assert header[1] == f"computed with qbhelpers {qbhelpers.__version__}"


def test_save_figure_data_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="equal lengths"):
        P.save_figure_data("bad", folder=str(tmp_path), x=[1, 2], y=[1])
    with pytest.raises(ValueError, match="not saved"):
        P.save_figure_data("bad", folder=str(tmp_path), x=[1], units={"z": "g"})
    with pytest.raises(ValueError, match="at least one column"):
        P.save_figure_data("bad", folder=str(tmp_path))


def test_grid_and_stack_columns():
    cols = P.grid_columns([1, 2], [0.0, 0.5, 1.0], a=np.arange(6).reshape(2, 3))
    assert cols["n_qubits"].tolist() == [1, 1, 1, 2, 2, 2]
    assert cols["kappa_over_omega_r"].tolist() == [0.0, 0.5, 1.0, 0.0, 0.5, 1.0]
    assert cols["a"].tolist() == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="shape"):
        P.grid_columns([1, 2], [0.0], a=np.zeros((2, 2)))
    stacked = P.stack_columns([{"charger": "fock", **cols}, {"charger": "thermal", **cols}])
    assert stacked["charger"].tolist() == ["fock"] * 6 + ["thermal"] * 6
    assert stacked["a"].tolist() == list(range(6)) * 2
    with pytest.raises(ValueError, match="columns"):
        P.stack_columns([{"a": [1]}, {"b": [1]}])


def test_time_grid_figure_layout_and_columns():
    t = {1: np.linspace(0, 1, 5), 2: np.linspace(0, 0.8, 5)}
    curves = {(c, n): np.vstack([np.sin(t[n]), np.cos(t[n])]) for c in ("fock", "thermal") for n in (1, 2)}
    marks = {(c, n): (np.array([0.5, 0.6]), np.array([0.4, 0.3])) for c in ("fock", "thermal") for n in (1, 2)}
    fig, cols = P.time_grid_figure(curves, t, ["fock", "thermal"], [1, 2], [0.0, 0.5], "E", marks=marks)
    assert len(fig.axes) == 4
    assert fig.get_size_inches()[0] == pytest.approx(P.PAGE_WIDTH)
    assert set(cols) == {"t_N1", "t_N2", "fock_N1_kappa0", "fock_N1_kappa0.5", "fock_N2_kappa0", "fock_N2_kappa0.5",
                         "thermal_N1_kappa0", "thermal_N1_kappa0.5", "thermal_N2_kappa0", "thermal_N2_kappa0.5"}
    assert np.allclose(cols["thermal_N2_kappa0.5"], np.cos(t[2]))
    assert fig.axes[0].get_ylabel() == "Fock\nE"
    matplotlib.pyplot.close(fig)


def test_widgets_use_the_book_style():
    pytest.importorskip("ipywidgets")
    from qbhelpers import widgets as W

    assert all(W.ENERGY_COLORS[q] == P.QUANTITY_COLORS[q] for q in W.ENERGY_COLORS)
    assert W.CHARGER_NAMES is P.CHARGER_NAMES
    for label in W.CONTROL_LABELS.values():    # an underscore only inside math, which MathJax typesets
        assert "_" not in re.sub(r"\\\(.*?\\\)", "", label), f"a raw underscore in the widget label {label!r}"
    with pytest.raises(ValueError, match="charger"):
        W.enhancement_explorer(charger="laser")
    with pytest.raises(ValueError, match="max_n"):
        W.enhancement_explorer(max_n=9)


def test_plot_charging_draws_the_book_colours(tmp_path, monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setenv("QBHELPERS_CACHE", str(tmp_path / "cache"))
    from qbhelpers import widgets as W

    fig = W.plot_charging(1, 0.0, "fock", n_times=21)
    lines = [ln for ln in fig.axes[0].get_lines() if not ln.get_label().startswith("_")]
    assert [matplotlib.colors.to_hex(ln.get_color()).upper() for ln in lines] == \
        [P.QUANTITY_COLORS[q].upper() for q in ("E_h", "ergotropy", "E_c", "Q")]
    assert "Fock charger" in fig.axes[0].get_title()
    matplotlib.pyplot.close(fig)
