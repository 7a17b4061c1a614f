"""Seed summaries: mean band curves and variant labels."""

from __future__ import annotations

import math

import pytest

from freqprobe.analysis.compare.variants import VariantSummary, label_variants, mean_band_curve


def test_mean_band_curve_by_hand():
    first = {"radii": [0.1, 0.2], "low_pass_accuracy": [0.2, 0.6], "high_pass_accuracy": [0.8, 0.4]}
    second = {"radii": [0.1, 0.2], "low_pass_accuracy": [0.4, 0.6], "high_pass_accuracy": [0.6, 0.2]}
    curve = mean_band_curve([first, second])
    assert curve["runs"] == 2 and curve["radii"] == [0.1, 0.2]
    assert curve["low_pass_accuracy_mean"] == pytest.approx([0.3, 0.6])
    assert curve["low_pass_accuracy_std"] == pytest.approx([math.sqrt(0.02), 0.0])
    assert curve["high_pass_accuracy_mean"] == pytest.approx([0.7, 0.3])
    assert mean_band_curve([first, {**second, "radii": [0.1, 0.3]}]) is None  # no silent interpolation
    assert mean_band_curve([]) is None


def test_variant_labels_leave_out_unset_options_where_set_ones_tell_them_apart():
    def variant(conv, reg):
        identity = {"dataset": "fashion-mnist", "conv": conv, "spectral_reg": reg}
        return VariantSummary(identity=identity, runs=[], seeds=[], stats={})

    variants = [variant("standard", None), variant("bandpass:gabor@stem", None), variant("standard", "highfreq:0.05")]
    label_variants(variants, ["dataset", "conv", "spectral_reg"])
    assert [v.label for v in variants] == [
        "conv=standard", "conv=bandpass:gabor@stem", "conv=standard, spectral_reg=highfreq:0.05",
    ]
    only_unset = [variant("standard", None), variant("standard", "highfreq:0.05")]
    label_variants(only_unset, ["dataset", "spectral_reg"])
    assert [v.label for v in only_unset] == ["spectral_reg=none", "spectral_reg=highfreq:0.05"]
