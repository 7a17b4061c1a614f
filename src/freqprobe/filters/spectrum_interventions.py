"""Filters that change the input spectrum on purpose: a power-law amplitude, phase only, amplitude swapped.

Each acts per channel on the 2-D DFT of float (N, C, H, W) images, keeps the phase of the image it returns and
replaces the amplitude; the result is ``Re(IFFT2(...))``, real up to rounding because an amplitude that is even in
frequency with the image's odd phase is a Hermitian spectrum. Frequencies in cycles/pixel (:mod:`freqprobe.fourier`).
"""

from __future__ import annotations

import torch

from freqprobe.errors import ConfigError
from freqprobe.filters.checks import check_images, compute_dtype
from freqprobe.fourier import radial_frequency
from freqprobe.specs import Interval, check_number

ALPHA_RANGE = Interval(-8, 8, unit="(power-law exponent of |f|)")


def _unit_phase(spectrum: torch.Tensor) -> torch.Tensor:
    """exp(i angle(F)); 1 where F is 0 (an undefined phase taken as 0)."""
    magnitude = spectrum.abs()
    return torch.where(magnitude > 0, spectrum / torch.where(magnitude > 0, magnitude, 1.0), 1.0)


def powerlaw_spectrum(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Reshape each channel's power spectrum to the radial power law |f|^alpha, keeping its phase and its energy.

    The amplitude becomes c |f|^(alpha / 2) at every f != 0, c chosen per channel so that the energy outside DC
    (sum over f != 0 of |FFT2|^2) is the image's own; DC (the mean) is kept. So the total energy is kept, and the
    radially averaged power of the result falls with exponent ``alpha``, the scale of
    :func:`freqprobe.spectra.power_law_slope` (natural images: about -2). A constant channel stays constant.

    Args:
        x: float images (N, C, H, W).
        alpha: exponent of the power, in [-8, 8] (0: white, -2: natural-image-like).

    Returns:
        Tensor of the shape, dtype and device of ``x``.

    Raises:
        ConfigError: ``x`` not float, ``alpha`` not a finite number in [-8, 8].

    Example:
        >>> from freqprobe.spectra import power_law_slope, power_spectrum, radial_profile
        >>> x = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> y = powerlaw_spectrum(x, -2.0)
        >>> round(power_law_slope(*radial_profile(power_spectrum(y).mean(dim=(0, 1)))), 1)
        -2.0
        >>> torch.allclose(y.square().sum(), x.square().sum())
        True
    """
    check_images(x)
    alpha = check_number(alpha, "powerlaw ALPHA", ALPHA_RANGE)
    work_dtype = compute_dtype(x.dtype)
    height, width = x.shape[-2:]
    spectrum = torch.fft.fft2(x.to(work_dtype))
    radius = radial_frequency(height, width, device=x.device, dtype=work_dtype)
    target = torch.where(radius > 0, radius.clamp_min(1e-12).pow(alpha / 2), 0.0)  # DC: kept separately below
    ac_energy = spectrum.abs().square().sum(dim=(-2, -1), keepdim=True) - spectrum[..., :1, :1].abs().square()
    scale = (ac_energy.clamp_min(0) / target.square().sum()).sqrt()
    reshaped = _unit_phase(spectrum) * (scale * target)
    reshaped[..., 0, 0] = spectrum[..., 0, 0]
    return torch.fft.ifft2(reshaped).real.to(x.dtype)


def phase_only(x: torch.Tensor, mean_amplitude: torch.Tensor) -> torch.Tensor:
    """Each channel's phase with a given amplitude spectrum: Re(IFFT2(A exp(i angle FFT2(x)))).

    With A the training split's mean |FFT2| (the ``phase`` filter fits it as ``whiten`` does), every image gets the
    same amplitude spectrum and keeps only its own phase (Oppenheim & Lim 1981, "The importance of phase in signals").

    Args:
        x: float images (N, C, H, W).
        mean_amplitude: (C, H, W) amplitude spectrum in fftfreq order, >= 0 and even in frequency.

    Returns:
        Tensor of the shape, dtype and device of ``x``.

    Raises:
        ConfigError: ``x`` not float, ``mean_amplitude`` not of shape (C, H, W) of ``x``.

    Example:
        >>> x = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> amplitude = torch.fft.fft2(x).abs().mean(dim=0)
        >>> y = phase_only(x, amplitude)
        >>> torch.allclose(torch.fft.fft2(y).abs(), amplitude.expand(3, 1, 8, 8))
        True
    """
    check_images(x)
    if x.ndim < 3 or tuple(mean_amplitude.shape) != tuple(x.shape[-3:]):
        raise ConfigError(
            f"phase: amplitude of shape {tuple(mean_amplitude.shape)} does not match images of shape "
            f"{tuple(x.shape)}; fit it on (C, H, W) images of the same dataset"
        )
    work_dtype = compute_dtype(x.dtype)
    spectrum = torch.fft.fft2(x.to(work_dtype))
    amplitude = mean_amplitude.to(device=x.device, dtype=work_dtype)
    return torch.fft.ifft2(_unit_phase(spectrum) * amplitude).real.to(x.dtype)


def amplitude_swap(x: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    """Image i with the amplitude spectrum of image ``partner[i]`` and its own phase, per channel
    (amplitude-phase recombination, Chen et al. 2021, "Amplitude-Phase Recombination", ICCV).

    Args:
        x: float images (N, C, H, W).
        partner: int64 (N,) indices into the batch.

    Returns:
        Tensor of the shape, dtype and device of ``x``.

    Raises:
        ConfigError: ``x`` not float, ``partner`` not N indices in [0, N).

    Example:
        >>> x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> y = amplitude_swap(x, torch.tensor([1, 0]))
        >>> torch.allclose(torch.fft.fft2(y).abs(), torch.fft.fft2(x).abs().flip(0))
        True
    """
    check_images(x)
    partner = torch.as_tensor(partner, device=x.device)
    if partner.shape != x.shape[:1] or (partner.numel() and (partner.min() < 0 or partner.max() >= len(x))):
        raise ConfigError(f"amplitude-swap needs one partner index in [0, {len(x)}) per image, got {partner.tolist()}")
    return recombine(x[partner], x)


def recombine(amplitude_from: torch.Tensor, phase_from: torch.Tensor) -> torch.Tensor:
    """Re(IFFT2(|FFT2(amplitude_from)| exp(i angle FFT2(phase_from)))), per channel: the amplitude of one image with
    the phase of another (both float (N, C, H, W) of one shape); dtype and device of ``phase_from``.

    Raises:
        ConfigError: not float, or the shapes differ.

    Example:
        >>> x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
        >>> torch.allclose(recombine(x, x), x)
        True
    """
    check_images(amplitude_from)
    check_images(phase_from)
    if amplitude_from.shape != phase_from.shape:
        raise ConfigError(
            f"amplitude and phase images differ in shape: {tuple(amplitude_from.shape)} vs {tuple(phase_from.shape)}"
        )
    work_dtype = compute_dtype(phase_from.dtype)
    phase = _unit_phase(torch.fft.fft2(phase_from.to(work_dtype)))
    amplitude = torch.fft.fft2(amplitude_from.to(device=phase_from.device, dtype=work_dtype)).abs()
    return torch.fft.ifft2(phase * amplitude).real.to(phase_from.dtype)


def swap_partners(count: int, seed: int = 0, device=None) -> torch.Tensor:
    """A seeded pairing without fixed points (for count >= 2): the images in a random order, each taking the
    amplitude of the next one round the cycle. Deterministic for a given count and seed.

    >>> swap_partners(5, seed=0).tolist()
    [1, 3, 4, 2, 0]
    """
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    partner = torch.empty(count, dtype=torch.int64)
    partner[order] = order.roll(-1)
    return partner.to(device)
