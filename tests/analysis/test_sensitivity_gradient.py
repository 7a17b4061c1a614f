"""Input-gradient spectrum: the linear-model oracle, filters in the gradient path, and the rank correlation."""

from __future__ import annotations

import pytest
import torch
from sensitivity_models import LinearScoreModel, SmallCNN

from freqprobe.analysis.sensitivity import gradient_spectrum, input_gradients, rank_correlation
from freqprobe.filters import build_filter


def _images(count, channels, size, seed=0):
    return torch.rand(count, channels, size, size, generator=torch.Generator().manual_seed(seed))


def test_gradient_spectrum_of_a_linear_model_is_the_power_spectrum_of_its_weights(device):
    weight = 0.05 * torch.randn(3, 10, 12, generator=torch.Generator().manual_seed(4))
    model = LinearScoreModel(weight)
    images = torch.rand(30, 3, 10, 12, generator=torch.Generator().manual_seed(5))
    labels = torch.randint(0, 2, (30,), generator=torch.Generator().manual_seed(6))
    result = gradient_spectrum(model, images, labels, batch_size=7, device=str(device))
    expected = torch.fft.fft2(weight.double()).abs().square().mean(dim=0)
    torch.testing.assert_close(result.normalized(), expected / expected.sum(), rtol=1e-5, atol=1e-12)
    # and the scale: every gradient is c_n w with c_n = dL/ds = +-2 p_other, so the power is mean(c^2) |W|^2 / (H W)
    with torch.no_grad():
        probabilities = torch.softmax(model(images).double(), dim=1)
    factors = 2 * probabilities.gather(1, (1 - labels).view(-1, 1)).flatten()
    scale = float(factors.square().mean())
    torch.testing.assert_close(result.power, scale * expected / (10 * 12), rtol=1e-4, atol=0)


def test_gradients_are_per_image_whatever_the_batch_size():
    model = SmallCNN(1, 8, 4, seed=1)
    images = _images(9, 1, 8)
    labels = torch.arange(9) % 4
    whole = input_gradients(model, images, labels, batch_size=9)
    pieces = input_gradients(model, images, labels, batch_size=2)
    torch.testing.assert_close(whole, pieces, rtol=1e-5, atol=1e-7)
    one = input_gradients(model, images[4:5], labels[4:5], batch_size=1)
    torch.testing.assert_close(whole[4:5], one, rtol=1e-5, atol=1e-7)


def test_gradient_through_a_band_filter_has_no_power_outside_the_band(device):
    model = SmallCNN(1, 16, 3, seed=0)
    images = _images(6, 1, 16)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    result = gradient_spectrum(model, images, labels, input_filter=build_filter("band:0.2:0.4"), device=str(device))
    radius = (torch.fft.fftfreq(16).view(16, 1) ** 2 + torch.fft.fftfreq(16).view(1, 16) ** 2).sqrt()
    inside = (radius >= 0.2) & (radius < 0.4)
    assert float(result.power[inside].sum()) > 0
    assert float(result.power[~inside].max()) < 1e-10 * float(result.power[inside].max())


def test_gradient_spectrum_leaves_the_callers_model_alone():
    model = SmallCNN(1, 8, 4, seed=1).train()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    gradient_spectrum(model, _images(4, 1, 8), torch.tensor([0, 1, 2, 3]))
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


def test_rank_correlation_matches_scipy_with_ties_and_ignores_nan():
    stats = pytest.importorskip("scipy.stats")
    generator = torch.Generator().manual_seed(0)
    a = torch.randint(0, 5, (8, 8), generator=generator).double()  # many ties
    b = a + torch.rand(8, 8, generator=generator, dtype=torch.float64) * 3
    a[0, 0] = float("nan")
    b[1, 1] = float("nan")
    keep = torch.isfinite(a) & torch.isfinite(b)
    expected = stats.spearmanr(a[keep].numpy(), b[keep].numpy()).statistic
    assert rank_correlation(a, b) == pytest.approx(expected, abs=1e-12)
    assert rank_correlation(a, a) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)


def test_rank_correlation_by_hand_with_ties():
    # ranks (1, 2.5, 2.5, 4) and (1, 2, 3, 4): Pearson of the average ranks = 4.5 / sqrt(4.5 * 5)
    first = torch.tensor([[1.0, 2.0], [2.0, 3.0]])
    second = torch.tensor([[10.0, 20.0], [30.0, 40.0]])
    assert rank_correlation(first, second) == pytest.approx(4.5 / (4.5 * 5.0) ** 0.5)


def test_rank_correlation_of_a_constant_map_is_nan():
    assert torch.isnan(torch.tensor(rank_correlation(torch.ones(4, 4), torch.rand(4, 4))))
