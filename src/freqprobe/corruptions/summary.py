"""Numbers over corruptions: mean corruption error and accuracy, accuracy per frequency group, mCE against a
baseline run, the rank correlation of predicted and measured error (Yin et al. 2019), and the printed table.

All take the ``per_corruption`` mapping of the ``corruptions`` section ({name: {error, mean_error, group,
benchmark, predicted_error, ...}}).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from freqprobe.corruptions.spectrum import BANDS
from freqprobe.errors import ConfigError
from freqprobe.tables import markdown_table

SENSITIVITY_FILE = "sensitivity.json"


def summary_statistics(results: dict[str, dict]) -> dict:
    """Mean corruption error/accuracy over the benchmark corruptions, accuracy per frequency group, extras' error."""
    benchmark = {name: entry for name, entry in results.items() if entry["benchmark"]}
    extra = {name: entry for name, entry in results.items() if not entry["benchmark"]}
    mean_error = _mean(entry["mean_error"] for entry in benchmark.values())
    groups = {band: sorted(n for n, e in benchmark.items() if e["group"] == band) for band in BANDS}
    return {
        "benchmark_corruptions": sorted(benchmark),
        "mean_corruption_error": mean_error,
        "mean_corruption_accuracy": None if mean_error is None else 1.0 - mean_error,
        "groups": groups,
        "group_accuracy": {
            band: _mean(1.0 - benchmark[name]["mean_error"] for name in members) for band, members in groups.items()
        },
        "extra_mean_error": _mean(entry["mean_error"] for entry in extra.values()),
    }


def link_to_heat_map(results: dict[str, dict]) -> dict:
    """Spearman's rho (scipy.stats.spearmanr) of predicted and measured mean error across corruptions."""
    from scipy.stats import spearmanr

    pairs = [
        (entry["predicted_error"], entry["mean_error"], name)
        for name, entry in results.items()
        if entry.get("predicted_error") is not None
    ]
    rho = p_value = None
    if len(pairs) >= 3 and len({p for p, _, _ in pairs}) > 1 and len({m for _, m, _ in pairs}) > 1:
        outcome = spearmanr([p for p, _, _ in pairs], [m for _, m, _ in pairs])
        rho, p_value = float(outcome.statistic), float(outcome.pvalue)
    return {
        "spearman_rho": rho,
        "p_value": p_value,
        "n_corruptions": len(pairs),
        "corruptions": [name for _, _, name in pairs],
        "measure": "Spearman rank correlation across corruptions of predicted_error and mean_error",
    }


def mean_corruption_error_against(results: dict[str, dict], baseline: dict[str, dict], baseline_name: str) -> dict:
    """CE per benchmark corruption and mCE (percent) relative to ``baseline``'s per_corruption errors.

    Raises:
        ConfigError: the baseline lacks a benchmark corruption or has zero error on one.
    """
    ce = {}
    for name, entry in results.items():
        if not entry["benchmark"]:
            continue
        other = baseline.get(name)
        if not isinstance(other, dict) or not isinstance(other.get("error"), list):
            raise ConfigError(
                f"--ce-baseline {baseline_name} has no {name} errors; run `freqprobe sensitivity` with --corruptions on it"
            )
        reference = sum(other["error"])
        if reference <= 0:
            raise ConfigError(f"--ce-baseline {baseline_name} makes no error on {name}; choose a weaker baseline")
        ce[name] = 100.0 * sum(entry["error"]) / reference
    return {"baseline": baseline_name, "ce": ce, "mce": _mean(ce.values()), "unit": "percent of the baseline's error"}


def read_baseline(path: str | os.PathLike) -> dict[str, dict]:
    """The per_corruption errors of a baseline: a run folder (its analysis/sensitivity.json or sensitivity.json) or a
    sensitivity.json file.

    Raises:
        ConfigError: no such file, or a file without a corruptions section.
    """
    from freqprobe.io import read_json_object

    path = Path(path)
    candidates = [path] if path.is_file() else [path / "analysis" / SENSITIVITY_FILE, path / SENSITIVITY_FILE]
    found = next((candidate for candidate in candidates if candidate.is_file()), None)
    if found is None:
        raise ConfigError(f"--ce-baseline {path}: no {SENSITIVITY_FILE} there; pass a run analysed with --corruptions")
    document = read_json_object(found, missing=f"{found} is missing", fix="rerun freqprobe sensitivity on the baseline")
    section = document.get("corruptions")
    if not isinstance(section, dict) or not isinstance(section.get("per_corruption"), dict):
        raise ConfigError(f"--ce-baseline {found} has no corruptions section; run `freqprobe sensitivity --corruptions` on it")
    return section["per_corruption"]


def table_lines(section: dict) -> list[str]:
    """The printed Markdown table: one row per corruption, accuracies and errors in percent."""
    header = ["corruption", "family", "group", "centroid (cycles/px)", "low/mid/high power %",
              *[f"err s{s} %" for s in range(1, 6)], "mean err %", "predicted err %"]
    rows = []
    ordered = sorted(section["per_corruption"].items(), key=lambda item: _centroid_key(item[1]))
    for name, entry in ordered:
        shares = entry["band_shares"]
        rows.append([
            name + ("" if entry["benchmark"] else " (extra)"),
            entry["family"],
            entry["group"] or "-",
            _fmt(entry["spectral_centroid"], "{:.3f}"),
            "/".join(_fmt(None if shares[b] is None else 100 * shares[b], "{:.0f}") for b in BANDS),
            *[_fmt(100 * e, "{:.1f}") for e in entry["error"]],
            _fmt(100 * entry["mean_error"], "{:.1f}"),
            _fmt(None if entry.get("predicted_error") is None else 100 * entry["predicted_error"], "{:.1f}"),
        ])
    return markdown_table(header, rows)


def _centroid_key(entry: dict) -> float:
    value = entry.get("spectral_centroid")
    return math.inf if value is None else value


def _fmt(value, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def _mean(values) -> float | None:
    values = [value for value in values if value is not None]
    return sum(values) / len(values) if values else None
