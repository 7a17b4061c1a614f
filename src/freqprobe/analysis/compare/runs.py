"""Gathering the runs of one or more sweep folders: the complete ones, and a note for each folder left out."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from freqprobe.errors import FreqprobeError
from freqprobe.runs import RunFolder
from freqprobe.tables import natural_sorted

UNFILTERED = "none"


@dataclass
class RunRecord:
    """One complete training run of a sweep: the name its row shows and its folder."""

    name: str
    run: RunFolder

    @property
    def folder(self) -> Path:
        return self.run.root

    @property
    def config(self) -> dict[str, Any]:
        """The flat training config (see :attr:`freqprobe.runs.RunFolder.config`)."""
        return self.run.config

    @property
    def metrics(self) -> dict[str, Any]:
        return self.run.metrics

    @property
    def dataset(self) -> str:
        return self.run.dataset

    @property
    def model(self) -> str:
        return str(self.config.get("model", ""))

    @property
    def filter(self) -> str:
        return self.run.filter_spec

    @property
    def boundary(self) -> str:
        return self.run.boundary


def find_runs(sweep_dir: str | os.PathLike) -> tuple[list[RunRecord], list[str]]:
    """The complete runs of a sweep folder (``runs/*/``, or the folder's own subfolders), in name order, and notes
    about the folders left out (incomplete: no final metrics, truncated weights, unreadable config).

    Raises:
        FreqprobeError: the folder does not exist or holds no complete run.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FreqprobeError(f"sweep folder {sweep_dir} does not exist; pass the --out folder of freqprobe sweep")
    parent = sweep_dir / "runs" if (sweep_dir / "runs").is_dir() else sweep_dir
    runs, notes = [], []
    # natural order, so highpass-2 comes before highpass-12 in every table and figure built from this list
    folders = (path for path in parent.iterdir() if path.is_dir() and not path.name.startswith("."))
    for folder in natural_sorted(folders, key=lambda path: path.name):
        run = RunFolder(folder)
        if not (run.paths.config.exists() or run.paths.metrics.exists()):
            continue  # not a run folder at all (locks/, failed/ of a sweep laid out flat)
        problem = run.completeness_problem()
        if problem is None:
            runs.append(RunRecord(folder.name, run))
        else:
            notes.append(f"{folder.name}: incomplete, left out ({problem})")
    if not runs:
        raise FreqprobeError(
            f"{sweep_dir} holds no complete run (runs/<name>/ with config.json, metrics.json and model.safetensors); "
            f"finish the sweep first or pass its --out folder"
        )
    return runs, notes


def is_run_folder(folder: str | os.PathLike) -> bool:
    """The folder is one training run (its own ``config.json`` or ``metrics.json``), not a folder of runs."""
    paths = RunFolder(folder).paths
    return paths.config.is_file() or paths.metrics.is_file()


def find_run(run_dir: str | os.PathLike) -> RunRecord:
    """One run folder given by itself, named by its folder name.

    Raises:
        FreqprobeError: it is incomplete (no final metrics, truncated weights, unreadable config).
    """
    run = RunFolder(run_dir)
    problem = run.completeness_problem()
    if problem is not None:
        raise FreqprobeError(f"run folder {run_dir} is incomplete ({problem}); finish or resume its training first")
    return RunRecord(Path(run_dir).name, run)


def find_runs_in(folders: Sequence[str | os.PathLike]) -> tuple[list[RunRecord], list[str]]:
    """The complete runs of several folders, each a sweep folder (its runs) or a run folder (itself), in the order
    given, e.g. a sweep and the sweep holding its regularized twin, or any runs trained one by one. A run name that
    repeats is prefixed with the name of the folder holding it, so every row stays identifiable.

    Raises:
        FreqprobeError: a folder does not exist, is an incomplete run, or is a sweep folder with no complete run.
    """
    runs, notes = [], []
    for folder in folders:
        if is_run_folder(folder):
            runs.append(find_run(folder))
            continue
        found, found_notes = find_runs(folder)
        runs += found
        notes += found_notes if len(folders) == 1 else [f"{Path(folder).name}: {note}" for note in found_notes]
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.name] = counts.get(run.name, 0) + 1
    for run in runs:
        if counts[run.name] > 1:
            run.name = f"{sweep_of(run.folder).name}/{run.name}"
    return runs, notes


def sweep_of(run_folder: Path) -> Path:
    """The sweep folder a run folder belongs to (``SWEEP/runs/<name>`` or ``SWEEP/<name>``)."""
    parent = run_folder.parent
    return parent.parent if parent.name == "runs" else parent


def swept_option_names(runs: Sequence[RunRecord]) -> list[str]:
    """Configuration fields other than the identity columns whose values differ between runs of the same dataset and
    model (e.g. antialias, conv). Fields a preset sets per dataset (crop padding, validation share) differ only
    across datasets and are left out: they are part of what "the dataset" means in the table."""
    # track_kernels/track_features only observe a run: no variant; the data keys describe the dataset
    skipped = {"dataset", "model", "filter", "seed", "data_dir", "preset", "track_kernels", "track_features",
               "image_shape", "classes",
               "in_channels", "num_classes"}
    names = sorted({key for run in runs for key in run.config} - skipped)
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((run.dataset, run.model), []).append(run)
    return [
        name
        for name in names
        if any(
            len({json.dumps(config_value(run, name), sort_keys=True, default=str) for run in members}) > 1
            for members in groups.values()
        )
    ]


def config_value(run: RunRecord, name: str) -> Any:
    """The run's value of a configuration field; for a field its config.json predates, the field's default (what
    the run trained with): a run trained before ``cutout`` existed trained without it, so it is no variant of its own."""
    if name in run.config:
        return run.config[name]
    return _config_defaults().get(name)


@functools.cache
def _config_defaults() -> dict[str, Any]:
    from freqprobe.train.config import TrainConfig

    defaults = {}
    for field in dataclasses.fields(TrainConfig):
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            defaults[field.name] = field.default_factory()
    return defaults


def find_analysis(run: RunRecord, filename: str) -> Path | None:
    """See :meth:`freqprobe.runs.RunFolder.find_analysis`."""
    return run.run.find_analysis(filename)


def read_json(path: Path) -> Any:
    """The parsed file, or None when it is missing or not valid JSON (a missing analysis, never a crash)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
