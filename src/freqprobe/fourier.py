"""Frequency grids shared by filters, dataset spectra and model spectra, so all use one axis.

Frequencies are in cycles/pixel, in ``torch.fft.fftfreq`` order (DC at index 0, not shifted).
The radius of the Nyquist corner of a square image is sqrt(2)/2 ~ 0.707 cycles/pixel.

Radial band masks (:func:`radial_band_mask`) decide ring membership exactly: the frequency (ky/H, kx/W) of an H x W
grid has |f|^2 H^2 W^2 = ky^2 W^2 + kx^2 H^2, an integer, which is compared with r^2 H^2 W^2 for the radius r taken
as an exact rational (:func:`exact_radius`). A float square root would misplace frequencies on the radius, e.g.
(3, 4)/28 on r = 5/28, or every frequency on k/28 when the radius is stored rounded just above it.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import torch

from freqprobe.errors import ConfigError

# int64 holds every squared radius of the grids used here (H, W < 2^15); thresholds above it keep everything
_MAX_UNITS = 2**62


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


def exact_radius(value: Fraction | int | float | str, what: str = "radius") -> Fraction:
    """A radius in cycles/pixel (>= 0) as an exact rational.

    A Fraction or int is taken as is and a string is parsed exactly (``"5/28"``, ``"0.25"``, ``"1e-1"``). A float
    stands for the simplest rational that rounds to it, so ``0.1`` is 1/10 and ``5 / 28`` is 5/28: a float cannot
    tell those apart from the nearby binary value, and radii are meant as such simple numbers.

    >>> exact_radius(5 / 28), exact_radius("0.25"), exact_radius(0.1)
    (Fraction(5, 28), Fraction(1, 4), Fraction(1, 10))

    Raises:
        ConfigError: not a number, not finite, or negative (the message names ``what``).
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Rational, float, str)):
        raise ConfigError(f"{what} must be a number of cycles/pixel (e.g. 0.25 or 5/28), got {value!r}")
    try:
        if isinstance(value, float):
            radius = _simplest_rational_rounding_to(value)
        else:
            radius = Fraction(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError, ZeroDivisionError):
        raise ConfigError(f"{what} {value!r} is not a finite number of cycles/pixel (e.g. 0.25 or 5/28)") from None
    if radius < 0:
        raise ConfigError(f"{what} must be >= 0 cycles/pixel, got {value!r}")
    return radius


def squared_radius_units(height: int, width: int, onesided: bool = False, device=None) -> torch.Tensor:
    """|f|^2 H^2 W^2 = ky^2 W^2 + kx^2 H^2 as int64, (H, W) in fftfreq order or (H, W // 2 + 1) on the rfft2 grid.

    ky, kx are the integer frequency indices (``fftfreq(n) * n``); for even W the last rfft bin is the Nyquist bin,
    whose |kx| = W / 2 either sign.
    """
    ky = _integer_frequencies(height, device).reshape(height, 1)
    kx = _integer_frequencies(width, device).reshape(1, width)
    if onesided:
        kx = kx[:, : width // 2 + 1].abs()
    return ky * ky * (width * width) + kx * kx * (height * height)


def radial_band_mask(
    height: int,
    width: int,
    low: Fraction | float | str = 0,
    high: Fraction | float | str | None = None,
    onesided: bool = False,
    device=None,
) -> torch.Tensor:
    """Boolean mask of low <= |f| < high (cycles/pixel, exact) on the (H, W) grid, or (H, W // 2 + 1) if onesided.

    ``high=None`` has no upper edge. Edges are read by :func:`exact_radius`; an empty band (high <= low) gives an
    all-False mask.

    Raises:
        ConfigError: an edge that is not a finite number >= 0.
    """
    units = squared_radius_units(height, width, onesided, device)
    mask = units >= _units_threshold(exact_radius(low, "band low edge"), height, width)
    if high is not None:
        mask &= units < _units_threshold(exact_radius(high, "band high edge"), height, width)
    return mask


def _units_threshold(radius: Fraction, height: int, width: int) -> int:
    """The integer t with units < t exactly when |f| < radius: ceil(r^2 H^2 W^2), as the units are integers."""
    return min(math.ceil(radius * radius * (height * height) * (width * width)), _MAX_UNITS)


def _integer_frequencies(size: int, device=None) -> torch.Tensor:
    """fftfreq(size) * size as int64: 0, 1, ..., then the negative frequencies (-size // 2 first for even size)."""
    index = torch.arange(size, dtype=torch.int64, device=device)
    return (index + size // 2) % size - size // 2


def _simplest_rational_rounding_to(value: float) -> Fraction:
    """The first continued-fraction convergent of ``value``'s exact binary value that rounds back to ``value``.

    A rational k/N within half an ulp of the float is one of those convergents (Legendre's theorem) when N is below
    about 10^7, so 0.1 gives 1/10 and the float 5 / 28 gives 5/28. Raises ValueError/OverflowError if not finite.
    """
    exact = Fraction(value)
    rest = exact
    p_before, q_before, p, q = 0, 1, 1, 0
    while True:
        term = math.floor(rest)
        p_before, q_before, p, q = p, q, term * p + p_before, term * q + q_before
        candidate = Fraction(p, q)
        if float(candidate) == value:
            return candidate
        rest = 1 / (rest - term)  # nonzero: the last convergent is ``exact`` itself, which rounds to value
