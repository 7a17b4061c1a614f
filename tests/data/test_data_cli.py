"""``freqprobe data info`` / ``data download --help``, the shared dataset options, and one-line errors."""

from __future__ import annotations

import argparse
import io

import numpy as np
import pytest
from PIL import Image

from freqprobe.cli import main
from freqprobe.data import add_dataset_arguments, splits_from_args


def test_info_prints_counts_per_split_and_class(shared_data, capsys):
    code = main(["data", "info", "--dataset", "fashion-mnist", "--data-dir", str(shared_data)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert "dataset:  fashion-mnist" in lines
    assert f"source:   {shared_data / 'fashion-mnist'}" in lines
    assert "images:   28x28 pixels, 1 channel, uint8" in lines
    assert lines[-11].split() == ["T-shirt/top", "4800", "1200", "1000"]
    assert lines[-2].split() == ["Ankle", "boot", "4800", "1200", "1000"]
    assert lines[-1].split() == ["total", "48000", "12000", "10000"]


def test_info_on_a_folder_with_other_split_options(tmp_path, capsys):
    for split, count in (("train", 10), ("test", 3)):
        for label in ("cats", "dogs"):
            folder = tmp_path / "pets" / split / label
            folder.mkdir(parents=True)
            for index in range(count):
                buffer = io.BytesIO()
                Image.fromarray(np.full((6, 8, 3), index, np.uint8)).save(buffer, format="PNG")
                (folder / f"{index}.png").write_bytes(buffer.getvalue())
    dataset = f"folder:{tmp_path / 'pets'}"
    code = main(["data", "info", "--dataset", dataset, "--val-fraction", "0.3", "--split-seed", "4"])
    out = capsys.readouterr().out
    assert code == 0
    assert "images:   6x8 pixels, 3 channels, uint8" in out
    rows = [line.split() for line in out.splitlines()[-3:]]
    assert rows == [["cats", "7", "3", "3"], ["dogs", "7", "3", "3"], ["total", "14", "6", "6"]]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["data", "info", "--dataset", "nope"], "unknown dataset 'nope'; valid: cifar10, fashion-mnist, or folder:"),
        (["data", "info", "--dataset", "cifar10", "--data-dir", "{tmp}"], "cifar10 not found: looked for"),
        (["data", "info", "--dataset", "fashion-mnist", "--val-fraction", "1.5"], "val_fraction 1.5 must lie in"),
        (["data", "download", "--dataset", "folder:x"], "nothing to download"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, tmp_path, capsys):
    code = main([arg.replace("{tmp}", str(tmp_path)) for arg in argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("freqprobe: error: ") and needle in lines[0]


@pytest.mark.parametrize("argv", [["data", "--help"], ["data", "info", "--help"], ["data", "download", "--help"]])
def test_help_on_each_command(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: freqprobe data")
    if argv[1] != "--help":
        assert "--dataset" in out and "--data-dir" in out


def test_data_without_subcommand_shows_help_and_fails(capsys):
    assert main(["data"]) == 2
    assert "info" in capsys.readouterr().err


def test_dataset_arguments_defaults_and_splits_from_args(shared_data):
    parser = argparse.ArgumentParser()
    add_dataset_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args([])  # --dataset is required
    args = parser.parse_args(["--dataset", "fashion-mnist", "--data-dir", str(shared_data)])
    assert (args.download, args.val_fraction, args.split_seed) == (False, 0.2, 0)
    splits = splits_from_args(args)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (48000, 12000, 10000)
