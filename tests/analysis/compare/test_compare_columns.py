"""Kernel columns of a run's row from filters.json layers."""

from __future__ import annotations

import pytest

from freqprobe.analysis.compare.columns import kernel_columns


def test_all_layer_centroid_mean_leaves_out_spatially_flat_layers_but_lists_them():
    layers = [
        {"name": "stem", "spectral_centroid_mean": 0.2, "spatially_flat": False},
        {"name": "shortcut", "spectral_centroid_mean": 0.38, "spatially_flat": True},
        {"name": "conv", "spectral_centroid_mean": 0.3},  # filters.json of older versions: no flag
    ]
    columns = kernel_columns(layers)
    assert columns["kernel_centroid_mean"] == pytest.approx(0.25)
    assert columns["kernel_centroid:shortcut"] == 0.38 and columns["kernel_centroid_first"] == 0.2
