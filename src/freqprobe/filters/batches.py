"""Batched iteration over image tensors, so whole datasets are filtered without a per-image Python loop."""

from __future__ import annotations

from typing import Iterator

import torch

from freqprobe.errors import ConfigError, DataError


def to_pixel_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32 in [0, 1] (x / 255); float images pass through unchanged.

    Same convention as ``freqprobe.data.to_float``; kept here so the filters do not depend on the data loaders.

    Raises:
        ConfigError: neither uint8 nor floating point.
    """
    if images.dtype == torch.uint8:
        return images.to(torch.float32).div_(255.0)
    if images.is_floating_point():
        return images
    raise ConfigError(f"images must be uint8 (0..255) or float in [0, 1], got dtype {images.dtype}")


def check_image_batch(images: torch.Tensor, what: str = "images") -> None:
    """Require a non-empty (N, C, H, W) tensor.

    Raises:
        ConfigError: not a 4-D tensor.
        DataError: no images.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ConfigError(f"{what} must be a tensor of shape (N, C, H, W), got {shape}")
    if images.shape[0] == 0:
        raise DataError(f"{what} are empty (shape {tuple(images.shape)}); nothing to fit or filter")


def check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def iter_float_batches(
    images: torch.Tensor, batch_size: int, device: torch.device | str | None = None
) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield ``(rows, batch)``: consecutive slices of (N, C, H, W) images as pixel-space floats on ``device``.

    Raises:
        ConfigError, DataError: as :func:`check_image_batch` and :func:`check_batch_size`.
    """
    check_image_batch(images)
    batch_size = check_batch_size(batch_size)
    target = images.device if device is None else torch.device(device)
    for start in range(0, images.shape[0], batch_size):
        rows = slice(start, min(start + batch_size, images.shape[0]))
        # move uint8 before converting: 4x less to transfer to an accelerator
        yield rows, to_pixel_float(images[rows].to(target, non_blocking=True))
