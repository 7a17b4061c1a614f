"""radial_profile against a numpy reference, and power_law_slope against exact and synthesised power laws."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqprobe.errors import ConfigError
from freqprobe.fourier import radial_frequency
from freqprobe.spectra import power_law_slope, power_spectrum, radial_profile


def numpy_radial_profile(power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Annuli [k - 1/2, k + 1/2) / min(H, W) up to the Nyquist radius 0.5, by explicit masks (ties go outward)."""
    height, width = power.shape
    size = min(height, width)
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    index = np.floor(radius * size + 0.5 + 1e-9)  # non-square grids have exact ties, e.g. |f| = 1.5 / size
    radii, profile = [], []
    for k in range(size // 2 + 1):
        mask = index == k
        if mask.any():
            radii.append(k / size)
            profile.append(power[mask].mean())
    return np.array(radii), np.array(profile)


@pytest.mark.parametrize("height, width", [(16, 16), (28, 28), (15, 15), (24, 32)])
def test_profile_matches_numpy_reference(height, width):
    power = torch.rand(height, width, generator=torch.Generator().manual_seed(height * width), dtype=torch.float64)
    radii, profile = radial_profile(power)
    expected_radii, expected_profile = numpy_radial_profile(power.numpy())
    np.testing.assert_allclose(radii.numpy(), expected_radii, rtol=0, atol=1e-12)
    np.testing.assert_allclose(profile.numpy(), expected_profile, rtol=1e-12)


def test_profile_bins_start_at_dc_alone_and_stop_at_nyquist():
    power = torch.ones(28, 28, dtype=torch.float64)
    power[0, 0] = 100.0
    radii, profile = radial_profile(power)
    assert radii[0].item() == 0.0 and radii[-1].item() == pytest.approx(0.5)
    assert len(radii) == 15
    assert profile[0].item() == 100.0  # DC is averaged with nothing else
    np.testing.assert_allclose(profile[1:].numpy(), 1.0, rtol=1e-12)


def test_profile_is_batched_over_leading_dimensions():
    power = torch.rand(3, 2, 16, 16, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    radii, profile = radial_profile(power)
    assert profile.shape == (3, 2, len(radii))
    np.testing.assert_allclose(profile[2, 1].numpy(), numpy_radial_profile(power[2, 1].numpy())[1], rtol=1e-12)


def test_sinusoid_power_lands_in_its_annulus():
    y = torch.arange(32, dtype=torch.float64)[:, None]
    x = torch.arange(32, dtype=torch.float64)[None, :]
    image = torch.cos(2 * math.pi * (3 * y + 4 * x) / 32)  # |f| = 5/32
    radii, profile = radial_profile(power_spectrum(image[None, None])[0, 0])
    assert radii[int(profile.argmax())].item() == pytest.approx(5 / 32)
    assert (profile > 1e-20).sum().item() == 1


def test_custom_bin_count_covers_zero_to_nyquist():
    radii, profile = radial_profile(torch.ones(32, 32, dtype=torch.float64), n_bins=9)
    np.testing.assert_allclose(radii.numpy(), np.linspace(0, 0.5, 9), atol=1e-12)
    np.testing.assert_allclose(profile.numpy(), 1.0, rtol=1e-12)


def test_too_few_bins_raise_config_error():
    with pytest.raises(ConfigError, match="n_bins"):
        radial_profile(torch.ones(8, 8), n_bins=1)


def test_slope_of_an_exact_power_law_is_its_exponent_and_ignores_dc():
    radii = torch.linspace(0, 0.5, 20, dtype=torch.float64)
    profile = 3.0 * radii.clamp_min(1e-3) ** -1.5
    profile[0] = 1e9  # DC must not pull the fit
    assert power_law_slope(radii, profile) == pytest.approx(-1.5, abs=1e-12)


def test_slope_ignores_corner_bins_beyond_nyquist():
    radii = torch.tensor([0.0, 0.1, 0.2, 0.4, 0.5, 0.6, 0.7], dtype=torch.float64)
    profile = radii.clamp_min(1e-6) ** -2.0
    profile[5:] = 1.0  # corners: not part of the fit
    assert power_law_slope(radii, profile) == pytest.approx(-2.0, abs=1e-12)


def test_synthesised_inverse_square_power_images_give_slope_minus_two():
    # White noise shaped by |f|^-1 in amplitude has power ~ |f|^-2: the classic natural-image statistic.
    generator = torch.Generator().manual_seed(11)
    noise = torch.randn(64, 1, 64, 64, generator=generator, dtype=torch.float64)
    radius = radial_frequency(64, 64, dtype=torch.float64)
    gain = torch.where(radius > 0, 1.0 / radius.clamp_min(1e-12), torch.zeros_like(radius))
    images = torch.fft.ifft2(torch.fft.fft2(noise) * gain).real
    radii, profile = radial_profile(power_spectrum(images).mean(dim=(0, 1)))
    measured = power_law_slope(radii, profile)
    # Averaging |f|^-2 over an annulus centred on r is slightly more than r^-2 (most at small r), so even the exact,
    # noise-free grid fits a little above -2 (-1.95 on 64 x 64); the random images must agree with it.
    exact_radii, exact_profile = radial_profile(radius.clamp_min(1e-12) ** -2.0)
    exact = power_law_slope(exact_radii, exact_profile)
    assert -2.0 < exact < -1.93
    assert measured == pytest.approx(exact, abs=0.02)
    assert measured == pytest.approx(-2.0, abs=0.07)


def test_white_noise_has_a_flat_profile():
    noise = torch.randn(64, 1, 32, 32, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    radii, profile = radial_profile(power_spectrum(noise).mean(dim=(0, 1)))
    assert power_law_slope(radii, profile) == pytest.approx(0.0, abs=0.1)


def test_slope_with_too_few_bins_is_nan():
    assert math.isnan(power_law_slope(torch.tensor([0.0, 0.25]), torch.tensor([1.0, 2.0])))
