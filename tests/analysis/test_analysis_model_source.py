"""Loading models to analyse (run folders, weights files, modules), finding convolutions, tracing input sizes."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from freqprobe.analysis.model_source import (
    conv_layers,
    load_model_source,
    trace_conv_input_sizes,
)
from freqprobe.errors import ConfigError, FreqprobeError
from freqprobe.models import create_model, save_weights


class GeneratedConv(nn.Module):
    """A drop-in whose weight is computed, wrapping an nn.Conv2d that must not be counted twice."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Conv2d(2, 2, 3, padding=1)
        self.stride, self.dilation, self.groups = (1, 1), (1, 1), 1

    @property
    def weight(self) -> torch.Tensor:
        return 2 * self.inner.weight

    def forward(self, x):
        return self.inner(x)


def write_run(folder, model: nn.Module, config: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(model, folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(config))


def test_conv_layers_finds_plain_and_drop_in_convolutions_once_and_skips_transposed_ones():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), GeneratedConv(), nn.ConvTranspose2d(2, 2, 3), nn.Linear(2, 2))
    assert [name for name, _ in conv_layers(model)] == ["0", "1"]


def test_trace_records_each_convs_input_size_and_restores_the_mode():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.Conv2d(4, 2, 3, padding=1)
    )
    model.train()
    unused = nn.Conv2d(2, 2, 3)
    model.add_module("unused", unused)
    model.forward = lambda x: model[2](model[1](model[0](x)))  # "unused" is never called
    sizes = trace_conv_input_sizes(model, in_channels=1, input_size=28)
    assert sizes == {"0": (28, 28), "1": (28, 28), "2": (14, 14)}
    assert model.training


def test_trace_failure_names_the_dummy_input_and_the_options():
    model = nn.Sequential(nn.Conv2d(3, 4, 3))
    with pytest.raises(FreqprobeError, match=r"\(1, 1, 32, 32\).*--input-size, --in-channels"):
        trace_conv_input_sizes(model, in_channels=1, input_size=32)


def test_run_folder_channels_and_input_size_follow_the_dataset(tmp_path):
    config = {"model": "resnet20", "dataset": "fashion-mnist"}
    write_run(tmp_path / "run", create_model("resnet20", in_channels=1), config)
    source = load_model_source(tmp_path / "run")
    assert (source.model_name, source.in_channels, source.input_size) == ("resnet20", 1, 28)
    assert source.model.stem.weight.shape[1] == 1


def test_run_folder_reads_the_trainers_nested_config(tmp_path):
    model = create_model("resnet20", in_channels=3, num_classes=4, antialias=True)
    config = {
        "config": {"model": "resnet20", "dataset": "folder:x.tar", "antialias": True, "filter": "none"},
        "filter": {"spec": "none"},
        "data": {"image_shape": [3, 24, 24], "classes": list("abcd")},
    }
    write_run(tmp_path / "run", model, config)
    source = load_model_source(tmp_path / "run")
    assert (source.dataset, source.in_channels, source.input_size) == ("folder:x.tar", 3, 24)
    torch.testing.assert_close(source.model.fc.weight, model.fc.weight)  # 4 classes, antialiased: the file fits


def test_weights_file_needs_model_and_channels(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_weights(create_model("resnet20", in_channels=1, num_classes=7), path)
    with pytest.raises(ConfigError, match=r"needs --model NAME \(and --in-channels C for a registered model\)"):
        load_model_source(path)
    with pytest.raises(ConfigError, match="'resnet20' needs --in-channels C"):
        load_model_source(path, model_name="resnet20")
    source = load_model_source(path, model_name="resnet20", in_channels=1)  # 7 classes read from fc.weight
    assert source.model.fc.out_features == 7


def test_state_dict_file_loads_and_a_mismatch_is_one_line(tmp_path):
    model = create_model("resnet20", in_channels=3)
    torch.save({"model": model.state_dict()}, tmp_path / "checkpoint.pt")
    source = load_model_source(tmp_path / "checkpoint.pt", model_name="resnet20", in_channels=3)
    torch.testing.assert_close(source.model.stem.weight, model.stem.weight)
    with pytest.raises(FreqprobeError, match="do not fit resnet20: 3 shape") as error:
        load_model_source(tmp_path / "checkpoint.pt", model_name="resnet20", in_channels=1)
    assert "\n" not in str(error.value) and "stem.weight (16, 3, 3, 3) vs (16, 1, 3, 3)" in str(error.value)


@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        (None, "has no config.json"),
        ("{oops", "is not valid JSON"),
        ('["resnet20"]', "does not hold a JSON object"),
        ('{"model": "resnet20"}', "lacks 'dataset'"),
        ('{"model": "resnet20", "dataset": "cifar10"}', "model.safetensors is missing"),
    ],
)
def test_broken_run_folders_raise_one_line_errors(tmp_path, config_text, message):
    folder = tmp_path / "run"
    folder.mkdir()
    if config_text is not None:
        (folder / "config.json").write_text(config_text)
    with pytest.raises(FreqprobeError, match=message) as error:
        load_model_source(folder)
    assert "\n" not in str(error.value)


def test_missing_source_path_is_named():
    with pytest.raises(FreqprobeError, match="model source /no/such/run does not exist"):
        load_model_source("/no/such/run")


def test_module_source_takes_channels_from_the_first_convolution():
    source = load_model_source(nn.Sequential(nn.Conv2d(5, 2, 3)))
    assert (source.in_channels, source.input_size, source.description) == (5, 32, "nn.Module Sequential")
    with pytest.raises(ConfigError, match="no Conv2d layer"):
        load_model_source(nn.Linear(2, 2))


def test_a_model_spec_source_builds_the_network_with_its_weights(tmp_path):
    import torchvision

    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "resnet18.pth")
    source = load_model_source("tv:resnet18", weights=tmp_path / "resnet18.pth")
    assert (source.model_name, source.in_channels, source.input_size) == ("tv:resnet18", 3, 224)
    assert source.description == str(tmp_path / "resnet18.pth") and source.record["classifier"] == "as built (1000 outputs)"
    assert conv_layers(source.model)[0][0] == "body.conv1"
    small = load_model_source("tv:resnet18", small_input=True)
    assert small.input_size == 32 and small.description == "tv:resnet18"
    with pytest.raises(ConfigError, match="is a run folder, which records its model"):
        load_model_source(tmp_path, weights=tmp_path / "resnet18.pth")
