"""A ConvNeXt for small images: timm's ``ConvNeXt`` class in the ``convnext_atto`` configuration with a 2x2
patchify stem, so 32x32 input keeps 16x16 tokens (the ImageNet 4x4 stem would leave 1x1 in the last stage and
0x0 at 28x28).

The first module is the normalization (:class:`~freqprobe.models.pixel_space.PixelSpaceModel`); the stem takes the
data's channels directly.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from freqprobe.models.pixel_space import PixelSpaceModel
from freqprobe.models.registry import MODELS
from freqprobe.models.small_input import check_classes, pixel_space, refuse_unsupported, scaled_width

# timm's convnext_atto (Wightman, timm 0.9): Liu et al. 2022's block (7x7 depthwise conv, LayerNorm, inverted
# 4x MLP with GELU, layer scale) at stage depths 2/2/6/2 and widths 40/80/160/320.
CONVNEXT_ATTO = {"depths": (2, 2, 6, 2), "dims": (40, 80, 160, 320), "conv_mlp": True}
SMALL_INPUT_PATCH = 2


@MODELS.register("convnext_atto")
def convnext_atto(
    in_channels: int = 3, num_classes: int = 10, mean=None, std=None, width_multiplier: float = 1.0, **options: Any
) -> PixelSpaceModel:
    """ConvNeXt-Atto (timm's configuration of Liu et al. 2022) with a 2x2 stride-2 patchify stem: 7x7 depthwise
    convolutions, LayerNorm, GELU, stride-2 2x2 downsampling convs between stages (3.38 M parameters at 3 channels
    and 10 classes). Input H, W >= 16.

    ``width_multiplier`` scales the four stage widths (multiples of 8).
    """
    refuse_unsupported("convnext_atto", options)
    check_classes(in_channels, num_classes)
    from timm.models.convnext import ConvNeXt

    dims = tuple(scaled_width(width, width_multiplier) for width in CONVNEXT_ATTO["dims"])
    body = ConvNeXt(
        in_chans=in_channels,
        num_classes=num_classes,
        depths=CONVNEXT_ATTO["depths"],
        dims=dims,
        conv_mlp=CONVNEXT_ATTO["conv_mlp"],
    )
    # Swapped after construction: asked for patch_size=2, timm keeps the total stride 32 by making the first stage
    # downsample too, which leaves 0x0 maps at 28x28.
    stem = body.stem[0]
    body.stem[0] = nn.Conv2d(in_channels, stem.out_channels, SMALL_INPUT_PATCH, stride=SMALL_INPUT_PATCH)
    _init_like_timm(body.stem[0])
    return pixel_space(body, in_channels, mean, std)


def _init_like_timm(conv: nn.Conv2d) -> None:
    """timm's ConvNeXt init for convs: truncated normal, std 0.02, zero bias."""
    nn.init.trunc_normal_(conv.weight, std=0.02)
    nn.init.zeros_(conv.bias)
