"""Filtering whole image sets in batches, and the per-channel statistics of the filtered training split.

The model's first module normalizes each channel with the mean and std of the *filtered* training images, so a
high-pass or whitened input is not left at a tiny or huge scale.
"""

from __future__ import annotations

import torch

from freqprobe.errors import DataError
from freqprobe.filters.batches import check_image_batch, iter_float_batches
from freqprobe.filters.modules import InputFilter


@torch.no_grad()
def apply_in_batches(
    filter: InputFilter,
    images: torch.Tensor,
    batch_size: int = 2048,
    *,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Filter (N, C, H, W) uint8 (or float in [0, 1]) images batch by batch.

    Args:
        filter: a (fitted, if it needs it) :class:`InputFilter`.
        images: (N, C, H, W) uint8 or float.
        batch_size: images per FFT call.
        device: where to compute (default: the images' device); the result is on the images' device.

    Returns:
        float32 (N, C, H, W).

    Raises:
        ConfigError: bad images or batch size, unfitted filter.
        DataError: no images.
    """
    check_image_batch(images)
    out = torch.empty(images.shape, dtype=torch.float32, device=images.device)
    for rows, batch in iter_float_batches(images, batch_size, device):
        out[rows] = filter(batch).to(device=out.device, dtype=torch.float32)
    return out


@torch.no_grad()
def channel_stats(
    filter: InputFilter,
    images: torch.Tensor,
    batch_size: int = 2048,
    *,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and population std (ddof 0) of the filtered images, accumulated in float64.

    Batches are merged with Chan et al.'s pairwise update of (count, mean, M2), which avoids the cancellation of
    sum-of-squares formulas on large sets.

    Args:
        filter: a (fitted, if it needs it) :class:`InputFilter`.
        images: (N, C, H, W) uint8 or float training images.
        batch_size: images per FFT call.
        device: where to compute (default: the images' device).

    Returns:
        ``(mean, std)``, float32 tensors of shape (C,) on the CPU.

    Raises:
        ConfigError: bad images or batch size, unfitted filter.
        DataError: no images, a non-finite filtered value, or a channel with std 0 (nothing to normalize by).
    """
    count, mean, m2 = 0, None, None
    for _, batch in iter_float_batches(images, batch_size, device):
        values = filter(batch).to(torch.float64).transpose(0, 1).flatten(1)  # (C, B*H*W)
        batch_count = values.shape[1]
        batch_mean = values.mean(dim=1)
        batch_m2 = ((values - batch_mean[:, None]) ** 2).sum(dim=1)
        if mean is None:
            count, mean, m2 = batch_count, batch_mean, batch_m2
            continue
        total = count + batch_count
        delta = batch_mean - mean
        mean = mean + delta * (batch_count / total)
        m2 = m2 + batch_m2 + delta**2 * (count * batch_count / total)
        count = total
    std = torch.sqrt(m2 / count)
    _check_normalizable(filter, mean, std)
    return mean.float().cpu(), std.float().cpu()


def _check_normalizable(filter: InputFilter, mean: torch.Tensor, std: torch.Tensor) -> None:
    if not (torch.isfinite(mean).all() and torch.isfinite(std).all()):
        raise DataError(f"images filtered by {filter.spec!r} contain non-finite values; check the filter parameters")
    constant = (std == 0).nonzero().flatten().tolist()
    if constant:
        raise DataError(
            f"images filtered by {filter.spec!r} are constant in channel(s) {constant} (std 0); "
            f"a per-channel normalization cannot be fitted on them, choose another filter or data"
        )
