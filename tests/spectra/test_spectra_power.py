"""power_spectrum and the Hamming window against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freqprobe.errors import ConfigError
from freqprobe.spectra import hamming_window_2d, power_spectrum


def numpy_power(images: np.ndarray, window: np.ndarray | None = None) -> np.ndarray:
    """Reference: plain |FFT2|^2 / (H W); with a window, the mean-removed, mean(w^2)-normalized form plus the DC."""
    height, width = images.shape[-2:]
    if window is None:
        return np.abs(np.fft.fft2(images)) ** 2 / (height * width)
    mean = images.mean(axis=(-2, -1), keepdims=True)
    power = np.abs(np.fft.fft2((images - mean) * window)) ** 2 / (height * width * np.mean(window**2))
    power[..., 0, 0] += height * width * mean[..., 0, 0] ** 2
    return power


def test_power_spectrum_matches_numpy_per_channel():
    x = torch.rand(4, 3, 12, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = numpy_power(x.numpy())
    np.testing.assert_allclose(power_spectrum(x).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_hamming_window_is_the_outer_product_of_numpy_windows():
    window = hamming_window_2d(9, 14, dtype=torch.float64).numpy()
    np.testing.assert_allclose(window, np.outer(np.hamming(9), np.hamming(14)), rtol=0, atol=1e-12)


def test_windowed_power_spectrum_windows_the_mean_removed_image_per_channel():
    x = torch.rand(2, 3, 16, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x[:, 1] += 3.0  # channels with very different means: each must lose its own
    expected = numpy_power(x.numpy(), np.outer(np.hamming(16), np.hamming(12)))
    np.testing.assert_allclose(power_spectrum(x, window="hamming").numpy(), expected, rtol=1e-10, atol=1e-12)


def test_a_window_leaves_the_spectrum_of_a_constant_image_unchanged():
    x = torch.full((1, 2, 9, 8), 0.6, dtype=torch.float64)
    np.testing.assert_allclose(power_spectrum(x, window="hamming").numpy(), power_spectrum(x).numpy(), atol=1e-12)


def test_a_window_keeps_the_dc_power_and_the_mean_power_level_of_noise():
    # DC: the un-windowed image's H W m^2, plus the little the windowed zero-mean rest leaks into the DC bin (here
    # < 0.1%; windowing the raw image would cut the DC to mean(w)^2 = 0.16 of it). The rest: divided by mean(w^2),
    # so the power of zero-mean noise is the same in expectation; 400 images of 32x32 pin the ratio to about +-1%
    # (it is 0.40 without the normalization).
    x = 0.5 + 0.1 * torch.randn(400, 1, 32, 32, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    plain, windowed = power_spectrum(x), power_spectrum(x, window="hamming")
    assert bool((windowed[..., 0, 0] >= plain[..., 0, 0]).all())
    np.testing.assert_allclose(windowed[..., 0, 0].numpy(), plain[..., 0, 0].numpy(), rtol=1e-3)
    ratio = (windowed.sum((-2, -1)) - windowed[..., 0, 0]).sum() / (plain.sum((-2, -1)) - plain[..., 0, 0]).sum()
    assert ratio.item() == pytest.approx(1.0, abs=0.02)


def test_parseval_total_power_equals_pixel_energy():
    x = torch.rand(3, 2, 28, 28, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    np.testing.assert_allclose(power_spectrum(x).sum((-2, -1)).numpy(), x.square().sum((-2, -1)).numpy(), rtol=1e-12)


def test_constant_image_has_only_dc_power():
    power = power_spectrum(torch.full((1, 1, 8, 8), 0.5, dtype=torch.float64))[0, 0]
    assert power[0, 0].item() == pytest.approx(0.25 * 64)
    assert power.flatten()[1:].abs().max().item() < 1e-20


def test_half_precision_input_is_computed_in_float32():
    x = torch.rand(1, 1, 7, 7)
    power = power_spectrum(x.half())
    assert power.dtype == torch.float32
    np.testing.assert_allclose(power.numpy(), numpy_power(x.half().float().numpy()), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [torch.zeros(1, 1, 4, 4, dtype=torch.uint8), torch.zeros(5)])
def test_bad_input_raises_one_line_config_error(bad):
    with pytest.raises(ConfigError) as error:
        power_spectrum(bad)
    assert "\n" not in str(error.value)


def test_unknown_window_names_the_valid_ones():
    with pytest.raises(ConfigError, match="hamming"):
        power_spectrum(torch.zeros(1, 1, 4, 4), window="hann")
