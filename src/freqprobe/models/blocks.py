"""ResNet building blocks: the basic residual block and its two kinds of shortcut (He et al. 2016).

Every 3x3 convolution is built by a *conv factory*, a hook for layers that replace ``nn.Conv2d`` (the band-pass
convolutions of issue 5). With ``antialias=True`` each strided operation becomes its stride-1 version followed by
:class:`~freqprobe.models.blurpool.BlurPool2d`.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.models.blurpool import BlurPool2d


class ConvFactory(Protocol):
    """Builds a conv layer; called with keyword arguments named as ``nn.Conv2d``'s, so ``nn.Conv2d`` itself is one.

    The returned module maps (N, in_channels, H, W) to (N, out_channels, H', W') exactly like ``nn.Conv2d`` with the
    same arguments (dilation 1, groups 1).
    """

    def __call__(
        self, *, in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int, bias: bool
    ) -> nn.Module: ...


def conv3x3(factory: ConvFactory, in_channels: int, out_channels: int, stride: int = 1) -> nn.Module:
    """A bias-free 3x3 convolution with padding 1 (a BatchNorm follows, so a bias would be redundant)."""
    return factory(
        in_channels=in_channels, out_channels=out_channels, kernel_size=3, stride=stride, padding=1, bias=False
    )


class ZeroPadShortcut(nn.Module):
    """Option A shortcut: parameter-free. Subsample by ``stride`` (keeping even offsets), then append zero channels.

    (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)); output channels
    ``[0, in_channels)`` carry the input, the rest are zero. With ``antialias`` the subsampling is a BlurPool.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, antialias: bool = False):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"option A shortcut cannot shrink {in_channels} channels to {out_channels}")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.pool = BlurPool2d(in_channels, stride) if antialias and stride > 1 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = self.pool(x)
        elif self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.out_channels - self.in_channels))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class ProjectionShortcut(nn.Module):
    """Option B shortcut: 1x1 convolution + BatchNorm, (N, in, H, W) -> (N, out, ceil(H / s), ceil(W / s)).

    With ``antialias`` it is BlurPool -> stride-1 1x1 conv -> BN; a 1x1 convolution commutes with the per-channel
    blur, so this equals conv -> blur -> subsample at a quarter of the cost.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, antialias: bool = False):
        super().__init__()
        blur = antialias and stride > 1
        self.pool = BlurPool2d(in_channels, stride) if blur else nn.Identity()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1 if blur else stride, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.pool(x)))


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a residual shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).

    ``shortcut`` is ``"A"`` (zero padding, parameter-free) or ``"B"`` (projection); either is used only where the
    shape changes, otherwise the shortcut is the identity. With ``antialias`` and ``stride > 1`` the block follows
    Zhang 2019: conv1 runs at stride 1 and ``blurpool`` subsamples after its ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        shortcut: str = "A",
        antialias: bool = False,
        conv: ConvFactory = nn.Conv2d,
    ):
        super().__init__()
        blur = antialias and stride > 1
        self.conv1 = conv3x3(conv, in_channels, out_channels, stride=1 if blur else stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.blurpool = BlurPool2d(out_channels, stride) if blur else nn.Identity()
        self.conv2 = conv3x3(conv, out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = make_shortcut(shortcut, in_channels, out_channels, stride, antialias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(self.blurpool(out)))
        return F.relu(out + self.shortcut(x))


def make_shortcut(kind: str, in_channels: int, out_channels: int, stride: int, antialias: bool) -> nn.Module:
    """The identity where shapes match, else an option ``"A"`` or ``"B"`` shortcut."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    if kind == "A":
        return ZeroPadShortcut(in_channels, out_channels, stride, antialias)
    if kind == "B":
        return ProjectionShortcut(in_channels, out_channels, stride, antialias)
    raise ValueError(f"unknown shortcut kind {kind!r}; valid: A, B")
