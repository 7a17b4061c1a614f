"""What a finished run reports in ``metrics.json``, and the model summaries it holds (parameter count, weights
digest)."""

from __future__ import annotations

import hashlib
from typing import Any

import torch
from torch import nn

from freqprobe.train.config import TrainConfig
from freqprobe.train.evaluate import EvalCounts
from freqprobe.train.fastpaths import FastPaths
from freqprobe.train.prepare import PreparedData


def final_metrics(
    config: TrainConfig,
    fast: FastPaths,
    world_size: int,
    data: PreparedData,
    model: nn.Module,
    regularizer,
    history: list[dict],
    test: EvalCounts,
    val_accuracy: float,
    val_loss: float,
    digests: list,
) -> dict[str, Any]:
    """The content of ``metrics.json``: the config's names, the final accuracies and losses, totals over the
    epochs of ``history``, the model's size, how it ran, and ``digests`` (every rank's :func:`weights_digest`)."""
    from freqprobe.models import count_parameters as count_by_kind

    step_seconds = sum(record["step_seconds"] for record in history)
    trained_images = sum(record["images_per_second"] * record["step_seconds"] for record in history)
    by_kind = count_by_kind(model)
    metrics = {
        "dataset": config.dataset,
        "model": config.model,
        "filter": config.filter,
        "conv": config.conv,
        "spectral_reg": config.spectral_reg,
        "seed": config.seed,
        "preset": config.preset,
        "test_accuracy": test.accuracy,
        "test_loss": test.loss,
        "val_accuracy": val_accuracy,
        "val_loss": val_loss,
        "tta_flip": config.tta_flip,
        "tta_translate": config.tta_translate,
        "final_train_loss": history[-1]["train_loss"],
        "final_train_accuracy": history[-1]["train_accuracy"],
        "epochs": len(history),
        "train_seconds": sum(record["seconds"] for record in history),
        "images_per_second": trained_images / step_seconds if step_seconds else None,
        "params": count_parameters(model),
        "conv_params": by_kind["conv"],
        "bandpass_params": by_kind["bandpass"],
        "device": fast.device,
        "precision": fast.precision,
        "channels_last": fast.channels_last,
        "depthwise_fp32": fast.depthwise_fp32,
        "compile": fast.compile,
        "threads": fast.threads,
        "world_size": world_size,
        "train_images": len(data.train_labels),
        "val_images": len(data.val_labels),
        "test_images": len(data.test_labels),
        "filter_position": "before augmentation",
        "weights_sha256": digests[0],
        "rank_weights_sha256": digests,
    }
    if regularizer is not None:
        metrics.update(regularizer.summary(model))  # of the final weights, as the last epoch's line
    return metrics


def count_parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def weights_digest(model: nn.Module) -> str:
    """SHA-256 of every parameter and buffer, in state-dict order: equal digests mean bit-identical models."""
    digest = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
