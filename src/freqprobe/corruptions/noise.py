"""Noise corruptions: Gaussian, shot (Poisson), impulse (salt and pepper) and speckle noise, per pixel and channel.

Parameters: :mod:`freqprobe.corruptions.table` (Hendrycks & Dietterich 2019). Pure functions on float images
(N, C, H, W) in [0, 1] with a ``torch.Generator`` for the draws; results are clipped to [0, 1].
"""

from __future__ import annotations

import torch

from freqprobe.corruptions.common import check_images, normal, uniform


def gaussian_noise(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``clamp(x + sigma z, 0, 1)`` with z ~ N(0, 1) per pixel and channel; differentiable in x.

    Args:
        x: float (N, C, H, W) in [0, 1]. sigma: standard deviation in pixel units.

    Raises:
        ConfigError: ``x`` not float (N, C, H, W) with C in {1, 3}.

    Example:
        >>> x = torch.full((2, 1, 8, 8), 0.5)
        >>> y = gaussian_noise(x, 0.04, torch.Generator().manual_seed(0))
        >>> y.shape, bool((y - x).abs().max() < 0.3)
        (torch.Size([2, 1, 8, 8]), True)
    """
    check_images(x)
    return (x + normal(x.shape, generator, 0.0, sigma, x)).clamp(0.0, 1.0)


def shot_noise(x: torch.Tensor, photons: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``clamp(Poisson(x photons) / photons, 0, 1)``: photon noise whose variance is x / photons.

    Example:
        >>> y = shot_noise(torch.full((1, 1, 4, 4), 0.5), 500, torch.Generator().manual_seed(0))
        >>> tuple(y.shape)
        (1, 1, 4, 4)
    """
    check_images(x)
    rates = (x.detach().to(torch.float64).cpu().clamp(min=0.0) * photons)
    counts = torch.poisson(rates, generator=generator)
    return (counts / photons).to(dtype=x.dtype, device=x.device).clamp(0.0, 1.0)


def impulse_noise(x: torch.Tensor, amount: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Salt and pepper: each value is replaced with probability ``amount`` by 0 or 1 (equal odds), as
    ``skimage.util.random_noise(mode='s&p')``.

    Example:
        >>> y = impulse_noise(torch.full((1, 3, 16, 16), 0.5), 0.05, torch.Generator().manual_seed(0))
        >>> sorted(set(y.unique().tolist()) - {0.5})
        [0.0, 1.0]
    """
    check_images(x)
    hit = uniform(x.shape, generator, 0.0, 1.0, x) < amount
    salt = uniform(x.shape, generator, 0.0, 1.0, x) < 0.5
    return torch.where(hit, salt.to(x.dtype), x)


def speckle_noise(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``clamp(x + x sigma z, 0, 1)``, z ~ N(0, 1): noise proportional to the pixel value.

    Example:
        >>> y = speckle_noise(torch.zeros(1, 1, 4, 4), 0.2, torch.Generator().manual_seed(0))
        >>> float(y.abs().max())
        0.0
    """
    check_images(x)
    return (x + x * normal(x.shape, generator, 0.0, sigma, x)).clamp(0.0, 1.0)
