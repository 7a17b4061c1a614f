"""A real band-pass run: ``--conv bandpass:gabor@stem`` with ``--spectral-reg highfreq:0.1`` on a small Fashion-MNIST
subset, then read back by ``freqprobe filters`` and the sensitivity loader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from freqprobe.analysis.sensitivity import load_run, load_test_images
from freqprobe.cli import main
from freqprobe.data import to_float
from freqprobe.io import read_jsonl
from freqprobe.models import BandpassConv2d, conv_model_kwargs, count_parameters, create_model
from freqprobe.models.bandpass import band_shape_parameters
from freqprobe.train import config_from_dict, is_run_complete, run_training
from freqprobe.train.final_metrics import weights_digest
from freqprobe.train.optimizer import parameter_groups

RUN_FILES = {"config.json", "metrics.jsonl", "metrics.json", "model.safetensors", "checkpoint.pt", "env.json"}
CONV = "bandpass:gabor@stem"
REG = "highfreq:0.1"
EVAL_IMAGES = 200


@pytest.fixture(scope="module")
def bandpass_run(shared_data, tmp_path_factory) -> Path:
    """One epoch on 600 images. fp32 and the plain layout so that re-evaluating the saved model outside the trainer
    does the same arithmetic as the trainer's own test pass."""
    out = tmp_path_factory.mktemp("bandpass") / "run"
    config = config_from_dict(
        {
            "dataset": "fashion-mnist",
            "data_dir": str(shared_data),
            "epochs": 1,
            "subset": 600,
            "limit_eval": EVAL_IMAGES,
            "batch_size": 64,
            "lr": 0.05,
            "conv": CONV,
            "spectral_reg": REG,
            "precision": "fp32",
            "channels_last": False,
            "seed": 2,
        }
    )
    run_training(config, out, progress=False)
    return out


def test_the_run_folder_is_complete_and_records_the_canonical_specs(bandpass_run):
    assert RUN_FILES <= {path.name for path in bandpass_run.iterdir()}
    assert is_run_complete(bandpass_run)
    config = json.loads((bandpass_run / "config.json").read_text())["config"]
    assert (config["conv"], config["spectral_reg"]) == ("bandpass:gabor@stem", "highfreq:0.1:0.25@all")


def test_each_epoch_line_carries_the_spectral_summary(bandpass_run):
    (record,) = read_jsonl(bandpass_run / "metrics.jsonl")
    assert record["spectral_reg"] == "highfreq:0.1:0.25@all"
    by_layer = record["spectral_high_frequency_ratio_by_layer"]
    assert list(by_layer)[0] == "stem" and len(by_layer) == 19  # stem + 18 block convs of resnet20
    assert all(0.0 <= value <= 1.0 for value in by_layer.values())
    mean = sum(by_layer.values()) / len(by_layer)
    assert record["spectral_high_frequency_ratio"] == pytest.approx(mean, rel=1e-9)
    assert record["spectral_penalty"] == pytest.approx(0.1 * mean, rel=1e-5)
    # the logged train loss is the objective: cross-entropy plus the (positive) penalty of each step
    assert math.isfinite(record["train_cross_entropy"]) and record["train_loss"] > record["train_cross_entropy"]


def test_metrics_count_the_band_pass_parameters(bandpass_run):
    metrics = json.loads((bandpass_run / "metrics.json").read_text())
    fresh = count_parameters(create_model("resnet20", in_channels=1, num_classes=10, **conv_model_kwargs(CONV)))
    assert (metrics["conv_params"], metrics["bandpass_params"], metrics["params"]) == (
        fresh["conv"], fresh["bandpass"], fresh["total"],
    )  # fmt: skip
    assert fresh["bandpass"] == 5 * 16 * 1  # gabor per pair: 3 shape parameters + 2 gains per (out, in) kernel
    assert (metrics["conv"], metrics["spectral_reg"]) == ("bandpass:gabor@stem", "highfreq:0.1:0.25@all")
    assert metrics["spectral_high_frequency_ratio"] == pytest.approx(
        read_jsonl(bandpass_run / "metrics.jsonl")[-1]["spectral_high_frequency_ratio"], rel=1e-9
    )


def test_filters_command_reads_the_band_pass_run(bandpass_run, tmp_path):
    out = tmp_path / "filters"
    assert main(["filters", str(bandpass_run), "--out", str(out), "--no-singular-values"]) == 0
    result = json.loads((out / "filters.json").read_text())
    stem = result["layers"][0]
    assert (stem["name"], stem["type"], stem["shape"]) == ("stem", "BandpassConv2d", [16, 1, 3, 3])
    assert stem["parameters"] == 5 * 16  # band parameters and gains, not the 144 generated taps
    # same definition and grid as the regularizer: the trained stem's share matches the last epoch's log
    logged = read_jsonl(bandpass_run / "metrics.jsonl")[-1]["spectral_high_frequency_ratio_by_layer"]
    assert stem["high_frequency_ratio"] == pytest.approx(logged["stem"], rel=1e-4)


def test_sensitivity_loader_reproduces_the_test_accuracy(bandpass_run, shared_data):
    loaded = load_run(bandpass_run)
    assert isinstance(loaded.model.stem, BandpassConv2d)
    test = load_test_images(loaded.config, data_dir=str(shared_data), subset=EVAL_IMAGES)
    with torch.no_grad():
        logits = loaded.model(loaded.input_filter(to_float(test.images)))
    accuracy = (logits.argmax(dim=1) == test.labels).double().mean().item()
    metrics = json.loads((bandpass_run / "metrics.json").read_text())
    assert accuracy == metrics["test_accuracy"]  # same images, same fp32 arithmetic: exactly the trainer's number
    assert weights_digest(loaded.model) == metrics["weights_sha256"]  # every band parameter and buffer as trained


def test_weight_decay_skips_band_shapes_but_not_gains():
    model = create_model("resnet20", in_channels=1, **conv_model_kwargs("bandpass:gabor@all"))
    decayed, kept = parameter_groups(model, 5e-4)
    shapes = {id(p) for p in band_shape_parameters(model)}
    assert len(shapes) == 19 * 3  # frequency, bandwidth, orientation of every 3x3 conv
    assert shapes <= {id(p) for p in kept["params"]} and not shapes & {id(p) for p in decayed["params"]}
    assert any(p is model.stem.amplitude for p in decayed["params"])
    assert len(decayed["params"]) + len(kept["params"]) == len(list(model.parameters()))


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--conv", "bandpass:sinc", "unknown band-pass family 'sinc'"),
        ("--spectral-reg", "highfreq:heavy", "weight 'heavy' is not a finite number"),
    ],
)
def test_a_bad_spec_is_one_line_and_exit_2(flag, value, message, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "fashion-mnist", flag, value, "--out", str(out), "--no-progress"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("freqprobe: error: ") and message in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("conv", ["bandpass:gabor@all", "bandpass:dog@all"])
def test_resnet20_with_band_pass_kernels_everywhere_learns_real_fashion_mnist(conv, shared_data, tmp_path):
    """Every 3x3 convolution generated from band parameters, 3 epochs on 3000 real images: far above chance (10%)."""
    config = config_from_dict({
        "dataset": "fashion-mnist", "data_dir": str(shared_data), "epochs": 3, "subset": 3000,
        "limit_eval": 500, "batch_size": 64, "lr": 0.1, "conv": conv, "seed": 0,
    })  # fmt: skip
    metrics = run_training(config, tmp_path / "run", progress=False)
    assert metrics["bandpass_params"] > 0 and metrics["conv"] == conv
    assert metrics["test_accuracy"] >= 0.35, metrics["test_accuracy"]
