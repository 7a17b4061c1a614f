"""Each corruption against an analytic oracle or a reference implementation (PIL, scipy.ndimage, colorsys)."""

from __future__ import annotations

import colorsys
import io

import numpy as np
import pytest
import scipy.ndimage
import torch
from PIL import Image

from freqprobe.corruptions import PARAMETERS, SEVERITIES, corrupt
from freqprobe.corruptions.blur import defocus_blur, disk_kernel, gaussian_blur
from freqprobe.corruptions.common import clipped_zoom
from freqprobe.corruptions.digital import box_resize_matrix, brightness, saturate
from freqprobe.errors import ConfigError


@pytest.mark.parametrize("severity", SEVERITIES)
def test_gaussian_noise_has_the_stated_variance_before_clipping(severity, device, dtype):
    sigma = PARAMETERS["gaussian_noise"].at(severity)["sigma"]
    x = torch.full((64, 1, 28, 28), 0.5, dtype=dtype, device=device)  # 0.5 +- 12 sigma: nothing is clipped
    noise = corrupt(x, "gaussian_noise", severity, seed=3) - x
    assert noise.dtype == dtype and noise.device.type == device.type
    variance = float(noise.double().var())
    # the sample variance of 50176 normal draws has a relative standard deviation of sqrt(2 / n) = 0.6%
    assert variance == pytest.approx(sigma**2, rel=0.04)
    assert abs(float(noise.double().mean())) < 4 * sigma / noise.numel() ** 0.5


def test_shot_noise_is_poisson_with_the_stated_photon_count():
    photons = PARAMETERS["shot_noise"].at(5)["photons"]
    x = torch.full((32, 3, 32, 32), 0.3)
    y = corrupt(x, "shot_noise", 5, seed=1).double()
    assert float(y.mean()) == pytest.approx(0.3, rel=0.01)
    assert float(y.var()) == pytest.approx(0.3 / photons, rel=0.05)  # Poisson: variance = mean


def test_impulse_noise_replaces_the_stated_share_by_zeros_and_ones():
    amount = PARAMETERS["impulse_noise"].at(5)["amount"]
    x = torch.full((32, 3, 32, 32), 0.5)
    y = corrupt(x, "impulse_noise", 5, seed=2)
    changed = y != 0.5
    assert float(changed.double().mean()) == pytest.approx(amount, rel=0.05)
    assert set(y[changed].unique().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("severity", SEVERITIES)
def test_contrast_keeps_each_mean(real_images, severity):
    _, x = real_images
    y = corrupt(x, "contrast", severity)
    torch.testing.assert_close(y.mean(dim=(-2, -1)), x.mean(dim=(-2, -1)), atol=1e-6, rtol=0)
    factor = PARAMETERS["contrast"].at(severity)["factor"]
    deviation = (y - y.mean(dim=(-2, -1), keepdim=True)).std() / (x - x.mean(dim=(-2, -1), keepdim=True)).std()
    assert float(deviation) == pytest.approx(factor, rel=1e-5)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_jpeg_equals_pil_at_the_stated_quality(real_images, severity):
    _, x = real_images
    quality = PARAMETERS["jpeg_compression"].at(severity)["quality"]
    assert quality == (80, 65, 58, 50, 40)[severity - 1]
    y = corrupt(x, "jpeg_compression", severity)
    pixels = (x * 255).round().to(torch.uint8).numpy()
    for index in (0, 7, 23):
        image = pixels[index]
        picture = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=quality)
        expected = np.asarray(Image.open(io.BytesIO(buffer.getvalue()))).astype(np.float32) / 255
        expected = expected[None] if expected.ndim == 2 else expected.transpose(2, 0, 1)
        np.testing.assert_array_equal(y[index].numpy(), expected)


@pytest.mark.parametrize(("source", "target"), [(32, 30), (32, 20), (28, 18), (30, 32), (18, 28)])
def test_box_resize_matrix_equals_pil_box_on_float_images(source, target):
    rng = np.random.default_rng(0)
    image = rng.random((source, source)).astype(np.float32)
    expected = np.asarray(Image.fromarray(image, mode="F").resize((target, target), Image.BOX))
    matrix = box_resize_matrix(source, target).numpy()
    np.testing.assert_allclose(matrix @ image.astype(np.float64) @ matrix.T, expected, atol=1e-5)


def test_defocus_blur_equals_scipy_correlation_with_mirrored_borders(real_images):
    _, x = real_images
    y = defocus_blur(x.double(), 1.5, 0.1)
    kernel = disk_kernel(1.5, 0.1).numpy()
    expected = scipy.ndimage.correlate(x.double().numpy(), kernel[None, None], mode="mirror")
    np.testing.assert_allclose(y.numpy(), np.clip(expected, 0, 1), atol=1e-12)


def test_gaussian_blur_equals_scipy_with_reflected_borders(real_images):
    _, x = real_images
    y = gaussian_blur(x.double(), 0.7)
    expected = scipy.ndimage.gaussian_filter(x.double().numpy(), sigma=(0, 0, 0.7, 0.7), mode="reflect")
    np.testing.assert_allclose(y.numpy(), np.clip(expected, 0, 1), atol=1e-10)


@pytest.mark.parametrize("factor", [1.05, 1.13, 1.25])
def test_clipped_zoom_equals_scipy_zoom_of_the_centre(factor):
    image = np.random.default_rng(1).random((32, 32))
    side = int(np.ceil(32 / factor))
    top = (32 - side) // 2
    zoomed = scipy.ndimage.zoom(image[top : top + side, top : top + side], factor, order=1)
    trim = (zoomed.shape[0] - 32) // 2
    expected = zoomed[trim : trim + 32, trim : trim + 32]
    result = clipped_zoom(torch.from_numpy(image)[None, None], factor)[0, 0].numpy()
    np.testing.assert_allclose(result, expected, atol=1e-10)


def test_brightness_and_saturate_agree_with_colorsys():
    rng = np.random.default_rng(2)
    pixels = rng.random((50, 3))
    x = torch.from_numpy(pixels.T.reshape(1, 3, 50, 1).copy())
    bright = brightness(x, 0.2)[0, :, :, 0].T.numpy()
    saturated = saturate(x, 2.0, 0.1)[0, :, :, 0].T.numpy()
    for pixel, got_bright, got_saturated in zip(pixels, bright, saturated):
        h, s, v = colorsys.rgb_to_hsv(*pixel)
        np.testing.assert_allclose(got_bright, colorsys.hsv_to_rgb(h, s, min(v + 0.2, 1.0)), atol=1e-12)
        np.testing.assert_allclose(got_saturated, colorsys.hsv_to_rgb(h, min(s * 2.0 + 0.1, 1.0), v), atol=1e-12)


def test_brightness_on_grey_images_adds_the_shift():
    x = torch.linspace(0, 1, 49).reshape(1, 1, 7, 7)
    torch.testing.assert_close(corrupt(x, "brightness", 3), (x + 0.15).clamp(0, 1))


def test_unknown_names_and_severities_are_one_line_errors():
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(ConfigError, match="unknown corruption 'haze'; valid: gaussian_noise"):
        corrupt(x, "haze", 1)
    with pytest.raises(ConfigError, match="severity must be one of 1, 2, 3, 4, 5, got 6"):
        corrupt(x, "fog", 6)
    with pytest.raises(ConfigError, match="float images"):
        corrupt(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), "fog", 1)
