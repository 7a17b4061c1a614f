"""Figures of the seed summaries of ``freqprobe compare``: mean band-ablation curves per variant (± 1 std band), and
the variants' accuracy, robustness and heat-map statistics side by side, one row of panels per dataset (mean with
its 95% interval over seeds)."""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from freqprobe.run_columns import PERCENT_COLUMNS
from freqprobe.plots.style import figure_dataset_label, new_figure, paper_style, save_figure

# The figures take freqprobe.analysis.compare.variants.VariantSummary objects; plots import nothing from analysis.

PANEL_INCHES = 3.0
# The bars of the summary figure, in display order, with their axis labels.
SUMMARY_PANELS = {
    "clean_accuracy": "clean test accuracy (%)",
    "robust_accuracy": "robust accuracy (%)",
    "heatmap_error_low": "heat map error, |f| < 1/8 (%)",
    "heatmap_error_mid": "heat map error, 1/8..1/4 (%)",
    "heatmap_error_high": "heat map error, |f| >= 1/4 (%)",
    "kernel_centroid_first": "first-layer kernel centroid (cycles/pixel)",
}


def by_dataset(variants: Sequence[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for variant in variants:
        groups.setdefault(str(variant.identity.get("dataset")), []).append(variant)
    return groups


def plot_variant_band_curves(variants: Sequence[Any], subtitle: str, path: str | os.PathLike) -> bool:
    """Low-pass and high-pass accuracy over the radius, mean over each variant's seeds with a ±1 std band; one row
    per dataset. Returns False (nothing written) when no variant has a mean curve."""
    groups = {
        dataset: [variant for variant in members if variant.band_curve is not None]
        for dataset, members in by_dataset(variants).items()
    }
    groups = {dataset: members for dataset, members in groups.items() if members}
    if not groups:
        return False
    with paper_style():
        fig = new_figure(2 * PANEL_INCHES + 2.4, PANEL_INCHES * len(groups) + 0.8)
        axes = fig.subplots(len(groups), 2, squeeze=False)
        for (dataset, members), row in zip(groups.items(), axes):
            for index, variant in enumerate(members):
                curve = variant.band_curve
                radii = np.asarray(curve["radii"])
                colour = f"C{index % 10}"
                for ax, key in zip(row, ("low_pass_accuracy", "high_pass_accuracy")):
                    mean = 100.0 * np.asarray(curve[f"{key}_mean"], dtype=np.float64)
                    ax.plot(radii, mean, "o-", ms=2.5, color=colour, label=f"{variant.label} (n={curve['runs']})")
                    std = curve[f"{key}_std"]
                    if all(value is not None for value in std):
                        spread = 100.0 * np.asarray(std, dtype=np.float64)
                        ax.fill_between(radii, mean - spread, mean + spread, color=colour, alpha=0.15, lw=0)
            for ax, kind in zip(row, ("low-pass (|f| < r)", "high-pass (|f| >= r)")):
                ax.set_title(f"{figure_dataset_label(dataset)}: {kind}")
                ax.set_xlabel("radius r (cycles/pixel)")
                ax.set_ylabel("test accuracy (%)")
                ax.set_ylim(0, 100)
            row[1].legend(loc="upper right", fontsize=6)
        fig.suptitle(f"Band ablation per variant, mean ± std over seeds\n{subtitle}")
        save_figure(fig, path)
    return True


def plot_variant_summary(variants: Sequence[Any], subtitle: str, path: str | os.PathLike) -> bool:
    """Bars of the mean over seeds for each variant and statistic (SUMMARY_PANELS), error bars the 95% interval
    (none for one seed), one row per dataset. Returns False when no variant has any of the statistics."""
    panels = [name for name in SUMMARY_PANELS if any(name in variant.stats for variant in variants)]
    groups = by_dataset(variants)
    if not panels:
        return False
    with paper_style():
        fig = new_figure(2.3 * len(panels) + 0.6, 2.9 * len(groups) + 0.9)
        axes = fig.subplots(len(groups), len(panels), squeeze=False)
        for (dataset, members), row in zip(groups.items(), axes):
            labels = [variant.label for variant in members]
            for ax, name in zip(row, panels):
                scale = 100.0 if name in PERCENT_COLUMNS else 1.0
                means = [scale * v.stats[name]["mean"] if name in v.stats else np.nan for v in members]
                errors = np.array([_interval_arms(v.stats.get(name), scale) for v in members]).T
                ax.bar(range(len(members)), means, yerr=errors, color=[f"C{i % 10}" for i in range(len(members))],
                       capsize=2)
                ax.set_xticks(range(len(members)), labels, rotation=35, ha="right", fontsize=6)
                ax.set_ylabel(SUMMARY_PANELS[name], fontsize=7)
                ax.set_title(figure_dataset_label(dataset), fontsize=7)
        fig.suptitle(f"Variants side by side, mean and 95% interval over seeds\n{subtitle}")
        save_figure(fig, path)
    return True


def _interval_arms(entry: dict | None, scale: float) -> tuple[float, float]:
    """Distances from the mean down and up to the interval ends; 0 where there is no interval (one seed)."""
    if entry is None or entry.get("ci_low") is None:
        return 0.0, 0.0
    return scale * (entry["mean"] - entry["ci_low"]), scale * (entry["ci_high"] - entry["mean"])
