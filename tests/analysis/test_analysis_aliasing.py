"""Aliasing share of strided kernels: kernels whose answer is known, and a separable closed form."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from freqprobe.analysis.aliasing import alias_mask, aliasing_share_of_power
from freqprobe.analysis.kernels import kernel_power_spectra, kernel_statistics, summarize_layer
from freqprobe.errors import ConfigError


def gaussian_taps(sigma: float, radius: int) -> np.ndarray:
    x = np.arange(-radius, radius + 1)
    return np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))


def as_weight(taps: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(taps, dtype=torch.float64)[None, None]


def test_wide_gaussian_low_pass_aliases_almost_nothing():
    # Taps out to 5 sigma, so truncation ripple stays below the Gaussian's own tail.
    weight = as_weight(gaussian_taps(sigma=3.0, radius=15))
    share = kernel_statistics(weight, grid=32, stride=2).aliasing_share.item()
    # Power exp(-4 pi^2 sigma^2 f^2) per axis: the share beyond |f| = 0.25 on either axis is about
    # 2 erfc(2 pi sigma 0.25) ~ 5e-11.
    assert 0.0 <= share < 1e-9


def test_checkerboard_modulated_kernel_aliases_almost_everything():
    y, x = np.mgrid[-5:6, -5:6]
    weight = as_weight(gaussian_taps(sigma=2.0, radius=5) * (-1.0) ** (x + y))
    assert kernel_statistics(weight, grid=32, stride=2).aliasing_share.item() > 1 - 1e-6


def test_three_tap_checkerboard_matches_the_separable_closed_form():
    # (-1)^(x+y) on 3x3 is the outer product of a = [1, -1, 1], |A(f)|^2 = (2 cos 2 pi f - 1)^2 per axis; a frequency
    # is kept only if both |f_y| and |f_x| are <= 0.25, so the kept share is (kept share of one axis)^2.
    f = np.fft.fftfreq(32)
    axis_power = (2 * np.cos(2 * np.pi * f) - 1) ** 2
    kept = axis_power[np.abs(f) <= 0.25].sum() / axis_power.sum()
    weight = as_weight(np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]))
    closed = kernel_statistics(weight, grid=32, stride=2).aliasing_share.item()
    explicit = aliasing_share_of_power(kernel_power_spectra(weight, 32), 2).item()
    assert closed == pytest.approx(1 - kept**2, abs=1e-12)
    assert explicit == pytest.approx(1 - kept**2, abs=1e-12)


def test_anisotropic_stride_folds_only_the_strided_axis():
    # A one-row kernel is an impulse along y: flat in f_y, so a stride along y folds exactly the 15 of 32 rows with
    # |f_y| > 0.25; a stride along x folds the 1-D share of a = [1, -1, 1] beyond 0.25.
    f = np.fft.fftfreq(32)
    axis_power = (2 * np.cos(2 * np.pi * f) - 1) ** 2
    weight = as_weight(np.array([[1.0, -1.0, 1.0]]))
    along_y = kernel_statistics(weight, grid=32, stride=(2, 1)).aliasing_share.item()
    along_x = kernel_statistics(weight, grid=32, stride=(1, 2)).aliasing_share.item()
    assert along_y == pytest.approx(15 / 32, abs=1e-12)
    assert along_x == pytest.approx(axis_power[np.abs(f) > 0.25].sum() / axis_power.sum(), abs=1e-12)


def test_mask_keeps_the_new_nyquist_frequency_and_folds_what_lies_above():
    mask = alias_mask(32, 32, 2)
    assert not mask[0, 8] and not mask[8, 8] and not mask[24, 0]  # |f| components exactly 0.25 are kept
    assert mask[0, 9] and mask[9, 0] and mask[16, 16]
    assert int(mask.sum()) == 32 * 32 - 17 * 17
    assert not alias_mask(32, 32, 1).any()


def test_layer_share_weighs_kernels_by_their_energy():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, stride=2, bias=False).double()
    with torch.no_grad():
        conv.weight.mul_(torch.linspace(0.1, 3.0, 6, dtype=torch.float64).reshape(3, 2, 1, 1))
    stats = kernel_statistics(conv.weight.detach(), 32, 0.25, 2)
    expected = float((stats.aliasing_share * stats.squared_norm).sum() / stats.squared_norm.sum())
    summary = summarize_layer("conv", conv, grid=32, input_size=(8, 8))
    assert summary["aliasing_share"] == pytest.approx(expected, rel=1e-12)
    assert summary["aliasing_share_kernel_mean"] == pytest.approx(float(stats.aliasing_share.mean()), rel=1e-12)
    unstrided = summarize_layer("conv", nn.Conv2d(2, 3, 3).double(), grid=32, input_size=(8, 8))
    assert unstrided["aliasing_share"] is None


def test_bad_stride_raises_config_error():
    with pytest.raises(ConfigError, match="stride"):
        alias_mask(8, 8, 0)
