"""Shared matplotlib helpers (Agg backend, PNG files) for the analysis modules.

:func:`save_png` is the one place a PNG is written; figures come from :func:`new_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ssbflow.analysis.slices import LineProfile, PlaneSlice


def new_figure(n_rows: int = 1, n_cols: int = 1, size_in: tuple[float, float] = (6.0, 4.0),
               sharex: bool = False):
    """A matplotlib figure and its (n_rows, n_cols) axes array on the Agg backend (no display
    needed); ``sharex`` shares the x axis between the panels. Save it with :func:`save_png`."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in, layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=sharex)
    return fig, axes


def save_png(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Save a figure as PNG (creating the folder) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def plot_profiles(
    x: np.ndarray,
    curves: Sequence[tuple[np.ndarray, str]],
    path: str | Path,
    *,
    xlabel: str,
    ylabels: Sequence[str],
    vlines: Sequence[tuple[float, str]] = (),
    hlines: Sequence[tuple[float, str]] = (),
    title: str = "",
) -> Path:
    """One panel per curve, sharing the x axis, with optional marker lines; write a PNG.

    Parameters
    ----------
    x
        Common abscissa.
    curves
        (y, legend label) per panel.
    path
        Output PNG.
    xlabel, ylabels
        Axis labels (one y label per curve).
    vlines, hlines
        (position, label) of vertical / horizontal marker lines (drawn on every panel / on the
        first panel).
    title
        Figure title.
    """
    fig, axes = new_figure(len(curves), 1, (6.5, 2.6 * len(curves) + 0.6))
    for row, ((y, label), ylabel) in enumerate(zip(curves, ylabels, strict=True)):
        ax = axes[row, 0]
        ax.plot(x, y, lw=1.2, label=label)
        ax.axhline(0.0, color="0.6", lw=0.6)
        for pos, text in vlines:
            ax.axvline(pos, color="tab:red", ls="--", lw=0.8)
            if row == 0 and text:
                ax.annotate(text, (pos, 1.0), xycoords=("data", "axes fraction"),
                            rotation=90, va="top", ha="right", fontsize=7)
        if row == 0:
            for pos, text in hlines:
                ax.axhline(pos, color="tab:green", ls=":", lw=0.9, label=text)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, loc="best")
    axes[-1, 0].set_xlabel(xlabel)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_png(fig, path)


def plot_plane(
    plane: PlaneSlice,
    path: str | Path,
    *,
    label: str,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "viridis",
    symmetric: bool = False,
    title: str = "",
) -> Path:
    """Colour map of a :class:`~ssbflow.analysis.slices.PlaneSlice` with atoms marked.

    ``symmetric`` centres the colour scale on zero (diverging map, for Δρ); otherwise
    ``vmin``/``vmax`` fix the range (0 and 1 for ELF).
    """
    fig, axes = new_figure(1, 1, (6.0, 5.0))
    ax = axes[0, 0]
    values = plane.values
    if symmetric:
        limit = float(np.max(np.abs(values))) or 1.0
        vmin, vmax, cmap = -limit, limit, "RdBu_r"
    image = ax.pcolormesh(plane.s_A, plane.t_A, values.T, shading="auto", cmap=cmap,
                          vmin=vmin, vmax=vmax)
    for symbol, s, t in plane.atoms:
        ax.plot(s, t, "o", ms=5, mfc="white", mec="black")
        ax.annotate(symbol, (s, t), xytext=(3, 3), textcoords="offset points", fontsize=8)
    ax.set_aspect("equal")
    ax.set_xlabel("s (Å)")
    ax.set_ylabel("t (Å)")
    fig.colorbar(image, ax=ax, label=label)
    if title:
        ax.set_title(title, fontsize=9)
    return save_png(fig, path)


def plot_line(profile: LineProfile, path: str | Path, *, ylabel: str, title: str = "") -> Path:
    """Values along a line between two atoms."""
    fig, axes = new_figure(1, 1, (6.0, 3.5))
    ax = axes[0, 0]
    ax.plot(profile.distance_A, profile.values, lw=1.3)
    start, end = profile.labels
    ax.set_xlabel(f"distance from {start} towards {end} (Å)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0.0, profile.length_A)
    if title:
        ax.set_title(title, fontsize=9)
    return save_png(fig, path)
