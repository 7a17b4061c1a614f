"""Figures of a kernel-spectrum analysis (the dict of :func:`freqprobe.analysis.kernels.analyze_kernels`).

Per-layer histograms of the kernels' spectral centroid, high-frequency ratio and orientation, the mean radial
profile of every layer, the first layer's kernels beside their spectra, and the singular-value spectra.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.ticker import MaxNLocator

from freqprobe.plots.formats import DEFAULT_FORMAT, figure_file
from freqprobe.plots.style import (
    FREQUENCY_LABEL,
    SIGNED_CMAP,
    SPECTRUM_CMAP,
    figure_dataset_label,
    grid_shape,
    new_figure,
    paper_style,
    save_figure,
    shifted_extent,
    wrap_title,
)

FIGURE_FILES = {
    "centroid_histograms": "kernel_centroid_histograms.png",
    "high_frequency_histograms": "kernel_high_frequency_histograms.png",
    "orientation_histograms": "kernel_orientation_histograms.png",
    "radial_profiles": "kernel_radial_profiles.png",
    "first_layer": "first_layer_kernels.png",
    "singular_values": "singular_values.png",
}
PANEL_INCHES = 1.9
FIRST_LAYER_FILTERS = 32
PAIRS_PER_ROW = 4
DEPTH_CMAP = "viridis"
ZERO_SINGULAR_VALUE = 1e-7  # relative to the layer's largest: below it a value is zero up to float32 rounding


def write_kernel_figures(
    result: dict, first_weight: torch.Tensor | None, out_dir: str | os.PathLike, fmt: str = DEFAULT_FORMAT
) -> dict[str, Path]:
    """Write every figure into ``out_dir`` as ``fmt`` files; returns {figure name: path}. The singular-value figure
    is left out when the analysis skipped singular values, the first-layer figure when ``first_weight`` (the first
    convolution's weight (O, I, kh, kw)) is None: filters.json alone redraws every other figure."""
    out_dir = Path(out_dir)
    title = describe_analysis(result)
    figures = {
        "centroid_histograms": lambda path: plot_statistic_histograms(
            result, "spectral_centroid", f"kernel spectral centroid ({FREQUENCY_LABEL})", title, path
        ),
        "high_frequency_histograms": lambda path: plot_statistic_histograms(
            result, "high_frequency_ratio", f"energy share above |f| = {result['cutoff']:g}", title, path
        ),
        "orientation_histograms": lambda path: plot_statistic_histograms(
            result, "orientation", "dominant orientation (degrees; 0 = horizontal frequency)", title, path
        ),
        "radial_profiles": lambda path: plot_radial_profiles(result, title, path),
        "first_layer": lambda path: plot_first_layer(
            first_weight, result["grid"], result["layers"][0]["name"], title, path,
            dilation=tuple(result["layers"][0].get("dilation", (1, 1))),
        ),
        "singular_values": lambda path: plot_singular_values(result, title, path),
    }
    if not any(layer.get("singular_values") for layer in result["layers"]):
        figures.pop("singular_values")
    if first_weight is None:
        figures.pop("first_layer")
    paths = {}
    for name, draw in figures.items():
        paths[name] = out_dir / figure_file(FIGURE_FILES[name], fmt)
        draw(paths[name])
    return paths


def describe_analysis(result: dict) -> str:
    """The line every kernel figure carries: which model, trained on what, from where, on which grid. ``source``
    is named relative to filters.json; a name made only of ``..`` (the run folder above an analysis folder) says
    nothing in a title and is left out."""
    parts = [str(result["model"])]
    if result.get("dataset"):
        parts.append(figure_dataset_label(str(result["dataset"])))
    source = str(result.get("source") or "")
    if source.strip("./\\"):
        parts.append(source)
    parts.append(f"kernels zero-padded to {result['grid']}x{result['grid']}")
    return " · ".join(parts)


def plot_statistic_histograms(result: dict, key: str, xlabel: str, title: str, path: str | os.PathLike) -> None:
    """Small multiples, one per layer, of the per-kernel histogram ``key`` stored in each layer summary.

    With a comparison in ``result``, the other model's histogram of the same layer is drawn as a black outline.
    """
    layers = result["layers"]
    others = {entry["name"]: entry for entry in result.get("comparison", {}).get("layers", [])}
    degrees = key == "orientation"
    with paper_style():
        fig, axes = _panel_grid(len(layers), height=1.5)
        for depth, (ax, layer) in enumerate(zip(axes, layers)):
            histogram = layer["histograms"][key]
            edges = np.degrees(histogram["edges"]) if degrees else np.asarray(histogram["edges"])
            ax.stairs(histogram["counts"], edges, fill=True, color=_depth_color(depth, len(layers)), alpha=0.85)
            other = others.get(layer["name"], {}).get(f"{key}_histogram")
            if other is not None:
                ax.stairs(other, edges, color="k", lw=0.9)
            ax.set_title(_histogram_panel_title(layer, key), fontsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(3))
        fig.supxlabel(xlabel, fontsize=9)
        fig.supylabel("kernels (orientation: weighted by coherence)" if degrees else "kernels", fontsize=9)
        compared = f"; black outline: {result['comparison']['source']}" if others else ""
        fig.suptitle(f"Per-kernel {key.replace('_', ' ')} by layer{compared}\n{title}")
        save_figure(fig, path)


def plot_radial_profiles(result: dict, title: str, path: str | os.PathLike) -> None:
    """Mean normalized power of each layer's kernels against |f|, one line per layer coloured by depth."""
    layers = result["layers"]
    with paper_style():
        fig = new_figure(6.8, 4.0)
        ax = fig.add_subplot()
        for depth, layer in enumerate(layers):
            profile = layer["radial_profile"]
            ax.semilogy(profile["radii"], profile["power"], color=_depth_color(depth, len(layers)), lw=1.1)
        ax.axvline(result["cutoff"], color="0.5", ls=":", lw=1.0, label=f"cutoff {result['cutoff']:g}")
        ax.set_xlabel(f"radial frequency |f| ({FREQUENCY_LABEL}, up to Nyquist 0.5)")
        ax.set_ylabel("mean normalized kernel power in annulus")
        ax.grid(True, which="major")
        ax.legend(frameon=False, loc="lower left")
        _depth_colorbar(fig, ax, layers)
        fig.suptitle(f"Mean radial profile of the kernels' power spectra, per layer\n{title}")
        save_figure(fig, path)


def plot_first_layer(
    weight: torch.Tensor,
    grid: int,
    name: str,
    title: str,
    path: str | os.PathLike,
    max_filters: int = FIRST_LAYER_FILTERS,
    dilation: tuple[int, int] = (1, 1),
) -> None:
    """The first filters of a layer, each as taps beside its normalized power spectrum averaged over input channels
    (fftshifted, DC at centre; of the dilated kernel for a dilated layer). Taps: RGB for 3 input channels (each channel on one shared scale, 0 = mid-grey),
    else the sum over input channels on a signed colour map; both scales are shared by all filters and stated by
    colour bars (RGB: in the title)."""
    from freqprobe.analysis.kernels import kernel_power_spectra

    weight = weight.detach().to("cpu", torch.float64)
    shown = weight[:max_filters]
    spectra = np.fft.fftshift(kernel_power_spectra(shown, grid, dilation=dilation).mean(dim=1).numpy(), axes=(-2, -1))
    rgb = shown.shape[1] == 3
    taps = shown if rgb else shown.sum(dim=1, keepdim=True)
    limit = float(taps.abs().max()) or 1.0
    count = shown.shape[0]
    rows = math.ceil(count / PAIRS_PER_ROW)
    columns = 2 * min(count, PAIRS_PER_ROW)
    with paper_style():
        fig = new_figure(0.95 * columns + 1.9, 1.0 * rows + 1.5)
        axes = fig.subplots(rows, columns, squeeze=False)
        for ax in axes.flat:
            ax.set_axis_off()
        extent = shifted_extent(grid, grid)
        spectrum_norm = Normalize(0.0, float(spectra.max()) or 1.0)
        for index in range(count):
            kernel_ax = axes[index // PAIRS_PER_ROW, 2 * (index % PAIRS_PER_ROW)]
            spectrum_ax = axes[index // PAIRS_PER_ROW, 2 * (index % PAIRS_PER_ROW) + 1]
            taps_shown = _draw_taps(kernel_ax, taps[index], limit)
            kernel_ax.set_title(f"#{index}", fontsize=7)
            spectrum_shown = spectrum_ax.imshow(
                spectra[index], origin="lower", extent=extent, cmap=SPECTRUM_CMAP, norm=spectrum_norm
            )
        fig.colorbar(spectrum_shown, ax=axes, shrink=0.8, aspect=25, label="normalized power |K(f)|$^2$/Σ|K|$^2$")
        if taps_shown is not None:
            fig.colorbar(taps_shown, ax=axes, shrink=0.8, aspect=25, label="tap value (sum over input channels)")
        taps_text = f"taps RGB, 0 = grey, ±{limit:.2g} = 0/1 per channel" if rgb else "taps"
        width = 0.95 * columns + 1.9
        fig.suptitle(
            f"First layer '{name}': filters {count} of {weight.shape[0]}\n"
            f"{wrap_title(f'{taps_text} | power spectrum · DC at centre · axes ±0.5 {FREQUENCY_LABEL}', width)}\n"
            f"{wrap_title(title, width)}"
        )
        save_figure(fig, path)


def plot_singular_values(result: dict, title: str, path: str | os.PathLike) -> None:
    """Left: each layer's singular values, largest first, against their normalized rank. Right: spectral norms."""
    layers = [layer for layer in result["layers"] if layer.get("singular_values")]
    with paper_style():
        fig = new_figure(9.0, 4.0)
        spectra_ax, norm_ax = fig.subplots(1, 2, width_ratios=[1.3, 1.0])
        for depth, layer in enumerate(layers):
            profile = np.asarray(layer["singular_values"]["profile"], dtype=np.float64)
            ranks = np.linspace(0.0, 1.0, profile.size)
            # Rank-deficient operators (e.g. strided 1x1 convs) have exact zeros, which a log axis cannot show.
            shown = np.where(profile > profile.max() * ZERO_SINGULAR_VALUE, profile, np.nan)
            spectra_ax.semilogy(ranks, shown, color=_depth_color(depth, len(layers)), lw=1.1)
        spectra_ax.set_xlabel("normalized rank (0 = largest; zero values not drawn)")
        spectra_ax.set_ylabel("singular value")
        spectra_ax.grid(True, which="major")
        _depth_colorbar(fig, spectra_ax, layers)
        positions = np.arange(len(layers))
        norm_ax.bar(positions, [layer["spectral_norm"] for layer in layers], color=[
            _depth_color(depth, len(layers)) for depth in range(len(layers))
        ])
        norm_ax.set_xticks(positions, [layer["name"] for layer in layers], rotation=90, fontsize=6)
        norm_ax.set_ylabel("spectral norm (largest singular value)")
        fig.suptitle(
            "Singular values of each layer as a circular convolution on its input size (Sedghi et al. 2019)\n"
            f"{title}"
        )
        save_figure(fig, path)


def _draw_taps(ax, kernel: torch.Tensor, limit: float):
    """(3, kh, kw) as RGB on the shared symmetric scale ``limit`` (0 -> 0.5); (1, kh, kw) on the signed map.
    Returns the AxesImage that a colour bar can describe (None for RGB)."""
    if kernel.shape[0] == 3:
        rgb = (kernel / (2 * limit) + 0.5).clamp(0.0, 1.0)
        ax.imshow(rgb.permute(1, 2, 0).numpy(), interpolation="nearest")
        return None
    return ax.imshow(kernel[0].numpy(), cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")


def _histogram_panel_title(layer: dict, key: str) -> str:
    shape = "x".join(str(size) for size in layer["kernel_size"])
    stride = "" if layer["stride"] == [1, 1] else f" /{layer['stride'][0]}"
    stride += "" if layer.get("dilation", [1, 1]) == [1, 1] else f" d{layer['dilation'][0]}"
    stride += " dw" if layer.get("depthwise") else (f" g{layer['groups']}" if layer.get("groups", 1) > 1 else "")
    stride += " flat" if layer.get("spatially_flat") else ""
    if key == "spectral_centroid" and layer["spectral_centroid_mean"] is not None:
        detail = f"{layer['spectral_centroid_mean']:.3f} ± {layer['spectral_centroid_std']:.3f}"
    elif key == "high_frequency_ratio" and layer["high_frequency_ratio"] is not None:
        detail = f"mean {layer['high_frequency_ratio']:.3f}"
    elif key == "orientation" and layer["orientation_coherence_mean"] is not None:
        detail = f"coherence {layer['orientation_coherence_mean']:.2f}"
    else:
        detail = "no non-zero kernels"
    return f"{layer['name']} ({shape}{stride})\n{detail}"


def _panel_grid(n_panels: int, height: float):
    rows, columns = grid_shape(n_panels)
    fig = new_figure(PANEL_INCHES * columns + 1.0, height * rows + 1.0)
    axes = fig.subplots(rows, columns, squeeze=False).flatten()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes[:n_panels])


def _depth_color(depth: int, count: int):
    return colormaps[DEPTH_CMAP](depth / max(count - 1, 1))


def _depth_colorbar(fig, ax, layers: list[dict]) -> None:
    mappable = ScalarMappable(norm=Normalize(0, max(len(layers) - 1, 1)), cmap=DEPTH_CMAP)
    bar = fig.colorbar(mappable, ax=ax, shrink=0.9)
    bar.set_label(f"layer depth ({layers[0]['name']} … {layers[-1]['name']})")
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
