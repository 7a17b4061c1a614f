"""Training augmentations that act in frequency, batched on whole (N, C, H, W) tensors like :mod:`train.augment`.

- ``--augment-noise gaussian:SIGMA``: i.i.d. Gaussian noise of standard deviation SIGMA (pixel units, images in
  [0, 1]) added to every training image (Yin et al. 2019, "A Fourier Perspective on Model Robustness in Computer
  Vision", NeurIPS: Gaussian augmentation buys robustness to high-frequency corruptions at the cost of
  low-frequency ones). Not clipped: the images arrive already filtered (filter before augmentation), where
  [0, 1] need not hold.
- ``--apr p|s|ps`` (Chen et al. 2021, "Amplitude-Phase Recombination", ICCV): APR-P gives each chosen image the
  amplitude spectrum of another image of the batch (a seeded permutation) and keeps its phase and label; APR-S gives
  it the amplitude of a second, independently cropped and flipped view of itself. Each image is chosen with
  probability ``--apr-probability`` (default 0.5); ``ps`` does APR-S, then APR-P. Chen et al. build APR-S's views
  with AugMix operations; freqprobe's own crop and flip stand in for them.

Order in a training batch: crop, flip, cutout (:func:`freqprobe.train.augment.augment_batch`), APR, noise.
"""

from __future__ import annotations

import torch

from freqprobe.filters.spectrum_interventions import recombine
from freqprobe.train.frequency_augment_spec import check_apr, parse_noise_spec

def gaussian_noise(images: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """``images + sigma * N(0, 1)`` per pixel and channel, noise drawn from ``generator`` (on the images' device)."""
    noise = torch.randn(images.shape, generator=generator, device=generator.device, dtype=images.dtype)
    return images + sigma * noise.to(images.device)


def sample_apr(count: int, probability: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(chosen (N,) bool, partner (N,) int64): which images are recombined, and APR-P's amplitude source of each."""
    chosen = torch.rand(count, generator=generator, device=generator.device) < probability
    partner = torch.randperm(count, generator=generator, device=generator.device)
    return chosen, partner


def apr_pair(images: torch.Tensor, chosen: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    """APR-P: chosen image i takes the amplitude of ``images[partner[i]]`` and keeps its phase; the rest unchanged."""
    mixed = recombine(images[partner.to(images.device)], images)
    return torch.where(chosen.to(images.device)[:, None, None, None], mixed, images)


def apr_single(images: torch.Tensor, other_view: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    """APR-S: chosen image i takes the amplitude of ``other_view[i]`` (another augmentation of the same image)."""
    mixed = recombine(other_view, images)
    return torch.where(chosen.to(images.device)[:, None, None, None], mixed, images)


def frequency_augment_batch(
    images: torch.Tensor,
    raw: torch.Tensor,
    generator: torch.Generator,
    *,
    noise: str | None = None,
    apr: str = "none",
    apr_probability: float = 0.5,
    second_view=None,
) -> torch.Tensor:
    """APR (``apr``), then Gaussian noise (``noise``, a ``gaussian:SIGMA`` spec) on a batch already cropped and
    flipped; ``raw`` is the batch before that, and ``second_view(raw)`` makes APR-S's other view of each image."""
    if apr != "none":
        check_apr(apr, apr_probability)
        chosen, partner = sample_apr(images.shape[0], apr_probability, generator)
        if "s" in apr:
            images = apr_single(images, second_view(raw) if second_view is not None else raw, chosen)
        if "p" in apr:
            images = apr_pair(images, chosen, partner)
    parsed = parse_noise_spec(noise)
    if parsed is not None:
        images = gaussian_noise(images, parsed[1], generator)
    return images
