"""Evaluation (with flip TTA) counts and the optimizer's weight-decay groups."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from freqprobe.models import create_model
from freqprobe.train import config_from_dict
from freqprobe.train.evaluate import evaluate, predict_logits
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


def test_weight_decay_skips_batchnorm_and_biases():
    model = create_model("resnet20", in_channels=1)
    decayed, undecayed = parameter_groups(model, 5e-4)
    assert decayed["weight_decay"] == 5e-4 and undecayed["weight_decay"] == 0.0
    assert all(p.ndim == 4 or p is model.fc.weight for p in decayed["params"])
    assert any(p is model.fc.bias for p in undecayed["params"])
    assert len(decayed["params"]) + len(undecayed["params"]) == len(list(model.parameters()))
    optimizer = build_optimizer(model, config_from_dict({"dataset": "cifar10", "nesterov": True, "momentum": 0.8}))
    assert optimizer.param_groups[0]["nesterov"] and optimizer.param_groups[0]["momentum"] == pytest.approx(0.8)
