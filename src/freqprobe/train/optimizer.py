"""SGD with momentum/Nesterov and weight decay on the weights only (not on BatchNorm scales/shifts or biases)."""

from __future__ import annotations

import torch
from torch import nn

from freqprobe.train.config import TrainConfig


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: multi-dimensional weights (decayed) and 1-D parameters (BN scale/shift, biases: not decayed,
    since shrinking them only fights the normalization)."""
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    return [
        {"params": [p for p in trainable if p.ndim > 1], "weight_decay": weight_decay},
        {"params": [p for p in trainable if p.ndim <= 1], "weight_decay": 0.0},
    ]


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """SGD of ``config``; the learning rate is set every step from the schedule."""
    return torch.optim.SGD(
        parameter_groups(model, config.weight_decay),
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.nesterov,
    )
