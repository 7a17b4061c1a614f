"""Validation of filter inputs and parameters, shared by the functions, the modules and the spec parser.

Every failure raises :class:`freqprobe.errors.ConfigError` with one line naming the value and the fix.
"""

from __future__ import annotations

import math
import numbers

import torch

from freqprobe.errors import ConfigError

BOUNDARIES = ("circular", "reflect")

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
    """A finite, positive Gaussian standard deviation in pixels, returned as float."""
    value = _as_finite_float(sigma, "sigma")
    if value <= 0:
        raise ConfigError(f"sigma must be a positive number of pixels, got {sigma!r}")
    return value


def check_truncate(truncate: float) -> float:
    value = _as_finite_float(truncate, "truncate")
    if value <= 0:
        raise ConfigError(f"truncate must be a positive number of standard deviations, got {truncate!r}")
    return value


def check_band(low: float, high: float) -> tuple[float, float]:
    """Band edges in cycles/pixel with 0 <= low < high."""
    low_value = _as_finite_float(low, "band low edge")
    high_value = _as_finite_float(high, "band high edge")
    if low_value < 0:
        raise ConfigError(f"band low edge must be >= 0 cycles/pixel, got {low!r}")
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


def _as_finite_float(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return number
