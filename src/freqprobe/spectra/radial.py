"""Radially averaged power and its power-law slope.

Binning: annuli of width d = 1/min(H, W) cycles/pixel centred on k d, k = 0, 1, ..., floor(min(H, W)/2), i.e. each
frequency goes to the bin of round(|f| / d). Bin 0 holds only DC. Bins stop at the Nyquist radius 0.5: the corners of
the grid (0.5 < |f| <= 0.707) are left out, because there only part of each annulus exists and the average would mix
orientations unevenly. With ``n_bins`` given, d = 0.5 / (n_bins - 1) instead; bins that no frequency falls in are
dropped.
"""

from __future__ import annotations

import math

import torch

from freqprobe.errors import ConfigError
from freqprobe.fourier import radial_frequency

NYQUIST = 0.5


def radial_bin_width(height: int, width: int, n_bins: int | None = None) -> float:
    """Width in cycles/pixel of the annuli used by :func:`radial_profile`."""
    if n_bins is None:
        return 1.0 / min(height, width)
    if n_bins < 2:
        raise ConfigError(f"n_bins={n_bins} is too small for a radial profile; use at least 2 (or leave it unset)")
    return NYQUIST / (n_bins - 1)


def radial_profile(power: torch.Tensor, n_bins: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean power per annulus of |f|.

    power: (..., H, W) in fftfreq order. Returns (radii, profile): radii (B,) bin centres in cycles/pixel, ascending,
    radii[0] == 0 (DC); profile (..., B) the mean of the power over the frequencies in each annulus.

    Stripes of 0.25 cycles/pixel on an 8x8 grid (annuli 1/8 wide) put all their power in the annulus at 0.25:

    >>> from freqprobe.spectra.power import power_spectrum
    >>> stripes = torch.tensor([1.0, 0.0, -1.0, 0.0]).repeat(8, 2).reshape(1, 1, 8, 8)
    >>> radii, profile = radial_profile(power_spectrum(stripes))
    >>> radii.tolist(), profile.shape, profile.argmax().item()
    ([0.0, 0.125, 0.25, 0.375, 0.5], torch.Size([1, 1, 5]), 2)
    """
    height, width = power.shape[-2:]
    step = radial_bin_width(height, width, n_bins)
    radius = radial_frequency(height, width, dtype=torch.float64).flatten()
    # A tiny tolerance keeps |f| exactly on a bin edge (e.g. 0.5 itself) from flickering with rounding error.
    bins = torch.floor(radius / step + 0.5 + 1e-9).long()
    n_total = int(math.floor(NYQUIST / step + 1e-9)) + 1
    inside = bins < n_total
    counts = torch.bincount(bins[inside], minlength=n_total)
    kept = counts > 0
    # Averaging as one matrix product keeps the whole batch in a single call, without a loop over bins or images.
    members = torch.zeros(height * width, n_total, dtype=power.dtype)
    members[torch.nonzero(inside).flatten(), bins[inside]] = 1.0
    sums = power.flatten(-2) @ members[:, kept].to(power.device)
    profile = sums / counts[kept].to(device=power.device, dtype=power.dtype)
    radii = (torch.arange(n_total, dtype=torch.float64) * step)[kept].to(power.dtype)
    return radii.to(power.device), profile


def power_law_slope(radii: torch.Tensor, profile: torch.Tensor) -> float:
    """Least-squares slope of log P against log |f| over the bins with 0 < |f| <= 0.5 (DC excluded).

    radii, profile: (B,). Bins with zero power are left out (their log is undefined). Natural images give about -2.
    Returns NaN when fewer than two bins remain.

    >>> radii = torch.tensor([0.0, 0.125, 0.25, 0.5])
    >>> round(power_law_slope(radii, radii.pow(-2).nan_to_num(posinf=1.0)), 6)
    -2.0
    """
    radii = torch.as_tensor(radii, dtype=torch.float64).flatten()
    profile = torch.as_tensor(profile, dtype=torch.float64).flatten()
    if radii.shape != profile.shape:
        raise ConfigError(
            f"power_law_slope needs one power per radius, got {radii.numel()} radii and {profile.numel()} powers"
        )
    usable = (radii > 0) & (radii <= NYQUIST + 1e-9) & (profile > 0) & torch.isfinite(profile)
    if int(usable.sum()) < 2:
        return float("nan")
    log_r, log_p = radii[usable].log(), profile[usable].log()
    log_r_centred = log_r - log_r.mean()
    return float((log_r_centred * (log_p - log_p.mean())).sum() / log_r_centred.square().sum())
