"""Accuracy and loss of a model on a whole split held as one tensor, optionally with flip test-time augmentation."""

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


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, paths: FastPaths, tta_flip: bool) -> torch.Tensor:
    """float32 logits of one batch (mean of the image's and its mirror's logits with ``tta_flip``)."""
    images = images.to(paths.torch_device, non_blocking=True)
    if paths.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    with paths.autocast():
        logits = model(images).float()
        if tta_flip:
            logits = 0.5 * (logits + model(images.flip(-1)).float())
    return logits


@torch.no_grad()
def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    paths: FastPaths,
    batch_size: int = 1024,
    tta_flip: bool = False,
    shard: tuple[int, int] = (0, 1),
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
        logits = predict_logits(model, images[start : start + batch_size], paths, tta_flip)
        correct += (logits.argmax(dim=1) == batch_labels).sum()
        loss_sum += F.cross_entropy(logits, batch_labels, reduction="sum").double()
    model.train(was_training)
    return EvalCounts(correct=float(correct), loss_sum=float(loss_sum), count=float(len(labels)))
