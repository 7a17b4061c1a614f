"""Frequency grids shared by filters, dataset spectra and model spectra, so all use one axis.

Frequencies are in cycles/pixel, in ``torch.fft.fftfreq`` order (DC at index 0, not shifted).
The radius of the Nyquist corner of a square image is sqrt(2)/2 ~ 0.707 cycles/pixel.
"""

from __future__ import annotations

import torch


def frequency_axes(height: int, width: int, device=None, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Vertical and horizontal frequencies, shapes (H, 1) and (1, W), in cycles/pixel (fftfreq order)."""
    fy = torch.fft.fftfreq(height, device=device, dtype=dtype).reshape(height, 1)
    fx = torch.fft.fftfreq(width, device=device, dtype=dtype).reshape(1, width)
    return fy, fx


def radial_frequency(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """|f| in cycles/pixel on the full (H, W) FFT grid, fftfreq order (DC at [0, 0])."""
    fy, fx = frequency_axes(height, width, device=device, dtype=dtype)
    return torch.sqrt(fy * fy + fx * fx)


def orientation(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Angle of each frequency in radians in [0, pi): (H, W), fftfreq order; 0 = horizontal frequency."""
    fy, fx = frequency_axes(height, width, device=device, dtype=dtype)
    return torch.remainder(torch.atan2(fy.expand(height, width), fx.expand(height, width)), torch.pi)
