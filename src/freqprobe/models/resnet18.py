"""ResNet-18, CIFAR variant: the ImageNet widths and depth with a small-image stem."""

from __future__ import annotations

from typing import Any

from freqprobe.models.registry import MODELS
from freqprobe.models.resnet import ResNet
from freqprobe.models.small_input import scaled_width

RESNET18_WIDTHS = (64, 128, 256, 512)


@MODELS.register("resnet18")
def resnet18(width_multiplier: float = 1.0, **kwargs: Any) -> ResNet:
    """ResNet-18 for 32x32-scale images: 3x3 stride-1 stem with 64 channels and no max-pool (instead of the ImageNet
    7x7 stride-2 stem + pool), 4 stages of 2 basic blocks with 64/128/256/512 channels, global average pool, fc.

    Shortcuts are 1x1 conv + BN projections (option B) where the shape changes, identities elsewhere; about 11.17 M
    parameters with 3 input channels and 10 classes. ``width_multiplier`` scales the widths (multiples of 8).
    ``kwargs`` go to :class:`~freqprobe.models.resnet.ResNet`.
    """
    widths = [scaled_width(width, width_multiplier) for width in RESNET18_WIDTHS]
    return ResNet(widths, (2, 2, 2, 2), shortcut="B", **kwargs)
