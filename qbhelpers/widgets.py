"""Ready-made figures and interactive explorers for the book's notebooks.

Nothing here computes physics: every number comes from :func:`qbhelpers.charge`
and :func:`qbhelpers.first_max_grid` (whose disk cache makes repeated calls
cheap).  Figures use the paper's units: time as t/(π/Ω_R), dissipation as
κ/Ω_R, with Ω_R = 2g; energies in ħω.  The coupling is the package default
g = 1, which drops out of every quantity shown in these units.

Import explicitly (``import qbhelpers.widgets``); the package itself does not
import ipywidgets.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .battery import charge
from .physics.states import CHARGERS
from .plotting import (CHARGER_NAMES, GAMMA_LABELS, LABELS, PAGE_WIDTH, QUANTITY_COLORS,
                       QUANTITY_LABELS, n_colors, new_axes)
from .studies.sweep import first_max_grid
from .units import kappa_from_paper, time_to_paper

#: The book's standard dissipation grid, in the paper's units κ/Ω_R.
STANDARD_KAPPAS_OVER_OMEGA_R: np.ndarray = np.linspace(0.0, 2.0, 21)

#: Colours of the four energy curves of :func:`plot_charging` (the book's, see
#: :data:`qbhelpers.plotting.QUANTITY_COLORS`).
ENERGY_COLORS = {q: QUANTITY_COLORS[q] for q in ("E_h", "ergotropy", "E_c", "Q")}

#: The collective enhancements, in the order of :func:`plot_enhancement`'s panels.
ENHANCEMENT_FIGURES = tuple((f, GAMMA_LABELS[f]) for f in ("energy", "ergotropy", "power", "rate"))

#: Labels of the explorers' controls, in TeX between \\( and \\): Jupyter and the
#: book's pages typeset them with MathJax (no raw "κ/Ω_R" underscore).
CONTROL_LABELS = {
    "n_qubits": r"\(N\)",
    "kappa_over_omega_r": r"\(\kappa/\Omega_R\)",
    "charger": "charger",
    "max_n": r"largest \(N\)",
}


def _check_kappa_over_omega_r(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"kappa_over_omega_r must be a real number (κ/Ω_R), got {value!r}")
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"kappa_over_omega_r must be a finite number >= 0 (κ/Ω_R), got {v}")
    return v


def plot_charging(n_qubits: int = 3, kappa_over_omega_r: float = 0.25, charger: str = "fock",
                  ax: Axes | None = None, *, n_times: int = 201) -> Figure:
    """Charging of the collective battery: E_h, ℰ_h, E_c and Q against time.

    Parameters
    ----------
    n_qubits : number of qubits N; the charger starts with n̄ = N photons.
    kappa_over_omega_r : dissipation κ/Ω_R (dimensionless, the paper's unit;
        the photon loss rate is 2κ).
    charger : "fock", "coherent" or "thermal" initial charger state.
    ax : axes to draw on (default: a new figure).
    n_times : number of time points between 0 and 1.5 τ̄.

    The curves are the holder energy E_h, the holder ergotropy ℰ_h (all
    unitaries of the N qubits), the charger energy E_c and the heat Q released
    to the bath, in ħω, against t/(π/Ω_R).  Dashed lines mark the first maximum
    τ̄ of E_h and its value Ē.

    Returns the matplotlib figure that holds ``ax``.
    """
    kappa = kappa_from_paper(_check_kappa_over_omega_r(kappa_over_omega_r))
    sweep = first_max_grid([n_qubits], [kappa], chargers=(charger,), versions=("collective",),
                           progress=False)
    tau = float(sweep.get("tau", charger)[0, 0])
    e_bar = float(sweep.get("energy", charger)[0, 0])
    traj = charge(n_qubits, charger, kappa, times=np.linspace(0.0, 1.5 * tau, int(n_times)))

    if ax is None:
        _, ax = new_axes(figsize=(PAGE_WIDTH, 4.0))
    x = time_to_paper(traj.t)
    for q in ("E_h", "ergotropy", "E_c", "Q"):
        ax.plot(x, getattr(traj, q), color=QUANTITY_COLORS[q],
                lw=2 if q in ("E_h", "ergotropy") else 1.5, label=QUANTITY_LABELS[q])
    x_bar = float(time_to_paper(tau))
    ax.axvline(x_bar, color="k", ls="--", lw=0.8)
    ax.axhline(e_bar, color="k", ls="--", lw=0.8)
    ax.annotate(r"$\bar\tau$", (x_bar, 1.0), xycoords=("data", "axes fraction"),
                xytext=(3, -14), textcoords="offset points")
    ax.annotate(r"$\bar E$", (0.0, e_bar), xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(0.0, float(x[-1]))
    ax.set_ylim(0.0, 1.05 * traj.mean_photons)
    ax.set_xlabel(LABELS["t"])
    ax.set_ylabel(LABELS["energy"])
    ax.set_title(rf"$N={traj.n_qubits}$, $\kappa/\Omega_R={kappa_over_omega_r:g}$, "
                 f"{CHARGER_NAMES[traj.charger]} charger")
    ax.legend(loc="best")
    return ax.figure


def _explorer(draw: Callable[..., Figure], **controls: Any) -> Any:
    """An ``ipywidgets.interactive`` over ``draw`` (which returns a figure).

    Later redraws go through the usual ``interactive`` path (the figure is
    shown inside the widget's Output).  The *first* drawing, made while the
    notebook cell that builds the explorer is still running, is instead put
    into the Output widget's state directly: executors such as nbclient
    (used by jupyter-book, papermill and ``jupyter execute``) capture output
    sent into an Output widget by messaging the kernel on the channel they
    are waiting on, which intermittently stalls the cell until its timeout
    (jupyter/nbclient#312, jupyter/nbconvert#1921).
    """
    import ipywidgets as w
    from IPython import get_ipython

    def show(**kwargs: Any) -> None:
        draw(**kwargs)
        plt.show()

    class Explorer(w.interactive):
        _first_drawn = False

        def update(self, *args: Any) -> None:
            shell = get_ipython()
            if self._first_drawn or shell is None:
                return super().update(*args)
            self._first_drawn = True
            self.kwargs = {c._kwarg: c.get_interact_value() for c in self.kwargs_widgets}
            fig = draw(**self.kwargs)
            data, metadata = shell.display_formatter.format(fig)
            plt.close(fig)
            self.out.outputs = ({"output_type": "display_data", "data": data,
                                 "metadata": metadata},)

    return Explorer(show, **controls)


def _described(control: str) -> dict[str, Any]:
    """The keywords that give a control its typeset label."""
    return {"description": CONTROL_LABELS[control]}


def charging_explorer() -> Any:
    """An ``ipywidgets.interactive`` that redraws :func:`plot_charging`.

    Controls: N (1..8 qubits), κ/Ω_R (0..2 in steps of 0.05) and the
    charger.  Each change recomputes one trajectory (well under a second for
    a Fock charger; up to ~10 s for a coherent charger at N = 8).
    """
    import ipywidgets as w

    return _explorer(
        plot_charging,
        n_qubits=w.IntSlider(value=3, min=1, max=8, step=1, continuous_update=False,
                             **_described("n_qubits")),
        kappa_over_omega_r=w.FloatSlider(value=0.25, min=0.0, max=2.0, step=0.05,
                                         continuous_update=False,
                                         **_described("kappa_over_omega_r")),
        charger=w.Dropdown(options=[(CHARGER_NAMES[c], c) for c in CHARGERS], value="fock",
                           **_described("charger")),
    )


def plot_enhancement(n_values: Sequence[int] = (1, 2, 3, 4), charger: str = "fock",
                     ax: Any = None, *,
                     kappas_over_omega_r: Sequence[float] | None = None) -> Figure:
    """Collective enhancements Γ_f = f#/f‖ against κ/Ω_R, one line per N.

    Parameters
    ----------
    n_values : numbers of qubits N (collective: n̄ = N; parallel: N cells of
        one qubit and one photon on average).
    charger : "fock", "coherent" or "thermal".
    ax : four matplotlib Axes (any array shape; used in the order Γ_E, Γ_ℰ,
        Γ_P, Γ_Ω) or None for a new 2×2 figure.
    kappas_over_omega_r : dissipation grid κ/Ω_R (default: the standard grid,
        21 points from 0 to 2).

    Γ are dimensionless ratios at the first maximum τ̄ of E_h: energy Ē,
    ergotropy ℰ̄, power Ē/τ̄ and transfer rate 2π/τ̄.  Γ_ℰ is undefined (left
    blank) where the parallel ergotropy is 0.  Values come from
    :func:`qbhelpers.first_max_grid` (disk-cached).

    Returns the figure.
    """
    grid = STANDARD_KAPPAS_OVER_OMEGA_R if kappas_over_omega_r is None \
        else np.asarray(kappas_over_omega_r, dtype=float)
    for k in np.ravel(grid):
        _check_kappa_over_omega_r(float(k))
    n_values = tuple(int(n) for n in n_values)
    if not n_values:
        raise ValueError("n_values must name at least one number of qubits")
    sweep = first_max_grid(n_values, kappa_from_paper(grid), chargers=(charger,),
                           progress=False)
    if ax is None:
        fig, axes = new_axes(2, 2, figsize=(PAGE_WIDTH, 5.2), sharex=True)
        axes = np.ravel(axes)
        x_labelled = (2, 3)
    else:
        axes = np.ravel(np.asarray(ax, dtype=object))
        if axes.size != 4:
            raise ValueError(f"ax must hold four Axes (one per enhancement), got {axes.size}")
        fig = axes[0].figure
        x_labelled = (0, 1, 2, 3)
    colors = n_colors(n_values)
    for i_ax, (a, (figure, label)) in enumerate(zip(axes, ENHANCEMENT_FIGURES)):
        gamma = sweep.enhancement(figure, charger)
        for i, n in enumerate(n_values):
            a.plot(grid, gamma[i], "o-", ms=3, color=colors[n], label=rf"$N={n}$")
        a.axhline(1.0, color="k", lw=0.8, ls=":")
        a.set_ylabel(label)
        if i_ax in x_labelled:
            a.set_xlabel(LABELS["kappa"])
        if figure == "ergotropy" and np.isnan(gamma).any():
            a.text(0.98, 0.02, r"blank: $\mathcal{E}^\parallel = 0$", transform=a.transAxes,
                   ha="right", va="bottom")
    axes[0].legend(ncols=2)
    fig.suptitle(f"Collective enhancements, {CHARGER_NAMES[charger]} charger")
    return fig


def enhancement_explorer(charger: str = "fock", max_n: int = 4) -> Any:
    """An ``ipywidgets.interactive`` that redraws :func:`plot_enhancement`.

    Controls: the charger and the largest N (2..8; lines for N = 1..max);
    ``charger`` and ``max_n`` are the settings it starts with (and draws
    first).  The first call for a new (charger, N) computes 21 first maxima
    per version (seconds for Fock, up to minutes for a coherent charger at
    N = 8); later calls read the disk cache.
    """
    import ipywidgets as w

    if charger not in CHARGERS:
        raise ValueError(f"charger must be one of {CHARGERS}, got {charger!r}")
    if isinstance(max_n, bool) or not isinstance(max_n, (int, np.integer)) or not 2 <= max_n <= 8:
        raise ValueError(f"max_n must be an integer from 2 to 8 (the largest N drawn), got {max_n!r}")

    def draw(charger: str, max_n: int) -> Figure:
        return plot_enhancement(tuple(range(1, max_n + 1)), charger)

    return _explorer(
        draw,
        charger=w.Dropdown(options=[(CHARGER_NAMES[c], c) for c in CHARGERS], value=charger,
                           **_described("charger")),
        max_n=w.IntSlider(value=int(max_n), min=2, max=8, step=1, continuous_update=False,
                          **_described("max_n")),
    )
