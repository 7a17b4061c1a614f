"""Gaussian low-pass and its complement, computed in the Fourier domain.

The kernel is scipy's: samples of exp(-x^2 / (2 sigma^2)) for integer x in [-r, r], r = int(truncate * sigma + 0.5),
normalized to sum 1, applied separably along H and W. Boundaries:

* ``circular``: true periodic filtering, i.e. multiplication of the image spectrum by the DFT of the kernel
  *periodized* to the image size. This is exact for any radius, also when the truncated kernel is longer than the
  image (sigma 12 and 20 on 28x28 images have radii 48 and 80): the taps that wrap around more than once are
  summed. It equals ``scipy.ndimage.gaussian_filter(img, sigma, mode='wrap')`` (and ``mode='grid-wrap'``) per
  channel: in scipy's *filter* functions both modes extend the line periodically however long the kernel is
  (checked with scipy 1.17, also against a scipy-free periodic reference in the tests). The difference between
  'wrap' and 'grid-wrap' that scipy documents concerns its interpolation functions (``map_coordinates``,
  ``affine_transform``), not ``gaussian_filter``.
* ``reflect``: half-sample symmetric extension (d c b a | a b c d | d c b a), scipy's ``mode='reflect'``. The
  infinite symmetric extension is periodic with period 2H x 2W, so circular filtering of the 2H x 2W mirrored image
  followed by a crop is exact for any radius.
"""

from __future__ import annotations

import functools

import torch

from freqprobe.filters.checks import (
    check_boundary,
    check_images,
    check_sigma,
    check_sigma_for_image,
    check_truncate,
    compute_dtype,
)


def gaussian_kernel1d(sigma: float, truncate: float = 4.0) -> torch.Tensor:
    """The sampled, truncated, normalized 1-D Gaussian of scipy.ndimage, float64 of shape (2r + 1,).

    Raises:
        ConfigError: sigma or truncate not a positive finite number.
    """
    sigma = check_sigma(sigma)
    radius = int(check_truncate(truncate) * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    taps = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return taps / taps.sum()


def periodic_kernel_dft(size: int, sigma: float, truncate: float = 4.0, onesided: bool = False) -> torch.Tensor:
    """DFT of the 1-D kernel periodized to ``size`` samples, float64 of shape (size,) or (size // 2 + 1,).

    The taps j in [-r, r] are summed into bins j mod size (the periodized kernel), whose DFT is real because the
    kernel is symmetric.
    ``onesided`` returns the bins 0 .. size // 2 that ``torch.fft.rfft`` keeps.
    """
    taps = gaussian_kernel1d(sigma, truncate)
    radius = (taps.numel() - 1) // 2
    # Fold the taps onto one period first: memory O(size + radius) instead of a (bins x taps) phase matrix.
    folded = torch.zeros(size, dtype=torch.float64)
    folded.index_add_(0, torch.arange(-radius, radius + 1) % size, taps)
    transform = torch.fft.rfft(folded) if onesided else torch.fft.fft(folded)
    return transform.real


@functools.lru_cache(maxsize=64)
def gaussian_rfft_kernel(
    height: int, width: int, sigma: float, truncate: float, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """Cached separable 2-D transfer function on the ``rfft2`` grid: (H, W // 2 + 1), real, in ``dtype``."""
    # A first call under torch.inference_mode() would otherwise cache an inference tensor, which every later
    # call that needs gradients (an attack through a blur) could not use.
    with torch.inference_mode(False):
        along_h = periodic_kernel_dft(height, sigma, truncate)
        along_w = periodic_kernel_dft(width, sigma, truncate, onesided=True)
        return torch.outer(along_h, along_w).to(dtype=dtype, device=device)


def gaussian_blur(
    x: torch.Tensor, sigma: float, boundary: str = "circular", *, truncate: float = 4.0
) -> torch.Tensor:
    """Gaussian low-pass of each channel of each image.

    Args:
        x: float images (N, C, H, W) (any leading dims; the last two are filtered, channels never mix).
        sigma: standard deviation in pixels, in (0, 4 max(H, W)] (wider is the per-channel mean).
        boundary: ``"circular"`` (periodic, = FFT filtering, = scipy ``mode='wrap'``) or ``"reflect"``
            (half-sample symmetric, = scipy ``mode='reflect'``).
        truncate: kernel radius in standard deviations, as in scipy (radius = int(truncate * sigma + 0.5)).

    Returns:
        Tensor of the shape, dtype and device of ``x``; float16/bfloat16 are computed in float32.

    Raises:
        ConfigError: ``x`` not a float tensor, sigma not in (0, 4 max(H, W)], truncate not in (0, 40],
            unknown boundary.

    Example:
        >>> x = torch.rand(2, 3, 32, 32)
        >>> gaussian_blur(x, 2.0).shape
        torch.Size([2, 3, 32, 32])

        An impulse becomes the normalized kernel: it keeps its sum, and its peak is the kernel's centre squared
        (1 / 2.5066 per axis for sigma 1):

        >>> impulse = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
        >>> impulse[..., 4, 4] = 1.0
        >>> blurred = gaussian_blur(impulse, 1.0)
        >>> round(blurred.sum().item(), 6), round(blurred[0, 0, 4, 4].item(), 4)
        (1.0, 0.1592)
    """
    check_images(x)
    sigma, truncate = check_sigma(sigma), check_truncate(truncate)
    check_sigma_for_image(sigma, *x.shape[-2:])
    boundary = check_boundary(boundary)
    work = x.to(compute_dtype(x.dtype))
    if boundary == "reflect":
        height, width = work.shape[-2:]
        blurred = _periodic_blur(_symmetric_extension(work), sigma, truncate)
        blurred = blurred[..., :height, :width].contiguous()
    else:
        blurred = _periodic_blur(work, sigma, truncate)
    return blurred.to(x.dtype)


def highpass(x: torch.Tensor, sigma: float, boundary: str = "circular", *, truncate: float = 4.0) -> torch.Tensor:
    """Image minus its Gaussian low-pass, per channel, negative values kept.

    Args:
        x: float images (N, C, H, W).
        sigma, boundary, truncate: as in :func:`gaussian_blur`.

    Returns:
        Tensor of the shape, dtype and device of ``x``, zero-mean per channel for ``circular``.

    Raises:
        ConfigError: as :func:`gaussian_blur`.

    Example:
        >>> ramp = torch.linspace(0, 1, 64).reshape(1, 1, 8, 8)
        >>> edges = highpass(ramp, 2.0)
        >>> edges.shape, edges.mean().abs().item() < 1e-6
        (torch.Size([1, 1, 8, 8]), True)
    """
    check_images(x)
    work = x.to(compute_dtype(x.dtype))
    return (work - gaussian_blur(work, sigma, boundary, truncate=truncate)).to(x.dtype)


def _periodic_blur(x: torch.Tensor, sigma: float, truncate: float) -> torch.Tensor:
    height, width = x.shape[-2:]
    transfer = gaussian_rfft_kernel(height, width, sigma, truncate, x.dtype, x.device)
    return torch.fft.irfft2(torch.fft.rfft2(x) * transfer, s=(height, width))


def _symmetric_extension(x: torch.Tensor) -> torch.Tensor:
    """(..., H, W) -> (..., 2H, 2W): the image and its mirror images, one period of the reflect extension."""
    wide = torch.cat([x, x.flip(-1)], dim=-1)
    return torch.cat([wide, wide.flip(-2)], dim=-2)
