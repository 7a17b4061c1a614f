"""Networks without skip connections for small images: VGG-11 with batch norm (torchvision's VGG) and the
all-convolutional All-CNN-C of Springenberg et al. 2015.

Both take pixel-space float (N, in_channels, H, W) input of any size from 28x28 (Fashion-MNIST) up; the first module
is the normalization (:class:`~freqprobe.models.pixel_space.PixelSpaceModel`).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from freqprobe.models.pixel_space import PixelSpaceModel
from freqprobe.models.registry import MODELS
from freqprobe.models.small_input import (
    check_classes,
    init_conv_kaiming,
    pixel_space,
    refuse_unsupported,
    scaled_width,
)

# Simonyan & Zisserman 2015, configuration A (VGG-11): channel counts and "M" for a 2x2 max-pool.
VGG11_LAYERS = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
# Springenberg et al. 2015, Table 2, model C (All-CNN-C): (out channels, kernel, stride, padding) per conv.
ALLCNN_C_LAYERS = (
    (96, 3, 1, 1), (96, 3, 1, 1), (96, 3, 2, 1),
    (192, 3, 1, 1), (192, 3, 1, 1), (192, 3, 2, 1),
    (192, 3, 1, 0), (192, 1, 1, 0),
)


@MODELS.register("vgg11_bn")
def vgg11_bn(
    in_channels: int = 3, num_classes: int = 10, mean=None, std=None, width_multiplier: float = 1.0, **options: Any
) -> PixelSpaceModel:
    """VGG-11 with batch norm (Simonyan & Zisserman 2015, configuration A), torchvision's ``VGG`` and
    ``make_layers``, for small images: the first conv takes ``in_channels``; the five max-pools round up
    (``ceil_mode``), so 32x32 ends at 1x1 exactly as the usual CIFAR port and 28x28 at 1x1 instead of failing;
    global average pool and one linear layer replace the 7x7x4096 ImageNet classifier (9.23 M parameters at
    3 channels and 10 classes, instead of 129 M).

    ``width_multiplier`` scales every conv's channels (multiples of 8).
    """
    refuse_unsupported("vgg11_bn", options)
    check_classes(in_channels, num_classes)
    from torchvision.models.vgg import VGG, make_layers

    layers = [layer if layer == "M" else scaled_width(layer, width_multiplier) for layer in VGG11_LAYERS]
    features = make_layers(layers, batch_norm=True)
    first = features[0]
    features[0] = nn.Conv2d(in_channels, first.out_channels, kernel_size=3, padding=1)
    for module in features:
        if isinstance(module, nn.MaxPool2d):
            module.ceil_mode = True
    body = VGG(features, num_classes=num_classes, init_weights=True)
    body.avgpool = nn.AdaptiveAvgPool2d(1)
    body.classifier = nn.Linear(layers[-2], num_classes)
    nn.init.normal_(body.classifier.weight, 0, 0.01)  # torchvision's VGG init for linear layers
    nn.init.zeros_(body.classifier.bias)
    init_conv_kaiming(features[0])
    return pixel_space(body, in_channels, mean, std)


class AllConvNet(nn.Module):
    """All-CNN-C: conv-BN-ReLU layers only (stride-2 convs instead of pooling), a 1x1 conv to the class scores and
    a global average. Input (N, in_channels, H, W) with H, W >= 9; output (N, num_classes).

    Batch norm after every conv but the last replaces the paper's dropout, so the net trains with freqprobe's
    recipes (one-cycle SGD at lr 0.1) like the others; the paper trained without it at lr 0.01-0.25 for 350 epochs.
    """

    def __init__(self, in_channels: int, num_classes: int, width_multiplier: float = 1.0):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for out_channels, kernel, stride, padding in ALLCNN_C_LAYERS:
            width = scaled_width(out_channels, width_multiplier)
            layers += [
                nn.Conv2d(channels, width, kernel, stride=stride, padding=padding, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            channels = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        init_conv_kaiming(self)

    def forward(self, x):
        return self.pool(self.classifier(self.features(x))).flatten(1)


@MODELS.register("allcnn_c")
def allcnn_c(
    in_channels: int = 3, num_classes: int = 10, mean=None, std=None, width_multiplier: float = 1.0, **options: Any
) -> PixelSpaceModel:
    """All-CNN-C (Springenberg et al. 2015, "Striving for simplicity"), with batch norm: 9 convolutions, no
    pooling layers and no skip connections, 1.37 M parameters at 3 channels and 10 classes. Written here because
    neither torchvision nor timm has it. ``width_multiplier`` scales the 96/192 channels (multiples of 8)."""
    refuse_unsupported("allcnn_c", options)
    check_classes(in_channels, num_classes)
    return pixel_space(AllConvNet(in_channels, num_classes, width_multiplier), in_channels, mean, std)
