"""Band ablation: complementary ideal masks, and accuracy oracles at the ends of the radius range."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch
from torch import nn
from sensitivity_models import MeanBrightnessModel, SmallCNN, train_small_cnn

from freqprobe.analysis.sensitivity import InferenceSettings, band_ablation, default_radii, high_pass, low_pass
from freqprobe.errors import ConfigError
from freqprobe.filters import band_pass, build_filter

FP32 = InferenceSettings(batch_size=64, precision="fp32", channels_last=False)


def _random_images(count=12, channels=1, size=16, seed=0) -> torch.Tensor:
    return torch.rand(count, channels, size, size, generator=torch.Generator().manual_seed(seed))


def test_low_and_high_pass_are_complementary():
    x = _random_images(4, 3, 12)
    for radius in (0.0, 0.1, 0.25, 0.5, 0.7):
        torch.testing.assert_close(low_pass(x, radius) + high_pass(x, radius), x, atol=1e-6, rtol=0)


def test_low_pass_matches_the_filters_band_pass_and_keeps_everything_beyond_the_corner():
    x = _random_images(3, 2, 10)
    torch.testing.assert_close(low_pass(x, 0.3), band_pass(x, 0.0, 0.3), atol=1e-6, rtol=0)
    torch.testing.assert_close(low_pass(x, 0.71), x, atol=1e-6, rtol=0)
    assert float(low_pass(x, 0.0).abs().max()) == 0.0


def test_low_pass_keeps_exactly_the_frequencies_below_the_radius():
    x = _random_images(2, 1, 8)
    kept = torch.fft.fft2(low_pass(x, 0.25)).abs() > 1e-6
    fy = torch.fft.fftfreq(8).view(8, 1)
    fx = torch.fft.fftfreq(8).view(1, 8)
    below = (fy**2 + fx**2).sqrt() < 0.25  # |f| = 2/8 exactly is on the edge: removed
    assert torch.equal(kept, below.expand_as(kept))


def test_default_radii_span_dc_to_beyond_the_corner():
    radii = default_radii(32, 32)
    assert radii[0] == 0.0 and radii[1] == pytest.approx(1 / 32)
    assert radii[-2] <= 0.7072 < radii[-1]


def test_default_radii_are_exact_multiples_of_one_over_the_side():
    assert default_radii(28, 28) == [Fraction(k, 28) for k in range(21)]  # 20/28 ~ 0.714 is past the corner
    assert default_radii(32, 20) == [Fraction(k, 20) for k in range(16)]  # 15/20 = 0.75; 14/20 = 0.7 is not


def _waves(size: int, frequencies: list[tuple[int, int]]) -> torch.Tensor:
    """cos(2 pi (ky y + kx x) / size) for each (ky, kx), float64 (K, 1, size, size)."""
    y = torch.arange(size, dtype=torch.float64).view(size, 1)
    x = torch.arange(size, dtype=torch.float64).view(1, size)
    return torch.stack([torch.cos(2 * math.pi * (ky * y + kx * x) / size) for ky, kx in frequencies]).unsqueeze(1)


def _below(ky: int, kx: int, size: int, radius: Fraction) -> bool:
    """The oracle in Fractions: |f| < radius for the frequency (ky, kx) / size."""
    return Fraction(ky, size) ** 2 + Fraction(kx, size) ** 2 < radius * radius


def test_a_frequency_on_a_default_radius_of_a_28_grid_is_high_passed():
    # every ring k/28 on an axis, and the Pythagorean ties (3, 4) on 5/28 and (6, 8) on 10/28
    frequencies = [(0, k) for k in range(15)] + [(3, 4), (4, 3), (6, 8)]
    waves = _waves(28, frequencies)
    for radius in default_radii(28, 28):
        below = torch.tensor([_below(ky, kx, 28, radius) for ky, kx in frequencies], dtype=torch.float64)
        expected_low = waves * below.view(-1, 1, 1, 1)
        torch.testing.assert_close(low_pass(waves, radius), expected_low, atol=1e-12, rtol=0, msg=str(radius))
        torch.testing.assert_close(high_pass(waves, radius), waves - expected_low, atol=1e-12, rtol=0)
    # the radius on the (3, 4) ring removes it from the low-pass and keeps it in the high-pass, as a float too
    for radius in (Fraction(5, 28), 5 / 28, "5/28"):
        assert float(low_pass(waves[15:16], radius).abs().max()) < 1e-12
        torch.testing.assert_close(high_pass(waves[15:16], radius), waves[15:16], atol=1e-12, rtol=0)


class FrequencyDetector(nn.Module):
    """Class 1 when the (3, 4) frequency of a 28 x 28 image has amplitude above 0.05, else class 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        amplitude = torch.fft.rfft2(x.float())[..., 3, 4].abs().mean(dim=1) / (28 * 28)
        return torch.stack([0.05 - amplitude, amplitude - 0.05], dim=1)


def test_band_ablation_puts_the_3_4_ring_above_every_radius_up_to_5_28():
    waves = 0.5 + 0.3 * _waves(28, [(3, 4)]).float()  # amplitude 0.15 at (3, 4)
    images = torch.cat([waves.expand(4, 1, 28, 28), torch.full((4, 1, 28, 28), 0.5)])
    labels = torch.tensor([1] * 4 + [0] * 4)
    result = band_ablation(FrequencyDetector(), images, labels, settings=FP32)
    radii = default_radii(28, 28)
    # the wave survives the low-pass only when |f| = 5/28 < r, and the high-pass only when 5/28 >= r;
    # without it, class-1 images read as class 0 and half the images are right
    in_low = [_below(3, 4, 28, radius) for radius in radii]
    assert result.clean_accuracy == 1.0
    assert result.low_pass_accuracy == [1.0 if below else 0.5 for below in in_low]
    assert result.high_pass_accuracy == [0.5 if below else 1.0 for below in in_low]
    assert result.low_pass_accuracy[5:7] == [0.5, 1.0]  # r = 5/28 removes the ring; 6/28 keeps it
    written = result.to_dict()
    assert written["radii_exact"][5] == "5/28" and written["radii_exact"][7] == "1/4"
    assert written["radii"] == [k / 28 for k in range(21)]  # the floats nearest to the exact radii


def test_identity_filter_model_is_unchanged_by_a_low_pass_beyond_the_corner():
    model = SmallCNN(1, 16, 10, seed=2)
    images = _random_images(40, 1, 16, seed=3)
    labels = model(images).argmax(dim=1)  # the clean accuracy is 1 by construction
    result = band_ablation(model, images, labels, build_filter("none"), radii=[0.0, 0.72, 1.0], settings=FP32)
    assert result.clean_accuracy == 1.0
    assert result.low_pass_accuracy[1:] == [1.0, 1.0]
    assert result.high_pass_accuracy[0] == 1.0  # a high-pass at 0 keeps everything too


def test_a_dc_only_model_needs_only_the_dc_component():
    images = torch.cat([torch.full((5, 1, 8, 8), 0.3), torch.full((5, 1, 8, 8), 0.7)]) + 0.1 * (
        _random_images(10, 1, 8) - 0.5
    )
    labels = torch.tensor([0] * 5 + [1] * 5)
    result = band_ablation(MeanBrightnessModel(), images, labels, radii=[0.0, 0.01, 0.3], settings=FP32)
    assert result.clean_accuracy == 1.0
    # low-pass at r > 0 keeps DC (|f| = 0 < r); the high-pass removes it, leaving mean 0: everything is class 0
    assert result.low_pass_accuracy == [0.5, 1.0, 1.0]
    assert result.high_pass_accuracy == [1.0, 0.5, 0.5]


@pytest.fixture(scope="module")
def fashion_test_and_model(shared_data):
    from freqprobe.data import load_dataset, to_float

    # fitted on test images 300.. and evaluated on the first 300: this oracle needs a model that learned
    # something, not a clean generalization estimate, and the test split alone loads quickly
    test = load_dataset("fashion-mnist", train=False, root=shared_data)
    model = train_small_cnn(to_float(test.images[300:3300]), test.labels[300:3300], steps=30)
    return model, to_float(test.images[:300]), test.labels[:300]


def test_removing_every_frequency_drops_a_trained_model_to_its_constant_input_prediction(fashion_test_and_model):
    model, images, labels = fashion_test_and_model
    result = band_ablation(model, images, labels, radii=[0.0, 0.75], settings=FP32)
    constant_class = int(model(torch.zeros(1, 1, 28, 28)).argmax())
    constant_accuracy = float((labels == constant_class).double().mean())
    assert result.clean_accuracy > constant_accuracy + 0.4  # the model did learn something
    assert result.low_pass_accuracy[0] == pytest.approx(constant_accuracy)  # low-pass at 0 removes everything
    assert result.high_pass_accuracy[1] == pytest.approx(constant_accuracy)  # so does a high-pass beyond the corner
    assert result.low_pass_accuracy[1] == pytest.approx(result.clean_accuracy)
    assert result.high_pass_accuracy[0] == pytest.approx(result.clean_accuracy)


@pytest.mark.parametrize("radii", [[-0.1], [0.1, math.nan], ["x"], [], "0.1"])
def test_impossible_radii_are_a_config_error(radii):
    model = MeanBrightnessModel()
    with pytest.raises(ConfigError, match="band radii .* got"):
        band_ablation(model, _random_images(2, 1, 4), torch.zeros(2, dtype=torch.long), radii=radii)


def test_labels_of_the_wrong_length_are_a_config_error():
    with pytest.raises(ConfigError, match="labels"):
        band_ablation(MeanBrightnessModel(), _random_images(3, 1, 4), torch.zeros(2, dtype=torch.long))
