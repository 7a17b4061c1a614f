"""The model registry: ``MODELS`` maps a name to a factory; :func:`create_model` builds one by name."""

from __future__ import annotations

from typing import Callable

from torch import nn

from freqprobe.errors import ConfigError
from freqprobe.models.blocks import ConvFactory
from freqprobe.models.normalize import Stats
from freqprobe.registry import Registry
from freqprobe.specs import Interval, check_number

MODELS: Registry[Callable[..., nn.Module]] = Registry("model")
# Beyond 16x a small-image network has millions of channels per layer: a typo, not a comparison.
WIDTH_MULTIPLIERS = Interval(0, 16, low_open=True)


def create_model(
    name: str,
    in_channels: int = 3,
    num_classes: int = 10,
    antialias: bool = False,
    mean: Stats | None = None,
    std: Stats | None = None,
    conv: ConvFactory | None = None,
    stem_conv: ConvFactory | None = None,
    zero_init_residual: bool = False,
    width_multiplier: float = 1.0,
) -> nn.Module:
    """Build the registered model ``name`` for (N, in_channels, H, W) pixel-space float input.

    ``model.normalize`` is the first module and holds ``mean``/``std`` (default 0 and 1; set later with
    ``model.set_normalization(mean, std)``). ``antialias`` puts a BlurPool before every subsampling. ``conv`` builds
    every 3x3 conv (stem included), ``stem_conv`` only the stem (default: ``conv``); both default to ``nn.Conv2d``
    and are called with ``nn.Conv2d``'s keyword names. ``width_multiplier`` scales every layer's channels (see
    each model's docstring for the rounding), so families can be compared at matched compute.

    Raises:
        ConfigError: unknown ``name`` (the message lists the valid ones), ``in_channels < 1``, ``num_classes < 2``,
            ``mean``/``std`` not one finite value per channel, ``std <= 0``, a non-callable ``conv``/``stem_conv``,
            a non-boolean switch, ``width_multiplier`` outside (0, 16], an option the model does not have.
    """
    factory = MODELS.get(name)
    for switch, value in (("antialias", antialias), ("zero_init_residual", zero_init_residual)):
        if not isinstance(value, bool):
            raise ConfigError(f"{switch} must be true or false, got {value!r}")
    width_multiplier = check_number(width_multiplier, "width_multiplier", WIDTH_MULTIPLIERS)
    return factory(
        in_channels=in_channels,
        num_classes=num_classes,
        antialias=antialias,
        mean=mean,
        std=std,
        conv=conv,
        stem_conv=stem_conv,
        zero_init_residual=zero_init_residual,
        width_multiplier=width_multiplier,
    )
