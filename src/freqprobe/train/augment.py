"""Batched augmentation on whole (N, C, H, W) tensors: random crop with padding, horizontal flip and cutout.

No per-image Python: a crop is one advanced-indexing gather over the padded batch, a flip one ``torch.where``.
The training images are already filtered when they arrive here ("filter before augmentation"), so the padding is
filled in the filtered domain (reflect by default, which keeps local statistics; ``zero`` as in the notebooks).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pad_images(images: torch.Tensor, padding: int, mode: str = "reflect") -> torch.Tensor:
    """Pad the two spatial dims by ``padding`` pixels on every side; ``mode`` is ``reflect`` or ``zero``."""
    if padding == 0:
        return images
    if mode == "zero":
        return F.pad(images, (padding,) * 4)
    if mode == "reflect":
        return F.pad(images, (padding,) * 4, mode="reflect")
    raise ValueError(f"padding mode must be 'reflect' or 'zero', got {mode!r}")


def sample_offsets(count: int, padding: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 2) int64 (top, left) offsets into the padded image, uniform in [0, 2 * padding]."""
    return torch.randint(0, 2 * padding + 1, (count, 2), generator=generator, device=generator.device)


def crop_at(images: torch.Tensor, offsets: torch.Tensor, padding: int, mode: str = "reflect") -> torch.Tensor:
    """Crop each image of ``pad_images(images, padding, mode)`` to (H, W) at its (top, left) offset.

    Equal to ``padded[i, :, top:top + H, left:left + W]`` for every ``i``, in one gather.
    """
    n, channels, height, width = images.shape
    padded = pad_images(images, padding, mode)
    offsets = offsets.to(images.device)
    rows = offsets[:, 0, None] + torch.arange(height, device=images.device)  # (N, H)
    cols = offsets[:, 1, None] + torch.arange(width, device=images.device)  # (N, W)
    batch_index = torch.arange(n, device=images.device)[:, None, None, None]
    channel_index = torch.arange(channels, device=images.device)[None, :, None, None]
    return padded[batch_index, channel_index, rows[:, None, :, None], cols[:, None, None, :]]


def flip_where(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mirror left-right the images whose ``mask`` entry is True; the others are returned unchanged."""
    return torch.where(mask.to(images.device)[:, None, None, None], images.flip(-1), images)


def random_crop(
    images: torch.Tensor, padding: int, generator: torch.Generator, mode: str = "reflect"
) -> torch.Tensor:
    """Random translation by up to ``padding`` pixels in each direction (crop of the padded images)."""
    if padding == 0:
        return images
    return crop_at(images, sample_offsets(images.shape[0], padding, generator), padding, mode)


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    mask = torch.rand(images.shape[0], generator=generator, device=generator.device) < 0.5
    return flip_where(images, mask)


def cutout_mask(
    count: int, height: int, width: int, size: int, generator: torch.Generator
) -> torch.Tensor:
    """(count, 1, H, W) bool, True inside one ``size`` x ``size`` square per image, clipped at the borders.

    The square's centre is uniform over the image, so squares near an edge are partly outside it (DeVries & Taylor
    2017, "Improved Regularization of Convolutional Neural Networks with Cutout"); rows ``cy - size // 2`` to
    ``cy - size // 2 + size - 1`` (and likewise columns) are covered.
    """
    centres = torch.stack(
        [
            torch.randint(0, height, (count,), generator=generator, device=generator.device),
            torch.randint(0, width, (count,), generator=generator, device=generator.device),
        ],
        dim=1,
    )
    top_left = centres - size // 2
    rows = torch.arange(height, device=generator.device)[None, :] - top_left[:, 0, None]  # (N, H)
    cols = torch.arange(width, device=generator.device)[None, :] - top_left[:, 1, None]  # (N, W)
    inside_rows = (rows >= 0) & (rows < size)
    inside_cols = (cols >= 0) & (cols < size)
    return (inside_rows[:, :, None] & inside_cols[:, None, :])[:, None]


def cutout(
    images: torch.Tensor, size: int, generator: torch.Generator, fill: torch.Tensor | None = None
) -> torch.Tensor:
    """Replace one random ``size`` x ``size`` square per image by ``fill`` (per-channel, shape (C,); default 0).

    The training engine fills with the training images' channel means, which the model's normalization maps to 0:
    the paper's zero-masking, done before normalization.
    """
    if size == 0:
        return images
    n, channels, height, width = images.shape
    mask = cutout_mask(n, height, width, size, generator).to(images.device)
    if fill is None:
        fill_values = torch.zeros((), dtype=images.dtype, device=images.device)
    else:
        fill_values = fill.to(device=images.device, dtype=images.dtype).reshape(1, channels, 1, 1)
    return torch.where(mask, fill_values, images)


def augment_batch(
    images: torch.Tensor,
    generator: torch.Generator,
    crop_padding: int,
    flip: bool,
    padding_mode: str = "reflect",
    cutout_size: int = 0,
    cutout_fill: torch.Tensor | None = None,
) -> torch.Tensor:
    """Random crop (if ``crop_padding`` > 0), random horizontal flip (if ``flip``), then cutout (if
    ``cutout_size`` > 0) of a whole batch."""
    images = random_crop(images, crop_padding, generator, padding_mode)
    if flip:
        images = random_flip(images, generator)
    if cutout_size:
        images = cutout(images, cutout_size, generator, cutout_fill)
    return images
