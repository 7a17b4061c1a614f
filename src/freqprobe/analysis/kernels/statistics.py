"""Per-kernel spectral statistics, computed on the normalized power p(f) (so the kernel's scale does not matter).

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

Each statistic is linear in the power, and the power is the DFT of the kernel's autocorrelation (Wiener-Khinchin,
see :mod:`freqprobe.analysis.kernels.responses`), so sum_f g(f) P(f) = sum_d r(d) G(d) with G the DFT of the
weighting g. :func:`kernel_statistics` therefore needs only the 13 autocorrelation lags of a 3x3 kernel (one
half-plane; r is symmetric) and one small matrix product per layer: ResNet-18's 1.4 M kernels need no FFT at all.
:func:`~freqprobe.analysis.kernels.responses.kernel_power_spectra` gives the explicit grids (one batched FFT per
layer) and :func:`statistics_of_power` the same statistics from them: the reference the closed forms are tested
against.

A kernel of zeros has no spectrum: its statistics are NaN and layers count it in ``zero_kernels``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from freqprobe.analysis.aliasing import alias_mask, aliasing_share_of_power, as_stride_pair
from freqprobe.analysis.kernels.responses import (
    DEFAULT_GRID,
    check_dilation,
    check_weight,
    dilated_lags,
    dilated_size,
    grid_pair,
    kernel_autocorrelation,
    lag_coefficients,
)
from freqprobe.errors import ConfigError
from freqprobe.fourier import frequency_axes, orientation, radial_frequency
from freqprobe.spectra import spectral_centroid_of_power

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


def check_cutoff(cutoff: float) -> float:
    """The cutoff as a float; raises ConfigError unless 0 < cutoff < sqrt(2)/2 (the grid's corner radius)."""
    if not (isinstance(cutoff, (int, float)) and 0 < cutoff < math.sqrt(0.5)):
        raise ConfigError(f"cutoff {cutoff!r} must lie in (0, 0.707) cycles/pixel; the default is {DEFAULT_CUTOFF}")
    return float(cutoff)


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
    dilation: int | tuple[int, int] = 1,
) -> KernelStatistics:
    """The per-kernel statistics of one layer in closed form: weight (O, I, kh, kw) -> :class:`KernelStatistics`.

    Equal (to rounding) to ``statistics_of_power(kernel_power_spectra(weight, grid, dilation=dilation), cutoff,
    stride)`` without forming any (G, G) grid: each statistic is sum_d r(d) c_g(d) / (G_h G_w r(0)) over the
    kernel's autocorrelation lags (see :func:`kernel_autocorrelation`; a dilated kernel's lags are scaled by the
    dilation). Computed in the weight's floating dtype (float32 for trained nets: every numerator but the
    orientation's is a sum of non-negative powers, so nothing cancels).
    """
    check_weight(weight)
    pair = check_dilation(dilation)
    grid_pair(grid, dilated_size(tuple(weight.shape[-2:]), pair))
    lags, correlation = kernel_autocorrelation(weight)
    return statistics_from_autocorrelation(dilated_lags(lags, pair), correlation, grid, cutoff, stride)


def statistics_from_autocorrelation(
    lags: list[tuple[int, int]],
    correlation: torch.Tensor,
    grid: int | tuple[int, int] = DEFAULT_GRID,
    cutoff: float = DEFAULT_CUTOFF,
    stride: int | tuple[int, int] = 1,
) -> KernelStatistics:
    """:func:`kernel_statistics` from the output of :func:`kernel_autocorrelation` (lags, r (n, L))."""
    if len(lags) == 1 and correlation.shape[0] > 1:
        return _flat_statistics(lags, correlation, grid, cutoff, stride)
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


def _flat_statistics(
    lags: list[tuple[int, int]],
    correlation: torch.Tensor,
    grid: int | tuple[int, int],
    cutoff: float,
    stride: int | tuple[int, int],
) -> KernelStatistics:
    """1x1 kernels (one lag): every non-zero kernel has the same flat normalized power, so each statistic is that of
    one unit kernel, broadcast -- ResNet-50's 12 M pointwise kernels then cost a few tensor copies."""
    unit = statistics_from_autocorrelation(lags, torch.ones(1, 1, dtype=correlation.dtype), grid, cutoff, stride)
    squared_norm = correlation[:, 0].to(torch.float64)
    nonzero = squared_norm > 0
    nan = torch.tensor(float("nan"), dtype=torch.float64)

    def spread(value: torch.Tensor | None) -> torch.Tensor | None:
        return None if value is None else torch.where(nonzero, value.to(torch.float64), nan)

    return KernelStatistics(
        squared_norm=squared_norm,
        spectral_centroid=spread(unit.spectral_centroid),
        high_frequency_ratio=spread(unit.high_frequency_ratio),
        orientation=spread(unit.orientation),
        orientation_coherence=spread(unit.orientation_coherence),
        aliasing_share=spread(unit.aliasing_share),
    )


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
