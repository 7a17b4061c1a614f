"""Links across the runs of a sweep: input statistics, kernel statistics, accuracy and robustness in one table.

For every complete run of a sweep folder (``runs/<name>/`` with a valid ``metrics.json``) one row gathers

- ``input_centroid``: the mean spectral centroid (:func:`freqprobe.spectra.compute_dataset_spectrum`, cycles/pixel)
  of the first N (stratified) training images after the run's input filter, fitted as the run fitted it. Runs that
  share dataset, filter and split settings share one value (computed once);
- per convolution, the mean kernel spectral centroid (``RUN/analysis/filters.json`` when present, else
  :func:`freqprobe.analysis.kernels.analyze_kernels`), and summaries of the first layer and of all layers;
- the clean test accuracy of ``metrics.json``;
- band-ablation, Fourier-heat-map, shift and attack summaries from ``RUN/analysis/sensitivity.json`` when present
  (``analyze=True`` measures band ablation at a few radii and an FGSM attack on N test images for runs without one);

then Spearman rank correlations between the columns. For sweeps over ``band:LO:HI`` filters, the train-band x
test-band accuracy matrix evaluates every band-trained model on the test images passed through every band.

Whatever a run lacks (no analysis, unreadable JSON, missing data) is left empty in its row, with a note; the
command never stops for one run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from freqprobe.analysis.variants import VariantSummary, summarize_variants
from freqprobe.errors import ConfigError, FreqprobeError
from freqprobe.io import atomic_write_json, atomic_write_text, output_set

COMPARE_CSV = "compare.csv"
COMPARE_MD = "compare.md"
COMPARE_JSON = "compare.json"
# every file write_comparison may write (figure names depend on the data), so a re-run removes what it no longer writes
COMPARE_OUTPUTS = ("compare.*", "band_matrix*", "scatter_*.png", "correlations.png", "layer_correlations.png",
                   "variant_*.png")
BAND_MATRIX_CSV = "band_matrix.csv"
DEFAULT_SUBSET = 1000
ANALYZE_RADII = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
ANALYZE_ATTACK_EPS = 2.0 / 255.0
ANALYSIS_FOLDER = "analysis"
FILTERS_JSON = "filters.json"
SENSITIVITY_JSON = "sensitivity.json"
UNFILTERED = "none"
EVAL_BATCH = 500

Log = Callable[[str], None]

# The columns of the table that correlations are computed between, in display order, with their meaning.
METRIC_COLUMNS = {
    "input_centroid": "mean spectral centroid (cycles/pixel) of the filtered training images (subset, see header)",
    "kernel_centroid_first": "mean spectral centroid (cycles/pixel) of the first convolution's kernels",
    "kernel_centroid_mean": "mean over all convolutions of each layer's mean kernel spectral centroid",
    "kernel_hf_ratio_first": "first convolution: mean share of kernel power above the cutoff (filters.json)",
    "spectral_norm_first": "first convolution: largest singular value as an operator on its input size",
    "clean_accuracy": "test accuracy of metrics.json (fraction)",
    "val_accuracy": "validation accuracy of metrics.json (fraction)",
    "lowpass_auc": "band ablation: mean low-pass accuracy over radii 0..0.5 cycles/pixel (trapezoid rule)",
    "highpass_auc": "band ablation: mean high-pass accuracy over radii 0..0.5 cycles/pixel (trapezoid rule)",
    "lowpass_r50": "band ablation: smallest radius whose low-pass accuracy reaches half the clean accuracy "
    "(linear interpolation)",
    "highpass_r50": "band ablation: smallest radius whose high-pass accuracy falls below half the clean accuracy",
    "heatmap_mean_error": "Fourier heat map: mean error rate over the evaluated frequencies",
    "heatmap_centroid": "Fourier heat map: mean |f| weighted by the error above the clean error (cycles/pixel)",
    "heatmap_error_low": "Fourier heat map: mean error rate over the frequencies with |f| < 1/8 cycles/pixel",
    "heatmap_error_mid": "Fourier heat map: mean error rate over 1/8 <= |f| < 1/4 cycles/pixel",
    "heatmap_error_high": "Fourier heat map: mean error rate over |f| >= 1/4 cycles/pixel",
    "shift_consistency": "share of test images whose class is unchanged under two random circular shifts",
    "robust_accuracy": "accuracy under an adversarial attack of sensitivity.json (column robust_attack names it; "
    "--analyze: FGSM, L-inf, eps 2/255)",
}
# Columns that are fractions of images: shown in percent in compare.md and in the figures.
PERCENT_COLUMNS = frozenset(
    {"clean_accuracy", "val_accuracy", "lowpass_auc", "highpass_auc", "heatmap_mean_error", "heatmap_error_low",
     "heatmap_error_mid", "heatmap_error_high", "shift_consistency", "robust_accuracy"}
)
ID_COLUMNS = ("run", "dataset", "model", "filter", "seed")
# What a run cost, from metrics.json: in the table and the seed summaries, not in the correlations.
COST_COLUMNS = {
    "params": "trainable parameters of the model (metrics.json)",
    "train_seconds": "training wall time in seconds (metrics.json; machine and load as recorded in its env.json)",
}
# Heat-map frequency bands (cycles/pixel) of the heatmap_error_* columns: DC and the coarsest structure, the middle,
# and everything from half the Nyquist radius up.
HEATMAP_BANDS = {"heatmap_error_low": (0.0, 0.125), "heatmap_error_mid": (0.125, 0.25), "heatmap_error_high": (0.25, 1.0)}
SOURCE_COLUMNS = ("robust_attack", "kernel_source", "sensitivity_source")
LAYER_PREFIX = "kernel_centroid:"


# ----------------------------------------------------------------------------------------------------------------
# Runs of a sweep folder
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class RunRecord:
    """One complete training run: its folder, its training configuration and its final metrics."""

    name: str
    folder: Path
    config: dict[str, Any]  # TrainConfig.to_dict() (config.json's "config", or the file itself when flat)
    info: dict[str, Any]  # the whole config.json
    metrics: dict[str, Any]

    @property
    def dataset(self) -> str:
        return str(self.config.get("dataset", ""))

    @property
    def filter(self) -> str:
        return str(self.config.get("filter", UNFILTERED))

    @property
    def boundary(self) -> str:
        return str(self.config.get("boundary", "circular"))


def find_runs(sweep_dir: str | os.PathLike) -> tuple[list[RunRecord], list[str]]:
    """The complete runs of a sweep folder (``runs/*/``, or the folder's own subfolders), in name order, and notes
    about the folders left out (incomplete or unreadable).

    Raises:
        FreqprobeError: the folder does not exist or holds no complete run.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FreqprobeError(f"sweep folder {sweep_dir} does not exist; pass the --out folder of freqprobe sweep")
    parent = sweep_dir / "runs" if (sweep_dir / "runs").is_dir() else sweep_dir
    runs, notes = [], []
    for folder in sorted(path for path in parent.iterdir() if path.is_dir() and not path.name.startswith(".")):
        record, problem = _read_run(folder)
        if record is not None:
            runs.append(record)
        elif problem:
            notes.append(f"{folder.name}: {problem}")
    if not runs:
        raise FreqprobeError(
            f"{sweep_dir} holds no complete run (runs/<name>/ with config.json and metrics.json); "
            f"finish the sweep first or pass its --out folder"
        )
    return runs, notes


def find_runs_in(sweep_dirs: Sequence[str | os.PathLike]) -> tuple[list[RunRecord], list[str]]:
    """The complete runs of several sweep folders (e.g. a sweep and the sweep holding its regularized twin), folder
    by folder. A run name that repeats is prefixed with its sweep folder's name, so every row stays identifiable.

    Raises:
        FreqprobeError: a folder does not exist or holds no complete run.
    """
    runs, notes = [], []
    for sweep_dir in sweep_dirs:
        found, found_notes = find_runs(sweep_dir)
        runs += found
        notes += found_notes if len(sweep_dirs) == 1 else [f"{Path(sweep_dir).name}: {note}" for note in found_notes]
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.name] = counts.get(run.name, 0) + 1
    for run in runs:
        if counts[run.name] > 1:
            run.name = f"{_sweep_of(run.folder).name}/{run.name}"
    return runs, notes


def _sweep_of(run_folder: Path) -> Path:
    """The sweep folder a run folder belongs to (``SWEEP/runs/<name>`` or ``SWEEP/<name>``)."""
    parent = run_folder.parent
    return parent.parent if parent.name == "runs" else parent


def _read_run(folder: Path) -> tuple[RunRecord | None, str | None]:
    metrics = _read_json(folder / "metrics.json")
    info = _read_json(folder / "config.json")
    if metrics is None and info is None:
        return None, None  # not a run folder at all (locks/, failed/ of a sweep laid out flat)
    if not isinstance(metrics, dict) or "test_accuracy" not in metrics:
        return None, "incomplete (no final metrics.json), left out"
    if not isinstance(info, dict):
        return None, "config.json missing or unreadable, left out"
    config = info.get("config") if isinstance(info.get("config"), dict) else info
    if "dataset" not in config:
        return None, "config.json names no dataset, left out"
    return RunRecord(folder.name, folder, config, info, metrics), None


def _read_json(path: Path) -> Any:
    """The parsed file, or None when it is missing or not valid JSON (a missing piece, never a crash)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def swept_option_names(runs: Sequence[RunRecord]) -> list[str]:
    """Configuration fields other than the identity columns whose values differ between runs of the same dataset and
    model (e.g. antialias, conv). Fields a preset sets per dataset (crop padding, validation share) differ only
    across datasets and are left out: they are part of what "the dataset" means in the table."""
    # track_kernels only observes a run: it does not make a variant
    skipped = {"dataset", "model", "filter", "seed", "data_dir", "preset", "track_kernels"}
    names = sorted({key for run in runs for key in run.config} - skipped)
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((run.dataset, str(run.config.get("model", ""))), []).append(run)
    return [
        name
        for name in names
        if any(
            len({json.dumps(run.config.get(name), sort_keys=True, default=str) for run in members}) > 1
            for members in groups.values()
        )
    ]


# ----------------------------------------------------------------------------------------------------------------
# Spearman rank correlation
# ----------------------------------------------------------------------------------------------------------------


def average_ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n of ``values``; tied values share the mean of the ranks they span (the "average" method)."""
    array = np.asarray(values, dtype=np.float64)
    order = np.argsort(array, kind="mergesort")
    ordered = array[order]
    ranks = np.empty(len(array), dtype=np.float64)
    start = 0
    while start < len(array):
        stop = start + 1
        while stop < len(array) and ordered[stop] == ordered[start]:
            stop += 1
        ranks[order[start:stop]] = (start + 1 + stop) / 2.0  # mean of the 1-based ranks start+1 .. stop
        start = stop
    return ranks


def spearman(x: Sequence[float | None], y: Sequence[float | None]) -> tuple[float | None, int]:
    """Spearman's rank correlation of the pairs where both values are finite numbers, and the number of such pairs.

    It is the Pearson correlation of the average ranks. None when fewer than 3 pairs remain or either side is
    constant (undefined).
    """
    if len(x) != len(y):
        raise ConfigError(f"spearman needs two sequences of one length, got {len(x)} and {len(y)}")
    pairs = [(float(a), float(b)) for a, b in zip(x, y) if _is_number(a) and _is_number(b)]
    if len(pairs) < 3:
        return None, len(pairs)
    rank_x = average_ranks([a for a, _ in pairs])
    rank_y = average_ranks([b for _, b in pairs])
    rank_x -= rank_x.mean()
    rank_y -= rank_y.mean()
    denominator = math.sqrt(float(rank_x @ rank_x) * float(rank_y @ rank_y))
    if denominator == 0.0:
        return None, len(pairs)
    return max(-1.0, min(1.0, float(rank_x @ rank_y) / denominator)), len(pairs)


def correlation_matrix(rows: Sequence[dict], columns: Sequence[str]) -> dict[str, dict[str, dict]]:
    """``{a: {b: {"rho": float | None, "n": int}}}`` over every pair of ``columns`` of ``rows``."""
    values = {column: [row.get(column) for row in rows] for column in columns}
    matrix: dict[str, dict[str, dict]] = {}
    for a in columns:
        matrix[a] = {}
        for b in columns:
            rho, count = spearman(values[a], values[b])
            matrix[a][b] = {"rho": rho, "n": count}
    return matrix


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ----------------------------------------------------------------------------------------------------------------
# Data of a run: its splits and its fitted input filter
# ----------------------------------------------------------------------------------------------------------------


class RunData:
    """Loads each dataset's splits once and rebuilds each run's input filter with the state it was fitted with."""

    def __init__(self, data_dir: str | None = None):
        self.data_dir = data_dir
        self._splits: dict[tuple, Any] = {}

    def splits(self, run: RunRecord):
        """The run's train/val/test splits (its val_fraction and split_seed), loaded once per setting."""
        from freqprobe.data import load_splits, resolve_root

        root = resolve_root(self.data_dir or self.config_data_dir(run))
        key = (run.dataset, str(root), run.config.get("val_fraction", 0.2), run.config.get("split_seed", 0))
        if key not in self._splits:
            self._splits[key] = load_splits(run.dataset, root=root, val_fraction=key[2], seed=key[3])
        return self._splits[key]

    @staticmethod
    def config_data_dir(run: RunRecord) -> str | None:
        value = run.config.get("data_dir")
        return value if isinstance(value, str) and value else None

    def train_subset(self, run: RunRecord, count: int):
        """The first ``count`` stratified training images (the trainer's ``subset`` rule)."""
        return _first_stratified(self.splits(run).train, count)

    def test_subset(self, run: RunRecord, count: int):
        """The first ``count`` stratified test images (the trainer's ``limit_eval`` rule)."""
        return _first_stratified(self.splits(run).test, count)

    def input_filter(self, run: RunRecord):
        """The run's filter; a filter that needs statistics gets the state of ``checkpoint.pt``, else it is fitted
        on the run's training images as the trainer fitted it."""
        from freqprobe.filters import build_filter

        input_filter = build_filter(run.filter, boundary=run.boundary)
        if not input_filter.requires_fit:
            return input_filter.eval()
        state = _checkpoint_filter_state(run.folder / "checkpoint.pt")
        if state:
            input_filter.load_state_dict(state)
        else:
            train = self.splits(run).train
            subset = run.config.get("subset")
            if isinstance(subset, int) and 0 < subset < len(train):
                train = _first_stratified(train, subset)
            input_filter.fit(train.images)
        return input_filter.eval()


def run_image_shape(run: RunRecord) -> tuple[int, int, int]:
    """(C, H, W) the run trained on: config.json's ``data.image_shape``, else the dataset's usual shape."""
    data = run.info.get("data") if isinstance(run.info.get("data"), dict) else {}
    shape = data.get("image_shape")
    if isinstance(shape, list) and len(shape) == 3 and all(isinstance(value, int) for value in shape):
        return shape[0], shape[1], shape[2]
    if run.dataset == "fashion-mnist":
        return 1, 28, 28
    return 3, 32, 32


def load_run_model(run: RunRecord):
    """The run's trained model in eval mode, through the one run-folder loader
    (``freqprobe.analysis.model_source``: the run's model, channels, classes, antialias and ``conv``, then
    ``model.safetensors``, which holds the normalization fitted on its filtered training split).

    Raises:
        FreqprobeError: no weights file, unknown model name, or weights that do not fit (naming the file).
    """
    from freqprobe.analysis.model_source import load_model_source

    return load_model_source(run.folder).model.eval()


def _first_stratified(split, count: int):
    from freqprobe.train.prepare import stratified_first

    if count >= len(split):
        return split
    return split.select(stratified_first(split.labels, count))


def _checkpoint_filter_state(path: Path) -> dict | None:
    if not path.is_file():
        return None
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # an unreadable checkpoint only means: fit the filter again
        return None
    state = payload.get("filter_state") if isinstance(payload, dict) else None
    return state if isinstance(state, dict) and state else None


# ----------------------------------------------------------------------------------------------------------------
# Column sources
# ----------------------------------------------------------------------------------------------------------------


class InputCentroids:
    """Mean spectral centroid of each (dataset, filter) variant's filtered training images, computed once each."""

    def __init__(self, data: RunData, subset: int):
        self.data = data
        self.subset = subset
        self._values: dict[tuple, float] = {}

    def of_run(self, run: RunRecord) -> float:
        from freqprobe.spectra import compute_dataset_spectrum

        key = self.key(run)
        if key not in self._values:
            train = self.data.train_subset(run, self.subset)
            result = compute_dataset_spectrum(
                train.images, train.labels, train.classes, transform=self.data.input_filter(run)
            )
            self._values[key] = float(result.centroids.mean())
        return self._values[key]

    @staticmethod
    def key(run: RunRecord) -> tuple:
        config = run.config
        return (
            run.dataset,
            run.filter,
            run.boundary,
            config.get("val_fraction", 0.2),
            config.get("split_seed", 0),
            config.get("data_dir"),
        )


def find_analysis(run: RunRecord, filename: str) -> Path | None:
    """``RUN/analysis/<filename>``, else ``RUN/<filename>``, else the first ``RUN/analysis/*/<filename>``."""
    candidates = [run.folder / ANALYSIS_FOLDER / filename, run.folder / filename]
    analysis = run.folder / ANALYSIS_FOLDER
    if analysis.is_dir():
        candidates += sorted(analysis.glob(f"*/{filename}"))
    return next((path for path in candidates if path.is_file()), None)


def kernel_layers(run: RunRecord) -> tuple[list[dict], str]:
    """Per-convolution summaries (filters.json ``layers``) of the run and where they came from.

    Computed with :func:`freqprobe.analysis.kernels.analyze_kernels` when the run has no filters.json.
    """
    path = find_analysis(run, FILTERS_JSON)
    if path is not None:
        found = _read_json(path)
        layers = found.get("layers") if isinstance(found, dict) else None
        if isinstance(layers, list):
            return [layer for layer in layers if isinstance(layer, dict)], str(path)
    from freqprobe.analysis.kernels import analyze_kernels

    model = load_run_model(run)
    size = run_image_shape(run)[1]
    summary = analyze_kernels(model, input_size=size, model_name=str(run.config.get("model")))
    return summary["layers"], "computed (analyze_kernels)"


def kernel_columns(layers: Sequence[dict]) -> dict[str, float | None]:
    """First-layer and all-layer summaries plus one ``kernel_centroid:<layer>`` column per convolution."""
    centroids = {
        str(layer.get("name")): _number_or_none(layer.get("spectral_centroid_mean")) for layer in layers
    }
    found = [value for value in centroids.values() if value is not None]
    first = layers[0] if layers else {}
    columns = {
        "kernel_centroid_first": _number_or_none(first.get("spectral_centroid_mean")),
        "kernel_centroid_mean": statistics.fmean(found) if found else None,
        "kernel_hf_ratio_first": _number_or_none(first.get("high_frequency_ratio")),
        "spectral_norm_first": _number_or_none(first.get("spectral_norm")),
    }
    columns.update({f"{LAYER_PREFIX}{name}": value for name, value in centroids.items()})
    return columns


def _number_or_none(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


# --- sensitivity.json: its sections are found by their keys, so the summary does not depend on their nesting ----

BANDS_KEYS = ("radii", "low_pass_accuracy", "high_pass_accuracy")
HEATMAP_KEYS = ("error", "eps")
SHIFT_KEYS = ("consistency",)
ATTACK_KEYS = ("robust_accuracy",)


def find_section(data: Any, keys: Sequence[str], depth: int = 4) -> dict | None:
    """The first dict (breadth first, at most ``depth`` levels down) holding all ``keys``, or None."""
    level = [data]
    for _ in range(depth + 1):
        following = []
        for item in level:
            if isinstance(item, dict):
                if all(key in item for key in keys):
                    return item
                following.extend(item.values())
            elif isinstance(item, list):
                following.extend(entry for entry in item if isinstance(entry, dict))
        level = following
    return None


def sensitivity_columns(data: Any) -> dict[str, float | None]:
    """Band-ablation, heat-map, shift and attack summaries of a sensitivity.json (absent sections give None)."""
    columns: dict[str, float | None] = {}
    bands = find_section(data, BANDS_KEYS)
    if bands is not None:
        columns.update(band_ablation_summary(bands))
    heatmap = find_section(data, HEATMAP_KEYS)
    if heatmap is not None:
        columns.update(heatmap_summary(heatmap))
    shift = find_section(data, SHIFT_KEYS)
    if shift is not None:
        columns["shift_consistency"] = _number_or_none(shift.get("consistency"))
    attack_key, attack = chosen_attack(data)
    if attack is not None:
        columns["robust_accuracy"] = _number_or_none(attack.get("robust_accuracy"))
        columns["robust_attack"] = attack_key
    return columns


def chosen_attack(data: Any) -> tuple[str | None, dict | None]:
    """The attack whose robust accuracy goes into the table: of sensitivity.json's ``attacks`` ({key: result}) the
    first key in sorted order (e.g. ``fgsm-linf-eps0.007843`` before ``pgd-...``), else any section with
    ``robust_accuracy``."""
    attacks = data.get("attacks") if isinstance(data, dict) else None
    if isinstance(attacks, dict):
        for key in sorted(attacks):
            if isinstance(attacks[key], dict) and "robust_accuracy" in attacks[key]:
                return str(key), attacks[key]
    section = find_section(data, ATTACK_KEYS)
    if section is None:
        return None, None
    label = "-".join(str(section[name]) for name in ("method", "norm", "eps") if name in section) or None
    return label, section


def band_ablation_summary(bands: dict) -> dict[str, float | None]:
    """Areas under the low-/high-pass accuracy curves over 0..0.5 and the half-clean-accuracy radii."""
    radii = _numbers(bands.get("radii"))
    low = _numbers(bands.get("low_pass_accuracy"))
    high = _numbers(bands.get("high_pass_accuracy"))
    clean = _number_or_none(bands.get("clean_accuracy"))
    if radii is None or low is None or high is None or not (len(radii) == len(low) == len(high) >= 2):
        return {}
    order = np.argsort(radii)
    radii, low, high = radii[order], low[order], high[order]
    summary = {"lowpass_auc": _mean_over(radii, low, 0.0, 0.5), "highpass_auc": _mean_over(radii, high, 0.0, 0.5)}
    if clean is not None and clean > 0:
        summary["lowpass_r50"] = _first_crossing(radii, low, 0.5 * clean, rising=True)
        summary["highpass_r50"] = _first_crossing(radii, high, 0.5 * clean, rising=False)
    return summary


def _numbers(values: Any) -> np.ndarray | None:
    if not isinstance(values, list) or not all(_is_number(value) for value in values):
        return None
    return np.asarray(values, dtype=np.float64)


def _mean_over(radii: np.ndarray, values: np.ndarray, low: float, high: float) -> float | None:
    """Mean of the piecewise-linear curve over [low, high] ∩ [radii.min(), radii.max()] (trapezoid rule)."""
    start, stop = max(low, float(radii[0])), min(high, float(radii[-1]))
    if stop <= start:
        return None
    inside = (radii > start) & (radii < stop)
    xs = np.concatenate([[start], radii[inside], [stop]])
    ys = np.interp(xs, radii, values)
    return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2.0 / (stop - start))


def _first_crossing(radii: np.ndarray, values: np.ndarray, level: float, rising: bool) -> float | None:
    """The smallest radius where the linear interpolation of the curve reaches ``level`` (rising) or falls below it."""
    reached = values >= level if rising else values < level
    if not reached.any():
        return None
    index = int(np.argmax(reached))
    if index == 0:
        return float(radii[0])
    r0, r1, v0, v1 = radii[index - 1], radii[index], values[index - 1], values[index]
    return float(r0 + (level - v0) * (r1 - r0) / (v1 - v0)) if v1 != v0 else float(r1)


def heatmap_summary(heatmap: dict) -> dict[str, float | None]:
    """Mean error and the excess-error-weighted mean |f| of a heat map grid in fftfreq order."""
    grid = heatmap.get("error")
    if not isinstance(grid, list) or not grid or not isinstance(grid[0], list):
        return {}
    error = np.array([[np.nan if value is None else float(value) for value in row] for row in grid])
    evaluated = np.isfinite(error)
    if not evaluated.any():
        return {}
    summary = {"heatmap_mean_error": float(error[evaluated].mean())}
    fy = _numbers(heatmap.get("frequencies_y"))
    fx = _numbers(heatmap.get("frequencies_x"))
    height, width = error.shape
    fy = fy if fy is not None and len(fy) == height else np.fft.fftfreq(height)
    fx = fx if fx is not None and len(fx) == width else np.fft.fftfreq(width)
    radius = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    for name, (low, high) in HEATMAP_BANDS.items():
        inside = evaluated & (radius >= low) & (radius < high)
        summary[name] = float(error[inside].mean()) if inside.any() else None
    clean = _number_or_none(heatmap.get("clean_error")) or 0.0
    excess = np.where(evaluated, np.clip(np.nan_to_num(error) - clean, 0.0, None), 0.0)
    total = float(excess.sum())
    summary["heatmap_centroid"] = float((radius * excess).sum() / total) if total > 0 else None
    return summary


def analyze_sensitivity(run: RunRecord, data: RunData, subset: int, log: Log) -> dict:
    """``--analyze``: band ablation at :data:`ANALYZE_RADII` and an FGSM attack (L-inf, :data:`ANALYZE_ATTACK_EPS`)
    on ``subset`` test images through the sensitivity API; returns a dict laid out like sensitivity.json (a section
    whose module is not importable is left out)."""
    from freqprobe.data import to_float

    model = load_run_model(run)
    test = data.test_subset(run, subset)
    images, labels = to_float(test.images), test.labels
    input_filter = data.input_filter(run)
    result: dict[str, Any] = {"n_images": len(labels)}
    try:
        from freqprobe.analysis.sensitivity.attacks import AttackSpec, attack_analysis
        from freqprobe.analysis.sensitivity.bands import band_ablation
        from freqprobe.analysis.sensitivity.pipeline import InferenceSettings
    except ImportError as missing:
        log(f"compare: {run.name}: sensitivity API not importable ({missing}), --analyze skipped")
        return result
    # float32 like the attack and the band matrix: bfloat16 autocast would shift accuracies between columns
    settings = InferenceSettings(batch_size=EVAL_BATCH, precision="fp32")
    bands = band_ablation(model, images, labels, input_filter, radii=list(ANALYZE_RADII), settings=settings)
    result["bands"] = bands.to_dict()
    attack = AttackSpec("fgsm", ANALYZE_ATTACK_EPS, "linf")
    outcome = attack_analysis(model, images, labels, attack, input_filter, prefilter_sigma=None)
    result["attacks"] = {attack.key: outcome.to_dict()}
    return result


# ----------------------------------------------------------------------------------------------------------------
# Train band x test band accuracy
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class BandMatrix:
    """Accuracy of models trained on one band (rows) on test images passed through each band (columns).

    ``accuracy[i][j]`` is the mean over the runs (seeds) of row i; ``per_run`` keeps each run's row.
    """

    dataset: str
    model: str
    train_filters: list[str]
    test_filters: list[str]
    accuracy: list[list[float]]
    runs: list[int]  # runs averaged per row
    n_images: int
    per_run: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "model": self.model,
            "train_filters": self.train_filters,
            "test_filters": self.test_filters,
            "accuracy": self.accuracy,
            "runs": self.runs,
            "n_images": self.n_images,
            "per_run": self.per_run,
        }


def is_band_spec(spec: str) -> bool:
    return spec.strip().lower().startswith("band:")


def band_order_key(spec: str) -> tuple:
    """Unfiltered first, then bands by (low, high) edge."""
    if not is_band_spec(spec):
        return (0, 0.0, 0.0)
    from freqprobe.filters import build_filter

    low, high = build_filter(spec).params
    return (1, low, high)


def band_groups(runs: Sequence[RunRecord]) -> dict[tuple[str, str], list[RunRecord]]:
    """Runs trained on a band or unfiltered, grouped by (dataset, model); only groups with at least one band."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in runs:
        if is_band_spec(run.filter) or run.filter == UNFILTERED:
            groups.setdefault((run.dataset, str(run.config.get("model", ""))), []).append(run)
    return {key: members for key, members in groups.items() if any(is_band_spec(run.filter) for run in members)}


def band_matrix(
    runs: Sequence[RunRecord], data: RunData, subset: int, log: Log = lambda message: None
) -> BandMatrix:
    """Evaluate every run of one (dataset, model) group on the first ``subset`` test images after each band.

    The test filters are the group's bands plus ``none`` (the unfiltered images). Each model carries its own
    normalization (fitted on its filtered training split) in its weights.
    """
    from freqprobe.filters import apply_in_batches, build_filter

    specs = sorted({run.filter for run in runs} | {UNFILTERED}, key=band_order_key)
    train_filters = [spec for spec in specs if any(run.filter == spec for run in runs)]
    test = data.test_subset(runs[0], subset)
    filtered = {spec: apply_in_batches(build_filter(spec), test.images) for spec in specs}
    per_run: dict[str, dict[str, float]] = {}
    for run in runs:
        log(f"compare: band matrix: evaluating {run.name} on {len(specs)} test bands")
        model = load_run_model(run)
        per_run[run.name] = {spec: model_accuracy(model, filtered[spec], test.labels) for spec in specs}
    rows, counts = [], []
    for train_filter in train_filters:
        members = [per_run[run.name] for run in runs if run.filter == train_filter]
        rows.append([statistics.fmean(member[spec] for member in members) for spec in specs])
        counts.append(len(members))
    return BandMatrix(
        dataset=runs[0].dataset,
        model=str(runs[0].config.get("model", "")),
        train_filters=train_filters,
        test_filters=specs,
        accuracy=rows,
        runs=counts,
        n_images=len(test.labels),
        per_run=per_run,
    )


def model_accuracy(model, images, labels, batch_size: int = EVAL_BATCH) -> float:
    """Share of float pixel images (N, C, H, W) classified as ``labels`` by ``model`` (eval mode)."""
    import torch

    correct = 0
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            logits = model(images[start : start + batch_size])
            correct += int((logits.argmax(dim=1) == labels[start : start + batch_size]).sum())
    return correct / max(1, len(images))


# ----------------------------------------------------------------------------------------------------------------
# The whole comparison
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Everything ``compare`` found: one row per run, correlations, band matrices and notes."""

    sweep_dir: str
    subset: int
    rows: list[dict[str, Any]]
    columns: list[str]
    metric_columns: list[str]
    correlations: dict[str, dict[str, dict]]
    layer_correlations: list[dict]
    band_matrices: list[BandMatrix]
    notes: list[str]
    figures: dict[str, str] = field(default_factory=dict)
    sweeps: list[str] = field(default_factory=list)  # every folder compared; sweep_dir is their display form
    options: list[str] = field(default_factory=list)  # the swept configuration fields (columns after the identity)
    variants: list[VariantSummary] = field(default_factory=list)
    # dataset -> matrix over that dataset's runs alone; filled when the runs span several datasets, whose pooled
    # ranks mostly sort the datasets (CIFAR-10 runs have lower accuracy and input centroids than Fashion-MNIST ones)
    correlations_by_dataset: dict[str, dict[str, dict[str, dict]]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "sweep": self.sweep_dir,
            "sweeps": self.sweeps or [self.sweep_dir],
            "options": self.options,
            "variants": [variant.to_dict() for variant in self.variants],
            "subset": self.subset,
            "definitions": {name: METRIC_COLUMNS[name] for name in self.metric_columns},
            "columns": self.columns,
            "rows": self.rows,
            "correlation": "Spearman rank correlation (average ranks for ties) over runs where both values exist",
            "correlations": self.correlations,
            "correlations_by_dataset": self.correlations_by_dataset,
            "layer_correlations": self.layer_correlations,
            "band_matrices": [matrix.to_dict() for matrix in self.band_matrices],
            "notes": self.notes,
            "figures": self.figures,
        }


def compare_sweep(
    sweep_dir: str | os.PathLike | Sequence[str | os.PathLike],
    subset: int = DEFAULT_SUBSET,
    analyze: bool = False,
    data_dir: str | None = None,
    band_matrices: bool = True,
    log: Log = lambda message: print(message, file=sys.stderr, flush=True),
) -> Comparison:
    """Gather the table of a sweep folder, or of several compared as one (see the module docstring); nothing is
    written.

    Raises:
        FreqprobeError: no such folder, no complete run, ``subset`` < 1.
    """
    if not isinstance(subset, int) or subset < 1:
        raise ConfigError(f"--subset must be a positive number of images, got {subset!r}")
    sweep_dirs = [sweep_dir] if isinstance(sweep_dir, (str, os.PathLike)) else list(sweep_dir)
    if not sweep_dirs:
        raise ConfigError("compare needs at least one sweep folder")
    runs, notes = find_runs_in(sweep_dirs)
    data = RunData(data_dir)
    centroids = InputCentroids(data, subset)
    options = swept_option_names(runs)
    rows: list[dict[str, Any]] = []
    curves: dict[str, dict[str, Any]] = {}
    for run in runs:
        log(f"compare: {run.name}")
        rows.append(run_row(run, options, centroids, data, subset, analyze, notes, log, curves))
    matrices = []
    if band_matrices:
        for (dataset, model), members in band_groups(runs).items():
            try:
                matrices.append(band_matrix(members, data, subset, log))
            except FreqprobeError as error:
                notes.append(f"band matrix of {dataset} {model} left out: {error}")
    metric_columns = [name for name in METRIC_COLUMNS if any(_is_number(row.get(name)) for row in rows)]
    layer_columns = _unique(key for row in rows for key in row if key.startswith(LAYER_PREFIX))
    sources = [name for name in SOURCE_COLUMNS if any(row.get(name) for row in rows)]
    costs = [name for name in COST_COLUMNS if any(_is_number(row.get(name)) for row in rows)]
    columns = [*ID_COLUMNS, *options, *metric_columns, *costs, *sources, *layer_columns]
    return Comparison(
        sweep_dir=" + ".join(str(path) for path in sweep_dirs),
        sweeps=[str(path) for path in sweep_dirs],
        options=options,
        variants=summarize_variants(rows, options, curves),
        subset=subset,
        rows=rows,
        columns=columns,
        metric_columns=metric_columns,
        correlations=correlation_matrix(rows, metric_columns),
        correlations_by_dataset=correlations_within_datasets(rows, metric_columns),
        layer_correlations=layer_correlations(rows, layer_columns),
        band_matrices=matrices,
        notes=notes,
    )


def correlations_within_datasets(rows: Sequence[dict], columns: Sequence[str]) -> dict[str, dict[str, dict[str, dict]]]:
    """One correlation matrix per dataset when the rows hold more than one; empty for a single dataset."""
    datasets = _unique(row["dataset"] for row in rows)
    if len(datasets) < 2:
        return {}
    return {
        dataset: correlation_matrix([row for row in rows if row["dataset"] == dataset], columns) for dataset in datasets
    }


def run_row(
    run: RunRecord,
    options: Sequence[str],
    centroids: InputCentroids,
    data: RunData,
    subset: int,
    analyze: bool,
    notes: list[str],
    log: Log,
    curves: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One table row: identity, swept options, and every column source that works for this run. The run's band
    ablation curve, when it has one, goes into ``curves[run.name]``."""
    row: dict[str, Any] = {
        "run": run.name,
        "dataset": run.dataset,
        "model": run.config.get("model"),
        "filter": run.filter,
        "seed": run.config.get("seed"),
    }
    row.update({name: run.config.get(name) for name in options})
    row["clean_accuracy"] = _number_or_none(run.metrics.get("test_accuracy"))
    row["val_accuracy"] = _number_or_none(run.metrics.get("val_accuracy"))
    row.update({name: _number_or_none(run.metrics.get(name)) for name in COST_COLUMNS})
    row["input_centroid"] = _guarded(notes, f"{run.name}: input centroid", lambda: centroids.of_run(run))
    found = _guarded(notes, f"{run.name}: kernel statistics", lambda: kernel_layers(run))
    if found is not None:
        layers, row["kernel_source"] = found
        row.update(kernel_columns(layers))
    sensitivity_path = find_analysis(run, SENSITIVITY_JSON)
    sensitivity = _read_json(sensitivity_path) if sensitivity_path else None
    row["sensitivity_source"] = str(sensitivity_path) if sensitivity is not None else None
    if sensitivity is None and analyze:
        sensitivity = _guarded(
            notes, f"{run.name}: sensitivity analysis", lambda: analyze_sensitivity(run, data, subset, log)
        )
        row["sensitivity_source"] = "computed (--analyze)" if sensitivity is not None else None
    if sensitivity is not None:
        row.update(sensitivity_columns(sensitivity))
        bands = find_section(sensitivity, BANDS_KEYS)
        if curves is not None and bands is not None and band_ablation_summary(bands):
            curves[run.name] = {key: bands[key] for key in BANDS_KEYS}
    return row


def _guarded(notes: list[str], what: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, or None with a note when it fails on a user-level problem (missing data, bad file)."""
    try:
        return compute()
    except (FreqprobeError, OSError) as error:
        notes.append(f"{what} left out: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
        return None


def layer_correlations(rows: Sequence[dict], layer_columns: Sequence[str]) -> list[dict]:
    """Spearman correlation of the input centroid with each layer's mean kernel centroid, in layer order."""
    inputs = [row.get("input_centroid") for row in rows]
    result = []
    for index, column in enumerate(layer_columns):
        rho, count = spearman(inputs, [row.get(column) for row in rows])
        result.append({"layer": column.removeprefix(LAYER_PREFIX), "index": index, "rho": rho, "n": count})
    return result


def _unique(items: Iterable) -> list:
    return list(dict.fromkeys(items))


# ----------------------------------------------------------------------------------------------------------------
# Output files
# ----------------------------------------------------------------------------------------------------------------


def write_comparison(comparison: Comparison, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write compare.csv, compare.md, band_matrix.csv (band sweeps), the figures, and compare.json last.

    Returns {name: path} of everything written.
    """
    from freqprobe.plots.compare import write_compare_figures

    out_dir = Path(out_dir)
    # One output set: a kill while it is written leaves the previous comparison whole.
    with output_set(out_dir, COMPARE_JSON, owns=COMPARE_OUTPUTS) as staging:
        written = {"csv": staging / COMPARE_CSV, "markdown": staging / COMPARE_MD}
        atomic_write_text(written["csv"], format_csv(comparison.rows, comparison.columns))
        if comparison.band_matrices:
            written["band_matrix"] = staging / BAND_MATRIX_CSV
            atomic_write_text(written["band_matrix"], format_band_matrix_csv(comparison.band_matrices))
        figures = write_compare_figures(comparison, staging)
        comparison.figures = {name: path.name for name, path in figures.items()}
        written.update(figures)
        atomic_write_text(written["markdown"], format_markdown(comparison))
        written["json"] = staging / COMPARE_JSON
        atomic_write_json(written["json"], comparison.to_dict())
    written = {name: out_dir / path.name for name, path in written.items()}
    return written


def format_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """CSV text, one line per run; empty cells where a value is missing, accuracies as fractions."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_cell(row.get(key)) for key in columns})
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest round-tripping text
    return value


def format_band_matrix_csv(matrices: Sequence[BandMatrix]) -> str:
    """One line per (dataset, model, train filter): the mean test accuracy after each test filter (fractions)."""
    test_filters = _unique(spec for matrix in matrices for spec in matrix.test_filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dataset", "model", "train_filter", "runs", "n_images", *test_filters])
    for matrix in matrices:
        for train_filter, values, count in zip(matrix.train_filters, matrix.accuracy, matrix.runs):
            by_test = dict(zip(matrix.test_filters, values))
            cells = [repr(by_test[spec]) if spec in by_test else "" for spec in test_filters]
            writer.writerow([matrix.dataset, matrix.model, train_filter, count, matrix.n_images, *cells])
    return buffer.getvalue()


def dataset_label(dataset: str) -> str:
    """The name a table or figure shows: "CIFAR-10 (JPEG q75 copy)" for the shared JPEG archive, "Fashion-MNIST"..."""
    from freqprobe.report.captions import dataset_label as label

    return label(dataset) or dataset


def format_markdown(comparison: Comparison) -> str:
    """The human-readable summary: the runs table, the correlation matrix, per-layer correlations, band matrices."""
    rows = comparison.rows
    datasets = ", ".join(_unique(dataset_label(row["dataset"]) for row in rows))
    lines = [
        f"# Links across the runs of {comparison.sweep_dir}",
        "",
        f"{len(rows)} complete runs on {datasets}. Input centroids use the first {comparison.subset} stratified "
        f"training images after each run's filter; band matrices the first {comparison.subset} test images.",
        "",
        "## Runs",
        "",
    ]
    hidden = {"dataset", "kernel_source", "sensitivity_source"}  # the dataset is in the header; sources in the CSV
    shown = [column for column in comparison.columns if not column.startswith(LAYER_PREFIX) and column not in hidden]
    table_rows = [[_md_cell(column, row.get(column)) for column in shown] for row in rows]
    percent = [name for name in shown if name in PERCENT_COLUMNS]
    lines += [f"In percent: {', '.join(percent)}; centroids and radii in cycles/pixel.", ""] if percent else []
    lines += _markdown_table(shown, table_rows)
    lines += format_variant_section(comparison)
    lines += ["", "## Spearman rank correlations", ""]
    lines += [
        "Rank correlation over the runs where both values exist (average ranks for ties); n in brackets; "
        "- where fewer than 3 runs or a constant column leave it undefined.",
        "",
    ]
    metric = comparison.metric_columns
    for dataset, matrix in comparison.correlations_by_dataset.items():
        lines += [f"### {dataset_label(dataset)} runs only", ""]
        lines += _correlation_table(matrix, metric) + [""]
    if comparison.correlations_by_dataset:
        lines += [
            "### All runs pooled",
            "",
            "Over several datasets the pooled ranks mostly sort the datasets (their accuracies and input centroids "
            "differ), so read the per-dataset matrices above for within-dataset links.",
            "",
        ]
    lines += _correlation_table(comparison.correlations, metric)
    if comparison.layer_correlations:
        lines += ["", "## Input centroid vs each layer's mean kernel centroid", ""]
        layer_rows = [[entry["layer"], _rho_cell(entry)] for entry in comparison.layer_correlations]
        lines += _markdown_table(["layer", "Spearman rho (n)"], layer_rows)
    for matrix in comparison.band_matrices:
        lines += [
            "",
            f"## Train band x test band accuracy (%): {dataset_label(matrix.dataset)}, {matrix.model}",
            "",
            f"Rows: the filter a model was trained on (mean over its runs); columns: the filter applied to "
            f"{matrix.n_images} test images.",
            "",
        ]
        band_rows = [
            [f"{train} ({count} runs)"] + [f"{100 * value:.1f}" for value in values]
            for train, values, count in zip(matrix.train_filters, matrix.accuracy, matrix.runs)
        ]
        lines += _markdown_table(["train \\ test", *matrix.test_filters], band_rows)
    lines += ["", "## Columns", ""]
    lines += [f"- `{name}`: {METRIC_COLUMNS[name]}" for name in metric]
    lines += [f"- `{name}`: {COST_COLUMNS[name]}" for name in COST_COLUMNS if name in comparison.columns]
    if comparison.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in comparison.notes]
    return "\n".join(lines) + "\n"


def format_variant_section(comparison: Comparison) -> list[str]:
    """Mean ± std over seeds per variant (dataset, model, filter, swept options); nothing when no variant has more
    than one run."""
    variants = comparison.variants
    if not any(len(variant.runs) > 1 for variant in variants):
        return []
    from freqprobe.analysis.variants import SUMMARY_COLUMNS

    shown = [name for name in SUMMARY_COLUMNS if any(name in variant.stats for variant in variants)]
    lines = [
        "",
        "## Mean ± std over seeds",
        "",
        "One row per variant: the runs that differ only in their seed; sample standard deviation. "
        "Percent as above; seconds and parameter counts as recorded in each run's metrics.json.",
        "",
    ]
    rows = []
    for variant in variants:
        cells = [dataset_label(str(variant.identity.get("dataset"))), variant.label, str(len(variant.runs))]
        for name in shown:
            if name in PERCENT_COLUMNS:
                cells.append(variant.cell(name, scale=100.0, digits=2))
            elif name in COST_COLUMNS:
                cells.append(variant.cell(name, digits=0))
            else:
                cells.append(variant.cell(name, digits=4))
        rows.append(cells)
    return lines + _markdown_table(["dataset", "variant", "runs", *shown], rows)


def _md_cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column in PERCENT_COLUMNS and _is_number(value):
        return f"{100 * value:.2f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _correlation_table(matrix: dict[str, dict[str, dict]], metric: Sequence[str]) -> list[str]:
    rows = [[name] + [_rho_cell(matrix[name][other]) for other in metric] for name in metric]
    return _markdown_table(["", *metric], rows)


def _rho_cell(entry: dict) -> str:
    return "-" if entry["rho"] is None else f"{entry['rho']:+.2f} ({entry['n']})"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(row) for row in rows)]
