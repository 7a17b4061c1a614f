"""Band-pass, whitening and log-magnitude: sinusoid oracles, a flat spectrum after whitening, numpy references."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from freqprobe.errors import ConfigError
from freqprobe.filters import amplitude_spectrum, band_mask, band_pass, build_filter, log_magnitude, whiten


def sinusoid(height: int, width: int, ky: int, kx: int, phase: float = 0.7) -> torch.Tensor:
    """cos(2 pi (ky y / H + kx x / W) + phase), float64 (1, 1, H, W), |f| = hypot(ky / H, kx / W) for |k| <= N/2."""
    y = torch.arange(height, dtype=torch.float64).reshape(height, 1)
    x = torch.arange(width, dtype=torch.float64).reshape(1, width)
    return torch.cos(2 * math.pi * (ky * y / height + kx * x / width) + phase)[None, None]


@pytest.mark.parametrize("height, width", [(32, 32), (27, 27), (28, 20)])
@pytest.mark.parametrize("ky, kx", [(0, 0), (0, 3), (2, 2), (5, 1), (-4, 6), (9, 3), (10, 10)])
def test_band_passes_sinusoids_inside_and_removes_those_outside(height, width, ky, kx):
    low, high = 0.1, 0.3
    wave = sinusoid(height, width, ky, kx)
    radius = math.hypot(ky / height, kx / width)
    inside = low <= radius < high
    expected = wave if inside else torch.zeros_like(wave)
    np.testing.assert_allclose(band_pass(wave, low, high), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(band_pass(wave.float(), low, high), expected.float(), rtol=0, atol=2e-6)


def test_band_edges_are_inclusive_low_exclusive_high(device):
    wave = sinusoid(28, 28, 0, 7).to(device)  # |f| = 7/28 = 0.25 exactly
    assert torch.allclose(band_pass(wave, 0.25, 0.3), wave, atol=1e-12)
    assert band_pass(wave, 0.1, 0.25).abs().max() < 1e-12


def test_band_edges_on_a_ring_of_the_grid_are_decided_exactly():
    # (3, 4)/28 lies on |f| = 5/28 like (0, 5)/28; a float square root puts it just below 5/28
    waves = torch.cat([sinusoid(28, 28, 3, 4), sinusoid(28, 28, 4, 3), sinusoid(28, 28, 0, 5)])
    for edge in (Fraction(5, 28), 5 / 28):
        torch.testing.assert_close(band_pass(waves, edge, 0.5), waves, atol=1e-12, rtol=0)
        assert band_pass(waves, 0.0, edge).abs().max() < 1e-12
    torch.testing.assert_close(build_filter(f"band:{5 / 28!r}:0.5")(waves), waves, atol=1e-12, rtol=0)
    assert build_filter(f"band:0:{5 / 28!r}")(waves).abs().max() < 1e-12


@pytest.mark.parametrize("onesided", [False, True])
def test_band_mask_matches_a_fraction_oracle_at_every_edge_k_over_28(onesided):
    edges = [Fraction(k, 28) for k in range(21)]
    units = [[Fraction(ky, 28) ** 2 + Fraction(kx, 28) ** 2 for kx in (range(15) if onesided else
             [*range(14), *range(-14, 0)])] for ky in [*range(14), *range(-14, 0)]]
    for low, high in zip(edges, edges[1:]):
        expected = [[low * low <= f2 < high * high for f2 in row] for row in units]
        assert band_mask(28, 28, float(low), float(high), onesided=onesided).tolist() == expected, (low, high)


def test_band_keeps_dc_only_when_low_is_zero_and_passes_the_nyquist_row(device):
    constant = torch.full((1, 1, 16, 16), 0.6, dtype=torch.float64, device=device)
    assert torch.allclose(band_pass(constant, 0.0, 0.05), constant, atol=1e-14)
    assert band_pass(constant, 1e-3, 0.5).abs().max() < 1e-14
    nyquist = sinusoid(16, 16, 0, 8, phase=0.0).to(device)  # (-1)^x, |f| = 0.5, only representable as a cosine
    assert torch.allclose(band_pass(nyquist, 0.45, 0.55), nyquist, atol=1e-12)
    assert band_pass(nyquist, 0.0, 0.5).abs().max() < 1e-12


def test_adjacent_bands_sum_to_the_image(cifar_uint8, device):
    images = cifar_uint8[:4].to(device).double() / 255
    edges = [0.0, 0.05, 0.125, 0.25, 0.5, 0.75]  # 0.75 > corner radius 0.707: the bands cover the whole grid
    total = sum(band_pass(images, low, high) for low, high in zip(edges, edges[1:]))
    assert torch.allclose(total, images, atol=1e-12)


def test_band_matches_a_numpy_full_fft_reference(fashion_uint8):
    images = fashion_uint8[:6].double().numpy() / 255
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(28), np.fft.fftfreq(28), indexing="ij"))
    mask = (radius >= 0.08) & (radius < 0.33)
    expected = np.fft.ifft2(np.fft.fft2(images) * mask).real
    np.testing.assert_allclose(band_pass(torch.from_numpy(images), 0.08, 0.33).numpy(), expected, atol=1e-12)
    assert band_mask(28, 28, 0.08, 0.33).numpy().tolist() == mask.tolist()


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-9), (torch.float32, 1e-4)])
def test_whitened_images_have_a_flat_mean_amplitude_spectrum(fashion_uint8, cifar_uint8, dtype, tolerance, device):
    for images_uint8 in (fashion_uint8, cifar_uint8):
        images = images_uint8.to(device=device, dtype=dtype) / 255
        mean_amplitude = amplitude_spectrum(images).mean(dim=0)
        whitened = whiten(images, mean_amplitude, eps=1e-12)
        flat = amplitude_spectrum(whitened).mean(dim=0)
        assert flat.shape == mean_amplitude.shape
        assert (flat - 1).abs().max() < tolerance


def test_whiten_matches_a_numpy_reference_and_keeps_phase(cifar_uint8):
    images = cifar_uint8[:6].double().numpy() / 255
    amplitude = np.abs(np.fft.fft2(images)).mean(axis=0)
    expected = np.fft.ifft2(np.fft.fft2(images) / (amplitude + 1e-8)).real
    ours = whiten(torch.from_numpy(images), torch.from_numpy(amplitude))
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-12)
    phase_in, phase_out = np.angle(np.fft.fft2(images)), np.angle(np.fft.fft2(ours.numpy()))
    assert np.abs(np.angle(np.exp(1j * (phase_out - phase_in)))).max() < 1e-9


def test_whiten_rejects_a_spectrum_of_another_shape():
    with pytest.raises(ConfigError, match=r"whiten: mean amplitude of shape \(1, 28, 28\) does not match"):
        whiten(torch.rand(2, 3, 32, 32), torch.ones(1, 28, 28))


def test_log_magnitude_matches_numpy_and_puts_dc_at_the_centre(cifar_uint8):
    images = cifar_uint8[:4].double().numpy() / 255
    expected = np.fft.fftshift(np.log(np.abs(np.fft.fft2(images)) + 1e-8), axes=(-2, -1))
    ours = log_magnitude(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
    dc = np.log(images.sum(axis=(-2, -1)) + 1e-8)
    np.testing.assert_allclose(ours[..., 16, 16], dc, rtol=1e-12)


def test_log_magnitude_of_a_sinusoid_peaks_at_its_frequency(device):
    wave = sinusoid(16, 16, 3, 5, phase=0.0).to(device)
    out = log_magnitude(wave)[0, 0].cpu()
    peaks = {tuple(index.tolist()) for index in (out > 0).nonzero()}
    assert peaks == {(8 + 3, 8 + 5), (8 - 3, 8 - 5)}  # +-f around the shifted DC at (8, 8)
    np.testing.assert_allclose(out[11, 13].item(), math.log(16 * 16 / 2 + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("spec", ["band:0.1:0.3", "logmag", "whiten"])
def test_fourier_filters_never_mix_channels(cifar_uint8, spec, device):
    images = cifar_uint8[:4].to(device).float() / 255
    layer = build_filter(spec).fit(cifar_uint8).to(device)
    changed = images.clone()
    changed[:, 1] = torch.rand_like(changed[:, 1])
    before, after = layer(images), layer(changed)
    assert torch.equal(before[:, [0, 2]], after[:, [0, 2]])
    assert not torch.allclose(before[:, 1], after[:, 1])


@pytest.mark.parametrize("low, high, match", [(0.3, 0.1, "below the high edge"), (-0.1, 0.2, r"in \[0, 0.707\) cycles/pixel"), (0.2, 0.2, "below")])
def test_impossible_bands_are_config_errors(low, high, match):
    with pytest.raises(ConfigError, match=match):
        band_pass(torch.rand(1, 1, 8, 8), low, high)
