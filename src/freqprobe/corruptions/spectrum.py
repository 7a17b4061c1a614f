"""What a corruption changes in frequency: the power spectrum of (corrupted - clean) on the same images, its spectral
centroid (freqprobe's definition, :func:`freqprobe.spectra.spectral_centroid_of_power`, DC included), the share of
its energy in three radial bands, and the frequency group it falls in.

Bands (cycles/pixel, exact rings of :func:`freqprobe.fourier.radial_band_mask`), the same as compare's heat-map
columns: low |f| < 1/8, mid 1/8 <= |f| < 1/4, high |f| >= 1/4 (up to the corner 0.707). A corruption's group is the
band its centroid falls in.

Yin et al. 2019 tie corruptions to the Fourier heat map: a model errs under a corruption as it errs under the
frequencies the corruption puts its energy into. :func:`predicted_error` is that link made a number: the heat map's
error averaged over frequencies, weighted by the perturbation's power there (only where the heat map was evaluated).
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch

from freqprobe.fourier import radial_band_mask
from freqprobe.spectra import power_spectrum, spectral_centroid_of_power

BANDS: dict[str, tuple[Fraction, Fraction | None]] = {
    "low": (Fraction(0), Fraction(1, 8)),
    "mid": (Fraction(1, 8), Fraction(1, 4)),
    "high": (Fraction(1, 4), None),
}
BAND_TEXT = "low |f| < 1/8, mid 1/8 <= |f| < 1/4, high |f| >= 1/4 cycles/pixel (exact rings, DC in low)"


class PerturbationSpectrum:
    """Accumulates the mean power spectrum (H, W), float64, fftfreq order, of perturbations over batches."""

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None
        self.count = 0

    def add(self, clean: torch.Tensor, corrupted: torch.Tensor) -> None:
        """Add the perturbations ``corrupted - clean`` (N, C, H, W): power per image, averaged over channels."""
        power = power_spectrum((corrupted - clean).to(torch.float64)).mean(dim=1).sum(dim=0).cpu()
        self.total = power if self.total is None else self.total + power
        self.count += len(clean)

    def mean_power(self) -> torch.Tensor:
        if self.total is None:
            raise ValueError("no perturbations added")
        return self.total / self.count


def band_shares(power: torch.Tensor) -> dict[str, float | None]:
    """Share of the total power of an (H, W) grid in each of :data:`BANDS`; None each when the power is zero.

    Example:
        >>> power = torch.zeros(8, 8, dtype=torch.float64); power[0, 2] = 1.0   # |f| = 0.25: high
        >>> band_shares(power)
        {'low': 0.0, 'mid': 0.0, 'high': 1.0}
    """
    height, width = power.shape[-2:]
    total = float(power.sum())
    if total <= 0:
        return {name: None for name in BANDS}
    return {
        name: float(power[radial_band_mask(height, width, low, high)].sum()) / total
        for name, (low, high) in BANDS.items()
    }


def frequency_group(centroid: float | None) -> str | None:
    """The band (``low``/``mid``/``high``) holding ``centroid`` (cycles/pixel); None for no centroid.

    >>> frequency_group(0.1), frequency_group(0.125), frequency_group(0.3)
    ('low', 'mid', 'high')
    """
    if centroid is None or not math.isfinite(centroid):
        return None
    for name, (low, high) in BANDS.items():
        if centroid >= low and (high is None or centroid < high):
            return name
    return None


def summarize(power: torch.Tensor) -> dict:
    """Centroid, band shares, group and total power of a mean perturbation power grid (H, W)."""
    total = float(power.sum())
    centroid = float(spectral_centroid_of_power(power)) if total > 0 else None
    return {
        "spectral_centroid": centroid,
        "band_shares": band_shares(power),
        "group": frequency_group(centroid),
        "mean_squared_perturbation": total / (power.shape[-2] * power.shape[-1]),
    }


def predicted_error(heat_map_error: torch.Tensor, power: torch.Tensor) -> float | None:
    """Heat-map error averaged over frequencies with the perturbation's power as weights (evaluated cells only).

    Args:
        heat_map_error: (H, W) error rates, fftfreq order, NaN where not evaluated.
        power: (H, W) mean perturbation power, same grid.

    Returns:
        The weighted mean error, or None when the perturbation has no power on evaluated cells.

    Example:
        >>> heat = torch.tensor([[0.1, 0.5], [0.5, float("nan")]], dtype=torch.float64)
        >>> round(predicted_error(heat, torch.tensor([[1.0, 1.0], [0.0, 5.0]], dtype=torch.float64)), 6)
        0.3
    """
    if heat_map_error.shape != power.shape:
        raise ValueError(f"heat map {tuple(heat_map_error.shape)} and spectrum {tuple(power.shape)} differ in size")
    evaluated = torch.isfinite(heat_map_error)
    weights = torch.where(evaluated, power.to(torch.float64), torch.zeros_like(power, dtype=torch.float64))
    total = float(weights.sum())
    if total <= 0:
        return None
    return float((weights * torch.nan_to_num(heat_map_error.to(torch.float64))).sum()) / total
