"""The training loop: ``run_training(config, out_dir)`` trains one model and writes its run folder.

Data path (airbench style): every split is one tensor, filtered once before training; each step gathers its batch
from the resident tensor and augments the whole batch at once. Random streams derive from (seed, epoch), and a
checkpoint is written atomically after every epoch, so an interrupted run (even ``kill -9``) resumes from the last
completed epoch and, on the same CPU, ends with exactly the metrics of an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import freqprobe
from freqprobe.errors import ConfigError
from freqprobe.io import append_jsonl, atomic_write_json, atomic_write_text, prepare_output_dir, read_jsonl
from freqprobe.train.augment import augment_batch
from freqprobe.train.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from freqprobe.train.config import TrainConfig, config_from_dict
from freqprobe.train.distributed import DistributedContext, init_distributed
from freqprobe.train.environment import describe_environment
from freqprobe.train.evaluate import EvalCounts, evaluate
from freqprobe.train.fastpaths import FastPaths, apply_process_settings, choose_fast_paths, resolve_device
from freqprobe.train.guard import DivergenceGuard
from freqprobe.train.optimizer import build_optimizer
from freqprobe.train.prepare import FILTER_POSITION, PreparedData, prepare_data
from freqprobe.train.progress import Progress
from freqprobe.train.rng import derive_seed, generator
from freqprobe.train.run_folder import (
    FolderState,
    RunPaths,
    check_folder_use,
    clear_run_files,
    read_final_metrics,
)
from freqprobe.train.schedule import learning_rate

# config keys that may differ between the start and the resumption of a run (they do not change the result)
RESUME_TOLERATED_KEYS = ("data_dir",)
CUDA_CHECK_INTERVAL = 16  # steps between loss checks on CUDA (each check waits for the GPU)


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


@dataclass
class _EpochTotals:
    loss_sum: float = 0.0
    correct: float = 0.0
    count: float = 0.0
    step_seconds: float = 0.0
    cross_entropy_sum: float = 0.0  # with a spectral regularizer: the loss without its penalty


class _Run:
    """One training run: claims the folder, sets up data and model, trains epoch by epoch, writes the results.

    Attributes set by :meth:`_setup`: ``data``, ``model`` (the plain module, for state dicts and evaluation),
    ``train_module`` (DDP- and/or compile-wrapped), ``regularizer`` (a spectral regularizer on ``model``, or None),
    ``optimizer``, ``scaler``, ``batch_per_rank``, ``steps_per_epoch``.
    """

    def __init__(self, config: TrainConfig, out_dir: Path, context: DistributedContext, show_progress: bool):
        self.config = config
        self.out_dir = out_dir
        self.context = context
        self.show_progress = show_progress
        self.paths = RunPaths(out_dir)
        self.fast = choose_fast_paths(config, context.local_rank, context.local_world_size)

    # ------------------------------------------------------------------------------------------------ top level

    def execute(self, resume: bool, force: bool, stop_after: int | None) -> dict:
        check_names(self.config)
        apply_process_settings(self.fast)
        state = self._claim_folder(resume, force)
        if state is FolderState.COMPLETE:
            return read_final_metrics(self.out_dir)
        saved = self._saved_state() if state is FolderState.INCOMPLETE else None
        self._setup(saved)
        history = list(saved.history) if saved else []
        step = saved.step if saved else 0
        first_epoch = len(history) + 1
        progress = Progress(
            self.config.epochs * self.steps_per_epoch,
            (first_epoch - 1) * self.steps_per_epoch,
            self.config.epochs,
            enabled=self.show_progress,
            silent=not self.context.is_main,
        )
        try:
            for epoch in range(first_epoch, self.config.epochs + 1):
                record, step = self._train_epoch(epoch, step, progress, history)
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
        self._say(f"freqprobe train: {self.fast.describe()}")
        data = prepare_data(self.config, filter_state=saved.filter_state if saved else None)
        self._say(
            f"data: {len(data.train_labels)} train / {len(data.val_labels)} val / {len(data.test_labels)} test images "
            f"{tuple(data.train_images.shape[1:])}, filter {data.input_filter.spec!r} applied once before "
            f"augmentation ({data.seconds:.1f} s)"
        )
        _check_fits_images(self.config, tuple(data.train_images.shape[-2:]))
        self.model = self._build_model(data, saved)
        self.regularizer = self._build_regularizer(self.model)
        self.kernel_tracker = self._build_kernel_tracker()
        self.optimizer = self._build_optimizer(self.model, saved)
        self.scaler = self._build_scaler(saved)
        self.batch_per_rank, self.steps_per_epoch = self._batching(len(data.train_labels))
        if self.context.is_main:
            self._write_start_files(data, saved)
        if self.kernel_tracker is not None and saved is None:
            self.kernel_tracker(0, self.model)  # the initialization, so the plot shows where the kernels started
        if saved:
            self._say(f"resuming {self.out_dir} after epoch {saved.epoch}")
        self.data = self._to_device(data)
        self.train_module = self._wrap_for_training(self.model)

    # ---------------------------------------------------------------------------------------------- run folder

    def _claim_folder(self, resume: bool, force: bool) -> FolderState:
        # writable before any data is loaded; temporaries of a killed save (unlocked) go, a live writer's stay
        prepare_output_dir(self.out_dir, "run folder")
        state = check_folder_use(self.out_dir, resume, force)
        # every rank has looked before rank 0 changes anything
        self.context.barrier()
        if force and state is not FolderState.EMPTY:
            if self.context.is_main:
                clear_run_files(self.out_dir)
            state = FolderState.EMPTY
        elif state is FolderState.COMPLETE:
            self._check_same_config(self._config_of_complete_run(), "a completed run")
        elif state is FolderState.INCOMPLETE and not self.paths.checkpoint.exists():
            # killed before the first epoch ended: nothing to keep
            if self.context.is_main:
                clear_run_files(self.out_dir)
            state = FolderState.EMPTY
        self.context.barrier()
        return state

    def _config_of_complete_run(self) -> dict:
        try:
            return json.loads(self.paths.config.read_text(encoding="utf-8"))["config"]
        except (OSError, ValueError, KeyError, TypeError):
            return self.config.to_dict()

    def _saved_state(self) -> TrainingState | None:
        if not self.paths.checkpoint.exists():
            return None
        saved = load_checkpoint(self.paths.checkpoint)
        self._check_same_config(saved.config, "an unfinished run")
        return saved

    def _check_same_config(self, saved: dict, what: str) -> None:
        current = self.config.to_dict()
        defaults = TrainConfig().to_dict()
        for key, value in current.items():
            # a key the saved config lacks was added to freqprobe later; the run trained with its default
            before = saved.get(key, defaults[key])
            if key in RESUME_TOLERATED_KEYS or before == value:
                continue
            raise ConfigError(self._changed_config_message(what, key, before, value))

    def _changed_config_message(self, what: str, key: str, before: Any, value: Any) -> str:
        """Advice that works: the value differs in RUN/config.json (edited) or in a flag, so say both ways back and
        how to start over with the new value (--force), instead of the --resume that just failed."""
        option = "--" + key.replace("_", "-")
        keep = "continue it" if what == "an unfinished run" else "keep it"
        return (
            f"run folder {self.out_dir} holds {what} trained with {key}={before!r}, but this command asks for "
            f"{key}={value!r} (from {option} or from {self.paths.config}); to {keep}, drop {option} and set "
            f'"{key}": {json.dumps(before)} back in {self.paths.config}; to start over with {key}={value!r}, add '
            f"--force; or train into another --out"
        )

    def _write_start_files(self, data: PreparedData, saved: TrainingState | None) -> None:
        resumed = saved is not None
        if not resumed or not self.paths.config.exists():
            atomic_write_json(
                self.paths.config,
                {
                    "config": self.config.to_dict(),
                    "fast_paths": self.fast.to_dict(),
                    "filter_position": FILTER_POSITION,
                    "filter": {
                        "spec": data.input_filter.spec,
                        "boundary": self.config.boundary,
                        "fitted_on": "train split" if data.input_filter.requires_fit else "nothing (no statistics)",
                    },
                    "data": data.summary(),
                    "params": count_parameters(self.model),
                    "world_size": self.context.world_size,
                    "batch_size_per_rank": self.batch_per_rank,
                    "steps_per_epoch": self.steps_per_epoch,
                    "freqprobe_version": freqprobe.__version__,
                },
            )
        environment = describe_environment(self.fast, self.context.world_size)
        if resumed and self.paths.environment.exists():
            previous = json.loads(self.paths.environment.read_text(encoding="utf-8"))
            environment["previous_sessions"] = previous.pop("previous_sessions", []) + [previous]
        atomic_write_json(self.paths.environment, environment)
        if resumed:
            # lines past the checkpoint's epoch belong to an epoch that will run again
            lines = "".join(json.dumps(record) + "\n" for record in saved.history)
            atomic_write_text(self.paths.metrics_log, lines)
            if self.kernel_tracker is not None:
                self._truncate_kernel_log(saved.epoch)

    def _save_epoch(self, record: dict, step: int, history: list[dict]) -> None:
        # metrics line first: if killed before the checkpoint lands, the resume rewrites the log from the checkpoint
        append_jsonl(self.paths.metrics_log, record)
        if self.kernel_tracker is not None:
            self.kernel_tracker(record["epoch"], self.model)
        save_checkpoint(
            self.paths.checkpoint,
            TrainingState(
                epoch=record["epoch"],
                step=step,
                model=self.model.state_dict(),
                optimizer=self.optimizer.state_dict(),
                scaler=self.scaler.state_dict() if self.scaler is not None else None,
                filter_state=self.data.input_filter.state_dict(),
                mean=self.data.mean.tolist(),
                std=self.data.std.tolist(),
                config=self.config.to_dict(),
                history=history,
            ),
        )

    # ------------------------------------------------------------------------------------------ model and optim

    def _build_model(self, data: PreparedData, saved: TrainingState | None) -> nn.Module:
        from freqprobe.models import conv_model_kwargs, create_model

        # the initial weights depend only on the seed, whatever ran before in this process
        torch.manual_seed(derive_seed(self.config.seed, "init"))
        model = create_model(
            self.config.model,
            in_channels=data.in_channels,
            num_classes=len(data.classes),
            antialias=self.config.antialias,
            mean=data.mean.tolist(),
            std=data.std.tolist(),
            **conv_model_kwargs(self.config.conv),
        )
        model = model.to(self.fast.torch_device)
        if self.fast.channels_last:
            model = model.to(memory_format=torch.channels_last)
        if saved is not None:
            model.load_state_dict(saved.model)
        return model

    def _build_regularizer(self, model: nn.Module):
        """The ``spectral_reg`` loss term, built on the plain model: its layers are looked up by name, which DDP and
        ``torch.compile`` wrappers would prefix."""
        from freqprobe.train.regularizers import build_regularizer

        return build_regularizer(self.config.spectral_reg, model)

    def _build_kernel_tracker(self):
        """``--track-kernels``: per-layer kernel statistics after every epoch, written by rank 0 only."""
        if not self.config.track_kernels or not self.context.is_main:
            return None
        from freqprobe.analysis.kernels import KernelStatsCallback

        return KernelStatsCallback(self.paths.kernel_log)

    def _truncate_kernel_log(self, epoch: int) -> None:
        # like metrics.jsonl: lines past the checkpoint's epoch belong to an epoch that will run again
        kept = [record for record in self._read_kernel_log() if record.get("epoch", 0) <= epoch]
        atomic_write_text(self.paths.kernel_log, "".join(json.dumps(record) + "\n" for record in kept))

    def _read_kernel_log(self) -> list[dict]:
        if not self.paths.kernel_log.exists():
            return []
        return [record for record in read_jsonl(self.paths.kernel_log) if isinstance(record, dict)]

    def _build_optimizer(self, model: nn.Module, saved: TrainingState | None) -> torch.optim.Optimizer:
        optimizer = build_optimizer(model, self.config)
        if saved is not None:
            optimizer.load_state_dict(saved.optimizer)
        return optimizer

    def _build_scaler(self, saved: TrainingState | None):
        if not self.fast.grad_scaler:
            return None
        scaler = torch.amp.GradScaler("cuda")
        if saved is not None and saved.scaler:
            scaler.load_state_dict(saved.scaler)
        return scaler

    def _wrap_for_training(self, model: nn.Module) -> nn.Module:
        module = model
        if self.context.enabled:
            from torch.nn.parallel import DistributedDataParallel

            device_ids = [self.fast.torch_device.index] if self.fast.device_type == "cuda" else None
            module = DistributedDataParallel(model, device_ids=device_ids)
        if self.fast.compile:
            module = torch.compile(module)
        return module

    def _batching(self, train_count: int) -> tuple[int, int]:
        """(batch size per rank, steps per epoch). Incomplete last batches are dropped (fresh each epoch)."""
        world = self.context.world_size
        if self.config.batch_size % world:
            raise ConfigError(
                f"batch_size {self.config.batch_size} is not divisible by the {world} processes; "
                f"choose a multiple of {world}"
            )
        per_rank = self.config.batch_size // world
        shard = train_count // world
        if shard < 2:
            raise ConfigError(f"{train_count} training images cannot be shared by {world} processes; use more data")
        return min(per_rank, shard), max(1, shard // per_rank)

    def _to_device(self, data: PreparedData) -> PreparedData:
        if not self.fast.data_on_device:
            return data
        device = self.fast.torch_device
        for name in ("train_images", "train_labels", "val_images", "val_labels", "test_images", "test_labels"):
            setattr(data, name, getattr(data, name).to(device))
        return data

    # ------------------------------------------------------------------------------------------------- training

    def _train_epoch(self, epoch: int, step: int, progress: Progress, history: list[dict]) -> tuple[dict, int]:
        """Train one epoch from global step ``step``; return its metrics record and the next global step."""
        config, fast, context = self.config, self.fast, self.context
        started = time.perf_counter()
        order = self._epoch_order(epoch, len(self.data.train_labels))
        augment_generator = generator(config.seed, "augment", epoch, context.rank)
        guard = DivergenceGuard(
            context,
            fast.torch_device,
            interval=CUDA_CHECK_INTERVAL if fast.device_type == "cuda" else 1,
            last_good=self._last_good_sentence(history),
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
        device = self.fast.torch_device
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        if self.fast.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images, labels

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
        val = self._evaluate(self.data.val_images, self.data.val_labels, tta_flip=False)
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

    def _evaluate(
        self, images: torch.Tensor, labels: torch.Tensor, tta_flip: bool, tta_translate: int = 0
    ) -> EvalCounts:
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

    def _last_good_sentence(self, history: list[dict]) -> str:
        if not history:
            return f"no checkpoint was written yet (it is written after each epoch to {self.paths.checkpoint})"
        return f"the last good checkpoint {self.paths.checkpoint} (epoch {history[-1]['epoch']}) is kept"

    # --------------------------------------------------------------------------------------------------- finish

    def _finish(self, history: list[dict]) -> dict:
        """Test (and, with TTA, validation) accuracy, then model.safetensors and metrics.json (last)."""
        flip, translate = self.config.tta_flip, self.config.tta_translate
        test = self._evaluate(self.data.test_images, self.data.test_labels, flip, translate)
        if flip or translate:
            val = self._evaluate(self.data.val_images, self.data.val_labels, flip, translate)
            val_accuracy, val_loss = val.accuracy, val.loss
        else:
            val_accuracy, val_loss = history[-1]["val_accuracy"], history[-1]["val_loss"]
        digests = self.context.gather_objects(weights_digest(self.model))
        metrics = self._final_metrics(history, test, val_accuracy, val_loss, digests)
        if self.context.is_main:
            from freqprobe.models import save_weights

            save_weights(self.model, self.paths.weights)
            atomic_write_json(self.paths.metrics, metrics)  # last: its presence marks the run complete
            self._say(
                f"done: test accuracy {100 * metrics['test_accuracy']:.2f}%, val {100 * val_accuracy:.2f}% "
                f"({metrics['train_seconds']:.0f} s); run folder {self.out_dir}"
            )
        self.context.barrier()
        return metrics

    def _final_metrics(
        self, history: list[dict], test: EvalCounts, val_accuracy: float, val_loss: float, digests: list
    ) -> dict[str, Any]:
        from freqprobe.models import count_parameters as count_by_kind

        config, fast, data = self.config, self.fast, self.data
        step_seconds = sum(record["step_seconds"] for record in history)
        trained_images = sum(record["images_per_second"] * record["step_seconds"] for record in history)
        by_kind = count_by_kind(self.model)
        metrics = {
            "dataset": config.dataset,
            "model": config.model,
            "filter": config.filter,
            "conv": config.conv,
            "spectral_reg": config.spectral_reg,
            "seed": config.seed,
            "preset": config.preset,
            "test_accuracy": test.accuracy,
            "test_loss": test.loss,
            "val_accuracy": val_accuracy,
            "val_loss": val_loss,
            "tta_flip": config.tta_flip,
            "tta_translate": config.tta_translate,
            "final_train_loss": history[-1]["train_loss"],
            "final_train_accuracy": history[-1]["train_accuracy"],
            "epochs": len(history),
            "train_seconds": sum(record["seconds"] for record in history),
            "images_per_second": trained_images / step_seconds if step_seconds else None,
            "params": count_parameters(self.model),
            "conv_params": by_kind["conv"],
            "bandpass_params": by_kind["bandpass"],
            "device": fast.device,
            "precision": fast.precision,
            "channels_last": fast.channels_last,
            "compile": fast.compile,
            "threads": fast.threads,
            "world_size": self.context.world_size,
            "train_images": len(data.train_labels),
            "val_images": len(data.val_labels),
            "test_images": len(data.test_labels),
            "filter_position": "before augmentation",
            "weights_sha256": digests[0],
            "rank_weights_sha256": digests,
        }
        if self.regularizer is not None:
            metrics.update(self.regularizer.summary(self.model))  # of the final weights, as the last epoch's line
        return metrics

    def _say(self, text: str) -> None:
        if self.context.is_main:
            print(text, file=sys.stderr, flush=True)


def rank_share(permutation: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Every ``world_size``-th entry of ``permutation`` from ``rank`` on, all shares equally long (the remainder
    of ``len(permutation) / world_size`` is left out this epoch), so ranks see disjoint images in equal steps."""
    shard = len(permutation) // world_size
    return permutation[: shard * world_size].view(shard, world_size)[:, rank]


def check_names(config: TrainConfig) -> None:
    """Fail on an unknown dataset, model or filter before any data is loaded or any file written.

    Raises:
        ConfigError: the name and the valid ones.
    """
    from freqprobe.data import dataset_names
    from freqprobe.filters import build_filter
    from freqprobe.models import MODELS

    names = dataset_names()
    if not config.dataset.startswith("folder:") and config.dataset not in names:
        raise ConfigError(f"unknown dataset {config.dataset!r}; valid: {', '.join(names)}")
    MODELS.get(config.model)
    build_filter(config.filter, boundary=config.boundary)


def count_parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def weights_digest(model: nn.Module) -> str:
    """SHA-256 of every parameter and buffer, in state-dict order: equal digests mean bit-identical models."""
    digest = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _check_fits_images(config: TrainConfig, size: tuple[int, int]) -> None:
    """Augmentation sizes that cannot work on images of ``size`` (H, W) fail before any training."""
    height, width = size
    if config.cutout > min(height, width):
        raise ConfigError(
            f"cutout={config.cutout} is larger than the {height}x{width} images; use at most {min(height, width)} "
            "(about half the side is usual, e.g. --cutout 12 for 32x32)"
        )
    if config.tta_translate >= min(height, width):
        raise ConfigError(
            f"tta_translate={config.tta_translate} shifts the {height}x{width} images out of view; use at most "
            f"{min(height, width) - 1} (1 or 2 pixels is usual)"
        )
