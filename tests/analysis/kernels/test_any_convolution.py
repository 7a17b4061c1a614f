"""``filters`` on every kind of 2-D convolution, against numpy oracles: depthwise singular values are |DFT| per
channel, a dilated kernel responds as its zero-stuffed kernel, the aliasing share of a stride-s layer is the folded
energy of the explicit subsampled operator, grouped singular values are the union of the groups'."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from freqprobe.analysis.commands import _print_summary
from freqprobe.analysis.kernels import analyze_kernels, kernel_power_spectra, kernel_responses, kernel_statistics
from freqprobe.analysis.kernels.layer_summary import summarize_layer
from freqprobe.analysis.singular import conv_singular_values, grouped_singular_values
from freqprobe.models.pixel_space import PixelSpaceModel


def zero_stuffed(weight: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The kernel with d - 1 zeros between its taps, built directly."""
    out, inp, kh, kw = weight.shape
    stuffed = np.zeros((out, inp, dy * (kh - 1) + 1, dx * (kw - 1) + 1))
    for u in range(kh):
        for v in range(kw):
            stuffed[:, :, dy * u, dx * v] = weight[:, :, u, v]
    return stuffed


def dense_conv(kernel: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H W, H W) matrix of the single-channel circular cross-correlation with ``kernel`` (taps wrap modulo H, W)."""
    matrix = np.zeros((height * width, height * width))
    kh, kw = kernel.shape
    for y in range(height):
        for x in range(width):
            for u in range(kh):
                for v in range(kw):
                    matrix[y * width + x, ((y + u) % height) * width + (x + v) % width] += kernel[u, v]
    return matrix


def dense_layer(weight: np.ndarray, height: int, width: int) -> np.ndarray:
    """(O H W, I H W) block matrix of a groups=1 multi-channel circular convolution."""
    out, inp = weight.shape[:2]
    return np.block([[dense_conv(weight[o, i], height, width) for i in range(inp)] for o in range(out)])


def subsampling(height: int, width: int, sy: int, sx: int) -> np.ndarray:
    """(H/s_y W/s_x, H W) matrix keeping every s-th sample of each axis."""
    rows = [y * width + x for y in range(0, height, sy) for x in range(0, width, sx)]
    return np.eye(height * width)[rows]


def low_pass_projector(height: int, width: int, sy: int, sx: int) -> np.ndarray:
    """Real (H W, H W) projector onto the frequencies the subsampled grid keeps: |f_y| <= 0.5/s_y, |f_x| <= 0.5/s_x."""
    fy, fx = np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :]
    mask = (np.abs(fy) <= 0.5 / sy + 1e-12) & (np.abs(fx) <= 0.5 / sx + 1e-12)
    basis = np.eye(height * width).reshape(-1, height, width)
    projected = np.fft.ifft2(np.fft.fft2(basis) * mask).real
    return projected.reshape(height * width, height * width).T


def folded_share(operator: np.ndarray, channels: int, height: int, width: int, sy: int, sx: int) -> float:
    """Share of a white input's output energy that the stride folds: 1 - ||S P_low A||^2 / ||S A||^2 per channel."""
    keep = np.kron(np.eye(channels), subsampling(height, width, sy, sx))
    low = np.kron(np.eye(channels), low_pass_projector(height, width, sy, sx))
    total = np.linalg.norm(keep @ operator) ** 2
    return 1.0 - np.linalg.norm(keep @ low @ operator) ** 2 / total


def test_depthwise_singular_values_are_each_channels_dft_magnitudes():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((5, 1, 3, 3))
    for size in [(8, 8), (6, 10), (7, 5)]:
        rows = grouped_singular_values(torch.as_tensor(weight), size, groups=5).numpy()
        for channel in range(5):
            expected = np.sort(np.abs(np.fft.fft2(weight[channel, 0], s=size)).ravel())[::-1]
            np.testing.assert_allclose(rows[channel], expected, atol=1e-12)
        union = np.sort(rows.ravel())[::-1]
        np.testing.assert_allclose(conv_singular_values(torch.as_tensor(weight), size, groups=5).numpy(), union)


@pytest.mark.parametrize(("stride", "dilation"), [(1, 1), (2, 1), (1, 2), (3, 1)])
def test_grouped_singular_values_are_the_union_of_each_groups(stride, dilation):
    rng = np.random.default_rng(1)
    groups, weight = 3, torch.as_tensor(rng.standard_normal((6, 2, 3, 3)))
    rows = grouped_singular_values(weight, 12, stride, dilation, groups)
    for group in range(groups):
        alone = conv_singular_values(weight[2 * group : 2 * group + 2], 12, stride, dilation)
        torch.testing.assert_close(rows[group], alone, rtol=0, atol=1e-12)
    expected = torch.cat([rows[group] for group in range(groups)]).sort(descending=True).values
    torch.testing.assert_close(conv_singular_values(weight, 12, stride, dilation, groups), expected)


def test_grouped_pointwise_singular_values_equal_the_dense_svd():
    rng = np.random.default_rng(2)
    weight = rng.standard_normal((4, 3, 1, 1))  # groups 2: two (2, 3) matrices, stride 2 on 4x4
    dense = np.zeros((4 * 4, 6 * 16))
    keep = subsampling(4, 4, 2, 2)
    for o in range(4):
        group = o // 2
        for i in range(3):
            dense[o * 4 : (o + 1) * 4, (3 * group + i) * 16 : (3 * group + i + 1) * 16] = weight[o, i, 0, 0] * keep
    expected = np.sort(np.linalg.svd(dense, compute_uv=False))[::-1]
    values = conv_singular_values(torch.as_tensor(weight), 4, stride=2, groups=2).numpy()
    np.testing.assert_allclose(values, expected, atol=1e-12)


@pytest.mark.parametrize(("kernel", "dilation"), [((3, 3), (2, 2)), ((3, 5), (3, 2)), ((2, 2), (4, 1))])
def test_dilated_response_equals_the_zero_stuffed_kernels(kernel, dilation):
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((2, 3, *kernel))
    stuffed = zero_stuffed(weight, *dilation)
    expected = np.fft.fft2(stuffed, s=(24, 20))
    response = kernel_responses(torch.as_tensor(weight), (24, 20), dilation=dilation).numpy()
    np.testing.assert_allclose(response, expected, atol=1e-12)
    power = kernel_power_spectra(torch.as_tensor(weight), (24, 20), dilation=dilation).numpy()
    np.testing.assert_allclose(power, kernel_power_spectra(torch.as_tensor(stuffed), (24, 20)).numpy(), atol=1e-12)
    closed = kernel_statistics(torch.as_tensor(weight), 24, 0.2, stride=2, dilation=dilation)
    reference = kernel_statistics(torch.as_tensor(stuffed), 24, 0.2, stride=2)
    for name in ("spectral_centroid", "high_frequency_ratio", "orientation_coherence", "aliasing_share"):
        torch.testing.assert_close(getattr(closed, name), getattr(reference, name), rtol=0, atol=1e-12)
    values = conv_singular_values(torch.as_tensor(weight), 12, dilation=dilation)
    torch.testing.assert_close(values, conv_singular_values(torch.as_tensor(stuffed), 12), rtol=0, atol=1e-10)


@pytest.mark.parametrize(("kernel", "stride"), [(3, 2), (3, 3), (4, 4), (1, 2), (5, 3), (2, 6)])
def test_aliasing_share_equals_the_folded_energy_of_the_explicit_subsampled_operator(kernel, stride):
    rng = np.random.default_rng(4)
    taps = rng.standard_normal((kernel, kernel))
    share = kernel_statistics(torch.as_tensor(taps)[None, None], grid=12, stride=stride).aliasing_share.item()
    assert share == pytest.approx(folded_share(dense_conv(taps, 12, 12), 1, 12, 12, stride, stride), abs=1e-12)


def test_layer_aliasing_share_is_the_folded_energy_of_the_whole_multichannel_operator():
    rng = np.random.default_rng(5)
    conv = nn.Conv2d(2, 3, 3, stride=(2, 3), bias=False).double()
    weight = rng.standard_normal((3, 2, 3, 3)) * np.array([1.0, 0.1, 3.0])[:, None, None, None]  # unequal energies
    conv.weight.data = torch.as_tensor(weight)
    summary = summarize_layer("conv", conv, grid=12, input_size=None, singular_values=False)
    expected = folded_share(dense_layer(weight, 12, 12), 3, 12, 12, 2, 3)
    assert summary["aliasing_share"] == pytest.approx(expected, abs=1e-12)


def test_depthwise_layer_summary_reports_per_channel_norms_and_no_orthogonality():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 4, 7, padding=3, groups=4).double()
    summary = summarize_layer("dw", conv, grid=32, input_size=(14, 10))
    per_group = summary["per_group"]
    expected_norms = [np.abs(np.fft.fft2(conv.weight[c, 0].detach().numpy(), s=(14, 10))).max() for c in range(4)]
    np.testing.assert_allclose(per_group["spectral_norm"], expected_norms, rtol=1e-12)
    assert summary["spectral_norm"] == pytest.approx(max(expected_norms), rel=1e-12)
    stats = kernel_statistics(conv.weight.detach(), 32)
    np.testing.assert_allclose(per_group["spectral_centroid_mean"], stats.spectral_centroid.numpy(), rtol=1e-12)
    assert per_group["orthogonality"] == [None] * 4 and summary["orthogonality"] is None
    assert (summary["depthwise"], summary["groups"], summary["bias"], per_group["kernels_per_group"]) == (
        True, 4, True, 1)
    assert summary["singular_values"]["count"] == 4 * 14 * 10


def test_every_convolution_is_analysed_or_listed_with_its_reason(every_convolution, capsys):
    model = PixelSpaceModel(every_convolution, in_channels=3)
    result = analyze_kernels(model, grid=32, input_size=(48, 72))
    json.dumps(result, allow_nan=False)
    layers = {layer["name"]: layer for layer in result["layers"]}
    assert list(layers) == ["body.stem", "body.depthwise", "body.pointwise", "body.grouped", "body.dilated",
                            "body.large"]
    skipped = {entry["name"]: entry["reason"] for entry in result["skipped_layers"]}
    assert set(skipped) == {"body.too_wide", "body.unused_transposed", "body.unused_1d"}
    assert "--grid 41" in skipped["body.too_wide"] and "transposed" in skipped["body.unused_transposed"]
    assert "1-D" in skipped["body.unused_1d"]
    body = model.body
    sizes = {"body.stem": (48, 72), "body.depthwise": (12, 18), "body.pointwise": (12, 18), "body.grouped": (12, 18),
             "body.dilated": (4, 6), "body.large": (4, 6)}
    for name, size in sizes.items():
        module = body.get_submodule(name.removeprefix("body."))
        assert layers[name]["input_size"] == list(size)
        expected = conv_singular_values(module.weight.detach(), size, module.stride, module.dilation, module.groups)
        assert layers[name]["spectral_norm"] == pytest.approx(float(expected[0]), rel=1e-5)
    assert layers["body.stem"]["aliasing_share"] == pytest.approx(
        float(_layer_share(body.stem.weight, 32, 4)), rel=1e-5)
    assert layers["body.pointwise"]["spatially_flat"] and "spatially flat" in layers["body.pointwise"]["notes"][0]
    assert layers["body.grouped"]["per_group"]["groups"] == 4 and layers["body.grouped"]["stride"] == [3, 3]
    assert layers["body.dilated"]["dilation"] == [2, 2]
    assert result["totals"]["skipped_layers"] == 3 and result["totals"]["grouped_layers"] == 2
    _print_summary(result)
    printed = capsys.readouterr().out
    assert "skipped body.too_wide (Conv2d)" in printed and "depthwise" in printed and "spatially flat" in printed


def test_singular_values_of_a_layer_whose_input_the_stride_does_not_divide_are_null_with_the_reason():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 3, stride=2, padding=1))
    layers = analyze_kernels(model, input_size=7)["layers"]
    assert layers[0]["singular_values"] is not None and layers[1]["singular_values"] is None
    assert "not divisible by stride 2x2" in layers[1]["notes"][0]


def _layer_share(weight: torch.Tensor, grid: int, stride: int) -> torch.Tensor:
    stats = kernel_statistics(weight.detach().double(), grid, stride=stride)
    return (stats.aliasing_share * stats.squared_norm).sum() / stats.squared_norm.sum()
