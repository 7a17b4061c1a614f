"""compare's figures draw each variant at its mean with its 95% interval (scipy's Student-t) as error bars."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from freqprobe.analysis.compare.variants import summarize_variants
from freqprobe.plots.compare import _means, _rho_title, plot_scatter
from freqprobe.plots.variants import _interval_arms, plot_variant_summary


def rows():
    values = {"none": [0.93, 0.94, 0.935], "blur:2": [0.90, 0.91, 0.905], "whiten": [0.92]}
    return [
        {"run": f"{spec}-{seed}", "dataset": "fashion-mnist", "model": "resnet20", "filter": spec, "seed": seed,
         "clean_accuracy": value, "input_centroid": 0.1 * (index + 1)}
        for index, (spec, accuracies) in enumerate(values.items()) for seed, value in enumerate(accuracies)
    ]


def test_error_bars_are_the_t_intervals_in_display_units_and_absent_for_one_seed():
    variants = summarize_variants(rows(), [])
    xs, ys, x_errors, y_errors = _means(variants, "input_centroid", "clean_accuracy", "none")
    low, high = stats.ttest_1samp([93.0, 94.0, 93.5], 0.0).confidence_interval(0.95)
    assert ys == pytest.approx([93.5]) and xs == pytest.approx([0.1])
    assert y_errors[:, 0] == pytest.approx([93.5 - low, high - 93.5])
    assert x_errors[:, 0] == pytest.approx([0.0, 0.0])  # every seed has the same input centroid: a point interval
    _, ys, _, y_errors = _means(variants, "input_centroid", "clean_accuracy", "whiten")
    assert ys == pytest.approx([92.0]) and y_errors[:, 0].tolist() == [0.0, 0.0]  # one seed: no bar
    assert _interval_arms(variants[2].stats["clean_accuracy"], 100.0) == (0.0, 0.0)


def test_titles_state_interval_p_and_variants():
    entry = {"rho": 0.5, "n": 8, "ci_low": -0.2, "ci_high": 0.9, "p_value": 0.21}
    assert _rho_title(entry) == "rho = +0.50 [-0.20, +0.90]\np = 0.21, 8 variants"
    assert _rho_title({"rho": 0.5, "n": 8, "ci_low": None, "p_value": None}) == "rho = +0.50\n8 variants"


def test_scatter_and_summary_figures_are_written(tmp_path):
    variants = summarize_variants(rows(), [])
    comparison = SimpleNamespace(rows=rows(), variants=variants, correlations={})
    assert plot_scatter(comparison, "input_centroid", ["clean_accuracy"], "toy", tmp_path / "scatter.png")
    assert plot_variant_summary(variants, "toy", tmp_path / "summary.png")
    for name in ("scatter.png", "summary.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and min(image.size) > 100
    assert not plot_scatter(comparison, "input_centroid", ["robust_accuracy"], "toy", tmp_path / "none.png")
