"""Detecting a NaN or infinite training loss, naming the epoch and step where it first appeared.

Reading a loss value forces the CPU to wait for the GPU, so on CUDA losses are buffered and checked every few
steps; on CPU (where reading is free) every step is checked before its backward pass. In a distributed job every
rank takes part in the check, so all ranks stop together instead of waiting for each other forever.
"""

from __future__ import annotations

import math

import torch

from freqprobe.errors import TrainingDiverged
from freqprobe.train.distributed import DistributedContext


class DivergenceGuard:
    """Collects (step, loss) pairs and raises :class:`TrainingDiverged` at the first non-finite loss."""

    def __init__(self, context: DistributedContext, device: torch.device, interval: int, last_good: str):
        self.context = context
        self.device = device
        self.interval = interval
        self.last_good = last_good  # sentence describing the checkpoint that stays, for the message
        self._steps: list[int] = []
        self._losses: list[torch.Tensor] = []

    def record(self, step: int, loss: torch.Tensor) -> bool:
        """Remember one step's loss; True when a check is due (call :meth:`check` then)."""
        self._steps.append(step)
        self._losses.append(loss.detach().float().reshape(()))
        return len(self._losses) >= self.interval

    def check(self, epoch: int, steps_per_epoch: int, lr: float) -> list[float]:
        """Verify the buffered losses on every rank; return them as floats and clear the buffer.

        Raises:
            TrainingDiverged: some rank saw a NaN/inf loss (the message names epoch, step and the kept checkpoint).
        """
        if not self._losses:
            return []
        values = torch.stack(self._losses)
        finite = bool(torch.isfinite(values).all())
        all_finite = self.context.all_true(finite, self.device)
        losses = values.tolist()
        steps, self._steps, self._losses = self._steps, [], []
        if all_finite:
            return losses
        bad = [(step, value) for step, value in zip(steps, losses) if not math.isfinite(value)]
        where = (
            f"loss {bad[0][1]} at epoch {epoch}, step {bad[0][0]} of {steps_per_epoch}"
            if bad
            else f"a non-finite loss on another rank at epoch {epoch}, steps {steps[0]}-{steps[-1]} of {steps_per_epoch}"
        )
        raise TrainingDiverged(
            f"training diverged: {where} (lr {lr:.3g}); {self.last_good}; lower the learning rate (--lr) and start "
            f"again with --force"
        )
