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

then, per variant (runs that differ only in their seed), mean, std and a 95% interval of every column; paired
differences against a baseline variant matched by seed; Spearman rank correlations between the columns across the
variants' means, with a seed-resampling interval and a permutation p-value, per dataset (and model) group; and
partial rank correlations of the filter statistics with robustness controlling for clean accuracy. For sweeps over ``band:LO:HI`` filters, the train-band x
test-band accuracy matrix evaluates every band-trained model on the test images passed through every band.

Whatever a run lacks (no analysis, unreadable JSON, missing data, a fitted filter without its checkpoint) is left
empty in its row, with a note; the command never stops for one run.

Modules, by concept: ``runs`` (gathering the complete runs), ``data`` (splits, fitted filters, input centroids),
``summaries`` (of sensitivity.json), ``columns`` (one run's row), ``variants`` (seed summaries), ``baseline``
(paired differences), ``statistics`` (rank and partial correlations), ``band_matrix``, ``table`` (the whole comparison), ``seed_tables`` (the statistics' Markdown, CSV and captions), ``output`` (the files).
Column names and units live in :mod:`freqprobe.run_columns`, which the figures read too.
"""

from freqprobe.analysis.compare.band_matrix import BandMatrix, band_groups, band_matrix, model_accuracy
from freqprobe.analysis.compare.baseline import DEFAULT_BASELINE, check_baseline, paired_differences
from freqprobe.analysis.compare.columns import (
    ANALYZE_ATTACK_EPS,
    ANALYZE_RADII,
    analyze_sensitivity,
    kernel_columns,
    kernel_layers,
    run_row,
)
from freqprobe.analysis.compare.data import InputCentroids, RunData
from freqprobe.analysis.compare.output import (
    BAND_MATRIX_CSV,
    COMPARE_CSV,
    COMPARE_JSON,
    COMPARE_MD,
    FolderNames,
    format_csv,
    format_markdown,
    write_comparison,
)
from freqprobe.analysis.compare.runs import RunRecord, find_analysis, find_runs, find_runs_in, swept_option_names
from freqprobe.analysis.compare.statistics import (
    correlation_matrix,
    correlations_by_group,
    layer_correlations,
    partial_correlations,
    spearman,
)
from freqprobe.analysis.compare.summaries import band_ablation_summary, heatmap_summary, sensitivity_columns
from freqprobe.analysis.compare.table import DEFAULT_SUBSET, Comparison, compare_sweep
from freqprobe.run_columns import LAYER_PREFIX, METRIC_COLUMNS, PERCENT_COLUMNS

__all__ = [
    "ANALYZE_ATTACK_EPS", "ANALYZE_RADII", "BAND_MATRIX_CSV", "COMPARE_CSV", "COMPARE_JSON", "COMPARE_MD",
    "DEFAULT_SUBSET", "LAYER_PREFIX", "METRIC_COLUMNS", "PERCENT_COLUMNS", "BandMatrix", "Comparison", "FolderNames",
    "InputCentroids", "RunData", "RunRecord", "analyze_sensitivity", "band_ablation_summary", "band_groups",
    "band_matrix", "check_baseline", "compare_sweep", "correlation_matrix", "correlations_by_group",
    "DEFAULT_BASELINE", "find_analysis", "paired_differences", "partial_correlations",
    "find_runs", "find_runs_in", "format_csv", "format_markdown", "heatmap_summary", "kernel_columns",
    "kernel_layers", "layer_correlations", "model_accuracy", "run_row", "sensitivity_columns", "spearman",
    "swept_option_names", "write_comparison",
]
