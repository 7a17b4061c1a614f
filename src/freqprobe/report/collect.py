"""Find what a report shows: walk a run, sweep or analysis folder and turn each sub-folder that holds freqprobe
output into a section of tables, Markdown documents and captioned figures.

What a folder holds decides how it is read, so any nesting works (a sweep's runs, a run's ``analysis/`` folder, a
compare folder beside a sweep):

- run (``config.json`` + ``metrics.json``/``metrics.jsonl``): final metrics, configuration, per-epoch log, env.json;
- sweep (``sweep.json`` or ``results.csv``): results.md, reproduce.md, the grid and failed runs;
- ``spectrum.json``, ``filters.json``, ``sensitivity.json``: their summaries; ``compare.md`` (with any other
  Markdown file) is rendered as it is;
- every PNG, captioned with what it plots and on which data (:mod:`freqprobe.report.captions`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from freqprobe.errors import FreqprobeError
from freqprobe.io import read_jsonl
from freqprobe.report import tables as T
from freqprobe.report.headline import LEARNING_CURVE_FILE, Headline, collect_headline
from freqprobe.tables import natural_key
from freqprobe.report.captions import (
    caption_overrides,
    data_context,
    figure_caption,
    read_json,
    shown_dataset,
)
from freqprobe.train.run_folder import CONFIG_FILE, ENVIRONMENT_FILE, METRICS_FILE, RunPaths

SKIPPED_FOLDERS = {"locks", "failed", "__pycache__", "node_modules"}
REPORT_NAME = "report.html"  # a run's own page (freqprobe.report.html.REPORT_FILE; html imports this module)
MARKDOWN_ORDER = ("results.md", "reproduce.md", "compare.md")
HANDLED_JSON = {CONFIG_FILE, METRICS_FILE, ENVIRONMENT_FILE, "sweep.json", "spectrum.json", "filters.json",
                "sensitivity.json", "compare.json"}

KIND_TITLES = {
    "run": "Training run",
    "sweep": "Sweep",
    "compare": "Links across a sweep (freqprobe compare)",
    "sensitivity": "Network sensitivity (freqprobe sensitivity)",
    "filters": "Kernel frequency responses (freqprobe filters)",
    "spectrum": "Dataset spectrum (freqprobe spectrum)",
    "figures": "Figures and tables",
}


@dataclass
class Figure:
    """A PNG of the folder and its caption; ``relative`` is its path from the report's folder."""

    path: Path
    relative: str
    caption: str


@dataclass
class Document:
    """A Markdown file rendered into the page."""

    title: str
    markdown: str


@dataclass
class Section:
    """One folder of the tree: what it is, its tables, documents and figures."""

    anchor: str
    title: str
    kinds: list[str]
    intro: str
    is_root: bool = False
    tables: list[T.Table] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    own_report: str | None = None  # a run's own report.html (relative), shown as a link instead of its figures


@dataclass
class FolderReport:
    """Everything the page shows, in order."""

    folder: Path
    title: str
    kind: str
    description: str
    sections: list[Section]
    headline: Headline = field(default_factory=Headline)
    headline_figure: Figure | None = None  # the run's learning curve, shown with the headline results

    @property
    def figures(self) -> list[Figure]:
        shown = [self.headline_figure] if self.headline_figure is not None else []
        return shown + [figure for section in self.sections for figure in section.figures]


def collect_report(folder: str | os.PathLike) -> FolderReport:
    """Read ``folder`` and everything below it (hidden folders, locks/ and failed/ excepted).

    Raises:
        FreqprobeError: the folder does not exist or holds no freqprobe output and no figure.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FreqprobeError(f"report folder {root} does not exist; pass a run, sweep or analysis folder")
    linked = _runs_with_own_report(root)
    sections = [
        section for path in _folders(root)
        if not any(run in path.parents for run in linked) and (section := collect_section(path, root)) is not None
    ]
    for section in sections:
        run = root / section.title
        if not section.is_root and run in linked:
            # the run's figures and analyses live in its own page: a page of many runs links to them
            section.figures, section.own_report = [], (run / REPORT_NAME).relative_to(root).as_posix()
    if not sections:
        raise FreqprobeError(
            f"{root} holds no freqprobe output (config.json, sweep.json, spectrum.json, filters.json, "
            f"sensitivity.json, compare.json, Markdown tables or PNG figures); pass a run, sweep or analysis folder"
        )
    kind = sections[0].kinds[0] if sections[0].is_root else "figures"
    title = f"{KIND_TITLES[kind]}: {root.resolve().name}"
    headline = collect_headline(root, kind)
    if headline.is_empty:  # e.g. a folder holding sweeps and their comparison: the results of the first of them
        headline = _headline_below(root, sections)
    # the learning curve is shown at the top, with the results: not a second time in the run's section
    curves = [figure for figure in sections[0].figures if figure.path == headline.learning_curve]
    sections[0].figures = [figure for figure in sections[0].figures if figure not in curves]
    description = describe_folder(root, kind, sections, len(curves))
    return FolderReport(root, title, kind, description, sections, headline, curves[0] if curves else None)


def _headline_below(root: Path, sections: list[Section]) -> Headline:
    """The headline of the first comparison among the folders, else of the first sweep; empty when there is none."""
    for wanted in ("compare", "sweep"):
        for section in sections:
            if not section.is_root and section.kinds[0] == wanted:
                headline = collect_headline(root / section.title, wanted, where=f"{section.title}/")
                if not headline.is_empty:
                    return headline
    return Headline()


def _runs_with_own_report(root: Path) -> set[Path]:
    """Run folders below ``root`` (not ``root`` itself) that have their own report.html."""
    return {
        folder for folder in _folders(root)
        if folder != root and "run" in folder_kinds(folder) and (folder / REPORT_NAME).is_file()
    }


def _folders(root: Path) -> list[Path]:
    """``root`` and its sub-folders, depth first in name order, without hidden and skipped folders."""
    found = []
    for current, names, _ in os.walk(root):
        names[:] = sorted((name for name in names if not name.startswith(".") and name not in SKIPPED_FOLDERS),
                          key=natural_key)  # highpass-2 before highpass-12
        found.append(Path(current))
    return found


def folder_kinds(folder: Path) -> list[str]:
    """What ``folder`` holds, most specific first (a run with figures is a run)."""
    kinds = []
    run = RunPaths(folder)
    if run.config.is_file() and (run.metrics.is_file() or run.metrics_log.is_file()):
        kinds.append("run")
    if (folder / "sweep.json").is_file() or (folder / "results.csv").is_file():
        kinds.append("sweep")
    for kind, filename in (("compare", "compare.json"), ("sensitivity", "sensitivity.json"),
                           ("filters", "filters.json"), ("spectrum", "spectrum.json")):
        if (folder / filename).is_file():
            kinds.append(kind)
    if not kinds and (any(folder.glob("*.png")) or any(folder.glob("*.md")) or any(folder.glob("*.json"))):
        kinds.append("figures")  # figures, tables or JSON that no recognised kind accounts for
    return kinds


def collect_section(folder: Path, root: Path) -> Section | None:
    """The section of one folder, or None when it holds nothing to show."""
    kinds = folder_kinds(folder)
    if not kinds:
        return None
    relative = "." if folder == root else folder.relative_to(root).as_posix()
    section = Section(
        anchor=_anchor(relative),
        title=relative if folder != root else root.resolve().name,
        kinds=kinds,
        intro="; ".join(KIND_TITLES[kind] for kind in kinds),
        is_root=folder == root,
    )
    if "run" in kinds:
        _draw_missing_learning_curve(folder)
    for kind in kinds:
        section.tables.extend(_READERS.get(kind, lambda _: [])(folder))
    if "run" in kinds and folder != root:
        # a sweep page holds many runs: their long configuration tables start folded, the metrics stay open
        for table in section.tables[1:]:
            table.collapsed = True
    section.tables.extend(_other_json_tables(folder))
    section.tables = [table for table in section.tables if not table.is_empty]
    section.documents = _documents(folder)
    context = data_context(folder, root)
    overrides = caption_overrides(folder)
    section.figures = [
        Figure(path, path.relative_to(root).as_posix(), figure_caption(path, context, overrides))
        for path in figure_order(folder)
    ]
    return section


def _draw_missing_learning_curve(folder: Path) -> None:
    """Runs trained before ``train`` drew its learning curve get it now, from their own metrics.jsonl."""
    if (folder / LEARNING_CURVE_FILE).is_file() or not RunPaths(folder).metrics_log.is_file():
        return
    from freqprobe.plots.learning_curve import draw_run_learning_curve

    try:
        draw_run_learning_curve(folder)
    except FreqprobeError:
        pass  # no completed epoch yet: nothing to draw, and the run's tables say so


def figure_order(folder: Path) -> list[Path]:
    """The folder's PNGs: first in the order its JSON files list them (``"figures": {name: file}``, the order the
    command drew them), then the others by name."""
    listed: list[str] = []
    for path in sorted(folder.glob("*.json")):
        figures = read_json(path)
        figures = figures.get("figures") if isinstance(figures, dict) else None
        if isinstance(figures, dict):
            listed += [str(name) for name in figures.values() if isinstance(name, str)]
    present = {path.name: path for path in folder.glob("*.png")}
    ordered = [present[name] for name in dict.fromkeys(listed) if name in present]
    return ordered + sorted(path for path in present.values() if path not in ordered)


def describe_folder(root: Path, kind: str, sections: list[Section], extra_figures: int = 0) -> str:
    """One paragraph saying what the folder is and what the page holds."""
    context = data_context(root, root)
    what = {
        "run": "a training run (freqprobe train): its final metrics, configuration, training log and figures",
        "sweep": "a sweep of training runs (freqprobe sweep / reproduce): its results tables and the runs' output",
        "compare": "the comparison of a sweep's runs (freqprobe compare): one table with rank correlations, "
        "scatter figures and band matrices",
        "sensitivity": "the sensitivity analysis of a trained network (freqprobe sensitivity)",
        "filters": "the kernel frequency responses of a trained network (freqprobe filters)",
        "spectrum": "the spectrum of a dataset split (freqprobe spectrum)",
        "figures": _contents_in_words(sections),
    }[kind]
    n_figures = sum(len(section.figures) for section in sections) + extra_figures
    n_tables = sum(len(section.tables) + len(section.documents) for section in sections)
    data = context.describe() if kind != "run" else ""  # a run's headline names its data, model and filter
    shows = f"The page shows {count(n_tables, 'table')} and {count(n_figures, 'figure')}"
    where = f" from {count(len(sections), 'folder')}" if len(sections) > 1 else ""
    return f"This folder holds {what}.{' ' + data if data else ''} {shows}{where}."


# What each kind of folder is called when a page counts them: (singular, plural).
KIND_NOUNS = {
    "run": ("training run", "training runs"),
    "sweep": ("sweep", "sweeps"),
    "compare": ("comparison", "comparisons"),
    "sensitivity": ("sensitivity analysis", "sensitivity analyses"),
    "filters": ("kernel analysis", "kernel analyses"),
    "spectrum": ("dataset spectrum", "dataset spectra"),
    "figures": ("folder of other figures and tables", "folders of other figures and tables"),
}


def _contents_in_words(sections: list[Section]) -> str:
    """``2 sweeps, 24 training runs and 1 comparison``: the folders of a page that is none of them itself."""
    counts: dict[str, int] = {}
    below = [section for section in sections if not section.is_root] or sections  # the root is not one of them
    for section in below:
        counts[section.kinds[0]] = counts.get(section.kinds[0], 0) + 1
    parts = [f"{n} {KIND_NOUNS[kind][n != 1]}" for kind, n in counts.items()]
    if len(parts) == 1 and counts.get("figures") == 1:
        return "figures and tables that no freqprobe record (config.json, sweep.json, an analysis JSON) describes"
    return "freqprobe output: " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])


def count(n: int, noun: str) -> str:
    """``1 figure``, ``2 figures``, ``0 tables``.

    >>> count(1, "figure"), count(2, "folder"), count(0, "table")
    ('1 figure', '2 folders', '0 tables')
    """
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ----------------------------------------------------------------------------------------------------------------
# Readers per kind
# ----------------------------------------------------------------------------------------------------------------


def _run_tables(folder: Path) -> list[T.Table]:
    found = []
    run = RunPaths(folder)  # read leniently: a report shows whatever an unfinished run already holds
    metrics = read_json(run.metrics)
    if isinstance(metrics, dict):
        found.append(T.metrics_table(metrics))
    records = [record for record in read_jsonl(run.metrics_log) if isinstance(record, dict)]
    if records:
        found.append(T.epochs_table(records))
    config = read_json(run.config)
    if isinstance(config, dict):
        found.append(T.config_table(config))
    environment = read_json(run.environment)
    if isinstance(environment, dict):
        table = T.environment_table(environment)
        if not table.is_empty:
            found.append(table)
    return found


def _sweep_tables(folder: Path) -> list[T.Table]:
    found = []
    sweep = read_json(folder / "sweep.json")
    if isinstance(sweep, dict) and isinstance(sweep.get("grid"), dict):
        rows = [[str(key), T.format_value(values)] for key, values in sweep["grid"].items()]
        found.append(T.Table("Grid (sweep.json)", ["field", "values"], rows, f"spec {sweep.get('spec', '?')}"))
    failures = []
    for path in sorted((folder / "failed").glob("*.json")):
        record = read_json(path)
        if isinstance(record, dict):
            failures.append([str(record.get("run", path.stem)), str(record.get("error", ""))])
    if failures:
        found.append(T.Table("Failed runs (failed/)", ["run", "error"], failures))
    return found


def _spectrum_tables(folder: Path) -> list[T.Table]:
    spectrum = read_json(folder / "spectrum.json")
    if not isinstance(spectrum, dict):
        return []
    label = shown_dataset(spectrum.get("dataset"), spectrum.get("source"), spectrum.get("data_note")) or "-"
    return T.spectrum_tables(spectrum, label)


def _filters_tables(folder: Path) -> list[T.Table]:
    filters = read_json(folder / "filters.json")
    return T.filters_tables(filters) if isinstance(filters, dict) else []


def _sensitivity_tables(folder: Path) -> list[T.Table]:
    sensitivity = read_json(folder / "sensitivity.json")
    return T.sensitivity_tables(sensitivity) if isinstance(sensitivity, dict) else []


_READERS = {
    "run": _run_tables,
    "sweep": _sweep_tables,
    "spectrum": _spectrum_tables,
    "filters": _filters_tables,
    "sensitivity": _sensitivity_tables,
}


def _other_json_tables(folder: Path) -> list[T.Table]:
    """Top-level scalars of JSON files no reader handles (e.g. a benchmark record)."""
    found = []
    for path in sorted(folder.glob("*.json")):
        if path.name in HANDLED_JSON:
            continue
        data = read_json(path)
        table = T.scalar_table(path.name, data) if isinstance(data, dict) else None
        if table is not None:
            found.append(table)
    return found


def _documents(folder: Path) -> list[Document]:
    """The folder's Markdown files: results.md, reproduce.md, compare.md first, then the others by name."""
    paths = sorted(folder.glob("*.md"), key=lambda path: (_markdown_rank(path.name), path.name))
    documents = []
    for path in paths:
        try:
            documents.append(Document(path.name, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue  # unreadable: left out like any missing piece
    return documents


def _markdown_rank(name: str) -> int:
    return MARKDOWN_ORDER.index(name) if name in MARKDOWN_ORDER else len(MARKDOWN_ORDER)


def _anchor(relative: str) -> str:
    return "section-" + (re.sub(r"[^A-Za-z0-9]+", "-", relative).strip("-") or "root")
