"""A sweep's output folder: where each file goes, and ``sweep.json``, the record of what each run trains with.

The output folder ``DIR`` holds::

    DIR/sweep.json            the expanded grid; guards against reusing DIR for a different spec
    DIR/runs/<name>/          one training run folder per grid point (see freqprobe.train)
    DIR/locks/<name>.lock     host and pid of the process training <name> right now
    DIR/failed/<name>.json    the error of the last failed attempt of <name>
    DIR/logs/job-J-of-K.log   the output of job J of ``--jobs K``
    DIR/results.csv           one row per grid point
    DIR/results.md            mean ± std over seeds; rows = variants, columns = dataset test / val accuracy
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from freqprobe.errors import ConfigError
from freqprobe.io import atomic_write_json
from freqprobe.sweeps.grid import SweepRun, expand_grid, legacy_run_name
from freqprobe.sweeps.spec import SweepSpec
from freqprobe.train.config import TrainConfig

# Fields that may differ between the machines sharing one sweep without changing what a run computes.
MACHINE_LOCAL_FIELDS = frozenset({"data_dir"})
SWEEP_RECORD = "sweep.json"
RESULTS_CSV = "results.csv"
RESULTS_MD = "results.md"


def run_dir(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / "runs" / name


def lock_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / "locks" / f"{name}.lock"


def failure_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / "failed" / f"{name}.json"


def logs_dir(out_dir: Path) -> Path:
    return Path(out_dir) / "logs"


def expand_grid_in(spec: SweepSpec, out_dir: str | Path) -> list[SweepRun]:
    """The runs of ``spec`` as named in the output folder ``out_dir``: a grid point that ``out_dir`` already holds
    under the older hashed name (in ``sweep.json`` or as ``runs/<name>/``) keeps that name, so a sweep written before
    readable option names resumes, collects and is compared as it was."""
    runs = expand_grid(spec)
    existing = _recorded_names(Path(out_dir))
    adopted = []
    for run in runs:
        legacy = legacy_run_name(run.config, run.options) if run.options else None
        if legacy is not None and run.name not in existing and legacy in existing:
            run = dataclasses.replace(run, name=legacy)
        adopted.append(run)
    return adopted


def _recorded_names(out_dir: Path) -> set[str]:
    names = {path.name for path in (out_dir / "runs").glob("*") if path.is_dir()}
    try:
        recorded = json.loads((out_dir / SWEEP_RECORD).read_text(encoding="utf-8")).get("runs", {})
    except (OSError, ValueError, AttributeError):
        recorded = {}  # a corrupt record is reported by record_sweep, with its fix
    return names | (set(recorded) if isinstance(recorded, dict) else set())


def record_sweep(out_dir: Path, spec: SweepSpec, runs: list[SweepRun]) -> None:
    """Write ``DIR/sweep.json``; refuse when DIR already holds a run of the same name with another configuration.

    Without this check a changed spec (say, more epochs) would silently skip runs that are complete under the old
    configuration. Runs added by a grown grid (more seeds) are merged in. Shards write the same content, so
    their concurrent atomic writes do not conflict.

    Raises:
        ConfigError: sweep.json is corrupt, or a recorded run resolves differently under ``spec``.
    """
    path = Path(out_dir) / SWEEP_RECORD
    recorded: dict[str, dict] = {}
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8")).get("runs", {})
        except (json.JSONDecodeError, AttributeError):
            raise ConfigError(f"{path} is corrupt; delete it (the runs stay) and run the sweep again") from None
    defaults = _identity(TrainConfig().to_dict())
    for run in runs:
        previous = recorded.get(run.name)
        current = _identity(run.config)
        if previous is None:
            recorded[run.name] = current
            continue
        # A field the record lacks was added by a freqprobe upgrade, so its run trained with the field's default: a
        # preset that now sets it to something else is a change. A field only the record has was removed: no change.
        trained = {key: previous.get(key, defaults.get(key)) for key in current}
        changed = [key for key in current if trained[key] != current[key]]
        if changed:
            key = changed[0]
            raise ConfigError(
                f"{out_dir} holds a different sweep: run {run.name} had {key}={trained[key]!r}, "
                f"{spec.source} gives {current.get(key)!r}; use another --out or delete {out_dir}"
            )
        recorded[run.name] = current
    document = {"spec": spec.source, "base": spec.base, "grid": spec.grid, "runs": recorded}
    if spec.per_dataset:
        document["per_dataset"] = spec.per_dataset
    if spec.per_model:
        document["per_model"] = spec.per_model
    atomic_write_json(path, document)


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    """What a run computes, as JSON values: its config less the machine-local fields."""
    return json.loads(json.dumps({k: v for k, v in config.items() if k not in MACHINE_LOCAL_FIELDS}, default=str))


def record_failure(out_dir: Path, name: str, error: BaseException) -> str:
    """Write ``DIR/failed/<name>.json`` (one file per run, so shards never overwrite each other's records); returns
    the one-line message stored there."""
    message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    atomic_write_json(
        failure_path(out_dir, name),
        {
            "run": name,
            "error": message,
            "host": socket.gethostname(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "traceback": traceback.format_exception(type(error), error, error.__traceback__),
        },
    )
    return message


def read_failure_message(path: Path) -> str:
    """The one-line error of a ``DIR/failed/<name>.json`` record, or a placeholder when it cannot be read."""
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("error", ""))
    except (OSError, ValueError, AttributeError):
        return "failed (unreadable record)"
