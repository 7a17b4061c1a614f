"""Sweeps: a grid of training runs in one output folder, shared by any number of machines, summarized as tables.

A spec is a TOML file with two tables::

    [base]                        # TrainConfig fields shared by every run
    epochs = 10
    preset = "fast"

    [grid]                        # lists; the runs are their Cartesian product
    datasets = ["fashion-mnist", "cifar10"]  # datasets, models, filters, seeds: plural aliases of the fields
    filters = ["none", "blur:2", "highpass:2"]
    seeds = [0, 1, 2]
    antialias = [false, true]     # any other TrainConfig field

    [per_dataset.cifar10]         # optional: fields for the runs of one dataset only (over [base])
    epochs = 20

A run trains with: defaults < its dataset's preset recipe < [base] < [per_dataset."<its dataset>"] < its grid values.

The output folder ``DIR`` holds::

    DIR/sweep.json            the expanded grid; guards against reusing DIR for a different spec
    DIR/runs/<name>/          one training run folder per grid point (see freqprobe.train)
    DIR/locks/<name>.lock     host and pid of the process training <name> right now
    DIR/failed/<name>.json    the error of the last failed attempt of <name>
    DIR/results.csv           one row per grid point
    DIR/results.md            mean ± std over seeds; rows = variants, columns = dataset test / val accuracy

Run names read ``<dataset>__<model>__<filter>__seed<seed>``, plus ``__<hash>`` (8 hex digits of the other swept
options) when the grid sweeps more than those four, e.g. ``fashion-mnist__resnet20__highpass-2__seed0__3f9a0c1e``.
Shards are 0-based: ``--shard i/n`` runs the grid points whose index ``% n == i``.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import itertools
import json
import os
import re
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from freqprobe.errors import ConfigError
from freqprobe.io import atomic_write_json
from freqprobe.train.jobs import jobs_value, run_jobs
from freqprobe.train.locks import acquire_lock, describe_holder, release_lock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

GRID_ALIASES = {"datasets": "dataset", "models": "model", "filters": "filter", "seeds": "seed"}
# The fields spelled out in every run name, in that order; other swept fields go into the name's hash.
NAMED_FIELDS = ("dataset", "model", "filter", "seed")
# Fields that may differ between the machines sharing one sweep without changing what a run computes.
MACHINE_LOCAL_FIELDS = frozenset({"data_dir"})
SPEC_TABLES = ("base", "grid", "per_dataset")
RESULT_COLUMNS = ("val_accuracy", "test_accuracy", "epochs", "train_seconds")

RunFn = Callable[..., dict]
Log = Callable[[str], None]


def _log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _tables():
    """freqprobe.train.sweep_tables, which imports this module's layout: imported at first use, not at the top."""
    from freqprobe.train import sweep_tables

    return sweep_tables


def _engine():
    """The training engine (``run_training``, ``is_run_complete``), imported late: ``freqprobe --help`` stays
    quick and ``freqprobe.train`` may import this module without a cycle."""
    import freqprobe.train as engine

    return engine


def resolve_settings(settings: dict[str, Any]):
    """The TrainConfig a run trains with: defaults < its preset (per dataset) < the spec's values."""
    from freqprobe.train.config import resolve_config

    return resolve_config(settings, {})


# --------------------------------------------------------------------------------------------------------------
# Spec


@dataclass(frozen=True)
class SweepSpec:
    """What to run: ``base`` TrainConfig fields shared by all runs, ``grid`` field -> values to cross."""

    base: dict[str, Any]
    grid: dict[str, list]  # TrainConfig field names in canonical order: dataset, model, filter, others, seed
    source: str = "sweep spec"  # names the spec in error messages and in results.md
    per_dataset: dict[str, dict[str, Any]] = field(default_factory=dict)  # dataset -> fields of its runs only

    def settings_for(self, swept: dict[str, Any]) -> dict[str, Any]:
        """What one grid point sets: [base] < its dataset's [per_dataset] table < its grid values."""
        dataset = swept.get("dataset", self.base.get("dataset"))
        return {**self.base, **self.per_dataset.get(dataset, {}), **swept}


@dataclass(frozen=True)
class SweepRun:
    """One grid point: its position in the grid, its folder name, and its configuration."""

    index: int
    name: str
    settings: dict[str, Any]  # base + swept values, as the spec wrote them
    config: dict[str, Any]  # what it trains with: defaults < preset < settings (TrainConfig.to_dict())
    swept: dict[str, Any]  # this run's grid values

    @property
    def options(self) -> dict[str, Any]:
        """Swept fields other than dataset, model, filter and seed: the extra columns of the tables."""
        return {key: self.config[key] for key in self.swept if key not in NAMED_FIELDS}


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read and validate a sweep spec TOML file; every error names the file (and the line where known)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"sweep spec {path} not found; pass a TOML file with [base] and [grid] tables "
            f"(example: experiments/example_sweep.toml)"
        )
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}; fix the syntax there") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save the sweep spec as a UTF-8 TOML file") from None
    return spec_from_dict(document, source=str(path), text=text)


def spec_from_dict(document: dict[str, Any], source: str = "sweep spec", text: str | None = None) -> SweepSpec:
    """Validate a parsed spec (``{"base": {...}, "grid": {...}}``) and put its grid in canonical order.

    ``text``, the TOML source, lets errors name the line of the offending key.
    """
    where = _Locator(source, text)
    for key in document:
        if key not in SPEC_TABLES:
            raise ConfigError(
                f"{where(None, key)}: unknown table or key {key!r}; a sweep spec has only [base], [grid] and "
                "[per_dataset.NAME] tables"
            )
    base = document.get("base", {})
    grid = document.get("grid")
    if not isinstance(base, dict):
        raise ConfigError(f"{where(None, 'base')}: 'base' must be a table: write [base], then field = value lines")
    if grid is None:
        raise ConfigError(f"{source} has no [grid] table; add one with at least one list, e.g. seeds = [0]")
    if not isinstance(grid, dict):
        raise ConfigError(f"{where(None, 'grid')}: 'grid' must be a table: write [grid], then field = [values] lines")
    fields = train_config_fields()
    for key in base:
        if key not in fields:
            raise ConfigError(f"{where('base', key)}: unknown field {key!r} in [base]; {suggest_valid(key, fields)}")
    grid = _validated_grid(grid, base, fields, where)
    if "dataset" not in base and "dataset" not in grid:
        raise ConfigError(f"{source} names no dataset; add datasets = [\"fashion-mnist\"] to [grid]")
    datasets = grid.get("dataset", [base.get("dataset")])
    per_dataset = _validated_per_dataset(document.get("per_dataset", {}), datasets, grid, fields, where)
    return SweepSpec(base=dict(base), grid=grid, source=source, per_dataset=per_dataset)


def _validated_per_dataset(
    tables: Any, datasets: list, grid: dict[str, list], fields: list[str], where: "_Locator"
) -> dict[str, dict[str, Any]]:
    """``[per_dataset."NAME"]`` tables: each names a dataset of the sweep and sets fields not swept by the grid."""
    if not isinstance(tables, dict) or not all(isinstance(table, dict) for table in tables.values()):
        raise ConfigError(
            f"{where(None, 'per_dataset')}: per_dataset must hold one table per dataset: write "
            '[per_dataset."NAME"], then field = value lines'
        )
    settable = [field_name for field_name in fields if field_name != "dataset"]
    for name, table in tables.items():
        header = f'per_dataset."{name}"'
        if name not in datasets:
            raise ConfigError(
                f"{where(None, header)}: [{header}] names a dataset this sweep does not train; its datasets: "
                f"{', '.join(map(str, datasets))}"
            )
        for key in table:
            if key not in settable:
                raise ConfigError(
                    f"{where(header, key)}: unknown field {key!r} in [{header}]; {suggest_valid(key, settable)}"
                )
            if key in grid:
                raise ConfigError(
                    f"{where(header, key)}: {key!r} is set in both [{header}] and [grid]; keep it in one place"
                )
    return {name: dict(table) for name, table in tables.items()}


def train_config_fields() -> list[str]:
    """The TrainConfig field names, the only keys a spec may set."""
    from freqprobe.train.config import FIELD_NAMES

    return list(FIELD_NAMES)


class _Locator:
    """Turns (table, key) into ``file:line`` for error messages, or just ``file`` when the line is unknown."""

    def __init__(self, source: str, text: str | None):
        self.source = source
        self.lines = text.splitlines() if text else []

    def __call__(self, table: str | None, key: str) -> str:
        current: str | None = None
        key_pattern = re.compile(rf"^[\"']?{re.escape(key)}[\"']?\s*=")
        table, key_as_table = _unquoted(table), _unquoted(key)
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
            if header:
                current = _unquoted(header.group(1))
                if table is None and current == key_as_table:
                    return f"{self.source}:{number}"
            elif current == table and key_pattern.match(stripped):
                return f"{self.source}:{number}"
        return self.source


def _unquoted(name: str | None) -> str | None:
    """A TOML table path without its quotes and spaces: [per_dataset."cifar10"] and [per_dataset.cifar10] agree."""
    return None if name is None else re.sub(r"[\"'\s]", "", name)


def _validated_grid(grid: dict, base: dict, fields: list[str], where: _Locator) -> dict[str, list]:
    if not grid:
        raise ConfigError(f"{where(None, 'grid')}: [grid] is empty; add at least one list, e.g. seeds = [0]")
    # Suggest the plural spelling of the aliased fields; the singular is accepted too.
    valid_keys = list(GRID_ALIASES) + [name for name in fields if name not in GRID_ALIASES.values()]
    normalized: dict[str, list] = {}
    for key, values in grid.items():
        field_name = GRID_ALIASES.get(key, key)
        location = where("grid", key)
        if field_name not in fields:
            raise ConfigError(f"{location}: unknown grid field {key!r}; {suggest_valid(key, valid_keys)}")
        if field_name in normalized:
            raise ConfigError(f"{location}: [grid] sets {field_name!r} twice (singular and plural); keep one")
        if field_name in base:
            raise ConfigError(f"{location}: {field_name!r} is set in both [base] and [grid]; keep it in one place")
        normalized[field_name] = _validated_values(key, values, location)
    order = [name for name in NAMED_FIELDS[:3] if name in normalized]
    order += [name for name in normalized if name not in NAMED_FIELDS]
    order += ["seed"] if "seed" in normalized else []
    return {name: normalized[name] for name in order}


def _validated_values(key: str, values: Any, location: str) -> list:
    if not isinstance(values, list):
        raise ConfigError(f"{location}: grid.{key} must be a list, e.g. {key} = [{_toml_literal(values)}]")
    if not values:
        raise ConfigError(f"{location}: grid.{key} is an empty list; give at least one value")
    seen: list = []
    for value in values:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{location}: grid.{key} must list strings, numbers or booleans, not {value!r}")
        # `1 == True` in Python: compare with the type so [1, true] is not reported as a duplicate.
        if any(type(value) is type(other) and value == other for other in seen):
            raise ConfigError(f"{location}: grid.{key} lists {_toml_literal(value)} twice; remove the duplicate")
        seen.append(value)
    return list(values)


def suggest_valid(key: str, valid: Sequence[str]) -> str:
    """The tail of a one-line error for an unknown ``key``: the closest valid name, if any, then all of them."""
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}valid: {', '.join(valid)}"


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


# --------------------------------------------------------------------------------------------------------------
# Grid expansion and run names


def expand_grid(spec: SweepSpec) -> list[SweepRun]:
    """The runs of ``spec`` in a stable order (seeds vary fastest); every configuration is validated here."""
    keys = list(spec.grid)
    runs: list[SweepRun] = []
    checked: set[tuple] = set()
    for index, values in enumerate(itertools.product(*(spec.grid[key] for key in keys))):
        swept = dict(zip(keys, values))
        settings = spec.settings_for(swept)
        try:
            config = resolve_settings(settings).to_dict()
            check_names(config, checked)
        except ConfigError as error:
            raise ConfigError(f"{spec.source}: {_describe(swept)}: {error}") from None
        options = {key: config[key] for key in swept if key not in NAMED_FIELDS}
        runs.append(SweepRun(index, run_name(config, options), settings, config, swept))
    _check_unique_names(runs, spec.source)
    return runs


def check_names(config: dict[str, Any], checked: set[tuple]) -> None:
    """Raise ConfigError for an unknown dataset or model or a bad filter spec now, not when the run's turn comes
    hours into the sweep. ``checked`` remembers the names already checked."""
    from freqprobe.data import DATASETS
    from freqprobe.filters import build_filter
    from freqprobe.models import MODELS

    names = (config["dataset"], config["model"], config["filter"], config["boundary"])
    if names in checked:
        return
    if not str(config["dataset"]).startswith("folder:"):
        DATASETS.get(config["dataset"])
    MODELS.get(config["model"])
    build_filter(config["filter"], boundary=config["boundary"])
    checked.add(names)


def run_name(config: dict[str, Any], options: dict[str, Any] | None = None) -> str:
    """``dataset__model__filter__seedN`` (+ ``__hash`` of the other swept options): readable and stable."""
    parts = [
        dataset_slug(str(config["dataset"])),
        _slug(str(config["model"])),
        _slug(str(config["filter"])),
        f"seed{config['seed']}",
    ]
    if options:
        parts.append(options_hash(options))
    return "__".join(parts)


def options_hash(options: dict[str, Any]) -> str:
    """8 hex digits that change with any option value and not with the order the options were written in."""
    canonical = json.dumps(options, sort_keys=True, default=str)
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:8]


def dataset_slug(dataset: str) -> str:
    """``folder:../data/cifar10-jpeg.tar.gz`` -> ``folder-cifar10-jpeg``; registry names stay as they are."""
    if dataset.startswith("folder:"):
        stem = re.sub(r"(\.tar\.gz|\.tgz|\.tar)$", "", Path(dataset[len("folder:"):].rstrip("/")).name)
        return "folder-" + _slug(stem)
    return _slug(dataset)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-") or "x"


def _describe(swept: dict[str, Any]) -> str:
    return ", ".join(f"{key}={_toml_literal(value)}" for key, value in swept.items())


def _check_unique_names(runs: list[SweepRun], source: str) -> None:
    seen: dict[str, SweepRun] = {}
    for run in runs:
        if run.name in seen:
            raise ConfigError(
                f"{source}: grid points ({_describe(seen[run.name].swept)}) and ({_describe(run.swept)}) "
                f"share the run name {run.name}; make the dataset paths' file names or the values distinct"
            )
        seen[run.name] = run


# --------------------------------------------------------------------------------------------------------------
# Sharding


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)``, 0-based: ``0/2`` and ``1/2`` split a sweep in two."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ConfigError(f"--shard {text!r} is not of the form i/n; use e.g. --shard 0/4 (0-based: 0/4 .. 3/4)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ConfigError(f"--shard {text}: the shard count must be at least 1, e.g. --shard 0/1")
    if index >= count:
        raise ConfigError(f"--shard {text} is out of range: shards are 0-based, use 0/{count} .. {count - 1}/{count}")
    return index, count


def shard_runs(runs: Iterable[SweepRun], index: int, count: int) -> list[SweepRun]:
    """The runs of shard ``index`` of ``count``: grid index % count == index."""
    return [run for run in runs if run.index % count == index]


# --------------------------------------------------------------------------------------------------------------
# Output folder layout


def run_dir(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / "runs" / name


def lock_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / "locks" / f"{name}.lock"


def failure_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / "failed" / f"{name}.json"


def record_sweep(out_dir: Path, spec: SweepSpec, runs: list[SweepRun]) -> None:
    """Write ``DIR/sweep.json``; refuse when DIR already holds a run of the same name with another configuration.

    Without this check a changed spec (say, more epochs) would silently skip runs that are complete under the old
    configuration. Runs added by a grown grid (more seeds) are merged in. Shards write the same content, so
    their concurrent atomic writes do not conflict.
    """
    path = Path(out_dir) / "sweep.json"
    recorded: dict[str, dict] = {}
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8")).get("runs", {})
        except (json.JSONDecodeError, AttributeError):
            raise ConfigError(f"{path} is corrupt; delete it (the runs stay) and run the sweep again") from None
    defaults = _identity(_default_config())
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
    atomic_write_json(path, document)


def _default_config() -> dict[str, Any]:
    from freqprobe.train.config import TrainConfig

    return TrainConfig().to_dict()


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps({k: v for k, v in config.items() if k not in MACHINE_LOCAL_FIELDS}, default=str))


# --------------------------------------------------------------------------------------------------------------
# Running


@dataclass
class SweepOutcome:
    """What one call of :func:`run_sweep` did with its shard."""

    total: int  # grid points in the whole sweep
    shard: tuple[int, int]
    trained: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already complete
    busy: dict[str, str] = field(default_factory=dict)  # name -> host:pid training it now
    failed: dict[str, str] = field(default_factory=dict)  # name -> one-line error

    @property
    def shard_size(self) -> int:
        return len(self.trained) + len(self.skipped) + len(self.busy) + len(self.failed)

    def summary(self) -> str:
        index, count = self.shard
        return (
            f"shard {index}/{count} ({self.shard_size} of {self.total} runs): {len(self.trained)} trained, "
            f"{len(self.skipped)} already complete, {len(self.busy)} busy elsewhere, {len(self.failed)} failed"
        )

    def failure_line(self, out_dir: Path) -> str:
        first_name, first_error = next(iter(self.failed.items()))
        more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
        return (
            f"{len(self.failed)} of {self.shard_size} runs failed: {first_name}: {first_error}{more}; "
            f"details in {Path(out_dir) / 'failed'}, re-run the same command to retry"
        )


def run_sweep(
    spec: SweepSpec,
    out_dir: str | os.PathLike,
    shard: tuple[int, int] = (0, 1),
    data_dir: str | None = None,
    run_fn: RunFn | None = None,
    log: Log = _log_to_stderr,
) -> SweepOutcome:
    """Train this shard's runs that are not complete yet, then rebuild the tables.

    ``run_fn(config, out_dir, resume=...)`` defaults to :func:`freqprobe.train.run_training`; a failing run is
    recorded in ``DIR/failed/`` and the sweep goes on. ``data_dir`` overrides the spec's ``data_dir`` for this
    machine only.
    """
    engine = _engine()
    run_fn = run_fn or engine.run_training
    out_dir = Path(out_dir)
    runs = expand_grid(spec)
    record_sweep(out_dir, spec, runs)
    mine = shard_runs(runs, *shard)
    outcome = SweepOutcome(total=len(runs), shard=shard)
    for position, run in enumerate(mine, 1):
        prefix = f"[{position}/{len(mine)}] {run.name}"
        kind, detail = _run_one(engine, run, out_dir, data_dir, run_fn, lambda text: log(f"{prefix}: {text}"))
        if kind == "skipped":
            outcome.skipped.append(run.name)
            log(f"{prefix}: already complete, skipped")
            continue
        if kind == "busy":
            outcome.busy[run.name] = detail
            log(f"{prefix}: being trained by {detail}, skipped (its lock: {lock_path(out_dir, run.name)})")
            continue
        if kind == "failed":
            outcome.failed[run.name] = detail
            log(f"{prefix}: FAILED: {detail}")
        else:
            outcome.trained.append(run.name)
            log(f"{prefix}: done")
        _tables().write_tables(out_dir, spec, runs)
    _tables().write_tables(out_dir, spec, runs)
    return outcome


def _run_one(
    engine, run: SweepRun, out_dir: Path, data_dir: str | None, run_fn: RunFn, announce: Log
) -> tuple[str, str]:
    """Train one run under its lock: ("trained" | "skipped" | "busy" | "failed", detail)."""
    folder = run_dir(out_dir, run.name)
    if engine.is_run_complete(folder):
        return "skipped", ""
    lock = lock_path(out_dir, run.name)
    holder = acquire_lock(lock)
    if holder is not None:
        return "busy", describe_holder(holder)
    try:
        if engine.is_run_complete(folder):  # another shard finished it while we looked
            return "skipped", ""
        settings = dict(run.settings)
        if data_dir is not None:
            settings["data_dir"] = data_dir
        resume = is_resumable(folder)
        announce("resuming" if resume else "training")
        try:
            run_fn(resolve_settings(settings), folder, resume=resume)
            if not engine.is_run_complete(folder):
                raise RuntimeError(f"training returned but {folder / 'metrics.json'} is missing or invalid")
        except Exception as error:  # noqa: BLE001 - one bad run must not stop the sweep; it is recorded
            message = record_failure(out_dir, run.name, error)
            return "failed", message
        failure_path(out_dir, run.name).unlink(missing_ok=True)
        return "trained", ""
    finally:
        release_lock(lock)


def is_resumable(folder: Path) -> bool:
    """The folder holds a started, unfinished run (interrupted, killed or failed): the engine continues it from
    its last checkpoint, and refuses to start over in it without ``resume``."""
    from freqprobe.train.run_folder import FolderState, folder_state

    return folder_state(folder) is FolderState.INCOMPLETE


def record_failure(out_dir: Path, name: str, error: BaseException) -> str:
    """Write ``DIR/failed/<name>.json`` (one file per run, so shards never overwrite each other's records)."""
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


# --------------------------------------------------------------------------------------------------------------
# Command line


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``freqprobe sweep``."""
    parser = subparsers.add_parser(
        "sweep",
        help="train a grid of runs (datasets x models x filters x seeds x options) and tabulate them",
        description=(
            "Train every grid point of SPEC.toml ([base] TrainConfig fields, [grid] lists) under DIR/runs/, "
            "skipping complete runs and resuming interrupted ones, and write DIR/results.csv and DIR/results.md."
        ),
    )
    parser.add_argument("spec", metavar="SPEC.toml", help="sweep spec (see experiments/example_sweep.toml)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder, shared by all shards")
    add_sweep_options(parser)
    parser.set_defaults(handler=_sweep_command)


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``sweep`` and ``reproduce``."""
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="0-based: run only grid points with index %% N == I, e.g. a SLURM array "
        "--array=0-3 with --shard $SLURM_ARRAY_TASK_ID/4",
    )
    parser.add_argument(
        "--collect", action="store_true", help="train nothing; rebuild the tables from the complete runs"
    )
    parser.add_argument("--list", dest="list_runs", action="store_true", help="list the runs, their shard and status")
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="K",
        help="train K runs of this shard side by side, each a child process pinned to its share of the cores; "
        "logs in DIR/logs/",
    )
    parser.add_argument("--data-dir", help="data root on this machine (overrides the spec's data_dir)")


def _sweep_command(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    code = execute(spec, args)
    if args.collect:
        print((Path(args.out) / "results.md").read_text(encoding="utf-8"), end="")
    return code


def execute(spec: SweepSpec, args: argparse.Namespace, run_fn: RunFn | None = None) -> int:
    """Run, list or collect ``spec`` as the shared ``--shard/--collect/--list`` options say; returns an exit code.

    Exit codes: 0 when every run of this shard is complete or busy elsewhere, 1 when a run failed.
    """
    shard = parse_shard(args.shard) if args.shard else (0, 1)
    out_dir = Path(args.out)
    if args.list_runs:
        print_run_list(spec, out_dir, shard)
        return 0
    if args.collect:
        rows = _tables().collect(spec, out_dir)
        _log_to_stderr(_tables().completion_line(rows, out_dir))
        return 0
    jobs = jobs_value(getattr(args, "jobs", None))
    if jobs > 1:
        return _execute_jobs(spec, args, shard, jobs)
    outcome = run_sweep(spec, out_dir, shard=shard, data_dir=args.data_dir, run_fn=run_fn)
    rows = _tables().collect_rows(out_dir, expand_grid(spec))
    _log_to_stderr(f"sweep {outcome.summary()}")
    _log_to_stderr(_tables().completion_line(rows, out_dir))
    if outcome.failed:
        _log_to_stderr(f"freqprobe: {outcome.failure_line(out_dir)}")
        return 1
    return 0


def _execute_jobs(spec: SweepSpec, args: argparse.Namespace, shard: tuple[int, int], jobs: int) -> int:
    out_dir = Path(args.out)
    runs = expand_grid(spec)
    record_sweep(out_dir, spec, runs)
    codes = run_jobs(getattr(args, "argv", sys.argv[1:]), shard, jobs, out_dir)
    rows = _tables().write_tables(out_dir, spec, runs)
    _log_to_stderr(_tables().completion_line(rows, out_dir))
    failed = [job for job, code in enumerate(codes) if code != 0]
    if failed:
        _log_to_stderr(f"freqprobe: {len(failed)} of {jobs} jobs failed (first: job {failed[0]}); see {out_dir / 'logs'}")
        return 1
    return 0


def print_run_list(spec: SweepSpec, out_dir: Path, shard: tuple[int, int]) -> None:
    runs = expand_grid(spec)
    index, count = shard
    statuses = {row["run"]: row["status"] for row in _tables().collect_rows(out_dir, runs)}
    for run in runs:
        mark = "*" if run.index % count == index else " "
        print(f"{mark} {run.index:4d}  shard {run.index % count}/{count}  {statuses[run.name]:8s}  {run.name}")
