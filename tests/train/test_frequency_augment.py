"""Gaussian-noise and amplitude-phase-recombination augmentation: batched functions against per-image numpy loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freqprobe.data import to_float
from freqprobe.errors import ConfigError
from freqprobe.train import config_from_dict
from freqprobe.train.augment import augment_batch
from freqprobe.train.frequency_augment import (
    apr_pair,
    apr_single,
    frequency_augment_batch,
    gaussian_noise,
    sample_apr,
)
from freqprobe.train.frequency_augment_spec import canonical_noise_spec, parse_noise_spec


@pytest.fixture(scope="module")
def fashion_uint8(shared_data) -> torch.Tensor:
    """64 real Fashion-MNIST test images, uint8 (64, 1, 28, 28)."""
    from freqprobe.data import load_dataset

    return load_dataset("fashion-mnist", train=False, root=shared_data).images[:64]


@pytest.fixture(scope="module")
def colour_uint8(fashion_uint8) -> torch.Tensor:
    """12 three-channel images made of real ones (three Fashion-MNIST images per colour image), (12, 3, 28, 28)."""
    return fashion_uint8[:36].reshape(12, 3, 28, 28)


def reference_recombination(amplitude_from: np.ndarray, phase_from: np.ndarray) -> np.ndarray:
    """One image (C, H, W): numpy's FFT per channel, |F(a)| exp(i angle F(p))."""
    spectrum_a = np.fft.fft2(amplitude_from, axes=(-2, -1))
    spectrum_p = np.fft.fft2(phase_from, axes=(-2, -1))
    return np.fft.ifft2(np.abs(spectrum_a) * np.exp(1j * np.angle(spectrum_p)), axes=(-2, -1)).real


def test_apr_p_equals_a_per_image_loop(colour_uint8, device, dtype):
    images = to_float(colour_uint8).to(device=device, dtype=dtype)
    chosen, partner = sample_apr(len(images), 0.5, torch.Generator().manual_seed(1))
    assert 0 < int(chosen.sum()) < len(images) and sorted(partner.tolist()) == list(range(len(images)))
    mixed = apr_pair(images, chosen, partner)
    assert mixed.dtype == dtype and mixed.device.type == device.type
    x = images.double().cpu().numpy()
    for i in range(len(images)):
        expected = reference_recombination(x[partner[i]], x[i]) if chosen[i] else x[i]
        # float32: the phase of a coefficient near zero (black borders) is rounding noise, worth ~2e-3 per pixel
        np.testing.assert_allclose(mixed[i].double().cpu().numpy(), expected, atol=5e-3 if dtype == torch.float32
                                   else 1e-10)


def test_apr_s_equals_a_per_image_loop_with_the_second_view(fashion_uint8):
    images = to_float(fashion_uint8[:16]).double()
    generator = torch.Generator().manual_seed(4)
    view = augment_batch(images, generator, crop_padding=4, flip=True)
    chosen = torch.rand(16, generator=generator) < 0.5
    mixed = apr_single(images, view, chosen)
    for i in range(16):
        expected = reference_recombination(view[i].numpy(), images[i].numpy()) if chosen[i] else images[i].numpy()
        np.testing.assert_allclose(mixed[i].numpy(), expected, atol=1e-10)


def test_gaussian_noise_has_the_stated_deviation_and_is_seeded(fashion_uint8):
    images = to_float(fashion_uint8)
    noisy = gaussian_noise(images, 0.1, torch.Generator().manual_seed(0))
    noise = (noisy - images).double()
    assert noise.std().item() == pytest.approx(0.1, rel=0.01) and abs(noise.mean().item()) < 1e-3
    assert torch.equal(noisy, gaussian_noise(images, 0.1, torch.Generator().manual_seed(0)))
    assert not torch.equal(noisy, gaussian_noise(images, 0.1, torch.Generator().manual_seed(1)))


def test_the_batch_pipeline_is_apr_s_then_apr_p_then_noise_on_one_generator(fashion_uint8):
    raw = to_float(fashion_uint8[:12])
    crop = lambda batch, generator: augment_batch(batch, generator, crop_padding=2, flip=True)  # noqa: E731
    generator = torch.Generator().manual_seed(9)
    images = crop(raw, generator)
    out = frequency_augment_batch(images, raw, generator, noise="gaussian:0.05", apr="ps", apr_probability=0.7,
                                  second_view=lambda batch: crop(batch, generator))
    replay = torch.Generator().manual_seed(9)
    expected = crop(raw, replay)
    chosen, partner = sample_apr(12, 0.7, replay)
    expected = apr_pair(apr_single(expected, crop(raw, replay), chosen), chosen, partner)
    expected = gaussian_noise(expected, 0.05, replay)
    assert torch.equal(out, expected)
    untouched = frequency_augment_batch(images, raw, torch.Generator(), apr="p", apr_probability=0.0)
    assert torch.allclose(untouched, images)


def test_specs_are_canonical_and_bad_ones_are_one_line():
    assert parse_noise_spec("none") is None and canonical_noise_spec(" Gaussian : 0.10 ") == "gaussian:0.1"
    with pytest.raises(ConfigError, match="gaussian:SIGMA"):
        parse_noise_spec("uniform:0.1")
    with pytest.raises(ConfigError, match="SIGMA"):
        parse_noise_spec("gaussian:0")
    config = config_from_dict({"dataset": "fashion-mnist", "augment_noise": "gaussian:0.25", "apr": "s"})
    assert (config.augment_noise, config.apr, config.apr_probability) == ("gaussian:0.25", "s", 0.5)
    with pytest.raises(ConfigError, match="apr"):
        config_from_dict({"dataset": "fashion-mnist", "apr": "q"})
    with pytest.raises(ConfigError, match="apr_probability"):
        config_from_dict({"dataset": "fashion-mnist", "apr_probability": 1.5})
