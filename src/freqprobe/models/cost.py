"""What a model costs: parameters and floating-point operations per image, for comparing families at matched
compute (``freqprobe models``, ``train``'s run record).

FLOPs are counted by :class:`torch.utils.flop_counter.FlopCounterMode` on one forward pass: convolutions, matrix
products and attention, a multiply-add counted as 2 FLOPs; normalization, activations and pooling are left out (they
are a few percent of a CNN's total). Backward passes are not counted.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from freqprobe.errors import ConfigError

FLOPS_DEFINITION = (
    "forward pass, counted by torch.utils.flop_counter: convolutions and matrix products, a multiply-add = 2 FLOPs"
)


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Forward FLOPs of ``model`` on one image of ``input_shape`` = (C, H, W), as counted by ``FlopCounterMode``.

    The model runs once in eval mode without gradients on a zero image of its parameters' device and dtype; its
    training mode is restored and its batch-norm statistics are untouched.

    Raises:
        ConfigError: ``input_shape`` is not three positive integers.

    Example:
        >>> conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)   # 2 outputs x 9 taps x 8x8 positions x 2
        >>> count_flops(conv, (1, 8, 8))
        2304
    """
    if len(input_shape) != 3 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in input_shape):
        raise ConfigError(f"input_shape must be (C, H, W) positive integers, got {tuple(input_shape)!r}")
    reference = next(model.parameters(), None)
    device = reference.device if reference is not None else torch.device("cpu")
    dtype = reference.dtype if reference is not None and reference.is_floating_point() else torch.float32
    image = torch.zeros(1, *input_shape, device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(image)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())


def format_count(value: int, unit: str) -> str:
    """``3376290, "params"`` -> ``"3.38 M params"``; ``41_000_000, "FLOPs"`` -> ``"41.0 MFLOPs"``.

    Example:
        >>> format_count(3376290, "params"), format_count(40_960_000, "FLOPs"), format_count(950, "FLOPs")
        ('3.38 M params', '41.0 MFLOPs', '950 FLOPs')
    """
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            scaled = value / factor
            text = f"{scaled:.3g}" if scaled < 100 else f"{scaled:.0f}"
            if "." not in text and scaled < 100:
                text = f"{scaled:.1f}"
            return f"{text} {prefix}{' ' if unit == 'params' else ''}{unit}"
    return f"{value} {unit}"


# (channels, height, width) of the two datasets every registered model is built for: CIFAR-10, Fashion-MNIST
LISTED_SHAPES = ((3, 32, 32), (1, 28, 28))


def model_cost_table(width_multiplier: float = 1.0, num_classes: int = 10) -> list[str]:
    """Markdown lines: every registered model with its parameters and forward FLOPs per image at each of
    LISTED_SHAPES (``freqprobe train --list-models``).

    Raises:
        ConfigError: a bad ``width_multiplier`` or ``num_classes`` (from :func:`freqprobe.models.create_model`).
    """
    from freqprobe.models.conv_spec import count_parameters
    from freqprobe.models.registry import MODELS, create_model
    from freqprobe.tables import markdown_table

    header = ["model"]
    for shape in LISTED_SHAPES:
        size = "x".join(map(str, shape))
        header += [f"params at {size}", f"FLOPs per {size} image"]
    rows = []
    for name in MODELS.names():
        row = [name]
        for shape in LISTED_SHAPES:
            model = create_model(name, in_channels=shape[0], num_classes=num_classes, width_multiplier=width_multiplier)
            params = count_parameters(model)["total"]
            row += [format_count(params, "params"), format_count(count_flops(model, shape), "FLOPs")]
        rows.append(row)
    return markdown_table(header, rows)
