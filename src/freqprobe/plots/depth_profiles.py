"""Per-variant curves against relative depth (``freqprobe compare``): each convolution's mean kernel spectral
centroid (``filters.json``) and the ΔLog-amplitude of each convolution's feature maps (``features.json``), the mean
over the variant's seeds with its 95% Student-t interval (a band; none for one seed), one row of panels per dataset.
Relative depth is a layer's rank in forward order over the run's count minus one, so networks of different depth
share the axis (the anatomy comparison across architecture families)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any, Sequence

import numpy as np

from freqprobe.plots.style import figure_dataset_label, new_figure, paper_style, save_figure, wrap_title
from freqprobe.stats.intervals import t_interval

# The figures take VariantSummary objects and compare rows; plots import nothing from analysis.

PANEL_INCHES = 3.2

PANELS = (
    ("kernel", "mean kernel spectral centroid (cycles/pixel)"),
    ("features", "feature maps: ΔLog-amplitude (Nyquist − DC)"),
)
EMPTY = {"kernel": "no kernel statistics", "features": "no feature spectra\n(freqprobe features, compare --features)"}


def depth_curves(
    variants: Sequence[Any], rows: Sequence[dict], profiles: dict[str, list]
) -> dict[str, dict[str, dict[str, dict]]]:
    """{dataset: {variant label: {"kernel" | "features": {depth, mean, low, high, n}}}} from each run's
    ``profiles[run]["kernel" | "features"]`` ([(relative depth, value)]), over the runs of each variant whose layer
    count is the variant's most common one (runs of one architecture share it)."""
    row_of = {row["run"]: row for row in rows}
    curves: dict[str, dict[str, dict[str, dict]]] = {}
    for variant in variants:
        members = [row_of[name] for name in variant.runs if name in row_of]
        per_run = {kind: [profiles.get(row["run"], {}).get(kind, []) for row in members] for kind, _ in PANELS}
        found = {kind: _mean_curve(values) for kind, values in per_run.items()}
        found = {kind: curve for kind, curve in found.items() if curve is not None}
        if found:
            dataset = str(variant.identity.get("dataset"))
            curves.setdefault(dataset, {})[variant.label] = found
    return curves


def plot_depth_profiles(
    variants: Sequence[Any], rows: Sequence[dict], profiles: dict[str, list], subtitle: str, path: str | os.PathLike
) -> bool:
    """The figure of :func:`depth_curves`; False (nothing written) when no variant has a curve."""
    curves = depth_curves(variants, rows, profiles)
    if not curves:
        return False
    with paper_style():
        width = 2 * PANEL_INCHES + 2.8
        fig = new_figure(width, PANEL_INCHES * len(curves) + 0.9)
        axes = fig.subplots(len(curves), 2, squeeze=False)
        for (dataset, by_variant), row in zip(curves.items(), axes):
            for index, (label, found) in enumerate(by_variant.items()):
                colour = f"C{index % 10}"
                for ax, (kind, _) in zip(row, PANELS):
                    curve = found.get(kind)
                    if curve is None:
                        continue
                    ax.plot(curve["depth"], curve["mean"], "o-", ms=2.5, lw=1.0, color=colour,
                            label=f"{label} (n={curve['n']})")
                    if curve["low"] is not None:
                        ax.fill_between(curve["depth"], curve["low"], curve["high"], color=colour, alpha=0.18, lw=0)
            for ax, (kind, label) in zip(row, PANELS):
                ax.set_title(f"{figure_dataset_label(dataset)}")
                ax.set_xlabel("relative depth (first conv 0, last 1)")
                ax.set_ylabel(label)
                if not ax.lines:
                    ax.text(0.5, 0.5, EMPTY[kind], ha="center", va="center", transform=ax.transAxes, fontsize="small")
            filled = row[1] if row[1].lines else row[0]
            filled.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small")
        fig.suptitle(f"kernel and feature-map spectra against relative depth\n{wrap_title(subtitle, width)}")
        save_figure(fig, path)
    return True


def _mean_curve(profiles_per_run: list[list]) -> dict | None:
    """Mean and interval over the runs' [(relative depth, value)] profiles of the most common length, at the depths
    they were measured at (runs of one architecture share them)."""
    lengths = Counter(len(profile) for profile in profiles_per_run if profile)
    if not lengths:
        return None
    count = lengths.most_common(1)[0][0]
    kept = [profile for profile in profiles_per_run if len(profile) == count]
    stacked = np.asarray([[value for _, value in profile] for profile in kept], dtype=np.float64)
    depth = [float(position) for position, _ in kept[0]]
    n = stacked.shape[0]
    mean = stacked.mean(axis=0)
    if n < 2:
        return {"depth": depth, "mean": mean.tolist(), "low": None, "high": None, "n": n}
    std = stacked.std(axis=0, ddof=1)
    bounds = [t_interval(float(m), float(s), n) for m, s in zip(mean, std)]
    return {"depth": depth, "mean": mean.tolist(), "low": [low for low, _ in bounds],
            "high": [high for _, high in bounds], "n": n}
