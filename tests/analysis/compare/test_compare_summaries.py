"""Summaries of sensitivity.json sections against hand-computed values."""

from __future__ import annotations

import math

import pytest
from sensitivity_documents import BANDS, heat_map_with_one_bad_frequency

from freqprobe.analysis.compare.summaries import band_ablation_summary, heatmap_summary, sensitivity_columns


def test_band_ablation_summary_by_hand():
    summary = band_ablation_summary(BANDS)
    # trapezoid mean over 0..0.5: sum of (a + b) / 2 * 0.1 over the five intervals, divided by 0.5
    low = (0.15 + 0.4 + 0.7 + 0.85 + 0.9) * 0.1 / 0.5
    high = (0.8 + 0.5 + 0.25 + 0.15 + 0.1) * 0.1 / 0.5
    assert summary["lowpass_auc"] == pytest.approx(low)
    assert summary["highpass_auc"] == pytest.approx(high)
    # half of clean = 0.45: low-pass rises through it between 0.1 (0.2) and 0.2 (0.6); high-pass falls below it
    # between 0.1 (0.7) and 0.2 (0.3)
    assert summary["lowpass_r50"] == pytest.approx(0.1 + 0.25 / 0.4 * 0.1)
    assert summary["highpass_r50"] == pytest.approx(0.1 + 0.25 / 0.4 * 0.1)


def test_band_ablation_summary_skips_malformed_sections():
    assert band_ablation_summary({"radii": [0.1], "low_pass_accuracy": [0.5], "high_pass_accuracy": [0.5]}) == {}
    assert band_ablation_summary({**BANDS, "low_pass_accuracy": "oops"}) == {}
    without_clean = band_ablation_summary({key: value for key, value in BANDS.items() if key != "clean_accuracy"})
    assert set(without_clean) == {"lowpass_auc", "highpass_auc"}


def test_heatmap_summary_by_hand():
    summary = heatmap_summary(heat_map_with_one_bad_frequency())
    assert summary["heatmap_mean_error"] == pytest.approx((61 * 0.2 + 2 * 0.7) / 63)
    # all excess error sits at |f| = sqrt((1/8)^2 + (2/8)^2)
    assert summary["heatmap_centroid"] == pytest.approx(math.hypot(1 / 8, 2 / 8))
    # bands of |f| on the 8x8 grid: below 1/8 only DC; [1/8, 1/4) the four axis neighbours at 1/8 and the four
    # diagonal ones at 0.177; the rest from 1/4 up holds the bad pair (|f| = 0.28) and the unevaluated cell
    assert summary["heatmap_error_low"] == pytest.approx(0.2)
    assert summary["heatmap_error_mid"] == pytest.approx(0.2)
    assert summary["heatmap_error_high"] == pytest.approx((52 * 0.2 + 2 * 0.7) / 54)


def test_sensitivity_columns_read_the_real_layout_and_pick_the_first_attack():
    document = {
        "run": "/x/run",
        "bands": BANDS,
        "heatmap": heat_map_with_one_bad_frequency(),
        "shift": {"consistency": 0.83, "n_images": 100},
        "attacks": {
            "pgd-linf-eps0.03137": {"method": "pgd", "robust_accuracy": 0.05, "eps": 0.03137},
            "fgsm-linf-eps0.007843": {"method": "fgsm", "robust_accuracy": 0.4, "eps": 0.007843},
        },
    }
    columns = sensitivity_columns(document)
    assert columns["shift_consistency"] == 0.83
    assert columns["robust_accuracy"] == 0.4
    assert columns["robust_attack"] == "fgsm-linf-eps0.007843"
    assert columns["lowpass_r50"] == pytest.approx(0.1625)
    assert columns["heatmap_centroid"] == pytest.approx(math.hypot(1 / 8, 2 / 8))
    assert sensitivity_columns({"run": "x"}) == {}


def test_sensitivity_columns_read_the_corruption_section():
    document = {
        "run": "x",
        "corruptions": {"mean_corruption_accuracy": 0.71, "group_accuracy": {"low": 0.4, "mid": None, "high": 0.8}},
    }
    columns = sensitivity_columns(document)
    assert columns == {"corruption_accuracy": 0.71, "corruption_accuracy_low": 0.4, "corruption_accuracy_mid": None,
                       "corruption_accuracy_high": 0.8}
    from freqprobe.run_columns import METRIC_COLUMNS, PERCENT_COLUMNS

    assert set(columns) <= set(METRIC_COLUMNS) & PERCENT_COLUMNS


def test_each_corruption_gives_its_accuracy_and_frequency_group():
    import json
    from pathlib import Path

    results = Path(__file__).resolve().parents[3] / "results"  # a committed run's sensitivity.json: the real format
    run = results / "frequency-augmentations" / "runs" / (
        "folder-cifar10-jpeg__resnet20__none__seed0__augment-noise-none__apr-none")
    document = json.loads((run / "analysis" / "sensitivity.json").read_text())
    columns = sensitivity_columns(document)
    per_corruption = document["corruptions"]["per_corruption"]
    assert len(per_corruption) == 19
    for name, entry in per_corruption.items():
        assert columns[f"accuracy_under_{name}"] == pytest.approx(1 - sum(entry["error"]) / 5)
        assert columns[f"frequency_group_of_{name}"] == entry["group"]
    assert columns["frequency_group_of_fog"] == "low" and columns["frequency_group_of_gaussian_noise"] == "high"


def test_the_first_attack_is_taken_in_natural_order_of_the_budgets_as_written():
    from freqprobe.analysis.compare.summaries import chosen_attack

    attacks = {
        "pgd-linf-eps16/255": {"method": "pgd", "robust_accuracy": 0.01},
        "pgd-linf-eps2/255": {"method": "pgd", "robust_accuracy": 0.3},
    }
    assert chosen_attack({"attacks": attacks}) == ("pgd-linf-eps2/255", attacks["pgd-linf-eps2/255"])
