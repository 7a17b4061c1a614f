"""Frequency responses of convolution kernels and per-kernel spectral statistics (``freqprobe filters``).

    from freqprobe.analysis.kernels import analyze_kernels, kernel_statistics
    stats = kernel_statistics(model.stem.weight, grid=32, cutoff=0.25)   # per kernel, closed form, no FFT
    filters = analyze_kernels("runs/cifar10-none")                        # the content of filters.json

Modules, by concept: ``responses`` (K(f), P(f) on the zero-padded grid, autocorrelation lags, the mean normalized
power), ``statistics`` (per-kernel centroid, high-frequency ratio, orientation, aliasing share; their definitions),
``layer_summary`` (one convolution's filters.json entry: histograms, singular values, filter quality),
``model_summary`` (every convolution of a model, and two models compared) and ``tracking`` (per-epoch statistics
during training).
"""

from freqprobe.analysis.kernels.layer_summary import (
    HISTOGRAM_BINS,
    ORIENTATION_BINS,
    SINGULAR_VALUE_PROFILE_POINTS,
    summarize_layer,
)
from freqprobe.analysis.kernels.model_summary import (
    DEFINITIONS,
    analyze_kernels,
    compare_kernels,
    kernel_statistics_by_layer,
)
from freqprobe.analysis.kernels.responses import (
    DEFAULT_GRID,
    grid_pair,
    kernel_autocorrelation,
    kernel_power_spectra,
    kernel_responses,
    lag_coefficients,
    mean_normalized_power,
    mean_power_from_autocorrelation,
)
from freqprobe.analysis.kernels.statistics import (
    DEFAULT_CUTOFF,
    ORIENTED_ENERGY_FLOOR,
    KernelStatistics,
    check_cutoff,
    kernel_statistics,
    statistics_from_autocorrelation,
    statistics_of_power,
)
from freqprobe.analysis.kernels.tracking import KernelStatsCallback

__all__ = [
    "DEFAULT_CUTOFF",
    "DEFAULT_GRID",
    "DEFINITIONS",
    "HISTOGRAM_BINS",
    "ORIENTATION_BINS",
    "ORIENTED_ENERGY_FLOOR",
    "SINGULAR_VALUE_PROFILE_POINTS",
    "KernelStatistics",
    "KernelStatsCallback",
    "analyze_kernels",
    "check_cutoff",
    "compare_kernels",
    "grid_pair",
    "kernel_autocorrelation",
    "kernel_power_spectra",
    "kernel_responses",
    "kernel_statistics",
    "kernel_statistics_by_layer",
    "lag_coefficients",
    "mean_normalized_power",
    "mean_power_from_autocorrelation",
    "statistics_from_autocorrelation",
    "statistics_of_power",
    "summarize_layer",
]
