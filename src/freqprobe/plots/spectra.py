"""Figures of a dataset spectrum: per-class log spectra, radial profiles, centroid histograms, discrimination map."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.colors import BoundaryNorm
from matplotlib.ticker import FixedLocator, FormatStrFormatter, MaxNLocator, MultipleLocator, NullFormatter

from freqprobe.plots.formats import DEFAULT_FORMAT, figure_file
from freqprobe.plots.style import (
    FREQUENCY_LABEL,
    SPECTRUM_CMAP,
    grid_shape,
    new_figure,
    paper_style,
    save_figure,
    shifted_extent,
    wrap_title,
)
from freqprobe.spectra.dataset import DEFAULT_HISTOGRAM_BINS, DatasetSpectrum
from freqprobe.spectra.radial import power_law_slope, radial_profile

FIGURE_FILES = {
    "class_spectra": "class_spectra.png",
    "radial_profiles": "radial_profiles.png",
    "centroid_histograms": "centroid_histograms.png",
    "discrimination_map": "discrimination_map.png",
}
# Drawn beside class_spectra.png when the numbers are unwindowed: the same spectra without the border-jump cross.
WINDOWED_CLASS_SPECTRA = "class_spectra_hamming.png"

PANEL_INCHES = 1.9
# log10 of power below this share of the largest value is clipped in the colour scale, so that the few near-empty
# frequencies of a filtered dataset do not stretch the scale over the structure that matters.
LOG_DYNAMIC_RANGE = 8.0


def write_spectrum_figures(
    result: DatasetSpectrum, title: str, out_dir: str | os.PathLike, fmt: str = DEFAULT_FORMAT
) -> dict[str, Path]:
    """Write all four figures into ``out_dir`` as ``fmt`` files; returns {figure name: path}."""
    out_dir = Path(out_dir)
    paths = {name: out_dir / figure_file(filename, fmt) for name, filename in FIGURE_FILES.items()}
    plot_class_spectra(result, title, paths["class_spectra"])
    plot_radial_profiles(result, title, paths["radial_profiles"])
    plot_centroid_histograms(result, title, paths["centroid_histograms"])
    plot_discrimination_map(result, title, paths["discrimination_map"])
    return paths


def write_windowed_class_spectra(
    windowed: DatasetSpectrum, title: str, out_dir: str | os.PathLike, fmt: str = DEFAULT_FORMAT
) -> Path:
    """Write the class spectra of a Hamming-windowed ``windowed`` result as OUT/class_spectra_hamming.<fmt>."""
    path = Path(out_dir) / figure_file(WINDOWED_CLASS_SPECTRA, fmt)
    plot_class_spectra(windowed, title, path)
    return path


def plot_class_spectra(result: DatasetSpectrum, title: str, path: str | os.PathLike) -> None:
    """Grid of per-class log10 mean power spectra, fftshifted, on one shared colour scale."""
    log_power = np.log10(_shifted(result.mean_power).clip(min=np.finfo(np.float64).tiny))
    vmax = float(log_power.max())
    vmin = max(float(np.percentile(log_power, 0.5)), vmax - LOG_DYNAMIC_RANGE)
    with paper_style():
        fig, axes = _class_grid(len(result.classes))
        extent = shifted_extent(*result.image_size)
        for ax, name, image in zip(axes, result.classes, log_power):
            shown = ax.imshow(image, origin="lower", extent=extent, cmap=SPECTRUM_CMAP, vmin=vmin, vmax=vmax)
            _frequency_axes(ax)
            ax.set_title(name)
        _label_grid(fig, axes, f"$f_x$ ({FREQUENCY_LABEL})", f"$f_y$ ({FREQUENCY_LABEL})")
        fig.colorbar(shown, ax=axes, shrink=0.85, label="log$_{10}$ mean power (channels averaged)")
        fig.suptitle(f"Mean power spectrum per class (DC at centre)\n{title}")
        save_figure(fig, path)


def plot_radial_profiles(result: DatasetSpectrum, title: str, path: str | os.PathLike) -> None:
    """Log-log radially averaged power, one line per class plus all images, each labelled with its fitted slope."""
    radii, profiles = radial_profile(result.mean_power)
    _, overall = radial_profile(result.overall_mean_power())
    radii, profiles, overall = radii.numpy(), profiles.numpy(), overall.numpy()
    beyond_dc = radii > 0
    with paper_style():
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        for name, profile in zip(result.classes, profiles):
            slope = power_law_slope(radii, profile)
            ax.loglog(radii[beyond_dc], profile[beyond_dc], label=f"{name} ({slope:+.2f})")
        slope = power_law_slope(radii, overall)
        ax.loglog(radii[beyond_dc], overall[beyond_dc], "k--", lw=2.0, label=f"all images ({slope:+.2f})")
        # The reference passes through the middle of the all-images curve and must not rescale the axes.
        data_limits = ax.get_ylim()
        middle = len(radii[beyond_dc]) // 2
        anchor_radius, anchor_power = radii[beyond_dc][middle], overall[beyond_dc][middle]
        reference = anchor_power * (radii[beyond_dc] / anchor_radius) ** -2.0
        ax.loglog(radii[beyond_dc], reference, color="0.6", lw=1.0, ls=":", label="$|f|^{-2}$ reference")
        ax.set_ylim(data_limits)
        ax.set_xlabel(f"radial frequency |f| ({FREQUENCY_LABEL}, up to Nyquist 0.5)")
        ax.set_ylabel("mean power in annulus")
        _plain_log_ticks(ax.xaxis, [0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5])
        ax.grid(True, which="major")
        ax.legend(title="class (fitted log-log slope)", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        # over the whole figure, not the axes: the legend beside the axes leaves them too narrow for the data line
        fig.suptitle(f"Radially averaged power spectrum\n{wrap_title(title, 7.0)}")
        save_figure(fig, path)


def plot_centroid_histograms(
    result: DatasetSpectrum, title: str, path: str | os.PathLike, n_bins: int = DEFAULT_HISTOGRAM_BINS
) -> None:
    """Small multiples: the distribution of per-image spectral centroids of each class, on shared bins."""
    edges, counts = result.centroid_histograms(n_bins)
    means, stds = result.centroid_moments()
    edges, counts = edges.numpy(), counts.numpy()
    with paper_style():
        fig, axes = _class_grid(len(result.classes), sharex=True, sharey=True, height=1.6)
        for k, (ax, name) in enumerate(zip(axes, result.classes)):
            ax.stairs(counts[k], edges, fill=True, color=f"C{k % 10}", alpha=0.85)
            ax.axvline(float(means[k]), color="k", lw=1.0)
            ax.set_title(f"{name}\nmean {float(means[k]):.3f} ± {float(stds[k]):.3f}")
            ax.yaxis.set_major_locator(MaxNLocator(4, integer=True))
            ax.xaxis.set_major_locator(MaxNLocator(4))
        _label_grid(fig, axes, f"spectral centroid ({FREQUENCY_LABEL})", "images")
        fig.suptitle(f"Per-image spectral centroid by class (black line: class mean)\n{title}")
        save_figure(fig, path)


def plot_discrimination_map(result: DatasetSpectrum, title: str, path: str | os.PathLike) -> None:
    """Per class, at each frequency, in how many other classes the mean amplitude is lower (0 .. K-1)."""
    n_classes = len(result.classes)
    counts = _shifted(result.discrimination_map().double())
    levels = max(n_classes, 2)
    norm = BoundaryNorm(np.arange(-0.5, levels), ncolors=256)
    with paper_style():
        fig, axes = _class_grid(n_classes)
        extent = shifted_extent(*result.image_size)
        for ax, name, image in zip(axes, result.classes, counts):
            shown = ax.imshow(image, origin="lower", extent=extent, cmap="viridis", norm=norm)
            _frequency_axes(ax)
            ax.set_title(name)
        _label_grid(fig, axes, f"$f_x$ ({FREQUENCY_LABEL})", f"$f_y$ ({FREQUENCY_LABEL})")
        bar = fig.colorbar(shown, ax=axes, shrink=0.85, label="other classes with lower mean amplitude")
        bar.set_ticks(range(0, levels, max(1, levels // 10)))
        fig.suptitle(
            f"Class discrimination map: where a class has more amplitude than the others (max {n_classes - 1})\n{title}"
        )
        save_figure(fig, path)


def _plain_log_ticks(axis, candidates: list[float]) -> None:
    """Decimal tick labels (0.05, 0.1, ...) on a log axis instead of crowded 3x10^-1 style ones."""
    low, high = axis.get_view_interval()
    axis.set_major_locator(FixedLocator([t for t in candidates if low <= t <= high]))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def _shifted(grids) -> np.ndarray:
    """(K, H, W) fftfreq-order tensor -> numpy with DC moved to the centre of each grid."""
    return np.fft.fftshift(np.asarray(grids.cpu().numpy(), dtype=np.float64), axes=(-2, -1))


def _class_grid(n_panels: int, sharex: bool = True, sharey: bool = True, height: float | None = None):
    rows, columns = grid_shape(n_panels)
    fig = new_figure(PANEL_INCHES * columns + 1.2, (height or PANEL_INCHES) * rows + 0.9)
    axes = fig.subplots(rows, columns, sharex=sharex, sharey=sharey, squeeze=False).flatten()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes[:n_panels])


def _frequency_axes(ax) -> None:
    ax.xaxis.set_major_locator(MultipleLocator(0.25))
    ax.yaxis.set_major_locator(MultipleLocator(0.25))
    ax.tick_params(length=2)
    for spine in ax.spines.values():
        spine.set_visible(True)


def _label_grid(fig, axes, xlabel: str, ylabel: str) -> None:
    fig.supxlabel(xlabel, fontsize=9)
    fig.supylabel(ylabel, fontsize=9)
