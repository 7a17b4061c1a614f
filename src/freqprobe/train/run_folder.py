"""The run folder: file names, whether a run is complete, and what to do with an existing folder.

A run is complete when ``metrics.json`` exists and holds the final metrics (it is written last, atomically) and
``model.safetensors`` is a whole safetensors file: a run whose weights were truncated or damaged afterwards is
incomplete, so a sweep trains it again instead of counting it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from freqprobe.errors import ConfigError
from freqprobe.models.io import weights_file_problem

# The file names of a run folder: every reader and writer takes them from here (or from RunPaths).
CONFIG_FILE = "config.json"
METRICS_LOG_FILE = "metrics.jsonl"
KERNEL_LOG_FILE = "kernel_stats.jsonl"
FEATURE_LOG_FILE = "feature_stats.jsonl"
METRICS_FILE = "metrics.json"
WEIGHTS_FILE = "model.safetensors"
CHECKPOINT_FILE = "checkpoint.pt"
ENVIRONMENT_FILE = "env.json"
# the fitted state of an input filter that needs fitting (whiten): small, committed with the weights, unlike checkpoint.pt
FILTER_STATE_FILE = "filter_state.safetensors"
# a copy of a `py:FILE.py:callable` model factory, so the folder alone rebuilds the model
MODEL_FACTORY_DIR = "model_factory"


@dataclass(frozen=True)
class RunPaths:
    """The files of one run folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def metrics_log(self) -> Path:
        return self.root / METRICS_LOG_FILE

    @property
    def kernel_log(self) -> Path:
        return self.root / KERNEL_LOG_FILE

    @property
    def feature_log(self) -> Path:
        return self.root / FEATURE_LOG_FILE

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def weights(self) -> Path:
        return self.root / WEIGHTS_FILE

    @property
    def checkpoint(self) -> Path:
        return self.root / CHECKPOINT_FILE

    @property
    def environment(self) -> Path:
        return self.root / ENVIRONMENT_FILE

    @property
    def filter_state(self) -> Path:
        return self.root / FILTER_STATE_FILE

    @property
    def model_factory_dir(self) -> Path:
        return self.root / MODEL_FACTORY_DIR

    def run_files(self) -> list[Path]:
        return [
            self.config, self.metrics_log, self.metrics, self.weights, self.checkpoint, self.environment,
            self.kernel_log, self.feature_log, self.filter_state,
        ]


class FolderState(Enum):
    EMPTY = "empty"  # missing, or holds none of a run's files
    INCOMPLETE = "incomplete"  # started (some run files) but no valid metrics.json
    COMPLETE = "complete"


def read_final_metrics(out_dir: str | Path) -> dict | None:
    """The content of ``metrics.json`` if it is present and holds final metrics, else None."""
    path = RunPaths(Path(out_dir)).metrics
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(metrics, dict) and "test_accuracy" in metrics and "val_accuracy" in metrics:
        return metrics
    return None


def is_run_complete(out_dir: str | Path) -> bool:
    """True when ``out_dir/metrics.json`` is present and valid and ``model.safetensors`` is whole (the run finished)."""
    if read_final_metrics(out_dir) is None:
        return False
    return weights_file_problem(RunPaths(Path(out_dir)).weights) is None


def folder_state(out_dir: str | Path) -> FolderState:
    paths = RunPaths(Path(out_dir))
    if is_run_complete(out_dir):
        return FolderState.COMPLETE
    if any(path.exists() for path in paths.run_files()):
        return FolderState.INCOMPLETE
    return FolderState.EMPTY


def check_folder_use(out_dir: str | Path, resume: bool, force: bool) -> FolderState:
    """Refuse to clobber a run by accident: a complete run needs ``force``; an incomplete one ``resume`` or ``force``.

    Raises:
        ConfigError: one line naming the folder and the flag that lets it proceed.
    """
    state = folder_state(out_dir)
    if force:
        return state
    if state is FolderState.COMPLETE and not resume:
        raise ConfigError(
            f"run folder {out_dir} already holds a complete run; pass --force to overwrite it or choose another --out"
        )
    if state is FolderState.INCOMPLETE and not resume:
        raise ConfigError(
            f"run folder {out_dir} holds an unfinished run; pass --resume {out_dir} to continue it "
            f"(or --force to start over)"
        )
    return state


def clear_run_files(out_dir: str | Path) -> None:
    """Delete a previous run's files (``--force``); other files in the folder are left alone."""
    for path in RunPaths(Path(out_dir)).run_files():
        path.unlink(missing_ok=True)


def write_filter_state(out_dir: str | Path, input_filter, note: str | None = None) -> Path | None:
    """Save a fitted input filter's state as ``out_dir/filter_state.safetensors`` (atomic); None for filters that fit
    nothing. The file is what analyses load the filter from once ``checkpoint.pt`` is gone; ``note`` (e.g. how it
    was made) goes into the file's metadata."""
    if not getattr(input_filter, "requires_fit", False):
        return None
    from safetensors.torch import save_file

    from freqprobe.io import atomic_save

    state = {key: value.detach().cpu().contiguous() for key, value in input_filter.state_dict().items()}
    metadata = {"filter": input_filter.spec, **({"note": note} if note else {})}
    path = RunPaths(Path(out_dir)).filter_state
    atomic_save(path, lambda target: save_file(state, str(target), metadata=metadata))
    return path
