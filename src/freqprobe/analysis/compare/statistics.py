"""Spearman rank correlations between the columns of the runs table (``scipy.stats.spearmanr``)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from freqprobe.errors import ConfigError
from freqprobe.run_columns import LAYER_PREFIX
from freqprobe.tables import is_number, unique

MIN_PAIRS = 3


def spearman(x: Sequence[float | None], y: Sequence[float | None]) -> tuple[float | None, int]:
    """Spearman's rank correlation (``scipy.stats.spearmanr``, average ranks for ties) of the pairs where both values
    are finite numbers, and the number of such pairs.

    None when fewer than 3 pairs remain or either side is constant (undefined).

    Raises:
        ConfigError: ``x`` and ``y`` differ in length.
    """
    from scipy import stats

    if len(x) != len(y):
        raise ConfigError(f"spearman needs two sequences of one length, got {len(x)} and {len(y)}")
    pairs = np.array([(float(a), float(b)) for a, b in zip(x, y) if is_number(a) and is_number(b)], dtype=np.float64)
    count = len(pairs)
    if count < MIN_PAIRS or np.ptp(pairs[:, 0]) == 0 or np.ptp(pairs[:, 1]) == 0:
        return None, count  # scipy would warn and return NaN for a constant side
    rho = float(stats.spearmanr(pairs[:, 0], pairs[:, 1]).statistic)
    return max(-1.0, min(1.0, rho)), count


def correlation_matrix(rows: Sequence[dict], columns: Sequence[str]) -> dict[str, dict[str, dict]]:
    """``{a: {b: {"rho": float | None, "n": int}}}`` over every pair of ``columns`` of ``rows``."""
    values = {column: [row.get(column) for row in rows] for column in columns}
    matrix: dict[str, dict[str, dict]] = {}
    for a in columns:
        matrix[a] = {}
        for b in columns:
            rho, count = spearman(values[a], values[b])
            matrix[a][b] = {"rho": rho, "n": count}
    return matrix


def correlations_within_datasets(rows: Sequence[dict], columns: Sequence[str]) -> dict[str, dict[str, dict[str, dict]]]:
    """One correlation matrix per dataset when the rows hold more than one; empty for a single dataset."""
    datasets = unique(row["dataset"] for row in rows)
    if len(datasets) < 2:
        return {}
    return {
        dataset: correlation_matrix([row for row in rows if row["dataset"] == dataset], columns) for dataset in datasets
    }


def layer_correlations(rows: Sequence[dict], layer_columns: Sequence[str]) -> list[dict]:
    """Spearman correlation of the input centroid with each layer's mean kernel centroid, in layer order."""
    inputs = [row.get("input_centroid") for row in rows]
    result = []
    for index, column in enumerate(layer_columns):
        rho, count = spearman(inputs, [row.get(column) for row in rows])
        result.append({"layer": column.removeprefix(LAYER_PREFIX), "index": index, "rho": rho, "n": count})
    return result
