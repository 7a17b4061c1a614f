"""freqprobe.models: networks for small images that take pixel-space input (normalization is their first module):
freqprobe's ResNets and torchvision/timm architectures with small-image stems (VGG-11-BN, MobileNetV2, ShuffleNetV2,
DenseNet-BC-100, WRN-16-4, ConvNeXt-Atto, All-CNN-C).

    model = create_model("resnet20", in_channels=1, num_classes=10, antialias=True)
    model.set_normalization(mean=[0.286], std=[0.353])   # statistics of the (filtered) training split
    logits = model(images_float_in_0_1)                  # (N, 1, H, W) -> (N, 10)

Band-pass convolutions (``--conv``): ``create_model("resnet20", **conv_model_kwargs("bandpass:gabor@stem"))``;
``count_parameters(model)`` -> ``{"total", "conv", "bandpass", "other"}``.
"""

from freqprobe.models.registry import MODELS, create_model
from freqprobe.models import resnet18 as _resnet18, resnet_cifar as _resnet_cifar  # noqa: F401  (registration)
from freqprobe.models import (  # noqa: F401  (registration of the library architectures for small images)
    convnext_small as _convnext_small,
    dense_wide as _dense_wide,
    mobile_nets as _mobile_nets,
    plain_nets as _plain_nets,
)
from freqprobe.models.bandpass import BandpassConv2d
from freqprobe.models.blocks import BasicBlock, ConvFactory, ProjectionShortcut, ZeroPadShortcut
from freqprobe.models.blurpool import BlurPool2d, binomial_kernel_2d
from freqprobe.models.conv_spec import conv_factories, conv_model_kwargs, count_parameters, parse_conv_spec
from freqprobe.models.io import WeightsError, load_weights, save_weights, weights_file_problem
from freqprobe.models.normalize import Normalize
from freqprobe.models.resnet import ResNet

__all__ = [
    "MODELS",
    "create_model",
    "ResNet",
    "BasicBlock",
    "ZeroPadShortcut",
    "ProjectionShortcut",
    "ConvFactory",
    "BandpassConv2d",
    "parse_conv_spec",
    "conv_factories",
    "conv_model_kwargs",
    "count_parameters",
    "BlurPool2d",
    "binomial_kernel_2d",
    "Normalize",
    "save_weights",
    "load_weights",
    "WeightsError",
    "weights_file_problem",
]
