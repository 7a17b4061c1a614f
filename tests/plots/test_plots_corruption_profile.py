"""The corruption-profile figure of compare: corruptions ordered low- to high-frequency group, bars the paired
differences against the baseline (scipy's paired Student-t interval) or, without a baseline, the variants' means."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from freqprobe.analysis.compare.baseline import paired_differences
from freqprobe.analysis.compare.variants import summarize_variants
from freqprobe.plots.corruption_profile import corruption_order, plot_corruption_profile, profile_bars

FOG = {None: [0.60, 0.62, 0.58], "gaussian:0.1": [0.40, 0.45, 0.41]}
NOISE = {None: [0.50, 0.52, 0.49], "gaussian:0.1": [0.70, 0.69, 0.73]}


def rows(dataset="cifar10"):
    return [
        {"run": f"{noise}-{seed}", "dataset": dataset, "model": "resnet20", "filter": "none", "seed": seed,
         "augment_noise": noise, "accuracy_under_gaussian_noise": NOISE[noise][seed],
         "frequency_group_of_gaussian_noise": "high", "accuracy_under_fog": FOG[noise][seed],
         "frequency_group_of_fog": "low", "accuracy_under_zoom_blur": 0.6, "frequency_group_of_zoom_blur": "mid"}
        for noise in FOG for seed in range(3)
    ]


def test_corruptions_are_ordered_by_frequency_group_then_name():
    assert corruption_order(rows(), "cifar10") == [("fog", "low"), ("zoom_blur", "mid"), ("gaussian_noise", "high")]
    assert corruption_order(rows(), "fashion-mnist") == []


def test_bars_are_the_paired_differences_with_their_t_intervals():
    variants = summarize_variants(rows(), ["augment_noise"])
    differences = paired_differences(variants, "augment_noise=none")
    mode, bars = profile_bars(variants, differences, "cifar10", ["fog", "zoom_blur", "gaussian_noise"])
    assert mode == "difference" and [label for label, _, _ in bars] == [
        "augment_noise=gaussian:0.1 − augment_noise=none"]
    _, means, arms = bars[0]
    fog = np.subtract(FOG["gaussian:0.1"], FOG[None])
    assert means[0] == pytest.approx(100 * fog.mean()) and means[2] == pytest.approx(
        100 * np.mean(np.subtract(NOISE["gaussian:0.1"], NOISE[None])))
    low, high = stats.ttest_1samp(fog, 0.0).confidence_interval(0.95)
    assert arms[:, 0] == pytest.approx([100 * (fog.mean() - low), 100 * (high - fog.mean())])
    assert means[1] == pytest.approx(0.0) and arms[:, 1] == pytest.approx([0.0, 0.0])  # equal seeds: a point interval


def test_without_a_baseline_the_bars_are_the_variants_means(tmp_path):
    variants = summarize_variants(rows(), ["augment_noise"])
    mode, bars = profile_bars(variants, [], "cifar10", ["fog"])
    assert mode == "accuracy"
    assert [means[0] for _, means, _ in bars] == pytest.approx([60.0, 100 * np.mean(FOG["gaussian:0.1"])])
    path = tmp_path / "profile.png"
    assert plot_corruption_profile(variants, rows(), [], "test", path)
    assert Image.open(path).size[0] > 500
    no_corruptions = [{key: value for key, value in row.items() if "_under_" not in key} for row in rows()]
    assert not plot_corruption_profile(variants, no_corruptions, [], "test", tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()
