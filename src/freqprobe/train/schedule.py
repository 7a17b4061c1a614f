"""Learning-rate schedules as pure functions of the global step, so a resumed run needs no scheduler state.

- ``onecycle``: linear rise from ``lr / 25`` to ``lr`` over the first ``warmup_fraction`` of the steps, then linear
  decay to 0 at the end of training.
- ``cosine``: ``lr * (1 + cos(pi * t)) / 2`` with ``t`` the fraction of training done.
- ``step``: the original notebooks: ``lr * step_gamma ** (epoch // step_size)`` (lr 0.1, x0.1 every 50 epochs).
"""

from __future__ import annotations

import math

from freqprobe.train.config import TrainConfig

ONECYCLE_START_DIVISOR = 25.0


def learning_rate(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """The learning rate of global step ``step`` (0-based) in a run of ``config.epochs * steps_per_epoch`` steps."""
    total_steps = config.epochs * steps_per_epoch
    if config.schedule == "step":
        return step_lr(config.lr, step // steps_per_epoch, config.step_size, config.step_gamma)
    if config.schedule == "cosine":
        return cosine_lr(config.lr, step, total_steps)
    if config.schedule == "onecycle":
        return onecycle_lr(config.lr, step, total_steps, config.warmup_fraction)
    raise ValueError(f"unknown schedule {config.schedule!r}")


def step_lr(lr: float, epoch: int, step_size: int, gamma: float) -> float:
    """``lr`` times ``gamma`` for every ``step_size`` completed epochs (``epoch`` is 0-based)."""
    return lr * gamma ** (epoch // step_size)


def cosine_lr(lr: float, step: int, total_steps: int) -> float:
    """Cosine annealing from ``lr`` at step 0 towards 0 at ``total_steps``."""
    return lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))


def onecycle_lr(lr: float, step: int, total_steps: int, warmup_fraction: float) -> float:
    """Piecewise linear: ``lr / 25`` -> ``lr`` during warm-up, then ``lr`` -> 0 at ``total_steps``."""
    warmup_steps = warmup_fraction * total_steps
    start = lr / ONECYCLE_START_DIVISOR
    if step < warmup_steps:
        return start + (lr - start) * step / warmup_steps
    return lr * max(0.0, (total_steps - step) / (total_steps - warmup_steps))
