"""Figure captions: what a figure plots (by its file name, as freqprobe's commands name them) and on which data (from
the JSON files and run configuration beside it, or in a folder above it).

A JSON file may carry ``"captions": {"<file>.png": "<text>"}``; such a caption replaces the built-in description of
that figure. Datasets are named as :mod:`freqprobe.data.labels` says (the shared CIFAR-10 JPEG archive always as
"CIFAR-10 (JPEG q75 copy)").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freqprobe.data.labels import dataset_label
from freqprobe.io import named_path
from freqprobe.tables import unique
from freqprobe.train.run_folder import CONFIG_FILE

# What each figure of freqprobe's commands plots, by file name.
FIGURE_DESCRIPTIONS = {
    # freqprobe spectrum / preview
    "class_spectra.png": "Mean power spectrum of each class (log10, channels averaged, DC at the centre, "
    "frequencies in cycles/pixel). Without a window, the '+' cross through DC along f_x = 0 and f_y = 0 is the jump "
    "between opposite image borders (the FFT treats each image as periodic), not image content; "
    "class_spectra_hamming.png beside it (or freqprobe spectrum --window hamming) shows the spectra without it",
    "class_spectra_hamming.png": "Mean power spectrum of each class through a 2-D Hamming window (log10, channels "
    "averaged, DC at the centre, cycles/pixel): each channel's mean is removed before windowing and its DC power "
    "added back, so the window only removes the '+' cross that the border discontinuity draws in class_spectra.png",
    "radial_profiles.png": "Radially averaged mean power spectrum per class on log-log axes, with the fitted "
    "power-law slope of each class",
    "centroid_histograms.png": "Histograms of the per-image spectral centroid (power-weighted mean |f|, "
    "cycles/pixel), one per class",
    "discrimination_map.png": "Discrimination map: for each class and frequency, the number of other classes whose "
    "mean amplitude spectrum is lower",
    "preview.png": "Example images before and after the input filters, each above its log power spectrum",
    # freqprobe train
    "learning_curve.png": "Learning curve: loss and accuracy per epoch on the training and validation splits, and "
    "the learning rate (metrics.jsonl)",
    # freqprobe sweep / reproduce
    "learning_curves.png": "Learning curves of the sweep's runs: validation accuracy and training loss per epoch, one "
    "line per run (each run's metrics.jsonl)",
    # freqprobe filters
    "kernel_centroid_histograms.png": "Per-layer histograms of the kernels' spectral centroids (each 3x3 kernel "
    "zero-padded to the analysis grid)",
    "kernel_high_frequency_histograms.png": "Per-layer histograms of the share of each kernel's power above the "
    "frequency cutoff",
    "kernel_orientation_histograms.png": "Per-layer histograms of the kernels' dominant orientation, weighted by "
    "orientation coherence",
    "kernel_radial_profiles.png": "Mean radial profile of the normalized kernel power spectra, one line per layer",
    "first_layer_kernels.png": "First-layer kernels beside their power spectra",
    "singular_values.png": "Singular values of each convolution as an operator on its input size (exact, via the "
    "kernel DFT)",
    "kernel_stats_over_epochs.png": "Each convolution's mean kernel spectral centroid and high-frequency energy "
    "share after every epoch of training (freqprobe train --track-kernels), coloured by depth",
    # freqprobe sensitivity
    "band_ablation.png": "Test accuracy when the test images are low-passed (|f| < r) or high-passed (|f| >= r) at "
    "radius r, with the clean accuracy as reference (band ablation)",
    "fourier_heatmap.png": "Fourier heat map: error rate when one Fourier basis image of fixed L2 norm is added to "
    "every test image, at each frequency",
    "gradient_spectrum.png": "Mean power spectrum of the loss gradient with respect to the input image, beside the "
    "Fourier heat map when one was computed",
    "shift_consistency.png": "Shift consistency: how often the predicted class stays the same under two random "
    "circular shifts",
    # freqprobe compare (compare.json "captions" replace these with the comparison's own n and interval method)
    "scatter_input_centroid.png": "Input spectral centroid of each variant's filtered training data against its "
    "kernel centroids, accuracy and robustness, one point per variant at its mean over seeds with its 95% interval "
    "as error bars (none for one seed), with Spearman rank correlations across the variants' means",
    "scatter_kernel_centroid.png": "First-layer kernel centroid of each variant against its accuracy and "
    "robustness, one point per variant at its mean over seeds with its 95% interval as error bars (none for one "
    "seed), with Spearman rank correlations across the variants' means",
    "correlations.png": "Spearman rank correlations between the run statistics across the variants' means; "
    "intervals, p-values and n in compare.md",
    "layer_correlations.png": "Spearman rank correlation between the input centroid and each convolution's mean "
    "kernel centroid across the variants' means, layer by layer",
    "variant_band_curves.png": "Band ablation per variant (runs that differ only in their seed): mean low-pass and "
    "high-pass test accuracy over the radius, with a band of one standard deviation over seeds",
    "variant_summary.png": "Each variant's clean and robust accuracy, Fourier heat-map error in three frequency bands "
    "and first-layer kernel centroid: mean over seeds with its 95% confidence interval (Student-t for few seeds; "
    "n and method in compare.md)",
    "band_matrix.png": "Accuracy of models trained on one frequency band (rows) on test images passed through each "
    "band (columns)",
    "scatter_strongest_link.png": "The strongest rank correlation between a characteristic (input, kernel or "
    "feature-map statistic) and an outcome (clean accuracy, robustness) across the variants' means, per group, with "
    "each variant's 95% interval; the largest of many pairs, so its p-value is not corrected for the choice",
    "depth_profiles.png": "Kernel centroid and feature-map ΔLog-amplitude of each convolution against relative "
    "depth, per variant: mean over seeds with its 95% Student-t interval as a band (none for one seed)",
}
KERNEL_FIGURES = frozenset(
    name for name in FIGURE_DESCRIPTIONS if name.startswith(("kernel_", "first_layer_", "singular_"))
)
FIGURE_PATTERNS = (
    (re.compile(r"^attack_(.+)\.png$"), "Power spectra of the adversarial perturbations of attack {0} beside those "
     "of the clean images, and the accuracy with a low-pass pre-filter"),
    (re.compile(r"^band_matrix_(.+)\.png$"), "Accuracy of models trained on one frequency band (rows) on test images "
     "passed through each band (columns), {0}"),
)
CONTEXT_FILES = ("spectrum.json", "preview.json", "sensitivity.json", "filters.json", CONFIG_FILE, "compare.json", "sweep.json")


@dataclass
class DataContext:
    """What the figures of a folder were made from, as far as its files tell."""

    dataset: str | None = None
    split: str | None = None
    n_images: int | None = None
    filter: str | None = None
    window: str | None = None  # the spectrum's window ("hamming"); None for none
    model: str | None = None
    run: str | None = None
    extra: str | None = None  # e.g. "12 runs of sweep X"

    def describe(self) -> str:
        """``Data: Fashion-MNIST, test split (1000 images), filter blur:2; model resnet20 (run R).``; empty when the
        files beside the figure record nothing."""
        parts = []
        if self.extra:
            parts.append(self.extra)
        if self.dataset:
            text = self.dataset
            if self.split:
                text += f", {self.split} split"
            if self.n_images:
                text += f" ({self.n_images} images)"
            parts.append(text)
        if self.filter:
            parts.append(f"filter {self.filter}")
        if self.window:
            parts.append(f"{self.window.capitalize()} window on mean-removed images")
        model = f"model {self.model}" if self.model else ""
        run = f" (run {self.run})" if self.run else ""
        if not parts and not model:
            return ""  # nothing recorded: say nothing rather than that nothing is known
        data = "Data: " + ", ".join(parts) if parts else ""
        return f"{data}{'; ' if data and model else ''}{model if data else model[:1].upper() + model[1:]}{run}."


def shown_dataset(name: Any, source: Any = None, note: Any = None) -> str | None:
    """The dataset as a caption names it, from values read out of a JSON file: its recorded data note when there is
    one, else :func:`freqprobe.data.labels.dataset_label`; None when no dataset is recorded."""
    if note:
        return str(note)
    if not name:
        return None
    return dataset_label(str(name), str(source) if source else None)


def data_context(folder: Path, root: Path) -> DataContext:
    """The data description of ``folder``: from its own files, else from the nearest folder above it up to ``root``."""
    current = folder
    while True:
        context = _own_context(current)
        if context is not None:
            return context
        if current == root or root not in current.parents:
            return DataContext()
        current = current.parent


def figure_caption(path: Path, context: DataContext, overrides: dict[str, str] | None = None) -> str:
    """``<what is plotted>. <Data: ...>`` for the figure at ``path``."""
    what = (overrides or {}).get(path.name) or describe_figure(path.name)
    if path.name in KERNEL_FIGURES:
        # kernels involve no images: describe the model they come from even when a folder also holds test results
        filters = read_json(path.parent / "filters.json")
        if isinstance(filters, dict):
            context = _filters_context(filters, path.parent)
    data = context.describe()
    return f"{what.rstrip('.')}.{' ' + data if data else ''}"


def describe_figure(filename: str) -> str:
    """The built-in description of a figure file name; unknown names are turned into words."""
    if filename in FIGURE_DESCRIPTIONS:
        return FIGURE_DESCRIPTIONS[filename]
    for pattern, template in FIGURE_PATTERNS:
        match = pattern.match(filename)
        if match:
            return template.format(*match.groups())
    words = Path(filename).stem.replace("_", " ").replace("-", " ").strip()
    return f"Figure: {words}" if words else "Figure"


def caption_overrides(folder: Path) -> dict[str, str]:
    """``captions`` maps of the folder's JSON files ({figure file: caption})."""
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        data = read_json(path)
        captions = data.get("captions") if isinstance(data, dict) else None
        if isinstance(captions, dict):
            found.update({str(key): str(value) for key, value in captions.items() if isinstance(value, str)})
    return found


def read_json(path: Path) -> Any:
    """Parsed JSON, or None for a missing, unreadable or invalid file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _own_context(folder: Path) -> DataContext | None:
    for filename in CONTEXT_FILES:
        data = read_json(folder / filename)
        if isinstance(data, dict):
            context = _CONTEXT_READERS[filename](data, folder)
            if context is not None:
                return context
    return None


def _spectrum_context(data: dict, folder: Path) -> DataContext:
    return DataContext(
        dataset=shown_dataset(data.get("dataset"), data.get("source"), data.get("data_note")),
        split=_text(data.get("split")),
        n_images=_count(data.get("n_images")),
        filter=_text(data.get("filter")),
        window=None if data.get("window") in (None, "none") else _text(data.get("window")),
    )


def _sensitivity_context(data: dict, folder: Path) -> DataContext:
    run = _text(data.get("run"))
    return DataContext(
        dataset=shown_dataset(data.get("dataset")),
        split="test",
        n_images=_count(data.get("test_images")),
        filter=_text(data.get("filter")),
        model=_text(data.get("model")),
        run=named_path(folder, run).name if run else None,
    )


def _filters_context(data: dict, folder: Path) -> DataContext:
    source = _text(data.get("source"))
    trained = shown_dataset(data.get("dataset"))
    return DataContext(
        model=_text(data.get("model")),
        run=named_path(folder, source).name if source else None,
        extra=f"kernels of a model trained on {trained}" if trained else "kernels of the model (no data involved)",
    )


def _run_context(data: dict, folder: Path) -> DataContext | None:
    config = data.get("config") if isinstance(data.get("config"), dict) else data
    if "dataset" not in config:
        return None
    source = data.get("data", {}).get("source") if isinstance(data.get("data"), dict) else None
    return DataContext(
        dataset=shown_dataset(config.get("dataset"), source),
        filter=_text(config.get("filter")),
        model=_text(config.get("model")),
        run=folder.name,
        extra="training run",
    )


def _compare_context(data: dict, folder: Path) -> DataContext:
    rows = [row for row in data.get("rows") or [] if isinstance(row, dict)]
    datasets = ", ".join(unique(shown_dataset(row.get("dataset")) or "?" for row in rows))
    folders = data.get("sweeps") if isinstance(data.get("sweeps"), list) else [data.get("sweep", "")]
    sweep = " + ".join(Path(str(folder)).name for folder in folders if folder) or "a sweep"
    return DataContext(extra=f"{len(rows)} runs of {sweep} on {datasets or 'unrecorded data'}")


def _sweep_context(data: dict, folder: Path) -> DataContext:
    runs = data.get("runs") if isinstance(data.get("runs"), dict) else {}
    datasets = ", ".join(
        unique(shown_dataset(run.get("dataset")) or "?" for run in runs.values() if isinstance(run, dict))
    )
    return DataContext(extra=f"sweep of {len(runs)} runs on {datasets or 'unrecorded data'}")


_CONTEXT_READERS = {
    "spectrum.json": _spectrum_context,
    "preview.json": _spectrum_context,
    "sensitivity.json": _sensitivity_context,
    "filters.json": _filters_context,
    CONFIG_FILE: _run_context,
    "compare.json": _compare_context,
    "sweep.json": _sweep_context,
}


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int, float)) and str(value) else None


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
