"""Fourier heat map (Yin et al. 2019, "A Fourier perspective on model robustness in computer vision").

For each frequency (ky, kx) of the (H, W) grid, a real Fourier basis image U of unit L2 norm whose spectrum is
non-zero only at (ky, kx) and its conjugate (-ky, -kx) is scaled to L2 norm ``eps``, given a random sign r in
{-1, +1} for each image and channel, added to every test image in pixel space and clamped to [0, 1]:

    x' = clamp(x + eps * r[n, c] * U_(ky, kx), 0, 1)

and the error rate of the model on the x' is recorded at (ky, kx). ``eps`` is the L2 norm of the perturbation in
each channel (the reference implementation's 4.0 on 32x32 images). A basis image and its conjugate are the same
image, so each conjugate pair is evaluated once and the value is written to both cells. The random signs are drawn
once from ``seed`` and shared by all frequencies (common random numbers: cells differ by frequency only), so a map
evaluated on part of the grid agrees with the full map on that part.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from freqprobe.analysis.sensitivity.pipeline import (
    InferenceSettings,
    build_pipeline,
    check_images_and_labels,
    predict,
    seeded_generator,
)
from freqprobe.errors import ConfigError
from freqprobe.fourier import frequency_axes, radial_frequency

DEFAULT_EPS = 4.0

Frequency = tuple[int, int]


@dataclass
class FourierHeatMap:
    """Error rate per frequency: ``error`` (H, W) float64 in fftfreq order (DC at [0, 0]), NaN where not evaluated."""

    error: torch.Tensor
    eps: float
    clean_error: float
    n_images: int
    evaluated_pairs: int
    seconds: float
    seed: int
    settings: dict = field(default_factory=dict)
    pair_seconds: float = math.nan  # the loop over frequency pairs alone (no clean evaluation)

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.error.shape[0]), int(self.error.shape[1])

    def to_dict(self) -> dict:
        height, width = self.image_size
        return {
            "error": _nan_to_none(self.error),
            "order": "fftfreq (DC at [0][0]); rows fy, columns fx, cycles/pixel = index / size, wrapped",
            "frequencies_y": torch.fft.fftfreq(height, dtype=torch.float64).tolist(),
            "frequencies_x": torch.fft.fftfreq(width, dtype=torch.float64).tolist(),
            "eps": self.eps,
            "eps_meaning": "L2 norm of the perturbation in each channel, pixel units (images in [0, 1])",
            "sign": "random +-1 per image and channel, drawn once from seed and shared by all frequencies",
            "clamped": True,
            "clean_error": self.clean_error,
            "mean_error": _nanmean(self.error),
            "max_error": _nanmax(self.error),
            "n_images": self.n_images,
            "evaluated_pairs": self.evaluated_pairs,
            "seconds": self.seconds,
            "cost": basis_image_cost(self.pair_seconds, self.evaluated_pairs, self.n_images),
            "seed": self.seed,
            **self.settings,
        }


def basis_image_cost(pair_seconds: float, pairs: int, n_images: int) -> dict:
    """Seconds per basis image (one frequency pair added to every test image and classified) and per perturbed
    image, from the seconds spent on ``pairs`` pairs over ``n_images`` images; null where nothing was timed."""
    timed = pairs > 0 and math.isfinite(pair_seconds)
    return {
        "pair_seconds": pair_seconds if timed else None,
        "seconds_per_basis_image": pair_seconds / pairs if timed else None,
        "seconds_per_perturbed_image": pair_seconds / (pairs * n_images) if timed else None,
        "meaning": "one basis image = one conjugate frequency pair added to all n_images test images, clamped and "
        "classified; wall-clock seconds of this machine and settings (precision, batch size, threads)",
        "threads": torch.get_num_threads(),
    }


def conjugate(frequency: Frequency, height: int, width: int) -> Frequency:
    """Index of the conjugate frequency (-ky, -kx) on the (H, W) fftfreq grid."""
    ky, kx = frequency
    return (-ky) % height, (-kx) % width


def canonical_frequencies(height: int, width: int, max_radius: float | None = None) -> list[Frequency]:
    """One (ky, kx) index per conjugate pair of the (H, W) grid, row-major, optionally only |f| <= max_radius.

    The member kept of each pair is the one that comes first in row-major order; an even grid has 4 self-conjugate
    frequencies (DC and the Nyquist ones), so a 32x32 grid has (1024 + 4) / 2 = 514 pairs.
    """
    radius = radial_frequency(height, width, dtype=torch.float64)
    kept = []
    for ky in range(height):
        for kx in range(width):
            if max_radius is not None and float(radius[ky, kx]) > max_radius + 1e-12:
                continue
            if (ky, kx) <= conjugate((ky, kx), height, width):
                kept.append((ky, kx))
    return kept


def fourier_basis(height: int, width: int, frequency: Frequency, dtype=torch.float32, device=None) -> torch.Tensor:
    """The real basis image cos(2 pi (fy y + fx x)) of ``frequency`` = (ky, kx) indices, scaled to L2 norm 1: (H, W).

    Its DFT is non-zero only at (ky, kx) and (-ky, -kx), with equal real values (zero phase).
    """
    fy, fx = frequency_axes(height, width, dtype=torch.float64)
    ky, kx = frequency
    y = torch.arange(height, dtype=torch.float64).reshape(height, 1)
    x = torch.arange(width, dtype=torch.float64).reshape(1, width)
    basis = torch.cos(2 * math.pi * (fy[ky, 0] * y + fx[0, kx] * x))
    return (basis / basis.norm()).to(dtype=dtype, device=device)


def fourier_heat_map(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    input_filter: nn.Module | None = None,
    eps: float = DEFAULT_EPS,
    frequencies: Iterable[Frequency] | None = None,
    seed: int = 0,
    settings: InferenceSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FourierHeatMap:
    """Error rate of ``input_filter -> model`` under a Fourier basis perturbation at each frequency.

    Args:
        images: float pixel images (N, C, H, W) in [0, 1]; labels: int64 (N,).
        eps: L2 norm of the perturbation in each channel (pixel units).
        frequencies: (ky, kx) fftfreq-order indices to evaluate (default: the whole grid); a frequency and its
            conjugate count once, and both cells are filled.
        progress: called as ``progress(done, total)`` after each frequency pair.

    Returns:
        :class:`FourierHeatMap`; cells of frequencies not asked for are NaN.

    Raises:
        ConfigError: bad images, labels, eps or frequency indices.
    """
    check_images_and_labels(images, labels)
    eps = _checked_eps(eps)
    settings = settings or InferenceSettings()
    _, channels, height, width = images.shape
    pairs = _pairs_to_evaluate(frequencies, height, width)
    pipeline = build_pipeline(model, input_filter, settings)
    device = torch.device(settings.device)
    images = images.float().to(device)
    labels = labels.cpu()
    # r[n, c] * eps, shaped to broadcast over the basis image
    signs = torch.randint(0, 2, (len(images), channels, 1, 1), generator=seeded_generator(seed)) * 2 - 1
    scaled_signs = (signs.to(images.dtype) * eps).to(device)
    error = torch.full((height, width), float("nan"), dtype=torch.float64)
    started = time.perf_counter()
    clean_error = 1.0 - float((predict(pipeline, images, settings.batch_size) == labels).double().mean())
    loop_started = time.perf_counter()
    for done, frequency in enumerate(pairs, start=1):
        basis = fourier_basis(height, width, frequency, dtype=images.dtype, device=device)
        rate = _error_rate_under(pipeline, images, labels, scaled_signs, basis, settings.batch_size)
        error[frequency] = rate
        error[conjugate(frequency, height, width)] = rate
        if progress is not None:
            progress(done, len(pairs))
    return FourierHeatMap(
        error=error,
        eps=eps,
        clean_error=clean_error,
        n_images=len(images),
        evaluated_pairs=len(pairs),
        seconds=time.perf_counter() - started,
        seed=int(seed),
        settings=settings.describe(),
        pair_seconds=time.perf_counter() - loop_started,
    )


def _error_rate_under(
    pipeline: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    scaled_signs: torch.Tensor,
    basis: torch.Tensor,
    batch_size: int,
) -> float:
    wrong = 0
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            stop = start + batch_size
            perturbed = (images[start:stop] + scaled_signs[start:stop] * basis).clamp_(0.0, 1.0)
            predicted = pipeline(perturbed).argmax(dim=1).cpu()
            wrong += int((predicted != labels[start:stop]).sum())
    return wrong / len(images)


def _pairs_to_evaluate(frequencies: Iterable[Frequency] | None, height: int, width: int) -> list[Frequency]:
    if frequencies is None:
        return canonical_frequencies(height, width)
    pairs: dict[Frequency, None] = {}
    for frequency in frequencies:
        ky, kx = _checked_index(frequency, height, width)
        partner = conjugate((ky, kx), height, width)
        pairs[min((ky, kx), partner)] = None
    return list(pairs)


def _checked_index(frequency: Sequence[int], height: int, width: int) -> Frequency:
    try:
        ky, kx = (int(value) for value in frequency)
    except (TypeError, ValueError):
        raise ConfigError(f"a heat-map frequency must be a (ky, kx) index pair, got {frequency!r}") from None
    if not (-height <= ky < height and -width <= kx < width):
        raise ConfigError(
            f"heat-map frequency index {(ky, kx)} is outside the {height}x{width} grid; use 0 <= ky < {height}, "
            f"0 <= kx < {width} (negative indices wrap)"
        )
    return ky % height, kx % width


def _checked_eps(eps: float) -> float:
    value = float(eps)
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"heat-map eps must be a positive L2 norm in pixel units, got {eps!r}")
    return value


def _nan_to_none(grid: torch.Tensor) -> list[list[float | None]]:
    """JSON has no NaN: unevaluated cells become null."""
    return [[None if math.isnan(value) else value for value in row] for row in grid.tolist()]


def _nanmean(grid: torch.Tensor) -> float | None:
    values = grid[~torch.isnan(grid)]
    return float(values.mean()) if values.numel() else None


def _nanmax(grid: torch.Tensor) -> float | None:
    values = grid[~torch.isnan(grid)]
    return float(values.max()) if values.numel() else None
