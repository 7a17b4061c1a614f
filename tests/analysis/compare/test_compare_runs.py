"""Gathering a sweep's runs: only complete ones (whole weights included), swept options, and a fitted filter whose
state is missing refused as ``sensitivity`` refuses it."""

from __future__ import annotations

import json

import pytest

from freqprobe.analysis.compare.data import RunData
from freqprobe.analysis.compare.runs import find_runs, swept_option_names
from freqprobe.errors import FreqprobeError
from freqprobe.models import create_model, save_weights


def write_run(folder, **config) -> None:
    folder.mkdir(parents=True)
    config = {"dataset": "fashion-mnist", "model": "resnet20", "filter": "none", "seed": 0, **config}
    (folder / "config.json").write_text(json.dumps({"config": config, "data": {"image_shape": [1, 28, 28]}}))
    save_weights(create_model("resnet20", in_channels=1), folder / "model.safetensors")
    (folder / "metrics.json").write_text(json.dumps({"test_accuracy": 0.9, "val_accuracy": 0.8}))


def test_a_run_with_truncated_weights_is_left_out_with_a_note(tmp_path):
    write_run(tmp_path / "runs" / "whole")
    write_run(tmp_path / "runs" / "cut")
    weights = tmp_path / "runs" / "cut" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-64])
    runs, notes = find_runs(tmp_path)
    assert [run.name for run in runs] == ["whole"]
    (note,) = notes
    assert note.startswith("cut: incomplete") and "model.safetensors" in note and "truncated" in note


def test_swept_options_are_fields_that_differ_within_a_dataset(tmp_path):
    write_run(tmp_path / "runs" / "a", conv="standard", crop_padding=2, seed=0)
    write_run(tmp_path / "runs" / "b", conv="bandpass", crop_padding=2, seed=1)
    write_run(tmp_path / "runs" / "c", dataset="folder:c10.tar.gz", conv="standard", crop_padding=4)
    runs, _ = find_runs(tmp_path)
    # crop_padding differs only between datasets (a preset's per-dataset value), image_shape is the data: no column
    assert swept_option_names(runs) == ["conv"]


def test_a_field_an_older_config_lacks_counts_as_its_default_not_as_a_variant(tmp_path):
    write_run(tmp_path / "old" / "runs" / "seed0")  # trained before cutout, apr and depthwise_fp32 existed
    write_run(tmp_path / "old" / "runs" / "seed1", seed=1, cutout=0, apr="none", depthwise_fp32="auto")
    runs, _ = find_runs(tmp_path / "old")
    assert swept_option_names(runs) == []
    write_run(tmp_path / "new" / "runs" / "seed0")
    write_run(tmp_path / "new" / "runs" / "seed1", seed=1, cutout=10)
    runs, _ = find_runs(tmp_path / "new")
    assert swept_option_names(runs) == ["cutout"]


def test_a_fitted_filter_without_its_checkpoint_is_refused_not_refit(tmp_path):
    write_run(tmp_path / "runs" / "w", filter="whiten")
    (run,), _ = find_runs(tmp_path)
    with pytest.raises(FreqprobeError, match=r"has neither filter_state.safetensors nor checkpoint.pt with the fitted state of filter .whiten."):
        RunData().input_filter(run)


def test_runs_come_in_natural_order_of_their_folder_names(tmp_path):
    for sigma in (12, 2, 20, 4):
        write_run(tmp_path / "runs" / f"fashion-mnist__resnet20__highpass-{sigma}__seed0", filter=f"highpass:{sigma}")
    runs, _ = find_runs(tmp_path)
    assert [run.filter for run in runs] == ["highpass:2", "highpass:4", "highpass:12", "highpass:20"]
