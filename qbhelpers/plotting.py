"""The book's figure style and a few labelled-axes helpers."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

#: Colours for the three chargers, used in every chapter.
CHARGER_COLORS = {"fock": "#1f77b4", "coherent": "#d62728", "thermal": "#2ca02c"}

LABELS = {
    "t": r"$t\,/\,(\pi/\Omega_R)$",
    "kappa": r"$\kappa\,/\,\Omega_R$",
    "energy": r"energy $(\hbar\omega)$",
    "E_h": r"$E_h\ (\hbar\omega)$",
    "E_c": r"$E_c\ (\hbar\omega)$",
    "Q": r"$Q\ (\hbar\omega)$",
    "ergotropy": r"$\mathcal{E}_h\ (\hbar\omega)$",
    "power": r"$\bar P\ (\hbar\omega\,\Omega_R)$",
    "rate": r"$\bar\Omega\ (\Omega_R)$",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once per notebook)."""
    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "font.size": 11,
    })


def new_axes(nrows: int = 1, ncols: int = 1, **kw):
    """``plt.subplots`` with the book's layout (constrained)."""
    kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, **kw)


def save_figure_data(name: str, folder: str = "data", **columns) -> str:
    """Write the data behind a figure as ``<folder>/<name>.csv`` (one column per
    keyword; 1-D arrays of equal length) so readers can replot it.

    Returns the path written, relative to the notebook's folder.
    """
    import csv
    import os

    import numpy as np

    arrays = {k: np.asarray(v).ravel() for k, v in columns.items()}
    lengths = {a.size for a in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns must have equal lengths, got {sorted(lengths)}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.csv")
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(list(arrays))
        for row in zip(*arrays.values()):
            w.writerow([f"{x:.10g}" if isinstance(x, (float, np.floating)) else x for x in row])
    return path
