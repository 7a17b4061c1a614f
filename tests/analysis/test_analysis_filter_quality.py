"""CNN-Filter-DB statistics on constructed layers with known answers, and the 1-D Wasserstein distance vs scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqprobe.analysis.filter_quality import (
    filter_quality,
    orthogonality,
    sparsity,
    variance_entropy,
    wasserstein_1d,
)
from freqprobe.errors import ConfigError


def layer_from_kernels(kernels: list[np.ndarray], out_channels: int) -> torch.Tensor:
    """(O, I, 3, 3) float64 weight whose flattened kernels (o * I + i) are ``kernels``."""
    stacked = np.stack([np.asarray(k, dtype=np.float64).reshape(3, 3) for k in kernels])
    return torch.as_tensor(stacked).reshape(out_channels, len(kernels) // out_channels, 3, 3)


def test_sparsity_counts_kernels_whose_taps_are_all_below_one_percent_of_the_layer_maximum():
    rng = np.random.default_rng(0)
    kernels = [rng.uniform(0.5, 1.0, 9) for _ in range(5)]
    kernels[0][4] = 10.0  # the layer maximum: threshold 0.1
    kernels += [np.zeros(9), np.zeros(9), np.zeros(9)]  # dead
    kernels.append(np.full(9, 0.099))  # every tap below 0.1: dead
    near_dead = np.full(9, 0.001)
    near_dead[3] = -0.1  # one tap reaches the threshold: alive
    kernels.append(near_dead)
    assert sparsity(layer_from_kernels(kernels, 2)) == pytest.approx(4 / 10)


def test_sparsity_of_a_layer_of_zeros_is_one():
    assert sparsity(torch.zeros(4, 2, 3, 3)) == 1.0


def test_variance_entropy_is_zero_for_one_pattern_up_to_scale():
    rng = np.random.default_rng(1)
    pattern = rng.standard_normal(9)
    kernels = [scale * pattern for scale in rng.uniform(-2, 2, 12)]
    entropy, normalized = variance_entropy(layer_from_kernels(kernels, 3))
    assert entropy == pytest.approx(0.0, abs=1e-9) and normalized == pytest.approx(0.0, abs=1e-9)


def test_variance_entropy_is_maximal_for_variance_spread_evenly_over_all_taps():
    basis = np.eye(9)
    kernels = [sign * basis[j] for j in range(9) for sign in (1.0, -1.0)]  # mean 0, covariance 2 I
    entropy, normalized = variance_entropy(layer_from_kernels(kernels, 2))
    assert entropy == pytest.approx(math.log10(9), abs=1e-12)
    assert normalized == pytest.approx(1.0, abs=1e-12)


def test_variance_entropy_of_two_equal_directions_is_log10_of_two():
    basis = np.eye(9)
    kernels = [sign * basis[j] for j in (0, 5) for sign in (1.0, -1.0)]
    entropy, normalized = variance_entropy(layer_from_kernels(kernels, 2))
    assert entropy == pytest.approx(math.log10(2), abs=1e-12)
    assert normalized == pytest.approx(math.log10(2) / math.log10(9), abs=1e-12)


def test_variance_entropy_matches_a_numpy_svd_of_the_centred_kernels():
    rng = np.random.default_rng(2)
    weight = rng.standard_normal((6, 5, 3, 3)) * rng.uniform(0.1, 3.0, 9).reshape(3, 3)
    rows = weight.reshape(-1, 9)
    singular = np.linalg.svd(rows - rows.mean(axis=0), compute_uv=False)
    shares = singular**2 / (singular**2).sum()
    expected = -(shares * np.log10(shares)).sum()
    entropy, normalized = variance_entropy(torch.as_tensor(weight))
    assert entropy == pytest.approx(expected, rel=1e-10)
    assert normalized == pytest.approx(expected / math.log10(9), rel=1e-10)


def test_variance_entropy_is_undefined_for_pointwise_kernels():
    entropy, normalized = variance_entropy(torch.ones(4, 4, 1, 1))
    assert math.isnan(entropy) and math.isnan(normalized)


def test_orthogonality_of_orthonormal_filters_is_one():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.standard_normal((18, 18)))
    weight = torch.as_tensor(q[:5] * rng.uniform(0.5, 2.0, (5, 1))).reshape(5, 2, 3, 3)  # scale must not matter
    assert orthogonality(weight) == pytest.approx(1.0, abs=1e-12)


def test_orthogonality_of_filters_equal_up_to_sign_is_zero():
    rng = np.random.default_rng(4)
    pattern = rng.standard_normal(18)
    weight = torch.as_tensor(np.stack([pattern, -2 * pattern, 0.5 * pattern])).reshape(3, 2, 3, 3)
    assert orthogonality(weight) == pytest.approx(0.0, abs=1e-12)


def test_orthogonality_of_two_filters_at_sixty_degrees_is_one_half():
    first = np.zeros(9)
    first[0] = 1.0
    second = np.zeros(9)
    second[0], second[1] = 0.5, math.sqrt(3) / 2  # cosine 0.5 with the first
    weight = torch.as_tensor(np.stack([first, second])).reshape(2, 1, 3, 3)
    assert orthogonality(weight) == pytest.approx(0.5, abs=1e-12)


def test_filter_quality_collects_all_statistics():
    weight = torch.randn(8, 4, 3, 3, generator=torch.Generator().manual_seed(5))
    quality = filter_quality(weight)
    assert set(quality) == {"sparsity", "variance_entropy", "variance_entropy_normalized", "orthogonality"}
    assert quality["sparsity"] == sparsity(weight)
    assert quality["orthogonality"] == pytest.approx(orthogonality(weight.double()), abs=1e-6)


def test_wasserstein_equals_scipy_for_samples_of_different_sizes():
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(6)
    a, b = rng.normal(0.3, 0.05, 400), rng.gamma(2.0, 0.1, 257)
    expected = wasserstein_distance(a, b)
    assert wasserstein_1d(torch.as_tensor(a), torch.as_tensor(b)) == pytest.approx(expected, rel=1e-10)


def test_wasserstein_of_a_shift_is_the_shift_and_nan_is_ignored():
    a = torch.tensor([0.1, 0.2, 0.4, float("nan")], dtype=torch.float64)
    assert wasserstein_1d(a, a + 0.05) == pytest.approx(0.05, abs=1e-12)
    assert wasserstein_1d(a, a) == 0.0
    with pytest.raises(ConfigError, match="no finite values"):
        wasserstein_1d(a, torch.tensor([float("nan")]))
