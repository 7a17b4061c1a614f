"""The kernel statistics of a run over its epochs (``freqprobe train --track-kernels`` writes RUN/kernel_stats.jsonl):
each layer's mean spectral centroid and high-frequency ratio after every epoch, coloured by depth."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from matplotlib.ticker import MaxNLocator

from freqprobe.plots.kernels import _depth_color, _depth_colorbar
from freqprobe.plots.style import FREQUENCY_LABEL, new_figure, paper_style, save_figure

KERNEL_LOG = "kernel_stats.jsonl"
FIGURE_FILE = "kernel_stats_over_epochs.png"
PANELS = {
    "spectral_centroid_mean": f"mean kernel spectral centroid ({FREQUENCY_LABEL})",
    "high_frequency_ratio": "mean energy share above the cutoff",
}


def read_kernel_history(run_dir: str | os.PathLike) -> list[dict]:
    """The records of RUN/kernel_stats.jsonl in epoch order (a later line for the same epoch wins); [] without."""
    from freqprobe.io import read_jsonl

    records = {}
    for record in read_jsonl(Path(run_dir) / KERNEL_LOG):
        if isinstance(record, dict) and isinstance(record.get("layers"), list) and "epoch" in record:
            records[int(record["epoch"])] = record
    return [records[epoch] for epoch in sorted(records)]


def plot_kernel_history(records: Sequence[dict], title: str, path: str | os.PathLike) -> None:
    """One line per convolution over the epochs, for each statistic of PANELS."""
    epochs = [record["epoch"] for record in records]
    layers = records[-1]["layers"]
    with paper_style():
        fig = new_figure(4.2 * len(PANELS) + 1.2, 3.6)
        axes = fig.subplots(1, len(PANELS), squeeze=False)[0]
        for ax, (key, label) in zip(axes, PANELS.items()):
            for depth, layer in enumerate(layers):
                values = [_layer_value(record, layer["name"], key) for record in records]
                ax.plot(epochs, values, "o-", ms=2.5, lw=1.0, color=_depth_color(depth, len(layers)))
            ax.set_xlabel("epoch (0: initialization)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(label)
        _depth_colorbar(fig, axes[-1], layers)
        fig.suptitle(f"Kernel statistics after every epoch of training\n{title}")
        save_figure(fig, path)


def _layer_value(record: dict, name: str, key: str) -> float:
    for layer in record["layers"]:
        if layer.get("name") == name and isinstance(layer.get(key), (int, float)):
            return float(layer[key])
    return float("nan")
