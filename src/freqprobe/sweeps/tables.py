"""The tables of a sweep: ``DIR/results.csv`` (one row per grid point, its status and metrics) and ``DIR/results.md``
(percent, mean ± sample std and 95% confidence interval over seeds with n, :func:`freqprobe.stats.seed_summary`;
rows = variants, columns = datasets), rebuilt from the run folders.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Sequence

from freqprobe.io import atomic_write_text
from freqprobe.sweeps.grid import SweepRun
from freqprobe.sweeps.layout import RESULTS_CSV, RESULTS_MD, expand_grid_in, failure_path, read_failure_message, run_dir
from freqprobe.stats import SeedSummary, describe_method, seed_summary
from freqprobe.sweeps.spec import NAMED_FIELDS, SweepSpec, toml_literal
from freqprobe.tables import csv_cell, is_number, markdown_table, unique
from freqprobe.train.run_folder import is_run_complete, read_final_metrics

RESULT_COLUMNS = ("val_accuracy", "test_accuracy", "epochs", "train_seconds", "params", "flops_per_image")


def collect_rows(out_dir: str | os.PathLike, runs: list[SweepRun]) -> list[dict[str, Any]]:
    """One row per grid point: its fields, status (complete | failed | missing) and, when complete, its metrics."""
    out_dir = Path(out_dir)
    rows = []
    for run in runs:
        row: dict[str, Any] = {key: run.config[key] for key in NAMED_FIELDS}
        row.update(run.options)
        row.update({key: None for key in RESULT_COLUMNS})
        failure = failure_path(out_dir, run.name)
        row["status"], row["error"] = "missing", ""
        folder = run_dir(out_dir, run.name)
        if is_run_complete(folder):
            metrics = read_final_metrics(folder) or {}
            row.update({key: metrics.get(key) for key in RESULT_COLUMNS})
            row["status"] = "complete"
        elif failure.is_file():
            row["status"] = "failed"
            row["error"] = read_failure_message(failure)
        row["run"] = run.name
        rows.append(row)
    return rows


def csv_columns(runs: list[SweepRun]) -> list[str]:
    """The columns of results.csv: the named fields, the swept options, the metrics, then status, run, error."""
    options = _option_fields(runs)
    return [*NAMED_FIELDS, *options, *RESULT_COLUMNS, "status", "run", "error"]


def format_results_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """CSV text; accuracies as fractions in [0, 1] as in metrics.json, booleans as true/false."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(row.get(key)) for key in columns})
    return buffer.getvalue()


def seed_cell(summary: SeedSummary | None) -> str:
    """``mean ± std [low, high] (n=N)`` in percent, ``mean (n=1, no interval)``, ``-`` without a complete run."""
    return "-" if summary is None else summary.cell()


def summarize(rows: list[dict[str, Any]], key_fields: Sequence[str], metric: str) -> dict[tuple, SeedSummary]:
    """``(*variant key, dataset) -> SeedSummary`` of ``metric`` in percent (mean, std, 95% interval), over the
    complete runs' seeds."""
    values: dict[tuple, list[float]] = {}
    for row in rows:
        if row["status"] != "complete" or not is_number(row.get(metric)):
            continue
        key = (*(row[name] for name in key_fields), row["dataset"])
        values.setdefault(key, []).append(100.0 * float(row[metric]))
    return {key: seed_summary(found) for key, found in values.items()}


def variant_fields(runs: list[SweepRun]) -> list[str]:
    """The fields that tell table rows apart: the model when swept, the filter, the other swept options."""
    swept = runs[0].swept if runs else {}
    return (["model"] if "model" in swept else []) + ["filter"] + _option_fields(runs)


def _option_fields(runs: list[SweepRun]) -> list[str]:
    return list(runs[0].options) if runs else []


def format_results_markdown(spec: SweepSpec, runs: list[SweepRun], rows: list[dict[str, Any]]) -> str:
    """Mean ± std [95% interval] (n) over seeds (percent); rows = variants, columns = each dataset's test and val
    accuracy."""
    keys = variant_fields(runs)
    datasets = unique(row["dataset"] for row in rows)
    variants = unique(tuple(row[name] for name in keys) for row in rows)
    test = summarize(rows, keys, "test_accuracy")
    val = summarize(rows, keys, "val_accuracy")
    header = [*keys] + [f"{dataset} {metric}" for dataset in datasets for metric in ("test", "val")]
    costs = "model" in keys  # families compared: their size and compute beside their accuracy
    if costs:
        header += [f"{dataset} params / MFLOPs per image" for dataset in datasets]
    lines = [
        f"# Sweep results: {spec.source}",
        "",
        f"{_fixed_settings(runs)}",
        "",
        f"Accuracy in percent over n seeds: {describe_method([*test.values(), *val.values()])}; "
        f"{completion_counts(rows)}.",
        "",
    ]
    rows_shown = []
    for variant in variants:
        cells = [_display(value) for value in variant]
        for dataset in datasets:
            cells += [seed_cell(test.get((*variant, dataset))), seed_cell(val.get((*variant, dataset)))]
        if costs:
            cells += [_cost_cell(rows, keys, variant, dataset) for dataset in datasets]
        rows_shown.append(cells)
    lines += markdown_table(header, rows_shown)
    failed = [row for row in rows if row["status"] == "failed"]
    if failed:
        lines += ["", "Failed runs:", ""] + [f"- {row['run']}: {row['error']}" for row in failed]
    return "\n".join(lines) + "\n"


def _cost_cell(rows: list[dict[str, Any]], keys: Sequence[str], variant: tuple, dataset: str) -> str:
    """``2.24 M / 55.9`` from the variant's first complete run on ``dataset`` (seeds share both), ``-`` before one."""
    from freqprobe.models.cost import format_count  # torch-importing module: only when a table is written

    for row in rows:
        if row["dataset"] == dataset and tuple(row[name] for name in keys) == variant and is_number(row.get("params")):
            flops = row.get("flops_per_image")
            params = format_count(int(row["params"]), "").strip()  # "272 k", as train --list-models counts
            return f"{params} / {float(flops) / 1e6:.3g}" if is_number(flops) else params
    return "-"


def _fixed_settings(runs: list[SweepRun]) -> str:
    if not runs:
        return "No runs."
    unswept = [name for name in SHOWN_SETTINGS if name not in runs[0].swept]
    return f"Common settings: {describe_settings(runs, unswept)}."


SHOWN_SETTINGS = ("model", "epochs", "schedule", "lr", "batch_size", "preset", "subset", "limit_eval")


def describe_settings(runs: list[SweepRun], names: Sequence[str] = SHOWN_SETTINGS) -> str:
    """``model resnet20, epochs 10 (fashion-mnist) / 40 (cifar10), ...``: unset (None) settings are left out.

    A setting that differs between datasets (a preset's per-dataset epochs, say) is shown per dataset.
    """
    parts = []
    for name in names:
        values = unique(run.config.get(name) for run in runs)
        if values == [None]:
            continue
        by_dataset: dict[str, list] = {}
        for run in runs:
            found = by_dataset.setdefault(run.config["dataset"], [])
            if run.config.get(name) not in found:
                found.append(run.config.get(name))
        if len(values) == 1:
            shown = _display(values[0])
        elif all(len(found) == 1 for found in by_dataset.values()):
            shown = " / ".join(f"{_display(found[0])} ({dataset})" for dataset, found in by_dataset.items())
        else:
            shown = " / ".join(_display(value) for value in values)
        parts.append(f"{name} {shown}")
    return ", ".join(parts)


def completion_counts(rows: list[dict[str, Any]]) -> str:
    """``3 of 8 runs complete, 5 missing, 0 failed``."""
    complete = sum(row["status"] == "complete" for row in rows)
    failed = sum(row["status"] == "failed" for row in rows)
    missing = len(rows) - complete - failed
    return f"{complete} of {len(rows)} runs complete, {missing} missing, {failed} failed"


def _display(value: Any) -> str:
    return toml_literal(value).strip('"') if isinstance(value, (bool, str)) else str(value)


def write_tables(
    out_dir: str | os.PathLike, spec: SweepSpec, runs: list[SweepRun], figure_format: str = "png"
) -> list[dict[str, Any]]:
    """Rebuild ``results.csv`` and ``results.md`` from whatever runs are complete on disk, and the overlay of the
    runs' learning curves (``learning_curves.<format>``, runs with at least one epoch so far); returns the rows."""
    from freqprobe.plots.learning_curve import draw_sweep_learning_curves

    out_dir = Path(out_dir)
    rows = collect_rows(out_dir, runs)
    atomic_write_text(out_dir / RESULTS_CSV, format_results_csv(rows, csv_columns(runs)))
    atomic_write_text(out_dir / RESULTS_MD, format_results_markdown(spec, runs, rows))
    draw_sweep_learning_curves(out_dir, [run_dir(out_dir, run.name) for run in runs], figure_format)
    return rows


def collect(spec: SweepSpec, out_dir: str | os.PathLike, figure_format: str = "png") -> list[dict[str, Any]]:
    """Rebuild the tables without training anything (``--collect``)."""
    runs = expand_grid_in(spec, out_dir)
    return write_tables(out_dir, spec, runs, figure_format)


def completion_line(rows: list[dict[str, Any]], out_dir: str | os.PathLike) -> str:
    """How many runs are complete, and where the tables are."""
    return f"{completion_counts(rows)}; tables in {Path(out_dir) / RESULTS_MD} and {Path(out_dir) / RESULTS_CSV}"
