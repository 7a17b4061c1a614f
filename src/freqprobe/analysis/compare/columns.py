"""The columns of one run's row: identity, swept options, metrics.json, input centroid, kernel statistics
(``filters.json`` or computed) and sensitivity summaries (``sensitivity.json`` or, with ``--analyze``, measured).

Whatever a run lacks is left empty in its row, with a note: the table never stops for one run.
"""

from __future__ import annotations

import statistics
from typing import Any, Callable, Sequence

from freqprobe.analysis.compare.data import InputCentroids, RunData
from freqprobe.analysis.compare.features import (
    FEATURES_JSON,
    FeatureSpectra,
    depth_profile,
    feature_columns,
    kernel_depth_profile,
    shaped_layers,
)
from freqprobe.analysis.compare.runs import RunRecord, config_value, find_analysis, read_json
from freqprobe.analysis.compare.summaries import BANDS_KEYS, band_ablation_summary, find_section, sensitivity_columns
from freqprobe.errors import FreqprobeError
from freqprobe.run_columns import COST_COLUMNS, LAYER_PREFIX
from freqprobe.tables import number_or_none

ANALYZE_RADII = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
ANALYZE_ATTACK_EPS = 2.0 / 255.0
FILTERS_JSON = "filters.json"
SENSITIVITY_JSON = "sensitivity.json"
EVAL_BATCH = 500

Log = Callable[[str], None]


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
    features: FeatureSpectra | None = None,
    depth_profiles: dict[str, dict[str, list[tuple[float, float]]]] | None = None,
) -> dict[str, Any]:
    """One table row: identity, swept options, and every column source that works for this run. The run's band
    ablation curve, when it has one, goes into ``curves[run.name]``; its kernel centroids and feature maps'
    ΔLog-amplitude against relative depth into ``depth_profiles[run.name]`` ("kernel", "features")."""
    profiles = {} if depth_profiles is None else depth_profiles.setdefault(run.name, {})
    row: dict[str, Any] = {
        "run": run.name,
        "dataset": run.dataset,
        "model": run.model,
        "filter": run.filter,
        "seed": run.config.get("seed"),
    }
    row.update({name: config_value(run, name) for name in options})
    row["clean_accuracy"] = number_or_none(run.metrics.get("test_accuracy"))
    row["val_accuracy"] = number_or_none(run.metrics.get("val_accuracy"))
    # a cost that is also a swept option (epochs) keeps the option's value from config.json
    row.update({name: number_or_none(run.metrics.get(name)) for name in COST_COLUMNS if name not in options})
    row["input_centroid"] = _guarded(notes, f"{run.name}: input centroid", lambda: centroids.of_run(run))
    if row["input_centroid"] is not None:
        row["input_slope"] = centroids.slope_of_run(run)
    found = _guarded(notes, f"{run.name}: kernel statistics", lambda: kernel_layers(run))
    if found is not None:
        layers, row["kernel_source"] = found
        row.update(kernel_columns(layers))
        profiles["kernel"] = kernel_depth_profile(layers)
    sensitivity_path = find_analysis(run, SENSITIVITY_JSON)
    sensitivity = read_json(sensitivity_path) if sensitivity_path else None
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
    found_features = (features or FeatureSpectra()).of_run(run.folder, find_analysis(run, FEATURES_JSON))
    row["features_source"] = str(found_features[1]) if found_features else None
    if found_features:
        row.update(feature_columns(found_features[0]))
        profiles["features"] = depth_profile(found_features[0])
    return row



def _guarded(notes: list[str], what: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, or None with a note when it fails on a user-level problem (missing data, bad file)."""
    try:
        return compute()
    except (FreqprobeError, OSError) as error:
        notes.append(f"{what} left out: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
        return None



def kernel_layers(run: RunRecord) -> tuple[list[dict], str]:
    """Per-convolution summaries (filters.json ``layers``) of the run and where they came from.

    Computed with :func:`freqprobe.analysis.kernels.analyze_kernels` when the run has no filters.json.
    """
    path = find_analysis(run, FILTERS_JSON)
    if path is not None:
        found = read_json(path)
        layers = found.get("layers") if isinstance(found, dict) else None
        if isinstance(layers, list):
            return [layer for layer in layers if isinstance(layer, dict)], str(path)
    from freqprobe.analysis.kernels import analyze_kernels

    model = run.run.load_model()
    size = run.run.image_shape()[1]
    summary = analyze_kernels(model, input_size=size, model_name=run.model)
    return summary["layers"], "computed (analyze_kernels)"


def _mean_of(layers: Sequence[dict], key: str) -> float | None:
    """Mean of ``key`` over the layers that have a number for it (None when none has: e.g. no strided layer)."""
    found = [value for layer in layers if (value := number_or_none(layer.get(key))) is not None]
    return statistics.fmean(found) if found else None


def kernel_columns(layers: Sequence[dict]) -> dict[str, float | None]:
    """First-layer and all-layer summaries plus one ``kernel_centroid:<layer>`` column per convolution.

    The all-layer means leave out spatially flat (1x1) layers: their spectrum is the grid's, not the training's (a
    strided 1x1 layer aliases 1 - 1/stride^2 of its energy whatever it learned); the aliasing mean is over the
    strided layers, the only ones with a share."""
    centroids = {
        str(layer.get("name")): number_or_none(layer.get("spectral_centroid_mean")) for layer in layers
    }
    shaped = shaped_layers(layers)
    first = layers[0] if layers else {}
    columns = {
        "kernel_centroid_first": number_or_none(first.get("spectral_centroid_mean")),
        "kernel_centroid_mean": _mean_of(shaped, "spectral_centroid_mean"),
        "kernel_hf_ratio_first": number_or_none(first.get("high_frequency_ratio")),
        "kernel_hf_ratio_mean": _mean_of(shaped, "high_frequency_ratio"),
        "kernel_aliasing_mean": _mean_of(shaped, "aliasing_share"),
        "spectral_norm_first": number_or_none(first.get("spectral_norm")),
        "spectral_norm_mean": _mean_of(layers, "spectral_norm"),
    }
    columns.update({f"{LAYER_PREFIX}{name}": value for name, value in centroids.items()})
    return columns



def analyze_sensitivity(run: RunRecord, data: RunData, subset: int, log: Log) -> dict:
    """``--analyze``: band ablation at :data:`ANALYZE_RADII` and an FGSM attack (L-inf, :data:`ANALYZE_ATTACK_EPS`)
    on ``subset`` test images through the sensitivity API; returns a dict laid out like sensitivity.json (a section
    whose module is not importable is left out)."""
    from freqprobe.data import to_float

    model = run.run.load_model()
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
