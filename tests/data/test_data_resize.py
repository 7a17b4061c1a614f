"""``--image-size N`` on folders of mixed-size real image files (PNG and JPEG written by PIL), against PIL's own
resize and crop; ``imagefolder:PATH`` (one split of class folders)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from freqprobe.cli import main
from freqprobe.data import load_dataset, load_splits
from freqprobe.data.resize import describe_resize, resize_center_crop
from freqprobe.errors import ConfigError, DataError

# (class, file name, width, height, mode): landscape, portrait, square, a grey image among colour ones, JPEG and PNG
FILES = [
    ("cat", "a.jpg", 40, 30, "RGB"),
    ("cat", "b.png", 23, 57, "RGB"),
    ("cat", "c.png", 40, 30, "RGB"),
    ("dog", "d.jpg", 64, 64, "RGB"),
    ("dog", "e.png", 35, 20, "L"),
    ("dog", "f.jpg", 17, 45, "L"),
]


def write_images(folder, seed: int = 0) -> list:
    """Smooth random images (a photo's spectrum, so resampling differences stay small) written by PIL."""
    rng = np.random.default_rng(seed)
    paths = []
    for label, name, width, height, mode in FILES:
        channels = 3 if mode == "RGB" else 1
        coarse = rng.integers(0, 256, size=(height // 4 + 2, width // 4 + 2, channels)).astype(np.uint8)
        smooth = Image.fromarray(coarse.squeeze(-1) if channels == 1 else coarse, mode).resize(
            (width, height), Image.BICUBIC)
        path = folder / label / name
        path.parent.mkdir(parents=True, exist_ok=True)
        smooth.save(path, quality=90) if name.endswith(".jpg") else smooth.save(path)
        paths.append(path)
    return paths


def pil_reference(path, size: int) -> np.ndarray:
    """PIL's resize of the short side to ``size`` and central crop: the reference (C, size, size) uint8."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        width, height = image.size
        scale = size / min(width, height)
        new = (size, int(size * height / width)) if width <= height else (int(size * width / height), size)
        resized = image.resize(new, Image.BILINEAR)
        left, top = round((new[0] - size) / 2), round((new[1] - size) / 2)
        return np.asarray(resized.crop((left, top, left + size, top + size))).transpose(2, 0, 1)


@pytest.fixture
def image_folder(tmp_path):
    root = tmp_path / "val"
    return root, write_images(root)


@pytest.mark.parametrize("size", [16, 24])
def test_imagefolder_resizes_mixed_sizes_like_pil(image_folder, size):
    root, paths = image_folder
    data = load_dataset(f"imagefolder:{root}", train=False, image_size=size)
    assert data.images.shape == (len(FILES), 3, size, size) and data.images.dtype == torch.uint8
    assert data.classes == ["cat", "dog"] and data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.split == "test" and data.resize == describe_resize(size)
    for image, path in zip(data.images.numpy(), paths):
        difference = np.abs(image.astype(int) - pil_reference(path, size).astype(int))
        assert difference.max() <= 2 and difference.mean() < 0.5  # torchvision's uint8 bilinear follows PIL's


def test_a_grey_set_stays_one_channel_and_equal_sizes_need_no_flag(tmp_path):
    for index, (width, height) in enumerate([(30, 20), (20, 30)]):
        path = tmp_path / "grey" / "only" / f"{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((height, width), 50 + index, np.uint8), "L").save(path)
    data = load_dataset(f"imagefolder:{tmp_path / 'grey'}", train=False, image_size=10)
    assert data.images.shape == (2, 1, 10, 10)
    assert data.images[0].unique().tolist() == [50] and data.images[1].unique().tolist() == [51]


def test_mixed_sizes_without_image_size_are_refused_naming_the_option(image_folder):
    root, _ = image_folder
    with pytest.raises(DataError, match=r"--image-size N"):
        load_dataset(f"imagefolder:{root}", train=False)


def test_imagefolder_has_no_training_split(image_folder):
    root, _ = image_folder
    with pytest.raises(DataError, match="no training images"):
        load_dataset(f"imagefolder:{root}", train=True, image_size=16)


def test_folder_datasets_take_image_size_for_both_splits(tmp_path):
    write_images(tmp_path / "ds" / "train", seed=1)
    write_images(tmp_path / "ds" / "test", seed=2)
    splits = load_splits(f"folder:{tmp_path / 'ds'}", val_fraction=0.34, image_size=12)
    for split in splits:
        assert split.image_shape == (3, 12, 12) and split.resize == describe_resize(12)
    assert len(splits.test) == len(FILES)


@pytest.mark.parametrize("size", [0, -3, 5000, 2.5, True])
def test_absurd_image_sizes_are_refused(image_folder, size):
    root, _ = image_folder
    with pytest.raises(ConfigError, match="image_size"):
        load_dataset(f"imagefolder:{root}", train=False, image_size=size)


def test_named_datasets_refuse_image_size():
    with pytest.raises(ConfigError, match="image_size applies to folder"):
        load_dataset("fashion-mnist", image_size=32)


def test_resize_center_crop_keeps_the_centre_of_an_image_already_at_scale():
    image = np.arange(6 * 8, dtype=np.uint8).reshape(6, 8)  # short side already 6: a pure centre crop
    assert np.array_equal(resize_center_crop([image], 6)[0, 0], image[:, 1:7])


def test_data_info_and_train_state_the_resize(image_folder, tmp_path, capsys):
    write_images(tmp_path / "ds" / "train", seed=1)
    write_images(tmp_path / "ds" / "test", seed=2)
    dataset = f"folder:{tmp_path / 'ds'}"
    assert main(["data", "info", "--dataset", dataset, "--image-size", "12", "--val-fraction", "0.34"]) == 0
    assert describe_resize(12) in capsys.readouterr().out
    run = tmp_path / "run"
    argv = ["train", "--dataset", dataset, "--image-size", "12", "--val-fraction", "0.34", "--model", "allcnn_c",
            "--width-multiplier", "0.25", "--epochs", "1", "--batch-size", "2", "--no-progress", "--out", str(run)]
    assert main(argv) == 0
    recorded = json.loads((run / "config.json").read_text())
    assert recorded["config"]["image_size"] == 12
    assert recorded["data"]["resize"] == describe_resize(12) and recorded["data"]["image_shape"] == [3, 12, 12]
