"""Singular values of convolutional layers against |DFT| and the SVD of the explicit dense operator (numpy)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from freqprobe.analysis.singular import conv_singular_values, spectral_norm
from freqprobe.errors import ConfigError


def dense_circular_conv(
    weight: np.ndarray, height: int, width: int, stride: int = 1, dilation: int = 1, groups: int = 1, padding: int = 1
) -> np.ndarray:
    """The matrix A with vec(y) = A vec(x) for y[o, n] = sum_{i, u} w[o, i, u] x[i, (s n + d u - p) mod (H, W)],
    the cross-correlation nn.Conv2d computes on a circularly padded input, built entry by entry."""
    out_channels, in_per_group, kh, kw = weight.shape
    in_channels = in_per_group * groups
    out_h, out_w = height // stride, width // stride
    matrix = np.zeros((out_channels * out_h * out_w, in_channels * height * width))
    out_per_group = out_channels // groups
    for o in range(out_channels):
        group = o // out_per_group
        for i_local in range(in_per_group):
            i = group * in_per_group + i_local
            for ny in range(out_h):
                for nx in range(out_w):
                    row = (o * out_h + ny) * out_w + nx
                    for uy in range(kh):
                        for ux in range(kw):
                            y = (stride * ny + dilation * uy - padding) % height
                            x = (stride * nx + dilation * ux - padding) % width
                            matrix[row, (i * height + y) * width + x] += weight[o, i_local, uy, ux]
    return matrix


def dense_singular_values(matrix: np.ndarray) -> np.ndarray:
    return np.sort(np.linalg.svd(matrix, compute_uv=False))[::-1]


def test_dense_oracle_is_the_circular_conv_that_torch_computes():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((3, 2, 3, 3))
    x = rng.standard_normal((1, 2, 6, 6))
    for stride in (1, 2):
        padded = F.pad(torch.as_tensor(x), (1, 1, 1, 1), mode="circular")
        expected = F.conv2d(padded, torch.as_tensor(weight), stride=stride).numpy().flatten()
        np.testing.assert_allclose(dense_circular_conv(weight, 6, 6, stride) @ x.flatten(), expected, atol=1e-12)


def test_single_channel_singular_values_are_the_dft_magnitudes():
    rng = np.random.default_rng(1)
    taps = rng.standard_normal((3, 3))
    for height, width in [(8, 8), (6, 10), (5, 7)]:
        padded = np.zeros((height, width))
        padded[:3, :3] = taps
        expected = np.sort(np.abs(np.fft.fft2(padded)).flatten())[::-1]
        values = conv_singular_values(torch.as_tensor(taps)[None, None], (height, width)).numpy()
        np.testing.assert_allclose(values, expected, atol=1e-12)


@pytest.mark.parametrize(
    ("out_channels", "in_channels", "kernel", "size", "stride", "dilation", "groups"),
    [
        (3, 2, 3, 6, 1, 1, 1),
        (2, 3, 3, 6, 1, 1, 1),
        (3, 2, 3, 6, 2, 1, 1),
        (4, 2, 3, 8, 2, 1, 1),
        (2, 2, 3, 6, 1, 2, 1),
        (4, 4, 3, 6, 1, 1, 2),
        (3, 2, 1, 6, 2, 1, 1),
        (2, 2, 5, 4, 1, 1, 1),  # kernel wider than the input: taps wrap around
        (2, 3, 3, 9, 3, 1, 1),
        (4, 4, 3, 8, 2, 1, 2),  # strided and grouped: each group's blocks gather their own aliases
        (6, 6, 3, 8, 2, 2, 3),
        (3, 2, 4, 8, 4, 1, 1),  # patchify: kernel = stride
    ],
)
def test_multichannel_singular_values_equal_the_dense_matrix_svd(
    out_channels, in_channels, kernel, size, stride, dilation, groups
):
    rng = np.random.default_rng(2)
    weight = rng.standard_normal((out_channels, in_channels // groups, kernel, kernel))
    dense = dense_circular_conv(weight, size, size, stride, dilation, groups, padding=kernel // 2)
    expected = dense_singular_values(dense)
    values = conv_singular_values(torch.as_tensor(weight), size, stride, dilation, groups).numpy()
    assert values.shape == (min(dense.shape),)
    np.testing.assert_allclose(values, expected, atol=1e-10)


def test_values_do_not_depend_on_how_the_frequencies_are_chunked(monkeypatch):
    import freqprobe.analysis.singular as singular

    weight = torch.randn(6, 4, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    whole = conv_singular_values(weight, (10, 12), stride=2)
    monkeypatch.setattr(singular, "BLOCK_BYTES", 1)  # one frequency a chunk
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        chunked = conv_singular_values(weight, (10, 12), stride=2)
    finally:
        torch.set_num_threads(previous)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-12)


def test_spectral_norm_is_the_largest_singular_value_and_the_operator_norm():
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((4, 3, 3, 3))
    norm = spectral_norm(torch.as_tensor(weight), 8, stride=2)
    assert norm == pytest.approx(np.linalg.norm(dense_circular_conv(weight, 8, 8, 2), ord=2), rel=1e-12)


def test_float32_weights_are_decomposed_in_single_precision():
    rng = np.random.default_rng(4)
    weight = rng.standard_normal((8, 8, 3, 3))
    single = conv_singular_values(torch.as_tensor(weight, dtype=torch.float32), 8)
    double = conv_singular_values(torch.as_tensor(weight), 8)
    assert single.dtype == torch.float64  # values are returned as float64 whatever the input
    torch.testing.assert_close(single, double, rtol=0, atol=1e-4 * float(double[0]))


def test_input_not_divisible_by_the_stride_is_refused():
    with pytest.raises(ConfigError, match="not divisible by stride"):
        conv_singular_values(torch.zeros(1, 1, 3, 3), 7, stride=2)
    with pytest.raises(ConfigError, match="input size"):
        conv_singular_values(torch.zeros(1, 1, 3, 3), 0)


def test_groups_that_do_not_divide_the_output_channels_are_refused():
    with pytest.raises(ConfigError, match="groups=2"):
        conv_singular_values(torch.zeros(3, 1, 3, 3), 8, groups=2)
