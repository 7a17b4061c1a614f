"""The ResNet trunk shared by the CIFAR ResNets and ResNet-18: normalize -> 3x3 stem -> stages -> pool -> fc."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models.blocks import BasicBlock, ConvFactory, conv3x3
from freqprobe.models.normalize import Normalize, Stats


class ResNet(nn.Module):
    """A ResNet of basic blocks for small images, taking pixel-space float input.

    Input: float (N, in_channels, H, W), any H, W >= 1 (values in [0, 1] by convention). Output: logits
    (N, num_classes). Modules, in order, addressable by name: ``normalize`` (:class:`Normalize`), ``stem``
    (3x3 stride-1 conv, ``stage_widths[0]`` channels), ``stem_bn``, ``layer1`` .. ``layerK`` (stage k has
    ``blocks_per_stage[k]`` :class:`BasicBlock`s, stride 1 for the first stage and 2 after), ``pool`` (global
    average), ``fc``.

    Args:
        conv: factory for every 3x3 conv of the blocks (see :class:`~freqprobe.models.blocks.ConvFactory`).
        stem_conv: factory for the stem conv only; defaults to ``conv``. Passing only ``stem_conv`` replaces just the
            stem. 1x1 projection shortcuts always use ``nn.Conv2d``.
        zero_init_residual: start each block's last BN scale at 0, so every block begins as the identity (Goyal et al.
            2017); off by default.

    Initialization: ``nn.Conv2d`` layers Kaiming-normal (fan_out, ReLU gain), BN scale 1 and shift 0, ``fc`` PyTorch's
    default; layers built by a custom factory keep their own initialization.

    Raises:
        ConfigError: ``in_channels < 1``, ``num_classes < 2``, bad normalization statistics, a non-callable factory.
    """

    def __init__(
        self,
        stage_widths: Sequence[int],
        blocks_per_stage: Sequence[int],
        shortcut: str,
        in_channels: int = 3,
        num_classes: int = 10,
        antialias: bool = False,
        mean: Stats | None = None,
        std: Stats | None = None,
        conv: ConvFactory | None = None,
        stem_conv: ConvFactory | None = None,
        zero_init_residual: bool = False,
    ):
        super().__init__()
        _check_positive_int("in_channels", in_channels, minimum=1)
        _check_positive_int("num_classes", num_classes, minimum=2)
        conv = _checked_factory("conv", conv) or nn.Conv2d
        stem_conv = _checked_factory("stem_conv", stem_conv) or conv

        self.normalize = Normalize(in_channels, mean, std)
        self.stem = conv3x3(stem_conv, in_channels, stage_widths[0])
        self.stem_bn = nn.BatchNorm2d(stage_widths[0])
        widths_in = [stage_widths[0], *stage_widths[:-1]]
        for index, (width_in, width, depth) in enumerate(zip(widths_in, stage_widths, blocks_per_stage)):
            stage = _make_stage(width_in, width, depth, 1 if index == 0 else 2, shortcut, antialias, conv)
            self.add_module(f"layer{index + 1}", stage)
        self.num_stages = len(stage_widths)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(stage_widths[-1], num_classes)
        self._initialize(zero_init_residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem_bn(self.stem(self.normalize(x))))
        for index in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{index}")(x)
        return self.fc(torch.flatten(self.pool(x), 1))

    def set_normalization(self, mean: Stats | None = None, std: Stats | None = None) -> "ResNet":
        """Load per-channel input statistics (e.g. of the filtered training split) into ``normalize``."""
        self.normalize.set(mean, std)
        return self

    def _initialize(self, zero_init_residual: bool) -> None:
        for module in self.modules():
            # Exact type: a custom conv (e.g. band-pass) may subclass Conv2d but owns its parameterization.
            if type(module) is nn.Conv2d:
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, BasicBlock):
                    nn.init.zeros_(module.bn2.weight)


def _make_stage(
    in_channels: int, out_channels: int, depth: int, stride: int, shortcut: str, antialias: bool, conv: ConvFactory
) -> nn.Sequential:
    """``depth`` basic blocks; only the first changes the channel count and the resolution."""
    blocks = [BasicBlock(in_channels, out_channels, stride, shortcut, antialias, conv)]
    blocks += [BasicBlock(out_channels, out_channels, 1, shortcut, antialias, conv) for _ in range(depth - 1)]
    return nn.Sequential(*blocks)


def _check_positive_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _checked_factory(name: str, factory: ConvFactory | None) -> ConvFactory | None:
    if factory is not None and not callable(factory):
        raise ConfigError(f"{name} must be a callable that builds a conv layer (like nn.Conv2d), got {factory!r}")
    return factory
