"""``freqprobe sensitivity RUN --corruptions`` end to end on a run folder written by freqprobe train (Fashion-MNIST)."""

from __future__ import annotations

import json

import pytest

from freqprobe import cli
from freqprobe.corruptions import ALL, BENCHMARK


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, shared_data):
    from freqprobe.train import config_from_dict, run_training

    folder = tmp_path_factory.mktemp("run") / "plain"
    config = config_from_dict({"dataset": "fashion-mnist", "epochs": 1, "subset": 64, "batch_size": 32,
                               "limit_eval": 50, "data_dir": str(shared_data)})
    run_training(config, folder, progress=False)
    return folder


def test_corruptions_without_a_heat_map_are_refused_in_one_line(tiny_run, tmp_path, capsys):
    code = cli.main(["sensitivity", str(tiny_run), "--out", str(tmp_path / "out"), "--corruptions", "--subset", "10"])
    error = capsys.readouterr().err.strip()
    assert code == 2 and len(error.splitlines()) == 1
    assert "has none; add --heatmap (it runs first)" in error


def test_corruptions_write_the_section_figures_table_and_mce(tiny_run, tmp_path, capsys):
    out = tmp_path / "out"
    arguments = ["sensitivity", str(tiny_run), "--out", str(out), "--subset", "10", "--corruptions"]
    assert cli.main([*arguments, "--heatmap", "--heatmap-max-radius", "0.1"]) == 0
    printed = capsys.readouterr().out
    assert "| corruption | family | group |" in printed and "mean corruption accuracy" in printed
    document = json.loads((out / "sensitivity.json").read_text())
    section = document["corruptions"]
    assert list(section["per_corruption"]) == list(ALL) and section["benchmark_corruptions"] == sorted(BENCHMARK)
    for name, entry in section["per_corruption"].items():
        assert len(entry["error"]) == 5 and all(0 <= e <= 1 for e in entry["error"])
        assert entry["group"] in ("low", "mid", "high") or name == "saturate"  # saturate: grey images unchanged at 1-3
        assert entry["predicted_error"] is None or 0 <= entry["predicted_error"] <= 1
    assert section["per_corruption"]["gaussian_noise"]["group"] == "high"
    assert section["per_corruption"]["brightness"]["group"] == "low"
    assert section["mean_corruption_accuracy"] == pytest.approx(1 - section["mean_corruption_error"])
    assert section["yin"]["n_corruptions"] >= 15
    assert (out / "corruption_errors.png").is_file() and (out / "corruption_prediction.png").is_file()
    assert document["figures"]["corruptions"] == "corruption_errors.png"
    # the same run as its own baseline: every CE is 100 %
    baseline = ["--ce-baseline", str(out / "sensitivity.json"), "--corruption-names", "fog,contrast,shot_noise"]
    assert cli.main([*arguments, *baseline, "--quiet"]) == 0
    again = json.loads((out / "sensitivity.json").read_text())["corruptions"]
    assert list(again["per_corruption"]) == ["fog", "contrast", "shot_noise"]
    assert again["mce"]["mce"] == pytest.approx(100.0) and set(again["mce"]["ce"]) == {"fog", "contrast", "shot_noise"}
    assert again["per_corruption"]["fog"]["error"] == section["per_corruption"]["fog"]["error"]  # seeded


def test_unknown_corruption_names_are_one_line_errors(tiny_run, tmp_path, capsys):
    code = cli.main(["sensitivity", str(tiny_run), "--out", str(tmp_path / "o"), "--corruptions", "--heatmap",
                     "--corruption-names", "fog,haze"])
    error = capsys.readouterr().err.strip()
    assert code == 2 and len(error.splitlines()) == 1 and "unknown corruption 'haze'; valid: gaussian_noise" in error
