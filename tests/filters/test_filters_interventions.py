"""Spectrum interventions: ``powerlaw:ALPHA``, ``phase`` and ``amplitude-swap`` against their defining properties."""

from __future__ import annotations

import pytest
import torch

from freqprobe.data import to_float
from freqprobe.errors import ConfigError
from freqprobe.filters import (
    amplitude_swap,
    apply_in_batches,
    build_filter,
    phase_only,
    powerlaw_spectrum,
    swap_partners,
)
from freqprobe.fourier import radial_frequency
from freqprobe.spectra import power_law_slope, power_spectrum, radial_profile


def measured_slopes(images: torch.Tensor) -> list[float]:
    return [power_law_slope(*radial_profile(power_spectrum(image[None]).mean(dim=(0, 1)))) for image in images]


@pytest.mark.parametrize("alpha", [-3.0, -2.0, -1.0, 0.0, 1.5])
def test_powerlaw_images_have_the_requested_slope_energy_mean_and_phase(fashion_uint8, cifar_uint8, alpha, dtype):
    for images in (to_float(fashion_uint8[:8]).to(dtype), to_float(cifar_uint8[:6]).to(dtype)):
        shaped = build_filter(f"powerlaw:{alpha:g}")(images)
        assert shaped.dtype == dtype and shaped.shape == images.shape
        # the power grid is c |f|^alpha exactly (c per image and channel) ...
        radius = radial_frequency(*images.shape[-2:], dtype=torch.float64)
        ideal = torch.where(radius > 0, radius.clamp_min(1e-12).pow(alpha), 0.0)
        power = power_spectrum(shaped.double())
        power[..., 0, 0] = 0.0
        ratio = power.sum(dim=(-2, -1), keepdim=True) / ideal.sum()
        assert torch.allclose(power, ratio * ideal, rtol=1e-3 if dtype == torch.float32 else 1e-9, atol=1e-9)
        # ... so power_law_slope measures alpha up to the bias of averaging |f|^alpha over discrete annuli, which is
        # the slope of the ideal grid itself (-2.88 for alpha = -3 on 28 x 28; at most 0.13 from alpha here)
        ideal_slope = power_law_slope(*radial_profile(ideal))
        assert ideal_slope == pytest.approx(alpha, abs=0.13)
        for slope in measured_slopes(shaped):
            assert slope == pytest.approx(ideal_slope, abs=1e-3 if dtype == torch.float32 else 1e-8)
        assert torch.allclose(shaped.square().sum(dim=(-2, -1)), images.square().sum(dim=(-2, -1)), rtol=1e-4)
        assert torch.allclose(shaped.mean(dim=(-2, -1)), images.mean(dim=(-2, -1)), atol=1e-6)
        before, after = torch.fft.fft2(images.double()), torch.fft.fft2(shaped.double())
        present = before.abs() > 1e-3 * before.abs().amax(dim=(-2, -1), keepdim=True)
        assert torch.allclose((after / before.abs() * after.abs().reciprocal() * before.abs()).angle()[present],
                              (before / before.abs()).angle()[present], atol=1e-3 if dtype == torch.float32 else 1e-9)


def test_powerlaw_of_a_constant_image_is_the_constant_and_bad_alpha_is_one_line():
    constant = torch.full((1, 2, 8, 8), 0.3, dtype=torch.float64)
    assert torch.allclose(powerlaw_spectrum(constant, -2.0), constant)
    with pytest.raises(ConfigError, match="ALPHA"):
        build_filter("powerlaw:9")
    with pytest.raises(ConfigError, match="powerlaw:ALPHA"):
        build_filter("powerlaw")


def test_phase_filter_keeps_each_phase_with_the_fitted_mean_amplitude(fashion_uint8, dtype):
    train, test = fashion_uint8[:48], to_float(fashion_uint8[48:]).to(dtype)
    phase = build_filter("phase").fit(train)
    expected_amplitude = torch.fft.fft2(to_float(train).double()).abs().mean(dim=0)  # numpy-free reference
    assert torch.allclose(phase.mean_amplitude.double(), expected_amplitude, rtol=1e-5)
    out = phase(test)
    spectrum_in, spectrum_out = torch.fft.fft2(test.double()), torch.fft.fft2(out.double())
    tolerance = 2e-3 if dtype == torch.float32 else 1e-8
    assert torch.allclose(spectrum_out.abs(), expected_amplitude.expand_as(spectrum_out), atol=tolerance * 784)
    present = spectrum_in.abs() > 1e-2
    strong = present & (expected_amplitude > 1.0).expand_as(present)
    phase_error = torch.angle(spectrum_out[strong] * spectrum_in[strong].conj())
    assert phase_error.abs().max() < (1e-3 if dtype == torch.float32 else 1e-9)


def test_phase_state_round_trips_like_whiten_and_unfitted_is_one_line(fashion_uint8):
    fitted = build_filter("phase").fit(fashion_uint8[:16])
    fresh = build_filter("phase")
    with pytest.raises(ConfigError, match="'phase' is not fitted"):
        fresh(torch.rand(1, 1, 28, 28))
    fresh.load_state_dict(fitted.state_dict())
    images = to_float(fashion_uint8[16:20])
    assert torch.equal(fresh(images), fitted(images)) and fresh.requires_fit


def test_amplitude_swap_swaps_amplitudes_exactly_and_keeps_phases(cifar_uint8, dtype):
    images = to_float(cifar_uint8[:6]).to(torch.float64)
    partner = swap_partners(6, seed=0)
    assert sorted(partner.tolist()) == list(range(6)) and not any(partner == torch.arange(6))
    swapped = build_filter("amplitude-swap")(images)
    assert torch.equal(swapped, amplitude_swap(images, partner))
    spectrum_in, spectrum_out = torch.fft.fft2(images), torch.fft.fft2(swapped)
    assert torch.allclose(spectrum_out.abs(), spectrum_in.abs()[partner], atol=1e-9)
    both = (spectrum_in.abs() > 1e-6) & (spectrum_out.abs() > 1e-6)
    assert torch.angle(spectrum_out[both] * spectrum_in[both].conj()).abs().max() < 1e-9
    # DC's amplitude moves too and its phase (0: images are >= 0) stays, so each image takes its partner's mean
    assert torch.allclose(swapped.mean(dim=(-2, -1)), images[partner].mean(dim=(-2, -1)), atol=1e-9)
    typed = amplitude_swap(images.to(dtype), partner)
    assert typed.dtype == dtype


def test_amplitude_swap_in_batches_is_deterministic_and_bad_partners_are_one_line(fashion_uint8):
    swap = build_filter("amplitude-swap")
    once = apply_in_batches(swap, fashion_uint8[:20], batch_size=8)
    again = apply_in_batches(swap, fashion_uint8[:20], batch_size=8)
    assert torch.equal(once, again)
    assert torch.equal(swap(to_float(fashion_uint8[:1])), to_float(fashion_uint8[:1]))  # a batch of one
    with pytest.raises(ConfigError, match="one partner index"):
        amplitude_swap(torch.rand(3, 1, 4, 4), torch.tensor([0, 1, 3]))


def test_phase_only_refuses_a_mismatched_amplitude():
    with pytest.raises(ConfigError, match="does not match images"):
        phase_only(torch.rand(2, 3, 8, 8), torch.ones(1, 8, 8))
