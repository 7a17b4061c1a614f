"""The original study's results table, re-run with the corrected filters and printed beside the original numbers.

``freqprobe reproduce`` builds a sweep spec (datasets x the original rows' filters x seeds), runs it with the sweep
machinery (so it resumes, shards and collects like any sweep) and writes ``DIR/reproduce.md``: per row the original
README's accuracy next to freqprobe's, and what the original computed differently and why it matters.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from freqprobe.data.labels import dataset_label, is_jpeg_copy
from freqprobe.errors import ConfigError
from freqprobe.io import atomic_write_text
from freqprobe.sweeps.grid import SweepRun, parse_shard
from freqprobe.sweeps.layout import expand_grid_in
from freqprobe.sweeps.original import (
    DEFAULT_DATASETS,
    DEFAULT_MODEL,
    NOTE_JPEG,
    NOTES,
    ORIGINAL_ROWS,
    original_key,
)
from freqprobe.sweeps.runner import RunFn, execute
from freqprobe.sweeps.spec import SweepSpec, spec_from_dict, suggest_valid
from freqprobe.stats import SeedSummary, describe_method
from freqprobe.sweeps.tables import collect_rows, completion_counts, describe_settings, seed_cell, summarize
from freqprobe.tables import markdown_table, unique
from freqprobe.train.config import FIELD_NAMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SOURCE = "freqprobe reproduce"


def _validated_datasets(datasets: Sequence[str]) -> list[str]:
    chosen = list(datasets) or list(DEFAULT_DATASETS)
    for dataset in chosen:
        if dataset not in DEFAULT_DATASETS and not dataset.startswith("folder:"):
            raise ConfigError(
                f"--dataset {dataset!r} is not supported by reproduce; use fashion-mnist, cifar10 or folder:PATH"
            )
        if chosen.count(dataset) > 1:
            raise ConfigError(f"--dataset {dataset} is given twice; name each dataset once")
    return chosen


# --------------------------------------------------------------------------------------------------------------
# The sweep behind the table


def build_spec(
    datasets: Sequence[str] = DEFAULT_DATASETS,
    model: str = DEFAULT_MODEL,
    epochs: int | None = None,
    seeds: int = 1,
    preset: str | None = None,
    subset: int | None = None,
    limit_eval: int | None = None,
    settings: dict[str, Any] | None = None,
    rows: Sequence[str] | None = None,
) -> SweepSpec:
    """The sweep spec of the original table: datasets x the original rows' filters (``rows``: a subset of them, in
    the table's order) x seeds 0..seeds-1.

    ``epochs`` and ``preset`` left at None take the engine's defaults, which the printed table states.
    ``subset`` and ``limit_eval`` (training / evaluation images) make a quick check, not the real table.
    ``settings`` (``--set KEY=VALUE``) are further training options for every run, over the preset.
    """
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds}: give at least 1 seed")
    if epochs is not None and epochs < 1:
        raise ConfigError(f"--epochs {epochs}: give at least 1 epoch")
    base: dict[str, Any] = {"model": model}
    optional = {"epochs": epochs, "preset": preset, "subset": subset, "limit_eval": limit_eval}
    base.update({key: value for key, value in optional.items() if value is not None})
    base.update(settings or {})
    grid = {
        "datasets": _validated_datasets(datasets),
        "filters": chosen_rows(rows),
        "seeds": list(range(seeds)),
    }
    return spec_from_dict({"base": base, "grid": grid}, source=SOURCE)


def chosen_rows(rows: Sequence[str] | None) -> list[str]:
    """The filters of the rows to train, in the original table's order; all of them for None.

    Raises:
        ConfigError: a filter that is no row of the original table (the rows listed), or none at all.
    """
    every = [row.filter for row in ORIGINAL_ROWS]
    if rows is None:
        return every
    wanted = [row.strip() for row in rows if row.strip()]
    unknown = [row for row in wanted if row not in every]
    if not wanted:
        raise ConfigError(f"--rows {','.join(rows)!r} names no row; choose from {', '.join(every)}")
    if unknown:
        raise ConfigError(f"--rows {','.join(rows)}: {', '.join(unknown)} is no row of the original table; choose "
                          f"from {', '.join(every)}")
    return [row for row in every if row in wanted]


# --------------------------------------------------------------------------------------------------------------
# The table


def format_reproduce_table(runs: list[SweepRun], rows: list[dict[str, Any]]) -> str:
    """Markdown: the original numbers beside freqprobe's mean ± std [95% interval] (n) over seeds, and freqprobe
    minus the original test accuracy with that interval, row by row, with the reasons for the differences."""
    datasets = unique(run.config["dataset"] for run in runs)
    test = summarize(rows, ["filter"], "test_accuracy")
    val = summarize(rows, ["filter"], "val_accuracy")
    header = ["variant (original name)", "filter"]
    for dataset in datasets:
        label = dataset_label(dataset)
        header += [f"{label} test: original", f"{label} test: freqprobe", f"{label} test: freqprobe - original"]
        header += [f"{label} val: original", f"{label} val: freqprobe"]
    header.append("what differs in the original")
    lines = [
        "# freqprobe reproduce: the original table with corrected filters",
        "",
        f"freqprobe: {describe_recipe(runs)}; per-channel filtering in float, per-channel normalization fitted on "
        "the filtered training split.",
        "original: ResNet-18, step schedule (lr 0.1, x0.1 every 50 epochs), the notebooks' own epochs; "
        "numbers from the original README.",
        "",
        f"Accuracy in percent; freqprobe cells over n seeds: {describe_method([*test.values(), *val.values()])}. "
        "\"freqprobe - original\": percentage points, the mean's difference with its interval shifted by the original "
        "number (the original is a single published value, taken as exact); an interval that excludes 0 means the "
        "original lies outside freqprobe's interval, for the reasons in the last column. "
        f"{completion_counts(rows)}.",
        "",
    ]
    table_rows = []
    trained = {run.config["filter"] for run in runs}
    for original in (row for row in ORIGINAL_ROWS if row.filter in trained):
        cells = [original.variant, original.filter]
        for dataset in datasets:
            original_test, original_val = original.accuracy.get(original_key(dataset) or "", (None, None))
            test_summary = test.get((original.filter, dataset))
            cells += [_percent(original_test), seed_cell(test_summary), _difference(test_summary, original_test)]
            cells += [_percent(original_val), seed_cell(val.get((original.filter, dataset)))]
        cells.append(original.differs)
        table_rows.append(cells)
    lines += markdown_table(header, table_rows)
    lines += ["", "Why the rows differ:", ""]
    for number in _used_notes(datasets):
        lines.append(f"[{number}] " + NOTES[number].format(recipe=describe_recipe(runs)))
        lines.append("")
    failed = [row for row in rows if row["status"] == "failed"]
    if failed:
        lines += ["Failed runs:", ""] + [f"- {row['run']}: {row['error']}" for row in failed] + [""]
    return "\n".join(lines)


def describe_recipe(runs: list[SweepRun]) -> str:
    """The training settings of the runs, as the table prints them."""
    if not runs:
        return "no runs"
    seeds = sorted({run.config["seed"] for run in runs})
    text = f"{describe_settings(runs)}, seeds {', '.join(map(str, seeds))}"
    if runs[0].config.get("subset") is not None or runs[0].config.get("limit_eval") is not None:
        text += " (subset / limit_eval: a quick check on part of the images, not the real table)"
    return text


def _used_notes(datasets: list[str]) -> list[int]:
    numbers = sorted({number for row in ORIGINAL_ROWS for number in row.notes})
    if any(is_jpeg_copy(dataset) for dataset in datasets):
        numbers.append(NOTE_JPEG)
    return numbers


def _difference(summary: SeedSummary | None, original: float | None) -> str:
    """freqprobe's mean minus the original value, with the interval shifted alike: ``+1.52 [+1.20, +1.84] (n=3)``."""
    if summary is None or original is None:
        return "-"
    text = f"{summary.mean - original:+.2f}"
    if summary.has_interval:
        text += f" [{summary.low - original:+.2f}, {summary.high - original:+.2f}]"
    return text + f" (n={summary.n}{'' if summary.has_interval else ', no interval'})"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def write_reproduce_table(spec: SweepSpec, out_dir: str | os.PathLike) -> str:
    """Write ``DIR/reproduce.md`` from the complete runs on disk and return its text."""
    runs = expand_grid_in(spec, out_dir)
    text = format_reproduce_table(runs, collect_rows(out_dir, runs))
    atomic_write_text(Path(out_dir) / "reproduce.md", text)
    return text


# options with a flag of their own, or that the table itself sweeps
_NOT_SETTABLE = {"dataset": "--dataset", "filter": None, "seed": "--seeds", "model": "--model", "epochs": "--epochs",
                 "preset": "--preset", "subset": "--subset", "limit_eval": "--limit-eval"}  # fmt: skip


def parse_settings(items: Sequence[str] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` items as config values: VALUE is read as a TOML value (``0.2``, ``true``, ``"x"``), or
    else taken as a string; ``-`` in KEY may stand for ``_``.

    Raises:
        ConfigError: no ``=``, an unknown key (with the closest valid one), or a key with its own flag.
    """
    settings: dict[str, Any] = {}
    for item in items or []:
        key, equals, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not equals or not key:
            raise ConfigError(f"--set {item!r}: write KEY=VALUE, e.g. --set cutout=0")
        if key in _NOT_SETTABLE:
            flag = _NOT_SETTABLE[key]
            instead = f"use {flag}" if flag else "the table sweeps the original rows' filters"
            raise ConfigError(f"--set {item!r}: {key} is not set this way; {instead}")
        if key not in FIELD_NAMES:
            raise ConfigError(f"--set {item!r}: unknown training option {key!r}; {suggest_valid(key, FIELD_NAMES)}")
        try:
            settings[key] = tomllib.loads(f"value = {text.strip()}")["value"]
        except tomllib.TOMLDecodeError:
            settings[key] = text.strip()
    return settings


def run_reproduce(args: argparse.Namespace, run_fn: RunFn | None = None) -> int:
    """``freqprobe reproduce``: run the table's sweep as the options say, then print and write reproduce.md."""
    spec = build_spec(
        datasets=args.dataset or DEFAULT_DATASETS,
        model=args.model,
        epochs=args.epochs,
        seeds=args.seeds,
        preset=args.preset,
        subset=args.subset,
        limit_eval=args.limit_eval,
        settings=parse_settings(args.set),
        rows=None if args.rows is None else args.rows.split(","),
    )
    if args.shard:
        parse_shard(args.shard)  # a bad shard fails before the data check
    if not (args.collect or args.list_runs):
        check_datasets_available(spec.grid["dataset"], args.data_dir)
    code = execute(spec, args, run_fn=run_fn)
    if args.list_runs:
        return code
    print(write_reproduce_table(spec, args.out))
    return code


def check_datasets_available(datasets: Sequence[str], data_dir: str | None) -> None:
    """Fail in seconds, not after hours of other rows, when a dataset is missing (raises DataError)."""
    from freqprobe.data import load_dataset, resolve_root

    root = resolve_root(data_dir)
    for dataset in datasets:
        load_dataset(dataset, train=False, root=root)
