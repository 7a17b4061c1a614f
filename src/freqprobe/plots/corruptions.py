"""Figures of corruption robustness by frequency: error per corruption grouped by the frequency band of its
perturbation, and the error predicted from the Fourier heat map against the measured error."""

from __future__ import annotations

import os

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from freqprobe.plots.sensitivity import wrap_title
from freqprobe.plots.style import new_figure, paper_style, save_png

GROUP_ORDER = ("low", "mid", "high")
GROUP_COLORS = {"low": "C0", "mid": "C2", "high": "C3", None: "C7"}


def plot_corruption_errors(section: dict, title: str, path: str | os.PathLike) -> None:
    """Bars: mean error (percent) per corruption, grouped low/mid/high by perturbation centroid, sorted by centroid
    within a group; dots: the five severities; dashed line: clean error."""
    entries = _ordered(section["per_corruption"])
    with paper_style():
        fig = new_figure(max(6.0, 0.42 * len(entries) + 1.5), 4.0)
        ax = fig.add_subplot()
        positions = np.arange(len(entries))
        means = [100 * entry["mean_error"] for _, entry in entries]
        colors = [GROUP_COLORS.get(entry["group"], "C7") for _, entry in entries]
        ax.bar(positions, means, color=colors, alpha=0.85)
        for index, (_, entry) in enumerate(entries):
            ax.plot([index] * 5, [100 * e for e in entry["error"]], "k.", ms=3)
        ax.axhline(100 * section["clean_error"], color="k", ls="--", lw=1.0)
        ax.set_xticks(positions, [name + ("" if entry["benchmark"] else "*") for name, entry in entries],
                      rotation=60, ha="right")
        ax.set_ylabel("test error (%)")
        handles = [Patch(color=GROUP_COLORS[group], label=f"{group}-frequency perturbation") for group in GROUP_ORDER]
        handles.append(Line2D([], [], color="k", ls="--", lw=1.0, label=f"clean {100 * section['clean_error']:.1f}%"))
        fig.legend(handles=handles, frameon=False, loc="outside right upper")  # never over a bar
        ax.set_title(wrap_title(f"Error under corruptions (bars: mean of severities 1-5, dots: each; * extra) · "
                                f"{title}", fig.get_figwidth()))
        save_png(fig, path)


def plot_predicted_vs_measured(section: dict, title: str, path: str | os.PathLike) -> None:
    """Scatter: heat-map-predicted error against measured mean error (percent), one labelled point per corruption."""
    points = [(name, entry) for name, entry in section["per_corruption"].items() if entry.get("predicted_error") is not None]
    yin = section.get("yin") or {}
    with paper_style():
        fig = new_figure(5.4, 4.4)
        ax = fig.add_subplot()
        for name, entry in points:
            x, y = 100 * entry["predicted_error"], 100 * entry["mean_error"]
            ax.scatter([x], [y], color=GROUP_COLORS.get(entry["group"], "C7"), s=18)
            ax.annotate(name, (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
        for group in GROUP_ORDER:
            ax.scatter([], [], color=GROUP_COLORS[group], s=18, label=f"{group}-frequency")
        ax.set_xlabel("error predicted from the Fourier heat map (%)")
        ax.set_ylabel("measured error, mean of severities (%)")
        ax.grid(True)
        ax.legend(frameon=False, loc="best")
        rho = yin.get("spearman_rho")
        agreement = f"Spearman rho {rho:.2f} over {yin.get('n_corruptions')} corruptions" if rho is not None else "rho undefined"
        ax.set_title(wrap_title(f"Heat map weighted by each perturbation spectrum · {agreement} · {title}", 5.4))
        save_png(fig, path)


def _ordered(per_corruption: dict) -> list[tuple[str, dict]]:
    def key(item):
        entry = item[1]
        group = GROUP_ORDER.index(entry["group"]) if entry["group"] in GROUP_ORDER else len(GROUP_ORDER)
        centroid = entry.get("spectral_centroid")
        return group, np.inf if centroid is None else centroid
    return sorted(per_corruption.items(), key=key)
