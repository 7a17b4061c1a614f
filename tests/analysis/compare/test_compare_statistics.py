"""Rank correlations of the compare table: spearman() on pairs where both values exist, and the matrices across
variants' means (scipy.stats.spearmanr of the means), per dataset group and with partial correlations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from freqprobe.analysis.compare.statistics import (
    correlation_matrix,
    correlations_by_group,
    partial_correlations,
    spearman,
)
from freqprobe.analysis.compare.variants import summarize_variants
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


def seeded_rows(dataset: str, centres, offset: float, seeds=(0, 1, 2), spread=0.1):
    """Runs of one variant per centre x (filter f<x>), three seeds each: x = centre + noise, y = offset - x."""
    rng = np.random.default_rng(len(dataset))
    rows = []
    for centre in centres:
        for seed in seeds:
            x = centre + rng.normal(0.0, spread)
            rows.append({"run": f"{dataset}-{centre}-{seed}", "dataset": dataset, "model": "resnet20",
                         "filter": f"f{centre}", "seed": seed, "x": x, "y": offset - x + rng.normal(0.0, spread)})
    return rows


def test_correlations_are_on_the_variants_means():
    rows = seeded_rows("fashion-mnist", (1, 2, 3, 4, 5), 10)
    variants = summarize_variants(rows, [])
    entry = correlation_matrix(variants, ["x", "y"])["x"]["y"]
    means = np.array([[np.mean([r[c] for r in rows if r["filter"] == f"f{k}"]) for c in ("x", "y")]
                      for k in (1, 2, 3, 4, 5)])
    assert entry["rho"] == pytest.approx(stats.spearmanr(means[:, 0], means[:, 1]).statistic)
    assert entry["n_variants"] == 5 and entry["seeds_per_variant"] == [3] * 5
    assert entry["ci_low"] <= entry["rho"] <= entry["ci_high"]
    assert entry["p_value"] == pytest.approx(2 / 120) and entry["p_exact"]  # perfectly ranked: 2 of 5! pairings


def test_variants_of_several_datasets_get_correlations_within_each_dataset():
    # Simpson's paradox: within each dataset y falls as x rises, but the second dataset sits higher on both axes
    rows = seeded_rows("fashion-mnist", (1, 2, 3), 10) + seeded_rows("cifar10", (11, 12, 13), 30)
    variants = summarize_variants(rows, [])
    within = correlations_by_group(variants, ["x", "y"])
    assert set(within) == {"fashion-mnist", "cifar10"}
    for dataset in ("fashion-mnist", "cifar10"):
        assert within[dataset]["x"]["y"]["n"] == 3 and within[dataset]["x"]["y"]["rho"] == pytest.approx(-1.0)
    pooled = correlation_matrix(variants, ["x", "y"])["x"]["y"]
    assert pooled["n"] == 6 and pooled["rho"] > 0.5
    assert correlations_by_group(variants[:3], ["x", "y"]) == {}  # one dataset: the pooled matrix says it all
    two_models = [{**row, "model": "resnet32" if row["seed"] == 0 else "resnet20"} for row in rows[:9]]
    assert set(correlations_by_group(summarize_variants(two_models, []), ["x", "y"])) == {
        "fashion-mnist / resnet20", "fashion-mnist / resnet32"}
    # architectures compared (one variant per model): the models vary within each dataset, grouped by dataset only
    architectures = [{**row, "model": f"net-{row['filter']}"} for row in rows]
    by_dataset = correlations_by_group(summarize_variants(architectures, []), ["x", "y"])
    assert set(by_dataset) == {"fashion-mnist", "cifar10"} and by_dataset["cifar10"]["x"]["y"]["n"] == 3


def test_partial_correlations_per_group_then_pooled():
    rows = seeded_rows("fashion-mnist", (1, 2, 3, 4, 5), 10) + seeded_rows("cifar10", (1, 2, 3, 4, 5), 30)
    for row in rows:
        row["input_centroid"], row["robust_accuracy"], row["clean_accuracy"] = row["x"], row["y"], -row["x"] / 10
    entries = partial_correlations(summarize_variants(rows, []), ["input_centroid", "clean_accuracy",
                                                                  "robust_accuracy"])
    assert [entry["group"] for entry in entries] == ["fashion-mnist", "cifar10", "all pooled"]
    assert all(entry["x"] == "input_centroid" and entry["y"] == "robust_accuracy" for entry in entries)
    assert all(entry["control"] == "clean_accuracy" and entry["rho"] is None for entry in entries)  # x is z
    assert entries[0]["plain_rho"] == pytest.approx(-1.0)
    assert partial_correlations(summarize_variants(rows, []), ["input_centroid", "robust_accuracy"]) == []


def test_partial_correlations_carry_q_values_per_group():
    rows = seeded_rows("fashion-mnist", (1, 2, 3, 4, 5, 6), 10) + seeded_rows("cifar10", (1, 2, 3, 4, 5, 6), 30)
    for index, row in enumerate(rows):
        row["clean_accuracy"] = 0.5 + 0.01 * ((index * 7) % 5)
        row["input_centroid"], row["robust_accuracy"], row["corruption_accuracy"] = row["x"], row["y"], -row["y"]
    entries = partial_correlations(summarize_variants(rows, []), ["input_centroid", "clean_accuracy",
                                                                  "robust_accuracy", "corruption_accuracy"])
    for group in ("fashion-mnist", "cifar10", "all pooled"):
        mine = [entry for entry in entries if entry["group"] == group]
        assert len(mine) == 2 and all(entry["tests_in_group"] == 2 for entry in mine)
        expected = stats.false_discovery_control([entry["p_value"] for entry in mine])
        assert [entry["q_value"] for entry in mine] == pytest.approx(expected.tolist())
        assert all(entry["q_value"] >= entry["p_value"] for entry in mine)


def test_spearman_by_hand_without_ties():
    # ranks differ by d = (-1, 1, -1, 1, 0): rho = 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 24 / 120
    rho, count = spearman([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0])
    assert count == 5 and rho == pytest.approx(0.8)


def test_spearman_by_hand_with_ties():
    # x ranks (1, 2.5, 2.5, 4), y ranks (1, 2, 3, 4): Pearson of the average ranks = 4.5 / sqrt(4.5 * 5)
    rho, _ = spearman([1.0, 2.0, 2.0, 3.0], [10.0, 20.0, 30.0, 40.0])
    assert rho == pytest.approx(4.5 / np.sqrt(4.5 * 5.0))


def test_partial_section_shows_q_and_its_number_of_tests():
    from types import SimpleNamespace

    from freqprobe.analysis.compare.seed_tables import format_partial_section

    entry = {"group": "fashion-mnist", "x": "kernel_centroid_mean", "y": "robust_accuracy", "plain_rho": 0.5,
             "rho": 0.9, "ci_low": 0.1, "ci_high": 1.0, "n": 6, "p_value": 0.0125, "q_value": 0.05,
             "tests_in_group": 4, "seeds_per_variant": [3] * 6}
    older = {key: value for key, value in entry.items() if key not in ("q_value", "tests_in_group")}
    lines = format_partial_section(SimpleNamespace(partial_correlations=[entry, older]))
    assert "q (BH, group)" in lines[-4]
    assert "| 0.013 | 0.050 of 4 |" in lines[-2]
    assert "| 0.013 | - |" in lines[-1]  # compare.json from before q-values: a dash, not an error
