"""Spectral centroid: analytic oracles (constant, sinusoids) and a plain numpy implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqprobe.spectra import spectral_centroid, spectral_centroid_of_power


def numpy_centroid(image_channels: np.ndarray) -> float:
    """Loop-free but independent reference: numpy FFT, numpy frequency grid, per channel then averaged."""
    channels, height, width = image_channels.shape
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    radius = np.hypot(fy, fx)
    values = []
    for channel in image_channels:
        power = np.abs(np.fft.fft2(channel)) ** 2
        values.append((radius * power).sum() / power.sum())
    return float(np.mean(values))


def sinusoid(height: int, width: int, ky: int, kx: int, offset: float, amplitude: float) -> torch.Tensor:
    y = torch.arange(height, dtype=torch.float64)[:, None]
    x = torch.arange(width, dtype=torch.float64)[None, :]
    return offset + amplitude * torch.cos(2 * math.pi * (ky * y / height + kx * x / width) + 0.3)


def test_constant_image_has_centroid_zero():
    assert spectral_centroid(torch.full((1, 3, 16, 16), 0.7)).item() == 0.0


def test_black_image_gets_centroid_zero_not_nan():
    assert spectral_centroid(torch.zeros(2, 1, 8, 8)).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("ky, kx", [(0, 3), (5, 0), (2, 7), (-4, 6), (0, 8)])
def test_zero_mean_sinusoid_has_centroid_equal_to_its_frequency(ky, kx):
    height = width = 16
    image = sinusoid(height, width, ky, kx, offset=0.0, amplitude=0.4)[None, None]
    expected = math.hypot(ky / height, kx / width)
    assert spectral_centroid(image).item() == pytest.approx(expected, abs=1e-9)


def test_sinusoid_with_mean_counts_dc_in_the_denominator():
    # Power at DC: (0.5)^2 HW; at +-f: 2 * (0.25 / 2)^2 HW... i.e. 0.125 HW in total, so the centroid is |f| / 3.
    image = sinusoid(20, 20, 3, 4, offset=0.5, amplitude=0.5)[None, None]
    assert spectral_centroid(image).item() == pytest.approx(math.hypot(3, 4) / 20 / 3, abs=1e-9)


def test_channels_are_averaged_after_the_per_channel_centroid():
    red = sinusoid(16, 16, 0, 2, 0.0, 1.0)
    green = sinusoid(16, 16, 0, 6, 0.0, 0.01)  # far weaker: a pooled spectrum would hide it, the average does not
    image = torch.stack([red, green])[None]
    assert spectral_centroid(image).item() == pytest.approx((2 / 16 + 6 / 16) / 2, abs=1e-9)


def test_matches_numpy_on_random_images_non_square():
    images = torch.rand(6, 3, 12, 18, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = [numpy_centroid(image.numpy()) for image in images]
    np.testing.assert_allclose(spectral_centroid(images).numpy(), expected, rtol=1e-10)


def test_centroid_of_power_works_on_any_leading_shape():
    power = torch.rand(2, 3, 4, 9, 9, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    centroids = spectral_centroid_of_power(power)
    assert centroids.shape == (2, 3, 4)
    radius = np.hypot(np.fft.fftfreq(9)[:, None], np.fft.fftfreq(9)[None, :])
    expected = (power.numpy() * radius).sum((-2, -1)) / power.numpy().sum((-2, -1))
    np.testing.assert_allclose(centroids.numpy(), expected, rtol=1e-12)


def windowed_numpy_centroid(image_channels: np.ndarray, window: np.ndarray) -> float:
    """Reference for the windowed centroid: mean removed per channel, windowed, then the un-windowed DC added back."""
    _, height, width = image_channels.shape
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    values = []
    for channel in image_channels:
        mean = channel.mean()
        power = np.abs(np.fft.fft2((channel - mean) * window)) ** 2 / (height * width * np.mean(window**2))
        power[0, 0] += height * width * mean**2
        values.append((radius * power).sum() / power.sum())
    return float(np.mean(values))


def test_windowed_centroid_uses_the_mean_removed_windowed_image():
    images = torch.rand(3, 2, 10, 10, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    window = np.outer(np.hamming(10), np.hamming(10))
    expected = [windowed_numpy_centroid(image.numpy(), window) for image in images]
    np.testing.assert_allclose(spectral_centroid(images, window="hamming").numpy(), expected, rtol=1e-10)


PERIODIC_COMPONENTS = [
    [(0, 3), (5, 2)],
    [(4, 4), (0, 9), (-7, 3)],
    [(2, 0), (6, 6), (0, 12)],
]


@pytest.mark.parametrize("offset", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("components", PERIODIC_COMPONENTS)
def test_window_does_not_change_the_centroid_of_images_without_border_jumps(components, offset):
    # Sums of sinusoids with whole cycles across a 32x32 image are periodic: nothing leaks at the borders, so a
    # window has nothing to suppress and must leave the centroid alone, whatever the offset (the mean). Tolerance 2%:
    # the Hamming window's main lobe spreads each peak over +-1 bin. Along the peak's own axis that smear is
    # symmetric and leaves the power-weighted mean |f| unchanged; across it, it raises |f| of a peak k bins from DC by
    # about 1/(2k) bin on ~1/4 of its power, below 1% for the components here (all >= 2 bins from DC and Nyquist
    # and >= 3 bins apart, so the smeared peaks do not overlap). Windowing the raw image instead (mean included)
    # moved these centroids up by 25% to 12x.
    size = 32
    image = sum(sinusoid(size, size, ky, kx, 0.0, 0.2) for ky, kx in components) + offset
    image = image[None, None]
    plain = spectral_centroid(image).item()
    assert spectral_centroid(image, window="hamming").item() == pytest.approx(plain, rel=0.02)
