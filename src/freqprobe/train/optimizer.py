"""SGD with momentum/Nesterov and weight decay on the weights only (not on BatchNorm scales/shifts, biases or the
shape parameters of band-pass convolutions)."""

from __future__ import annotations

import torch
from torch import nn

from freqprobe.train.config import TrainConfig


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: multi-dimensional weights (decayed) and the rest (not decayed).

    Not decayed: 1-D parameters (BN scale/shift, biases), since shrinking them only fights the normalization; and the
    raw shape parameters of :class:`~freqprobe.models.BandpassConv2d` layers (logits of frequency and bandwidth,
    orientation), since decay would pull them towards mid-band and orientation 0 instead of shrinking any kernel:
    a band-pass kernel's size is carried by its gains, which stay decayed.
    """
    from freqprobe.models.bandpass import band_shape_parameters

    exempt = {id(parameter) for parameter in band_shape_parameters(model)}
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    decayed = [p for p in trainable if p.ndim > 1 and id(p) not in exempt]
    kept = [p for p in trainable if p.ndim <= 1 or id(p) in exempt]
    return [
        {"params": decayed, "weight_decay": weight_decay},
        {"params": kept, "weight_decay": 0.0},
    ]


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """SGD of ``config``; the learning rate is set every step from the schedule."""
    return torch.optim.SGD(
        parameter_groups(model, config.weight_decay),
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.nesterov,
    )
