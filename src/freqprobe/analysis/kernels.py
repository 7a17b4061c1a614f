"""Frequency responses of convolution kernels and per-kernel spectral statistics.

Every (output, input) kernel w of a ``Conv2d`` weight (O, I, kh, kw) is zero-padded to a G x G grid (default 32: a
3x3 kernel padded by 15 on each side, as the original notebooks did) and transformed:

    K(f) = sum_x w[x] exp(-2 pi i f . x),   P(f) = |K(f)|^2,   p(f) = P(f) / sum_f P(f)   (normalized power)

with f = (f_y, f_x) in cycles/pixel on the full fftfreq grid (:mod:`freqprobe.fourier`), f_y running down the rows.
Per kernel (all on p, so the kernel's scale does not matter):

- ``spectral_centroid``: sum_f |f| p(f), DC included -- the definition of the dataset spectra
  (:func:`freqprobe.spectra.spectral_centroid_of_power`), so images and filters share one axis.
- ``high_frequency_ratio``: sum of p(f) over |f| > cutoff (default 0.25 cycles/pixel, a frequency exactly on the
  cutoff counts as low); the low-frequency share is 1 minus it.
- ``orientation``: the energy-weighted dominant orientation, the axial mean of the frequency angle
  phi(f) = atan2(f_y, f_x) mod pi weighted by P(f), taken on doubled angles because orientation is axial:
  theta = atan2(sum P sin 2phi, sum P cos 2phi) / 2 mod pi. 0 is a horizontal frequency (intensity varying along x:
  vertical stripes or edges), pi/2 a vertical one. The sums run over the "oriented" frequencies: all but DC and, on
  an even grid, the unpaired Nyquist row and column (f = -0.5), so that the grid is symmetric under 90-degree
  rotation and a flat spectrum has no orientation.
- ``orientation_coherence``: |sum P exp(2 i phi)| / sum P over the oriented f, in [0, 1]; 0 for an isotropic
  kernel, whose orientation is then meaningless, 1 when all energy lies along one line through the origin.
- ``aliasing_share`` (strided layers): see :mod:`freqprobe.analysis.aliasing`.

Each statistic is linear in the power, and the power is the DFT of the kernel's autocorrelation
r(d) = sum_x w[x] w[x + d] (Wiener-Khinchin), so sum_f g(f) P(f) = sum_d r(d) G(d) with G the DFT of the weighting g.
:func:`kernel_statistics` therefore needs only the 13 autocorrelation lags of a 3x3 kernel (one half-plane; r is
symmetric) and one small matrix product per layer: ResNet-18's 1.4 M kernels need no FFT at all.
:func:`kernel_power_spectra` gives the explicit grids (one batched FFT per layer) and :func:`statistics_of_power` the
same statistics from them: the reference the closed forms are tested against.

A kernel of zeros has no spectrum: its statistics are NaN and layers count it in ``zero_kernels``.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import torch

from freqprobe.analysis.aliasing import alias_mask, aliasing_share_of_power, as_stride_pair
from freqprobe.analysis.filter_quality import filter_quality, wasserstein_1d
from freqprobe.analysis.model_source import (
    ModelSource,
    SourceLike,
    conv_layers,
    load_model_source,
    trace_conv_input_sizes,
)
from freqprobe.analysis.singular import conv_singular_values
from freqprobe.errors import ConfigError
from freqprobe.fourier import frequency_axes, orientation, radial_frequency
from freqprobe.io import append_jsonl
from freqprobe.spectra import radial_profile, spectral_centroid_of_power

DEFAULT_GRID = 32
DEFAULT_CUTOFF = 0.25
ORIENTED_ENERGY_FLOOR = 1e-6


@dataclass
class KernelStatistics:
    """Per-kernel statistics of one layer, each a float64 tensor (n,) with n = O * I, kernel (o, i) at o * I + i.

    ``aliasing_share`` is None for stride 1. NaN marks zero kernels (and, for orientation, kernels without non-DC
    energy).
    """

    squared_norm: torch.Tensor
    spectral_centroid: torch.Tensor
    high_frequency_ratio: torch.Tensor
    orientation: torch.Tensor
    orientation_coherence: torch.Tensor
    aliasing_share: torch.Tensor | None = None

    @property
    def nonzero(self) -> torch.Tensor:
        """Bool (n,): kernels with at least one non-zero tap."""
        return self.squared_norm > 0


def grid_pair(grid: int | tuple[int, int], kernel_size: tuple[int, int]) -> tuple[int, int]:
    """(G_h, G_w) from an int or pair; raises ConfigError if the grid is smaller than the kernel it must hold."""
    pair = (grid, grid) if isinstance(grid, int) else tuple(grid)
    if len(pair) != 2 or any(not isinstance(g, int) or g < 1 for g in pair):
        raise ConfigError(f"grid {grid!r} is not a positive integer; use e.g. --grid 32")
    if pair[0] < kernel_size[0] or pair[1] < kernel_size[1]:
        raise ConfigError(
            f"grid {pair[0]}x{pair[1]} is smaller than a {kernel_size[0]}x{kernel_size[1]} kernel; "
            f"use --grid {max(32, *kernel_size)} or more"
        )
    return int(pair[0]), int(pair[1])


def check_cutoff(cutoff: float) -> float:
    """The cutoff as a float; raises ConfigError unless 0 < cutoff < sqrt(2)/2 (the grid's corner radius)."""
    if not (isinstance(cutoff, (int, float)) and 0 < cutoff < math.sqrt(0.5)):
        raise ConfigError(f"cutoff {cutoff!r} must lie in (0, 0.707) cycles/pixel; the default is {DEFAULT_CUTOFF}")
    return float(cutoff)


def kernel_responses(weight: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID) -> torch.Tensor:
    """Frequency response K(f) of every kernel: weight (O, I, kh, kw) real -> complex (O, I, G_h, G_w), fftfreq order.

    One ``fft2`` call for the whole layer; taps sit at the grid's top-left corner (the position only changes the
    phase, never |K|).
    """
    _check_weight(weight)
    grid_h, grid_w = grid_pair(grid, tuple(weight.shape[-2:]))
    return torch.fft.fft2(weight, s=(grid_h, grid_w))


def kernel_power_spectra(
    weight: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID, normalize: bool = True
) -> torch.Tensor:
    """P(f) = |K(f)|^2 of every kernel: (O, I, kh, kw) -> (O, I, G_h, G_w); with ``normalize`` each grid sums to 1
    (zero kernels stay all zero)."""
    power = kernel_responses(weight, grid).abs().square()
    if not normalize:
        return power
    total = power.sum(dim=(-2, -1), keepdim=True)
    return power / torch.where(total > 0, total, torch.ones_like(total))


def statistics_of_power(
    power: torch.Tensor, cutoff: float = DEFAULT_CUTOFF, stride: int | tuple[int, int] = 1
) -> KernelStatistics:
    """The per-kernel statistics from explicit power grids (..., H, W), flattened to (n,): the reference definition.

    ``squared_norm`` is sum_f P(f) / (H W), which equals the kernel's sum of squared taps (Parseval).
    """
    cutoff = check_cutoff(cutoff)
    height, width = power.shape[-2:]
    power = power.reshape(-1, height, width).to(torch.float64)
    total = power.sum(dim=(-2, -1))
    nonzero = total > 0
    nan = torch.full_like(total, float("nan"))
    weights = _frequency_weightings(height, width, cutoff)
    sums = {name: (power * grid.to(power.device)).sum(dim=(-2, -1)) for name, grid in weights.items()}
    centroid = torch.where(nonzero, spectral_centroid_of_power(power), nan)
    orientation_, coherence = _orientation_from_sums(sums["cos2phi"], sums["sin2phi"], sums["oriented"], total)
    stride_pair = as_stride_pair(stride)
    return KernelStatistics(
        squared_norm=total / (height * width),
        spectral_centroid=centroid,
        high_frequency_ratio=torch.where(nonzero, sums["above_cutoff"] / torch.where(nonzero, total, 1.0), nan),
        orientation=orientation_,
        orientation_coherence=coherence,
        aliasing_share=None if stride_pair == (1, 1) else aliasing_share_of_power(power, stride_pair),
    )


def kernel_statistics(
    weight: torch.Tensor,
    grid: int | tuple[int, int] = DEFAULT_GRID,
    cutoff: float = DEFAULT_CUTOFF,
    stride: int | tuple[int, int] = 1,
) -> KernelStatistics:
    """The per-kernel statistics of one layer in closed form: weight (O, I, kh, kw) -> :class:`KernelStatistics`.

    Equal (to rounding) to ``statistics_of_power(kernel_power_spectra(weight, grid), cutoff, stride)`` without
    forming any (G, G) grid: each statistic is sum_d r(d) c_g(d) / (G_h G_w r(0)) over the kernel's autocorrelation
    lags (see :func:`kernel_autocorrelation`). Computed in the weight's floating dtype (float32 for trained nets:
    every numerator but the orientation's is a sum of non-negative powers, so nothing cancels).
    """
    _check_weight(weight)
    grid_pair(grid, tuple(weight.shape[-2:]))
    return statistics_from_autocorrelation(*kernel_autocorrelation(weight), grid, cutoff, stride)


def statistics_from_autocorrelation(
    lags: list[tuple[int, int]],
    correlation: torch.Tensor,
    grid: int | tuple[int, int] = DEFAULT_GRID,
    cutoff: float = DEFAULT_CUTOFF,
    stride: int | tuple[int, int] = 1,
) -> KernelStatistics:
    """:func:`kernel_statistics` from the output of :func:`kernel_autocorrelation` (lags, r (n, L))."""
    cutoff = check_cutoff(cutoff)
    grid_h, grid_w = (grid, grid) if isinstance(grid, int) else grid
    stride_pair = as_stride_pair(stride)
    weightings = _frequency_weightings(grid_h, grid_w, cutoff)
    if stride_pair != (1, 1):
        weightings["aliased"] = alias_mask(grid_h, grid_w, stride_pair).to(torch.float64)
    names = list(weightings)
    coefficients = lag_coefficients(torch.stack([weightings[name] for name in names]), lags)
    coefficients = coefficients.to(device=correlation.device, dtype=correlation.dtype)
    sums = dict(zip(names, (correlation @ coefficients.T).to(torch.float64).unbind(dim=1)))

    squared_norm = correlation[:, 0].to(torch.float64)  # r(0)
    total = squared_norm * (grid_h * grid_w)  # Parseval: sum_f P(f) = G_h G_w r(0)
    nonzero = squared_norm > 0
    safe_total = torch.where(nonzero, total, torch.ones_like(total))
    nan = torch.full_like(total, float("nan"))
    orientation_, coherence = _orientation_from_sums(sums["cos2phi"], sums["sin2phi"], sums["oriented"], total)
    aliased = sums.get("aliased")
    return KernelStatistics(
        squared_norm=squared_norm,
        spectral_centroid=torch.where(nonzero, sums["radius"] / safe_total, nan),
        high_frequency_ratio=torch.where(nonzero, sums["above_cutoff"] / safe_total, nan),
        orientation=orientation_,
        orientation_coherence=coherence,
        aliasing_share=None if aliased is None else torch.where(nonzero, aliased / safe_total, nan),
    )


def kernel_autocorrelation(weight: torch.Tensor) -> tuple[list[tuple[int, int]], torch.Tensor]:
    """Autocorrelation r(d) = sum_x w[x] w[x + d] of every kernel at the lags of one half-plane.

    weight (O, I, kh, kw) -> (lags, r) with lags [(0, 0), ...] the L = ((2kh-1)(2kw-1) + 1) / 2 lags with d_y > 0 or
    d_y == 0, d_x >= 0 (13 for 3x3; r(-d) = r(d) gives the rest) and r (O*I, L) in the weight's floating dtype.
    By Wiener-Khinchin, P(f) = sum_d r(d) exp(-2 pi i f . d) on any grid at least as large as the kernel.
    """
    _check_weight(weight)
    kh, kw = weight.shape[-2:]
    taps = weight.detach().reshape(-1, kh, kw)
    if not taps.is_floating_point():
        taps = taps.to(torch.float32)
    lags = [(0, 0)] + [(0, dx) for dx in range(1, kw)]
    lags += [(dy, dx) for dy in range(1, kh) for dx in range(-kw + 1, kw)]
    columns = []
    for dy, dx in lags:
        # Overlap of the kernel with itself shifted by (dy, dx): rows y and y + dy, columns x and x + dx.
        head = taps[:, : kh - dy, max(0, -dx) : kw - max(0, dx)]
        tail = taps[:, dy:, max(0, dx) : kw - max(0, -dx)]
        columns.append((head * tail).sum(dim=(1, 2)))
    return lags, torch.stack(columns, dim=1)


def lag_coefficients(weightings: torch.Tensor, lags: list[tuple[int, int]]) -> torch.Tensor:
    """c_g(d) with sum_f g(f) P(f) = sum_{half-plane d} r(d) c_g(d): weightings (S, H, W) -> float64 (S, L).

    c_g(d) = Re G(d) for d = 0 and 2 Re G(d) otherwise, with G(d) = sum_f g(f) exp(-2 pi i f . d) the DFT of g read
    at d mod (H, W): real g makes G(-d) the conjugate of G(d), so each lag and its mirror add up to twice the real part.
    """
    height, width = weightings.shape[-2:]
    transform = torch.fft.fft2(weightings.to(torch.float64)).real
    rows = torch.tensor([dy % height for dy, _ in lags])
    cols = torch.tensor([dx % width for _, dx in lags])
    mirror_factor = torch.tensor([1.0 if lag == (0, 0) else 2.0 for lag in lags], dtype=torch.float64)
    return transform[:, rows, cols] * mirror_factor


def mean_normalized_power(weight: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID) -> torch.Tensor:
    """Mean over the non-zero kernels of the normalized power p(f): (O, I, kh, kw) -> float64 (G_h, G_w), sums to 1.

    Closed form: the mean of r(d) / r(0) over kernels, placed on the grid at d mod (G_h, G_w) together with its
    mirror -d, is the autocorrelation of the mean p; one FFT of that single grid gives p. NaN for a layer of zeros.
    """
    _check_weight(weight)
    grid_pair(grid, tuple(weight.shape[-2:]))
    return mean_power_from_autocorrelation(*kernel_autocorrelation(weight), grid)


def mean_power_from_autocorrelation(
    lags: list[tuple[int, int]], correlation: torch.Tensor, grid: int | tuple[int, int] = DEFAULT_GRID
) -> torch.Tensor:
    """:func:`mean_normalized_power` from the output of :func:`kernel_autocorrelation` (lags, r (n, L))."""
    grid_h, grid_w = (grid, grid) if isinstance(grid, int) else grid
    nonzero = correlation[:, 0] > 0
    if not nonzero.any():
        return torch.full((grid_h, grid_w), float("nan"), dtype=torch.float64)
    kept = correlation[nonzero]
    mean = (kept / kept[:, :1]).mean(dim=0, dtype=torch.float64)
    lag_grid = torch.zeros(grid_h, grid_w, dtype=torch.float64)
    for (dy, dx), value in zip(lags, mean.tolist()):
        lag_grid[dy % grid_h, dx % grid_w] = value
        lag_grid[-dy % grid_h, -dx % grid_w] = value
    return torch.fft.fft2(lag_grid).real / (grid_h * grid_w)


def _frequency_weightings(height: int, width: int, cutoff: float) -> dict[str, torch.Tensor]:
    """The grids g(f) whose P-weighted sums give the statistics: float64 (H, W) each, fftfreq order."""
    radius = radial_frequency(height, width, dtype=torch.float64)
    doubled = 2.0 * orientation(height, width, dtype=torch.float64)
    fy, fx = frequency_axes(height, width, dtype=torch.float64)
    # DC has no orientation. The Nyquist row and column of an even grid have no mirror partner and would break the
    # grid's symmetry under 90-degree rotation, giving a flat spectrum a spurious orientation: they are left out too.
    oriented = ((radius > 0) & (fy.abs() < 0.5) & (fx.abs() < 0.5)).to(torch.float64)
    return {
        "radius": radius,
        "above_cutoff": (radius > cutoff).to(torch.float64),
        "oriented": oriented,
        "cos2phi": torch.cos(doubled) * oriented,
        "sin2phi": torch.sin(doubled) * oriented,
    }


def _orientation_from_sums(
    cos_sum: torch.Tensor, sin_sum: torch.Tensor, oriented_energy: torch.Tensor, total: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Axial mean angle in [0, pi) and coherence in [0, 1] from doubled-angle sums; NaN when less than
    ``ORIENTED_ENERGY_FLOOR`` of the total energy lies at oriented frequencies (zero kernels, kernels as wide as the
    grid that are constant), where float32 rounding would decide the angle."""
    resultant = torch.hypot(cos_sum, sin_sum)
    has_energy = oriented_energy > ORIENTED_ENERGY_FLOOR * total
    nan = torch.full_like(resultant, float("nan"))
    angle = torch.remainder(0.5 * torch.atan2(sin_sum, cos_sum), math.pi)
    coherence = resultant / torch.where(has_energy, oriented_energy, torch.ones_like(oriented_energy))
    return torch.where(has_energy, angle, nan), torch.where(has_energy, coherence.clamp(max=1.0), nan)


def _check_weight(weight: torch.Tensor) -> None:
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4 or weight.is_complex():
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ConfigError(f"a Conv2d weight must be a real (out, in, kh, kw) tensor, got {shape}")


# ----------------------------------------------------------------------------------------------------------------
# Whole models: one summary per convolution, as written to filters.json by ``freqprobe filters``.
# ----------------------------------------------------------------------------------------------------------------

HISTOGRAM_BINS = 40
ORIENTATION_BINS = 36  # 5 degrees each
SINGULAR_VALUE_PROFILE_POINTS = 101

DEFINITIONS = {
    "frequency": "cycles/pixel on the full zero-padded grid x grid FFT grid (fftfreq order), |f| up to ~0.707",
    "normalized_power": "p(f) = |K(f)|^2 / sum_f |K(f)|^2 of each (output, input) kernel zero-padded to the grid",
    "spectral_centroid": "sum_f |f| p(f), DC included (the dataset-spectra definition); mean/std over the non-zero "
    "kernels (all-zero kernels are counted in zero_kernels and left out of every statistic)",
    "high_frequency_ratio": "sum of p(f) over |f| > cutoff (energy above the cutoff / total); mean over kernels",
    "orientation": "energy-weighted axial mean of the frequency angle phi = atan2(f_y, f_x) mod pi (doubled-angle "
    "mean) over f other than DC and the unpaired Nyquist row/column; 0 = horizontal frequency (vertical edges); "
    "histogram weighted by orientation_coherence",
    "orientation_coherence": "|sum P exp(2i phi)| / sum P over the same f: 0 isotropic, 1 one orientation",
    "radial_profile": "mean over kernels of p(f), averaged over annuli of |f| (freqprobe.spectra.radial_profile)",
    "singular_values": "of the layer as a circular convolution on its traced input size, stride included "
    "(Sedghi et al. 2019, exact via the kernel DFT); spectral_norm is the largest",
    "sparsity": "share of kernels whose taps are all below 1% of the layer's max |tap| (Gavrikov & Keuper 2022)",
    "variance_entropy": "-sum p_j log10 p_j of the variance shares p_j = s_j^2 / sum s^2 of the singular values of "
    "the centred (kernels, kh*kw) tap matrix; _normalized divides by log10(kh*kw)",
    "orthogonality": "1 - mean |cosine| between distinct output filters flattened over input channels and taps",
    "aliasing_share": "strided layers: energy of all kernels at frequencies above the new Nyquist limit "
    "(|f_y| > 0.5/s_y or |f_x| > 0.5/s_x) / their total energy, i.e. the share that folds back for a white input",
    "comparison": "per layer, 1-Wasserstein distance between the two models' per-kernel distributions",
}


def analyze_kernels(
    model_or_source: SourceLike,
    grid: int = DEFAULT_GRID,
    cutoff: float = DEFAULT_CUTOFF,
    input_size: int | None = None,
    *,
    model_name: str | None = None,
    in_channels: int | None = None,
    num_classes: int | None = None,
    compare: SourceLike | None = None,
    singular_values: bool = True,
) -> dict:
    """Kernel frequency responses of every convolution of a model: the content of ``filters.json``.

    ``model_or_source``: an nn.Module, a run folder, a weights file (with ``model_name`` and ``in_channels``) or a
    :class:`~freqprobe.analysis.model_source.ModelSource`. ``input_size`` is the side of the square dummy input whose
    forward pass gives each layer's input size for the singular values (default: 28 for fashion-mnist runs, else 32).
    ``compare``: a second model (same kinds, same options) whose per-layer kernel distributions are compared.
    ``singular_values=False`` skips the exact singular values (``spectral_norm`` is then None): for ResNet-18 they
    cost several times more than everything else together (see :mod:`freqprobe.analysis.singular`).

    Returns a JSON-ready dict: top-level metadata (source, model, grid, cutoff, input size, definitions, timings),
    ``layers`` (one summary per convolution, see :func:`summarize_layer`) and, with ``compare``, ``comparison``.
    """
    cutoff = check_cutoff(cutoff)
    started = time.perf_counter()
    source = load_model_source(model_or_source, model_name, in_channels, num_classes)
    layers, timings = _analyze_model(source, grid, cutoff, input_size, singular_values)
    result = {
        "source": source.description,
        "model": source.model_name or type(source.model).__name__,
        "dataset": source.dataset,
        "in_channels": source.in_channels,
        "input_size": input_size or source.input_size,
        "grid": grid,
        "cutoff": cutoff,
        "definitions": dict(DEFINITIONS),
        "totals": {
            "conv_layers": len(layers),
            "kernels": sum(layer["kernels"] for layer in layers),
            "conv_parameters": sum(layer["parameters"] for layer in layers),
        },
        "seconds": {**timings, "total": time.perf_counter() - started},
        "layers": layers,
    }
    if compare is not None:
        other = load_model_source(compare, model_name, in_channels, num_classes)
        result["comparison"] = compare_kernels(source.model, other.model, grid, cutoff)
        result["comparison"]["source"] = other.description
        result["seconds"]["total"] = time.perf_counter() - started
    return result


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
    profile), singular values on ``input_size`` (None without an input size, i.e. the layer was not reached, or with
    ``singular_values=False``), filter quality, aliasing.

    ``timings``, if given, accumulates seconds per part ("kernel_statistics", "singular_values", "filter_quality").
    """
    timings = timings if timings is not None else {}
    weight = _analysis_weight(module)
    stride = as_stride_pair(module.stride)
    grid_pair(grid, tuple(weight.shape[-2:]))
    clock = time.perf_counter()
    lags, correlation = kernel_autocorrelation(weight)
    stats = statistics_from_autocorrelation(lags, correlation, grid, cutoff, stride)
    radii, profile = radial_profile(mean_power_from_autocorrelation(lags, correlation, grid))
    clock = _add_time(timings, "kernel_statistics", clock)
    singular = _singular_value_summary(module, weight, input_size, stride) if singular_values else None
    clock = _add_time(timings, "singular_values", clock)
    quality = filter_quality(weight)
    _add_time(timings, "filter_quality", clock)
    nonzero = stats.nonzero
    centroid, high = stats.spectral_centroid[nonzero], stats.high_frequency_ratio[nonzero]
    return {
        "name": name,
        "type": type(module).__name__,
        "shape": list(weight.shape),
        "kernel_size": list(weight.shape[-2:]),
        "stride": list(stride),
        "dilation": list(as_stride_pair(module.dilation)),
        "groups": int(module.groups),
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
        "radial_profile": {"radii": radii.tolist(), "power": profile.tolist()},
        "histograms": _histograms(stats, grid),
    }


def kernel_statistics_by_layer(
    model: torch.nn.Module, grid: int = DEFAULT_GRID, cutoff: float = DEFAULT_CUTOFF
) -> dict[str, KernelStatistics]:
    """{layer name: :class:`KernelStatistics`} for every convolution of ``model``."""
    return {
        name: kernel_statistics(_analysis_weight(module), grid, cutoff, as_stride_pair(module.stride))
        for name, module in conv_layers(model)
    }


def compare_kernels(
    model_a: torch.nn.Module, model_b: torch.nn.Module, grid: int = DEFAULT_GRID, cutoff: float = DEFAULT_CUTOFF
) -> dict:
    """Per-layer distances between two models' kernel distributions, layers matched by name and kernel size.

    For each matched layer: 1-Wasserstein distances of the per-kernel spectral centroid (cycles/pixel) and
    high-frequency ratio, the differences of their means (b - a), and model b's per-kernel histograms (counts on the
    edges of the layer summaries). Layers in only one model, or without non-zero kernels, are listed as unmatched.
    """
    stats_a = kernel_statistics_by_layer(model_a, grid, cutoff)
    stats_b = kernel_statistics_by_layer(model_b, grid, cutoff)
    layers, unmatched = [], sorted(set(stats_a) ^ set(stats_b))
    for name, a in stats_a.items():
        b = stats_b.get(name)
        if b is None:
            continue
        if not (a.nonzero.any() and b.nonzero.any()):
            unmatched.append(name)
            continue
        entry = {"name": name}
        for key in ("spectral_centroid", "high_frequency_ratio"):
            values_a, values_b = getattr(a, key)[a.nonzero], getattr(b, key)[b.nonzero]
            entry[f"{key}_wasserstein"] = wasserstein_1d(values_a, values_b)
            entry[f"{key}_mean_difference"] = float(values_b.mean() - values_a.mean())
        # Model b's histograms on the same edges as model a's, so figures can overlay them.
        entry.update({f"{key}_histogram": value["counts"] for key, value in _histograms(b, grid).items()})
        layers.append(entry)
    return {"measure": "1-Wasserstein distance per layer", "layers": layers, "unmatched_layers": unmatched}


def _analyze_model(
    source: ModelSource, grid: int, cutoff: float, input_size: int | None, singular_values: bool
) -> tuple[list[dict], dict[str, float]]:
    layers = conv_layers(source.model)
    if not layers:
        raise ConfigError(f"{source.description} has no Conv2d layer; nothing to analyse")
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    size = input_size or source.input_size
    sizes = trace_conv_input_sizes(source.model, source.in_channels, size, source.description)
    _add_time(timings, "trace", clock)
    summaries = [
        summarize_layer(name, module, grid, cutoff, sizes.get(name), singular_values, timings)
        for name, module in layers
    ]
    return summaries, timings


def _singular_value_summary(
    module: torch.nn.Module, weight: torch.Tensor, input_size: tuple[int, int] | None, stride: tuple[int, int]
) -> dict | None:
    """Count, max, min, median and a profile at evenly spaced ranks (largest first) of the layer's singular values."""
    if input_size is None:
        return None
    exact_stride = stride if input_size[0] % stride[0] == 0 and input_size[1] % stride[1] == 0 else (1, 1)
    values = conv_singular_values(weight, input_size, exact_stride, module.dilation, int(module.groups))
    ranks = torch.linspace(0, values.numel() - 1, SINGULAR_VALUE_PROFILE_POINTS).round().long()
    return {
        "operator": f"circular convolution on {input_size[0]}x{input_size[1]} inputs, stride "
        f"{exact_stride[0]}x{exact_stride[1]}" + ("" if exact_stride == stride else " (input not divisible by stride)"),
        "count": int(values.numel()),
        "max": float(values[0]),
        "min": float(values[-1]),
        "median": float(values.median()),
        "profile": values[ranks].tolist(),
    }


def _analysis_weight(module: torch.nn.Module) -> torch.Tensor:
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


def _histograms(stats: KernelStatistics, grid: int | tuple[int, int]) -> dict:
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


def _add_time(timings: dict[str, float], key: str, since: float) -> float:
    now = time.perf_counter()
    timings[key] = timings.get(key, 0.0) + now - since
    return now


class KernelStatsCallback:
    """Per-layer kernel statistics after every epoch of training, to watch filters move.

    ``freqprobe train --track-kernels`` calls ``callback(0, model)`` before the first epoch of a fresh run and
    ``callback(epoch, model)`` after each completed epoch with the (unwrapped) model; each
    call appends ``{"epoch": epoch, "layers": [...]}`` to :attr:`history` and, with ``path``, one JSON line to that
    file (``freqprobe.io.append_jsonl``: a killed run loses at most the line being written). Each layer entry holds
    the scalar fields of :func:`summarize_layer` (spectral centroid mean/std, high-frequency ratio, filter quality,
    aliasing share); histograms, radial profiles and, unless ``singular_values``, singular values are left out to
    keep the per-epoch cost at a few hundred milliseconds even for ResNet-18.
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        grid: int = DEFAULT_GRID,
        cutoff: float = DEFAULT_CUTOFF,
        singular_values: bool = False,
        input_size: int = 32,
    ):
        self.path = path
        self.grid = grid
        self.cutoff = check_cutoff(cutoff)
        self.singular_values = singular_values
        self.input_size = input_size
        self.history: list[dict] = []

    def __call__(self, epoch: int, model: torch.nn.Module) -> dict:
        sizes: dict[str, tuple[int, int]] = {}
        if self.singular_values:
            source = load_model_source(model)
            sizes = trace_conv_input_sizes(model, source.in_channels, self.input_size, source.description)
        layers = []
        for name, module in conv_layers(model):
            summary = summarize_layer(name, module, self.grid, self.cutoff, sizes.get(name), self.singular_values)
            layers.append({key: value for key, value in summary.items() if key not in _BULKY_FIELDS})
        record = {"epoch": int(epoch), "layers": layers}
        self.history.append(record)
        if self.path is not None:
            append_jsonl(self.path, record)
        return record


_BULKY_FIELDS = ("histograms", "radial_profile", "singular_values")
