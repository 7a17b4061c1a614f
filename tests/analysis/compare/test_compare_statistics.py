"""Spearman rank correlations of the compare table (scipy.stats.spearmanr on the pairs where both values exist)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from freqprobe.analysis.compare.statistics import correlation_matrix, correlations_within_datasets, spearman
from freqprobe.errors import ConfigError


@pytest.mark.parametrize("n, levels, seed", [(3, 100, 0), (8, 3, 1), (25, 5, 2), (40, 1000, 3), (12, 2, 4)])
def test_spearman_matches_scipy_with_ties(n, levels, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, n).astype(float)  # few levels: many ties
    y = x * 0.5 + rng.integers(0, levels, n)
    rho, count = spearman(x.tolist(), y.tolist())
    expected = stats.spearmanr(x, y).statistic
    assert count == n
    if np.isnan(expected):
        assert rho is None
    else:
        assert rho == pytest.approx(expected, abs=1e-12)


def test_spearman_uses_only_pairs_where_both_values_exist():
    x = [1.0, 2.0, None, 4.0, 5.0, float("nan"), 7.0]
    y = [2.0, 1.0, 3.0, None, 6.0, 5.0, 8.0]
    rho, count = spearman(x, y)
    kept_x, kept_y = [1.0, 2.0, 5.0, 7.0], [2.0, 1.0, 6.0, 8.0]
    assert count == 4
    assert rho == pytest.approx(stats.spearmanr(kept_x, kept_y).statistic)


def test_spearman_is_undefined_for_constant_columns_and_fewer_than_three_pairs():
    assert spearman([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]) == (None, 4)
    assert spearman([1.0, 2.0], [2.0, 1.0]) == (None, 2)
    rho, count = spearman([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
    assert count == 3 and rho == pytest.approx(-1.0)
    with pytest.raises(ConfigError, match="one length"):
        spearman([1.0, 2.0, 3.0], [1.0, 2.0])


def test_runs_of_several_datasets_get_correlations_within_each_dataset():
    # Simpson's paradox: within each dataset y falls as x rises, but the second dataset sits higher on both axes
    rows = [{"dataset": "fashion-mnist", "x": x, "y": 10 - x} for x in (1, 2, 3)]
    rows += [{"dataset": "cifar10", "x": x, "y": 30 - x} for x in (11, 12, 13)]
    within = correlations_within_datasets(rows, ["x", "y"])
    assert set(within) == {"fashion-mnist", "cifar10"}
    for dataset in ("fashion-mnist", "cifar10"):
        assert within[dataset]["x"]["y"]["n"] == 3 and within[dataset]["x"]["y"]["rho"] == pytest.approx(-1.0)
    pooled = correlation_matrix(rows, ["x", "y"])["x"]["y"]
    assert pooled["n"] == 6 and pooled["rho"] > 0.5
    assert correlations_within_datasets(rows[:3], ["x", "y"]) == {}  # one dataset: the pooled matrix says it all


def test_spearman_by_hand_without_ties():
    # ranks differ by d = (-1, 1, -1, 1, 0): rho = 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 24 / 120
    rho, count = spearman([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0])
    assert count == 5 and rho == pytest.approx(0.8)


def test_spearman_by_hand_with_ties():
    # x ranks (1, 2.5, 2.5, 4), y ranks (1, 2, 3, 4): Pearson of the average ranks = 4.5 / sqrt(4.5 * 5)
    rho, _ = spearman([1.0, 2.0, 2.0, 3.0], [10.0, 20.0, 30.0, 40.0])
    assert rho == pytest.approx(4.5 / np.sqrt(4.5 * 5.0))
