"""Figures of a feature-map spectrum analysis (``features.json`` of ``freqprobe features``).

ΔLog-amplitude against relative depth (one curve per run), each run's radial log-amplitude profiles coloured by
depth, and a grid of each run's per-layer mean log-amplitude spectra.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from freqprobe.plots.kernels import _depth_color, _depth_colorbar
from freqprobe.plots.style import FREQUENCY_LABEL, SPECTRUM_CMAP, grid_shape, new_figure, paper_style, save_png

DELTA_FIGURE = "features_delta_log_amplitude.png"
PROFILES_FIGURE = "features_radial_profiles.png"
GRID_FIGURE = "features_spectra_grid{suffix}.png"
MAX_GRID_PANELS = 48
KIND_MARKERS = {"input": "s", "conv": ".", "block": "o", "stage": "D", "module": "^"}


CAPTIONS = {
    DELTA_FIGURE: "ΔLog-amplitude of the feature maps (mean log-amplitude at the Nyquist radial bin minus at DC, "
    "natural log) of every measured layer against relative depth, one curve per run (Park & Kim 2022, Fig. 2)",
    PROFILES_FIGURE: "radially averaged mean log-amplitude of each layer's feature maps relative to DC, against "
    "frequency in units of the layer's Nyquist, coloured by depth",
}


def captions(n_runs: int) -> dict[str, str]:
    """Report captions of the figures :func:`write_feature_figures` writes for ``n_runs`` runs."""
    grid = ("mean log-amplitude spectrum (fftshifted, DC at the centre) of the feature maps of each layer"
            " of run {k}")
    texts = dict(CAPTIONS)
    for index in range(n_runs):
        texts[grid_file(index, n_runs)] = grid.format(k=index + 1)
    return texts


def figure_names(n_runs: int) -> list[str]:
    """The files :func:`write_feature_figures` writes for ``n_runs`` runs (one spectra grid per run)."""
    grids = [grid_file(index, n_runs) for index in range(n_runs)]
    return [DELTA_FIGURE, PROFILES_FIGURE, *grids]


def grid_file(index: int, n_runs: int) -> str:
    return GRID_FIGURE.format(suffix="" if n_runs == 1 else f"_{index + 1}")


def write_feature_figures(result: dict, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write every figure of ``result`` (the ``features.json`` dict) into ``out_dir``; returns {name: path}."""
    out_dir = Path(out_dir)
    runs = result["runs"]
    figures = {"delta_log_amplitude": out_dir / DELTA_FIGURE, "radial_profiles": out_dir / PROFILES_FIGURE}
    plot_delta_against_depth(runs, figures["delta_log_amplitude"])
    plot_radial_profiles(runs, figures["radial_profiles"])
    for index, run in enumerate(runs):
        name = "spectra_grid" if len(runs) == 1 else f"spectra_grid_{index + 1}"
        figures[name] = out_dir / grid_file(index, len(runs))
        plot_spectra_grid(run, figures[name])
    return figures


def run_label(run: dict) -> str:
    return f"{run['run']} ({run['dataset_label']}, {run['model']}, filter {run['filter']})"


def plot_delta_against_depth(runs: list[dict], path: str | os.PathLike) -> None:
    """ΔLog-amplitude of every measured layer against its relative depth (0 = first measured, 1 = last)."""
    with paper_style():
        fig = new_figure(6.4, 3.8)
        ax = fig.subplots()
        for index, run in enumerate(runs):
            layers = run["layers"]
            depth = np.linspace(0.0, 1.0, len(layers)) if len(layers) > 1 else np.zeros(1)
            values = [layer["delta_log_amplitude"] for layer in layers]
            color = f"C{index % 10}"
            ax.plot(depth, values, color=color, linewidth=1.0, label=run_label(run))
            for kind, marker in KIND_MARKERS.items():
                chosen = [i for i, layer in enumerate(layers) if layer["kind"] == kind]
                if chosen:
                    ax.scatter(depth[chosen], [values[i] for i in chosen], marker=marker, s=14, color=color)
        for kind, marker in KIND_MARKERS.items():  # one grey legend entry per kind of layer, whatever the run
            ax.scatter([], [], marker=marker, s=14, color="0.45", label=kind)
        ax.axhline(0.0, color="0.6", linewidth=0.6)
        ax.set_xlabel("relative depth (0 = first measured layer, 1 = last)")
        ax.set_ylabel("ΔLog-amplitude, Nyquist bin − DC (natural log)")
        ax.set_title("Feature-map ΔLog-amplitude across depth (Park & Kim 2022)")
        ax.legend(loc="best", fontsize=6)
        save_png(fig, path)


def plot_radial_profiles(runs: list[dict], path: str | os.PathLike) -> None:
    """Each layer's radial mean log-amplitude relative to its DC, against |f| in units of the layer's Nyquist."""
    with paper_style():
        fig = new_figure(4.4 * len(runs) + 1.0, 3.6)
        axes = fig.subplots(1, len(runs), squeeze=False)[0]
        for ax, run in zip(axes, runs):
            layers = run["layers"]
            for depth, layer in enumerate(layers):
                radii = np.asarray(layer["radial_profile"]["radii"]) / 0.5
                profile = np.asarray(layer["radial_profile"]["log_amplitude"])
                ax.plot(radii, profile - profile[0], color=_depth_color(depth, len(layers)), linewidth=0.9)
            ax.set_xlabel("|f| / Nyquist of the layer's map (Nyquist = 0.5 cycles/pixel)")
            ax.set_ylabel("mean log-amplitude − DC")
            ax.set_title(run_label(run), fontsize=7)
            _depth_colorbar(fig, ax, layers)
        save_png(fig, path)


def plot_spectra_grid(run: dict, path: str | os.PathLike) -> None:
    """Small multiples of the per-layer mean log-amplitude spectra (fftshifted, DC at the centre)."""
    layers = run["layers"]
    shown = layers if len(layers) <= MAX_GRID_PANELS else [
        layers[int(i)] for i in np.linspace(0, len(layers) - 1, MAX_GRID_PANELS).round()
    ]
    rows, columns = grid_shape(len(shown), max_columns=8)
    with paper_style():
        fig = new_figure(1.5 * columns, 1.6 * rows + 0.5)
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
        for ax, layer in zip(axes, shown):
            grid = np.fft.fftshift(np.asarray(layer["mean_log_amplitude"]))
            ax.imshow(grid, cmap=SPECTRUM_CMAP, extent=(-0.5, 0.5, -0.5, 0.5), origin="lower")
            ax.set_title(f"{layer['name']}\n{layer['shape'][-2]}x{layer['shape'][-1]}", fontsize=6)
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in axes[len(shown):]:
            ax.axis("off")
        note = "" if len(shown) == len(layers) else f" ({len(shown)} of {len(layers)} layers, evenly spaced)"
        fig.suptitle(
            f"Mean log-amplitude spectra per layer{note}; axes ±0.5 {FREQUENCY_LABEL} of each map\n{run_label(run)}",
            fontsize=8,
        )
        save_png(fig, path)
