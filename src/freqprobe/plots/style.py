"""One figure style for every freqprobe plot, headless rendering and atomic PNG saving.

Figures are built as ``matplotlib.figure.Figure`` objects, never through ``pyplot``: they render with the Agg
engine whatever backend the user's matplotlib is set to, and no global figure registry keeps them alive.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Iterator

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from freqprobe.io import atomic_save

DPI = 150

PAPER_STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.4,
    "image.interpolation": "nearest",
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "axes.prop_cycle": matplotlib.cycler(color=matplotlib.colormaps["tab10"].colors),
}

SPECTRUM_CMAP = "magma"
SIGNED_CMAP = "RdBu_r"
FREQUENCY_LABEL = "cycles/pixel"


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Apply the freqprobe style while a figure is built and saved; the user's rcParams are restored after."""
    with matplotlib.rc_context(PAPER_STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A white figure of ``width`` x ``height`` inches with constrained layout (labels never overlap)."""
    return Figure(figsize=(width, height), layout="constrained")


def save_png(fig: Figure, path: str | os.PathLike, dpi: int = DPI) -> None:
    """Write ``fig`` as a PNG atomically: readers never see half a file."""
    atomic_save(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))


def describe(dataset: str, split: str, filter_spec: str, note: str | None = None, window: str | None = None) -> str:
    """The line every dataset figure carries: which data, which split, which filter."""
    parts = [note or dataset, f"{split} split", f"{'filters' if ',' in filter_spec else 'filter'} {filter_spec}"]
    if window and window != "none":
        parts.append(f"{window.capitalize()} window on mean-removed images")
    return " · ".join(parts)


def grid_shape(n_panels: int, max_columns: int = 5) -> tuple[int, int]:
    """(rows, columns) for ``n_panels`` small multiples, at most ``max_columns`` wide, rows filled evenly."""
    rows = max(1, math.ceil(n_panels / max_columns))
    return rows, max(1, math.ceil(n_panels / rows))


def shifted_extent(height: int, width: int) -> tuple[float, float, float, float]:
    """imshow extent (left, right, bottom, top) of an fftshifted (H, W) grid, in cycles/pixel at pixel edges."""
    fy = np.fft.fftshift(np.fft.fftfreq(height))
    fx = np.fft.fftshift(np.fft.fftfreq(width))
    return (fx[0] - 0.5 / width, fx[-1] + 0.5 / width, fy[0] - 0.5 / height, fy[-1] + 0.5 / height)
