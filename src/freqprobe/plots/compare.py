"""Figures of ``freqprobe compare``: scatter plots between the columns of the runs table, the Spearman matrix, the
per-layer correlations with the input centroid, and the train-band x test-band accuracy matrices."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from freqprobe.run_columns import FILTER_STATISTIC_COLUMNS, PARTIAL_CONTROL, PERCENT_COLUMNS, ROBUSTNESS_COLUMNS
from freqprobe.stats import benjamini_hochberg
from freqprobe.tables import is_number, natural_sorted, unique
from freqprobe.plots.formats import DEFAULT_FORMAT, figure_file
from freqprobe.plots.style import (
    SIGNED_CMAP,
    figure_dataset_label,
    grid_shape,
    new_figure,
    paper_style,
    save_figure,
    wrap_label,
    wrap_title,
)

# The figures take a freqprobe.analysis.compare.Comparison / BandMatrix; plots import nothing from analysis, so
# that analysis (which writes the figures) and plots never import each other.

PANEL_INCHES = 2.8
LABEL_CHARS = 30  # axis labels beside a scatter panel wrap at this width, so they stay within their panel
ACCURACY_CMAP = "viridis"

# (x column, y columns) of each scatter figure; panels whose y column is empty in every run are left out.
SCATTERS = {
    "scatter_input_centroid": (
        "input_centroid",
        (
            "kernel_centroid_first",
            "kernel_centroid_mean",
            "clean_accuracy",
            "robust_accuracy",
            "lowpass_r50",
            "highpass_r50",
            "heatmap_centroid",
            "shift_consistency",
        ),
    ),
    "scatter_kernel_centroid": (
        "kernel_centroid_first",
        ("clean_accuracy", "robust_accuracy", "lowpass_r50", "highpass_r50", "heatmap_centroid", "shift_consistency"),
    ),
}

LABELS = {
    "input_centroid": "input spectral centroid (cycles/pixel)",
    "input_slope": "input radial power slope",
    "kernel_centroid_first": "first-layer kernel centroid (cycles/pixel)",
    "kernel_centroid_mean": "mean kernel centroid, all layers (cycles/pixel)",
    "kernel_hf_ratio_first": "first-layer high-frequency ratio",
    "kernel_hf_ratio_mean": "mean high-frequency ratio, all layers",
    "kernel_aliasing_mean": "strided kernels: aliasing share (%)",
    "spectral_norm_first": "first-layer spectral norm",
    "spectral_norm_mean": "mean spectral norm, all layers",
    "clean_accuracy": "clean test accuracy (%)",
    "val_accuracy": "validation accuracy (%)",
    "lowpass_auc": "low-pass ablation: mean accuracy (%)",
    "highpass_auc": "high-pass ablation: mean accuracy (%)",
    "lowpass_r50": "low-pass radius for half accuracy (cycles/pixel)",
    "highpass_r50": "high-pass radius for half accuracy (cycles/pixel)",
    "heatmap_mean_error": "heat map: mean error (%)",
    "heatmap_centroid": "heat map: error centroid (cycles/pixel)",
    "shift_consistency": "shift consistency (%)",
    "robust_accuracy": "robust accuracy (%)",
    "corruption_accuracy": "mean corruption accuracy (%)",
    "feature_delta_log_mean": "feature maps: mean ΔLog-amplitude",
    "feature_delta_log_last": "feature maps: ΔLog-amplitude, last conv",
    "feature_centroid_mean": "feature maps: mean centroid (cycles/pixel)",
    "feature_aliasing_mean": "feature maps: energy above new Nyquist (%)",
}


def write_compare_figures(
    comparison: Any, out_dir: str | os.PathLike, fmt: str = DEFAULT_FORMAT
) -> dict[str, Path]:
    """Every figure the comparison has data for, written into ``out_dir`` as ``fmt`` files; returns {figure name:
    path}."""
    out_dir = Path(out_dir)

    def file(name: str) -> Path:
        return out_dir / figure_file(name, fmt)

    subtitle = describe_comparison(comparison)
    written: dict[str, Path] = {}
    for name, (x_column, y_columns) in SCATTERS.items():
        path = file(name)
        if plot_scatter(comparison, x_column, y_columns, subtitle, path):
            written[name] = path
    names = comparison.metric_columns
    if any(comparison.correlations[a][b]["rho"] is not None for a in names for b in names if a != b):
        written["correlations"] = file("correlations")
        plot_correlation_matrix(comparison, subtitle, written["correlations"])
    if any(entry["rho"] is not None for entry in comparison.layer_correlations):
        written["layer_correlations"] = file("layer_correlations")
        plot_layer_correlations(comparison, subtitle, written["layer_correlations"])
    if any(len(variant.runs) > 1 for variant in comparison.variants):
        from freqprobe.plots.variants import plot_variant_band_curves, plot_variant_summary

        for name, plot in (("variant_band_curves", plot_variant_band_curves), ("variant_summary", plot_variant_summary)):
            if plot(comparison.variants, subtitle, file(name)):
                written[name] = file(name)
    if plot_strongest_links(comparison, subtitle, file("scatter_strongest_link")):
        written["scatter_strongest_link"] = file("scatter_strongest_link")
    from freqprobe.plots.depth_profiles import plot_depth_profiles

    if plot_depth_profiles(comparison.variants, comparison.rows, getattr(comparison, "depth_profiles", {}), subtitle,
                           file("depth_profiles")):
        written["depth_profiles"] = file("depth_profiles")
    from freqprobe.plots.corruption_profile import plot_corruption_profile

    if plot_corruption_profile(comparison.variants, comparison.rows, comparison.paired_differences, subtitle,
                               file("corruption_profile")):
        written["corruption_profile"] = file("corruption_profile")
    for matrix in comparison.band_matrices:
        suffix = "" if len(comparison.band_matrices) == 1 else f"_{_slug(matrix.dataset)}_{_slug(matrix.model)}"
        name = f"band_matrix{suffix}"
        written[name] = file(name)
        plot_band_matrix(matrix, written[name])
    return written


def describe_comparison(comparison: Any) -> str:
    """The data line every compare figure carries: datasets (JPEG copy labelled), run count, sweep folder."""
    datasets = ", ".join(unique(figure_dataset_label(row["dataset"]) for row in comparison.rows))
    sweeps = " + ".join(Path(folder).name for folder in comparison.sweeps or [comparison.sweep_dir])
    return f"{datasets} · {len(comparison.rows)} runs of {sweeps}"


def plot_scatter(
    comparison: Any, x_column: str, y_columns: Sequence[str], subtitle: str, path: str | os.PathLike
) -> bool:
    """One panel per y column against ``x_column``: one point per variant at its mean over seeds, error bars its
    95% interval (none for one seed), coloured by filter; rho across the means with interval and p in each title.

    Returns False (and writes nothing) when no panel has at least two variants with both values.
    """
    rows = comparison.rows
    variants = comparison.variants
    panels = [column for column in y_columns if column != x_column and _pairs(variants, x_column, column) >= 2]
    if not panels:
        return False
    filters = natural_sorted(unique(str(row["filter"]) for row in rows))
    colors = _filter_colors(filters)
    with paper_style():
        n_rows, n_columns = grid_shape(len(panels), max_columns=3)
        width = PANEL_INCHES * n_columns + 1.6
        fig = new_figure(width, PANEL_INCHES * n_rows + 0.8)
        axes = fig.subplots(n_rows, n_columns, squeeze=False).ravel()
        for ax, y_column in zip(axes, panels):
            for spec in filters:
                xs, ys, x_errors, y_errors = _means(variants, x_column, y_column, spec)
                if xs:
                    ax.errorbar(xs, ys, xerr=x_errors, yerr=y_errors, fmt="o", ms=4, color=colors[spec], label=spec,
                                elinewidth=0.8, capsize=1.5)
            correlation = comparison.correlations.get(x_column, {}).get(y_column)
            ax.set_title(_rho_title(correlation))
            ax.set_xlabel(wrap_label(LABELS.get(x_column, x_column), LABEL_CHARS))
            ax.set_ylabel(wrap_label(LABELS.get(y_column, y_column), LABEL_CHARS))
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", title="filter")
        fig.suptitle(f"{LABELS.get(x_column, x_column)} against run statistics\n{wrap_title(subtitle, width)}")
        save_figure(fig, path)
    return True


def strongest_links(comparison: Any) -> dict[str, tuple[str, str, dict, int, float | None]]:
    """Per dataset (/ model) group, or for all variants when there is one group: the (characteristic, outcome,
    correlation, pairs examined, q) with the largest |rho| across the variants' means, characteristics being the
    input, kernel and feature-map statistics and outcomes clean accuracy and the robustness columns; q is its p-value
    adjusted over the pairs examined (Benjamini-Hochberg), None without a p-value."""
    matrices = comparison.correlations_by_group or {"": comparison.correlations}
    characteristics = [name for name in FILTER_STATISTIC_COLUMNS if name in comparison.metric_columns]
    outcomes = [name for name in (PARTIAL_CONTROL, *ROBUSTNESS_COLUMNS) if name in comparison.metric_columns]
    links = {}
    for group, matrix in matrices.items():
        found = [(x, y, matrix[x][y]) for x in characteristics for y in outcomes
                 if x in matrix and y in matrix[x] and matrix[x][y]["rho"] is not None]
        if found:
            q_values = benjamini_hochberg([entry.get("p_value") for _, _, entry in found])
            best = max(range(len(found)), key=lambda i: (abs(found[i][2]["rho"]), -(found[i][2].get("p_value") or 1.0)))
            x, y, entry = found[best]
            links[group] = (x, y, entry, len(found), q_values[best])
    return links


def plot_strongest_links(comparison: Any, subtitle: str, path: str | os.PathLike) -> bool:
    """One panel per group: its strongest link (:func:`strongest_links`) as a scatter of the variants' means with
    their 95% intervals as error bars; the title gives rho, its interval, p, how many pairs the link was chosen from
    and q, its p adjusted over those pairs (a maximum over many pairs is small by chance). False (nothing written)
    when no link."""
    links = strongest_links(comparison)
    if not links:
        return False
    with paper_style():
        width = (PANEL_INCHES + 2.2) * len(links)  # each panel has its own legend on its right
        fig = new_figure(width, PANEL_INCHES + 1.6)
        axes = fig.subplots(1, len(links), squeeze=False).ravel()
        for ax, (group, (x_column, y_column, entry, examined, q)) in zip(axes, links.items()):
            members = [variant for variant in comparison.variants if _in_group(variant, group)]
            colors = _filter_colors([variant.label for variant in members])  # one per variant: architectures share a filter
            for variant in members:
                xs, ys, x_errors, y_errors = _means([variant], x_column, y_column, str(variant.identity.get("filter")))
                if xs:
                    ax.errorbar(xs, ys, xerr=x_errors, yerr=y_errors, fmt="o", ms=4, color=colors[variant.label],
                                label=variant.label, elinewidth=0.8, capsize=1.5)
            adjusted = "" if q is None else f", q = {q:.2g} (BH)"
            lines = [_group_title(group), _rho_title(entry), f"the strongest of {examined} pairs{adjusted}"]
            ax.set_title("\n".join(line for line in lines if line), fontsize="small")
            ax.set_xlabel(wrap_label(LABELS.get(x_column, x_column), LABEL_CHARS))
            ax.set_ylabel(wrap_label(LABELS.get(y_column, y_column), LABEL_CHARS))
            ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="x-small")
        fig.suptitle(f"strongest link between a characteristic and an outcome\n{wrap_title(subtitle, width)}")
        save_figure(fig, path)
    return True


def _group_title(group: str) -> str:
    if not group:
        return ""
    dataset, _, model = group.partition(" / ")
    return " / ".join([figure_dataset_label(dataset), *([model] if model else [])])


def _in_group(variant: Any, group: str) -> bool:
    dataset, model = str(variant.identity.get("dataset")), str(variant.identity.get("model"))
    return group in ("", dataset, f"{dataset} / {model}")


def plot_correlation_matrix(comparison: Any, subtitle: str, path: str | os.PathLike) -> None:
    """Heat map of the Spearman rank correlations between the table's columns (blank where undefined)."""
    names = comparison.metric_columns
    values = np.array(
        [[_nan_if_none(comparison.correlations[a][b]["rho"]) for b in names] for a in names], dtype=np.float64
    )
    size = 1.2 + 0.45 * len(names)
    labels = 0.1 * max((len(name) for name in names), default=0)  # inches the longest tick label needs
    with paper_style():
        fig = new_figure(size + labels + 1.8, size + labels + 0.6)
        ax = fig.add_subplot()
        shown = ax.imshow(np.ma.masked_invalid(values), cmap=SIGNED_CMAP, vmin=-1, vmax=1)
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
        ax.set_yticks(range(len(names)), names)
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(j, i, f"{value:+.2f}", ha="center", va="center", fontsize=6)
        fig.colorbar(shown, ax=ax, shrink=0.8, label="Spearman rho")
        fig.suptitle(f"Rank correlations between run statistics\n{subtitle}")
        save_figure(fig, path)


def plot_layer_correlations(comparison: Any, subtitle: str, path: str | os.PathLike) -> None:
    """Spearman rho between the input centroid and each convolution's mean kernel centroid, by depth."""
    entries = comparison.layer_correlations
    rhos = np.array([_nan_if_none(entry["rho"]) for entry in entries], dtype=np.float64)
    with paper_style():
        fig = new_figure(max(4.5, 0.28 * len(entries) + 1.5), 3.6)
        ax = fig.add_subplot()
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.plot(range(len(entries)), rhos, "o-")
        ax.set_xticks(range(len(entries)), [entry["layer"] for entry in entries], rotation=70, ha="right")
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel("convolution (input to output)")
        ax.set_ylabel("Spearman rho with input centroid")
        fig.suptitle(f"Does the input spectrum set the kernel spectra, layer by layer?\n{subtitle}")
        save_figure(fig, path)


def plot_band_matrix(matrix: Any, path: str | os.PathLike) -> None:
    """Accuracy (%) of models trained on one band (rows) on test images passed through each band (columns)."""
    values = 100.0 * np.asarray(matrix.accuracy, dtype=np.float64)
    n_rows, n_columns = values.shape
    with paper_style():
        fig = new_figure(1.0 * n_columns + 2.6, 0.55 * n_rows + 1.8)
        ax = fig.add_subplot()
        shown = ax.imshow(values, cmap=ACCURACY_CMAP, vmin=0, vmax=100, aspect="auto")
        ax.set_xticks(range(n_columns), matrix.test_filters, rotation=30, ha="right")
        ax.set_yticks(range(n_rows), [f"{spec} (n={count})" for spec, count in zip(matrix.train_filters, matrix.runs)])
        for (i, j), value in np.ndenumerate(values):
            colour = "white" if value < 60 else "black"  # readable on viridis' dark and light ends
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7, color=colour)
        ax.set_xlabel("filter applied to the test images")
        ax.set_ylabel("filter the model was trained on")
        fig.colorbar(shown, ax=ax, label="test accuracy (%)")
        fig.suptitle(
            f"Train band x test band accuracy\n{figure_dataset_label(matrix.dataset)} · {matrix.model} · "
            f"{matrix.n_images} test images"
        )
        save_figure(fig, path)


def _means(variants: Sequence[Any], x_column: str, y_column: str, spec: str) -> tuple[list, list, np.ndarray, np.ndarray]:
    """The variants of filter ``spec`` having both columns: mean x, mean y and their (2, n) interval half-widths
    (0 where a variant has no interval: one seed)."""
    xs, ys, x_errors, y_errors = [], [], [], []
    for variant in variants:
        x, y = variant.stats.get(x_column), variant.stats.get(y_column)
        if str(variant.identity.get("filter")) != spec or x is None or y is None:
            continue
        for entry, column, means, errors in ((x, x_column, xs, x_errors), (y, y_column, ys, y_errors)):
            means.append(_scaled(column, entry["mean"]))
            has = entry.get("ci_low") is not None
            errors.append((_scaled(column, entry["mean"] - entry["ci_low"]) if has else 0.0,
                           _scaled(column, entry["ci_high"] - entry["mean"]) if has else 0.0))
    return xs, ys, np.array(x_errors).reshape(-1, 2).T, np.array(y_errors).reshape(-1, 2).T


def _pairs(variants: Sequence[Any], x_column: str, y_column: str) -> int:
    return sum(x_column in variant.stats and y_column in variant.stats for variant in variants)


def _scaled(column: str, value: float) -> float:
    return 100.0 * value if column in PERCENT_COLUMNS else value


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else value


def _rho_title(correlation: dict | None) -> str:
    if not correlation or correlation["rho"] is None:
        return "Spearman rho undefined" + (f" (n={correlation['n']})" if correlation else "")
    interval = ""
    if correlation.get("ci_low") is not None:
        interval = f" [{correlation['ci_low']:+.2f}, {correlation['ci_high']:+.2f}]"
    p = correlation.get("p_value")
    p_text = "" if p is None else f"p = {p:.2g}, "
    return f"rho = {correlation['rho']:+.2f}{interval}\n{p_text}{correlation['n']} variants"


def _filter_colors(filters: Sequence[str]) -> dict[str, Any]:
    import matplotlib

    palette = matplotlib.colormaps["tab10" if len(filters) <= 10 else "tab20"]
    return {spec: palette(index % palette.N) for index, spec in enumerate(filters)}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", Path(str(text).removeprefix("folder:")).name).strip("-") or "data"
