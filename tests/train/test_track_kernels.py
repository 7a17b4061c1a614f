"""``freqprobe train --track-kernels``: per-layer kernel statistics after every epoch, equal to the analysis of the
weights the run ends with, surviving a resume, and plotted by ``freqprobe filters``."""

from __future__ import annotations

import math

import pytest

from freqprobe.cli import main
from freqprobe.io import append_jsonl, read_jsonl
from freqprobe.train import config_from_dict, run_training

SCALARS = ("spectral_centroid_mean", "spectral_centroid_std", "high_frequency_ratio", "kernels")


def settings(shared_data) -> dict:
    return {
        "dataset": "fashion-mnist", "data_dir": str(shared_data), "epochs": 2, "subset": 256, "batch_size": 64,
        "limit_eval": 100, "lr": 0.05, "seed": 5, "track_kernels": True,
    }  # fmt: skip


@pytest.fixture(scope="module")
def tracked(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("tracked") / "run"
    run_training(config_from_dict(settings(shared_data)), out, progress=False)
    return out


def test_one_record_per_epoch_and_the_last_is_the_final_weights(tracked):
    from freqprobe.analysis.kernels import DEFAULT_CUTOFF, DEFAULT_GRID, summarize_layer
    from freqprobe.analysis.model_source import conv_layers, load_model_source

    records = read_jsonl(tracked / "kernel_stats.jsonl")
    assert [record["epoch"] for record in records] == [0, 1, 2]  # 0: the initialization
    model = load_model_source(str(tracked)).model
    expected = [summarize_layer(name, module, DEFAULT_GRID, DEFAULT_CUTOFF, None, False)
                for name, module in conv_layers(model)]
    final = records[-1]["layers"]
    assert [layer["name"] for layer in final] == [layer["name"] for layer in expected]
    assert len(final) == 19  # resnet20: stem + 18 convolutions of the residual blocks (1x1 shortcuts: option A)
    for got, want in zip(final, expected):
        for key in SCALARS:
            assert got[key] == pytest.approx(want[key], rel=1e-5), (got["name"], key)
        assert "histograms" not in got and "radial_profile" not in got
    # one epoch of SGD moves the kernels: the statistics after epoch 1 are not those after epoch 2
    first = records[1]["layers"]
    assert any(not math.isclose(a["spectral_centroid_mean"], b["spectral_centroid_mean"], rel_tol=1e-6)
               for a, b in zip(first, final))


def test_resume_rewrites_the_log_like_the_uninterrupted_run(tracked, shared_data, tmp_path):
    config = config_from_dict(settings(shared_data))
    out = tmp_path / "run"
    assert run_training(config, out, progress=False, stop_after=1)["epochs_done"] == 1
    assert [record["epoch"] for record in read_jsonl(out / "kernel_stats.jsonl")] == [0, 1]
    # a line past the checkpoint, as a kill between the log and the checkpoint leaves it, must go
    append_jsonl(out / "kernel_stats.jsonl", {"epoch": 2, "layers": []})
    run_training(config, out, resume=True, progress=False)
    assert read_jsonl(out / "kernel_stats.jsonl") == read_jsonl(tracked / "kernel_stats.jsonl")


def test_untracked_runs_write_no_log(shared_data, tmp_path):
    out = tmp_path / "run"
    run_training(config_from_dict({**settings(shared_data), "epochs": 1, "track_kernels": False}), out, progress=False)
    assert (out / "metrics.json").is_file() and not (out / "kernel_stats.jsonl").exists()


def test_filters_plots_the_history_of_a_tracked_run(tracked, tmp_path, capsys):
    assert main(["filters", str(tracked), "--out", str(tmp_path), "--no-singular-values"]) == 0
    figure = tmp_path / "kernel_stats_over_epochs.png"
    assert figure.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"wrote {figure}" in capsys.readouterr().out
