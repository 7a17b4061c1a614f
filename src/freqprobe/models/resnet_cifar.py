"""The CIFAR ResNets of He et al. 2016 ("Deep residual learning for image recognition", section 4.2)."""

from __future__ import annotations

from typing import Any

from freqprobe.models.registry import MODELS
from freqprobe.models.resnet import ResNet
from freqprobe.models.small_input import scaled_width

CIFAR_WIDTHS = (16, 32, 64)


def cifar_resnet(depth: int, width_multiplier: float = 1.0, **kwargs: Any) -> ResNet:
    """A ``depth = 6n + 2`` layer CIFAR ResNet: 3x3 stem with 16 channels, 3 stages of n basic blocks with 16/32/64
    channels (the 2nd and 3rd start with stride 2), global average pool, fully connected layer.

    Shortcuts are option A of the paper, as used there for CIFAR: parameter-free, subsampling by 2 and zero-padding
    the new channels. ``width_multiplier`` scales the widths (multiples of 4: 0.5 gives 8/16/32). ``kwargs`` go to
    :class:`~freqprobe.models.resnet.ResNet`.
    """
    if (depth - 2) % 6 != 0 or depth < 8:
        raise ValueError(f"CIFAR ResNet depth must be 6n + 2 with n >= 1, got {depth}")
    n = (depth - 2) // 6
    widths = [scaled_width(width, width_multiplier, divisor=4) for width in CIFAR_WIDTHS]
    return ResNet(widths, (n, n, n), shortcut="A", **kwargs)


@MODELS.register("resnet20")
def resnet20(**kwargs: Any) -> ResNet:
    """ResNet-20 (n = 3, ~0.27 M parameters with 10 classes), option A shortcuts."""
    return cifar_resnet(20, **kwargs)


@MODELS.register("resnet32")
def resnet32(**kwargs: Any) -> ResNet:
    """ResNet-32 (n = 5, ~0.46 M parameters with 10 classes), option A shortcuts."""
    return cifar_resnet(32, **kwargs)


@MODELS.register("resnet56")
def resnet56(**kwargs: Any) -> ResNet:
    """ResNet-56 (n = 9, ~0.85 M parameters with 10 classes), option A shortcuts."""
    return cifar_resnet(56, **kwargs)
