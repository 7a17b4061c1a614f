"""The files of a comparison: compare.csv, variants.csv, compare.md, band_matrix.csv, the figures and compare.json
(last)."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from pathlib import Path
from typing import Any, Sequence

from freqprobe.analysis.compare.band_matrix import BandMatrix
from freqprobe.analysis.compare.seed_tables import (
    VARIANTS_CSV,
    figure_captions,
    format_correlation_sections,
    format_paired_section,
    format_variant_section,
    format_variants_csv,
)
from freqprobe.analysis.compare.table import Comparison
from freqprobe.data.labels import dataset_label
from freqprobe.io import atomic_write_json, atomic_write_text, output_set
from freqprobe.run_columns import COST_COLUMNS, LAYER_PREFIX, METRIC_COLUMNS, PERCENT_COLUMNS
from freqprobe.tables import csv_cell, is_number, markdown_table, percent_number, unique

COMPARE_CSV = "compare.csv"
# every file write_comparison may write (figure names depend on the data), so a re-run removes what it no longer writes
COMPARE_OUTPUTS = ("compare.*", VARIANTS_CSV, "band_matrix*", "scatter_*.png", "correlations.png", "layer_correlations.png",
                   "variant_*.png", "depth_profiles.png", "corruption_profile.png")


def compare_outputs(fmt: str = "png") -> tuple[str, ...]:
    """The files a comparison owns when its figures are ``fmt`` files (figures of other formats are left alone)."""
    return tuple(pattern.replace(".png", f".{fmt}") for pattern in COMPARE_OUTPUTS)
COMPARE_MD = "compare.md"
COMPARE_JSON = "compare.json"
BAND_MATRIX_CSV = "band_matrix.csv"
PATH_COLUMNS = ("kernel_source", "sensitivity_source")


class FolderNames:
    """How the output files name the folders a comparison read, so that they carry no machine paths: relative to the
    output folder when below it; else a path inside a compared sweep folder as ``<sweep name>/<path inside>``; else
    the base name."""

    def __init__(self, out_dir: str | os.PathLike, sweeps: Sequence[str | os.PathLike]):
        self.out = Path(out_dir).resolve()
        self.sweeps = [Path(sweep).resolve() for sweep in sweeps]

    def name(self, path: str | os.PathLike) -> str:
        resolved = Path(path).resolve()
        if resolved.is_relative_to(self.out):
            return resolved.relative_to(self.out).as_posix() or "."
        for sweep in self.sweeps:
            if resolved.is_relative_to(sweep):
                return (Path(sweep.name) / resolved.relative_to(sweep)).as_posix()
        return resolved.name

    def text(self, text: str) -> str:
        """``text`` with every compared sweep folder (absolute, as resolved) replaced by its name."""
        for sweep in sorted(self.sweeps, key=lambda folder: len(str(folder)), reverse=True):
            text = text.replace(str(sweep), self.name(sweep))
        return text

    def portable(self, comparison: Comparison) -> Comparison:
        """A copy of ``comparison`` whose folder names, source columns and notes follow :meth:`name`."""
        sweeps = [self.name(sweep) for sweep in comparison.sweeps or [comparison.sweep_dir]]
        rows = [
            {key: self._cell(key, value) for key, value in row.items()} for row in comparison.rows
        ]
        return dataclasses.replace(
            comparison,
            sweep_dir=" + ".join(sweeps),
            sweeps=sweeps,
            rows=rows,
            notes=[self.text(note) for note in comparison.notes],
        )

    def _cell(self, key: str, value: Any) -> Any:
        if key in PATH_COLUMNS and isinstance(value, str) and Path(value).is_absolute():
            return self.name(value)
        return value


def write_comparison(comparison: Comparison, out_dir: str | os.PathLike, fmt: str = "png") -> dict[str, Path]:
    """Write compare.csv, variants.csv, compare.md, band_matrix.csv (band sweeps), the figures (``fmt`` files), and compare.json
    last.

    Folders are named as :class:`FolderNames` says (relative to ``out_dir``), so the files carry no machine paths.
    Returns {name: path} of everything written.
    """
    from freqprobe.plots.compare import write_compare_figures

    out_dir = Path(out_dir)
    comparison = FolderNames(out_dir, comparison.sweeps or [comparison.sweep_dir]).portable(comparison)
    # One output set: a kill while it is written leaves the previous comparison whole.
    with output_set(out_dir, COMPARE_JSON, owns=compare_outputs(fmt)) as staging:
        written = {"csv": staging / COMPARE_CSV, "markdown": staging / COMPARE_MD}
        atomic_write_text(written["csv"], format_csv(comparison.rows, comparison.columns))
        written["variants"] = staging / VARIANTS_CSV
        atomic_write_text(written["variants"], format_variants_csv(comparison))
        if comparison.band_matrices:
            written["band_matrix"] = staging / BAND_MATRIX_CSV
            atomic_write_text(written["band_matrix"], format_band_matrix_csv(comparison.band_matrices))
        figures = write_compare_figures(comparison, staging, fmt)
        comparison.figures = {name: path.name for name, path in figures.items()}
        comparison.captions = figure_captions(comparison)
        written.update(figures)
        atomic_write_text(written["markdown"], format_markdown(comparison))
        written["json"] = staging / COMPARE_JSON
        atomic_write_json(written["json"], comparison.to_dict())
    written = {name: out_dir / path.name for name, path in written.items()}
    return written


def format_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """CSV text, one line per run; empty cells where a value is missing, accuracies as fractions."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(row.get(key)) for key in columns})
    return buffer.getvalue()



def format_band_matrix_csv(matrices: Sequence[BandMatrix]) -> str:
    """One line per (dataset, model, train filter): the mean test accuracy after each test filter (fractions)."""
    test_filters = unique(spec for matrix in matrices for spec in matrix.test_filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dataset", "model", "train_filter", "runs", "n_images", *test_filters])
    for matrix in matrices:
        for train_filter, values, count in zip(matrix.train_filters, matrix.accuracy, matrix.runs):
            by_test = dict(zip(matrix.test_filters, values))
            cells = [csv_cell(by_test.get(spec)) for spec in test_filters]
            writer.writerow([matrix.dataset, matrix.model, train_filter, count, matrix.n_images, *cells])
    return buffer.getvalue()



def format_markdown(comparison: Comparison) -> str:
    """The human-readable summary: the runs table, the correlation matrix, per-layer correlations, band matrices."""
    rows = comparison.rows
    datasets = ", ".join(unique(dataset_label(row["dataset"]) for row in rows))
    lines = [
        f"# Links across the runs of {comparison.sweep_dir}",
        "",
        f"{len(rows)} complete runs on {datasets}. Input centroids use the first {comparison.subset} stratified "
        f"training images after each run's filter; band matrices the first {comparison.subset} test images.",
        "",
        "## Runs",
        "",
    ]
    hidden = {"dataset", "kernel_source", "sensitivity_source"}  # the dataset is in the header; sources in the CSV
    shown = [column for column in comparison.columns if not column.startswith(LAYER_PREFIX) and column not in hidden]
    table_rows = [[_md_cell(column, row.get(column)) for column in shown] for row in rows]
    percent = [name for name in shown if name in PERCENT_COLUMNS]
    lines += [f"In percent: {', '.join(percent)}; centroids and radii in cycles/pixel.", ""] if percent else []
    lines += markdown_table(shown, table_rows)
    lines += format_variant_section(comparison)
    lines += format_paired_section(comparison)
    lines += format_correlation_sections(comparison)
    metric = comparison.metric_columns
    for matrix in comparison.band_matrices:
        lines += [
            "",
            f"## Train band x test band accuracy (%): {dataset_label(matrix.dataset)}, {matrix.model}",
            "",
            f"Rows: the filter a model was trained on (mean over its runs); columns: the filter applied to "
            f"{matrix.n_images} test images.",
            "",
        ]
        band_rows = [
            [f"{train} ({count} runs)"] + [percent_number(value) for value in values]
            for train, values, count in zip(matrix.train_filters, matrix.accuracy, matrix.runs)
        ]
        lines += markdown_table(["train \\ test", *matrix.test_filters], band_rows)
    lines += ["", "## Columns", ""]
    lines += [f"- `{name}`: {METRIC_COLUMNS[name]}" for name in metric]
    lines += [f"- `{name}`: {COST_COLUMNS[name]}" for name in COST_COLUMNS if name in comparison.columns]
    if comparison.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in comparison.notes]
    return "\n".join(lines) + "\n"



def _md_cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column in PERCENT_COLUMNS and is_number(value):
        return percent_number(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
