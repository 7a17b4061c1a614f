"""What every library architecture registered for small images shares: the options it refuses, the width scaling
and the pixel-space wrapper (``normalize -> body``).

The factories of :mod:`~freqprobe.models.plain_nets`, :mod:`~freqprobe.models.mobile_nets`,
:mod:`~freqprobe.models.dense_wide` and :mod:`~freqprobe.models.convnext_small` take the keyword options
:func:`~freqprobe.models.create_model` passes. Only freqprobe's own ResNets know BlurPool sites, the ``--conv``
factories and zero-initialized residual scales; every other network refuses them in one line rather than
silently ignoring them.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models.normalize import Stats
from freqprobe.models.pixel_space import PixelSpaceModel


def refuse_unsupported(model: str, options: dict[str, Any]) -> None:
    """Raise when ``options`` asks ``model`` for something only freqprobe's ResNets build.

    Raises:
        ConfigError: ``antialias``/``zero_init_residual`` true or a ``conv``/``stem_conv`` factory given; the
            line names the option, the model and the models that have it.

    Example:
        >>> refuse_unsupported("vgg11_bn", {"antialias": False, "conv": None})
        >>> refuse_unsupported("vgg11_bn", {"antialias": True})
        Traceback (most recent call last):
        freqprobe.errors.ConfigError: antialias is not supported by model 'vgg11_bn' (only by the ResNets); drop it
    """
    flags = {"antialias": "antialias", "zero_init_residual": "zero_init_residual", "conv": "conv (--conv)",
             "stem_conv": "stem_conv (--conv ...@stem)"}
    for key, label in flags.items():
        value = options.get(key)
        if value is not None and value is not False:
            raise ConfigError(f"{label} is not supported by model {model!r} (only by the ResNets); drop it")


def scaled_width(channels: int, multiplier: float, divisor: int = 8) -> int:
    """``channels * multiplier`` rounded to the nearest multiple of ``divisor`` (at least ``divisor``), never more
    than 10% below the exact product (the rule of MobileNet's ``_make_divisible``, Sandler et al. 2018).

    A multiplier of 1 keeps ``channels`` when it is already a multiple of ``divisor``.

    Example:
        >>> scaled_width(64, 1.0), scaled_width(64, 0.5), scaled_width(96, 0.25), scaled_width(12, 1.5, divisor=2)
        (64, 32, 24, 18)
    """
    exact = channels * multiplier
    rounded = max(divisor, int(exact + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * exact:
        rounded += divisor
    return rounded


def pixel_space(body: nn.Module, in_channels: int, mean: Stats | None, std: Stats | None) -> PixelSpaceModel:
    """``body`` behind the normalization module (its stem already takes ``in_channels`` channels, so no adapter)."""
    return PixelSpaceModel(body, in_channels=in_channels, mean=mean, std=std)


def check_classes(in_channels: object, num_classes: object) -> None:
    """The checks freqprobe's ResNets make, for the library networks (which accept nonsense sizes silently).

    Raises:
        ConfigError: ``in_channels < 1`` or ``num_classes < 2`` or either not an integer.
    """
    for name, value, minimum in (("in_channels", in_channels, 1), ("num_classes", num_classes, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def init_conv_kaiming(module: nn.Module) -> None:
    """Kaiming-normal (fan_out, ReLU gain) weights and zero bias for every ``nn.Conv2d`` under ``module``: the
    initialization of freqprobe's ResNets and torchvision's classifiers, for stems freqprobe replaces."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
