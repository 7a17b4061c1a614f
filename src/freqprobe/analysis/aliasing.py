"""Aliasing of strided convolutions: how much of a kernel's response lies above the Nyquist limit of its output.

A convolution with stride (s_y, s_x) keeps every s-th output sample. Subsampling a signal by s along an axis folds
every frequency f of that axis onto f mod 1/s, so only the band |f| <= 0.5/s (the new Nyquist limit) survives
unchanged; everything above it lands on a lower frequency it does not belong to (Shannon; see Zhang 2019, "Making
Convolutional Networks Shift-Invariant Again", ICML, for the consequences in CNNs).

Definition used throughout freqprobe. For a kernel with power response P(f) = |K(f)|^2 on the zero-padded
(H, W) grid (cycles/pixel, fftfreq order), the **aliasing share** is

    aliasing_share = sum_{f aliased} P(f) / sum_f P(f),
    f = (f_y, f_x) is aliased  iff  |f_y| > 0.5 / s_y  or  |f_x| > 0.5 / s_x.

It is the share of the kernel's output energy that folds back when the input is white noise (flat spectrum): the
output's power spectrum is then P(f) itself. The pass region is the square |f_y| <= 0.5/s_y, |f_x| <= 0.5/s_x, not a
disc, because subsampling acts on each axis separately. A frequency exactly on the new Nyquist limit counts as kept.
With stride 1 nothing aliases (share 0). A smooth low-pass kernel (a wide Gaussian) aliases almost nothing; a
checkerboard kernel, whose energy sits at (0.5, 0.5), aliases almost all of it.
"""

from __future__ import annotations

import torch

from freqprobe.errors import ConfigError
from freqprobe.fourier import frequency_axes

# Frequencies on the grid are k / H; a tiny tolerance keeps |f| == 0.5 / s (e.g. 0.25 for s = 2) on the kept side
# despite rounding in fftfreq.
_EDGE_TOLERANCE = 1e-9


def as_stride_pair(stride: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """(s_y, s_x) from an int or a pair; raises ConfigError unless both are integers >= 1."""
    pair = (stride, stride) if isinstance(stride, int) else tuple(stride)
    if len(pair) != 2 or any(not isinstance(s, int) or s < 1 for s in pair):
        raise ConfigError(f"stride {stride!r} is not a positive integer or a pair of them; use e.g. 2 or (2, 2)")
    return int(pair[0]), int(pair[1])


def alias_mask(height: int, width: int, stride: int | tuple[int, int]) -> torch.Tensor:
    """Bool (H, W), fftfreq order: True where a frequency lies above the new Nyquist limit of ``stride`` and folds."""
    stride_y, stride_x = as_stride_pair(stride)
    fy, fx = frequency_axes(height, width, dtype=torch.float64)
    above_y = fy.abs() > 0.5 / stride_y + _EDGE_TOLERANCE
    above_x = fx.abs() > 0.5 / stride_x + _EDGE_TOLERANCE
    return above_y | above_x


def aliasing_share_of_power(power: torch.Tensor, stride: int | tuple[int, int]) -> torch.Tensor:
    """Aliasing share of each power grid: power (..., H, W) fftfreq order -> (...); NaN where the power is all zero.

    The reference definition on explicit grids; :func:`freqprobe.analysis.kernels.kernel_statistics` computes the
    same number in closed form from the kernel taps.
    """
    mask = alias_mask(*power.shape[-2:], stride).to(power.device)
    total = power.sum(dim=(-2, -1))
    aliased = (power * mask.to(power.dtype)).sum(dim=(-2, -1))
    return torch.where(total > 0, aliased / total, torch.full_like(total, float("nan")))
