"""Depthwise-separable networks for small images, from torchvision: MobileNetV2 and ShuffleNetV2 with their
ImageNet stems made stride 1 (the usual CIFAR ports), so 32x32 input is downsampled 8 times, not 32.

The first module is the normalization (:class:`~freqprobe.models.pixel_space.PixelSpaceModel`); the stem conv takes
the data's channels directly.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from freqprobe.models.pixel_space import PixelSpaceModel
from freqprobe.models.registry import MODELS
from freqprobe.models.small_input import check_classes, init_conv_kaiming, pixel_space, refuse_unsupported, scaled_width

# Sandler et al. 2018, Table 2: (expansion t, channels c, repeats n, stride s). The CIFAR port makes the second
# row stride 1 (with the stride-1 stem: 3 subsamplings, 32 -> 4).
MOBILENET_V2_SMALL_INPUT = [
    [1, 16, 1, 1],
    [6, 24, 2, 1],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
]
# Ma et al. 2018, Table 5, ShuffleNet v2 1x: stem, three stages, final 1x1 conv channels; stage repeats.
SHUFFLENET_V2_CHANNELS = (24, 116, 232, 464, 1024)
SHUFFLENET_V2_REPEATS = (4, 8, 4)


@MODELS.register("mobilenet_v2")
def mobilenet_v2(
    in_channels: int = 3, num_classes: int = 10, mean=None, std=None, width_multiplier: float = 1.0, **options: Any
) -> PixelSpaceModel:
    """MobileNetV2 (Sandler et al. 2018), torchvision's class with its ``width_mult``, for small images: stem
    3x3 conv stride 1 taking ``in_channels``, second bottleneck stage stride 1 (2.24 M parameters at 3 channels and
    10 classes, width 1). As in the paper and torchvision, a ``width_multiplier`` below 1 leaves the last 1x1 conv
    at 1280 channels."""
    refuse_unsupported("mobilenet_v2", options)
    check_classes(in_channels, num_classes)
    from torchvision.models import MobileNetV2
    from torchvision.ops.misc import Conv2dNormActivation

    body = MobileNetV2(
        num_classes=num_classes, width_mult=width_multiplier, inverted_residual_setting=MOBILENET_V2_SMALL_INPUT
    )
    stem_width = body.features[0].out_channels
    body.features[0] = Conv2dNormActivation(
        in_channels, stem_width, stride=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU6
    )
    init_conv_kaiming(body.features[0])  # torchvision's init for MobileNetV2 convs
    return pixel_space(body, in_channels, mean, std)


@MODELS.register("shufflenet_v2")
def shufflenet_v2(
    in_channels: int = 3, num_classes: int = 10, mean=None, std=None, width_multiplier: float = 1.0, **options: Any
) -> PixelSpaceModel:
    """ShuffleNetV2 1x (Ma et al. 2018), torchvision's class, for small images: the stem conv stride 1 taking
    ``in_channels`` and no max-pool (1.26 M parameters at 3 channels and 10 classes, width 1).

    ``width_multiplier`` scales every channel count to a multiple of 4 (channel split needs even counts), so
    0.5 gives 12/56/116/232/512, not the paper's 0.5x table.
    """
    refuse_unsupported("shufflenet_v2", options)
    check_classes(in_channels, num_classes)
    from torchvision.models import ShuffleNetV2

    channels = [scaled_width(c, width_multiplier, divisor=4) for c in SHUFFLENET_V2_CHANNELS]
    body = ShuffleNetV2(list(SHUFFLENET_V2_REPEATS), channels, num_classes=num_classes)
    body.conv1 = nn.Sequential(
        nn.Conv2d(in_channels, channels[0], kernel_size=3, stride=1, padding=1, bias=False),
        nn.BatchNorm2d(channels[0]),
        nn.ReLU(inplace=True),
    )
    body.maxpool = nn.Identity()
    return pixel_space(body, in_channels, mean, std)
