"""Training options that make a tiny real Fashion-MNIST run diverge in its second epoch."""

from __future__ import annotations

from pathlib import Path


def diverging_train_options(shared_data: Path, out: Path) -> list[str]:
    """``freqprobe train`` options for 256 images: epoch 1 trains at lr 0.05, then the step schedule multiplies the
    learning rate by 1e30, so a loss of epoch 2 turns NaN while the checkpoint of epoch 1 is finite."""
    return [
        "train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--subset", "256",
        "--batch-size", "64", "--limit-eval", "100", "--epochs", "2", "--schedule", "step", "--lr", "0.05",
        "--step-size", "1", "--step-gamma", "1e30", "--out", str(out), "--no-progress",
    ]  # fmt: skip
