"""BlurPool and the option-A shortcut against analytic oracles and a scipy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from freqprobe.errors import ConfigError
from freqprobe.models import BlurPool2d, ZeroPadShortcut, binomial_kernel_2d


def checkerboard(n: int, c: int, h: int, w: int, phase: int = 0) -> torch.Tensor:
    """The Nyquist-frequency image (-1)^(i + j + phase), shape (n, c, h, w)."""
    i = torch.arange(h).view(h, 1)
    j = torch.arange(w).view(1, w)
    board = 1.0 - 2.0 * ((i + j + phase) % 2).float()
    return board.expand(n, c, h, w).clone()


def reference_blurpool(x: np.ndarray) -> np.ndarray:
    """scipy's 'mirror' boundary is torch's 'reflect' (edge pixel not repeated)."""
    taps = np.array([1.0, 2.0, 1.0])
    kernel = np.outer(taps, taps) / 16.0
    out = np.empty(x.shape[:2] + ((x.shape[2] + 1) // 2, (x.shape[3] + 1) // 2))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            out[n, c] = ndimage.convolve(x[n, c], kernel, mode="mirror")[::2, ::2]
    return out


def test_binomial_kernel_response_is_cos_squared():
    kernel = binomial_kernel_2d().double()
    assert kernel.sum().item() == pytest.approx(1.0)
    size = 32
    padded = torch.zeros(size, size, dtype=torch.float64)
    padded[:3, :3] = kernel
    padded = torch.roll(padded, shifts=(-1, -1), dims=(0, 1))  # centre the kernel on the origin: zero phase
    response = torch.fft.fft2(padded)
    f = torch.fft.fftfreq(size, dtype=torch.float64)
    expected = torch.cos(torch.pi * f).view(-1, 1) ** 2 * torch.cos(torch.pi * f).view(1, -1) ** 2
    torch.testing.assert_close(response.real, expected, atol=1e-12, rtol=0)
    assert response.imag.abs().max().item() < 1e-12
    assert response[size // 2, size // 2].abs().item() < 1e-12  # Nyquist in both axes


@pytest.mark.parametrize("size", [(8, 8), (7, 9), (2, 3)])
def test_blurpool_matches_scipy_reference(size):
    torch.manual_seed(0)
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    out = BlurPool2d(3).double()(x)
    np.testing.assert_allclose(out.numpy(), reference_blurpool(x.numpy()), atol=1e-12)


@pytest.mark.parametrize("size", [(8, 8), (7, 7), (6, 11)])
def test_blurpool_removes_nyquist_checkerboard_that_plain_subsampling_aliases_to_dc(size):
    board = checkerboard(2, 4, *size)
    plain = board[:, :, ::2, ::2]
    assert torch.equal(plain, torch.ones_like(plain))  # the whole Nyquist energy lands on DC
    blurred = BlurPool2d(4)(board)
    assert blurred.shape == plain.shape
    assert blurred.abs().max().item() < 1e-6


def test_blurpool_keeps_constants_including_borders_and_single_pixels():
    for size in [(5, 6), (1, 1), (1, 4)]:
        x = torch.full((1, 2, *size), 0.7)
        out = BlurPool2d(2)(x)
        assert out.shape[-2:] == ((size[0] + 1) // 2, (size[1] + 1) // 2)
        torch.testing.assert_close(out, torch.full_like(out, 0.7))


def test_blurpool_rejects_impossible_parameters():
    with pytest.raises(ConfigError, match="channels >= 1"):
        BlurPool2d(0)


def test_blurpool_has_no_parameters_and_no_state():
    pool = BlurPool2d(8)
    assert list(pool.parameters()) == []
    assert pool.state_dict() == {}


def test_option_a_shortcut_is_subsample_plus_zero_channels():
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).view(2, 3, 5, 5)
    shortcut = ZeroPadShortcut(3, 8, stride=2)
    assert list(shortcut.parameters()) == []
    out = shortcut(x)
    assert out.shape == (2, 8, 3, 3)
    expected = torch.zeros(2, 8, 3, 3)
    for i in range(3):
        for j in range(3):
            expected[:, :3, i, j] = x[:, :, 2 * i, 2 * j]
    assert torch.equal(out, expected)


def test_antialiased_option_a_shortcut_blurs_before_subsampling():
    torch.manual_seed(1)
    x = torch.randn(2, 3, 6, 7, dtype=torch.float64)
    out = ZeroPadShortcut(3, 5, stride=2, antialias=True).double()(x)
    np.testing.assert_allclose(out[:, :3].numpy(), reference_blurpool(x.numpy()), atol=1e-12)
    assert torch.equal(out[:, 3:], torch.zeros_like(out[:, 3:]))


def test_blurpool_keeps_reduced_precision_dtype_and_gradients():
    torch.manual_seed(2)
    x = torch.randn(2, 4, 8, 8)
    reference = BlurPool2d(4)(x)
    low = x.bfloat16().to(memory_format=torch.channels_last).requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = BlurPool2d(4)(low)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), reference, atol=0.05, rtol=0.02)
    weights = torch.randn_like(reference)
    (out.float() * weights).sum().backward()
    full = x.clone().requires_grad_()
    (BlurPool2d(4)(full) * weights).sum().backward()
    assert low.grad.dtype == torch.bfloat16
    torch.testing.assert_close(low.grad.float(), full.grad, atol=0.02, rtol=0.02)
