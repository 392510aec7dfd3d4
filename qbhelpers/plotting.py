"""The book's figure style: one colour and one label per quantity, sizes that
read at the width the page shows them, and the CSV files beside the figures.

Every chapter calls :func:`use_book_style` once and takes its colours and
labels from here, so that a quantity looks the same in every figure of the
book (the widgets use the same dictionaries).

Sizes: a figure is drawn at :data:`FIGURE_DPI` dots per inch and shown at
that many CSS pixels per inch, so a figure :data:`PAGE_WIDTH` inches wide fills
the text column of the HTML book without being scaled down, and a font of
:data:`MIN_FONT_SIZE` points stays at least as large as the page's small print.
PNG figures are rendered at twice that resolution ("retina"), so they stay
sharp on high-resolution screens.
"""
from __future__ import annotations

import csv
import os
from typing import Any, Iterable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: Width of the book's text column, in inches at :data:`FIGURE_DPI` (the
#: widest a figure should be drawn).
PAGE_WIDTH = 6.4
#: Dots per inch of the figures as shown (PNG files hold twice as many).
FIGURE_DPI = 100
#: Smallest font size used in figures, in points (tick labels, legends).
MIN_FONT_SIZE = 10.0

#: One colour per quantity, in every figure of the book.
QUANTITY_COLORS: dict[str, str] = {
    "E_h": "#0072B2",                  # holder energy: blue
    "ergotropy": "#E69F00",            # holder ergotropy (all unitaries): orange
    "ergotropy_symmetric": "#D55E00",  # holder ergotropy (symmetric unitaries): vermillion
    "passive": "#56B4E9",              # holder energy that is not ergotropy: light blue
    "E_c": "#009E73",                  # charger energy: green
    "charger_ergotropy": "#00523B",    # charger ergotropy: dark green
    "Q": "#7F7F7F",                    # heat released to the bath: grey
    "balance": "#000000",              # E_h + E_c + Q: black
    "trapped": "#CC79A7",              # energy trapped in dark states (storage): reddish purple
}

#: Short symbols of the quantities (legends).
QUANTITY_SYMBOLS: dict[str, str] = {
    "E_h": r"$E_h$",
    "ergotropy": r"$\mathcal{E}_h$",
    "ergotropy_symmetric": r"$\mathcal{E}_h^{\mathrm{sym}}$",
    "passive": r"$E_h - \mathcal{E}_h$",
    "E_c": r"$E_c$",
    "charger_ergotropy": r"$\mathcal{E}_c$",
    "Q": r"$Q$",
    "balance": r"$E_h + E_c + Q$",
    "trapped": r"$E_\mathrm{trap}$",
}

#: Legend entries: symbol and what it is.
QUANTITY_LABELS: dict[str, str] = {
    "E_h": r"$E_h$ (holder energy)",
    "ergotropy": r"$\mathcal{E}_h$ (holder ergotropy)",
    "ergotropy_symmetric": r"$\mathcal{E}_h^{\mathrm{sym}}$ (symmetric unitaries)",
    "passive": r"$E_h - \mathcal{E}_h$ (not extractable)",
    "E_c": r"$E_c$ (charger energy)",
    "charger_ergotropy": r"$\mathcal{E}_c$ (charger ergotropy)",
    "Q": r"$Q$ (heat)",
    "balance": r"$E_h + E_c + Q$",
    "trapped": r"$E_\mathrm{trap}$ (trapped energy)",
}

#: Colours of the three chargers (chosen apart from the quantity colours).
CHARGER_COLORS: dict[str, str] = {"fock": "#332288", "coherent": "#CC6677", "thermal": "#999933"}

#: Display names of the chargers, capitalised, for titles, legends and menus.
CHARGER_NAMES: dict[str, str] = {"fock": "Fock", "coherent": "Coherent", "thermal": "Thermal"}

#: Axis labels with units (energies in ħω; the paper's units for time, κ and rates).
LABELS: dict[str, str] = {
    "t": r"$t\,/\,(\pi/\Omega_R)$",
    "kappa": r"$\kappa\,/\,\Omega_R$",
    "N": r"number of qubits $N$",
    "energy": r"energy $(\hbar\omega)$",
    "E_h": r"$E_h\ (\hbar\omega)$",
    "E_c": r"$E_c\ (\hbar\omega)$",
    "Q": r"$Q\ (\hbar\omega)$",
    "ergotropy": r"$\mathcal{E}_h\ (\hbar\omega)$",
    "ergotropy_symmetric": r"$\mathcal{E}_h^{\mathrm{sym}}\ (\hbar\omega)$",
    "power": r"$\bar P\ (\hbar\omega\,\Omega_R)$",
    "rate": r"$\bar\Omega\ (\Omega_R)$",
}

#: Symbols of the collective enhancements Γ_f = f#/f‖.
GAMMA_LABELS: dict[str, str] = {
    "energy": r"$\Gamma_E$",
    "ergotropy": r"$\Gamma_{\mathcal{E}}$",
    "power": r"$\Gamma_P$",
    "rate": r"$\Gamma_\Omega$",
    "Q": r"$\Gamma_Q$",
}

#: Units of the figures of merit at the first maximum, in the paper's units.
FIGURE_UNITS: dict[str, str] = {
    "energy": r"\hbar\omega", "ergotropy": r"\hbar\omega", "power": r"\hbar\omega\,\Omega_R",
    "rate": r"\Omega_R", "E_c": r"\hbar\omega", "Q": r"\hbar\omega",
}

#: Symbols of the figures of merit at the first maximum.
FIGURE_SYMBOLS: dict[str, str] = {
    "energy": r"\bar E", "ergotropy": r"\bar{\mathcal{E}}", "power": r"\bar P",
    "rate": r"\bar\Omega", "E_c": r"\bar E_c", "Q": r"\bar Q",
}


def per_qubit_label(figure: str, version: str = "#") -> str:
    """Axis label of a figure of merit of the collective battery: per qubit for
    the extensive ones (energy, ergotropy, power, E_c, Q), as is for the rate,
    with its unit, e.g. ``$\\bar E^\\#/N\\ (\\hbar\\omega)$``."""
    if figure not in FIGURE_SYMBOLS:
        raise ValueError(f"figure must be one of {tuple(FIGURE_SYMBOLS)}, got {figure!r}")
    sym = FIGURE_SYMBOLS[figure] + "^{" + ("\\#" if version == "#" else version) + "}"
    body = sym if figure == "rate" else sym + "/N"
    return rf"${body}\ ({FIGURE_UNITS[figure]})$"


def n_colors(n_values: Sequence[int]) -> dict[int, Any]:
    """One colour per number of qubits (viridis, light for the largest N)."""
    n_values = sorted(set(int(n) for n in n_values))
    cols = plt.cm.viridis(np.linspace(0.0, 0.85, max(1, len(n_values))))
    return dict(zip(n_values, cols))


def kappa_colors(count: int) -> np.ndarray:
    """``count`` colours for increasing dissipation (plasma, dark for small κ)."""
    return plt.cm.plasma(np.linspace(0.0, 0.85, max(1, int(count))))


def sequence_colors(count: int) -> np.ndarray:
    """``count`` colours for any other ordered parameter (cividis), e.g. photon numbers."""
    return plt.cm.cividis(np.linspace(0.0, 0.8, max(1, int(count))))


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once per notebook).

    Sets the fonts (at least :data:`MIN_FONT_SIZE` points), the default size
    (:data:`PAGE_WIDTH` wide) and, inside IPython, PNG output at twice the
    resolution ("retina") so that figures are sharp on high-resolution screens.
    """
    mpl.rcParams.update({
        "figure.figsize": (PAGE_WIDTH, 4.0),
        "figure.dpi": FIGURE_DPI,
        "savefig.dpi": 2 * FIGURE_DPI,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "font.size": 11,
        "axes.labelsize": 11,
        "axes.titlesize": 11,
        "figure.titlesize": 12,
        "xtick.labelsize": MIN_FONT_SIZE,
        "ytick.labelsize": MIN_FONT_SIZE,
        "legend.fontsize": MIN_FONT_SIZE,
        "legend.title_fontsize": MIN_FONT_SIZE,
        "lines.linewidth": 1.6,
        "lines.markersize": 4.0,
    })
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to configure
        return
    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("retina")


def new_axes(nrows: int = 1, ncols: int = 1, **kw):
    """``plt.subplots`` with the book's layout (constrained)."""
    kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, **kw)


def package_version() -> str:
    """The version of qbhelpers that computed a result (written into CSV headers).

    Read from ``qbhelpers/_version.py`` (the one place the version lives) of
    the package actually imported, so a CSV file names the code that made it."""
    from ._version import __version__
    return str(__version__)


def _header_value(value: Any) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_header_value(v) for v in np.ravel(np.asarray(value, dtype=object))) + "]"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.10g}"
    return str(value)


def save_figure_data(name: str, folder: str = "data", *,
                     parameters: Mapping[str, Any] | None = None,
                     units: Mapping[str, str] | None = None, **columns) -> str:
    """Write the data behind a figure as ``<folder>/<name>.csv`` so readers can replot it.

    Parameters
    ----------
    name : file name without extension.
    folder : folder, relative to the notebook's folder.
    parameters : the parameters the figure was computed with (written as
        comment lines, one ``# name = value`` each).
    units : unit of each column (written as a ``# units:`` comment line);
        columns without an entry are listed as they are.
    **columns : one column per keyword; 1-D arrays (or lists) of equal length.

    The file starts with comment lines (``#``): the figure's name, the
    qbhelpers version that computed it, the parameters and the units; then a
    header row and the data (floats with 10 significant digits).  Read it back
    with :func:`read_figure_data`, ``pandas.read_csv(path, comment="#")``, or
    any CSV reader told to skip lines that start with ``#``.

    Returns the path written, relative to the notebook's folder.
    """
    if not columns:
        raise ValueError("save_figure_data needs at least one column")
    arrays = {k: np.asarray(v).ravel() for k, v in columns.items()}
    lengths = {a.size for a in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns must have equal lengths, got {sorted(lengths)}")
    unknown = sorted(set(units or {}) - set(arrays))
    if unknown:
        raise ValueError(f"units given for columns that are not saved: {unknown}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.csv")
    with open(path, "w", newline="") as fh:
        fh.write(f"# {name}: data of a figure of the book Dissipative Quantum Batteries\n")
        fh.write(f"# computed with qbhelpers {package_version()}\n")
        for key, value in (parameters or {}).items():
            fh.write(f"# {key} = {_header_value(value)}\n")
        if units:
            fh.write("# units: " + "; ".join(f"{k} in {v}" for k, v in units.items()) + "\n")
        w = csv.writer(fh)
        w.writerow(list(arrays))
        for row in zip(*arrays.values()):
            w.writerow([f"{x:.10g}" if isinstance(x, (float, np.floating)) else x for x in row])
    return path


def read_figure_data(path: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Read a file written by :func:`save_figure_data`.

    Returns ``(columns, header)``: the columns by name (numbers as float
    arrays, anything else as string arrays) and the comment lines without
    their ``#``.
    """
    with open(path, newline="") as fh:
        lines = fh.read().splitlines()
    header = [ln[1:].strip() for ln in lines if ln.startswith("#")]
    rows = list(csv.reader(ln for ln in lines if not ln.startswith("#")))
    if not rows:
        raise ValueError(f"{path} holds no header row")
    names, data = rows[0], rows[1:]
    columns: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        values = [r[i] for r in data]
        try:
            columns[name] = np.array([float(v) for v in values])
        except ValueError:
            columns[name] = np.array(values)
    return columns, header


def grid_columns(n_values: Sequence[int], kappas_over_omega_r: Sequence[float],
                 **arrays: np.ndarray) -> dict[str, np.ndarray]:
    """Columns for :func:`save_figure_data` from arrays over an (N, κ) grid.

    Each array has shape (len(n_values), len(kappas_over_omega_r)); the result
    has the columns ``n_qubits`` and ``kappa_over_omega_r`` and one flattened
    column per array (rows in the order N major, κ minor).
    """
    n = np.asarray(n_values, dtype=int)
    k = np.asarray(kappas_over_omega_r, dtype=float)
    out: dict[str, np.ndarray] = {"n_qubits": np.repeat(n, k.size),
                                  "kappa_over_omega_r": np.tile(k, n.size)}
    for key, arr in arrays.items():
        a = np.asarray(arr)
        if a.shape != (n.size, k.size):
            raise ValueError(f"{key} has shape {a.shape}, expected {(n.size, k.size)} (N, κ)")
        out[key] = a.ravel()
    return out


def stack_columns(blocks: Iterable[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Concatenate column dictionaries that have the same keys (e.g. one per
    charger, each made by :func:`grid_columns` plus a ``charger`` column given
    as a single value, which is repeated to the block's length)."""
    blocks = list(blocks)
    if not blocks:
        raise ValueError("stack_columns needs at least one block")
    keys = list(blocks[0])
    out: dict[str, list] = {k: [] for k in keys}
    for b in blocks:
        if list(b) != keys:
            raise ValueError(f"every block must have the columns {keys}, got {list(b)}")
        length = max(np.size(v) for v in b.values())
        for k in keys:
            v = np.asarray(b[k])
            out[k].append(np.repeat(v, length) if v.ndim == 0 else v.ravel())
    return {k: np.concatenate(v) for k, v in out.items()}


def time_grid_figure(curves: Mapping[tuple[str, int], np.ndarray], times: Mapping[int, np.ndarray],
                     chargers: Sequence[str], n_values: Sequence[int],
                     kappas_over_omega_r: Sequence[float], ylabel: str, *,
                     marks: Mapping[tuple[str, int], tuple[np.ndarray, np.ndarray]] | None = None,
                     row_height: float = 1.9):
    """The paper's Figs. 8–11 layout: one panel per (charger, N), one curve per κ.

    Parameters
    ----------
    curves : ``curves[charger, N]`` has shape (len(kappas), len(times[N])).
    times : time axis of each column, in units of π/Ω_R.
    chargers, n_values : rows and columns of the grid.
    kappas_over_omega_r : the κ/Ω_R of the curves (colour legend).
    ylabel : label of the quantity (put on the first column, with the charger's name).
    marks : optional points to mark, ``marks[charger, N] = (x, y)`` with one
        point per κ (e.g. the first maxima).

    Returns ``(figure, columns)``, the columns ready for :func:`save_figure_data`.
    """
    chargers, n_values = list(chargers), [int(n) for n in n_values]
    fig, axes = new_axes(len(chargers), len(n_values),
                         figsize=(PAGE_WIDTH, row_height * len(chargers) + 0.9),
                         sharex="col", sharey="col", squeeze=False)
    colors = kappa_colors(len(kappas_over_omega_r))
    columns: dict[str, np.ndarray] = {}
    for r, c in enumerate(chargers):
        for j, n in enumerate(n_values):
            ax = axes[r, j]
            x = np.asarray(times[n])
            columns[f"t_N{n}"] = x
            y = np.asarray(curves[c, n])
            for i, kr in enumerate(kappas_over_omega_r):
                ax.plot(x, y[i], color=colors[i], lw=1.3, label=rf"${kr:g}$")
                columns[f"{c}_N{n}_kappa{kr:g}"] = y[i]
            if marks is not None:
                mx, my = marks[c, n]
                ax.scatter(mx, my, c=colors[: len(mx)], s=14, zorder=3)
            ax.locator_params(axis="both", nbins=3)
            if r == 0:
                ax.set_title(rf"$N = {n}$")
            if r == len(chargers) - 1:
                ax.set_xlabel(r"$t/(\pi/\Omega_R)$")
            if j == 0:
                ax.set_ylabel(f"{CHARGER_NAMES[c]}\n{ylabel}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels),
               title=r"$\kappa/\Omega_R$", columnspacing=1.0, handlelength=1.5)
    return fig, columns
