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
