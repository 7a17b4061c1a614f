"""End to end: ``freqprobe sensitivity`` on a real (tiny) run folder of Fashion-MNIST with a fitted whiten filter."""

from __future__ import annotations

import argparse
import json
import os
import shutil

import pytest
import torch

from freqprobe import cli
from freqprobe.analysis.sensitivity import load_run
from freqprobe.analysis.sensitivity.runner import RESULTS_FILE

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, shared_data):
    """A run folder written by freqprobe train itself: resnet20 on whitened Fashion-MNIST, two steps."""
    from freqprobe.train import config_from_dict, run_training

    folder = tmp_path_factory.mktemp("run") / "whiten"
    config = config_from_dict(
        {
            "dataset": "fashion-mnist",
            "filter": "whiten",
            "epochs": 1,
            "subset": 64,
            "batch_size": 32,
            "limit_eval": 100,
            "data_dir": str(shared_data),
        }
    )
    run_training(config, folder, progress=False)
    return folder


@pytest.fixture
def freqprobe_main(monkeypatch):
    """``freqprobe`` with the sensitivity command, whether or not the CLI lists it yet."""
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "sensitivity" not in commands.choices:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "freqprobe.analysis.sensitivity_commands"))
    return cli.main


def test_load_run_restores_the_model_the_fitted_filter_and_the_config(trained_run):
    from freqprobe.models import create_model, load_weights
    from freqprobe.train.checkpoint import load_checkpoint

    model, input_filter, config = load_run(trained_run)
    assert config["dataset"] == "fashion-mnist" and config["filter"] == "whiten"
    assert config["image_shape"] == [1, 28, 28]
    assert not model.training
    saved = load_checkpoint(trained_run / "checkpoint.pt")
    assert input_filter.spec == "whiten" and input_filter.is_fitted
    assert torch.equal(input_filter.mean_amplitude, saved.filter_state["mean_amplitude"])
    reference = load_weights(create_model("resnet20", in_channels=1), trained_run / "model.safetensors")
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert model.normalize.mean.tolist() == pytest.approx(saved.mean)


def test_every_mode_writes_numbers_and_figures_and_merges(trained_run, tmp_path, freqprobe_main, capsys):
    out = tmp_path / "sensitivity"
    common = [str(trained_run), "--out", str(out), "--quiet"]
    assert freqprobe_main(
        ["sensitivity", *common, "--subset", "100", "--bands", "--band-radii", "0,0.1,5/28,0.75", "--heatmap", "--heatmap-max-radius", "0.06",
         "--gradient-spectrum", "--shift", "--max-shift", "3"]
    ) == 0
    first = json.loads((out / RESULTS_FILE).read_text())
    assert freqprobe_main(
        ["sensitivity", *common, "--subset", "10", "--attack", "pgd", "--eps", "8/255", "--steps", "2"]
    ) == 0
    document = json.loads((out / RESULTS_FILE).read_text())
    for section in ("bands", "heatmap", "gradient_spectrum", "shift"):
        assert document[section] == first[section], section  # merged, not replaced
    assert document["run"] == os.path.relpath(trained_run, out)  # no machine path in the committed file
    assert not os.path.isabs(document["run"])
    assert document["filter"] == "whiten" and document["test_images"] == 10
    assert "clamp to [0, 1]" in document["pipeline"]

    # the clean accuracy on the run's own 100 test images matches the trainer's evaluation of them
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert document["bands"]["clean_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=0.011)
    assert 1 - document["heatmap"]["clean_error"] == pytest.approx(document["bands"]["clean_accuracy"])

    bands = document["bands"]
    assert bands["n_images"] == 100 and bands["radii"] == [0.0, 0.1, 5 / 28, 0.75]
    assert bands["radii_exact"] == ["0", "1/10", "5/28", "3/4"]  # as written, so the ring 5/28 is high-passed
    assert bands["high_pass_accuracy"][0] == bands["clean_accuracy"] == bands["low_pass_accuracy"][-1]

    heat = document["heatmap"]
    error = heat["error"]
    assert len(error) == 28 and all(len(row) == 28 for row in error)
    evaluated = {(y, x) for y in range(28) for x in range(28) if error[y][x] is not None}
    # |f| <= 0.06 cycles/pixel on a 28x28 grid: indices within radius 1.68 of DC, wrapped
    assert evaluated == {(y, x) for y in range(28) for x in range(28) if min(y, 28 - y) ** 2 + min(x, 28 - x) ** 2 <= 2}
    assert all(error[y][x] == error[(-y) % 28][(-x) % 28] for y, x in evaluated)
    assert all(0.0 <= error[y][x] <= 1.0 for y, x in evaluated)
    assert heat["eps"] == 4.0 and heat["evaluated_pairs"] == (len(evaluated) + 1) // 2

    gradient = document["gradient_spectrum"]
    assert len(gradient["power"]) == 28 and min(min(row) for row in gradient["power"]) >= 0.0
    assert "rank_correlation_with_heatmap" in gradient

    shift = document["shift"]
    assert shift["max_shift"] == [3, 3] and 0.0 <= shift["consistency"] <= 1.0

    attack_key = "pgd-linf-eps8/255"  # the budget as written on the command line
    attack = document["attacks"][attack_key]
    assert attack["eps"] == pytest.approx(8 / 255) and attack["steps"] == 2 and attack["n_images"] == 10
    assert attack["perturbation_mean_linf"] <= 8 / 255 + 1e-6
    assert attack["prefilter_defence"]["prefilter"] == "blur:1"
    assert 0.0 <= attack["prefilter_defence"]["adaptive_accuracy"] <= 1.0

    assert list(document["figures"]) == ["bands", "heatmap", "gradient_spectrum", "shift", f"attack:{attack_key}"]
    assert document["figures"][f"attack:{attack_key}"] == "attack_pgd-linf-eps8over255.png"  # no "/" in a file name
    assert attack["budget"] == "8/255"
    for name in document["figures"].values():
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
        assert "resnet20" in document["captions"][name]
    assert not list(out.glob(".*.tmp"))
    assert capsys.readouterr().err == ""


def test_results_of_another_run_are_not_merged(trained_run, tmp_path, freqprobe_main, capsys):
    other = tmp_path / "other-run"
    shutil.copytree(trained_run, other)
    out = tmp_path / "out"
    assert freqprobe_main(["sensitivity", str(trained_run), "--out", str(out), "--shift", "--subset", "10", "--quiet"]) == 0
    assert freqprobe_main(["sensitivity", str(other), "--out", str(out), "--shift", "--subset", "10", "--quiet"]) == 2
    assert "holds results of run" in capsys.readouterr().err


def test_the_command_prints_the_files_it_wrote_and_accuracies_in_percent(trained_run, tmp_path, freqprobe_main,
                                                                          capsys):
    from freqprobe.tables import format_accuracy

    out = tmp_path / "printed"
    assert freqprobe_main(["sensitivity", str(trained_run), "--out", str(out), "--shift", "--subset", "10"]) == 0
    first = [line for line in capsys.readouterr().out.splitlines() if line.startswith("wrote ")]
    assert first == [f"wrote {out / RESULTS_FILE}", f"wrote {out / 'shift_consistency.png'}"]
    assert freqprobe_main(["sensitivity", str(trained_run), "--out", str(out), "--bands", "--subset", "10"]) == 0
    printed = capsys.readouterr().out
    # the second call rewrote the merged JSON and drew one figure; the shift figure of the first call is not named
    assert [line for line in printed.splitlines() if line.startswith("wrote ")] == [
        f"wrote {out / RESULTS_FILE}", f"wrote {out / 'band_ablation.png'}"]
    document = json.loads((out / RESULTS_FILE).read_text())
    assert f"bands: clean accuracy {format_accuracy(document['bands']['clean_accuracy'])}" in printed


def test_a_whiten_run_without_its_fitted_state_is_refused(trained_run, tmp_path, freqprobe_main, capsys):
    broken = tmp_path / "no-checkpoint"
    shutil.copytree(trained_run, broken)
    (broken / "checkpoint.pt").unlink()
    (broken / "filter_state.safetensors").unlink()
    assert freqprobe_main(["sensitivity", str(broken), "--out", str(tmp_path / "o"), "--shift"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("freqprobe: error: ") and "checkpoint.pt" in error and error.count("\n") == 1
    assert "filter_state.safetensors" in error and "refit_filter_state.py" in error


def test_a_whiten_run_is_analysed_from_its_filter_state_without_a_checkpoint(trained_run, tmp_path, freqprobe_main):
    committed = tmp_path / "committed"
    shutil.copytree(trained_run, committed)
    (committed / "checkpoint.pt").unlink()  # what a committed run folder holds: weights and filter_state.safetensors
    assert freqprobe_main(["sensitivity", str(committed), "--out", str(tmp_path / "o"), "--shift", "--subset", "10",
                           "--quiet"]) == 0


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--out", "OUT"], "no analysis chosen"),
        (["--out", "OUT", "--attack", "fgsm"], "needs --eps"),
    ],
)
def test_incomplete_requests_are_one_line_errors(trained_run, tmp_path, freqprobe_main, capsys, arguments, message):
    arguments = [str(tmp_path / "o") if a == "OUT" else a for a in arguments]
    assert freqprobe_main(["sensitivity", str(trained_run), *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_a_missing_run_folder_is_a_one_line_error(tmp_path, freqprobe_main, capsys):
    assert freqprobe_main(["sensitivity", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--bands"]) == 2
    error = capsys.readouterr().err
    assert "nope does not exist" in error and error.count("\n") == 1


def test_a_bad_eps_is_rejected_by_the_parser(trained_run, tmp_path, freqprobe_main, capsys):
    with pytest.raises(SystemExit) as exit_info:
        freqprobe_main(["sensitivity", str(trained_run), "--out", str(tmp_path), "--attack", "pgd", "--eps", "1/0"])
    assert exit_info.value.code == 2
    assert "not a number" in capsys.readouterr().err


@pytest.mark.parametrize("radii", ["0,-1/28", "0,1/0", "0.1,inf", ","])
def test_impossible_band_radii_are_rejected_by_the_parser(tmp_path, freqprobe_main, capsys, radii):
    with pytest.raises(SystemExit) as exit_info:
        freqprobe_main(["sensitivity", str(tmp_path), "--out", str(tmp_path), "--bands", "--band-radii", radii])
    assert exit_info.value.code == 2
    assert "--band-radii" in capsys.readouterr().err


def test_figure_titles_name_the_shared_cifar_archive_as_the_jpeg_copy():
    from freqprobe.plots.sensitivity import sensitivity_title

    document = {"model": "resnet20", "dataset": "folder:../shared/data/cifar10-jpeg.tar.gz", "filter": "blur:2",
                "antialias": True, "test_images": 10}
    title = sensitivity_title(document, 1000)
    assert title == "resnet20 · CIFAR-10 (JPEG q75 copy) test (1000 images) · filter blur:2 · antialias"
    plain = {"model": "resnet20", "dataset": "fashion-mnist", "filter": "none", "test_images": 500}
    assert sensitivity_title(plain) == "resnet20 · Fashion-MNIST test (500 images) · filter none"


def test_a_mode_failing_midway_leaves_the_previous_results_whole(trained_run, tmp_path, freqprobe_main, monkeypatch):
    """Defect 5: a figure written before the failure never lands beside the JSON of the previous call."""
    import errno

    import freqprobe.plots.sensitivity

    out = tmp_path / "out"
    assert freqprobe_main(["sensitivity", str(trained_run), "--out", str(out), "--shift", "--subset", "10", "--quiet"]) == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert sorted(before) == [RESULTS_FILE, "shift_consistency.png"]

    def figure_then_failure(_result, _title, path):
        path.write_bytes(PNG_MAGIC + b"a new band figure")
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(freqprobe.plots.sensitivity, "plot_band_ablation", figure_then_failure)
    bands = ["sensitivity", str(trained_run), "--out", str(out), "--bands", "--subset", "10", "--quiet"]
    assert freqprobe_main(bands) == 2
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_an_out_that_is_a_file_fails_before_the_run_is_loaded(tmp_path, freqprobe_main, capsys, monkeypatch):
    """Defect 6: no minutes of analysis before a bad --out is noticed."""
    import freqprobe.analysis.sensitivity.runner as runner

    def not_yet(*_args, **_kwargs):
        raise AssertionError("the run was loaded before --out was checked")

    monkeypatch.setattr(runner, "load_run", not_yet)
    (tmp_path / "taken").write_text("keep me")
    assert freqprobe_main(["sensitivity", str(tmp_path), "--out", str(tmp_path / "taken"), "--bands"]) == 2
    expected = f"--out {tmp_path / 'taken'} is an existing file; give a folder path"
    assert capsys.readouterr().err == f"freqprobe: error: {expected}\n"


def test_a_results_file_naming_its_run_by_absolute_path_still_merges(trained_run, tmp_path, freqprobe_main):
    """Files written before run names became relative keep merging; the new name is relative."""
    out = tmp_path / "out"
    out.mkdir()
    (out / RESULTS_FILE).write_text(json.dumps({"run": os.path.abspath(trained_run), "kept": True}))
    assert freqprobe_main(["sensitivity", str(trained_run), "--out", str(out), "--shift", "--subset", "10", "--quiet"]) == 0
    document = json.loads((out / RESULTS_FILE).read_text())
    assert document["kept"] is True and document["run"] == os.path.relpath(trained_run, out)
