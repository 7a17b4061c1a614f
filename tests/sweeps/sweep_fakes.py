"""A stand-in for ``freqprobe.train.run_training`` that writes a real-format run folder in microseconds.

Accuracies are a deterministic function of the run folder's name, so tests can recompute them independently.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from freqprobe.errors import TrainingDiverged
from freqprobe.io import atomic_write_json


def fake_accuracy(name: str, salt: str) -> float:
    """A repeatable pseudo-random accuracy in [0.5, 0.95) for a run name."""
    digest = hashlib.sha256(f"{name}/{salt}".encode()).digest()
    return 0.5 + 0.45 * int.from_bytes(digest[:4], "big") / 2**32


class FakeTrainer:
    """Records every call as ``(run name, resume)`` and writes config.json, model.safetensors and metrics.json (last)
    like the engine.

    ``fail`` names runs that raise TrainingDiverged; ``interrupt_after`` raises KeyboardInterrupt on that call
    (1-based), leaving a checkpoint behind as a killed run would.
    """

    def __init__(self, fail: set[str] | None = None, interrupt_after: int | None = None):
        self.calls: list[tuple[str, bool]] = []
        self.configs: dict[str, dict] = {}
        self.fail = set(fail or ())
        self.interrupt_after = interrupt_after

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def __call__(self, config, out_dir, resume: bool = False) -> dict:
        out_dir = Path(out_dir)
        self.calls.append((out_dir.name, resume))
        self.configs[out_dir.name] = config.to_dict()
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out_dir / "config.json", {"config": config.to_dict()})
        if self.interrupt_after is not None and len(self.calls) == self.interrupt_after:
            (out_dir / "checkpoint.pt").write_bytes(b"partial")
            raise KeyboardInterrupt
        if out_dir.name in self.fail:
            raise TrainingDiverged(f"loss is nan at epoch 1, step 3 of {out_dir.name}; lower the learning rate")
        metrics = {
            "test_accuracy": fake_accuracy(out_dir.name, "test"),
            "val_accuracy": fake_accuracy(out_dir.name, "val"),
            "epochs": config.epochs,
            "train_seconds": 1.25,
            "images_per_second": 1000.0,
            "params": 272474,
            "flops_per_image": 40.8e6 if config.model == "resnet20" else 123.4e6,
            "device": "cpu",
            "precision": "fp32",
        }
        save_file({"fc.weight": torch.zeros(10, 4)}, str(out_dir / "model.safetensors"))
        atomic_write_json(out_dir / "metrics.json", metrics)
        return metrics


def read_metrics(run_folder: Path) -> dict:
    return json.loads((run_folder / "metrics.json").read_text())
