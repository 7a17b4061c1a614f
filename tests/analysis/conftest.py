"""Fixtures shared by the analysis tests (filters and sensitivity on the same networks)."""

from __future__ import annotations

import pytest
import torch
from torch import nn


class Every(nn.Module):
    """Patchify stem, LayerNorm, depthwise 7x7, 1x1, GELU, grouped stride-3, dilated, 11x11, pooling, a dilated conv
    too wide for the grid, and convolutions freqprobe does not analyse (transposed, 1-D) that are never called."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 4, stride=4)
        self.norm = nn.LayerNorm(8)
        self.depthwise = nn.Conv2d(8, 8, 7, padding=3, groups=8, bias=False)
        self.pointwise = nn.Conv2d(8, 16, 1)
        self.grouped = nn.Conv2d(16, 12, 3, stride=3, padding=1, groups=4)
        self.dilated = nn.Conv2d(12, 12, 3, padding=2, dilation=2)
        self.large = nn.Conv2d(12, 6, 11, padding=5)
        self.too_wide = nn.Conv2d(6, 6, 3, padding=20, dilation=20)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(6, 5)
        self.unused_transposed = nn.ConvTranspose2d(6, 6, 2)
        self.unused_1d = nn.Conv1d(6, 6, 3)

    def forward(self, x):
        x = self.stem(x)
        x = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = nn.functional.gelu(self.pointwise(self.depthwise(x)))
        x = self.large(self.dilated(self.grouped(x)))
        x = self.pool(self.too_wide(x))
        return self.head(x.mean(dim=(-2, -1)))


@pytest.fixture
def every_convolution() -> nn.Module:
    """A freshly initialized (seed 0) :class:`Every`, for 3-channel images whose sides are multiples of 12."""
    torch.manual_seed(0)
    return Every()
