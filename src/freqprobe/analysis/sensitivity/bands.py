"""Band ablation (Wang et al. 2020, "High-frequency component helps explain the generalization of CNNs").

Test images are low-passed (keep |f| < r) or high-passed (keep |f| >= r) with ideal radial masks of radius r in
cycles/pixel, and the accuracy of the model on them is recorded over r. The two masks are complementary: the
low-passed and high-passed image of one radius add up to the original. At r = 0 the low-pass removes everything
(the image becomes 0) and the high-pass keeps everything; beyond the grid's corner (~0.707) it is the other way round.
The ablated images are not clamped (clamping would put back frequencies the mask removed); a high-passed image has
zero mean and negative values, as in the paper.

Ring membership is exact (:func:`freqprobe.fourier.radial_band_mask`): a frequency exactly on the radius, such as
(3, 4)/28 on r = 5/28, is high-passed. Radii are exact rationals (the defaults k/S); the JSON gives them as floats and
as exact strings ("5/28").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import torch
from torch import nn

from freqprobe.analysis.sensitivity.pipeline import (
    InferenceSettings,
    accuracy,
    build_pipeline,
    check_images_and_labels,
    predict,
)
from freqprobe.errors import ConfigError
from freqprobe.fourier import exact_radius, radial_band_mask


@dataclass
class BandAblation:
    """Accuracy over the radius r (cycles/pixel) of ideal low-pass (|f| < r) and high-pass (|f| >= r) masks."""

    radii: list[float]  # the floats nearest to ``exact_radii``
    low_pass_accuracy: list[float]
    high_pass_accuracy: list[float]
    clean_accuracy: float
    n_images: int
    settings: dict = field(default_factory=dict)
    exact_radii: list[str] = field(default_factory=list)  # e.g. "5/28", what the masks used

    def to_dict(self) -> dict:
        return {
            "radii": self.radii,
            "radii_exact": self.exact_radii,
            "low_pass_accuracy": self.low_pass_accuracy,
            "high_pass_accuracy": self.high_pass_accuracy,
            "clean_accuracy": self.clean_accuracy,
            "n_images": self.n_images,
            "masks": "ideal radial: low-pass keeps |f| < r, high-pass keeps |f| >= r (cycles/pixel); not clamped",
            **self.settings,
        }


def default_radii(height: int, width: int) -> list[Fraction]:
    """0, 1/S, 2/S, ... (S = min(H, W)), exact, up to the first radius beyond the grid's corner sqrt(1/2).

    >>> [str(r) for r in default_radii(28, 28)[4:7]], len(default_radii(28, 28))
    (['1/7', '5/28', '3/14'], 21)
    """
    size = min(height, width)
    # k/S > sqrt(1/2)  <=>  2 k^2 > S^2: the first such k is the last radius
    last = next(k for k in range(size + 1) if 2 * k * k > size * size)
    return [Fraction(k, size) for k in range(last + 1)]


def low_pass_mask(height: int, width: int, radius: Fraction | float | str, device=None) -> torch.Tensor:
    """Boolean (H, W // 2 + 1) mask on the ``rfft2`` grid: True where |f| < radius (cycles/pixel), decided exactly.

    ``radius`` is read by :func:`freqprobe.fourier.exact_radius` (a float stands for the simplest rational that
    rounds to it, e.g. 5 / 28 for 5/28). Raises ConfigError for a radius that is not a finite number >= 0.
    """
    return radial_band_mask(height, width, 0, radius, onesided=True, device=device)


def low_pass(x: torch.Tensor, radius: Fraction | float | str) -> torch.Tensor:
    """Keep the frequencies |f| < radius of float images (..., H, W); same shape and dtype."""
    return _apply_rfft_mask(x, low_pass_mask(*x.shape[-2:], radius, device=x.device))


def high_pass(x: torch.Tensor, radius: Fraction | float | str) -> torch.Tensor:
    """Keep the frequencies |f| >= radius of float images (..., H, W); same shape and dtype."""
    return _apply_rfft_mask(x, ~low_pass_mask(*x.shape[-2:], radius, device=x.device))


def band_ablation(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    input_filter: nn.Module | None = None,
    radii: list[Fraction | float | str] | None = None,
    settings: InferenceSettings | None = None,
) -> BandAblation:
    """Accuracy of ``input_filter -> model`` on low- and high-passed ``images`` at each radius.

    Args:
        images: float pixel images (N, C, H, W) in [0, 1]; labels: int64 (N,).
        radii: cycles/pixel, >= 0, exact rationals (Fraction, "5/28") or floats read as the simplest rational
            that rounds to them (default :func:`default_radii`).

    Raises:
        ConfigError: bad images, labels or radii.
    """
    check_images_and_labels(images, labels)
    settings = settings or InferenceSettings()
    height, width = images.shape[-2:]
    radii = _checked_radii(default_radii(height, width) if radii is None else radii)
    pipeline = build_pipeline(model, input_filter, settings)
    low_correct = torch.zeros(len(radii), dtype=torch.float64)
    high_correct = torch.zeros(len(radii), dtype=torch.float64)
    for start in range(0, len(images), settings.batch_size):
        batch = images[start : start + settings.batch_size].float()
        batch_labels = labels[start : start + settings.batch_size].cpu()
        # one forward FFT per batch serves every radius
        spectrum = torch.fft.rfft2(batch)
        for index, radius in enumerate(radii):
            keep_low = low_pass_mask(height, width, radius, batch.device).to(spectrum.dtype)
            low = torch.fft.irfft2(spectrum * keep_low, s=(height, width))
            low_correct[index] += _count_correct(pipeline, low, batch_labels, settings.batch_size)
            # the complement, computed from the same spectrum so low + high == batch up to rounding
            high = torch.fft.irfft2(spectrum * (1 - keep_low), s=(height, width))
            high_correct[index] += _count_correct(pipeline, high, batch_labels, settings.batch_size)
    count = len(images)
    return BandAblation(
        radii=[float(radius) for radius in radii],
        low_pass_accuracy=(low_correct / count).tolist(),
        high_pass_accuracy=(high_correct / count).tolist(),
        clean_accuracy=accuracy(pipeline, images, labels, settings.batch_size),
        n_images=count,
        settings=settings.describe(),
        exact_radii=[str(radius) for radius in radii],
    )


def _count_correct(pipeline: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> float:
    return float((predict(pipeline, images, batch_size) == labels).sum())


def _apply_rfft_mask(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim < 2:
        raise ConfigError("band masks need float images (..., H, W); convert uint8 with freqprobe.data.to_float")
    work = x.float() if x.dtype not in (torch.float32, torch.float64) else x
    spectrum = torch.fft.rfft2(work) * mask.to(work.dtype)
    return torch.fft.irfft2(spectrum, s=tuple(x.shape[-2:])).to(x.dtype)


def _checked_radii(radii: list[Fraction | float | str]) -> list[Fraction]:
    message = f"band radii must be a non-empty list of finite numbers >= 0 (cycles/pixel, e.g. 0.25 or 5/28), got {radii!r}"
    if isinstance(radii, (str, bytes)) or not radii:
        raise ConfigError(message)
    try:
        return [exact_radius(radius) for radius in radii]
    except ConfigError:
        raise ConfigError(message) from None
