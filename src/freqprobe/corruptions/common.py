"""Shared pieces of the corruption functions: input checks, seeded draws, the length scale of 28x28 images, grey <->
RGB, and the resampling steps several corruptions use (the centre zoom of ``clipped_zoom``, a one-sided motion
kernel).

All functions take float images (N, C, H, W) in [0, 1] and keep shape, dtype and device. Random draws come from a
CPU ``torch.Generator`` (the same numbers on every device) and are moved to the images' device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from freqprobe.errors import ConfigError

REFERENCE_SIZE = 32  # the CIFAR-10-C parameters are in pixels of 32x32 images
LUMA = (0.299, 0.587, 0.114)  # ITU-R 601 luma, as cv2.COLOR_RGB2GRAY (used by the original snow corruption)


def check_images(x: torch.Tensor) -> None:
    """Float (N, C, H, W) with C in {1, 3}; raises ConfigError naming the value and the fix."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ConfigError(f"corruptions need float images (N, C, H, W) in [0, 1], got {shape}; use freqprobe.data.to_float")
    if x.shape[1] not in (1, 3):
        raise ConfigError(f"corruptions need grey (C=1) or RGB (C=3) images, got C={x.shape[1]}")


def length_scale(x: torch.Tensor) -> float:
    """Lengths of the 32x32 parameter tables are multiplied by this: min(H, W) / 32 (0.875 on 28x28)."""
    return min(x.shape[-2:]) / REFERENCE_SIZE


def to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Grey images repeated into 3 channels; RGB images unchanged."""
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def luma(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W): the ITU-R 601 luma of RGB images, the image itself for grey ones."""
    if x.shape[1] == 1:
        return x
    weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)


def back_to_channels(rgb: torch.Tensor, channels: int) -> torch.Tensor:
    """A colour result returned in the input's channels: its luma for grey inputs (the model sees grey)."""
    return luma(rgb) if channels == 1 else rgb


def uniform(shape, generator: torch.Generator | None, low: float, high: float, like: torch.Tensor) -> torch.Tensor:
    draw = torch.rand(shape, generator=generator, dtype=torch.float64)
    return (low + (high - low) * draw).to(dtype=like.dtype, device=like.device)


def normal(shape, generator: torch.Generator | None, mean: float, std: float, like: torch.Tensor) -> torch.Tensor:
    draw = torch.randn(shape, generator=generator, dtype=torch.float64)
    return (mean + std * draw).to(dtype=like.dtype, device=like.device)


def clipped_zoom(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Zoom into the centre by ``factor`` >= 1 and crop back to (H, W), as the original ``clipped_zoom``.

    The central ceil(H / factor) square is resized to round(side * factor) pixels by linear interpolation with the
    corners aligned (scipy.ndimage.zoom, order 1) and the middle (H, W) kept.
    """
    height, width = x.shape[-2:]
    side = math.ceil(height / factor)
    top = (height - side) // 2
    crop = x[..., top : top + side, top : top + side]
    size = round(side * factor)
    zoomed = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=True) if size != side else crop
    trim = (size - height) // 2
    return zoomed[..., trim : trim + height, trim : trim + width]


def motion_kernel_taps(radius: float, sigma: float) -> tuple[torch.Tensor, int]:
    """The weights (K,) of a one-sided Gaussian motion kernel with K = 2 ceil(radius) + 1 taps, normalized.

    Follows ImageMagick's MotionBlurImage (the original corruption calls it through Wand): tap i at distance i along
    the blur direction weighs exp(-i^2 / (2 sigma^2)).
    """
    taps = 2 * math.ceil(radius) + 1
    weights = torch.exp(-torch.arange(taps, dtype=torch.float64) ** 2 / (2.0 * sigma * sigma))
    return weights / weights.sum(), taps


def motion_blur_at(x: torch.Tensor, radius: float, sigma: float, angles_deg: torch.Tensor) -> torch.Tensor:
    """One-sided motion blur of each image along its own angle (degrees, (N,)), edge pixels replicated.

    Tap i reads the pixel at (round(i cos a), round(i sin a)) (x right, y down), rounding half down as ImageMagick
    does; each image has its own direction, so the taps are gathered per image rather than convolved.
    """
    weights, taps = motion_kernel_taps(radius, sigma)
    n, channels, height, width = x.shape
    pad = taps - 1
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    radians = angles_deg.to(torch.float64) * math.pi / 180.0
    rows = torch.arange(height, device=x.device).reshape(1, height, 1) + pad
    cols = torch.arange(width, device=x.device).reshape(1, 1, width) + pad
    image_index = torch.arange(n, device=x.device).reshape(n, 1, 1)
    out = torch.zeros_like(x)
    for i in range(taps):
        dx = torch.ceil(i * torch.cos(radians) - 0.5).long().to(x.device).reshape(n, 1, 1)
        dy = torch.ceil(i * torch.sin(radians) - 0.5).long().to(x.device).reshape(n, 1, 1)
        # advanced indices around a slice put their (N, H, W) first: (N, H, W, C) -> (N, C, H, W)
        shifted = padded[image_index, :, rows + dy, cols + dx].permute(0, 3, 1, 2)
        out = out + float(weights[i]) * shifted
    return out
