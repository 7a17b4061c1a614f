"""Gaussian blur and high-pass against scipy.ndimage, an independent numpy periodic reference, and sinusoids."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from freqprobe.errors import ConfigError
from freqprobe.filters import gaussian_blur, gaussian_kernel1d, highpass

FLOAT32_TOLERANCE = 1e-4  # the bound; the observed error is ~1e-6
SIGMAS = [0.3, 1.0, 2.0, 3.5, 12.0, 20.0]  # 12 and 20 on 28x28: truncated kernel (radius 48, 80) longer than the image


def scipy_per_channel(images: np.ndarray, sigma: float, mode: str) -> np.ndarray:
    """The oracle: scipy's 2-D gaussian_filter on each (H, W) channel of (N, C, H, W) separately."""
    out = np.empty_like(images, dtype=np.float64)
    for n in range(images.shape[0]):
        for c in range(images.shape[1]):
            out[n, c] = ndimage.gaussian_filter(images[n, c].astype(np.float64), sigma, mode=mode)
    return out


def numpy_periodic_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Independent reference for true periodic filtering: scatter-add every tap into its index modulo the size."""
    radius = int(4.0 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    taps = np.exp(-0.5 * (offsets / sigma) ** 2)
    taps /= taps.sum()
    out = image.astype(np.float64)
    for axis in (0, 1):
        rolled = np.zeros_like(out)
        for offset, tap in zip(offsets, taps):
            rolled += tap * np.roll(out, -offset, axis=axis)
        out = rolled
    return out


def test_kernel_matches_scipy_taps():
    for sigma in SIGMAS:
        ours = gaussian_kernel1d(sigma).numpy()
        radius = int(4.0 * sigma + 0.5)
        impulse = np.zeros(2 * radius + 1)
        impulse[radius] = 1.0
        reference = ndimage.gaussian_filter1d(impulse, sigma, mode="constant")
        np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-15)


@pytest.mark.parametrize("shape", [(28, 28), (5, 9), (32, 32)])
@pytest.mark.parametrize("sigma", SIGMAS)
def test_circular_equals_scipy_wrap_on_random_images(shape, sigma):
    images = np.random.default_rng(1).random((2, 2, *shape))
    ours = gaussian_blur(torch.from_numpy(images).float(), sigma).double().numpy()
    for mode in ("wrap", "grid-wrap"):
        assert np.abs(ours - scipy_per_channel(images, sigma, mode)).max() <= FLOAT32_TOLERANCE


@pytest.mark.parametrize("sigma", [0.7, 2.0, 12.0, 20.0])
def test_circular_is_true_periodic_filtering_in_float64(sigma):
    """Kernels longer than the image: the wrapped taps must be summed; checked against a scipy-free reference."""
    image = np.random.default_rng(2).random((28, 28))
    ours = gaussian_blur(torch.from_numpy(image)[None, None], sigma)[0, 0].numpy()
    np.testing.assert_allclose(ours, numpy_periodic_blur(image, sigma), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours, ndimage.gaussian_filter(image, sigma, mode="wrap"), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(28, 28), (5, 9), (1, 7)])
@pytest.mark.parametrize("sigma", SIGMAS)
def test_reflect_equals_scipy_reflect_on_random_images(shape, sigma):
    images = np.random.default_rng(3).random((2, 2, *shape))
    ours = gaussian_blur(torch.from_numpy(images).float(), sigma, "reflect").double().numpy()
    assert np.abs(ours - scipy_per_channel(images, sigma, "reflect")).max() <= FLOAT32_TOLERANCE
    ours64 = gaussian_blur(torch.from_numpy(images), sigma, "reflect").numpy()
    np.testing.assert_allclose(ours64, scipy_per_channel(images, sigma, "reflect"), rtol=0, atol=1e-12)


@pytest.mark.parametrize("boundary, mode", [("circular", "wrap"), ("reflect", "reflect")])
@pytest.mark.parametrize("sigma", [1.0, 2.0, 12.0, 20.0])
def test_scipy_oracle_on_real_fashion_mnist(fashion_uint8, boundary, mode, sigma):
    images = fashion_uint8[:8].float() / 255
    ours = gaussian_blur(images, sigma, boundary).double().numpy()
    assert np.abs(ours - scipy_per_channel(images.double().numpy(), sigma, mode)).max() <= FLOAT32_TOLERANCE
    ours_high = highpass(images, sigma, boundary).double().numpy()
    expected_high = images.double().numpy() - scipy_per_channel(images.double().numpy(), sigma, mode)
    assert np.abs(ours_high - expected_high).max() <= FLOAT32_TOLERANCE


@pytest.mark.parametrize("boundary, mode", [("circular", "wrap"), ("reflect", "reflect")])
@pytest.mark.parametrize("sigma", [0.5, 2.0, 12.0])
def test_scipy_oracle_per_channel_on_real_cifar_rgb(cifar_uint8, boundary, mode, sigma):
    images = cifar_uint8[:4].float() / 255
    ours = gaussian_blur(images, sigma, boundary).double().numpy()
    assert np.abs(ours - scipy_per_channel(images.double().numpy(), sigma, mode)).max() <= FLOAT32_TOLERANCE


def test_channels_never_mix(cifar_uint8, device):
    images = cifar_uint8[:3].to(device).float() / 255
    changed = images.clone()
    changed[:, 1] = torch.rand_like(changed[:, 1])
    for boundary in ("circular", "reflect"):
        for filter_fn in (gaussian_blur, highpass):
            before, after = filter_fn(images, 2.0, boundary), filter_fn(changed, 2.0, boundary)
            assert torch.equal(before[:, [0, 2]], after[:, [0, 2]])
            assert not torch.allclose(before[:, 1], after[:, 1])


def sinusoid(height: int, width: int, ky: int, kx: int, phase: float = 0.3) -> torch.Tensor:
    """cos(2 pi (ky y / H + kx x / W) + phase), float64 (1, 1, H, W): exactly on the DFT grid."""
    y = torch.arange(height, dtype=torch.float64).reshape(height, 1)
    x = torch.arange(width, dtype=torch.float64).reshape(1, width)
    return torch.cos(2 * math.pi * (ky * y / height + kx * x / width) + phase)[None, None]


def sampled_gaussian_transfer(frequency: float, sigma: float) -> float:
    """DFT of the untruncated sampled Gaussian at ``frequency`` (Poisson summation): exp(-2 pi^2 sigma^2 f^2)
    plus its aliases at f +- 1, f +- 2, divided by the same sum at f = 0 (the kernel is normalized to sum 1)."""

    def periodized(f: float) -> float:
        return sum(math.exp(-2 * math.pi**2 * sigma**2 * (f - m) ** 2) for m in range(-3, 4))

    return periodized(frequency) / periodized(0.0)


@pytest.mark.parametrize("ky, kx", [(0, 5), (3, 4), (12, 0), (7, 9)])
def test_sinusoid_is_scaled_by_the_analytic_gaussian_transfer(ky, kx, device):
    sigma, size = 1.5, 32
    wave = sinusoid(size, size, ky, kx).to(device)
    continuous = math.exp(-2 * math.pi**2 * sigma**2 * ((ky / size) ** 2 + (kx / size) ** 2))
    sampled = sampled_gaussian_transfer(ky / size, sigma) * sampled_gaussian_transfer(kx / size, sigma)
    assert abs(sampled - continuous) < 1e-7  # aliasing of a sigma = 1.5 Gaussian is ~3e-8 at f = 0.375
    # truncate=8 makes the kernel's discarded mass ~1e-15: the sampled transfer then holds to rounding
    blurred, sharpened = gaussian_blur(wave, sigma, truncate=8.0), highpass(wave, sigma, truncate=8.0)
    assert blurred.device == sharpened.device == wave.device
    wave = wave.cpu()
    np.testing.assert_allclose(blurred.cpu(), sampled * wave, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sharpened.cpu(), (1 - sampled) * wave, rtol=0, atol=1e-12)
    # scipy's default truncate=4 drops ~6e-5 of the kernel's mass
    np.testing.assert_allclose(gaussian_blur(wave.to(device), sigma).cpu(), continuous * wave, rtol=0, atol=2e-4)


def test_high_frequency_sinusoid_vanishes_low_frequency_passes():
    sigma, size = 2.0, 28
    high = sinusoid(size, size, 10, 9)  # |f| ~ 0.48: factor exp(-2 pi^2 4 0.23) ~ 1e-8
    low = sinusoid(size, size, 0, 1)  # |f| ~ 0.036: factor ~ 0.90
    assert gaussian_blur(high, sigma).abs().max() < 1e-6
    assert torch.allclose(highpass(high, sigma), high, atol=1e-6)
    low_factor = math.exp(-2 * math.pi**2 * sigma**2 / size**2)
    assert torch.allclose(gaussian_blur(low, sigma), low_factor * low, atol=2e-4)


@pytest.mark.parametrize("boundary", ["circular", "reflect"])
def test_blur_plus_highpass_reconstructs_the_image(fashion_uint8, boundary, dtype, device):
    images = fashion_uint8[:16].to(device=device, dtype=dtype) / 255
    total = gaussian_blur(images, 3.0, boundary) + highpass(images, 3.0, boundary)
    # (x - b) + b: two roundings of values <= 1, so at most one unit of the dtype's epsilon
    assert (total - images).abs().max() <= torch.finfo(dtype).eps


@pytest.mark.parametrize("boundary", ["circular", "reflect"])
def test_constant_image_is_unchanged_and_highpass_is_zero(boundary, dtype, device):
    constant = torch.full((1, 3, 9, 12), 0.4, dtype=dtype, device=device)
    tolerance = 64 * torch.finfo(dtype).eps  # the FFT round trip of a constant rounds a few times (1.4e-14 in float64)
    blurred = gaussian_blur(constant, 5.0, boundary)
    assert blurred.dtype == dtype and blurred.device == device
    assert (blurred - constant).abs().max() < tolerance
    assert highpass(constant, 5.0, boundary).abs().max() < tolerance


def test_circular_blur_keeps_each_channels_mean_and_highpass_has_zero_mean(cifar_uint8, device):
    images = cifar_uint8[:4].to(device).double() / 255
    means = images.mean(dim=(-2, -1))
    assert torch.allclose(gaussian_blur(images, 2.5).mean(dim=(-2, -1)), means, atol=1e-12)
    assert highpass(images, 2.5).mean(dim=(-2, -1)).abs().max() < 1e-12


def test_batch_results_equal_single_image_results(fashion_uint8):
    images = fashion_uint8[:5].float() / 255
    batched = gaussian_blur(images, 1.3, "reflect")
    singles = torch.cat([gaussian_blur(images[i : i + 1], 1.3, "reflect") for i in range(5)])
    assert torch.allclose(batched, singles, atol=1e-6)


@pytest.mark.parametrize("sigma", [0, -1.0, math.nan, math.inf, "2"])
def test_impossible_sigma_is_a_config_error(sigma):
    with pytest.raises(ConfigError, match="sigma"):
        gaussian_blur(torch.rand(1, 1, 8, 8), sigma)


@pytest.mark.parametrize("filter_function", [gaussian_blur, highpass])
@pytest.mark.parametrize("sigma", [1e308, 1e10, 4096.5])
def test_overflowing_sigma_is_refused_before_any_kernel_is_built(filter_function, sigma):
    with pytest.raises(ConfigError, match=r"sigma .* is out of range; use a value in \(0, 4096\] pixels"):
        filter_function(torch.rand(1, 1, 8, 8), sigma)


@pytest.mark.parametrize("boundary", ["circular", "reflect"])
def test_sigma_beyond_four_image_sides_is_refused_with_the_range_for_that_image(boundary):
    with pytest.raises(ConfigError, match=r"sigma 200 is beyond 4 x the 32x20-pixel .* use sigma in \(0, 128\]"):
        gaussian_blur(torch.rand(1, 1, 32, 20), 200.0, boundary)


@pytest.mark.parametrize("boundary", ["circular", "reflect"])
def test_sigma_at_the_image_bound_blurs_to_the_channel_mean(cifar_uint8, boundary):
    images = cifar_uint8[:4].double() / 255
    blurred = gaussian_blur(images, 4 * 32.0, boundary)
    expected = images.mean(dim=(-2, -1), keepdim=True).expand_as(images)
    # what is left is the ~1e-6 ripple of the truncated kernel's end taps, not image structure
    torch.testing.assert_close(blurred, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(highpass(images, 4 * 32.0, boundary), images - expected, rtol=0, atol=1e-5)


def test_unknown_boundary_and_integer_input_are_config_errors():
    with pytest.raises(ConfigError, match="unknown boundary 'mirror'; valid: circular, reflect"):
        gaussian_blur(torch.rand(1, 1, 8, 8), 1.0, "mirror")
    with pytest.raises(ConfigError, match="to_float"):
        highpass(torch.zeros(1, 1, 8, 8, dtype=torch.uint8), 1.0)


def test_blur_first_used_under_inference_mode_still_gives_gradients_later(device):
    # The transfer function is cached; a sensitivity run blurs under inference_mode (heat map) and then attacks
    # through the same blur with gradients (PGD), which failed when the cache held an inference tensor.
    from freqprobe.filters.gaussian import gaussian_rfft_kernel

    gaussian_rfft_kernel.cache_clear()
    x = torch.rand(2, 1, 12, 10, dtype=torch.float64, device=device)
    with torch.inference_mode():
        gaussian_blur(x, 1.5)
    pixels = x.clone().requires_grad_(True)
    gaussian_blur(pixels, 1.5).sum().backward()
    # a circular blur preserves the sum, so d(sum)/dx is 1 everywhere
    torch.testing.assert_close(pixels.grad, torch.ones_like(x))
