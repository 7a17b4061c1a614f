"""Figures of the whole-network sensitivity analyses: band ablation, Fourier heat map, gradient spectrum, shift
consistency and the spectra of adversarial perturbations. Frequency maps are drawn fftshifted (DC at the centre),
axes in cycles/pixel."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
from matplotlib.ticker import FixedLocator, FormatStrFormatter, MultipleLocator, NullFormatter

from freqprobe.plots.style import FREQUENCY_LABEL, SPECTRUM_CMAP, new_figure, paper_style, save_png, shifted_extent

HEATMAP_CMAP = "viridis"
UNEVALUATED_COLOR = "0.88"  # frequencies a partial heat map did not evaluate
NYQUIST = 0.5
TITLE_CHARS_PER_INCH = 12  # title font of paper_style(): ~12 characters per inch of figure width


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
        save_png(fig, path)


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
        save_png(fig, path)


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
        log_power = np.log10(np.clip(power, np.finfo(np.float64).tiny, None))
        finite = log_power[np.isfinite(log_power)]
        vmax = float(finite.max()) if finite.size else 0.0
        shown = axes[0].imshow(
            np.fft.fftshift(log_power), origin="lower", extent=shifted_extent(*power.shape), cmap=SPECTRUM_CMAP,
            vmin=max(float(finite.min()) if finite.size else vmax - 1, vmax - 8.0), vmax=vmax,
        )
        _frequency_axes(axes[0])
        fig.colorbar(shown, ax=axes[0], label="log$_{10}$ mean power of dL/dx")
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
        save_png(fig, path)


def plot_shift_consistency(result, title: str, path: str | os.PathLike) -> None:
    """Bars: shift consistency, clean accuracy and accuracy on the shifted copies."""
    data = _as_dict(result)
    names = ["consistency", "clean accuracy", "shifted accuracy"]
    values = [data.get("consistency"), data.get("clean_accuracy"), data.get("shifted_accuracy")]
    shown = [(name, value) for name, value in zip(names, values) if value is not None]
    with paper_style():
        fig = new_figure(4.2, 3.2)
        ax = fig.add_subplot()
        bars = ax.bar([n for n, _ in shown], [v for _, v in shown], color=["C0", "C7", "C1"][: len(shown)])
        ax.bar_label(bars, fmt="%.3f")
        ax.set_ylim(0, 1.08)
        ax.set_ylabel("share of test images")
        max_dy, max_dx = data["max_shift"]
        ax.set_title(f"Two random circular shifts per image, up to ±{max_dy} px (y) and ±{max_dx} px (x)\n{wrap_title(title, 4.2)}")
        save_png(fig, path)


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
            f"{data['method'].upper()} {data['norm']} eps {data['eps']:.4g}: robust accuracy "
            f"{data['robust_accuracy']:.3f} (clean {data['clean_accuracy']:.3f}){defence_text}\n{title}"
        )
        save_png(fig, path)


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
