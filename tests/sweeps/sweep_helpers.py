"""Helpers shared by the sweep tests: specs, one-line errors, Markdown tables and expected cells."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from freqprobe.errors import FreqprobeError
from freqprobe.sweeps.spec import spec_from_dict

REPO = Path(__file__).resolve().parents[2]
QUIET = lambda message: None  # noqa: E731


def make_spec(grid=None, base=None, source="test-spec"):
    grid = grid if grid is not None else {
        "datasets": ["fashion-mnist", "cifar10"],
        "filters": ["none", "blur:2", "highpass:2"],
        "seeds": [0, 1],
    }
    return spec_from_dict({"base": base or {"epochs": 1}, "grid": grid}, source=source)


def write_spec(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_lock(path: Path, host: str, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": host, "pid": pid, "started": 0.0, "token": "x"}))


def one_line_error(function, *args) -> str:
    with pytest.raises(FreqprobeError) as error:
        function(*args)
    message = str(error.value)
    assert "\n" not in message
    return message


def markdown_table(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]


def expected_cell(values: list[float]) -> str:
    """mean ± std [95% Student-t interval] (n), from scipy.stats.ttest_1samp; one value: no interval."""
    from scipy import stats

    percent = 100 * np.array(values)
    if len(percent) == 1:
        return f"{percent[0]:.2f} (n=1, no interval)"
    low, high = stats.ttest_1samp(percent, 0.0).confidence_interval(0.95)
    return f"{percent.mean():.2f} ± {percent.std(ddof=1):.2f} [{low:.2f}, {high:.2f}] (n={len(percent)})"


def run_cli(argv: list[str]) -> int:
    from freqprobe.cli import main

    return main(argv)
