"""External models end to end: ``train --model py:FILE.py:callable`` (a file of the current directory), ``tv:`` with
``--small-input`` and ``--model-arg``, a ``timm:`` model with ``--channel-adapter sum-stem``; each run folder
records its source and reloads from the folder alone for ``filters`` and ``sensitivity``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from freqprobe.cli import main
from freqprobe.models.pixel_space import PixelSpaceModel
from freqprobe.runs import RunFolder

FACTORY = '''
from torch import nn


def build(width=8, num_classes=10):
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, num_classes),
    )
'''


def train(shared_data: Path, out: Path, *model_options: str) -> None:
    code = main([
        "train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--out", str(out), "--epochs", "1",
        "--subset", "64", "--limit-eval", "40", "--batch-size", "32", "--no-progress", *model_options,
    ])  # fmt: skip
    assert code == 0


@pytest.fixture(scope="module")
def python_run(shared_data, tmp_path_factory):
    """A run of the user's factory from ``mynet.py`` in the current directory, which is then deleted: the run
    folder's copy of the file is what later commands load."""
    work = tmp_path_factory.mktemp("python_model")
    (work / "mynet.py").write_text(FACTORY)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        train(shared_data, work / "run", "--model", "py:mynet.py:build", "--model-arg", "width=6")
    (work / "mynet.py").unlink()
    return work / "run"


def test_the_run_records_the_python_source_and_keeps_a_copy_of_the_file(python_run):
    info = json.loads((python_run / "config.json").read_text())
    assert info["config"]["model"] == "py:mynet.py:build" and info["config"]["model_args"] == ["width=6"]
    source = info["model_source"]
    assert source["kind"] == "py" and source["file_copy"] == "model_factory/mynet.py" and source["file"] == "mynet.py"
    assert (python_run / "model_factory" / "mynet.py").read_text() == FACTORY
    assert source["channel_adapter"].startswith("repeat")
    assert source["normalization"]["source"] == "the filtered training split's per-channel mean/std"
    assert source["normalization"]["mean"] == info["data"]["normalization_mean"]


def test_the_folder_alone_reloads_the_trained_weights(python_run):
    model = RunFolder(python_run).load_model()
    assert isinstance(model, PixelSpaceModel) and model.body[0].out_channels == 6
    from safetensors.torch import load_file

    saved = load_file(str(python_run / "model.safetensors"))
    assert all(torch.equal(model.state_dict()[key], value) for key, value in saved.items())


def test_filters_and_band_sensitivity_run_on_the_python_model(python_run, shared_data, tmp_path, capsys):
    assert main(["filters", str(python_run), "--out", str(tmp_path)]) == 0
    filters = json.loads((tmp_path / "filters.json").read_text())
    assert [layer["name"] for layer in filters["layers"]] == ["body.0", "body.3"]
    assert filters["input_size"] == 28 and filters["model"] == "py:mynet.py:build"
    assert main([
        "sensitivity", str(python_run), "--bands", "--subset", "100", "--data-dir", str(shared_data),
        "--out", str(tmp_path), "--quiet",
    ]) == 0  # fmt: skip
    bands = json.loads((tmp_path / "sensitivity.json").read_text())["bands"]
    assert bands["n_images"] == 100 and len(bands["low_pass_accuracy"]) == len(bands["radii"])


def test_torchvision_with_small_input_and_model_args_trains_and_reloads(shared_data, tmp_path):
    run = tmp_path / "run"
    train(shared_data, run, "--model", "tv:mobilenet_v2", "--small-input", "--model-arg", "width_mult=0.25")
    source = json.loads((run / "config.json").read_text())["model_source"]
    assert source["small_input"] == {"features.0.0": "3x3 stride 2 -> stride 1 (weights kept)"}
    model = RunFolder(run).load_model()
    assert model.body.features[0][0].stride == (1, 1) and model.body.features[0][0].out_channels == 8


def test_timm_with_the_summed_stem_trains_and_reloads(shared_data, tmp_path):
    run = tmp_path / "run"
    train(shared_data, run, "--model", "timm:resnet10t", "--channel-adapter", "sum-stem", "--small-input")
    source = json.loads((run / "config.json").read_text())["model_source"]
    assert source["channel_adapter"].startswith("sum-stem")
    model = RunFolder(run).load_model()
    assert model.body.conv1[0].in_channels == 1 and model.body.conv1[0].stride == (1, 1)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--model", "tv:resnet18", "--antialias"], "antialias applies to freqprobe's own ResNets"),
        (["--model", "tv:resnet18", "--conv", "bandpass:gabor@stem"], "conv applies to freqprobe's own ResNets"),
        (["--model", "resnet20", "--small-input"], "--small-input adapts ImageNet stems"),
        (["--model", "tv:resnet19"], "close: tv:resnet18"),
        (["--model", "py:absent.py:build"], "does not exist"),
    ],
)
def test_options_that_do_not_apply_fail_in_one_line_before_training(options, message, shared_data, tmp_path, capsys):
    argv = ["train", "--dataset", "fashion-mnist", "--data-dir", str(shared_data), "--out", str(tmp_path / "r")]
    assert main([*argv, *options]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "r" / "config.json").exists()


def test_the_config_keeps_model_sources_canonical_and_keys_its_errors(tmp_path):
    from freqprobe.errors import ConfigError
    from freqprobe.train.config import config_from_dict, config_from_toml

    config = config_from_dict({"dataset": "fashion-mnist", "model": " tv:resnet18 ", "model_args": ["zb=02", "a=x"]})
    assert (config.model, config.model_args) == ("tv:resnet18", ["a=x", "zb=2"])
    (tmp_path / "run.toml").write_text('dataset = "fashion-mnist"\nmodel = "resnet20"\nweights = "pretrained"\n')
    with pytest.raises(ConfigError, match=r"run.toml:3: weights = pretrained is for tv: and timm: models"):
        config_from_toml(tmp_path / "run.toml")
    with pytest.raises(ConfigError, match="model_args must be a list"):
        config_from_dict({"dataset": "fashion-mnist", "model": "tv:resnet18", "model_args": "width=2"})
