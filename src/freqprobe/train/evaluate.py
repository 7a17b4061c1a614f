"""Accuracy and loss of a model on a whole split held as one tensor, optionally with test-time augmentation
(flips and shifts)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.train.fastpaths import FastPaths


@dataclass
class EvalCounts:
    """Sums over the evaluated images, so counts from several ranks add up before dividing."""

    correct: float = 0.0
    loss_sum: float = 0.0
    count: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else float("nan")

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else float("nan")

    def as_list(self) -> list[float]:
        return [self.correct, self.loss_sum, self.count]

    @classmethod
    def from_list(cls, values: list[float]) -> "EvalCounts":
        return cls(*values)


def translated(images: torch.Tensor, shift: int) -> torch.Tensor:
    """``images`` moved by ``shift`` pixels down and right (up and left when negative), the uncovered border
    filled by reflection, so every view is a plausible image of the same size."""
    if shift == 0:
        return images
    pad = abs(shift)
    padded = F.pad(images, (pad,) * 4, mode="reflect")
    height, width = images.shape[-2:]
    start = pad - shift
    return padded[..., start : start + height, start : start + width]


def tta_views(images: torch.Tensor, tta_flip: bool, tta_translate: int) -> list[torch.Tensor]:
    """The test-time views of one batch: the images, shifted by (+t, +t) and (-t, -t) with ``tta_translate`` = t,
    and the mirror of each with ``tta_flip``."""
    shifts = [0, tta_translate, -tta_translate] if tta_translate else [0]
    views = [translated(images, shift) for shift in shifts]
    if tta_flip:
        views += [view.flip(-1) for view in views]
    return views


@torch.no_grad()
def predict_logits(
    model: nn.Module, images: torch.Tensor, paths: FastPaths, tta_flip: bool, tta_translate: int = 0
) -> torch.Tensor:
    """float32 logits of one batch: the mean over its :func:`tta_views` (just the images without TTA)."""
    images = images.to(paths.torch_device, non_blocking=True)
    views = tta_views(images, tta_flip, tta_translate)
    logits = None
    with paths.autocast():
        for view in views:
            if paths.channels_last:
                view = view.contiguous(memory_format=torch.channels_last)
            view_logits = model(view).float()
            logits = view_logits if logits is None else logits + view_logits
    return logits / len(views)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    paths: FastPaths,
    batch_size: int = 1024,
    tta_flip: bool = False,
    shard: tuple[int, int] = (0, 1),
    tta_translate: int = 0,
) -> EvalCounts:
    """Correct predictions, summed cross-entropy and image count over ``images`` (this rank's ``shard``:
    ``(rank, world_size)`` takes every world_size-th image starting at rank). The model is left in train mode."""
    rank, world_size = shard
    images, labels = images[rank::world_size], labels[rank::world_size]
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.float64, device=paths.torch_device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=paths.torch_device)
    for start in range(0, len(labels), batch_size):
        batch_labels = labels[start : start + batch_size].to(paths.torch_device, non_blocking=True)
        logits = predict_logits(model, images[start : start + batch_size], paths, tta_flip, tta_translate)
        correct += (logits.argmax(dim=1) == batch_labels).sum()
        loss_sum += F.cross_entropy(logits, batch_labels, reduction="sum").double()
    model.train(was_training)
    return EvalCounts(correct=float(correct), loss_sum=float(loss_sum), count=float(len(labels)))
