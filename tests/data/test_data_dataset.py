"""ImageDataset, to_float, the data-root and cache-folder precedence, the registry and lazy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from freqprobe.data import DATASETS, ImageDataset, dataset_names, resolve_cache_dir, resolve_root, to_float


def make(n=6, classes=("a", "b", "c"), split="train") -> ImageDataset:
    images = torch.arange(n * 2 * 2 * 2, dtype=torch.uint8).reshape(n, 2, 2, 2)
    return ImageDataset(images, torch.arange(n) % len(classes), list(classes), "toy", "/nowhere", split)


def test_to_float_maps_0_255_onto_0_1():
    images = torch.tensor([[[[0, 51, 255]]]], dtype=torch.uint8)
    floats = to_float(images)
    assert floats.dtype == torch.float32
    assert floats.flatten().tolist() == pytest.approx([0.0, 0.2, 1.0], abs=1e-7)
    assert images.flatten().tolist() == [0, 51, 255]  # input untouched
    with pytest.raises(TypeError, match="uint8"):
        to_float(floats)


def test_select_copies_rows_and_relabels_the_split():
    dataset = make()
    part = dataset.select(torch.tensor([4, 1]), split="val")
    assert torch.equal(part.images, dataset.images[[4, 1]]) and part.labels.tolist() == [1, 1]
    assert part.split == "val" and part.classes == dataset.classes and part.image_shape == (2, 2, 2)
    part.images[0] = 0
    assert dataset.images[4].sum() > 0
    assert make().class_counts() == [2, 2, 2] and len(make()) == 6 and make().num_classes == 3


@pytest.mark.parametrize(
    "change, match",
    [
        ({"images": torch.zeros(2, 2, 2)}, "uint8 \\(N, C, H, W\\)"),
        ({"images": torch.zeros(2, 1, 2, 2)}, "uint8"),
        ({"labels": torch.zeros(2, dtype=torch.int32)}, "int64"),
        ({"labels": torch.zeros(3, dtype=torch.int64)}, "2 images but 3 labels"),
        ({"labels": torch.tensor([0, 5])}, "labels must lie in"),
        ({"split": "training"}, "split must be one of"),
    ],
)
def test_dataset_rejects_broken_tensors(change, match):
    fields = dict(
        images=torch.zeros(2, 1, 2, 2, dtype=torch.uint8),
        labels=torch.tensor([0, 1]),
        classes=["x", "y"],
        name="toy",
        source="-",
        split="train",
    )
    fields.update(change)
    with pytest.raises(ValueError, match=match):
        ImageDataset(**fields)


def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQPROBE_DATA", str(tmp_path / "env"))
    assert resolve_root(tmp_path / "flag") == tmp_path / "flag"
    assert resolve_root() == tmp_path / "env"
    monkeypatch.delenv("FREQPROBE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_root() == tmp_path / "home" / ".cache" / "freqprobe"
    monkeypatch.chdir(tmp_path)
    assert resolve_root("relative") == tmp_path / "relative"


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQPROBE_CACHE", str(tmp_path / "c"))
    assert resolve_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("FREQPROBE_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_cache_dir() == tmp_path / "home" / ".cache" / "freqprobe" / "decoded"


def test_registry_lists_the_named_datasets():
    assert DATASETS.names() == ["cifar10", "fashion-mnist"]
    assert dataset_names() == ["cifar10", "fashion-mnist", "folder:PATH", "imagefolder:PATH"]
    assert DATASETS.get("fashion-mnist").classes[0] == "T-shirt/top"


def test_data_commands_import_without_torch():
    """The CLI imports freqprobe.data.commands to build its parser on every call; that must stay instant."""
    src = Path(__file__).resolve().parents[2] / "src"
    code = "import sys, freqprobe.data.commands; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(src)}
    )
    assert result.stdout.strip() == "False"
