"""Blur corruptions: defocus (disk), glass (blur + local pixel swaps), motion (one-sided, random angle), zoom and
Gaussian blur.

Parameters: :mod:`freqprobe.corruptions.table` (Hendrycks & Dietterich 2019). Float images (N, C, H, W) in [0, 1];
channels never mix. Defocus, zoom and Gaussian blur are differentiable; glass blur quantizes to 8 bits as the
original and is not.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from freqprobe.corruptions.common import check_images, clipped_zoom, motion_blur_at, uniform
from freqprobe.filters import gaussian_blur as _gaussian

DISK_HALF_WIDTH = 8  # the original draws disks of radius <= 8 on a 17x17 grid


def disk_kernel(radius: float, alias_sigma: float, dtype=torch.float64) -> torch.Tensor:
    """(17, 17) defocus kernel: the normalized disk x^2 + y^2 <= radius^2 convolved with the separable 3-tap
    Gaussian of ``alias_sigma`` (cv2.GaussianBlur with ksize 3), summing to 1.

    Example:
        >>> k = disk_kernel(1.0, 0.2)
        >>> tuple(k.shape), round(float(k.sum()), 6)
        ((17, 17), 1.0)
    """
    axis = torch.arange(-DISK_HALF_WIDTH, DISK_HALF_WIDTH + 1, dtype=torch.float64)
    disk = ((axis[:, None] ** 2 + axis[None, :] ** 2) <= radius**2).to(torch.float64)
    disk = disk / disk.sum()
    taps = torch.exp(-torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64) / (2.0 * alias_sigma**2))
    taps = taps / taps.sum()
    smooth = F.conv2d(disk[None, None], (taps[:, None] * taps[None, :])[None, None], padding=1)[0, 0]
    return smooth.to(dtype)


def defocus_blur(x: torch.Tensor, radius: float, alias_sigma: float) -> torch.Tensor:
    """Each channel convolved with :func:`disk_kernel` (reflect-101 borders, as cv2.filter2D), clipped.

    Example:
        >>> y = defocus_blur(torch.rand(2, 3, 32, 32), 1.5, 0.1)
        >>> tuple(y.shape)
        (2, 3, 32, 32)
    """
    check_images(x)
    kernel = disk_kernel(radius, alias_sigma, x.dtype).to(x.device)
    support = kernel.abs().sum(dim=1).nonzero().flatten()  # rows (= columns) where the kernel is non-zero
    half = int(max(DISK_HALF_WIDTH - support.min(), support.max() - DISK_HALF_WIDTH))
    kernel = kernel[DISK_HALF_WIDTH - half : DISK_HALF_WIDTH + half + 1, DISK_HALF_WIDTH - half : DISK_HALF_WIDTH + half + 1]
    return _depthwise(x, kernel, half).clamp(0.0, 1.0)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur (truncate 4, reflect borders), clipped.

    Example:
        >>> y = gaussian_blur(torch.ones(1, 1, 8, 8), 1.0)
        >>> round(float(y.min()), 6)
        1.0
    """
    check_images(x)
    return _gaussian(x, sigma, boundary="reflect").clamp(0.0, 1.0)


def zoom_blur(x: torch.Tensor, max_zoom: float) -> torch.Tensor:
    """Mean of the image and its centre zooms by 1, 1.01, ..., ``max_zoom`` (the original's np.arange steps).

    Example:
        >>> x = torch.rand(1, 1, 28, 28)
        >>> bool(torch.allclose(zoom_blur(x, 1.0), x))
        True
    """
    check_images(x)
    steps = int(round((max_zoom - 1.0) / 0.01)) + 1
    total = x.clone()
    for k in range(steps):
        total = total + clipped_zoom(x, 1.0 + 0.01 * k)
    return (total / (steps + 1)).clamp(0.0, 1.0)


def motion_blur(x: torch.Tensor, radius: float, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """One-sided Gaussian motion blur, each image along its own angle uniform in [-45, 45) degrees.

    Example:
        >>> y = motion_blur(torch.ones(2, 1, 28, 28), 6, 1, torch.Generator().manual_seed(0))
        >>> round(float(y.min()), 6)
        1.0
    """
    check_images(x)
    angles = uniform((x.shape[0],), generator, -45.0, 45.0, torch.empty(0, dtype=torch.float64))
    return motion_blur_at(x, radius, sigma, angles).clamp(0.0, 1.0)


def glass_blur(
    x: torch.Tensor, sigma: float, max_delta: int, iterations: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Blur, quantize to 8 bits (truncating, as ``np.uint8``), swap pixels locally, blur again, clip.

    The swaps are the original's sequential sweep: for each position (h, w) from the bottom-right towards the top-left
    (h, w in (d, size - d], descending), the pixel is swapped with the one at (h + dy, w + dx), dx, dy uniform integers
    in [-d, d). A swap depends on the ones before it, so the sweep runs position by position, batched over images.

    Example:
        >>> y = glass_blur(torch.rand(2, 1, 28, 28), 0.4, 1, 1, torch.Generator().manual_seed(0))
        >>> tuple(y.shape)
        (2, 1, 28, 28)
    """
    check_images(x)
    blurred = _gaussian(x, sigma, boundary="reflect") if sigma > 0 else x
    pixels = torch.floor(blurred.clamp(0.0, 1.0) * 255.0) / 255.0
    n, _, height, width = x.shape
    delta = int(max_delta)
    rows = range(height - delta, delta, -1)
    cols = range(width - delta, delta, -1)
    steps = torch.randint(-delta, delta, (int(iterations), len(rows), len(cols), n, 2), generator=generator)
    steps = steps.to(x.device)
    images = torch.arange(n, device=x.device)
    for it in range(int(iterations)):
        for i, h in enumerate(rows):
            for j, w in enumerate(cols):
                dy, dx = steps[it, i, j, :, 0], steps[it, i, j, :, 1]
                here = pixels[images, :, h, w].clone()
                pixels[images, :, h, w] = pixels[images, :, h + dy, w + dx]
                pixels[images, :, h + dy, w + dx] = here
    again = _gaussian(pixels, sigma, boundary="reflect") if sigma > 0 else pixels
    return again.clamp(0.0, 1.0)


def _depthwise(x: torch.Tensor, kernel: torch.Tensor, half: int) -> torch.Tensor:
    """Correlate every channel with ``kernel`` (2 half + 1 square), reflect-101 padding."""
    n, channels, height, width = x.shape
    if half == 0:
        return x * kernel[0, 0]
    padded = F.pad(x.reshape(n * channels, 1, height, width), (half, half, half, half), mode="reflect")
    return F.conv2d(padded, kernel[None, None]).reshape(n, channels, height, width)
