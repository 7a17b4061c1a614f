"""Learning curves from a run's ``metrics.jsonl`` (one line per completed epoch, read through
:meth:`freqprobe.runs.RunFolder.epoch_log`): loss and accuracy per epoch for the training and validation splits and
the learning rate; and, for a sweep, one curve per run overlaid.

Fields used per epoch line: ``epoch``, ``train_loss`` (with a spectral regularizer: the objective, penalty included),
``train_cross_entropy`` (only with a regularizer), ``train_accuracy``, ``val_loss``, ``val_accuracy`` (fractions,
drawn as percent; validation without test-time augmentation), ``lr`` (the rate of the epoch's last step).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

from matplotlib.ticker import MaxNLocator

from freqprobe.plots.formats import DEFAULT_FORMAT, figure_file
from freqprobe.plots.style import figure_dataset_label, new_figure, paper_style, save_figure

LEARNING_CURVE_FILE = "learning_curve.png"
SWEEP_CURVES_FILE = "learning_curves.png"
EPOCH_LABEL = "epoch"


def plot_learning_curve(
    records: Sequence[dict], title: str, path: str | os.PathLike, final: dict | None = None
) -> None:
    """Three panels over the epochs: loss, accuracy (%) and learning rate; train solid, validation dashed.

    ``final``: the run's metrics.json; its ``test_accuracy`` is marked after the last epoch.
    """
    epochs = [record.get("epoch") for record in records]
    with paper_style():
        fig = new_figure(10.5, 3.4)
        loss_ax, accuracy_ax, lr_ax = fig.subplots(1, 3)
        regularized = any("train_cross_entropy" in record for record in records)
        train_loss_key = "train_cross_entropy" if regularized else "train_loss"
        train_label = "train (epoch mean, augmented" + ("; without the penalty)" if regularized else ")")
        loss_ax.plot(epochs, _series(records, train_loss_key), "o-", ms=2.5, color="C0", label=train_label)
        loss_ax.plot(epochs, _series(records, "val_loss"), "s--", ms=2.5, color="C1", label="validation")
        loss_ax.set_ylabel("cross-entropy loss")
        accuracy_ax.plot(epochs, _series(records, "train_accuracy", 100.0), "o-", ms=2.5, color="C0", label="train")
        accuracy_ax.plot(epochs, _series(records, "val_accuracy", 100.0), "s--", ms=2.5, color="C1",
                         label="validation")
        test = (final or {}).get("test_accuracy")
        if isinstance(test, (int, float)) and epochs:
            accuracy_ax.plot([epochs[-1]], [100.0 * test], "k*", ms=7, label=f"test, final ({100.0 * test:.2f}%)")
        accuracy_ax.set_ylabel("accuracy (%)")
        lr_ax.plot(epochs, _series(records, "lr"), "o-", ms=2.5, color="C2")
        lr_ax.set_ylabel("learning rate (last step of the epoch)")
        for ax in (loss_ax, accuracy_ax, lr_ax):
            ax.set_xlabel(EPOCH_LABEL)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True)
        loss_ax.legend(frameon=False, fontsize=7)
        accuracy_ax.legend(frameon=False, fontsize=7, loc="lower right")
        fig.suptitle(f"Learning curve: {len(records)} epochs\n{title}")
        save_figure(fig, path)


def plot_sweep_learning_curves(curves: dict[str, Sequence[dict]], title: str, path: str | os.PathLike) -> None:
    """One line per run: validation accuracy (%) and training loss over the epochs; legend beside the panels."""
    with paper_style():
        fig = new_figure(10.0, 3.8 + 0.12 * max(0, len(curves) - 12))
        accuracy_ax, loss_ax = fig.subplots(1, 2)
        for index, (label, records) in enumerate(curves.items()):
            epochs = [record.get("epoch") for record in records]
            colour = f"C{index % 10}"
            style = "-" if index < 10 else "--"  # more runs than colours: the second ten dashed
            accuracy_ax.plot(epochs, _series(records, "val_accuracy", 100.0), style, color=colour, label=label)
            loss_ax.plot(epochs, _series(records, "train_loss"), style, color=colour)
        accuracy_ax.set_ylabel("validation accuracy (%)")
        loss_ax.set_ylabel("training loss (objective)")
        for ax in (accuracy_ax, loss_ax):
            ax.set_xlabel(EPOCH_LABEL)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True)
        fig.legend(loc="outside right upper", title="run", fontsize=6, title_fontsize=7, frameon=False)
        fig.suptitle(f"Learning curves of {len(curves)} runs\n{title}")
        save_figure(fig, path)


def draw_run_learning_curve(run_dir: str | os.PathLike, fmt: str = DEFAULT_FORMAT) -> Path:
    """Draw ``RUN/learning_curve.<fmt>`` from the run's metrics.jsonl (and its metrics.json, when the run finished);
    returns the path. Works for an unfinished run (the epochs so far).

    Raises:
        RunFolderError: metrics.jsonl is missing.
        FreqprobeError: it holds no epoch yet.
    """
    from freqprobe.errors import FreqprobeError
    from freqprobe.runs import RunFolder

    run = RunFolder(run_dir)
    records = _epoch_records(run.epoch_log())
    if not records:
        raise FreqprobeError(f"{run.paths.metrics_log} holds no completed epoch yet; draw the curve after one")
    final = run.metrics if run.paths.metrics.is_file() else None
    path = Path(run_dir) / figure_file(LEARNING_CURVE_FILE, fmt)
    plot_learning_curve(records, describe_run(run.config), path, final)
    return path


def draw_sweep_learning_curves(
    out_dir: str | os.PathLike, run_dirs: Sequence[str | os.PathLike], fmt: str = DEFAULT_FORMAT
) -> Path | None:
    """Overlay the runs among ``run_dirs`` that have at least one epoch in ``OUT/learning_curves.<fmt>``; returns
    the path, or None (nothing written) when none has."""
    from freqprobe.runs import RunFolder

    curves = {}
    datasets = []
    for run_dir in run_dirs:
        run = RunFolder(run_dir)
        if not run.paths.metrics_log.is_file():
            continue
        records = _epoch_records(run.epoch_log())
        if records:
            curves[Path(run_dir).name] = records
            datasets.append(_dataset_name(run.config))
    if not curves:
        return None
    path = Path(out_dir) / figure_file(SWEEP_CURVES_FILE, fmt)
    shown = ", ".join(dict.fromkeys(datasets))
    plot_sweep_learning_curves(curves, f"{shown} · sweep {Path(out_dir).resolve().name}", path)
    return path


def describe_run(config: dict) -> str:
    """model · dataset (as readers name it) · filter · seed, from a run's flat config."""
    parts = [str(config.get("model", "model")), _dataset_name(config), f"filter {config.get('filter', 'none')}"]
    for key in ("conv", "spectral_reg"):
        if config.get(key) not in (None, "", "standard", "none"):
            parts.append(f"{key.replace('_', '-')} {config[key]}")
    if config.get("antialias"):
        parts.append("antialias")
    parts.append(f"seed {config.get('seed', 0)}")
    return " · ".join(parts)


def _dataset_name(config: dict) -> str:
    
    return figure_dataset_label(str(config.get("dataset", "?")), config.get("source"))


def _epoch_records(records: list[dict]) -> list[dict]:
    """Epoch lines in epoch order, a later line of the same epoch (a resumed run) replacing the earlier one."""
    by_epoch = {}
    for record in records:
        if isinstance(record.get("epoch"), int):
            by_epoch[record["epoch"]] = record
    return [by_epoch[epoch] for epoch in sorted(by_epoch)]


def _series(records: Sequence[dict], key: str, scale: float = 1.0) -> list[float]:
    values = []
    for record in records:
        value = record.get(key)
        finite = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        values.append(scale * value if finite else math.nan)
    return values
