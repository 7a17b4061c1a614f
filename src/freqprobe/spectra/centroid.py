"""Spectral centroid: the power-weighted mean spatial frequency |f| over the full FFT grid, DC included.

    centroid(P) = sum_f |f| P(f) / sum_f P(f),   |f| in cycles/pixel (``freqprobe.fourier.radial_frequency``)

A constant image has centroid 0; a zero-mean sinusoid of frequency (fy, fx) has centroid sqrt(fy^2 + fx^2).
The same function serves images (dataset spectra) and kernels (model spectra), so both share one axis.
"""

from __future__ import annotations

import torch

from freqprobe.fourier import radial_frequency
from freqprobe.spectra.power import power_spectrum


def spectral_centroid_of_power(power: torch.Tensor) -> torch.Tensor:
    """Centroid of each (H, W) power grid in fftfreq order: power (..., H, W) -> (...) in cycles/pixel.

    A grid with zero total power (a black image, a kernel of zeros) has no defined centroid; it gets 0, the limit of
    a constant image whose value goes to zero.
    """
    height, width = power.shape[-2:]
    radius = radial_frequency(height, width, device=power.device, dtype=power.dtype).flatten()
    # One matrix product yields both sums in a single pass over the grid (much faster than two reductions).
    weights = torch.stack([radius, torch.ones_like(radius)], dim=1)           # (H W, 2)
    sums = power.reshape(*power.shape[:-2], height * width) @ weights          # (..., 2)
    weighted, total = sums[..., 0], sums[..., 1]
    safe_total = torch.where(total > 0, total, torch.ones_like(total))
    return torch.where(total > 0, weighted / safe_total, torch.zeros_like(total))


def spectral_centroid(x: torch.Tensor, window: str | None = None) -> torch.Tensor:
    """Per-image centroid: x float (N, C, H, W) -> (N,), computed per channel and then averaged over channels.

    Zero-mean stripes of 0.25 cycles/pixel have their centroid there; constant images have centroid 0:

    >>> stripes = torch.tensor([1.0, 0.0, -1.0, 0.0]).repeat(8, 2).reshape(1, 1, 8, 8)
    >>> round(spectral_centroid(stripes).item(), 6)
    0.25
    >>> spectral_centroid(torch.ones(3, 2, 8, 8))
    tensor([0., 0., 0.])
    """
    return spectral_centroid_of_power(power_spectrum(x, window=window)).mean(dim=-1)
