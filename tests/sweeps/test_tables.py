"""freqprobe.sweeps.tables: results.csv rows and results.md mean ± std cells, recomputed independently."""

from __future__ import annotations

import csv

from freqprobe.sweeps.grid import expand_grid, resolve_settings
from freqprobe.sweeps.runner import run_sweep
from freqprobe.sweeps.tables import write_tables

from sweep_fakes import FakeTrainer, fake_accuracy, read_metrics
from sweep_helpers import QUIET, expected_cell, make_spec, markdown_table


def test_results_csv_holds_one_row_per_run_with_its_metrics(tmp_path):
    spec = make_spec({"datasets": ["fashion-mnist"], "filters": ["none", "blur:2"], "antialias": [False, True],
                      "seeds": [0, 1]})
    run_sweep(spec, tmp_path, run_fn=FakeTrainer(), log=QUIET)
    with (tmp_path / "results.csv").open() as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames[:5] == ["dataset", "model", "filter", "seed", "antialias"]
    assert reader.fieldnames[5:9] == ["val_accuracy", "test_accuracy", "epochs", "train_seconds"]
    assert len(rows) == 8
    for row, run in zip(rows, expand_grid(spec)):
        metrics = read_metrics(tmp_path / "runs" / run.name)
        assert row["run"] == run.name and row["status"] == "complete"
        assert float(row["test_accuracy"]) == metrics["test_accuracy"] == fake_accuracy(run.name, "test")
        assert float(row["val_accuracy"]) == metrics["val_accuracy"]
        assert int(row["epochs"]) == 1 and float(row["train_seconds"]) == 1.25
        assert row["antialias"] == ("true" if run.config["antialias"] else "false")
        assert row["filter"] == run.config["filter"] and int(row["seed"]) == run.config["seed"]


def test_results_md_shows_mean_and_std_over_seeds(tmp_path):
    spec = make_spec({"datasets": ["fashion-mnist", "cifar10"], "filters": ["none", "highpass:2"],
                      "seeds": [0, 1, 2]})
    run_sweep(spec, tmp_path, run_fn=FakeTrainer(), log=QUIET)
    table = markdown_table((tmp_path / "results.md").read_text())
    assert [row["filter"] for row in table] == ["none", "highpass:2"]
    for row in table:
        for dataset in ("fashion-mnist", "cifar10"):
            for metric in ("test", "val"):
                names = [f"{dataset}__resnet20__{row['filter'].replace(':', '-')}__seed{seed}" for seed in range(3)]
                values = [read_metrics(tmp_path / "runs" / name)[f"{metric}_accuracy"] for name in names]
                assert row[f"{dataset} {metric}"] == expected_cell(values)
    assert "Student-t over seeds (n < 10)" in (tmp_path / "results.md").read_text()


def test_results_md_rows_split_by_swept_options_and_show_missing_cells(tmp_path):
    spec = make_spec({"datasets": ["fashion-mnist", "cifar10"], "antialias": [False, True], "seeds": [0, 1]})
    runs = expand_grid(spec)
    # train only fashion-mnist, and only seed 0 of antialias = true
    wanted = {run.name for run in runs if run.config["dataset"] == "fashion-mnist"} - {runs[3].name}
    trainer = FakeTrainer()
    write_tables(tmp_path, spec, runs)
    for run in runs:
        if run.name in wanted:
            trainer(resolve_settings(run.settings), tmp_path / "runs" / run.name)
    rows = write_tables(tmp_path, spec, runs)
    text = (tmp_path / "results.md").read_text()
    assert "3 of 8 runs complete, 5 missing, 0 failed" in text
    table = markdown_table(text)
    assert [(row["filter"], row["antialias"]) for row in table] == [("none", "false"), ("none", "true")]
    seed0_true = read_metrics(tmp_path / "runs" / runs[2].name)["test_accuracy"]
    assert table[1]["fashion-mnist test"] == expected_cell([seed0_true])
    assert table[0]["cifar10 test"] == "-" and table[1]["cifar10 val"] == "-"
    assert sum(row["status"] == "missing" for row in rows) == 5


def test_results_md_states_params_and_flops_when_models_are_compared(tmp_path):
    spec = make_spec({"datasets": ["fashion-mnist"], "models": ["resnet20", "vgg11_bn"], "filters": ["none"],
                      "seeds": [0, 1]})
    run_sweep(spec, tmp_path, run_fn=FakeTrainer(), log=QUIET)
    table = markdown_table((tmp_path / "results.md").read_text())
    cells = {row["model"]: row["fashion-mnist params / MFLOPs per image"] for row in table}
    assert cells == {"resnet20": "272 k / 40.8", "vgg11_bn": "272 k / 123"}
    with (tmp_path / "results.csv").open() as handle:
        assert {float(row["flops_per_image"]) for row in csv.DictReader(handle)} == {40.8e6, 123.4e6}
    one_model = tmp_path / "one"
    run_sweep(make_spec({"datasets": ["fashion-mnist"], "filters": ["none"], "seeds": [0]}), one_model,
              run_fn=FakeTrainer(), log=QUIET)
    assert "params / MFLOPs" not in (one_model / "results.md").read_text()  # one model: nothing to compare
