"""Weather corruptions: snow, frost (synthesized texture), fog (plasma fractal) and spatter.

Parameters: :mod:`freqprobe.corruptions.table` (Hendrycks & Dietterich 2019). Float images (N, C, H, W) in [0, 1];
every image gets its own random layer from the generator. Brightness, also a weather corruption in the paper, lives
with saturate in :mod:`freqprobe.corruptions.digital` (both act in HSV).
"""

from __future__ import annotations

import math

import torch

from freqprobe.corruptions.common import (
    back_to_channels,
    check_images,
    clipped_zoom,
    luma,
    motion_blur_at,
    normal,
    to_rgb,
    uniform,
)
from freqprobe.filters import gaussian_blur as _gaussian
from freqprobe.fourier import radial_frequency

FRACTAL_SIZE = 32  # the original's plasma map; a power of two, cropped to the image
WATER_RGB = (175 / 255.0, 238 / 255.0, 238 / 255.0)  # pale turquoise
MUD_RGB = (63 / 255.0, 42 / 255.0, 20 / 255.0)


def plasma_fractal(n: int, size: int, decay: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, size, size) float64 diamond-square height maps in [0, 1], one per image; ``size`` a power of two.

    Each level sets the centres of the squares, then the edge midpoints, to the mean of their four neighbours
    (periodic) plus uniform noise of +-wibble^2 (wibble starts at 100 and is divided by ``decay`` per level), then
    rescales to [0, 1].

    Example:
        >>> maps = plasma_fractal(2, 32, 3.0, torch.Generator().manual_seed(0))
        >>> tuple(maps.shape), float(maps.min()), float(maps.max())
        ((2, 32, 32), 0.0, 1.0)
    """
    grid = torch.zeros(n, size, size, dtype=torch.float64)
    step, wibble = size, 100.0

    def jitter(values: torch.Tensor) -> torch.Tensor:
        noise = torch.rand(values.shape, generator=generator, dtype=torch.float64) * 2 - 1
        return values / 4 + wibble * wibble * noise

    while step >= 2:
        half = step // 2
        corners = grid[:, 0::step, 0::step]
        around = corners + corners.roll(-1, dims=1)
        around = around + around.roll(-1, dims=2)
        grid[:, half::step, half::step] = jitter(around)
        centres = grid[:, half::step, half::step]
        corners = grid[:, 0::step, 0::step]
        # edge midpoints on the corner rows (between two corners, above and below a centre)
        on_rows = centres + centres.roll(1, dims=1) + corners + corners.roll(-1, dims=2)
        grid[:, 0::step, half::step] = jitter(on_rows)
        on_cols = centres + centres.roll(1, dims=2) + corners + corners.roll(-1, dims=1)
        grid[:, half::step, 0::step] = jitter(on_cols)
        step //= 2
        wibble /= decay
    low = grid.amin(dim=(1, 2), keepdim=True)
    grid = grid - low
    return grid / grid.amax(dim=(1, 2), keepdim=True)


def fog(x: torch.Tensor, strength: float, decay: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``clamp((x + strength F) max / (max + strength), 0, 1)``, F a plasma fractal, max the image's maximum.

    Example:
        >>> y = fog(torch.rand(2, 3, 32, 32), 1.5, 1.75, torch.Generator().manual_seed(0))
        >>> tuple(y.shape)
        (2, 3, 32, 32)
    """
    check_images(x)
    n, _, height, width = x.shape
    size = max(FRACTAL_SIZE, 2 ** math.ceil(math.log2(max(height, width))))
    layer = plasma_fractal(n, size, decay, generator)[:, None, :height, :width].to(dtype=x.dtype, device=x.device)
    peak = x.amax(dim=(1, 2, 3), keepdim=True)
    return ((x + strength * layer) * peak / (peak + strength)).clamp(0.0, 1.0)


def frost_texture(n: int, height: int, width: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, 1, H, W) float64 synthetic frost in [0, 1]: a random-phase field with power ~ |f|^-2, min-max scaled.

    Replaces the six frost photographs of the original (not available here); it has their natural-texture slope, not
    their crystal shapes.
    """
    radius = radial_frequency(height, width, dtype=torch.float64)
    amplitude = torch.where(radius > 0, 1.0 / radius.clamp(min=1e-12), torch.zeros_like(radius))
    white = torch.randn((n, 1, height, width), generator=generator, dtype=torch.float64)
    field = torch.fft.ifft2(torch.fft.fft2(white) * amplitude).real
    field = field - field.amin(dim=(-2, -1), keepdim=True)
    return field / field.amax(dim=(-2, -1), keepdim=True).clamp(min=1e-12)


def frost(
    x: torch.Tensor, image_weight: float, frost_weight: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``clamp(image_weight x + frost_weight T, 0, 1)`` with T the synthetic :func:`frost_texture` (grey, the same
    in every channel).

    Example:
        >>> y = frost(torch.zeros(1, 1, 28, 28), 1.0, 0.2, torch.Generator().manual_seed(0))
        >>> round(float(y.max()), 6)
        0.2
    """
    check_images(x)
    n, _, height, width = x.shape
    texture = frost_texture(n, height, width, generator).to(dtype=x.dtype, device=x.device)
    return (image_weight * x + frost_weight * texture).clamp(0.0, 1.0)


def snow(
    x: torch.Tensor, mean: float, std: float, zoom: float, threshold: float, motion_radius: float,
    motion_sigma: float, blend: float, generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Snow: a N(mean, std) layer zoomed into by ``zoom``, values below ``threshold`` removed, 8-bit quantized,
    motion-blurred at an angle in [-135, -45) degrees; the image is blended towards max(x, 1.5 luma + 0.5) with
    weight 1 - ``blend`` and the layer plus its 180-degree rotation added, clipped.

    Example:
        >>> y = snow(torch.rand(2, 3, 32, 32), 0.1, 0.2, 1, 0.6, 8, 3, 0.95, torch.Generator().manual_seed(0))
        >>> tuple(y.shape)
        (2, 3, 32, 32)
    """
    check_images(x)
    n, _, height, width = x.shape
    layer = normal((n, 1, height, width), generator, mean, std, x)
    layer = clipped_zoom(layer, zoom) if zoom > 1 else layer
    layer = torch.where(layer < threshold, torch.zeros_like(layer), layer)
    layer = torch.floor(layer.clamp(0.0, 1.0) * 255.0) / 255.0
    angles = uniform((n,), generator, -135.0, -45.0, torch.empty(0, dtype=torch.float64))
    layer = motion_blur_at(layer, motion_radius, motion_sigma, angles)
    lifted = torch.maximum(x, luma(x) * 1.5 + 0.5)
    mixed = blend * x + (1 - blend) * lifted
    return (mixed + layer + layer.flip(-2, -1)).clamp(0.0, 1.0)


def spatter(
    x: torch.Tensor, mean: float, std: float, sigma: float, threshold: float, intensity_or_sigma: float, mud: float,
    generator: torch.Generator | None = None, length_scale: float = 1.0,
) -> torch.Tensor:
    """Spatter: a liquid layer N(mean, std) smoothed with ``sigma`` and thresholded; water (``mud`` 0) or mud (1).

    Water adds pale turquoise weighted by the layer scaled to maximum ``intensity_or_sigma`` (an approximation: the
    original shades the drops by a Canny edge distance transform and an emboss kernel). Mud replaces the image by
    brown where the binary drop mask smoothed with sigma ``intensity_or_sigma * length_scale`` is >= 0.8. Colours are
    RGB; grey images get the luma of the result.

    Example:
        >>> y = spatter(torch.rand(2, 1, 28, 28), 0.65, 0.1, 0.7, 0.69, 0.6, 1, torch.Generator().manual_seed(0))
        >>> tuple(y.shape)
        (2, 1, 28, 28)
    """
    check_images(x)
    n, channels, height, width = x.shape
    liquid = _gaussian(normal((n, 1, height, width), generator, mean, std, x), sigma, boundary="reflect")
    liquid = torch.where(liquid < threshold, torch.zeros_like(liquid), liquid)
    rgb = to_rgb(x)
    if mud:
        mask = _gaussian((liquid > threshold).to(x.dtype), intensity_or_sigma * length_scale, boundary="reflect")
        mask = torch.where(mask < 0.8, torch.zeros_like(mask), mask)
        colour = torch.tensor(MUD_RGB, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
        out = rgb * (1 - mask) + colour * mask
    else:
        peak = liquid.amax(dim=(-2, -1), keepdim=True).clamp(min=1e-12)
        weight = liquid / peak * intensity_or_sigma
        colour = torch.tensor(WATER_RGB, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
        out = rgb + weight * colour
    return back_to_channels(out.clamp(0.0, 1.0), channels)
