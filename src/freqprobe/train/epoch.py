"""One epoch of training and its metrics record: each step gathers its batch from the resident training tensor,
augments it as a whole, and takes an optimizer step; the loss is checked for NaN/inf as it goes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from freqprobe.train.augment import augment_batch
from freqprobe.train.config import TrainConfig
from freqprobe.train.distributed import DistributedContext
from freqprobe.train.evaluate import EvalCounts, evaluate
from freqprobe.train.fastpaths import FastPaths
from freqprobe.train.guard import DivergenceGuard
from freqprobe.train.prepare import PreparedData
from freqprobe.train.progress import Progress
from freqprobe.train.rng import generator
from freqprobe.train.schedule import learning_rate

CUDA_CHECK_INTERVAL = 16  # steps between loss checks on CUDA (each check waits for the GPU)


@dataclass
class _EpochTotals:
    loss_sum: float = 0.0
    correct: float = 0.0
    count: float = 0.0
    step_seconds: float = 0.0
    cross_entropy_sum: float = 0.0  # with a spectral regularizer: the loss without its penalty


@dataclass
class EpochTrainer:
    """What the epochs of one run train and evaluate.

    ``model`` is the plain module (for state dicts, evaluation and the penalty), ``train_module`` the one the steps
    call (DDP- and/or compile-wrapped), ``regularizer`` a spectral regularizer on ``model`` or None, ``scaler`` the
    fp16 gradient scaler or None.
    """

    config: TrainConfig
    fast: FastPaths
    context: DistributedContext
    data: PreparedData
    model: nn.Module
    train_module: nn.Module
    regularizer: Any
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None
    batch_per_rank: int
    steps_per_epoch: int

    def train_epoch(self, epoch: int, step: int, progress: Progress, last_good: str) -> tuple[dict, int]:
        """Train one epoch from global step ``step``; return its metrics record and the next global step.

        Raises:
            TrainingDiverged: a NaN/inf loss; its message ends with ``last_good`` (what is kept).
        """
        config, fast, context = self.config, self.fast, self.context
        started = time.perf_counter()
        order = self._epoch_order(epoch, len(self.data.train_labels))
        augment_generator = generator(config.seed, "augment", epoch, context.rank)
        guard = DivergenceGuard(
            context,
            fast.torch_device,
            interval=CUDA_CHECK_INTERVAL if fast.device_type == "cuda" else 1,
            last_good=last_good,
        )
        totals = _EpochTotals()
        correct = torch.zeros((), dtype=torch.float64, device=fast.torch_device)  # summed on device: no sync
        cross_entropy = torch.zeros((), dtype=torch.float64, device=fast.torch_device)  # without the penalty
        unreported_images = 0
        self.train_module.train()
        progress.start_epoch(epoch)
        lr = config.lr
        for index in range(self.steps_per_epoch):
            rows = order[index * self.batch_per_rank : (index + 1) * self.batch_per_rank]
            images, labels = self._batch(rows, augment_generator)
            lr = learning_rate(config, step, self.steps_per_epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            with fast.autocast():
                logits = self.train_module(images)
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=config.label_smoothing)
            if self.regularizer is not None:
                cross_entropy += loss.detach()
                loss = loss + self.regularizer.penalty(self.model)
            unreported_images += len(labels)
            # checked before backward: on CPU a NaN never reaches the weights
            if guard.record(index + 1, loss) or index + 1 == self.steps_per_epoch:
                losses = guard.check(epoch, self.steps_per_epoch, lr)
                totals.loss_sum += sum(losses) * self.batch_per_rank
                totals.count += len(losses) * self.batch_per_rank
                running_accuracy = float(correct) / max(totals.count - len(labels), 1)
                progress.update(
                    len(losses), unreported_images * context.world_size, totals.loss_sum / totals.count,
                    running_accuracy,
                )
                unreported_images = 0
            self._optimizer_step(loss)
            correct += (logits.detach().argmax(dim=1) == labels).sum()
            step += 1
        if fast.device_type == "cuda":
            torch.cuda.synchronize(fast.torch_device)
        totals.correct = float(correct)
        totals.cross_entropy_sum = float(cross_entropy) * self.batch_per_rank
        totals.step_seconds = time.perf_counter() - started
        context.broadcast_buffers(self.model)
        return self._epoch_record(epoch, lr, totals, started), step

    def _epoch_order(self, epoch: int, train_count: int) -> torch.Tensor:
        """This rank's share of the epoch's permutation (every rank draws the same permutation)."""
        permutation = torch.randperm(train_count, generator=generator(self.config.seed, "permutation", epoch))
        return rank_share(permutation, self.context.rank, self.context.world_size)

    def _batch(self, rows: torch.Tensor, augment_generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The training images ``rows`` (a gather from the resident tensor), augmented as a whole batch."""
        data = self.data
        rows = rows.to(data.train_images.device)
        images = data.train_images.index_select(0, rows)
        labels = data.train_labels.index_select(0, rows)
        raw = images
        if self.config.augment:
            images = augment_batch(
                images,
                augment_generator,
                self.config.crop_padding,
                self.config.flip,
                self.config.padding_mode,
                cutout_size=self.config.cutout,
                cutout_fill=data.mean,
            )
        if self.config.augment_noise or self.config.apr != "none":
            images = self._frequency_augment(images, raw, augment_generator)
        device = self.fast.torch_device
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        if self.fast.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images, labels

    def _frequency_augment(self, images, raw, augment_generator: torch.Generator) -> torch.Tensor:
        """APR and Gaussian noise (freqprobe.train.frequency_augment) after crop, flip and cutout."""
        from freqprobe.train.frequency_augment import frequency_augment_batch

        config = self.config

        def second_view(batch: torch.Tensor) -> torch.Tensor:
            if not config.augment:
                return batch
            return augment_batch(batch, augment_generator, config.crop_padding, config.flip, config.padding_mode)

        return frequency_augment_batch(
            images, raw, augment_generator, noise=config.augment_noise, apr=config.apr,
            apr_probability=config.apr_probability, second_view=second_view,
        )

    def _optimizer_step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()

    def _epoch_record(self, epoch: int, lr: float, totals: _EpochTotals, started: float) -> dict:
        """Metrics of one epoch, summed over ranks (validation without TTA). With a spectral regularizer
        ``train_loss`` is the objective (cross-entropy + penalty); ``train_cross_entropy`` and the regularizer's
        summary of the end-of-epoch weights (``spectral_*``) are added."""
        train_sums = self.context.sum(
            [totals.loss_sum, totals.correct, totals.count, totals.cross_entropy_sum], self.fast.torch_device
        )
        val = self.evaluate(self.data.val_images, self.data.val_labels, tta_flip=False)
        record = {
            "epoch": epoch,
            "train_loss": train_sums[0] / train_sums[2],
            "train_accuracy": train_sums[1] / train_sums[2],
            "val_loss": val.loss,
            "val_accuracy": val.accuracy,
            "lr": lr,
            "images_per_second": train_sums[2] / totals.step_seconds,
            "step_seconds": totals.step_seconds,
            "seconds": time.perf_counter() - started,
        }
        if self.regularizer is not None:
            record["train_cross_entropy"] = train_sums[3] / train_sums[2]
            record.update(self.regularizer.summary(self.model))
        return record

    def evaluate(
        self, images: torch.Tensor, labels: torch.Tensor, tta_flip: bool, tta_translate: int = 0
    ) -> EvalCounts:
        """Counts of ``model`` on a split, each rank evaluating its shard, summed over the ranks."""
        counts = evaluate(
            self.model,
            images,
            labels,
            self.fast,
            batch_size=self.config.eval_batch_size,
            tta_flip=tta_flip,
            tta_translate=tta_translate,
            shard=(self.context.rank, self.context.world_size),
        )
        return EvalCounts.from_list(self.context.sum(counts.as_list(), self.fast.torch_device))


def rank_share(permutation: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Every ``world_size``-th entry of ``permutation`` from ``rank`` on, all shares equally long (the remainder
    of ``len(permutation) / world_size`` is left out this epoch), so ranks see disjoint images in equal steps."""
    shard = len(permutation) // world_size
    return permutation[: shard * world_size].view(shard, world_size)[:, rank]
