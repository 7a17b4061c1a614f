"""Shift consistency: per-image circular shifts, and the exactly shift-invariant oracle model."""

from __future__ import annotations

import pytest
import torch
from sensitivity_models import CircularConvPoolModel, SmallCNN

from freqprobe.analysis.sensitivity import InferenceSettings, roll_each, shift_consistency
from freqprobe.analysis.sensitivity.shift import random_shifts
from freqprobe.errors import ConfigError

FP32 = InferenceSettings(batch_size=32, precision="fp32", channels_last=False)


def _images(count=64, channels=1, size=16, seed=0):
    return torch.rand(count, channels, size, size, generator=torch.Generator().manual_seed(seed))


def test_roll_each_equals_torch_roll_image_by_image():
    images = _images(5, 2, 7)
    shifts = torch.tensor([[0, 0], [1, -2], [-3, 3], [7, 8], [-9, 1]])
    rolled = roll_each(images, shifts)
    for n in range(5):
        assert torch.equal(rolled[n], torch.roll(images[n], tuple(shifts[n].tolist()), dims=(-2, -1)))


def test_random_shifts_stay_within_the_limits_and_reach_them():
    shifts = random_shifts(4000, (3, 1), torch.Generator().manual_seed(0))
    assert shifts[:, 0].min() == -3 and shifts[:, 0].max() == 3
    assert shifts[:, 1].min() == -1 and shifts[:, 1].max() == 1


def test_an_exactly_shift_invariant_model_is_fully_consistent(device):
    model = CircularConvPoolModel(1, 10, seed=0)
    settings = InferenceSettings(batch_size=32, precision="fp32", channels_last=False, device=str(device))
    result = shift_consistency(model, _images(), settings=settings)
    assert result.consistency == 1.0
    assert result.max_shift == (4, 4)


def test_a_position_dependent_model_is_not(device):
    model = SmallCNN(1, 16, 10, seed=3)
    labels = model(_images()).argmax(dim=1)
    settings = InferenceSettings(batch_size=32, precision="fp32", channels_last=False, device=str(device))
    result = shift_consistency(model, _images(), labels, settings=settings)
    assert result.consistency < 0.9
    assert result.clean_accuracy == 1.0
    assert result.shifted_accuracy < 1.0


def test_no_shift_is_always_consistent():
    model = SmallCNN(1, 16, 10, seed=3)
    assert shift_consistency(model, _images(), max_shift=0, settings=FP32).consistency == 1.0


def test_the_same_seed_gives_the_same_result():
    model = SmallCNN(1, 16, 10, seed=3)
    first = shift_consistency(model, _images(), seed=7, settings=FP32)
    second = shift_consistency(model, _images(), seed=7, settings=FP32)
    assert first.consistency == second.consistency


def test_negative_max_shift_is_a_config_error():
    with pytest.raises(ConfigError, match="max shift"):
        shift_consistency(CircularConvPoolModel(), _images(2), max_shift=-1)
