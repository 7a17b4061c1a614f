"""Anti-aliased downsampling (Zhang 2019, "Making convolutional networks shift-invariant again").

A strided operation samples its input below the Nyquist rate and folds high frequencies onto low ones. BlurPool
low-passes each channel with a fixed binomial kernel before keeping every ``stride``-th pixel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.errors import ConfigError


def binomial_kernel_2d() -> torch.Tensor:
    """The 3x3 binomial low-pass ``[1, 2, 1]^T [1, 2, 1] / 16``, shape (3, 3).

    Its response is ``cos^2(pi f_y) cos^2(pi f_x)``: 1 at DC and exactly 0 at the Nyquist frequency 0.5.
    """
    taps = torch.tensor([1.0, 2.0, 1.0])
    return torch.outer(taps, taps) / 16.0


class BlurPool2d(nn.Module):
    """Per-channel binomial blur (reflect padding), then subsampling by ``stride``.

    Input (N, C, H, W) -> output (N, C, ceil(H / stride), ceil(W / stride)), keeping the pixels at even offsets,
    i.e. the same grid a stride-2 3x3 convolution with padding 1 samples. A side of length 1 cannot be reflected
    and is padded by replication instead (a constant signal, which the blur leaves unchanged).

    Raises:
        ConfigError: ``channels < 1`` or ``stride < 1``.
    """

    kernel: torch.Tensor

    def __init__(self, channels: int, stride: int = 2):
        super().__init__()
        if channels < 1 or stride < 1:
            raise ConfigError(f"BlurPool2d needs channels >= 1 and stride >= 1, got {channels} and {stride}")
        self.channels = channels
        self.stride = stride
        kernel = binomial_kernel_2d().expand(channels, 1, 3, 3).contiguous()
        # A fixed filter, not a weight: kept out of the state dict so checkpoints hold learned tensors only.
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mode = "reflect" if min(x.shape[-2:]) >= 2 else "replicate"
        dtype = _blur_dtype(x)
        # Outside autocast, so the blur runs in `dtype`; the result goes back to the input's dtype.
        with torch.autocast(x.device.type, enabled=False):
            padded = F.pad(x.to(dtype), (1, 1, 1, 1), mode=mode)
            out = F.conv2d(padded, self.kernel.to(dtype), stride=self.stride, groups=self.channels)
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.channels}, stride={self.stride}, kernel=binomial3"


def _blur_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype to blur ``x`` in: float32 for reduced precision on CPU, else ``x``'s own.

    On CPU the backward pass of a bf16 depthwise convolution is about 10x slower than in float32 (measured with
    torch 2.13, oneDNN, AVX512-BF16), which made antialiased bf16 training twice as slow as plain training.
    """
    if x.device.type == "cpu" and x.dtype in (torch.bfloat16, torch.float16):
        return torch.float32
    return x.dtype
