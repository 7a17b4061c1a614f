"""Shift consistency (Zhang 2019, "Making convolutional networks shift-invariant again").

Each test image is shifted circularly (``torch.roll``) by two random offsets (dy, dx), each drawn uniformly from
[-max_shift, max_shift] (default H // 4 and W // 4), and the share of images whose predicted class is the same for
both shifted copies is reported. A model that is exactly invariant to circular shifts scores 1.0; comparing a plain
and an ``antialias`` run of the same setup shows what blur-pooling buys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from freqprobe.analysis.sensitivity.pipeline import (
    InferenceSettings,
    build_pipeline,
    check_images_and_labels,
    predict,
    seeded_generator,
)
from freqprobe.errors import ConfigError


@dataclass
class ShiftConsistency:
    """Share of images with equal predictions under two random circular shifts, and the accuracies involved."""

    consistency: float
    n_images: int
    max_shift: tuple[int, int]
    seed: int
    clean_accuracy: float | None = None
    shifted_accuracy: float | None = None
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "consistency": self.consistency,
            "n_images": self.n_images,
            "max_shift": list(self.max_shift),
            "shift": "circular (torch.roll), two offsets per image, each uniform in [-max_shift, max_shift]",
            "clean_accuracy": self.clean_accuracy,
            "shifted_accuracy": self.shifted_accuracy,
            "seed": self.seed,
            **self.settings,
        }


def roll_each(images: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """``torch.roll(images[n], tuple(shifts[n]), dims=(-2, -1))`` for every n at once.

    images: (N, C, H, W); shifts: int64 (N, 2) of (dy, dx). Returns a new (N, C, H, W) tensor.
    """
    count, _, height, width = images.shape
    shifts = shifts.to(images.device)
    # output pixel (i, j) of image n is input pixel (i - dy, j - dx), wrapped
    rows = (torch.arange(height, device=images.device).unsqueeze(0) - shifts[:, :1]) % height  # (N, H)
    columns = (torch.arange(width, device=images.device).unsqueeze(0) - shifts[:, 1:]) % width  # (N, W)
    rows_index = rows[:, None, :, None].expand(count, images.shape[1], height, width)
    gathered_rows = torch.gather(images, 2, rows_index)
    columns_index = columns[:, None, None, :].expand(count, images.shape[1], height, width)
    return torch.gather(gathered_rows, 3, columns_index)


def random_shifts(count: int, max_shift: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """int64 (count, 2) offsets (dy, dx) uniform in [-max_shift, max_shift] per axis."""
    dy = torch.randint(-max_shift[0], max_shift[0] + 1, (count, 1), generator=generator)
    dx = torch.randint(-max_shift[1], max_shift[1] + 1, (count, 1), generator=generator)
    return torch.cat([dy, dx], dim=1)


def shift_consistency(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    input_filter: nn.Module | None = None,
    max_shift: int | tuple[int, int] | None = None,
    seed: int = 0,
    settings: InferenceSettings | None = None,
) -> ShiftConsistency:
    """Shift consistency of ``input_filter -> model`` on float pixel images (N, C, H, W).

    With ``labels`` (N,) the clean accuracy and the accuracy on the shifted copies (both copies pooled) are reported
    too.

    Raises:
        ConfigError: bad images or labels, a negative max_shift.
    """
    check_images_and_labels(images, labels)
    settings = settings or InferenceSettings()
    height, width = images.shape[-2:]
    limits = _checked_max_shift(max_shift, height, width)
    generator = seeded_generator(seed)
    first = random_shifts(len(images), limits, generator)
    second = random_shifts(len(images), limits, generator)
    pipeline = build_pipeline(model, input_filter, settings)
    predicted_first = torch.cat([
        predict(pipeline, roll_each(images[s : s + settings.batch_size], first[s : s + settings.batch_size]),
                settings.batch_size)
        for s in range(0, len(images), settings.batch_size)
    ])
    predicted_second = torch.cat([
        predict(pipeline, roll_each(images[s : s + settings.batch_size], second[s : s + settings.batch_size]),
                settings.batch_size)
        for s in range(0, len(images), settings.batch_size)
    ])
    result = ShiftConsistency(
        consistency=float((predicted_first == predicted_second).double().mean()),
        n_images=len(images),
        max_shift=limits,
        seed=int(seed),
        settings=settings.describe(),
    )
    if labels is not None:
        labels = labels.cpu()
        result.clean_accuracy = float((predict(pipeline, images, settings.batch_size) == labels).double().mean())
        correct = (predicted_first == labels).double().sum() + (predicted_second == labels).double().sum()
        result.shifted_accuracy = float(correct / (2 * len(labels)))
    return result


def _checked_max_shift(max_shift: int | tuple[int, int] | None, height: int, width: int) -> tuple[int, int]:
    if max_shift is None:
        return height // 4, width // 4
    limits = (max_shift, max_shift) if isinstance(max_shift, int) else tuple(max_shift)
    if len(limits) != 2 or any(not isinstance(v, int) or v < 0 for v in limits):
        raise ConfigError(f"max shift must be a non-negative number of pixels (or a pair), got {max_shift!r}")
    return int(limits[0]), int(limits[1])
