"""Fourier heat map: basis images, conjugate pairs, and the one-frequency oracle model."""

from __future__ import annotations

import math

import pytest
import torch
from sensitivity_models import OneFrequencyModel

from freqprobe.analysis.sensitivity import (
    InferenceSettings,
    canonical_frequencies,
    conjugate,
    fourier_basis,
    fourier_heat_map,
)
from freqprobe.errors import ConfigError
from freqprobe.filters import build_filter

FP32 = InferenceSettings(batch_size=16, precision="fp32", channels_last=False)


def fp32_on(device: torch.device) -> InferenceSettings:
    return InferenceSettings(batch_size=16, precision="fp32", channels_last=False, device=str(device))


@pytest.mark.parametrize("size, pairs", [((32, 32), 514), ((28, 28), 394), ((5, 5), 13), ((4, 6), 14)])
def test_canonical_frequencies_hold_one_member_of_each_conjugate_pair(size, pairs):
    height, width = size
    kept = canonical_frequencies(height, width)
    assert len(kept) == pairs
    covered = set(kept) | {conjugate(k, height, width) for k in kept}
    assert covered == {(ky, kx) for ky in range(height) for kx in range(width)}


def test_canonical_frequencies_within_radius():
    kept = canonical_frequencies(8, 8, max_radius=1 / 8)
    # |f| <= 1/8 on an 8x8 grid: DC and the 4 axis neighbours, i.e. DC + 2 pairs
    assert sorted(kept) == [(0, 0), (0, 1), (1, 0)]


@pytest.mark.parametrize("frequency", [(0, 0), (0, 3), (2, 5), (4, 4), (7, 1)])
def test_fourier_basis_has_unit_norm_and_only_its_frequency_pair(frequency):
    height = width = 8
    basis = fourier_basis(height, width, frequency, dtype=torch.float64)
    assert float(basis.norm()) == pytest.approx(1.0, abs=1e-12)
    spectrum = torch.fft.fft2(basis).abs()
    support = {frequency, conjugate(frequency, height, width)}
    for ky in range(height):
        for kx in range(width):
            if (ky, kx) in support:
                assert float(spectrum[ky, kx]) > 0.1
            else:
                assert float(spectrum[ky, kx]) < 1e-9


def _images_on_the_threshold(basis: torch.Tensor, theta: float, count: int, channels: int = 3) -> torch.Tensor:
    """Random images in [0.3, 0.7] whose channel 0 projects exactly to theta on ``basis``."""
    generator = torch.Generator().manual_seed(1)
    images = 0.3 + 0.4 * torch.rand(count, channels, *basis.shape, generator=generator, dtype=torch.float64)
    projection = (images[:, 0] * basis).sum(dim=(-2, -1))
    images[:, 0] += (theta - projection).view(-1, 1, 1) * basis
    return images.float()


def _oracle(height: int, width: int, frequency, eps: float):
    basis = fourier_basis(height, width, frequency, dtype=torch.float64)
    theta = float((0.5 * torch.ones(height, width, dtype=torch.float64) * basis).sum())
    images = _images_on_the_threshold(basis, theta, count=24)
    assert float(images.min()) > 0.1 and float(images.max()) < 0.9  # no clamping can interfere
    model = OneFrequencyModel(basis.float(), theta, half_width=eps / 2)
    return model, images, torch.ones(len(images), dtype=torch.long)


def test_heat_map_of_a_one_frequency_model_lights_up_exactly_there(device):
    height, width, frequency, eps = 8, 8, (2, 3), 1.0
    model, images, labels = _oracle(height, width, frequency, eps)
    result = fourier_heat_map(model, images, labels, eps=eps, settings=fp32_on(device))
    expected = torch.zeros(height, width, dtype=torch.float64)
    expected[frequency] = 1.0
    expected[conjugate(frequency, height, width)] = 1.0
    assert torch.equal(result.error, expected)
    assert result.clean_error == 0.0
    assert result.evaluated_pairs == (64 + 4) // 2


def test_heat_map_sees_the_input_filter_after_the_perturbation(device):
    # a band filter that removes the model's frequency: no perturbation can reach the model any more
    height, width, frequency, eps = 8, 8, (0, 2), 1.0
    model, images, labels = _oracle(height, width, frequency, eps)
    band = build_filter("band:0.3:0.8")  # |f| = 2/8 = 0.25 is outside
    result = fourier_heat_map(model, images, labels, input_filter=band, eps=eps, settings=fp32_on(device))
    # the filtered clean images project to 0 = theta (a non-DC basis has zero mean), so they stay correct
    assert result.clean_error == 0.0
    assert torch.equal(result.error, torch.zeros(height, width, dtype=torch.float64))


def test_partial_grid_matches_the_full_map_and_leaves_other_cells_empty():
    height, width, frequency, eps = 6, 6, (1, 1), 0.8
    model, images, labels = _oracle(height, width, frequency, eps)
    full = fourier_heat_map(model, images, labels, eps=eps, settings=FP32, seed=3)
    asked = [(1, 1), (5, 5), (0, 2), (-1, 2)]  # (5, 5) is the conjugate of (1, 1); (-1, 2) wraps to (5, 2)
    part = fourier_heat_map(model, images, labels, eps=eps, frequencies=asked, settings=FP32, seed=3)
    assert part.evaluated_pairs == 3
    evaluated = ~torch.isnan(part.error)
    cells = {(1, 1), (5, 5), (0, 2), (0, 4), (5, 2), (1, 4)}
    assert {tuple(index) for index in evaluated.nonzero().tolist()} == cells
    assert torch.equal(part.error[evaluated], full.error[evaluated])
    json_error = part.to_dict()["error"]
    assert json_error[3][3] is None and json_error[1][1] == 1.0


def test_heat_map_error_rate_counts_sign_dependent_flips():
    # threshold model: class 1 iff p > theta; a perturbation at its frequency flips exactly the images whose random
    # sign points across the threshold, so the error there is the share of such signs
    height, width, frequency, eps = 8, 8, (1, 2), 1.0
    basis = fourier_basis(height, width, frequency, dtype=torch.float64)
    theta = float((0.5 * torch.ones(height, width, dtype=torch.float64) * basis).sum())
    images = _images_on_the_threshold(basis, theta + 0.25, count=64)  # margin 0.25 < eps: every push down flips
    model = OneFrequencyModel(basis.float(), theta + 10.0, half_width=10.0)  # class 1 iff theta < p < theta + 20
    labels = torch.ones(len(images), dtype=torch.long)
    result = fourier_heat_map(model, images, labels, eps=eps, settings=FP32, seed=5)
    signs = torch.randint(0, 2, (len(images), 3, 1, 1), generator=torch.Generator().manual_seed(5)) * 2 - 1
    expected = float((signs[:, 0, 0, 0] < 0).double().mean())
    assert 0.2 < expected < 0.8
    assert float(result.error[frequency]) == pytest.approx(expected)
    others = result.error.clone()
    others[frequency] = 0.0
    others[conjugate(frequency, height, width)] = 0.0
    assert float(others.abs().max()) == 0.0


@pytest.mark.parametrize("eps", [0.0, -1.0, math.nan])
def test_bad_eps_is_a_config_error(eps):
    model, images, labels = _oracle(4, 4, (0, 1), 1.0)
    with pytest.raises(ConfigError, match="eps"):
        fourier_heat_map(model, images, labels, eps=eps, settings=FP32)


def test_frequency_outside_the_grid_is_a_config_error():
    model, images, labels = _oracle(4, 4, (0, 1), 1.0)
    with pytest.raises(ConfigError, match=r"outside the 4x4 grid"):
        fourier_heat_map(model, images, labels, frequencies=[(4, 0)], settings=FP32)


def test_uint8_images_are_a_config_error():
    model, images, labels = _oracle(4, 4, (0, 1), 1.0)
    with pytest.raises(ConfigError, match="to_float"):
        fourier_heat_map(model, (images * 255).to(torch.uint8), labels, settings=FP32)


def test_bf16_autocast_path_gives_the_same_map_on_the_oracle():
    height, width, frequency, eps = 8, 8, (3, 1), 1.0
    model, images, labels = _oracle(height, width, frequency, eps)
    result = fourier_heat_map(model, images, labels, eps=eps, settings=InferenceSettings(16, "bf16", "cpu", True))
    assert result.to_dict()["precision"] == "bf16"
    assert float(result.error[frequency]) == 1.0 and float(result.error.sum()) == 2.0
