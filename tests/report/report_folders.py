"""Folders in the formats freqprobe writes, for the report tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import json
from pathlib import Path

JPEG_DATASET = "folder:../shared/data/cifar10-jpeg.tar.gz"


def save_figure(path: Path, title: str, seed: int) -> None:
    """A small real PNG through freqprobe's figure style; the seed makes each file's bytes different."""
    import numpy as np

    from freqprobe.plots.style import new_figure, paper_style, save_png

    rng = np.random.default_rng(seed)
    with paper_style():
        fig = new_figure(3.0, 2.2)
        ax = fig.add_subplot()
        ax.imshow(rng.random((16, 16)), cmap="magma")
        ax.set_title(title)
        save_png(fig, path)


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def write_run_folder(folder: Path, dataset: str = "fashion-mnist", filter_spec: str = "blur:2", seed: int = 0) -> None:
    write_json(folder / "config.json", {
        "config": {"dataset": dataset, "model": "resnet20", "filter": filter_spec, "seed": seed, "epochs": 2,
                   "batch_size": 512, "lr": 0.4, "schedule": "onecycle"},
        "filter": {"spec": filter_spec, "boundary": "circular", "fitted_on": None},
        "filter_position": "before augmentation",
        "data": {"train_images": 48000, "val_images": 12000, "test_images": 10000, "image_shape": [1, 28, 28],
                 "classes": [str(k) for k in range(10)], "source": "/data/fashion-mnist",
                 "normalization_mean": [0.286], "normalization_std": [0.3205]},
        "params": 272474,
    })
    write_json(folder / "metrics.json", {
        "test_accuracy": 0.91234, "val_accuracy": 0.9051, "test_loss": 0.25, "epochs": 2, "train_seconds": 31.5,
        "images_per_second": 3210.0, "params": 272474, "device": "cpu", "precision": "fp32",
        "rank_weights_sha256": ["ab12"], "nested": {"ignored": True},
    })
    lines = [
        {"epoch": 1, "train_loss": 0.6, "train_accuracy": 0.78, "val_loss": 0.4, "val_accuracy": 0.85, "lr": 0.4,
         "seconds": 15.2},
        {"epoch": 2, "train_loss": 0.3, "train_accuracy": 0.89, "val_loss": 0.27, "val_accuracy": 0.9051, "lr": 0.0,
         "seconds": 16.3},
    ]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    write_json(folder / "env.json", {"python": "3.11.7", "torch": "2.13.0", "cpu": "test cpu", "gpus": []})
