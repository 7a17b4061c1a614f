"""DenseNet-BC (torchvision's DenseNet class, CIFAR configuration) and the wide residual network WRN-16-4, for
small images.

The first module is the normalization (:class:`~freqprobe.models.pixel_space.PixelSpaceModel`); the stem conv takes
the data's channels directly.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.models.pixel_space import PixelSpaceModel
from freqprobe.models.registry import MODELS
from freqprobe.models.small_input import check_classes, init_conv_kaiming, pixel_space, refuse_unsupported, scaled_width

# Huang et al. 2017, section 4 (CIFAR): DenseNet-BC with L = 100, k = 12 has 3 dense blocks of (L - 4) / 6 = 16
# bottleneck layers, a first conv of 2k channels, bottleneck width 4k and compression 0.5 (torchvision's transition).
DENSENET_BC_100 = {"growth_rate": 12, "block_config": (16, 16, 16), "bn_size": 4}
# Zagoruyko & Komodakis 2016: WRN-d-k has (d - 4) / 6 blocks per group, group widths 16k, 32k, 64k, stem 16.
WRN_STEM = 16
WRN_GROUP_WIDTHS = (16, 32, 64)


@MODELS.register("densenet_bc_100")
def densenet_bc_100(
    in_channels: int = 3, num_classes: int = 10, mean=None, std=None, width_multiplier: float = 1.0, **options: Any
) -> PixelSpaceModel:
    """DenseNet-BC-100 with growth rate 12 (Huang et al. 2017, the smallest BC network of their CIFAR table),
    torchvision's ``DenseNet``: its 7x7 stride-2 stem, BN and max-pool replaced by the paper's CIFAR stem, one 3x3
    stride-1 conv of 2k channels (0.77 M parameters at 3 channels and 10 classes).

    ``width_multiplier`` scales the growth rate (a multiple of 2; 12 at width 1) and so every layer's width.
    """
    refuse_unsupported("densenet_bc_100", options)
    check_classes(in_channels, num_classes)
    from torchvision.models import DenseNet

    growth = scaled_width(DENSENET_BC_100["growth_rate"], width_multiplier, divisor=2)
    body = DenseNet(
        growth_rate=growth,
        block_config=DENSENET_BC_100["block_config"],
        num_init_features=2 * growth,
        bn_size=DENSENET_BC_100["bn_size"],
        num_classes=num_classes,
    )
    body.features.conv0 = nn.Conv2d(in_channels, 2 * growth, kernel_size=3, padding=1, bias=False)
    for name in ("norm0", "relu0", "pool0"):  # the first dense layer starts with BN-ReLU itself
        setattr(body.features, name, nn.Identity())
    nn.init.kaiming_normal_(body.features.conv0.weight)  # torchvision's DenseNet init
    return pixel_space(body, in_channels, mean, std)


class PreActBlock(nn.Module):
    """BN-ReLU-conv3x3(stride)-BN-ReLU-conv3x3 plus the input (a 1x1 conv of the activated input where the shape
    changes): the wide residual block of Zagoruyko & Komodakis 2016 (no dropout)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        changes_shape = stride != 1 or in_channels != out_channels
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False) if changes_shape else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(activated))))
        return out + (self.shortcut(activated) if self.shortcut is not None else x)


class WideResNet(nn.Module):
    """WRN-depth-widen: 3x3 stem, three groups of pre-activation blocks (strides 1, 2, 2), BN-ReLU, global
    average pool, linear. Input (N, in_channels, H, W) with H, W >= 4; output (N, num_classes)."""

    def __init__(self, depth: int, widen: int, in_channels: int, num_classes: int, width_multiplier: float = 1.0):
        super().__init__()
        if (depth - 4) % 6 or depth < 10:
            raise ValueError(f"WRN depth must be 6n + 4 with n >= 1, got {depth}")
        blocks = (depth - 4) // 6
        widths = [scaled_width(width * widen, width_multiplier) for width in WRN_GROUP_WIDTHS]
        self.stem = nn.Conv2d(in_channels, scaled_width(WRN_STEM, width_multiplier), 3, padding=1, bias=False)
        layers, channels = [], self.stem.out_channels
        for group, width in enumerate(widths):
            for index in range(blocks):
                layers.append(PreActBlock(channels, width, 2 if group and not index else 1))
                channels = width
        self.blocks = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(channels)
        self.fc = nn.Linear(channels, num_classes)
        init_conv_kaiming(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.blocks(self.stem(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


@MODELS.register("wrn16_4")
def wrn16_4(
    in_channels: int = 3, num_classes: int = 10, mean=None, std=None, width_multiplier: float = 1.0, **options: Any
) -> PixelSpaceModel:
    """WRN-16-4 (Zagoruyko & Komodakis 2016), no dropout: 2 pre-activation blocks per group, widths 64/128/256
    (2.75 M parameters at 3 channels and 10 classes). Written here: torchvision and timm have only the ImageNet
    bottleneck wide ResNets (``wide_resnet50_2``), not the CIFAR basic-block family.

    ``width_multiplier`` scales the stem and group widths (multiples of 8).
    """
    refuse_unsupported("wrn16_4", options)
    check_classes(in_channels, num_classes)
    return pixel_space(WideResNet(16, 4, in_channels, num_classes, width_multiplier), in_channels, mean, std)
