"""Evaluation (with flip and shift TTA) counts and the optimizer's weight-decay groups."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from freqprobe.models import create_model
from freqprobe.train import config_from_dict
import numpy as np

from freqprobe.train.evaluate import evaluate, predict_logits, translated, tta_views
from freqprobe.train.fastpaths import choose_fast_paths
from freqprobe.train.optimizer import build_optimizer, parameter_groups

FP32 = choose_fast_paths(config_from_dict({"dataset": "cifar10", "device": "cpu", "precision": "fp32",
                                           "channels_last": False}))  # fmt: skip


class LeftHalfBrightness(nn.Module):
    """Logit 0 = mean of the left half, logit 1 = mean of the right half: mirroring swaps them."""

    def forward(self, x):
        half = x.shape[-1] // 2
        return torch.stack([x[..., :half].mean(dim=(1, 2, 3)), x[..., half:].mean(dim=(1, 2, 3))], dim=1)


def test_evaluate_counts_correct_predictions_and_restores_train_mode():
    images = torch.zeros(5, 1, 4, 4)
    images[:3, ..., :2] = 1.0  # bright left half -> class 0
    images[3:, ..., 2:] = 1.0  # bright right half -> class 1
    labels = torch.tensor([0, 0, 1, 1, 1])  # one wrong label
    model = LeftHalfBrightness().train()
    counts = evaluate(model, images, labels, FP32, batch_size=2)
    assert (counts.correct, counts.count, counts.accuracy) == (4, 5, 0.8)
    assert model.training
    first, second = (evaluate(model, images, labels, FP32, shard=(rank, 2)) for rank in (0, 1))
    assert (first.count, second.count, first.correct + second.correct) == (3, 2, 4)


def test_flip_tta_averages_the_logits_of_image_and_mirror():
    images = torch.rand(3, 1, 4, 6)
    model = LeftHalfBrightness()
    plain = predict_logits(model, images, FP32, tta_flip=False)
    tta = predict_logits(model, images, FP32, tta_flip=True)
    assert torch.allclose(tta, 0.5 * (plain + model(images.flip(-1))))
    assert torch.allclose(tta[:, 0], tta[:, 1])  # this model is perfectly mirror-antisymmetric


@pytest.mark.parametrize("shift", [1, 2, -1, -3])
def test_translated_moves_the_content_and_reflects_into_the_uncovered_border(shift):
    images = torch.rand(2, 3, 7, 9)
    moved = translated(images, shift)
    pad = abs(shift)
    # numpy's "reflect" mirrors about the edge pixel without repeating it, as torch's reflect padding does
    padded = np.pad(images.numpy(), ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="reflect")
    start = pad - shift
    assert np.array_equal(moved.numpy(), padded[..., start : start + 7, start : start + 9])
    if shift > 0:  # down and right: pixel (r, c) shows what was at (r - shift, c - shift)
        assert torch.equal(moved[..., shift:, shift:], images[..., :-shift, :-shift])
    else:
        assert torch.equal(moved[..., :shift, :shift], images[..., -shift:, -shift:])
    assert torch.equal(translated(images, 0), images)


def test_tta_views_are_the_shifts_and_their_mirrors():
    images = torch.rand(2, 1, 6, 6)
    assert len(tta_views(images, False, 0)) == 1
    assert len(tta_views(images, True, 0)) == 2
    views = tta_views(images, True, 2)
    expected = [images, translated(images, 2), translated(images, -2)]
    expected += [view.flip(-1) for view in expected]
    assert len(views) == 6 and all(torch.equal(a, b) for a, b in zip(views, expected))


def test_shift_tta_averages_the_logits_of_every_view():
    images = torch.rand(4, 1, 8, 8)
    model = LeftHalfBrightness()
    logits = predict_logits(model, images, FP32, tta_flip=True, tta_translate=1)
    expected = torch.stack([model(view) for view in tta_views(images, True, 1)]).mean(0)
    assert torch.allclose(logits, expected)
    assert not torch.allclose(logits, predict_logits(model, images, FP32, tta_flip=True))


def test_weight_decay_skips_batchnorm_and_biases():
    model = create_model("resnet20", in_channels=1)
    decayed, undecayed = parameter_groups(model, 5e-4)
    assert decayed["weight_decay"] == 5e-4 and undecayed["weight_decay"] == 0.0
    assert all(p.ndim == 4 or p is model.fc.weight for p in decayed["params"])
    assert any(p is model.fc.bias for p in undecayed["params"])
    assert len(decayed["params"]) + len(undecayed["params"]) == len(list(model.parameters()))
    optimizer = build_optimizer(model, config_from_dict({"dataset": "cifar10", "nesterov": True, "momentum": 0.8}))
    assert optimizer.param_groups[0]["nesterov"] and optimizer.param_groups[0]["momentum"] == pytest.approx(0.8)
