"""The per-run statistics that ``freqprobe compare`` tabulates and plots: names, meanings and units.

A neutral home: the table (:mod:`freqprobe.analysis.compare`) and its figures (:mod:`freqprobe.plots.compare`,
:mod:`freqprobe.plots.variants`) both read it, and neither imports the other for it.
"""

from __future__ import annotations

# The columns of the table that correlations are computed between, in display order, with their meaning.
METRIC_COLUMNS = {
    "input_centroid": "mean spectral centroid (cycles/pixel) of the filtered training images (subset, see header)",
    "input_slope": "least-squares slope of log power against log radius of the filtered training images' mean "
    "radial power profile, rings above 1e-10 of the strongest (the subset of input_centroid)",
    "kernel_centroid_first": "mean spectral centroid (cycles/pixel) of the first convolution's kernels",
    "kernel_centroid_mean": "mean over all convolutions but 1x1 ones of each layer's mean kernel spectral centroid",
    "kernel_hf_ratio_first": "first convolution: mean share of kernel power above the cutoff (filters.json)",
    "kernel_hf_ratio_mean": "mean over all convolutions but 1x1 ones of each layer's share of kernel power above the "
    "cutoff",
    "kernel_aliasing_mean": "mean over the strided convolutions but 1x1 ones of each one's aliasing share: energy "
    "of its kernels above the new Nyquist limit (filters.json; none without a strided convolution)",
    "spectral_norm_first": "first convolution: largest singular value as an operator on its input size",
    "spectral_norm_mean": "mean over every convolution, 1x1 ones included (a gain, not a spectral shape), of its "
    "largest singular value as an operator on its input size; a normalization layer after it rescales the map, so "
    "compare it across networks with care",
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
    "corruption_accuracy": "mean accuracy over the 15 CIFAR-10-C benchmark corruptions x 5 severities "
    "(sensitivity.json corruptions; torch-generated unless its source says released)",
    "corruption_accuracy_low": "mean accuracy over the benchmark corruptions whose perturbation centroid is below 1/8 "
    "cycles/pixel",
    "corruption_accuracy_mid": "mean accuracy over the benchmark corruptions with perturbation centroid in [1/8, 1/4)",
    "corruption_accuracy_high": "mean accuracy over the benchmark corruptions with perturbation centroid >= 1/4",
    "feature_delta_log_mean": "feature maps (features.json): mean over the convolutions' outputs of ΔLog-amplitude "
    "(Nyquist bin minus DC, natural log)",
    "feature_delta_log_last": "feature maps: ΔLog-amplitude of the deepest convolution's output",
    "feature_centroid_mean": "feature maps: mean over the convolutions' outputs of the maps' spectral centroid "
    "(cycles/pixel)",
    "feature_aliasing_mean": "feature maps: mean over the subsampling sites of the share of the entering maps' energy "
    "above the new Nyquist frequency",
}


# Columns that are fractions of images: shown in percent in compare.md and in the figures.
PERCENT_COLUMNS = frozenset(
    {"clean_accuracy", "val_accuracy", "lowpass_auc", "highpass_auc", "heatmap_mean_error", "heatmap_error_low",
     "heatmap_error_mid", "heatmap_error_high", "shift_consistency", "robust_accuracy",
     "corruption_accuracy", "corruption_accuracy_low", "corruption_accuracy_mid", "corruption_accuracy_high",
     "feature_aliasing_mean", "kernel_aliasing_mean"}
)


# Partial correlations (compare): what the input and the kernels look like, against how the network fails, given its
# clean accuracy (robust accuracy tends to rise as clean accuracy falls, which a plain correlation confuses).
FILTER_STATISTIC_COLUMNS = ("input_centroid", "input_slope", "kernel_centroid_first", "kernel_centroid_mean",
                            "kernel_hf_ratio_first", "kernel_hf_ratio_mean", "kernel_aliasing_mean",
                            "spectral_norm_mean", "feature_delta_log_mean", "feature_centroid_mean",
                            "feature_aliasing_mean")
ROBUSTNESS_COLUMNS = ("robust_accuracy", "corruption_accuracy", "heatmap_mean_error", "heatmap_centroid",
                      "lowpass_r50", "highpass_r50", "shift_consistency")
PARTIAL_CONTROL = "clean_accuracy"


ID_COLUMNS = ("run", "dataset", "model", "filter", "seed")


# What a run cost, from metrics.json: in the table and the seed summaries, not in the correlations.
COST_COLUMNS = {
    "params": "trainable parameters of the model (metrics.json)",
    "flops_per_image": "forward FLOPs per image (metrics.json: torch.utils.flop_counter, convolutions and matrix "
    "products, a multiply-add = 2 FLOPs)",
    "epochs": "training epochs (metrics.json): with the recipe, the run's budget",
    "train_seconds": "training wall time in seconds (metrics.json; machine and load as recorded in its env.json)",
}


SOURCE_COLUMNS = ("robust_attack", "kernel_source", "sensitivity_source", "features_source")


LAYER_PREFIX = "kernel_centroid:"
# Per corruption of sensitivity.json's corruptions section, in compare's rows (not in compare.md's table): its
# accuracy over the five severities (a fraction; summarized per variant and paired with the baseline like every
# number) and its frequency group (low, mid, high), which orders the corruption-profile figure.
CORRUPTION_ACCURACY_PREFIX = "accuracy_under_"
CORRUPTION_GROUP_PREFIX = "frequency_group_of_"
