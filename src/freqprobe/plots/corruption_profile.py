"""The corruption profile of ``freqprobe compare``: per corruption, each variant's accuracy minus its baseline's,
paired by seed (mean and 95% interval), the corruptions ordered by the frequency group of their perturbation (low,
mid, high), one panel per dataset. Without a baseline, each variant's mean accuracy with its interval.

This is the view of Yin et al. 2019 (Fig. 5): Gaussian-noise augmentation helped the high-frequency corruptions and
hurt fog and contrast; the figure shows whether a variant moves the profile the same way.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any, Sequence

import numpy as np

from freqprobe.plots.style import figure_dataset_label, new_figure, paper_style, save_figure, wrap_title
from freqprobe.run_columns import CORRUPTION_ACCURACY_PREFIX, CORRUPTION_GROUP_PREFIX

# The figure takes VariantSummary objects, compare rows and paired-difference entries; plots import nothing from
# analysis.

GROUP_ORDER = ("low", "mid", "high")
INCHES_PER_CORRUPTION = 0.55


def corruption_order(rows: Sequence[dict], dataset: str) -> list[tuple[str, str]]:
    """(corruption, group) of the dataset's runs, low- to high-frequency group, by name within a group; a corruption
    whose runs disagree on the group takes the most common one, one without a group goes last."""
    groups: dict[str, Counter] = {}
    for row in rows:
        if str(row.get("dataset")) != dataset:
            continue
        for key, value in row.items():
            if key.startswith(CORRUPTION_ACCURACY_PREFIX):
                name = key[len(CORRUPTION_ACCURACY_PREFIX):]
                groups.setdefault(name, Counter())[row.get(f"{CORRUPTION_GROUP_PREFIX}{name}") or "?"] += 1
    chosen = {name: counts.most_common(1)[0][0] for name, counts in groups.items()}
    rank = {group: index for index, group in enumerate(GROUP_ORDER)}
    return sorted(chosen.items(), key=lambda item: (rank.get(item[1], len(GROUP_ORDER)), item[0]))


def profile_bars(
    variants: Sequence[Any], differences: Sequence[dict], dataset: str, corruptions: Sequence[str]
) -> tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    """("difference" | "accuracy", [(label, means, interval arms (2, K))]) in points for the dataset: the paired
    differences when any exist for its corruptions, else each variant's mean accuracy over seeds."""
    columns = [f"{CORRUPTION_ACCURACY_PREFIX}{name}" for name in corruptions]
    found: dict[str, dict[str, dict]] = {}
    for entry in differences:
        if str(entry.get("dataset")) == dataset and entry.get("column") in columns:
            label = f"{entry['variant']} − {entry['baseline']}"
            found.setdefault(label, {})[entry["column"]] = entry
    if found:
        return "difference", [(label, *_bars(by_column, columns)) for label, by_column in found.items()]
    members = [variant for variant in variants if str(variant.identity.get("dataset")) == dataset]
    bars = [(variant.label, *_bars(variant.stats, columns)) for variant in members
            if any(column in variant.stats for column in columns)]
    return "accuracy", bars


def plot_corruption_profile(
    variants: Sequence[Any], rows: Sequence[dict], differences: Sequence[dict], subtitle: str,
    path: str | os.PathLike,
) -> bool:
    """Write the figure; False (nothing written) when no run has per-corruption accuracies."""
    datasets = list(dict.fromkeys(str(row.get("dataset")) for row in rows))
    panels = []
    for dataset in datasets:
        order = corruption_order(rows, dataset)
        if order:
            mode, bars = profile_bars(variants, differences, dataset, [name for name, _ in order])
            if bars:
                panels.append((dataset, order, mode, bars))
    if not panels:
        return False
    widest = max(len(order) for _, order, _, _ in panels)
    inches = max(6.0, INCHES_PER_CORRUPTION * widest + 1.8)
    with paper_style():
        fig = new_figure(inches, 3.1 * len(panels) + 1.0)
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        for ax, (dataset, order, mode, bars) in zip(axes, panels):
            _draw_panel(ax, dataset, order, mode, bars)
        paired = any(mode == "difference" for _, _, mode, _ in panels)
        kind = "accuracy minus the baseline's, paired by seed" if paired else "accuracy"
        fig.suptitle(wrap_title(f"Corruption profile: {kind} · mean and 95% interval · corruptions by the frequency "
                                f"group of their perturbation · {subtitle}", inches))
        save_figure(fig, path)
    return True


def _draw_panel(ax, dataset: str, order: list[tuple[str, str]], mode: str, bars: list) -> None:
    positions = np.arange(len(order))
    width = 0.8 / len(bars)
    for index, (label, means, arms) in enumerate(bars):
        offset = (index - (len(bars) - 1) / 2) * width
        ax.bar(positions + offset, means, width, yerr=arms, capsize=1.5, color=f"C{index % 10}", label=label,
               error_kw={"lw": 0.7})
    if mode == "difference":
        ax.axhline(0.0, color="black", lw=0.6)
    groups = [group for _, group in order]
    for index in range(1, len(groups)):
        if groups[index] != groups[index - 1]:
            ax.axvline(index - 0.5, color="grey", lw=0.6, ls="--")
    for group in dict.fromkeys(groups):
        members = [index for index, value in enumerate(groups) if value == group]
        ax.text((members[0] + members[-1]) / 2, 1.0, f"{group}-frequency" if group != "?" else "no group",
                transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(positions, [name.replace("_", " ") for name, _ in order], rotation=40, ha="right", fontsize=6.5)
    ax.set_xlim(-0.6, len(order) - 0.4)
    ax.set_ylabel("accuracy minus baseline (points)" if mode == "difference" else "accuracy (%)", fontsize=7)
    ax.set_title(figure_dataset_label(dataset), fontsize=8, pad=12)
    ax.legend(fontsize=6, loc="best")


def _bars(stats: dict[str, dict], columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    means = np.array([100.0 * stats[column]["mean"] if column in stats else np.nan for column in columns])
    arms = np.full((2, len(columns)), np.nan)  # no error bar where there is no interval (one seed)
    for index, column in enumerate(columns):
        entry = stats.get(column)
        if entry is not None and entry.get("ci_low") is not None:
            arms[:, index] = 100.0 * (entry["mean"] - entry["ci_low"]), 100.0 * (entry["ci_high"] - entry["mean"])
    return means, arms
