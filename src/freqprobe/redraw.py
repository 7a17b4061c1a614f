"""Redraw the figures of a results tree from the numbers stored beside them, recomputing no analysis.

What each stored file redraws (``redraw_folder`` walks a tree and does all that applies):
- a run folder (``metrics.jsonl``): ``learning_curve``;
- a sweep folder (``sweep.json`` and ``runs/``): ``learning_curves`` (the runs overlaid);
- ``sensitivity.json``: band ablation, Fourier heat map, gradient spectrum, shift consistency, every attack;
- ``filters.json``: the kernel histograms, radial profiles and singular values; the first-layer kernels from the
  run's weights (``source`` names the run relative to the file); ``kernel_stats_over_epochs`` from the run's
  ``kernel_stats.jsonl``;
- ``compare.json``: scatter plots, correlation matrices, variant summaries, band matrices.
Not redrawable without recomputing (their JSON keeps summaries, not the grids or images drawn): the dataset spectra
of ``spectrum.json`` (class spectra, radial profiles, centroid histograms, discrimination map) and ``preview.json``'s
images; rerun ``freqprobe spectrum`` / ``preview`` with the command in the folder's COMMANDS.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from freqprobe.plots.formats import DEFAULT_FORMAT

NOT_REDRAWABLE = {
    "spectrum.json": "dataset spectra need the images: rerun freqprobe spectrum",
    "preview.json": "the preview shows images: rerun freqprobe preview",
}


@dataclass
class Redrawn:
    """What one call redrew (paths) and what it could not (one line each)."""

    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def redraw_folder(root: str | os.PathLike, fmt: str = DEFAULT_FORMAT, log: Callable[[str], None] = print) -> Redrawn:
    """Redraw every figure under ``root`` that its stored numbers allow (see the module docstring), in ``fmt``."""
    from freqprobe.io import read_json_object

    outcome = Redrawn()
    for folder in sorted(path for path in [Path(root), *Path(root).rglob("*")] if path.is_dir()):
        if any(part.startswith(".") for part in folder.relative_to(root).parts):
            continue
        steps = []
        if (folder / "metrics.jsonl").is_file():
            steps.append(("learning curve", lambda f=folder: [_learning_curve(f, fmt)]))
        if (folder / "sweep.json").is_file() and (folder / "runs").is_dir():
            steps.append(("sweep learning curves", lambda f=folder: _sweep_curves(f, fmt)))
        if (folder / "sensitivity.json").is_file():
            steps.append(("sensitivity", lambda f=folder: _sensitivity(f, fmt, read_json_object)))
        if (folder / "filters.json").is_file():
            steps.append(("kernels", lambda f=folder: _kernels(f, fmt, read_json_object)))
        if (folder / "compare.json").is_file():
            steps.append(("compare", lambda f=folder: _compare(f, fmt, read_json_object)))
        for name, reason in NOT_REDRAWABLE.items():
            if (folder / name).is_file():
                outcome.skipped.append(f"{folder / name}: {reason}")
        for label, step in steps:
            paths = [path for path in step() if path is not None]
            outcome.written += paths
            log(f"{folder}: {label}: {len(paths)} figure(s)")
    return outcome


def _learning_curve(folder: Path, fmt: str) -> Path | None:
    from freqprobe.errors import FreqprobeError
    from freqprobe.plots.learning_curve import draw_run_learning_curve

    try:
        return draw_run_learning_curve(folder, fmt)
    except FreqprobeError:
        return None  # no epoch yet: nothing to draw


def _sweep_curves(folder: Path, fmt: str) -> list[Path | None]:
    from freqprobe.plots.learning_curve import draw_sweep_learning_curves

    runs = sorted(path for path in (folder / "runs").iterdir() if path.is_dir())
    return [draw_sweep_learning_curves(folder, runs, fmt)]


def _sensitivity(folder: Path, fmt: str, read) -> list[Path]:
    """Redraw the figures, then point sensitivity.json at them: a file written before budgets were kept as written
    gets its attack keys, figure names and captions in today's form (``pgd-linf-eps8/255``,
    ``attack_pgd-linf-eps8over255.png``) and the old attack figure is removed; no number changes."""
    from freqprobe.io import atomic_write_json
    from freqprobe.plots.sensitivity import write_sensitivity_figures

    path = folder / "sensitivity.json"
    document = read(path, missing="no sensitivity.json", fix="rerun freqprobe sensitivity")
    written = write_sensitivity_figures(document, folder, fmt)
    if fmt == DEFAULT_FORMAT:  # the report's figures are the PNGs
        old_files = _update_figure_names(document, written)
        atomic_write_json(path, document)
        for name in old_files - {file.name for file in written.values()}:
            (folder / name).unlink(missing_ok=True)
    return list(written.values())


def _update_figure_names(document: dict, written: dict[str, Path]) -> set[str]:
    """Rename attack keys to their budget as written and point ``figures``/``captions`` at the files just drawn;
    returns the file names that were replaced."""
    from freqprobe.plots.sensitivity import GRADIENT_SCALE_NOTE, attack_budget

    figures, captions = document.setdefault("figures", {}), document.setdefault("captions", {})
    attacks = document.get("attacks") or {}
    replaced: set[str] = set()
    for key in list(attacks):
        result = attacks.pop(key)
        new_key = f"{result['method']}-{result['norm']}-eps{attack_budget(result)}"
        new_file = written[f"attack:{key}"].name
        old_file = result.get("figure") or figures.get(f"attack:{key}")
        caption = captions.pop(old_file, None) if old_file else None
        if caption:
            captions[new_file] = caption.replace(f"eps {result['eps']:.4g} ", f"eps {attack_budget(result)} ")
        if old_file and old_file != new_file:
            replaced.add(old_file)
        result.setdefault("budget", attack_budget(result))
        result["figure"] = new_file
        attacks[new_key] = result
        figures.pop(f"attack:{key}", None)
        figures[f"attack:{new_key}"] = new_file
    gradient_file = figures.get("gradient_spectrum")
    if gradient_file in captions and GRADIENT_SCALE_NOTE not in captions[gradient_file]:
        captions[gradient_file] = f"{captions[gradient_file]} {GRADIENT_SCALE_NOTE}"
    return replaced


def _kernels(folder: Path, fmt: str, read) -> list[Path]:
    from freqprobe.plots.kernel_history import FIGURE_FILE, plot_kernel_history, read_kernel_history
    from freqprobe.plots.formats import figure_file
    from freqprobe.plots.kernels import write_kernel_figures

    result = read(folder / "filters.json", missing="no filters.json", fix="rerun freqprobe filters")
    source = folder / str(result.get("source", ""))
    paths = list(write_kernel_figures(result, _first_weight(source), folder, fmt).values())
    history = read_kernel_history(source) if source.is_dir() else []
    if history:
        path = folder / figure_file(FIGURE_FILE, fmt)
        plot_kernel_history(history, f"{result['model']} · {result['source']} · {len(history)} epochs", path)
        paths.append(path)
    return paths


def _first_weight(source: Path):
    """The first convolution's weight of the model ``source`` names, or None when it cannot be loaded."""
    from freqprobe.analysis.model_source import conv_layers, load_model_source
    from freqprobe.errors import FreqprobeError

    if not source.exists():
        return None
    try:
        return conv_layers(load_model_source(str(source)).model)[0][1].weight
    except FreqprobeError:
        return None


def _compare(folder: Path, fmt: str, read) -> list[Path]:
    from freqprobe.analysis.compare.table import comparison_from_dict
    from freqprobe.plots.compare import write_compare_figures

    data = read(folder / "compare.json", missing="no compare.json", fix="rerun freqprobe compare")
    return list(write_compare_figures(comparison_from_dict(data), folder, fmt).values())
