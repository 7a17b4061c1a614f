"""freqprobe.sweeps.reproduce and .original: the original rows, the sweep behind them, the side-by-side table and the CLI."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from scipy import stats

from freqprobe.errors import ConfigError
from freqprobe.sweeps import commands, original, reproduce
from freqprobe.sweeps.grid import expand_grid
from freqprobe.sweeps.layout import record_sweep
from freqprobe.sweeps.original import ORIGINAL_ROWS
from freqprobe.sweeps.reproduce import build_spec, write_reproduce_table
from freqprobe.sweeps.runner import run_sweep
from freqprobe.sweeps.spec import load_spec
from freqprobe.train.config import TrainConfig

from sweep_fakes import FakeTrainer, read_metrics
from sweep_helpers import QUIET, REPO, expected_cell, markdown_table, run_cli
JPEG = "folder:/data/shared/cifar10-jpeg.tar.gz"

# The original README's table, as published (percent).
ORIGINAL_README = """
| ResNet-18 | none | 92.79 | 92.16 | 92.04 | 92.04 |
| FFT transform | whiten | 10.29 | 9.89 | 88.38 | 88.38 |
| Gaussian blur sigma=2 | blur:2 | 78.25 | 78.25 | 91.54 | 91.54 |
| Gaussian blur sigma=4 | blur:4 | 59.13 | 59.13 | 88.87 | 88.87 |
| original - blur sigma=2 | highpass:2 | 10.00 | 9.52 | 88.38 | 88.38 |
| original - blur sigma=4 | highpass:4 | 10.00 | 9.52 | 88.38 | 88.38 |
| original - blur sigma=12 | highpass:12 | - | - | 89.17 | 89.31 |
| original - blur sigma=20 | highpass:20 | - | - | 89.01 | 89.01 |
"""


def readme_rows() -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in ORIGINAL_README.strip().splitlines()]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# ------------------------------------------------------------------------------------------------ original rows


def test_the_original_rows_are_the_readme_table():
    assert len(ORIGINAL_ROWS) == len(readme_rows())
    for row, (variant, spec, c_test, c_val, f_test, f_val) in zip(ORIGINAL_ROWS, readme_rows()):
        assert (row.variant, row.filter) == (variant, spec)
        assert [_number(v) for v in row.accuracy["cifar10"]] == [c_test, c_val]
        assert [_number(v) for v in row.accuracy["fashion-mnist"]] == [f_test, f_val]


def test_original_columns():
    assert original.original_key("cifar10") == "cifar10"
    assert original.original_key("fashion-mnist") == "fashion-mnist"
    assert original.original_key("folder:../shared/data/cifar10-jpeg.tar.gz") == "cifar10"
    assert original.original_key("folder:/x/pets.tar") is None


# ------------------------------------------------------------------------------------------------ the sweep


def test_the_default_spec_is_the_original_table_with_resnet18():
    runs = expand_grid(build_spec())
    assert len(runs) == 2 * 8
    assert [run.config["filter"] for run in runs[:8]] == [row[1] for row in readme_rows()]
    assert {run.config["dataset"] for run in runs} == {"fashion-mnist", "cifar10"}
    assert {run.config["model"] for run in runs} == {"resnet18"}
    assert {run.config["seed"] for run in runs} == {0}
    assert {run.config["epochs"] for run in runs} == {TrainConfig().epochs}


def test_model_epochs_seeds_preset_and_subset_pass_through():
    from freqprobe.train.presets import PRESETS

    spec = build_spec(["fashion-mnist"], model="resnet20", epochs=2, seeds=3, preset="fast", subset=500,
                      limit_eval=300)
    runs = expand_grid(spec)
    assert len(runs) == 8 * 3
    config = runs[0].config
    assert (config["model"], config["epochs"], config["preset"]) == ("resnet20", 2, "fast")
    assert (config["subset"], config["limit_eval"]) == (500, 300)
    assert "a quick check" in reproduce.describe_recipe(runs)
    assert config["lr"] == PRESETS["fast"]["fashion-mnist"]["lr"]
    assert sorted({run.config["seed"] for run in runs}) == [0, 1, 2]


@pytest.mark.parametrize("name", ["reproduce_fashion_mnist.toml", "reproduce_cifar10_jpeg.toml"])
def test_the_experiment_specs_are_the_reproduce_sweeps(name):
    spec_runs = expand_grid(load_spec(REPO / "experiments" / name))
    datasets = list(dict.fromkeys(run.config["dataset"] for run in spec_runs))
    seeds = len({run.config["seed"] for run in spec_runs})
    built = expand_grid(build_spec(datasets, model="resnet20", preset="fast", seeds=seeds))
    assert [(run.name, run.config) for run in spec_runs] == [(run.name, run.config) for run in built]


def test_set_passes_any_other_training_option_to_every_run_over_the_preset():
    settings = reproduce.parse_settings(["cutout=0", "val-fraction=0.2", "tta_flip=false", "padding_mode=zero"])
    assert settings == {"cutout": 0, "val_fraction": 0.2, "tta_flip": False, "padding_mode": "zero"}
    runs = expand_grid(build_spec([JPEG], model="resnet20", preset="fast", settings=settings))
    assert {(run.config["cutout"], run.config["val_fraction"], run.config["tta_flip"]) for run in runs} == {
        (0, 0.2, False)
    }
    assert {run.config["tta_translate"] for run in runs} == {1}  # what --set leaves alone comes from the preset


@pytest.mark.parametrize("item, fragment", [
    ("cutout", "write KEY=VALUE"),
    ("cutuot=0", "unknown training option 'cutuot'; did you mean 'cutout'?"),
    ("epochs=3", "epochs is not set this way; use --epochs"),
    ("filter=blur:2", "the table sweeps the original rows' filters"),
])  # fmt: skip
def test_bad_set_items_fail_in_one_line(item, fragment):
    with pytest.raises(ConfigError) as error:
        reproduce.parse_settings([item])
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_the_committed_cifar_reproduce_is_described_by_its_documented_command(tmp_path):
    # results/reproduce-cifar10-jpeg-resnet20-2ep-10k/COMMANDS.md: made with the preset of its day, re-run with pins
    folder = REPO / "results" / "reproduce-cifar10-jpeg-resnet20-2ep-10k"
    recorded = json.loads((folder / "sweep.json").read_text())
    (tmp_path / "sweep.json").write_text(json.dumps(recorded))
    pins = reproduce.parse_settings(["val_fraction=0.2", "cutout=0", "tta_translate=0"])
    spec = build_spec(recorded["grid"]["dataset"], model="resnet20", preset="fast", epochs=2, subset=10000,
                      settings=pins)  # fmt: skip
    record_sweep(tmp_path, spec, expand_grid(spec))  # raises if any run's configuration differs
    unpinned = build_spec(recorded["grid"]["dataset"], model="resnet20", preset="fast", epochs=2, subset=10000)
    with pytest.raises(ConfigError, match="holds a different sweep"):
        record_sweep(tmp_path, unpinned, expand_grid(unpinned))


CIFAR_ROWS = ["none", "whiten", "blur:2", "blur:4", "highpass:2", "highpass:4"]


def test_rows_choose_the_original_rows_in_the_table_order_and_the_cifar_spec_is_such_a_table(tmp_path):
    committed = expand_grid(load_spec(REPO / "experiments" / "reproduce_cifar10_jpeg_10ep_3seeds.toml"))
    datasets = list(dict.fromkeys(run.config["dataset"] for run in committed))
    spec = build_spec(datasets, model="resnet20", preset="fast", epochs=10, seeds=3, rows=list(reversed(CIFAR_ROWS)))
    runs = expand_grid(spec)
    assert list(dict.fromkeys(run.config["filter"] for run in runs)) == CIFAR_ROWS and len(runs) == 18
    assert [(run.name, run.config) for run in committed] == [(run.name, run.config) for run in runs]
    table = markdown_table(write_reproduce_table(spec, tmp_path))
    assert [row["filter"] for row in table] == CIFAR_ROWS
    assert "0 of 18 runs complete, 18 missing" in (tmp_path / "reproduce.md").read_text()


@pytest.mark.parametrize("kwargs, fragment", [
    ({"rows": ["none", "blur:3"]}, "--rows none,blur:3: blur:3 is no row of the original table; choose from none,"),
    ({"rows": [" "]}, "--rows ' ' names no row; choose from none, whiten"),
    ({"seeds": 0}, "--seeds 0"),
    ({"epochs": 0}, "--epochs 0"),
    ({"datasets": ["mnist"]}, "--dataset 'mnist' is not supported"),
    ({"datasets": ["cifar10", "cifar10"]}, "given twice"),
])
def test_bad_reproduce_options_fail_in_one_line(kwargs, fragment):
    with pytest.raises(ConfigError) as error:
        build_spec(**kwargs)
    assert fragment in str(error.value) and "\n" not in str(error.value)


# ------------------------------------------------------------------------------------------------ the table


def test_the_table_puts_freqprobe_beside_the_original_row_by_row(tmp_path):
    spec = build_spec(["fashion-mnist", JPEG], model="resnet20", epochs=1, seeds=2)
    run_sweep(spec, tmp_path, run_fn=FakeTrainer(), log=QUIET)
    text = write_reproduce_table(spec, tmp_path)
    assert (tmp_path / "reproduce.md").read_text() == text
    table = markdown_table(text)
    assert [row["variant (original name)"] for row in table] == [row[0] for row in readme_rows()]
    columns = {"Fashion-MNIST": ("fashion-mnist", 4, 5), "CIFAR-10 (JPEG q75 copy)": ("folder-cifar10-jpeg", 2, 3)}
    for row, readme in zip(table, readme_rows()):
        slug = row["filter"].replace(":", "-")
        for label, (dataset, test_col, val_col) in columns.items():
            assert row[f"{label} test: original"] == readme[test_col]
            assert row[f"{label} val: original"] == readme[val_col]
            folders = [tmp_path / "runs" / f"{dataset}__resnet20__{slug}__seed{seed}" for seed in (0, 1)]
            for metric in ("test", "val"):
                values = [read_metrics(folder)[f"{metric}_accuracy"] for folder in folders]
                assert row[f"{label} {metric}: freqprobe"] == expected_cell(values)
            difference = row[f"{label} test: freqprobe - original"]
            if readme[test_col] == "-":
                assert difference == "-"
            else:
                values = 100 * np.array([read_metrics(folder)["test_accuracy"] for folder in folders])
                low, high = stats.ttest_1samp(values, 0.0).confidence_interval(0.95)
                original = float(readme[test_col])
                assert difference == (f"{values.mean() - original:+.2f} [{low - original:+.2f}, "
                                      f"{high - original:+.2f}] (n=2)")
    by_filter = {row["filter"]: row for row in table}
    assert by_filter["highpass:12"]["CIFAR-10 (JPEG q75 copy) test: original"] == "-"
    assert "uint8 - uint8" in by_filter["highpass:2"]["what differs in the original"]
    assert "89.30" in by_filter["highpass:2"]["what differs in the original"]
    assert "88.48" in by_filter["highpass:4"]["what differs in the original"]
    assert "255 again" in by_filter["whiten"]["what differs in the original"]
    assert "colour axis" in by_filter["blur:2"]["what differs in the original"]
    assert "model resnet20, epochs 1, schedule onecycle" in text  # the recipe actually used
    assert "step schedule (lr 0.1, x0.1 every 50 epochs)" in text  # the original's
    assert "32 of 32 runs complete, 0 missing, 0 failed" in text
    for phrase in ("256 + d", "3-D Gaussian", "~1e-3", "JPEG quality-75", "fitted on the filtered training split"):
        assert phrase in text


def test_rows_without_runs_or_original_numbers_print_a_dash(tmp_path):
    spec = build_spec(["folder:/x/pets.tar", "cifar10"], model="resnet20", epochs=1)
    text = write_reproduce_table(spec, tmp_path)  # nothing trained yet
    table = markdown_table(text)
    assert all(row["folder:/x/pets.tar test: original"] == "-" for row in table)
    assert all(row["CIFAR-10 test: freqprobe"] == "-" for row in table)
    assert table[0]["CIFAR-10 test: original"] == "92.79"
    assert "0 of 16 runs complete, 16 missing" in text
    assert "JPEG quality-75" not in text


# ------------------------------------------------------------------------------------------------ command line


def test_add_commands_registers_on_a_fresh_parser():
    parser = argparse.ArgumentParser(prog="freqprobe")
    commands.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reproduce", "--out", "d"])
    assert args.handler.__module__ == "freqprobe.sweeps.commands"


def test_cli_reproduce_runs_prints_and_resumes(tmp_path, shared_data, fake_engine, capsys):
    out = tmp_path / "out"
    argv = ["reproduce", "--dataset", "fashion-mnist", "--model", "resnet20", "--epochs", "1", "--seeds", "2",
            "--data-dir", str(shared_data), "--out", str(out)]
    fake_engine.interrupt_after = 5
    assert run_cli(argv) == 130  # Ctrl-C: the CLI says the work is saved
    assert len(fake_engine.calls) == 5
    fake_engine.interrupt_after = None
    assert run_cli(argv) == 0
    assert fake_engine.calls[5] == (fake_engine.calls[4][0], True)  # the interrupted run resumed
    assert len(fake_engine.calls) == 16 + 1
    printed = capsys.readouterr().out
    assert printed.strip() == (out / "reproduce.md").read_text().strip()
    assert "| original - blur sigma=20 | highpass:20 | 89.01 |" in printed
    assert run_cli(argv) == 0 and len(fake_engine.calls) == 17  # complete: nothing trained again


def test_cli_reproduce_collect_trains_nothing(tmp_path, fake_engine, capsys):
    argv = ["reproduce", "--dataset", "fashion-mnist", "--model", "resnet20", "--out", str(tmp_path), "--collect"]
    assert run_cli(argv) == 0
    assert fake_engine.calls == []
    assert "0 of 8 runs complete, 8 missing" in capsys.readouterr().out


def test_cli_reproduce_reports_failures_with_exit_1(tmp_path, shared_data, fake_engine, capsys):
    fake_engine.fail = {"fashion-mnist__resnet20__whiten__seed0"}
    argv = ["reproduce", "--dataset", "fashion-mnist", "--model", "resnet20", "--epochs", "1",
            "--data-dir", str(shared_data), "--out", str(tmp_path)]
    assert run_cli(argv) == 1
    captured = capsys.readouterr()
    assert "Failed runs:" in captured.out and "freqprobe: 1 of 8 runs failed" in captured.err
    assert len(fake_engine.calls) == 8


@pytest.mark.parametrize("argv_tail, fragment", [
    (["--dataset", "folder:/nonexistent/cifar10-jpeg.tar.gz"], "/nonexistent/cifar10-jpeg.tar.gz"),
    (["--dataset", "svhn"], "--dataset 'svhn' is not supported"),
    (["--seeds", "0"], "--seeds 0"),
    (["--shard", "3/2"], "--shard 3/2 is out of range"),
])
def test_cli_reproduce_bad_input_prints_one_line(tmp_path, fake_engine, capsys, argv_tail, fragment):
    argv = ["reproduce", "--model", "resnet20", "--out", str(tmp_path / "o"), *argv_tail]
    if "--dataset" not in argv_tail:
        argv += ["--dataset", "fashion-mnist", "--data-dir", str(tmp_path)]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("freqprobe: error:") and fragment in err[0]
    assert fake_engine.calls == []
