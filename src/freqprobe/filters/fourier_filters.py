"""Filters defined directly on the 2-D spectrum: whitening, ideal radial band-pass, log-magnitude.

All act on the last two dims of float (N, C, H, W) images, each channel on its own; the DFT makes them periodic,
so they take no boundary argument. Frequencies are in cycles/pixel (:mod:`freqprobe.fourier`).
"""

from __future__ import annotations

import torch

from freqprobe.errors import ConfigError
from freqprobe.filters.checks import check_band, check_images, compute_dtype
from freqprobe.fourier import radial_band_mask


def amplitude_spectrum(x: torch.Tensor) -> torch.Tensor:
    """|FFT2(x)| per channel, (N, C, H, W) -> (N, C, H, W), fftfreq order, unnormalized."""
    check_images(x)
    return torch.fft.fft2(x.to(compute_dtype(x.dtype))).abs().to(x.dtype)


def whiten(x: torch.Tensor, mean_amplitude: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Divide each image's spectrum by a mean amplitude spectrum, per channel, and return to pixel space.

    y = Re(IFFT2(FFT2(x) / (A + eps))). With A the mean of |FFT2| over the training split, the mean amplitude
    spectrum of the whitened training images is A / (A + eps) ~ 1 at every frequency. For a real x and an A that is
    even in frequency (as every mean of amplitudes of real images is) the inverse transform is real up to rounding.

    Args:
        x: float images (N, C, H, W).
        mean_amplitude: (C, H, W) amplitude spectrum in fftfreq order (DC at [..., 0, 0]), >= 0.
        eps: added to the amplitude so frequencies absent from the training data do not divide by zero.

    Returns:
        Tensor of the shape, dtype and device of ``x``.

    Raises:
        ConfigError: ``x`` not float, or ``mean_amplitude`` not of shape (C, H, W) of ``x``.

    Example:
        After whitening, the mean amplitude spectrum of the images it was fitted on is flat:

        >>> x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> mean_amplitude = amplitude_spectrum(x).mean(dim=0)  # (C, H, W)
        >>> white = whiten(x, mean_amplitude)
        >>> white.shape, torch.allclose(amplitude_spectrum(white).mean(dim=0), torch.ones_like(mean_amplitude))
        (torch.Size([4, 1, 8, 8]), True)
    """
    check_images(x)
    if x.ndim < 3 or tuple(mean_amplitude.shape) != tuple(x.shape[-3:]):
        raise ConfigError(
            f"whiten: mean amplitude of shape {tuple(mean_amplitude.shape)} does not match images of shape "
            f"{tuple(x.shape)}; fit it on (C, H, W) images of the same dataset"
        )
    work_dtype = compute_dtype(x.dtype)
    spectrum = torch.fft.fft2(x.to(work_dtype))
    gain = 1.0 / (mean_amplitude.to(dtype=work_dtype, device=x.device) + eps)
    return torch.fft.ifft2(spectrum * gain).real.to(x.dtype)


def band_mask(height: int, width: int, low: float, high: float, onesided: bool = False, device=None) -> torch.Tensor:
    """Boolean (H, W) mask of low <= |f| < high in fftfreq order, or (H, W // 2 + 1) on the ``rfft2`` grid.

    Membership is decided exactly (:func:`freqprobe.fourier.radial_band_mask`): a frequency on an edge, such as
    (3, 4)/28 on 5/28, belongs to the band above it. A float edge stands for the simplest rational that rounds to it
    (0.1 is 1/10, 5 / 28 is 5/28); pass a ``fractions.Fraction`` for anything else.

    Raises:
        ConfigError: low < 0 or low >= high.
    """
    check_band(low, high)
    return radial_band_mask(height, width, low, high, onesided=onesided, device=device)


def band_pass(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Ideal radial band-pass: keep the spectrum where low <= |f| < high cycles/pixel, zero it elsewhere.

    The mask is even in frequency, so the output of a real image is real; it is computed on the ``rfft2`` grid.
    ``low = 0`` keeps the mean (DC); the grid's corner has |f| ~ 0.707, so ``high > 0.71`` keeps everything above
    ``low``.

    Args:
        x: float images (N, C, H, W).
        low: lower edge (inclusive), cycles/pixel, >= 0.
        high: upper edge (exclusive), cycles/pixel, > low.

    Returns:
        Tensor of the shape, dtype and device of ``x``.

    Raises:
        ConfigError: ``x`` not float, low < 0 or low >= high.

    Example:
        Vertical stripes of 0.25 cycles/pixel on a grey mean: the band around 0.25 keeps the stripes alone, the band
        below 0.1 only the mean.

        >>> stripes = torch.tensor([1.0, 0.0, -1.0, 0.0]).repeat(8, 2).reshape(1, 1, 8, 8)
        >>> x = 0.5 + 0.25 * stripes
        >>> torch.allclose(band_pass(x, 0.2, 0.3), 0.25 * stripes, atol=1e-6)
        True
        >>> torch.allclose(band_pass(x, 0.0, 0.1), torch.full_like(x, 0.5))
        True
    """
    check_images(x)
    height, width = x.shape[-2:]
    work = x.to(compute_dtype(x.dtype))
    mask = band_mask(height, width, low, high, onesided=True, device=x.device).to(work.dtype)
    return torch.fft.irfft2(torch.fft.rfft2(work) * mask, s=(height, width)).to(x.dtype)


def log_magnitude(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The fftshifted log-magnitude spectrum log(|FFT2(x)| + eps) of each channel, as an image.

    Args:
        x: float images (N, C, H, W).
        eps: keeps log finite where the amplitude is 0.

    Returns:
        Tensor of the shape, dtype and device of ``x``; DC at [..., H // 2, W // 2].

    Raises:
        ConfigError: ``x`` not float.

    Example:
        A constant image has all its amplitude at DC, log(0.5 * 4 * 4) at the centre; elsewhere log(eps):

        >>> spectrum = log_magnitude(torch.full((1, 1, 4, 4), 0.5))
        >>> round(spectrum[0, 0, 2, 2].item(), 4), round(spectrum[0, 0, 0, 0].item(), 2)
        (2.0794, -18.42)
    """
    check_images(x)
    amplitude = torch.fft.fft2(x.to(compute_dtype(x.dtype))).abs()
    return torch.fft.fftshift(torch.log(amplitude + eps), dim=(-2, -1)).to(x.dtype)
