"""One convolution's JSON summary (a ``layers`` entry of filters.json): geometry, spectral statistics with their
histograms and radial profile, singular values, filter quality and aliasing.

Any 2-D convolution is summarized: grouped and depthwise ones (per-group statistics in ``per_group``; singular values
of the block-diagonal operator), dilated ones (the response of the kernel with zeros between its taps), 1x1 ones
(flagged ``spatially_flat``: the same response at every frequency), any kernel size and stride. Whatever part of a
summary cannot be computed is null with the reason in ``notes``."""

from __future__ import annotations

import math
import time

import torch

from freqprobe.analysis.aliasing import as_stride_pair
from freqprobe.analysis.filter_quality import filter_quality, orthogonality_by_group
from freqprobe.analysis.kernels.responses import (
    DEFAULT_GRID,
    check_dilation,
    dilated_lags,
    dilated_size,
    grid_pair,
    kernel_autocorrelation,
    mean_power_from_autocorrelation,
)
from freqprobe.analysis.kernels.statistics import DEFAULT_CUTOFF, KernelStatistics, statistics_from_autocorrelation
from freqprobe.analysis.singular import grouped_singular_values
from freqprobe.fourier import radial_frequency
from freqprobe.spectra import radial_profile

HISTOGRAM_BINS = 40
ORIENTATION_BINS = 36  # 5 degrees each
SINGULAR_VALUE_PROFILE_POINTS = 101
FLAT_NOTE = (
    "1x1 kernel: spatially flat (the same response at every frequency), so its spectral statistics are those of a "
    "flat spectrum on the grid; left out of the all-layer kernel means"
)


def summarize_layer(
    name: str,
    module: torch.nn.Module,
    grid: int = DEFAULT_GRID,
    cutoff: float = DEFAULT_CUTOFF,
    input_size: tuple[int, int] | None = None,
    singular_values: bool = True,
    timings: dict[str, float] | None = None,
) -> dict:
    """One convolution's JSON summary: geometry, kernel counts, spectral statistics (means, stds, histograms, radial
    profile) of the (dilated) kernels, singular values on ``input_size`` (None without an input size, i.e. the layer
    was not reached, with ``singular_values=False``, or an input not divisible by the stride; ``notes`` says which),
    filter quality, aliasing, and for ``groups > 1`` the per-group statistics.

    ``timings``, if given, accumulates seconds per part ("kernel_statistics", "singular_values", "filter_quality").

    Raises:
        ConfigError: the grid is smaller than the dilated kernel (the caller lists such a layer as skipped).
    """
    timings = timings if timings is not None else {}
    weight = analysis_weight(module)
    stride = as_stride_pair(module.stride)
    dilation = check_dilation(module.dilation)
    groups = int(module.groups)
    grid_pair(grid, dilated_size(tuple(weight.shape[-2:]), dilation))
    notes: list[str] = []
    clock = time.perf_counter()
    lags, correlation = kernel_autocorrelation(weight)
    lags = dilated_lags(lags, dilation)
    stats = statistics_from_autocorrelation(lags, correlation, grid, cutoff, stride)
    radii, profile = radial_profile(mean_power_from_autocorrelation(lags, correlation, grid))
    clock = add_time(timings, "kernel_statistics", clock)
    by_group = None
    if singular_values and input_size is not None and _divisible(input_size, stride):
        by_group = grouped_singular_values(weight, input_size, stride, dilation, groups)
    elif singular_values:
        notes.append(_no_singular_values_reason(input_size, stride))
    singular = _singular_value_summary(by_group, input_size, stride) if by_group is not None else None
    clock = add_time(timings, "singular_values", clock)
    quality = filter_quality(weight, groups=groups)
    add_time(timings, "filter_quality", clock)
    flat = tuple(weight.shape[-2:]) == (1, 1)
    if flat:
        notes.append(FLAT_NOTE)
    nonzero = stats.nonzero
    centroid, high = stats.spectral_centroid[nonzero], stats.high_frequency_ratio[nonzero]
    return {
        "name": name,
        "type": type(module).__name__,
        "shape": list(weight.shape),
        "kernel_size": list(weight.shape[-2:]),
        "stride": list(stride),
        "dilation": list(dilation),
        "groups": groups,
        "depthwise": groups > 1 and weight.shape[1] == 1,
        "spatially_flat": flat,
        "bias": getattr(module, "bias", None) is not None,
        "input_size": list(input_size) if input_size else None,
        # the module's own parameters: a band-pass conv generates its weight from far fewer (bias counted too)
        "parameters": sum(int(parameter.numel()) for parameter in module.parameters()),
        "kernels": int(stats.squared_norm.numel()),
        "zero_kernels": int((~nonzero).sum()),
        "spectral_centroid_mean": _number(centroid.mean()),
        "spectral_centroid_std": _number(centroid.std(unbiased=False)),
        "high_frequency_ratio": _number(high.mean()),
        "high_frequency_ratio_std": _number(high.std(unbiased=False)),
        "orientation_coherence_mean": _number(stats.orientation_coherence[nonzero].nanmean()),
        "spectral_norm": singular["max"] if singular else None,
        "singular_values": singular,
        **{key: _number(value) for key, value in quality.items()},
        **_aliasing_summary(stats),
        "per_group": _per_group_summary(stats, weight, groups, by_group) if groups > 1 else None,
        "radial_profile": {"radii": radii.tolist(), "power": profile.tolist()},
        "histograms": kernel_histograms(stats, grid),
        "notes": notes,
    }


def _divisible(size: tuple[int, int], stride: tuple[int, int]) -> bool:
    return size[0] % stride[0] == 0 and size[1] % stride[1] == 0


def _no_singular_values_reason(size: tuple[int, int] | None, stride: tuple[int, int]) -> str:
    if size is None:
        return "singular values: the layer was not reached by the forward pass of the dummy input (no input size)"
    return (
        f"singular values: input {size[0]}x{size[1]} is not divisible by stride {stride[0]}x{stride[1]}, so the "
        f"subsampled operator has no block-diagonal Fourier form; choose an --input-size that is"
    )


def _singular_value_summary(by_group: torch.Tensor, size: tuple[int, int], stride: tuple[int, int]) -> dict:
    """Count, max, min, median and a profile at evenly spaced ranks (largest first) of the layer's singular values."""
    values = by_group.flatten().sort(descending=True).values
    ranks = torch.linspace(0, values.numel() - 1, SINGULAR_VALUE_PROFILE_POINTS).round().long()
    grouped = f", block-diagonal over {by_group.shape[0]} groups" if by_group.shape[0] > 1 else ""
    return {
        "operator": f"circular convolution on {size[0]}x{size[1]} inputs, stride {stride[0]}x{stride[1]}{grouped}",
        "count": int(values.numel()),
        "max": float(values[0]),
        "min": float(values[-1]),
        "median": float(values.median()),
        "profile": values[ranks].tolist(),
    }


def _per_group_summary(
    stats: KernelStatistics, weight: torch.Tensor, groups: int, by_group: torch.Tensor | None
) -> dict:
    """Statistics of each group's kernels, lists of length ``groups`` (group g: output channels g O/G .. and input
    channels g I/G ..): mean centroid and high-frequency ratio of its non-zero kernels, its operator's spectral
    norm, its filters' orthogonality and its energy-weighted aliasing share."""
    def per_group(values: torch.Tensor) -> torch.Tensor:
        return values.reshape(groups, -1)  # kernel (o, i) sits at o * I/G + i, so a group's kernels are contiguous

    energy = per_group(stats.squared_norm)
    aliasing = None
    if stats.aliasing_share is not None:
        shares = torch.nan_to_num(per_group(stats.aliasing_share))
        aliasing = _numbers((shares * energy).sum(dim=1) / energy.sum(dim=1))
    return {
        "groups": groups,
        "kernels_per_group": int(energy.shape[1]),
        "spectral_centroid_mean": _numbers(per_group(stats.spectral_centroid).nanmean(dim=1)),
        "high_frequency_ratio": _numbers(per_group(stats.high_frequency_ratio).nanmean(dim=1)),
        "spectral_norm": _numbers(by_group[:, 0]) if by_group is not None else None,
        "orthogonality": _numbers(orthogonality_by_group(weight, groups)),
        "aliasing_share": aliasing,
    }


def _numbers(values: torch.Tensor) -> list[float | None]:
    return [_number(value) for value in values.tolist()]


def analysis_weight(module: torch.nn.Module) -> torch.Tensor:
    """The module's weight on the CPU, detached, in float32 unless it is float64 (half precision would round the
    statistics visibly)."""
    weight = module.weight.detach().to("cpu")
    return weight if weight.dtype in (torch.float32, torch.float64) else weight.float()


def _aliasing_summary(stats: KernelStatistics) -> dict:
    if stats.aliasing_share is None:
        return {"aliasing_share": None, "aliasing_share_kernel_mean": None}
    nonzero = stats.nonzero
    energy = stats.squared_norm[nonzero]
    shares = stats.aliasing_share[nonzero]
    # Layer share = aliased energy of all kernels / their total energy, so strong kernels weigh more.
    return {
        "aliasing_share": _number((shares * energy).sum() / energy.sum()),
        "aliasing_share_kernel_mean": _number(shares.mean()),
    }


def kernel_histograms(stats: KernelStatistics, grid: int | tuple[int, int]) -> dict:
    """Fixed-edge histograms of the non-zero kernels' spectral centroid, high-frequency ratio and orientation
    (weighted by coherence): {name: {"edges": [...], "counts": [...]}}."""
    grid_h, grid_w = (grid, grid) if isinstance(grid, int) else grid
    max_radius = float(radial_frequency(grid_h, grid_w, dtype=torch.float64).max())
    nonzero = stats.nonzero
    coherence = stats.orientation_coherence[nonzero]
    has_orientation = torch.isfinite(coherence)
    return {
        "spectral_centroid": _histogram(stats.spectral_centroid[nonzero], 0.0, max_radius, HISTOGRAM_BINS),
        "high_frequency_ratio": _histogram(stats.high_frequency_ratio[nonzero], 0.0, 1.0, HISTOGRAM_BINS),
        "orientation": _histogram(
            stats.orientation[nonzero][has_orientation], 0.0, math.pi, ORIENTATION_BINS, coherence[has_orientation]
        ),
    }


def _histogram(
    values: torch.Tensor, low: float, high: float, bins: int, weights: torch.Tensor | None = None
) -> dict[str, list[float]]:
    """Fixed-edge histogram (values on the top edge go to the last bin); counts are weight sums when weighted."""
    edges = torch.linspace(low, high, bins + 1, dtype=torch.float64)
    index = torch.bucketize(values.to(torch.float64), edges, right=True).sub(1).clamp(0, bins - 1)
    weights = torch.ones_like(values, dtype=torch.float64) if weights is None else weights.to(torch.float64)
    counts = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, weights)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def _number(value: torch.Tensor | float) -> float | None:
    """A JSON number, or None for NaN/inf (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def add_time(timings: dict[str, float], key: str, since: float) -> float:
    """Adds the seconds since ``since`` to ``timings[key]``; returns now, the start of the next part."""
    now = time.perf_counter()
    timings[key] = timings.get(key, 0.0) + now - since
    return now
