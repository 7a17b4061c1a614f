"""An example of a user's own network for ``freqprobe train --model py:experiments/my_model.py:build``.

Any callable returning an ``nn.Module`` works: ``--model-arg KEY=VALUE`` options become its keyword arguments, and it
receives ``num_classes`` and ``in_channels`` when its signature names them. freqprobe puts the data's normalization in
front of it, so it sees normalized images and everything outside it works in pixel space [0, 1].
"""

from torch import nn


def build(width: int = 16, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """A plain all-convolutional network: three 3x3 conv-BN-ReLU stages (the last two at stride 2), global pooling."""
    layers = []
    channels = in_channels
    for stage, stride in enumerate((1, 2, 2)):
        out = width * 2**stage
        layers += [nn.Conv2d(channels, out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
        channels = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))
