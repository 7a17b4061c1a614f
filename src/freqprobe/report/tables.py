"""Tables of a report, built from the files freqprobe writes: run metrics and configuration, the per-epoch log,
and the summaries of spectrum.json, filters.json, sensitivity.json and any other small JSON object.

Every reader is defensive: a key that is missing or of an unexpected type leaves its cell or row out, never raises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from freqprobe.tables import format_accuracy


@dataclass
class Table:
    """A titled table of display strings; ``note`` is a line under the title (what the numbers are)."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    collapsed: bool = False  # shown folded (an HTML <details> element, no script) until the reader opens it

    @property
    def is_empty(self) -> bool:
        return not self.rows


@dataclass
class KeyValues:
    """Pairs (label, value) shown as a two-column table."""

    title: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""

    def add(self, label: str, value: Any) -> None:
        """Add a row unless ``value`` is None or a container (a missing piece is simply left out)."""
        if value is None or isinstance(value, dict):
            return
        if isinstance(value, (list, tuple)) and not all(_is_scalar(item) for item in value):
            return
        self.pairs.append((label, format_value(value, label)))

    def as_table(self) -> Table:
        return Table(self.title, ["", "value"], [[label, value] for label, value in self.pairs], self.note)


# ----------------------------------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------------------------------


def format_value(value: Any, name: str = "") -> str:
    """Display text: accuracies (fractions, by name) in percent as the CLI prints them
    (:func:`freqprobe.tables.format_accuracy`), floats to 4 significant digits, lists joined."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if _is_fraction_name(name) and 0.0 <= value <= 1.0:
            return format_accuracy(value)
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(item) for item in value)
    return str(value)


def _is_fraction_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith("accuracy") or lowered.endswith("consistency") or lowered.endswith("error")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _get(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...`` or None when any level is missing or not a dict."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _cells(values: Iterable[Any], names: Sequence[str]) -> list[str]:
    return [format_value(value, name) for value, name in zip(values, names)]


# ----------------------------------------------------------------------------------------------------------------
# Run folders
# ----------------------------------------------------------------------------------------------------------------

METRIC_ORDER = (
    "test_accuracy",
    "val_accuracy",
    "test_loss",
    "val_loss",
    "final_train_accuracy",
    "final_train_loss",
    "epochs",
    "train_seconds",
    "images_per_second",
    "params",
    "device",
    "precision",
    "tta_flip",
    "tta_translate",
)
EPOCH_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")


def metrics_table(metrics: dict) -> Table:
    """The final metrics of a run (metrics.json), the most looked-at first, then every other scalar."""
    table = KeyValues("Final metrics (metrics.json)", note="accuracies in percent")
    for key in METRIC_ORDER:
        table.add(key, metrics.get(key))
    for key, value in metrics.items():
        if key not in METRIC_ORDER:
            table.add(key, value)
    return table.as_table()


def config_table(config_file: dict) -> Table:
    """The training configuration (config.json): TrainConfig fields, the filter, the data and normalization."""
    config = config_file.get("config") if isinstance(config_file.get("config"), dict) else config_file
    table = KeyValues("Training configuration (config.json)")
    for key, value in config.items():
        table.add(key, value)
    for key in ("spec", "boundary", "fitted_on"):
        table.add(f"filter {key}", _get(config_file, "filter", key))
    table.add("filter position", config_file.get("filter_position"))
    for key in ("source", "train_images", "val_images", "test_images", "image_shape"):
        table.add(f"data {key}", _get(config_file, "data", key))
    for key in ("normalization_mean", "normalization_std"):
        table.add(key.replace("_", " "), _get(config_file, "data", key))
    for key in ("params", "steps_per_epoch", "world_size", "freqprobe_version"):
        table.add(key, config_file.get(key))
    return table.as_table()


def epochs_table(records: Sequence[dict]) -> Table:
    """One row per completed epoch (metrics.jsonl)."""
    columns = [column for column in EPOCH_COLUMNS if any(column in record for record in records)]
    rows = [_cells((record.get(column) for column in columns), columns) for record in records]
    return Table("Training log (metrics.jsonl)", columns, rows, "val without test-time augmentation")


def environment_table(environment: dict) -> Table:
    """The scalars of env.json (versions, hardware)."""
    table = KeyValues("Environment (env.json)")
    for key, value in environment.items():
        table.add(key, value)
    return table.as_table()


# ----------------------------------------------------------------------------------------------------------------
# Analysis JSON files
# ----------------------------------------------------------------------------------------------------------------


def spectrum_tables(spectrum: dict, data_label: str) -> list[Table]:
    """spectrum.json: what was analysed, then one row per class (and all images)."""
    meta = KeyValues("Dataset spectrum (spectrum.json)")
    meta.add("data", data_label)
    for key in ("split", "filter", "boundary", "filter_fitted_on", "window", "n_images", "image_size", "channels"):
        meta.add(key, spectrum.get(key))
    header = ["class", "images", "centroid mean", "centroid std", "radial slope"]
    rows = []
    classes = spectrum.get("classes") if isinstance(spectrum.get("classes"), dict) else {}
    entries = list(classes.items()) + ([("all", spectrum["all"])] if isinstance(spectrum.get("all"), dict) else [])
    for name, entry in entries:
        if isinstance(entry, dict):
            values = (entry.get(key) for key in ("n_images", "spectral_centroid_mean", "spectral_centroid_std"))
            rows.append([str(name), *_cells(values, ["", "", ""]), format_value(entry.get("radial_slope"))])
    per_class = Table("Per class", header, rows, "spectral centroid in cycles/pixel; slope of log power vs log |f|")
    return [meta.as_table(), per_class]


LAYER_COLUMNS = (
    ("name", "layer"),
    ("shape", "shape"),
    ("stride", "stride"),
    ("dilation", "dilation"),
    ("groups", "groups"),
    ("spectral_centroid_mean", "centroid mean"),
    ("spectral_centroid_std", "centroid std"),
    ("high_frequency_ratio", "high-freq. ratio"),
    ("spectral_norm", "spectral norm"),
    ("aliasing_share", "aliasing share"),
    ("sparsity", "sparsity"),
    ("orthogonality", "orthogonality"),
)


def filters_tables(filters: dict) -> list[Table]:
    """filters.json: the model analysed and one row per convolution."""
    meta = KeyValues("Kernel frequency responses (filters.json)")
    for key in ("model", "source", "dataset", "in_channels", "input_size", "grid", "cutoff"):
        meta.add(key, filters.get(key))
    totals = filters.get("totals") if isinstance(filters.get("totals"), dict) else {}
    for key, value in totals.items():
        meta.add(key.replace("_", " "), value)
    layers = [layer for layer in filters.get("layers") or [] if isinstance(layer, dict)]
    columns = [(key, label) for key, label in LAYER_COLUMNS if any(key in layer for layer in layers)]
    rows = [[format_value(layer.get(key)) for key, _ in columns] for layer in layers]
    note = "centroid and cutoff in cycles/pixel; ratios are shares of kernel power"
    flat = [str(layer.get("name")) for layer in layers if layer.get("spatially_flat")]
    if flat:
        note += f"; 1x1, spatially flat (the same response at every frequency): {', '.join(flat)}"
    tables = [meta.as_table(), Table("Per convolution", [label for _, label in columns], rows, note)]
    skipped = [entry for entry in filters.get("skipped_layers") or [] if isinstance(entry, dict)]
    if skipped:
        rows = [[format_value(entry.get(key)) for key in ("name", "type", "reason")] for entry in skipped]
        tables.append(Table("Convolutions not analysed", ["layer", "type", "reason"], rows, ""))
    return tables


def sensitivity_tables(sensitivity: dict) -> list[Table]:
    """sensitivity.json: the run and test images, then one table per analysis present."""
    meta = KeyValues("Network sensitivity (sensitivity.json)")
    for key in ("run", "model", "dataset", "filter", "antialias", "test_images", "test_selection", "pipeline"):
        meta.add(key, sensitivity.get(key))
    tables = [meta.as_table()]
    for build in (_bands_table, _heatmap_table, _gradient_table, _shift_table, _attacks_table):
        table = build(sensitivity)
        if table is not None and not table.is_empty:
            tables.append(table)
    return tables


def _bands_table(sensitivity: dict) -> Table | None:
    bands = sensitivity.get("bands")
    if not isinstance(bands, dict):
        return None
    radii, low, high = (bands.get(key) for key in ("radii", "low_pass_accuracy", "high_pass_accuracy"))
    if not all(isinstance(values, list) for values in (radii, low, high)):
        return None
    names = ["radius", "low_pass_accuracy", "high_pass_accuracy"]
    rows = [_cells(values, names) for values in zip(radii, low, high)]
    clean = format_value(bands.get("clean_accuracy"), "accuracy")
    note = f"ideal radial masks (radius in cycles/pixel); clean accuracy {clean} on {bands.get('n_images', '?')} images"
    return Table("Band ablation", ["radius", "low-pass accuracy", "high-pass accuracy"], rows, note)


def _heatmap_table(sensitivity: dict) -> Table | None:
    heatmap = sensitivity.get("heatmap")
    if not isinstance(heatmap, dict):
        return None
    table = KeyValues("Fourier heat map")
    keys = ("eps", "clean_error", "mean_error", "max_error", "n_images", "evaluated_pairs", "max_radius", "seconds")
    for key in keys:
        table.add(key, heatmap.get(key))
    return table.as_table()


def _gradient_table(sensitivity: dict) -> Table | None:
    gradient = sensitivity.get("gradient_spectrum")
    if not isinstance(gradient, dict):
        return None
    table = KeyValues("Input-gradient spectrum")
    for key in ("n_images", "mean_gradient_l2_norm", "rank_correlation_with_heatmap", "rank_correlation_note"):
        table.add(key, gradient.get(key))
    return table.as_table()


def _shift_table(sensitivity: dict) -> Table | None:
    shift = sensitivity.get("shift")
    if not isinstance(shift, dict):
        return None
    table = KeyValues("Shift consistency")
    for key in ("consistency", "clean_accuracy", "shifted_accuracy", "max_shift", "n_images", "antialias"):
        table.add(key, shift.get(key))
    return table.as_table()


def _attacks_table(sensitivity: dict) -> Table | None:
    attacks = sensitivity.get("attacks")
    if not isinstance(attacks, dict):
        return None
    header = ["attack", "clean accuracy", "robust accuracy", "perturbation centroid", "clean centroid", "mean L2"]
    rows = []
    for key, attack in attacks.items():
        if not isinstance(attack, dict):
            continue
        rows.append(
            [
                str(key),
                format_value(attack.get("clean_accuracy"), "accuracy"),
                format_value(attack.get("robust_accuracy"), "accuracy"),
                format_value(_get(attack, "perturbation_spectrum", "spectral_centroid")),
                format_value(_get(attack, "clean_spectrum", "spectral_centroid")),
                format_value(attack.get("perturbation_mean_l2")),
            ]
        )
    return Table("Adversarial attacks", header, rows, "centroids in cycles/pixel (freqprobe.spectra definition)")


def scalar_table(title: str, data: dict) -> Table | None:
    """The top-level scalars of any other JSON object, or None when it has none."""
    table = KeyValues(title)
    for key, value in data.items():
        table.add(key, value)
    return table.as_table() if table.pairs else None
