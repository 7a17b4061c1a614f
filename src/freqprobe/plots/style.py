"""One figure style for every freqprobe plot, headless rendering and atomic saving (PNG, PDF or SVG).

Figures are built as ``matplotlib.figure.Figure`` objects, never through ``pyplot``: they render with the Agg
engine whatever backend the user's matplotlib is set to, and no global figure registry keeps them alive.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Iterator

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from freqprobe.data.labels import FOLDER_PREFIX, dataset_label
from freqprobe.io import atomic_save
from freqprobe.plots.formats import check_format

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
    "svg.hashsalt": "freqprobe",  # fixed SVG element ids: redrawing the same data gives the same file
}

SPECTRUM_CMAP = "magma"
SIGNED_CMAP = "RdBu_r"
FREQUENCY_LABEL = "cycles/pixel"
TITLE_CHARS_PER_INCH = 12  # title font of paper_style(): ~12 characters per inch of figure width


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Apply the freqprobe style while a figure is built and saved; the user's rcParams are restored after."""
    with matplotlib.rc_context(PAPER_STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A white figure of ``width`` x ``height`` inches with constrained layout (labels never overlap)."""
    return Figure(figsize=(width, height), layout="constrained")


# Vector files without a creation date: redrawing the same data gives the same bytes.
NO_DATE = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "png": {}}


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = DPI) -> None:
    """Write ``fig`` atomically (readers never see half a file) in the format its suffix names: .png, .pdf, .svg.

    Raises:
        ConfigError: another suffix.
    """
    fmt = check_format(Path(path).suffix.lstrip(".").lower())
    atomic_save(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, metadata=NO_DATE[fmt]))


def save_png(fig: Figure, path: str | os.PathLike, dpi: int = DPI) -> None:
    """:func:`save_figure` under its older name (the format still follows the suffix)."""
    save_figure(fig, path, dpi)


def figure_dataset_label(name: str, source: str | None = None) -> str:
    """The dataset as a figure names it: :func:`~freqprobe.data.labels.dataset_label`, with a folder dataset's path
    cut to its last component (``folder:/home/me/data/birds`` -> ``folder:birds``), so no machine path reaches a
    title.

    >>> figure_dataset_label("fashion-mnist"), figure_dataset_label("folder:/home/me/data/birds.tar.gz")
    ('Fashion-MNIST', 'folder:birds.tar.gz')
    """
    label = dataset_label(name, source)
    if label.startswith(FOLDER_PREFIX):
        return FOLDER_PREFIX + Path(label.removeprefix(FOLDER_PREFIX).rstrip("/\\")).name
    return label


def describe(dataset: str, split: str, filter_spec: str, note: str | None = None, window: str | None = None) -> str:
    """The line every dataset figure carries: which data (as readers name it: "Fashion-MNIST"), which split, which
    filter."""
    filters = f"{'filters' if ',' in filter_spec else 'filter'} {filter_spec}"
    parts = [note or figure_dataset_label(dataset), f"{split} split", filters]
    if window and window != "none":
        parts.append(f"{window.capitalize()} window on mean-removed images")
    return " · ".join(parts)


def wrap_title(title: str, inches: float) -> str:
    """``title`` broken into lines at its " · " separators so each line fits a figure ``inches`` wide."""
    width = max(20, int(inches * TITLE_CHARS_PER_INCH))
    lines: list[str] = []
    for part in title.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "\n".join(lines)


def wrap_label(text: str, width: int) -> str:
    """``text`` broken at blanks into lines of at most ``width`` characters (an axis label beside a small panel)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def grid_shape(n_panels: int, max_columns: int = 5) -> tuple[int, int]:
    """(rows, columns) for ``n_panels`` small multiples, at most ``max_columns`` wide, rows filled evenly."""
    rows = max(1, math.ceil(n_panels / max_columns))
    return rows, max(1, math.ceil(n_panels / rows))


def shifted_extent(height: int, width: int) -> tuple[float, float, float, float]:
    """imshow extent (left, right, bottom, top) of an fftshifted (H, W) grid, in cycles/pixel at pixel edges."""
    fy = np.fft.fftshift(np.fft.fftfreq(height))
    fx = np.fft.fftshift(np.fft.fftfreq(width))
    return (fx[0] - 0.5 / width, fx[-1] + 0.5 / width, fy[0] - 0.5 / height, fy[-1] + 0.5 / height)
