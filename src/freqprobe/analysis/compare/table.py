"""The whole comparison: one row per complete run, seed summaries per variant, paired differences against a baseline,
rank and partial correlations across variants' means, band matrices and notes (:func:`compare_sweep`); nothing is written here (:mod:`freqprobe.analysis.compare.output`)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Sequence

from freqprobe.analysis.compare.band_matrix import BandMatrix, band_groups, band_matrix
from freqprobe.analysis.compare.baseline import check_baseline, paired_differences
from freqprobe.analysis.compare.columns import Log, run_row
from freqprobe.analysis.compare.data import InputCentroids, RunData
from freqprobe.analysis.compare.features import FeatureSpectra
from freqprobe.analysis.compare.runs import config_value, find_runs_in, swept_option_names
from freqprobe.analysis.compare.statistics import (
    CORRELATION_METHOD,
    PARTIAL_METHOD,
    correlation_matrix,
    correlations_by_group,
    layer_correlations,
    partial_correlations,
)
from freqprobe.analysis.compare.variants import VariantSummary, summarize_variants
from freqprobe.errors import ConfigError, FreqprobeError
from freqprobe.run_columns import COST_COLUMNS, ID_COLUMNS, LAYER_PREFIX, METRIC_COLUMNS, SOURCE_COLUMNS
from freqprobe.tables import is_number, unique

DEFAULT_SUBSET = 1000


@dataclass
class Comparison:
    """Everything ``compare`` found: one row per run, variants, paired differences, correlations, band matrices and
    notes. Correlations are across variants, on their means over seeds (``CORRELATION_METHOD``)."""

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
    # dataset (/ model) -> matrix over that group's variants alone; filled when the variants span several groups,
    # whose pooled ranks mostly sort the groups (CIFAR-10 runs have lower accuracy and input centroids than
    # Fashion-MNIST ones), so the pooled matrix is never shown without them
    correlations_by_group: dict[str, dict[str, dict[str, dict]]] = field(default_factory=dict)
    partial_correlations: list[dict] = field(default_factory=list)
    baseline: str | None = None  # what sets the variants apart that the paired differences subtract
    paired_differences: list[dict] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)  # figure file -> caption (n, interval method) for report
    # run name -> {"kernel": [(relative depth, mean kernel centroid)], "features": [(relative depth, ΔLog-amplitude)]}
    # of its convolutions (filters.json, features.json), for the depth-profile figure
    depth_profiles: dict[str, dict[str, list]] = field(default_factory=dict)

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
            "correlation": CORRELATION_METHOD,
            "correlations": self.correlations,
            "correlations_by_group": self.correlations_by_group,
            "partial_correlation": PARTIAL_METHOD,
            "partial_correlations": self.partial_correlations,
            "layer_correlations": self.layer_correlations,
            "baseline": self.baseline,
            "paired_differences": self.paired_differences,
            "band_matrices": [matrix.to_dict() for matrix in self.band_matrices],
            "notes": self.notes,
            "figures": self.figures,
            "captions": self.captions,
            "depth_profiles": self.depth_profiles,
        }



def comparison_from_dict(data: dict) -> Comparison:
    """A :class:`Comparison` read back from its compare.json (``to_dict()``), for redrawing its figures without
    recomputing anything."""
    variant_fields = {"label", "runs", "seeds", "stats", "band_curve"}
    variants = [
        VariantSummary(
            identity={key: value for key, value in entry.items() if key not in variant_fields},
            runs=entry.get("runs", []),
            seeds=entry.get("seeds", []),
            stats=entry.get("stats", {}),
            band_curve=entry.get("band_curve"),
            label=entry.get("label", ""),
        )
        for entry in data.get("variants", [])
    ]
    matrix_fields = ("dataset", "model", "train_filters", "test_filters", "accuracy", "runs", "n_images", "per_run")
    matrices = [BandMatrix(**{key: entry[key] for key in matrix_fields if key in entry}) for entry in
                data.get("band_matrices", [])]
    return Comparison(
        sweep_dir=data.get("sweep", ""),
        subset=data.get("subset", DEFAULT_SUBSET),
        rows=data.get("rows", []),
        columns=data.get("columns", []),
        metric_columns=list(data.get("definitions", {})),
        correlations=data.get("correlations", {}),
        layer_correlations=data.get("layer_correlations", []),
        band_matrices=matrices,
        notes=data.get("notes", []),
        figures=data.get("figures", {}),
        sweeps=data.get("sweeps", []),
        options=data.get("options", []),
        variants=variants,
        # compare.json files written before the statistics over seeds named the per-group correlations by dataset
        correlations_by_group=data.get("correlations_by_group", data.get("correlations_by_dataset", {})),
        partial_correlations=data.get("partial_correlations", []),
        baseline=data.get("baseline"),
        paired_differences=data.get("paired_differences", []),
        captions=data.get("captions", {}),
        depth_profiles=data.get("depth_profiles", {}),
    )


def compare_sweep(
    sweep_dir: str | os.PathLike | Sequence[str | os.PathLike],
    subset: int = DEFAULT_SUBSET,
    analyze: bool = False,
    data_dir: str | None = None,
    band_matrices: bool = True,
    baseline: str | None = None,
    log: Log = lambda message: print(message, file=sys.stderr, flush=True),
    features: Sequence[str | os.PathLike] = (),
) -> Comparison:
    """Gather the table of a sweep folder, or of several compared as one (see the module docstring); nothing is
    written. ``baseline``: the filter, or ``FIELD=VALUE`` pairs, of the variants the paired differences subtract
    (:mod:`freqprobe.analysis.compare.baseline`; None: the unfiltered variants when present).
    ``features``: ``features.json`` files of ``freqprobe features`` to take the runs' feature-map columns from
    (besides each run's own ``analysis/features.json``).

    Raises:
        FreqprobeError: no such folder, no complete run, ``subset`` < 1, a ``baseline`` no run has.
    """
    if not isinstance(subset, int) or subset < 1:
        raise ConfigError(f"--subset must be a positive number of images, got {subset!r}")
    sweep_dirs = [sweep_dir] if isinstance(sweep_dir, (str, os.PathLike)) else list(sweep_dir)
    if not sweep_dirs:
        raise ConfigError("compare needs at least one sweep folder")
    runs, notes = find_runs_in(sweep_dirs)
    options = swept_option_names(runs)
    identities = [{"dataset": run.dataset, "model": run.model, "filter": run.filter,
                   **{name: config_value(run, name) for name in options}} for run in runs]
    baseline = check_baseline(baseline, identities)  # before the minutes of gathering
    feature_spectra = FeatureSpectra(features)  # a bad file fails here, before the minutes too
    data = RunData(data_dir)
    centroids = InputCentroids(data, subset)
    rows: list[dict[str, Any]] = []
    curves: dict[str, dict[str, Any]] = {}
    depth_profiles: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for run in runs:
        log(f"compare: {run.name}")
        rows.append(run_row(run, options, centroids, data, subset, analyze, notes, log, curves, feature_spectra,
                            depth_profiles))
    matrices = []
    if band_matrices:
        for (dataset, model), members in band_groups(runs).items():
            try:
                matrices.append(band_matrix(members, data, subset, log))
            except FreqprobeError as error:
                notes.append(f"band matrix of {dataset} {model} left out: {error}")
    metric_columns = [name for name in METRIC_COLUMNS if any(is_number(row.get(name)) for row in rows)]
    layer_columns = unique(key for row in rows for key in row if key.startswith(LAYER_PREFIX))
    sources = [name for name in SOURCE_COLUMNS if any(row.get(name) for row in rows)]
    costs = [name for name in COST_COLUMNS if name not in options and any(is_number(row.get(name)) for row in rows)]
    columns = [*ID_COLUMNS, *options, *metric_columns, *costs, *sources, *layer_columns]
    variants = summarize_variants(rows, options, curves)
    return Comparison(
        sweep_dir=" + ".join(str(path) for path in sweep_dirs),
        sweeps=[str(path) for path in sweep_dirs],
        options=options,
        variants=variants,
        subset=subset,
        rows=rows,
        columns=columns,
        metric_columns=metric_columns,
        correlations=correlation_matrix(variants, metric_columns),
        correlations_by_group=correlations_by_group(variants, metric_columns),
        partial_correlations=partial_correlations(variants, metric_columns),
        layer_correlations=layer_correlations(variants, layer_columns),
        baseline=baseline,
        paired_differences=paired_differences(variants, baseline),
        band_matrices=matrices,
        notes=notes,
        depth_profiles=depth_profiles,
    )
