"""Perturbation spectra: band shares, centroid and group on known perturbations; the heat-map prediction."""

from __future__ import annotations

import math

import pytest
import scipy.stats
import torch

from freqprobe.corruptions.spectrum import PerturbationSpectrum, band_shares, predicted_error, summarize
from freqprobe.corruptions.summary import link_to_heat_map, mean_corruption_error_against, summary_statistics
from freqprobe.errors import ConfigError
from freqprobe.fourier import radial_frequency


def _stripes(bin_index: int, size: int = 32) -> torch.Tensor:
    """Vertical stripes at frequency bin_index / size cycles/pixel (a whole number of periods: no leakage)."""
    column = torch.cos(2 * math.pi * bin_index * torch.arange(size, dtype=torch.float64) / size)
    return column.reshape(1, 1, 1, size).expand(2, 1, size, size)


@pytest.mark.parametrize(("bin_index", "group"), [(2, "low"), (6, "mid"), (11, "high")])
def test_a_sinusoidal_perturbation_lands_in_its_band(bin_index, group):
    clean = torch.full((2, 1, 32, 32), 0.5, dtype=torch.float64)
    spectrum = PerturbationSpectrum()
    spectrum.add(clean, clean + 0.1 * _stripes(bin_index))
    summary = summarize(spectrum.mean_power())
    assert summary["spectral_centroid"] == pytest.approx(bin_index / 32, abs=1e-12)
    assert summary["group"] == group and summary["band_shares"][group] == pytest.approx(1.0)
    assert summary["mean_squared_perturbation"] == pytest.approx(0.01 / 2, rel=0.05)


def test_white_noise_spreads_its_power_like_the_band_areas():
    noise = torch.randn(64, 1, 32, 32, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    spectrum = PerturbationSpectrum()
    spectrum.add(torch.zeros_like(noise), noise)
    shares = band_shares(spectrum.mean_power())
    radius = radial_frequency(32, 32, dtype=torch.float64)
    area = {"low": float((radius < 0.125).double().mean()), "mid": float(((radius >= 0.125) & (radius < 0.25)).double().mean())}
    assert shares["low"] == pytest.approx(area["low"], rel=0.15)
    assert shares["mid"] == pytest.approx(area["mid"], rel=0.1)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_predicted_error_is_the_power_weighted_heat_map():
    heat = torch.rand(8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    power = torch.zeros(8, 8, dtype=torch.float64)
    power[0, 1], power[3, 3] = 3.0, 1.0
    assert predicted_error(heat, power) == pytest.approx((3 * heat[0, 1] + heat[3, 3]).item() / 4)
    assert predicted_error(torch.full((8, 8), 0.2, dtype=torch.float64), power + 1) == pytest.approx(0.2)
    heat[0, 1] = float("nan")  # not evaluated: left out of the weights
    assert predicted_error(heat, power) == pytest.approx(heat[3, 3].item())


def _results(errors: dict[str, list[float]], predicted=None, groups=None, extra=()):
    return {
        name: {"error": values, "mean_error": sum(values) / 5, "benchmark": name not in extra,
               "group": (groups or {}).get(name, "high"), "predicted_error": (predicted or {}).get(name)}
        for name, values in errors.items()
    }


def test_yin_link_is_scipy_spearman_across_corruptions():
    measured = {"a": [0.1] * 5, "b": [0.3] * 5, "c": [0.2] * 5, "d": [0.5] * 5}
    predicted = {"a": 0.2, "b": 0.1, "c": 0.3, "d": 0.6}
    link = link_to_heat_map(_results(measured, predicted))
    expected = scipy.stats.spearmanr([0.2, 0.1, 0.3, 0.6], [0.1, 0.3, 0.2, 0.5])
    assert link["spearman_rho"] == pytest.approx(expected.statistic)
    assert link["n_corruptions"] == 4


def test_mce_of_a_run_against_itself_is_100_and_scales_with_the_error():
    results = _results({"a": [0.1, 0.2, 0.3, 0.4, 0.5], "b": [0.2] * 5, "x": [0.9] * 5}, extra=("x",))
    assert mean_corruption_error_against(results, results, "self")["mce"] == pytest.approx(100.0)
    half = _results({"a": [0.05, 0.1, 0.15, 0.2, 0.25], "b": [0.1] * 5})
    outcome = mean_corruption_error_against(results, half, "half")
    assert outcome["ce"] == pytest.approx({"a": 200.0, "b": 200.0}) and "x" not in outcome["ce"]
    with pytest.raises(ConfigError, match="has no b errors"):
        mean_corruption_error_against(results, {"a": results["a"]}, "partial")


def test_summary_statistics_average_benchmark_corruptions_by_group():
    results = _results({"a": [0.1] * 5, "b": [0.3] * 5, "c": [0.5] * 5, "x": [0.9] * 5},
                       groups={"a": "low", "b": "low", "c": "high"}, extra=("x",))
    stats = summary_statistics(results)
    assert stats["mean_corruption_error"] == pytest.approx(0.3)
    assert stats["group_accuracy"]["high"] == pytest.approx(0.5)
    assert stats["group_accuracy"]["low"] == pytest.approx(0.8) and stats["group_accuracy"]["mid"] is None
    assert stats["extra_mean_error"] == pytest.approx(0.9)
