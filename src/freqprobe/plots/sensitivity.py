"""Figures of the whole-network sensitivity analyses: band ablation, Fourier heat map, gradient spectrum, shift
consistency and the spectra of adversarial perturbations. Frequency maps are drawn fftshifted (DC at the centre),
axes in cycles/pixel."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.ticker import FixedLocator, FormatStrFormatter, MultipleLocator, NullFormatter

from freqprobe.plots.formats import DEFAULT_FORMAT, figure_file
from freqprobe.plots.style import (  # noqa: F401  (TITLE_CHARS_PER_INCH, wrap_title: their older home)
    FREQUENCY_LABEL,
    SPECTRUM_CMAP,
    TITLE_CHARS_PER_INCH,
    figure_dataset_label,
    new_figure,
    paper_style,
    save_figure,
    shifted_extent,
    wrap_title,
)
from freqprobe.specs import budget_file_text, format_budget

FIGURES = {
    "bands": "band_ablation.png",
    "heatmap": "fourier_heatmap.png",
    "gradient_spectrum": "gradient_spectrum.png",
    "shift": "shift_consistency.png",
    "corruptions": "corruption_errors.png",
    "corruptions_prediction": "corruption_prediction.png",
}

HEATMAP_CMAP = "viridis"
UNEVALUATED_COLOR = "0.88"  # frequencies a partial heat map did not evaluate
NYQUIST = 0.5
# The gradient spectrum's colour scale spans these percentiles of the log power without DC: the DC term (the mean
# gradient) can sit orders of magnitude above the rest and would otherwise turn the whole map one colour.
ROBUST_PERCENTILES = (1.0, 99.5)
GRADIENT_SCALE_NOTE = (
    f"The DC term (the mean gradient) is masked grey and the colours span percentiles {ROBUST_PERCENTILES[0]:g}-"
    f"{ROBUST_PERCENTILES[1]:g} of the rest, so that no single frequency sets the scale."
)


def plot_band_ablation(result, title: str, path: str | os.PathLike) -> None:
    """Accuracy over the radius r of ideal low-pass (|f| < r) and high-pass (|f| >= r) test images.

    ``result``: a :class:`~freqprobe.analysis.sensitivity.bands.BandAblation` or its ``to_dict()``.
    """
    data = _as_dict(result)
    radii = np.asarray(data["radii"], dtype=float)
    with paper_style():
        fig = new_figure(5.6, 3.6)
        ax = fig.add_subplot()
        ax.plot(radii, data["low_pass_accuracy"], "o-", ms=3, label="low-pass: keep |f| < r")
        ax.plot(radii, data["high_pass_accuracy"], "s-", ms=3, label="high-pass: keep |f| >= r")
        ax.axhline(data["clean_accuracy"], color="k", ls="--", lw=1.0, label=f"clean ({data['clean_accuracy']:.3f})")
        ax.axvline(NYQUIST, color="0.6", ls=":", lw=1.0, label="Nyquist 0.5")
        ax.set_xlabel(f"radius r ({FREQUENCY_LABEL})")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(True)
        ax.legend(frameon=False, loc="best")
        ax.set_title(f"Accuracy on ideally low- and high-passed test images\n{wrap_title(title, 5.6)}")
        save_figure(fig, path)


def plot_heat_map(result, title: str, path: str | os.PathLike) -> None:
    """The Fourier heat map: error rate per frequency, fftshifted; unevaluated cells light grey.

    ``result``: a :class:`~freqprobe.analysis.sensitivity.heatmap.FourierHeatMap` or its ``to_dict()``.
    """
    data = _as_dict(result)
    error = _grid(data["error"])
    with paper_style():
        fig = new_figure(4.6, 3.9)
        ax = fig.add_subplot()
        shown = ax.imshow(
            np.fft.fftshift(error), origin="lower", extent=shifted_extent(*error.shape), cmap=_heat_cmap(),
            vmin=0.0, vmax=1.0,
        )
        _frequency_axes(ax)
        fig.colorbar(shown, ax=ax, label=f"error rate (clean {data['clean_error']:.3f})")
        subset = _heat_map_subset(data)
        ax.set_title(f"Fourier heat map, L2 norm {data['eps']:g} per channel{subset}\n{wrap_title(title, 4.6)}")
        save_figure(fig, path)


def _heat_map_subset(data: dict) -> str:
    """'' for a whole map; else which part of the grid it shows (stride, sample with its estimate, shard)."""
    selection = data.get("selection") or {}
    shard = data.get("shard") or {}
    parts = []
    if (selection.get("stride") or 1) > 1:
        parts.append(f"every {selection['stride']}th frequency")
    estimate = data.get("mean_error_estimate")
    if selection.get("sample"):
        parts.append(f"{selection['sample']} random pairs")
        if estimate:
            parts.append(f"mean {estimate['mean_error']:.3f} [{estimate['ci_low']:.3f}, {estimate['ci_high']:.3f}]")
    if (shard.get("count") or 1) > 1 and shard.get("index") is not None:
        parts.append(f"shard {shard['index']}/{shard['count']}")
    return f" ({'; '.join(parts)})" if parts else ""


def plot_gradient_spectrum(gradient, heat_map, title: str, path: str | os.PathLike, correlation: float | None = None) -> None:
    """log10 mean power of the input gradient, fftshifted, beside the heat map when one is given."""
    gradient_data = _as_dict(gradient)
    power = _grid(gradient_data["power"])
    panels = 2 if heat_map is not None else 1
    with paper_style():
        fig = new_figure(4.4 * panels, 3.9)
        axes = fig.subplots(1, panels, squeeze=False)[0]
        shown_power, low, high = robust_log_map(power)
        cmap = matplotlib.colormaps[SPECTRUM_CMAP].with_extremes(bad=UNEVALUATED_COLOR)
        shown = axes[0].imshow(
            np.fft.fftshift(shown_power), origin="lower", extent=shifted_extent(*power.shape), cmap=cmap,
            vmin=low, vmax=high,
        )
        _frequency_axes(axes[0])
        bar = fig.colorbar(shown, ax=axes[0], extend="both")
        low_pct, high_pct = ROBUST_PERCENTILES
        bar.set_label(
            f"log$_{{10}}$ mean power of dL/dx\n(DC masked grey; colours span percentiles {low_pct:g}-{high_pct:g})"
        )
        axes[0].set_title(f"Input-gradient spectrum ({gradient_data['n_images']} images)")
        if heat_map is not None:
            heat = _as_dict(heat_map)
            error = _grid(heat["error"])
            shown = axes[1].imshow(
                np.fft.fftshift(error), origin="lower", extent=shifted_extent(*error.shape), cmap=_heat_cmap(),
                vmin=0.0, vmax=1.0,
            )
            _frequency_axes(axes[1])
            fig.colorbar(shown, ax=axes[1], label="error rate")
            axes[1].set_title(f"Fourier heat map (L2 norm {heat['eps']:g}, {heat['n_images']} images)")
        agreement = "" if correlation is None or np.isnan(correlation) else f" · Spearman rho {correlation:.3f}"
        fig.suptitle(wrap_title(f"{title}{agreement}", 4.4 * panels))
        save_figure(fig, path)


def plot_shift_consistency(result, title: str, path: str | os.PathLike) -> None:
    """Bars: shift consistency, clean accuracy and accuracy on the shifted copies."""
    data = _as_dict(result)
    names = ["consistency", "clean accuracy", "shifted accuracy"]
    values = [data.get("consistency"), data.get("clean_accuracy"), data.get("shifted_accuracy")]
    shown = [(name, value) for name, value in zip(names, values) if value is not None]
    with paper_style():
        fig = new_figure(4.8, 3.6)
        ax = fig.add_subplot()
        bars = ax.bar([n for n, _ in shown], [v for _, v in shown], color=["C0", "C7", "C1"][: len(shown)])
        ax.bar_label(bars, fmt="%.3f")
        ax.set_ylim(0, 1.12)
        ax.set_ylabel("share of test images")
        max_dy, max_dx = data["max_shift"]
        ax.set_title(
            f"Shift consistency: two random circular shifts per image,\nup to ±{max_dy} px (y) and ±{max_dx} px (x)\n"
            f"{wrap_title(title, 4.8)}"
        )
        save_figure(fig, path)


def plot_attack_spectra(result, title: str, path: str | os.PathLike) -> None:
    """Mean power spectra of clean images and adversarial perturbations (fftshifted, log10) and their radial profiles."""
    data = _as_dict(result)
    clean, perturbation = data["clean_spectrum"], data["perturbation_spectrum"]
    with paper_style():
        fig = new_figure(12.0, 3.8)
        axes = fig.subplots(1, 3)
        for ax, spectrum, name in ((axes[0], clean, "clean images"), (axes[1], perturbation, "perturbations")):
            power = _grid(spectrum["mean_power"])
            log_power = np.log10(np.clip(power, np.finfo(np.float64).tiny, None))
            vmax = float(log_power.max())
            shown = ax.imshow(
                np.fft.fftshift(log_power), origin="lower", extent=shifted_extent(*power.shape), cmap=SPECTRUM_CMAP,
                vmin=max(float(log_power.min()), vmax - 8.0), vmax=vmax,
            )
            _frequency_axes(ax)
            fig.colorbar(shown, ax=ax, label="log$_{10}$ mean power")
            ax.set_title(f"{name}: centroid {spectrum['spectral_centroid']:.3f}")
        ax = axes[2]
        for spectrum, name in ((clean, "clean images"), (perturbation, "perturbations")):
            radii = np.asarray(spectrum["radii"], dtype=float)
            profile = np.asarray(spectrum["radial_profile"], dtype=float)
            beyond_dc = radii > 0
            ax.loglog(radii[beyond_dc], profile[beyond_dc], label=name)
        _decimal_log_ticks(ax.xaxis, [0.02, 0.05, 0.1, 0.2, 0.3, 0.5])
        ax.set_xlabel(f"radial frequency |f| ({FREQUENCY_LABEL})")
        ax.set_ylabel("mean power in annulus")
        ax.grid(True, which="major")
        ax.legend(frameon=False)
        ax.set_title("radial profiles")
        defence = data.get("prefilter_defence") or {}
        defence_text = (
            f" · {defence['prefilter']} prefilter: transferred {defence['transferred_accuracy']:.3f}, "
            f"adaptive {defence['adaptive_accuracy']:.3f}"
            if defence
            else ""
        )
        fig.suptitle(
            f"{data['method'].upper()} {data['norm']} eps {attack_budget(data)}: robust accuracy "
            f"{data['robust_accuracy']:.3f} (clean {data['clean_accuracy']:.3f}){defence_text}\n{title}"
        )
        save_figure(fig, path)


def attack_budget(result: dict) -> str:
    """The budget of an attack section as the user wrote it (``budget``; files from before it: from ``eps``)."""
    return str(result.get("budget") or format_budget(result["eps"]))


def attack_figure_file(result: dict, fmt: str = DEFAULT_FORMAT) -> str:
    """``attack_pgd-linf-eps8over255.<fmt>``: method, norm and the budget as written (``/`` spelled ``over``)."""
    return figure_file(f"attack_{result['method']}-{result['norm']}-eps{budget_file_text(attack_budget(result))}", fmt)


def sensitivity_title(document: dict, count: int | None = None) -> str:
    """The line every sensitivity figure carries: model · dataset test (N images) · filter [· antialias], from the
    fields of sensitivity.json (``count`` overrides ``test_images``)."""
    count = document.get("test_images") if count is None else count
    parts = [
        str(document.get("model") or "model"),
        f"{figure_dataset_label(str(document.get('dataset')))} test ({count} images)",
        f"filter {document.get('filter')}",
    ]
    if document.get("antialias"):
        parts.append("antialias")
    return " · ".join(parts)


def write_sensitivity_figures(
    document: dict, out_dir: str | os.PathLike, fmt: str = DEFAULT_FORMAT
) -> dict[str, Path]:
    """Draw every figure the sections of a sensitivity.json ``document`` hold data for into ``out_dir``, from the
    stored numbers alone (nothing is recomputed); returns {figure name as in ``document["figures"]``: path}."""
    out_dir = Path(out_dir)
    title = sensitivity_title(document)
    written: dict[str, Path] = {}
    draw = {"bands": plot_band_ablation, "heatmap": plot_heat_map, "shift": plot_shift_consistency}
    for name, plot in draw.items():
        if isinstance(document.get(name), dict):
            written[name] = out_dir / figure_file(FIGURES[name], fmt)
            plot(document[name], title, written[name])
    gradient = document.get("gradient_spectrum")
    if isinstance(gradient, dict):
        written["gradient_spectrum"] = out_dir / figure_file(FIGURES["gradient_spectrum"], fmt)
        plot_gradient_spectrum(
            gradient, document.get("heatmap"), sensitivity_title(document, gradient.get("n_images")),
            written["gradient_spectrum"], gradient.get("rank_correlation_with_heatmap"),
        )
    for key, result in (document.get("attacks") or {}).items():
        written[f"attack:{key}"] = out_dir / attack_figure_file(result, fmt)
        plot_attack_spectra(result, title, written[f"attack:{key}"])
    return written


def robust_log_map(power: np.ndarray) -> tuple[np.ndarray, float, float]:
    """log10 of a (H, W) fftfreq-order power map with DC set to NaN, and colour limits at ROBUST_PERCENTILES of
    the finite rest (so one outlier cannot set the scale)."""
    log_power = np.log10(np.clip(power, np.finfo(np.float64).tiny, None))
    log_power[0, 0] = np.nan
    finite = log_power[np.isfinite(log_power)]
    if finite.size == 0:
        return log_power, -1.0, 0.0
    low, high = (float(v) for v in np.percentile(finite, ROBUST_PERCENTILES))
    return log_power, low, max(high, low + 1e-6)


def _heat_cmap():
    return matplotlib.colormaps[HEATMAP_CMAP].with_extremes(bad=UNEVALUATED_COLOR)


def _as_dict(result) -> dict:
    return result if isinstance(result, dict) else result.to_dict()


def _grid(values) -> np.ndarray:
    """A (H, W) float array from nested lists or a tensor; None (JSON null) becomes NaN."""
    if hasattr(values, "detach"):
        return values.detach().cpu().double().numpy()
    return np.array([[np.nan if v is None else v for v in row] for row in values], dtype=np.float64)


def _decimal_log_ticks(axis, candidates: list[float]) -> None:
    """Plain 0.05, 0.1, ... labels on a log axis (matplotlib's 4x10^-2 style labels collide on short axes)."""
    low, high = axis.get_view_interval()
    axis.set_major_locator(FixedLocator([t for t in candidates if low <= t <= high]))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def _frequency_axes(ax) -> None:
    ax.xaxis.set_major_locator(MultipleLocator(0.25))
    ax.yaxis.set_major_locator(MultipleLocator(0.25))
    ax.set_xlabel(f"$f_x$ ({FREQUENCY_LABEL})")
    ax.set_ylabel(f"$f_y$ ({FREQUENCY_LABEL})")
    for spine in ax.spines.values():
        spine.set_visible(True)
