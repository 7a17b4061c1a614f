"""The training loop: ``run_training(config, out_dir)`` trains one model and writes its run folder.

Data path (airbench style): every split is one tensor, filtered once before training; each step gathers its batch
from the resident tensor and augments the whole batch at once. Random streams derive from (seed, epoch), and a
checkpoint is written atomically after every epoch, so an interrupted run (even ``kill -9``) resumes from the last
completed epoch and, on the same CPU, ends with exactly the metrics of an uninterrupted run.

The pieces: :mod:`freqprobe.train.run_writer` (the run folder), :mod:`freqprobe.train.build` (model, optimizer and
the rest, before the first epoch), :mod:`freqprobe.train.epoch` (one epoch), :mod:`freqprobe.train.final_metrics`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from freqprobe.errors import ConfigError
from freqprobe.tables import format_accuracy
from freqprobe.train.build import (
    batching,
    build_model,
    build_regularizer,
    build_scaler,
    check_fits_images,
    check_names,
    restore_optimizer,
    to_device,
    wrap_for_training,
)
from freqprobe.train.checkpoint import TrainingState
from freqprobe.train.config import TrainConfig, config_from_dict
from freqprobe.train.distributed import DistributedContext, init_distributed
from freqprobe.train.epoch import EpochTrainer
from freqprobe.train.fastpaths import apply_process_settings, choose_fast_paths, resolve_device
from freqprobe.models.cost import FLOPS_DEFINITION, count_flops, format_count
from freqprobe.train.final_metrics import count_parameters, final_metrics, weights_digest
from freqprobe.train.prepare import prepare_data
from freqprobe.train.progress import Progress
from freqprobe.train.run_folder import FolderState, read_final_metrics
from freqprobe.train.run_writer import RunWriter


def run_training(
    config: TrainConfig,
    out_dir: str | Path,
    resume: bool = False,
    *,
    force: bool = False,
    progress: bool | None = None,
    stop_after: int | None = None,
) -> dict:
    """Train ``config`` and write the run folder ``out_dir``; return the content of ``metrics.json``.

    Args:
        resume: continue the unfinished run in ``out_dir`` from its last completed epoch (a missing or empty
            folder starts fresh; a complete run is returned as it is).
        force: delete a previous run's files in ``out_dir`` and start over.
        progress: show the progress bar (per-epoch lines are printed either way); None: only when standard error
            is a terminal, so a log file (a sweep's, a --jobs child's) gets the per-epoch lines alone.
        stop_after: stop cleanly once this many epochs are complete (the run stays resumable); returns
            ``{"complete": False, "epochs_done": N}`` then.

    Raises:
        ConfigError: bad config, a complete run without ``force``, an unfinished one without ``resume``, a
            ``resume`` with different settings.
        DataError: missing or corrupt data.
        TrainingDiverged: a NaN/inf loss (the last good checkpoint is kept).
    """
    if not isinstance(config, TrainConfig):
        config = config_from_dict(config)
    if not config.dataset:
        raise ConfigError("no dataset given; pass --dataset NAME or set dataset in the config file")
    if stop_after is not None and stop_after < 1:
        raise ConfigError(f"stop_after must be >= 1, got {stop_after}")
    out_dir = Path(out_dir)
    device_type = torch.device(resolve_device(config.device)).type
    context = init_distributed(device_type)
    try:
        if progress is None:
            progress = sys.stderr.isatty()
        return _Run(config, out_dir, context, progress).execute(resume, force, stop_after)
    finally:
        context.close()


class _Run:
    """One training run: claims the folder, sets up data and model, trains epoch by epoch, writes the results.

    ``trainer`` (an :class:`EpochTrainer`: data, model, optimizer, ...) is set by :meth:`_setup`.
    """

    def __init__(self, config: TrainConfig, out_dir: Path, context: DistributedContext, show_progress: bool):
        self.config = config
        self.out_dir = out_dir
        self.context = context
        self.show_progress = show_progress
        self.fast = choose_fast_paths(config, context.local_rank, context.local_world_size)
        self.writer = RunWriter(config, out_dir, context, self.fast)

    def execute(self, resume: bool, force: bool, stop_after: int | None) -> dict:
        check_names(self.config)
        apply_process_settings(self.fast)
        state = self.writer.claim(resume, force)
        if state is FolderState.COMPLETE:
            return read_final_metrics(self.out_dir)
        saved = self.writer.saved_state() if state is FolderState.INCOMPLETE else None
        self._setup(saved)
        steps_per_epoch = self.trainer.steps_per_epoch
        history = list(saved.history) if saved else []
        step = saved.step if saved else 0
        first_epoch = len(history) + 1
        progress = Progress(
            self.config.epochs * steps_per_epoch,
            (first_epoch - 1) * steps_per_epoch,
            self.config.epochs,
            enabled=self.show_progress,
            silent=not self.context.is_main,
        )
        try:
            for epoch in range(first_epoch, self.config.epochs + 1):
                last_good = self.writer.last_good_sentence(history)
                record, step = self.trainer.train_epoch(epoch, step, progress, last_good)
                history.append(record)
                progress.end_epoch(record)
                if self.context.is_main:
                    self._save_epoch(record, step, history)
                if stop_after is not None and stop_after <= epoch < self.config.epochs:
                    self.context.barrier()
                    progress.message(f"stopped after epoch {epoch}; continue with --resume {self.out_dir}")
                    return {"complete": False, "epochs_done": epoch}
        finally:
            progress.close()
        return self._finish(history)

    def _setup(self, saved: TrainingState | None) -> None:
        config, fast, context = self.config, self.fast, self.context
        self._say(f"freqprobe train: {fast.describe()}")
        data = prepare_data(config, filter_state=saved.filter_state if saved else None)
        self._say(
            f"data: {len(data.train_labels)} train / {len(data.val_labels)} val / {len(data.test_labels)} test images "
            f"{tuple(data.train_images.shape[1:])}, filter {data.input_filter.spec!r} applied once before "
            f"augmentation ({data.seconds:.1f} s)"
        )
        check_fits_images(config, tuple(data.train_images.shape[-2:]))
        model, model_source = build_model(config, fast, data, saved)
        self.flops_per_image = count_flops(model, tuple(data.train_images.shape[1:]))
        self._say(
            f"model: {config.model}, {format_count(count_parameters(model), 'params')}, "
            f"{format_count(self.flops_per_image, 'FLOPs')} per {'x'.join(map(str, data.train_images.shape[1:]))} "
            f"image ({FLOPS_DEFINITION})"
        )
        regularizer = build_regularizer(config, model)
        self.writer.start_kernel_tracking()
        self.writer.start_feature_tracking(data)
        optimizer = restore_optimizer(model, config, saved)
        scaler = build_scaler(fast, saved)
        batch_per_rank, steps_per_epoch = batching(config, context.world_size, len(data.train_labels))
        if context.is_main:
            self.writer.write_start_files(
                data, saved, model, batch_per_rank, steps_per_epoch, self.flops_per_image, model_source
            )
        if saved is None:
            self.writer.record_initial_kernels(model)
        if saved:
            self._say(f"resuming {self.out_dir} after epoch {saved.epoch}")
        data = to_device(data, fast)
        train_module = wrap_for_training(model, context, fast)
        self.trainer = EpochTrainer(
            config, fast, context, data, model, train_module, regularizer, optimizer, scaler, batch_per_rank,
            steps_per_epoch,
        )

    def _save_epoch(self, record: dict, step: int, history: list[dict]) -> None:
        trainer = self.trainer
        self.writer.save_epoch(record, step, history, trainer.model, trainer.optimizer, trainer.scaler, trainer.data)

    def _finish(self, history: list[dict]) -> dict:
        """Test (and, with TTA, validation) accuracy, then model.safetensors and metrics.json (last)."""
        trainer, data = self.trainer, self.trainer.data
        flip, translate = self.config.tta_flip, self.config.tta_translate
        test = trainer.evaluate(data.test_images, data.test_labels, flip, translate)
        if flip or translate:
            val = trainer.evaluate(data.val_images, data.val_labels, flip, translate)
            val_accuracy, val_loss = val.accuracy, val.loss
        else:
            val_accuracy, val_loss = history[-1]["val_accuracy"], history[-1]["val_loss"]
        digests = self.context.gather_objects(weights_digest(trainer.model))
        metrics = final_metrics(
            self.config, self.fast, self.context.world_size, data, trainer.model, trainer.regularizer, history, test,
            val_accuracy, val_loss, digests,
        )
        metrics["flops_per_image"] = self.flops_per_image
        metrics["flops_definition"] = FLOPS_DEFINITION
        if self.context.is_main:
            self.writer.write_results(trainer.model, metrics)
            self._say(
                f"done: test accuracy {format_accuracy(metrics['test_accuracy'])}, val {format_accuracy(val_accuracy)} "
                f"({metrics['train_seconds']:.0f} s); run folder {self.out_dir}"
            )
        self.context.barrier()
        return metrics

    def _say(self, text: str) -> None:
        if self.context.is_main:
            print(text, file=sys.stderr, flush=True)
