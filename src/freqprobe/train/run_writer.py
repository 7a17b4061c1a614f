"""The engine's side of the run folder: claims it, checks that a resumed or completed run has the same settings,
writes the start files (``config.json``, ``env.json``) and, after every epoch, the metrics line and the checkpoint;
at the end the weights and ``metrics.json``.

The file names and folder states come from :mod:`freqprobe.train.run_folder`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

import freqprobe
from freqprobe.errors import ConfigError
from freqprobe.io import append_jsonl, atomic_write_json, atomic_write_text, prepare_output_dir, read_jsonl
from freqprobe.models.cost import FLOPS_DEFINITION
from freqprobe.train.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from freqprobe.train.config import TrainConfig
from freqprobe.train.distributed import DistributedContext
from freqprobe.train.environment import describe_environment
from freqprobe.train.fastpaths import FastPaths
from freqprobe.train.final_metrics import count_parameters
from freqprobe.train.prepare import FILTER_POSITION, PreparedData
from freqprobe.train.run_folder import (
    FolderState,
    RunPaths,
    check_folder_use,
    clear_run_files,
    write_filter_state,
)

# config keys that may differ between the start and the resumption of a run (they do not change the result)
RESUME_TOLERATED_KEYS = ("data_dir",)


class RunWriter:
    """The run folder ``out_dir`` of one training run, as the engine writes it.

    ``kernel_tracker``: the ``--track-kernels`` callback writing ``kernel_stats.jsonl`` once
    :meth:`start_kernel_tracking` made it, else None; ``feature_tracker`` likewise for ``--track-features``
    (``feature_stats.jsonl``, :meth:`start_feature_tracking`).
    """

    def __init__(self, config: TrainConfig, out_dir: Path, context: DistributedContext, fast: FastPaths):
        self.config = config
        self.out_dir = out_dir
        self.context = context
        self.fast = fast
        self.paths = RunPaths(out_dir)
        self.kernel_tracker = None
        self.feature_tracker = None

    # ------------------------------------------------------------------------------------------------- claiming

    def claim(self, resume: bool, force: bool) -> FolderState:
        """Make the folder ready for this run and say what it holds (all ranks return the same state).

        Raises:
            ConfigError: the folder's run needs ``resume`` or ``force``, or was trained with other settings.
        """
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

    def saved_state(self) -> TrainingState | None:
        """The last checkpoint of an unfinished run, or None if there is none.

        Raises:
            ConfigError: it was trained with other settings.
        """
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

    # ---------------------------------------------------------------------------------------------- start files

    def start_kernel_tracking(self) -> None:
        """``--track-kernels``: per-layer kernel statistics after every epoch, written by rank 0 only."""
        if not self.config.track_kernels or not self.context.is_main:
            return
        from freqprobe.analysis.kernels import KernelStatsCallback

        self.kernel_tracker = KernelStatsCallback(self.paths.kernel_log)

    def start_feature_tracking(self, data: PreparedData) -> None:
        """``--track-features``: per-layer feature-map spectra of a fixed batch of validation images (already
        filtered) after every epoch, written by rank 0 only."""
        if not self.config.track_features or not self.context.is_main:
            return
        from freqprobe.analysis.features import FeatureStatsCallback, tracking_batch

        images = tracking_batch(data.val_images, data.val_labels)
        self.feature_tracker = FeatureStatsCallback(images, self.paths.feature_log)

    def record_initial_kernels(self, model: nn.Module) -> None:
        """The kernels and feature maps at initialization (a fresh run), so the plots show where they started."""
        for tracker in (self.kernel_tracker, self.feature_tracker):
            if tracker is not None:
                tracker(0, model)

    def write_start_files(
        self,
        data: PreparedData,
        saved: TrainingState | None,
        model: nn.Module,
        batch_per_rank: int,
        steps_per_epoch: int,
        flops_per_image: int | None = None,
        model_source: dict | None = None,
    ) -> None:
        """``config.json`` (kept on a resume; ``model_source`` is how the model was made, with a copy of a ``py:``
        factory file beside it), ``filter_state.safetensors`` for a fitted filter (so analyses need no
        ``checkpoint.pt``), ``env.json`` (earlier sessions kept in it) and, on a resume, the logs cut back to the
        checkpoint's epoch. Rank 0 only."""
        resumed = saved is not None
        if not resumed or not self.paths.config.exists():
            model_source = self._with_factory_copy(dict(model_source or {}))
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
                    "model_source": model_source,
                    "params": count_parameters(model),
                    "flops_per_image": flops_per_image,
                    "flops_definition": FLOPS_DEFINITION,
                    "world_size": self.context.world_size,
                    "batch_size_per_rank": batch_per_rank,
                    "steps_per_epoch": steps_per_epoch,
                    "freqprobe_version": freqprobe.__version__,
                },
            )
        if not self.paths.filter_state.exists():
            write_filter_state(self.out_dir, data.input_filter, note="fitted on the training split when training started")
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
                self._truncate_log(self.paths.kernel_log, saved.epoch)
            if self.feature_tracker is not None:
                self._truncate_log(self.paths.feature_log, saved.epoch)

    def _with_factory_copy(self, model_source: dict) -> dict:
        """A ``py:FILE.py`` factory is copied into the run folder (``model_source["file_copy"]``, relative), so the
        folder alone rebuilds the model even when the original file moves or changes."""
        from freqprobe.io import atomic_write_bytes

        if "file" in model_source:
            original = Path(model_source["file"])
            copy = self.paths.model_factory_dir / original.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(copy, original.read_bytes())
            model_source["file_copy"] = copy.relative_to(self.out_dir).as_posix()
        return model_source

    @staticmethod
    def _truncate_log(path: Path, epoch: int) -> None:
        # like metrics.jsonl: lines past the checkpoint's epoch belong to an epoch that will run again
        if not path.exists():
            return
        records = [record for record in read_jsonl(path) if isinstance(record, dict)]
        kept = [record for record in records if record.get("epoch", 0) <= epoch]
        atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in kept))

    # ------------------------------------------------------------------------------------------------- progress

    def save_epoch(
        self,
        record: dict,
        step: int,
        history: list[dict],
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scaler: torch.amp.GradScaler | None,
        data: PreparedData,
    ) -> None:
        """The epoch's metrics line, kernel statistics and checkpoint (``history`` ends with ``record``). Rank 0
        only."""
        # metrics line first: if killed before the checkpoint lands, the resume rewrites the log from the checkpoint
        append_jsonl(self.paths.metrics_log, record)
        for tracker in (self.kernel_tracker, self.feature_tracker):
            if tracker is not None:
                tracker(record["epoch"], model)
        save_checkpoint(
            self.paths.checkpoint,
            TrainingState(
                epoch=record["epoch"],
                step=step,
                model=model.state_dict(),
                optimizer=optimizer.state_dict(),
                scaler=scaler.state_dict() if scaler is not None else None,
                filter_state=data.input_filter.state_dict(),
                mean=data.mean.tolist(),
                std=data.std.tolist(),
                config=self.config.to_dict(),
                history=history,
            ),
        )

    def last_good_sentence(self, history: list[dict]) -> str:
        """What a divergence leaves behind, for its error message."""
        if not history:
            return f"no checkpoint was written yet (it is written after each epoch to {self.paths.checkpoint})"
        return f"the last good checkpoint {self.paths.checkpoint} (epoch {history[-1]['epoch']}) is kept"

    def write_results(self, model: nn.Module, metrics: dict) -> None:
        """``model.safetensors``, then ``metrics.json``, whose presence marks the run complete. Rank 0 only."""
        from freqprobe.models import save_weights

        save_weights(model, self.paths.weights)
        atomic_write_json(self.paths.metrics, metrics)  # last: its presence marks the run complete
