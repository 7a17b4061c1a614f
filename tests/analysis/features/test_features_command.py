"""``freqprobe features`` and ``train --track-features`` end to end on a tiny Fashion-MNIST run."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from freqprobe.cli import main
from freqprobe.io import append_jsonl, read_jsonl
from freqprobe.train import config_from_dict, run_training

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def settings(shared_data) -> dict:
    return {
        "dataset": "fashion-mnist", "data_dir": str(shared_data), "epochs": 2, "subset": 256, "batch_size": 64,
        "limit_eval": 100, "lr": 0.05, "seed": 3, "track_features": True,
    }  # fmt: skip


@pytest.fixture(scope="module")
def tracked(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("tracked") / "run"
    run_training(config_from_dict(settings(shared_data)), out, progress=False)
    return out


def test_track_features_records_each_epoch_and_the_last_is_the_final_model(tracked, shared_data):
    from freqprobe.analysis.features import feature_spectra, tracking_batch
    from freqprobe.runs import RunFolder
    from freqprobe.train.prepare import prepare_data

    records = read_jsonl(tracked / "feature_stats.jsonl")
    assert [record["epoch"] for record in records] == [0, 1, 2] and records[-1]["n_images"] == 64
    data = prepare_data(config_from_dict(settings(shared_data)))
    expected = feature_spectra(RunFolder(tracked).load_model(), tracking_batch(data.val_images, data.val_labels))
    final = records[-1]["layers"]
    assert [layer["name"] for layer in final] == [layer.name for layer in expected.layers]
    for got, want in zip(final, expected.to_dict()["layers"]):
        assert got["delta_log_amplitude"] == pytest.approx(want["delta_log_amplitude"], rel=1e-4, abs=1e-5)
        assert got["spectral_centroid"] == pytest.approx(want["spectral_centroid"], rel=1e-4)
        assert "mean_log_amplitude" not in got and "radial_profile" not in got
    assert records[1]["layers"][5]["spectral_centroid"] != records[2]["layers"][5]["spectral_centroid"]


def test_resume_cuts_the_feature_log_back_to_the_checkpoint(tracked, shared_data, tmp_path):
    config = config_from_dict(settings(shared_data))
    out = tmp_path / "run"
    run_training(config, out, progress=False, stop_after=1)
    append_jsonl(out / "feature_stats.jsonl", {"epoch": 2, "layers": []})  # past the checkpoint: must go
    run_training(config, out, resume=True, progress=False)
    assert [record["epoch"] for record in read_jsonl(out / "feature_stats.jsonl")] == [0, 1, 2]


def test_features_command_writes_json_and_figures(tracked, shared_data, tmp_path, capsys):
    out = tmp_path / "features"
    assert main(["features", str(tracked), str(tracked), "--subset", "30", "--batch-size", "16",
                 "--data-dir", str(shared_data), "--out", str(out)]) == 0
    document = json.loads((out / "features.json").read_text())
    assert document["subset"] == 30 and len(document["runs"]) == 2
    run = document["runs"][0]
    assert run["run"] == os.path.relpath(tracked, out)
    assert run["n_images"] == 30 and run["dataset_label"] == "Fashion-MNIST"
    names = [layer["name"] for layer in run["layers"]]
    assert names[:3] == ["normalize", "stem", "stem_bn"] and "layer3" in names
    assert run["skipped_layers"] == ["pool", "fc"]
    assert [site["name"] for site in run["subsampling"]][0] == "layer2.0.conv1"
    assert len(run["layers"][1]["mean_log_amplitude"]) == 28
    assert set(document["definitions"]) >= {"delta_log_amplitude", "spectral_centroid", "aliasing_share"}
    for name in document["figures"].values():
        assert (out / name).read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(document["captions"]) == sorted(document["figures"].values())
    assert sorted(document["figures"].values()) == sorted(
        ["features_delta_log_amplitude.png", "features_radial_profiles.png", "features_spectra_grid_1.png",
         "features_spectra_grid_2.png"])
    printed = capsys.readouterr().out
    assert "ΔLog-amp" in printed and f"wrote {out / 'features.json'}" in printed
    # a second call with one run replaces the set: no stale grid of the second run remains
    assert main(["features", str(tracked), "--subset", "10", "--data-dir", str(shared_data), "--out", str(out)]) == 0
    assert sorted(path.name for path in out.glob("features_*.png")) == [
        "features_delta_log_amplitude.png", "features_radial_profiles.png", "features_spectra_grid.png"]


def test_bad_layer_pattern_is_one_line(tracked, shared_data, tmp_path, capsys):
    assert main(["features", str(tracked), "--layers", "nothing*", "--subset", "4", "--data-dir", str(shared_data),
                 "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("freqprobe: error: --layers 'nothing*' matches no module") and error.count("\n") == 1


def test_a_weights_file_by_model_name_measures_what_its_run_measures(tracked, shared_data, tmp_path):
    # the tracked run's filter is 'none', so its weights given by name and file see the very same images
    by_run, by_file = tmp_path / "run", tmp_path / "file"
    common = ["--subset", "20", "--batch-size", "8", "--data-dir", str(shared_data)]
    assert main(["features", str(tracked), *common, "--out", str(by_run)]) == 0
    assert main(["features", str(tracked / "model.safetensors"), "--model", "resnet20", "--dataset", "fashion-mnist",
                 *common, "--out", str(by_file)]) == 0
    want = json.loads((by_run / "features.json").read_text())["runs"][0]
    got = json.loads((by_file / "features.json").read_text())["runs"][0]
    assert got["run"] == os.path.relpath(tracked / "model.safetensors", by_file) and got["resize"] is None
    assert got["model"] == "resnet20" and got["filter"] == "none" and got["n_images"] == 20
    assert [layer["name"] for layer in got["layers"]] == [layer["name"] for layer in want["layers"]]
    for mine, theirs in zip(got["layers"], want["layers"]):
        assert mine["delta_log_amplitude"] == pytest.approx(theirs["delta_log_amplitude"], rel=1e-5, abs=1e-6)
        assert mine["spectral_centroid"] == pytest.approx(theirs["spectral_centroid"], rel=1e-5)


def test_image_size_resizes_the_chosen_images_before_the_model(tracked, shared_data, tmp_path):
    import torch

    from freqprobe.analysis.features import feature_spectra
    from freqprobe.data import load_dataset
    from freqprobe.data.resize import resize_center_crop_batch
    from freqprobe.runs import RunFolder
    from freqprobe.train.prepare import stratified_first

    out = tmp_path / "resized"
    assert main(["features", str(tracked / "model.safetensors"), "--model", "resnet20", "--dataset", "fashion-mnist",
                 "--image-size", "40", "--subset", "12", "--data-dir", str(shared_data), "--out", str(out)]) == 0
    got = json.loads((out / "features.json").read_text())["runs"][0]
    assert got["layers"][0]["shape"] == [1, 40, 40] and got["resize"].startswith("short side resized to 40")
    test = load_dataset("fashion-mnist", train=False, root=shared_data)
    chosen = test.images[stratified_first(test.labels, 12)]
    assert chosen.shape[-1] == 28 and torch.equal(
        resize_center_crop_batch(chosen, 28), chosen)  # the oracle's resize is the identity at the stored size
    expected = feature_spectra(RunFolder(tracked).load_model(), resize_center_crop_batch(chosen, 40)).to_dict()
    assert got["layers"][0]["spectral_centroid"] == pytest.approx(expected["layers"][0]["spectral_centroid"], rel=1e-5)
    assert got["layers"][-1]["delta_log_amplitude"] == pytest.approx(
        expected["layers"][-1]["delta_log_amplitude"], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["RUN", "--weights", "w.pth"], "--weights apply to a model given by name or file, with --dataset NAME"),
        (["RUN", "--dataset", "fashion-mnist"], "is a run folder, measured on its own test data"),
        (["resnet20", "resnet20", "--dataset", "fashion-mnist"], "--dataset takes one model by name or file, got 2"),
        (["tv:no_such_net", "--dataset", "fashion-mnist"], "no_such_net"),
        (["resnet20", "--model", "resnet20", "--dataset", "fashion-mnist"], "is a model name already: drop --model"),
        (["RUN/model.safetensors", "--weights", "w.pth", "--dataset", "fashion-mnist"], "is a weights file already"),
    ],
)
def test_model_options_that_cannot_apply_are_one_line(tracked, shared_data, tmp_path, capsys, arguments, message):
    arguments = [argument.replace("RUN", str(tracked)) for argument in arguments]
    assert main(["features", *arguments, "--subset", "4", "--data-dir", str(shared_data), "--out",
                 str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("freqprobe: error: ") and message in error and error.count("\n") == 1


def test_a_folder_of_mixed_sizes_is_brought_to_image_size_for_a_model_by_name(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "photos"
    for index, (label, size) in enumerate([("cat", (40, 30)), ("cat", (50, 50)), ("dog", (36, 60)),
                                           ("dog", (64, 48))]):
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(root / label / f"{index}.png")
    out = tmp_path / "out"
    assert main(["features", "resnet20", "--dataset", f"imagefolder:{root}", "--image-size", "32", "--subset", "4",
                 "--out", str(out)]) == 0
    got = json.loads((out / "features.json").read_text())["runs"][0]
    assert got["layers"][0]["shape"] == [3, 32, 32] and got["n_images"] == 4
    assert got["model_source"]["weights"] == "random initialization"
    assert "randomly initialized weights (no --weights)" in capsys.readouterr().out


def test_a_model_that_fails_on_the_images_is_one_line(tmp_path, shared_data, capsys):
    factory = tmp_path / "picky.py"
    factory.write_text(
        "from torch import nn\n\n\nclass Picky(nn.Module):\n    def forward(self, x):\n"
        "        assert x.shape[-1] == 224, 'Input width (28) does not match the model (224)'\n        return x\n\n\n"
        "def build(num_classes=1000):\n    return nn.Sequential(nn.Conv2d(3, 4, 3), Picky())\n"
    )
    assert main(["features", f"py:{factory}:build", "--dataset", "fashion-mnist", "--subset", "4", "--data-dir",
                 str(shared_data), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("freqprobe: error: ") and error.count("\n") == 1
    assert "fails on the (1, 28, 28) images of fashion-mnist" in error and "--image-size" in error
