"""Cells and rows of the tables freqprobe writes: Markdown pipe tables (results.md, reproduce.md, compare.md), CSV
cells (results.csv, compare.csv, band_matrix.csv), and the tests for a usable number.

A neutral home: it imports nothing from freqprobe, so the sweeps, the comparison and the report share one escaping
rule and one CSV spelling without importing each other.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Sequence

_UNESCAPED_BAR = re.compile(r"(?<!\\)\|")
# Every accuracy a command prints, and every table of freqprobe's Markdown and HTML output, shows a fraction of
# images in percent with this many decimals: one test image of 10,000 is 0.01 points.
ACCURACY_DECIMALS = 2


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool): a cell that statistics may use."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number_or_none(value: Any) -> float | None:
    """``value`` as a float when :func:`is_number`, else None."""
    return float(value) if is_number(value) else None


def unique(items: Iterable) -> list:
    """``items`` in order of first appearance, each once."""
    return list(dict.fromkeys(items))


def percent_number(fraction: Any, decimals: int = ACCURACY_DECIMALS) -> str:
    """A fraction in [0, 1] as a percentage without the sign, for a column whose header says "%": ``"93.56"``;
    ``"-"`` when it is no number.

    >>> percent_number(0.93564), percent_number(1), percent_number(None)
    ('93.56', '100.00', '-')
    """
    return f"{100.0 * fraction:.{decimals}f}" if is_number(fraction) else "-"


def format_accuracy(fraction: Any, decimals: int = ACCURACY_DECIMALS) -> str:
    """An accuracy (a fraction of images) as the CLI, the Markdown tables and the report show it: ``"93.56%"``;
    ``"-"`` when it is no number.

    >>> format_accuracy(0.93564), format_accuracy(0.5, decimals=1), format_accuracy(float("nan"))
    ('93.56%', '50.0%', '-')
    """
    text = percent_number(fraction, decimals)
    return text if text == "-" else text + "%"


_NUMBER_RUN = re.compile(r"(\d+(?:\.\d+)?)")


def natural_key(text: Any) -> tuple:
    """Sort key that orders the numbers inside names by value: ``highpass:2`` before ``highpass:12``.

    >>> sorted(["highpass:12", "blur:2", "highpass:2", "none", "highpass:4"], key=natural_key)
    ['blur:2', 'highpass:2', 'highpass:4', 'highpass:12', 'none']
    >>> sorted(["band:0.25:0.5", "band:0.0625:0.125"], key=natural_key)
    ['band:0.0625:0.125', 'band:0.25:0.5']
    """
    parts = _NUMBER_RUN.split(str(text))
    # Text parts at even positions, numbers at odd ones: (text, number, text, ...) compares element by element.
    return tuple((0, float(part), part) if index % 2 else (1, 0.0, part.lower()) for index, part in enumerate(parts))


def natural_sorted(items: Iterable, key=None) -> list:
    """``items`` sorted by :func:`natural_key` of ``key(item)`` (of the item itself without ``key``)."""
    return sorted(items, key=lambda item: natural_key(item if key is None else key(item)))


def markdown_row(cells: Sequence[Any]) -> str:
    """One Markdown table row, ``| a | b |``; a ``|`` inside a cell is written ``\\|``."""
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


def markdown_table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The lines of a Markdown table: the header row, the ``---`` separator, then one line per row."""
    return [markdown_row(header), markdown_row(["---"] * len(header)), *(markdown_row(row) for row in rows)]


def split_markdown_row(line: str) -> list[str]:
    """The cells of a pipe-table row, stripped; ``\\|`` is a literal bar inside a cell (the inverse of
    :func:`markdown_row` for cells without surrounding blanks)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.strip().replace("\\|", "|") for cell in _UNESCAPED_BAR.split(body)]


def csv_cell(value: Any) -> Any:
    """How a CSV file spells a value: None as an empty cell, booleans as true/false, floats as their shortest
    round-tripping text (numpy floats too, never ``np.float64(...)``), anything else as the csv module writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(float(value))
    return value
