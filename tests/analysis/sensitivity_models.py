"""Tiny fixed models with known frequency behaviour, the oracles of the sensitivity tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class OneFrequencyModel(nn.Module):
    """Sees channel 0 only through its projection p = <x[0], basis> on one Fourier basis image.

    Class 1 ("near") when |p - theta| < half_width, else class 0: images whose projection is exactly theta are
    classified 1 unless a perturbation moves p by at least half_width, which only the basis's own frequency (or its
    conjugate) can do.
    """

    def __init__(self, basis: torch.Tensor, theta: float, half_width: float):
        super().__init__()
        self.register_buffer("basis", basis.clone())
        self.theta, self.half_width = theta, half_width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        distance = ((x[:, 0] * self.basis).sum(dim=(-2, -1)) - self.theta).abs()
        return torch.stack([distance - self.half_width, torch.zeros_like(distance)], dim=1)


class LinearScoreModel(nn.Module):
    """Two classes with logits (s, -s), s = <w, x> + b: class 0 when s > 0."""

    def __init__(self, weight: torch.Tensor, bias: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(weight.clone())
        self.bias = nn.Parameter(torch.tensor(float(bias)))

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weight).flatten(1).sum(dim=1) + self.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.score(x)
        return torch.stack([s, -s], dim=1)


class MeanBrightnessModel(nn.Module):
    """Class 1 when the image mean (its DC component) exceeds 0.5: sees nothing but the DC frequency."""

    def __init__(self):
        super().__init__()
        self.register_buffer("threshold", torch.tensor(0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = 50.0 * (x.mean(dim=(1, 2, 3)) - self.threshold)
        return torch.stack([-s, s], dim=1)


class CircularConvPoolModel(nn.Module):
    """Circular 3x3 convolution -> ReLU -> global average pool -> linear: exactly invariant to circular shifts."""

    def __init__(self, in_channels: int = 1, classes: int = 10, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(in_channels, 16, 3, padding=1, padding_mode="circular")
        self.fc = nn.Linear(16, classes)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.relu(self.conv(x)).mean(dim=(-2, -1)))


class SmallCNN(nn.Module):
    """Zero-padded conv -> ReLU -> stride-2 max pool -> linear on the flattened map: not shift-invariant."""

    def __init__(self, in_channels: int = 1, size: int = 28, classes: int = 10, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng():  # seeded init without touching the test session's global RNG
            torch.manual_seed(seed)
            self.conv = nn.Conv2d(in_channels, 8, 3, padding=1)
            self.fc = nn.Linear(8 * (size // 2) ** 2, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.max_pool2d(F.relu(self.conv(x)), 2).flatten(1))


def train_small_cnn(images: torch.Tensor, labels: torch.Tensor, steps: int = 150, seed: int = 0) -> SmallCNN:
    """A SmallCNN fitted with Adam for a few seconds on float images (N, C, H, W) in [0, 1]."""
    model = SmallCNN(images.shape[1], images.shape[-1], int(labels.max()) + 1, seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        rows = torch.randint(0, len(images), (128,), generator=generator)
        loss = F.cross_entropy(model(images[rows]), labels[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()
