"""The seeded stratified train/validation split and ``load_splits``."""

from __future__ import annotations

import math

import pytest
import torch

from freqprobe.data import load_dataset, load_splits, stratified_split
from freqprobe.errors import ConfigError


def test_golden_indices_pin_the_split_across_machines():
    # Class 0 holds 0, 3, ..., 21; torch.randperm(8) under manual_seed(0) starts 4, 0, so 12 and 0 go to val.
    labels = torch.arange(24) % 3
    train, val = stratified_split(labels, val_fraction=0.25, seed=0)
    assert val.tolist() == [0, 12, 16, 17, 20, 22]
    assert torch.randperm(8, generator=torch.Generator().manual_seed(0))[:2].tolist() == [4, 0]
    assert train.tolist() == sorted(set(range(24)) - set(val.tolist()))


def test_same_seed_same_indices_other_seed_other_indices():
    labels = torch.randint(0, 7, (5000,), generator=torch.Generator().manual_seed(3))
    first = stratified_split(labels, 0.2, seed=11)
    again = stratified_split(labels.clone(), 0.2, seed=11)
    other = stratified_split(labels, 0.2, seed=12)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[1], other[1])


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.1])
def test_stratified_disjoint_and_complete(fraction):
    ordered = torch.tensor([0] * 50 + [1] * 5 + [2] * 13 + [3] * 1)
    labels = ordered[torch.randperm(69, generator=torch.Generator().manual_seed(0))]
    train, val = stratified_split(labels, fraction, seed=5)
    assert set(train.tolist()).isdisjoint(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(len(labels)))
    assert train.tolist() == sorted(train.tolist()) and val.tolist() == sorted(val.tolist())
    assert train.dtype == val.dtype == torch.int64
    for label, count in {0: 50, 1: 5, 2: 13, 3: 1}.items():
        expected_val = math.floor(fraction * count + 0.5)  # halves round up: 0.5 * 5 -> 3
        assert int((labels[val] == label).sum()) == expected_val
        assert int((labels[train] == label).sum()) == count - expected_val


def test_zero_fraction_keeps_everything_for_training():
    train, val = stratified_split(torch.arange(10) % 2, 0.0)
    assert train.tolist() == list(range(10)) and val.numel() == 0


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5, float("nan")])
def test_impossible_fraction_is_a_config_error(fraction):
    with pytest.raises(ConfigError, match="val_fraction"):
        stratified_split(torch.arange(10) % 2, fraction)


def test_load_splits_on_real_fashion_mnist(shared_data):
    splits = load_splits("fashion-mnist", root=shared_data, val_fraction=0.2, seed=0)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (48000, 12000, 10000)
    assert splits.train.class_counts() == [4800] * 10 and splits.val.class_counts() == [1200] * 10
    assert (splits.train.split, splits.val.split, splits.test.split) == ("train", "val", "test")
    full = load_dataset("fashion-mnist", train=True, root=shared_data)
    train_idx, val_idx = stratified_split(full.labels, 0.2, 0)
    assert torch.equal(splits.val.images, full.images[val_idx])
    assert torch.equal(splits.train.labels, full.labels[train_idx])
    test = load_dataset("fashion-mnist", train=False, root=shared_data)
    assert torch.equal(splits.test.images, test.images) and torch.equal(splits.test.labels, test.labels)


def test_load_splits_rejects_a_bad_fraction_before_loading(tmp_path):
    with pytest.raises(ConfigError, match="val_fraction"):
        load_splits("fashion-mnist", root=tmp_path, val_fraction=2.0)


def _small_folder_dataset(root, per_class: int):
    """A folder dataset in the real layout: two classes of ``per_class`` 4x4 PNG training images, one test each."""
    import io

    import numpy as np
    from PIL import Image

    def png(value: int) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(np.full((4, 4), value, dtype=np.uint8)).save(buffer, format="PNG")
        return buffer.getvalue()

    for label in ("cat", "dog"):
        for split, count in (("train", per_class), ("test", 1)):
            folder = root / split / label
            folder.mkdir(parents=True)
            for index in range(count):
                (folder / f"{index}.png").write_bytes(png(index))
    return f"folder:{root}"


def test_a_fraction_that_empties_the_validation_split_names_the_split_the_option_and_the_minimum(tmp_path):
    name = _small_folder_dataset(tmp_path / "small", per_class=64)
    with pytest.raises(ConfigError) as error:
        load_splits(name, val_fraction=0.001)
    assert str(error.value) == (
        f"--val-fraction 0.001 leaves the validation split of {name} empty (its largest class has 64 training "
        f"images); use --val-fraction 0.00782 or more"
    )
    assert [len(split) for split in load_splits(name, val_fraction=0.00782)] == [126, 2, 2]


def test_a_fraction_that_empties_the_training_split_names_the_maximum(tmp_path):
    name = _small_folder_dataset(tmp_path / "small", per_class=64)
    with pytest.raises(ConfigError, match=r"leaves the training split of .* empty .* use --val-fraction 0.99218 or less"):
        load_splits(name, val_fraction=0.999)
    one = _small_folder_dataset(tmp_path / "one", per_class=1)
    with pytest.raises(ConfigError, match="each class has one training image, too few to hold some out"):
        load_splits(one, val_fraction=0.2)


def test_the_cli_reports_an_empty_validation_split_in_one_line(tmp_path, capsys):
    from freqprobe import cli

    name = _small_folder_dataset(tmp_path / "small", per_class=64)
    assert cli.main(["data", "info", "--dataset", name, "--val-fraction", "0.001"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--val-fraction 0.001 leaves the validation split" in error
