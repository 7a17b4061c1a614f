"""Kernel frequency responses and per-kernel statistics against closed forms and numpy reference computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqprobe.analysis.kernels import (
    kernel_autocorrelation,
    kernel_power_spectra,
    kernel_responses,
    kernel_statistics,
    mean_normalized_power,
    statistics_of_power,
)
from freqprobe.errors import ConfigError
from freqprobe.spectra import spectral_centroid_of_power

LAPLACIAN = [[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]]


def as_weight(taps) -> torch.Tensor:
    """One (1, 1, kh, kw) float64 kernel."""
    return torch.as_tensor(np.asarray(taps, dtype=np.float64))[None, None]


def numpy_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    return np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :]


def sampled_gaussian(sigma: float, radius: int) -> np.ndarray:
    x = np.arange(-radius, radius + 1)
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def test_laplacian_power_equals_its_closed_form_on_the_padded_grid():
    fy, fx = numpy_grid(32, 32)
    amplitude = 4 - 2 * np.cos(2 * np.pi * fx) - 2 * np.cos(2 * np.pi * fy)
    power = kernel_power_spectra(as_weight(LAPLACIAN), 32, normalize=False)[0, 0].numpy()
    np.testing.assert_allclose(power, amplitude**2, atol=1e-10)
    response = kernel_responses(as_weight(LAPLACIAN), 32)[0, 0]
    np.testing.assert_allclose(response.abs().numpy(), np.abs(amplitude), atol=1e-12)


def test_laplacian_statistics_equal_numpy_sums_over_its_closed_form_power():
    fy, fx = numpy_grid(32, 32)
    power = (4 - 2 * np.cos(2 * np.pi * fx) - 2 * np.cos(2 * np.pi * fy)) ** 2
    radius = np.hypot(fy, fx)
    stats = kernel_statistics(as_weight(LAPLACIAN), grid=32, cutoff=0.25)
    assert stats.spectral_centroid.item() == pytest.approx((radius * power).sum() / power.sum(), abs=1e-12)
    assert stats.high_frequency_ratio.item() == pytest.approx(power[radius > 0.25].sum() / power.sum(), abs=1e-12)
    # Symmetric under the 90-degree rotation of the grid (its unpaired Nyquist row and column aside): no orientation.
    assert stats.orientation_coherence.item() < 1e-12


def test_coherence_and_orientation_equal_numpy_doubled_angle_sums_without_dc_and_nyquist_lines():
    rng = np.random.default_rng(5)
    taps = rng.standard_normal((3, 3))
    padded = np.zeros((32, 32))
    padded[:3, :3] = taps
    power = np.abs(np.fft.fft2(padded)) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(32), np.fft.fftfreq(32), indexing="ij")
    oriented = (np.hypot(fy, fx) > 0) & (fy != -0.5) & (fx != -0.5)
    doubled = 2 * np.mod(np.arctan2(fy, fx), np.pi)
    cos_sum, sin_sum = (power * np.cos(doubled))[oriented].sum(), (power * np.sin(doubled))[oriented].sum()
    stats = kernel_statistics(as_weight(taps), grid=32)
    assert stats.orientation_coherence.item() == pytest.approx(np.hypot(cos_sum, sin_sum) / power[oriented].sum())
    assert stats.orientation.item() == pytest.approx(np.mod(0.5 * np.arctan2(sin_sum, cos_sum), np.pi))


def test_sampled_gaussian_matches_numpy_dft_and_the_continuous_transform():
    sigma, radius = 1.5, 6
    taps = sampled_gaussian(sigma, radius)
    response = kernel_responses(as_weight(taps), 32)[0, 0].numpy()
    padded = np.zeros((32, 32))
    padded[: taps.shape[0], : taps.shape[1]] = taps
    np.testing.assert_allclose(response, np.fft.fft2(padded), atol=1e-12)
    fy, fx = numpy_grid(32, 32)
    continuous = np.exp(-2 * np.pi**2 * sigma**2 * (fx**2 + fy**2))
    # Sampling aliases the continuous transform by exp(-2 pi^2 sigma^2 0.25) ~ 1e-5 at Nyquist; truncating the taps
    # at 4 sigma and renormalizing moves it by less than 1e-3.
    np.testing.assert_allclose(np.abs(response), continuous, atol=1e-3)


def test_closed_form_statistics_equal_explicit_grid_statistics(device):
    torch.manual_seed(0)
    cases = [((5, 3, 3, 3), 32, 1), ((2, 3, 5, 5), 17, 2), ((3, 2, 2, 3), (8, 12), (2, 3)), ((4, 2, 1, 1), 16, 2)]
    for shape, grid, stride in cases:
        weight = torch.randn(*shape, dtype=torch.float64).to(device)
        closed = kernel_statistics(weight, grid, 0.2, stride)
        explicit = statistics_of_power(kernel_power_spectra(weight, grid, normalize=False), 0.2, stride)
        for field in ("squared_norm", "spectral_centroid", "high_frequency_ratio", "orientation_coherence"):
            torch.testing.assert_close(getattr(closed, field), getattr(explicit, field), rtol=1e-10, atol=1e-12)
        # Orientation is only defined where there is a preferred one (1x1 kernels have flat spectra: none).
        oriented = explicit.orientation_coherence > 1e-6
        angle_gap = (closed.orientation - explicit.orientation).abs()[oriented]
        assert bool((torch.minimum(angle_gap, math.pi - angle_gap) < 1e-9).all())
        assert bool(oriented.all()) or shape[-1] == 1
        if stride == 1:
            assert closed.aliasing_share is None and explicit.aliasing_share is None
        else:
            torch.testing.assert_close(closed.aliasing_share, explicit.aliasing_share, rtol=1e-10, atol=1e-12)


def test_statistics_stay_on_the_device_of_the_weights():
    # the meta device computes shapes without data: any grid left on the CPU would clash with it
    weight = torch.empty(4, 2, 3, 3, dtype=torch.float64, device="meta")
    for stats in (kernel_statistics(weight, 16, 0.25, 2), statistics_of_power(kernel_power_spectra(weight, 16), 0.25, 2)):
        for field in ("squared_norm", "spectral_centroid", "high_frequency_ratio", "orientation", "aliasing_share"):
            value = getattr(stats, field)
            assert value.device.type == "meta" and value.shape == (8,), field


def test_centroid_is_the_dataset_spectra_definition(device):
    torch.manual_seed(1)
    weight = torch.randn(6, 4, 3, 3, dtype=torch.float64).to(device)
    expected = spectral_centroid_of_power(kernel_power_spectra(weight, 32)).flatten()
    torch.testing.assert_close(kernel_statistics(weight, 32).spectral_centroid, expected, rtol=1e-10, atol=1e-12)


def test_float32_weights_give_the_float64_statistics_to_single_precision():
    torch.manual_seed(2)
    weight = torch.randn(16, 8, 3, 3)
    single = kernel_statistics(weight, 32, 0.25, 2)
    double = kernel_statistics(weight.double(), 32, 0.25, 2)
    for field in ("spectral_centroid", "high_frequency_ratio", "aliasing_share"):
        torch.testing.assert_close(getattr(single, field), getattr(double, field), rtol=1e-5, atol=1e-6)


def test_a_single_tap_has_a_flat_spectrum():
    delta = as_weight([[0.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    for grid in (32, 33):
        fy, fx = numpy_grid(grid, grid)
        radius = np.hypot(fy, fx)
        stats = kernel_statistics(delta, grid=grid, cutoff=0.3)
        assert stats.spectral_centroid.item() == pytest.approx(radius.mean(), abs=1e-12)
        assert stats.high_frequency_ratio.item() == pytest.approx((radius > 0.3).mean(), abs=1e-12)
        assert stats.orientation_coherence.item() < 1e-12  # a flat spectrum has no orientation


@pytest.mark.parametrize(
    ("taps", "expected"),
    [
        ([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], 0.0),  # Sobel x: varies along x
        ([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], math.pi / 2),  # Sobel y: varies along y
        ([[1.0, 0.0, 0.0], [0.0, -2.0, 0.0], [0.0, 0.0, 1.0]], math.pi / 4),  # second difference along the diagonal
        ([[0.0, 0.0, 1.0], [0.0, -2.0, 0.0], [1.0, 0.0, 0.0]], 3 * math.pi / 4),  # ... along the anti-diagonal
    ],
)
def test_dominant_orientation_follows_the_kernels_symmetry(taps, expected):
    stats = kernel_statistics(as_weight(taps), grid=32)
    gap = abs(stats.orientation.item() - expected)
    assert min(gap, math.pi - gap) < 1e-9
    assert stats.orientation_coherence.item() > 0.3


def test_zero_kernels_get_nan_statistics():
    weight = torch.zeros(2, 1, 3, 3, dtype=torch.float64)
    weight[1, 0] = torch.as_tensor(LAPLACIAN)
    stats = kernel_statistics(weight, 32, 0.25, 2)
    assert stats.nonzero.tolist() == [False, True]
    fields = ("spectral_centroid", "high_frequency_ratio", "orientation", "orientation_coherence", "aliasing_share")
    for field in fields:
        values = getattr(stats, field)
        assert math.isnan(values[0].item()) and math.isfinite(values[1].item())


def test_mean_normalized_power_is_the_mean_of_the_explicit_normalized_spectra():
    torch.manual_seed(3)
    weight = torch.randn(5, 3, 3, 3, dtype=torch.float64)
    weight[0, 0] = 0.0  # zero kernels are left out of the mean
    spectra = kernel_power_spectra(weight, 24).reshape(-1, 24, 24)
    expected = spectra[spectra.sum(dim=(1, 2)) > 0].mean(dim=0)
    mean = mean_normalized_power(weight, 24)
    torch.testing.assert_close(mean, expected, rtol=1e-10, atol=1e-14)
    assert mean.sum().item() == pytest.approx(1.0, abs=1e-12)


def test_autocorrelation_matches_numpy_correlate2d():
    from scipy.signal import correlate2d

    torch.manual_seed(4)
    weight = torch.randn(1, 1, 3, 4, dtype=torch.float64)
    lags, correlation = kernel_autocorrelation(weight)
    full = correlate2d(weight[0, 0].numpy(), weight[0, 0].numpy(), mode="full")  # index (dy + kh - 1, dx + kw - 1)
    assert len(lags) == ((2 * 3 - 1) * (2 * 4 - 1) + 1) // 2
    for (dy, dx), value in zip(lags, correlation[0].tolist()):
        assert value == pytest.approx(full[-dy + 2, -dx + 3], abs=1e-12)


def test_bad_grid_cutoff_and_weight_raise_config_errors():
    weight = torch.zeros(1, 1, 5, 5)
    with pytest.raises(ConfigError, match="smaller than a 5x5 kernel"):
        kernel_statistics(weight, grid=4)
    with pytest.raises(ConfigError, match="cutoff"):
        kernel_statistics(weight, cutoff=0.9)
    with pytest.raises(ConfigError, match="real \\(out, in, kh, kw\\)"):
        kernel_statistics(torch.zeros(3, 3))
