"""Validation of filter inputs and parameters, shared by the functions, the modules and the spec parser.

Every failure raises :class:`freqprobe.errors.ConfigError` with one line naming the value and the fix.
"""

from __future__ import annotations

import torch

from freqprobe.errors import ConfigError
from freqprobe.specs import CORNER_RADIUS, POSITIVE, Interval, check_number, format_number

BOUNDARIES = ("circular", "reflect")
# Before the image size is known: sigma of images up to 1024 pixels a side (see check_sigma_for_image).
MAX_SIGMA = 4096.0
MAX_SIGMA_PER_SIDE = 4
MAX_TRUNCATE = 40.0
SIGMA_RANGE = Interval(0, MAX_SIGMA, low_open=True, unit="pixels")
TRUNCATE_RANGE = Interval(0, MAX_TRUNCATE, low_open=True, unit="standard deviations")
# A low edge at or beyond the corner of the spectrum leaves an empty band (an all-zero image).
BAND_LOW_RANGE = Interval(0, CORNER_RADIUS, high_open=True, unit="cycles/pixel")

# torch's CPU FFT has no half-precision kernels; these are computed in float32 and cast back.
_FFT_NATIVE_DTYPES = (torch.float32, torch.float64)


def check_images(x: torch.Tensor, what: str = "filter input") -> None:
    """Require a real floating tensor with at least (H, W) dims; filters act on the last two."""
    if not isinstance(x, torch.Tensor):
        raise ConfigError(f"{what} must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if not x.is_floating_point():
        raise ConfigError(
            f"{what} must be a float tensor (N, C, H, W) in [0, 1], got dtype {x.dtype}; "
            f"convert uint8 images with freqprobe.data.to_float"
        )
    if x.ndim < 2:
        raise ConfigError(f"{what} must have shape (N, C, H, W), got shape {tuple(x.shape)}")


def check_sigma(sigma: float) -> float:
    """A Gaussian standard deviation in pixels, in (0, MAX_SIGMA], returned as float.

    The bound only keeps absurd values out before any image is seen; :func:`check_sigma_for_image` bounds sigma by
    the image it blurs.
    """
    return check_number(sigma, "sigma", SIGMA_RANGE)


def check_sigma_for_image(sigma: float, height: int, width: int) -> float:
    """``sigma`` if it is at most 4 x the image's longer side, beyond which a blur is the per-channel mean.

    Already at sigma = 2 max(H, W) the gain of the lowest non-zero frequency is exp(-2 pi^2) ~ 3e-9 for both
    boundaries (the reflect extension has period 2H x 2W); what is left at 4 max(H, W) is a ~1e-6 ripple from the
    truncated kernel's end taps: a wider blur changes nothing.

    Raises:
        ConfigError: sigma beyond that bound, with the sensible range for this image size.
    """
    limit = MAX_SIGMA_PER_SIDE * max(int(height), int(width))
    if sigma > limit:
        raise ConfigError(
            f"sigma {format_number(sigma)} is beyond {MAX_SIGMA_PER_SIDE} x the {height}x{width}-pixel image side: "
            f"a blur that wide is the per-channel image mean; use sigma in (0, {limit}] for these images"
        )
    return sigma


def check_truncate(truncate: float) -> float:
    """Kernel radius in standard deviations, in (0, MAX_TRUNCATE] (a Gaussian beyond 40 sigma is exactly 0)."""
    return check_number(truncate, "truncate", TRUNCATE_RANGE)


def check_band(low: float, high: float) -> tuple[float, float]:
    """Band edges in cycles/pixel with 0 <= low < corner radius (~0.707) and low < high; a high edge beyond the
    corner keeps every frequency above ``low``."""
    low_value = check_number(low, "band low edge", BAND_LOW_RANGE)
    high_value = check_number(high, "band high edge", POSITIVE)
    if low_value >= high_value:
        raise ConfigError(f"band low edge must be below the high edge, got low={low!r} >= high={high!r}")
    return low_value, high_value


def check_boundary(boundary: str) -> str:
    if boundary not in BOUNDARIES:
        raise ConfigError(f"unknown boundary {boundary!r}; valid: {', '.join(BOUNDARIES)}")
    return boundary


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the FFTs run in: the input's own for float32/float64, float32 for half types."""
    return dtype if dtype in _FFT_NATIVE_DTYPES else torch.float32
