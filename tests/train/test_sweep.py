"""freqprobe.train.sweep: grid expansion, names, sharding, locks, resume, tables and one-line errors."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from freqprobe.errors import ConfigError, FreqprobeError
from freqprobe.train import sweep, sweep_tables
from freqprobe.train.locks import acquire_lock, read_lock, release_lock
from freqprobe.train.sweep import (
    expand_grid,
    load_spec,
    lock_path,
    parse_shard,
    run_sweep,
    shard_runs,
    spec_from_dict,
)

from sweep_fakes import FakeTrainer, fake_accuracy, read_metrics

REPO = Path(__file__).resolve().parents[2]
QUIET = lambda message: None  # noqa: E731


def make_spec(grid=None, base=None, source="test-spec"):
    grid = grid if grid is not None else {
        "datasets": ["fashion-mnist", "cifar10"],
        "filters": ["none", "blur:2", "highpass:2"],
        "seeds": [0, 1],
    }
    return spec_from_dict({"base": base or {"epochs": 1}, "grid": grid}, source=source)


def write_spec(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ grid and names


def test_grid_expands_to_the_product_with_readable_names():
    runs = expand_grid(make_spec())
    names = [run.name for run in runs]
    expected = [
        f"{dataset}__resnet20__{filt}__seed{seed}"
        for dataset in ("fashion-mnist", "cifar10")
        for filt in ("none", "blur-2", "highpass-2")
        for seed in (0, 1)
    ]
    assert names == expected
    assert [run.index for run in runs] == list(range(12))
    assert runs[5].config["dataset"] == "fashion-mnist" and runs[5].config["filter"] == "highpass:2"
    assert runs[5].config["seed"] == 1 and runs[5].config["epochs"] == 1


def test_grid_order_is_canonical_whatever_order_the_spec_uses():
    reordered = make_spec({"seeds": [0, 1], "filters": ["none", "blur:2"], "datasets": ["fashion-mnist"]})
    assert list(reordered.grid) == ["dataset", "filter", "seed"]
    assert [run.name for run in expand_grid(reordered)][:2] == [
        "fashion-mnist__resnet20__none__seed0",
        "fashion-mnist__resnet20__none__seed1",
    ]


def test_other_swept_options_add_a_hash_of_their_values():
    spec = make_spec({"datasets": ["fashion-mnist"], "antialias": [False, True], "lr": [0.05], "seeds": [0]})
    runs = expand_grid(spec)
    assert len(runs) == 2
    for run, antialias in zip(runs, (False, True)):
        expected_hash = hashlib.sha1(
            json.dumps({"antialias": antialias, "lr": 0.05}, sort_keys=True).encode()
        ).hexdigest()[:8]
        assert run.name == f"fashion-mnist__resnet20__none__seed0__{expected_hash}"
        assert run.options == {"antialias": antialias, "lr": 0.05}
    assert runs[0].name != runs[1].name


def test_folder_datasets_are_named_by_their_file():
    spec = make_spec({"datasets": ["folder:/data/x/cifar10-jpeg.tar.gz"], "seeds": [3]})
    assert expand_grid(spec)[0].name == "folder-cifar10-jpeg__resnet20__none__seed3"


def test_a_preset_is_resolved_per_dataset():
    from freqprobe.train.presets import PRESETS

    spec = make_spec({"datasets": ["fashion-mnist", "cifar10"]}, base={"preset": "fast"})
    fmnist, cifar = expand_grid(spec)
    assert fmnist.config["epochs"] == PRESETS["fast"]["fashion-mnist"]["epochs"]
    assert cifar.config["epochs"] == PRESETS["fast"]["cifar10"]["epochs"]
    assert fmnist.config["crop_padding"] == PRESETS["fast"]["fashion-mnist"]["crop_padding"]
    settings = sweep_tables.describe_settings([fmnist, cifar])
    if fmnist.config["epochs"] != cifar.config["epochs"]:
        assert f"epochs {fmnist.config['epochs']} (fashion-mnist) / {cifar.config['epochs']} (cifar10)" in settings
    else:
        assert f"epochs {fmnist.config['epochs']}," in settings
    assert "preset fast" in settings and "subset" not in settings


def test_per_dataset_tables_set_fields_for_one_dataset_only():
    spec = spec_from_dict({
        "base": {"epochs": 1, "preset": "fast"},
        "grid": {"datasets": ["fashion-mnist", "cifar10"], "seeds": [0]},
        "per_dataset": {"cifar10": {"epochs": 5, "val_fraction": 0.3, "cutout": 0}},
    })  # fmt: skip
    fmnist, cifar = expand_grid(spec)
    assert (fmnist.config["epochs"], cifar.config["epochs"]) == (1, 5)  # over [base]
    assert (fmnist.config["val_fraction"], cifar.config["val_fraction"]) == (0.1, 0.3)  # over the preset
    assert cifar.config["tta_translate"] == 1 and cifar.config["tta_flip"]  # the rest of the preset stays
    assert (fmnist.name, cifar.name) == ("fashion-mnist__resnet20__none__seed0", "cifar10__resnet20__none__seed0")


GOOD_SPEC = "[base]\nepochs = 1\n[grid]\ndatasets = ['fashion-mnist']\nseeds = [0]\n"


@pytest.mark.parametrize("text, fragments", [
    (GOOD_SPEC + "[per_dataset.mnist]\nepochs = 2\n",
     ["bad.toml:6", "[per_dataset.\"mnist\"] names a dataset this sweep does not train", "its datasets: fashion-mnist"]),
    (GOOD_SPEC + '[per_dataset."fashion-mnist"]\nepohcs = 2\n',
     ["bad.toml:7", "unknown field 'epohcs'", "did you mean 'epochs'"]),
    (GOOD_SPEC + '[per_dataset."fashion-mnist"]\nseed = 2\n', ["bad.toml:7", "'seed' is set in both", "[grid]"]),
    (GOOD_SPEC + '[per_dataset."fashion-mnist"]\ndataset = "cifar10"\n', ["unknown field 'dataset'"]),
    ("per_dataset = 3\n" + GOOD_SPEC, ["bad.toml:1", "per_dataset must hold one table per dataset"]),
])  # fmt: skip
def test_bad_per_dataset_tables_fail_in_one_line(tmp_path, text, fragments):
    path = write_spec(tmp_path / "bad.toml", text)
    message = one_line_error(lambda: expand_grid(load_spec(path)))
    for fragment in fragments:
        assert fragment in message


# ------------------------------------------------------------------------------------------------ sharding


@pytest.mark.parametrize("count", [1, 2, 3, 5, 12, 13])
def test_shards_partition_the_grid_exactly(count):
    runs = expand_grid(make_spec())
    shards = [shard_runs(runs, index, count) for index in range(count)]
    names = [run.name for shard in shards for run in shard]
    assert sorted(names) == sorted(run.name for run in runs)  # union is everything
    assert len(names) == len(set(names))  # disjoint
    assert all(run.index % count == index for index, shard in enumerate(shards) for run in shard)


@pytest.mark.parametrize("text, expected", [("0/1", (0, 1)), ("2/3", (2, 3)), (" 1 / 4 ", (1, 4))])
def test_parse_shard_accepts_zero_based_shards(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("3/2", "0-based, use 0/2 .. 1/2"),
    ("2/2", "0-based, use 0/2 .. 1/2"),
    ("1/0", "at least 1"),
    ("a/b", "not of the form i/n"),
    ("-1/2", "not of the form i/n"),
    ("1", "not of the form i/n"),
])
def test_parse_shard_rejects_bad_shards_in_one_line(text, fragment):
    with pytest.raises(ConfigError) as error:
        parse_shard(text)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_shards_run_disjoint_parts_of_one_output_folder(tmp_path):
    spec = make_spec()
    trainers = [FakeTrainer() for _ in range(3)]
    for index, trainer in enumerate(trainers):
        run_sweep(spec, tmp_path, shard=(index, 3), run_fn=trainer, log=QUIET)
    called = [name for trainer in trainers for name in trainer.names]
    assert sorted(called) == sorted(run.name for run in expand_grid(spec))
    assert len(called) == len(set(called))
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [row["status"] for row in rows] == ["complete"] * 12


# ------------------------------------------------------------------------------------------------ resume and skip


def test_complete_runs_are_skipped_and_the_rest_trained(tmp_path):
    spec = make_spec()
    first = FakeTrainer()
    outcome = run_sweep(spec, tmp_path, run_fn=first, log=QUIET)
    names = [run.name for run in expand_grid(spec)]
    assert first.calls == [(name, False) for name in names]
    assert outcome.trained == names and not outcome.failed
    second = FakeTrainer()
    outcome = run_sweep(spec, tmp_path, run_fn=second, log=QUIET)
    assert second.calls == []
    assert outcome.skipped == names


def test_an_interrupted_sweep_resumes_where_it_stopped(tmp_path):
    spec = make_spec()
    names = [run.name for run in expand_grid(spec)]
    interrupted = FakeTrainer(interrupt_after=4)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, tmp_path, run_fn=interrupted, log=QUIET)
    assert interrupted.names == names[:4]
    assert not lock_path(tmp_path, names[3]).exists()  # the lock is released on the way out
    resumed = FakeTrainer()
    run_sweep(spec, tmp_path, run_fn=resumed, log=QUIET)
    # the killed run continues from its checkpoint; runs never started begin fresh
    assert resumed.calls == [(names[3], True)] + [(name, False) for name in names[4:]]


def test_runs_get_the_spec_values_and_this_machines_data_dir(tmp_path):
    spec = make_spec({"datasets": ["fashion-mnist"], "antialias": [True]}, base={"epochs": 3, "lr": 0.05})
    trainer = FakeTrainer()
    run_sweep(spec, tmp_path, data_dir="/somewhere/data", run_fn=trainer, log=QUIET)
    (config,) = trainer.configs.values()
    assert (config["epochs"], config["lr"], config["antialias"]) == (3, 0.05, True)
    assert config["data_dir"] == "/somewhere/data"


def test_failed_runs_are_recorded_and_the_sweep_goes_on(tmp_path):
    spec = make_spec()
    names = [run.name for run in expand_grid(spec)]
    broken = names[2]
    trainer = FakeTrainer(fail={broken})
    outcome = run_sweep(spec, tmp_path, run_fn=trainer, log=QUIET)
    assert trainer.names == names  # every run was attempted
    assert list(outcome.failed) == [broken]
    assert outcome.failed[broken].startswith("TrainingDiverged: loss is nan")
    record = json.loads((tmp_path / "failed" / f"{broken}.json").read_text())
    assert record["run"] == broken and "TrainingDiverged" in "".join(record["traceback"])
    rows = {row["run"]: row for row in csv.DictReader((tmp_path / "results.csv").open())}
    assert rows[broken]["status"] == "failed" and rows[broken]["test_accuracy"] == ""
    assert "TrainingDiverged" in rows[broken]["error"]
    assert "Failed runs:" in (tmp_path / "results.md").read_text()
    # a re-run retries only the failed run (continuing its folder) and clears its record on success
    retry = FakeTrainer()
    run_sweep(spec, tmp_path, run_fn=retry, log=QUIET)
    assert retry.calls == [(broken, True)]
    assert not (tmp_path / "failed" / f"{broken}.json").exists()


def test_reusing_an_output_folder_for_a_changed_spec_is_refused(tmp_path):
    run_sweep(make_spec(base={"epochs": 1}), tmp_path, run_fn=FakeTrainer(), log=QUIET)
    with pytest.raises(ConfigError) as error:
        run_sweep(make_spec(base={"epochs": 2}), tmp_path, run_fn=FakeTrainer(), log=QUIET)
    message = str(error.value)
    assert "epochs=1" in message and "2" in message and "another --out" in message and "\n" not in message


def test_a_field_added_later_counts_as_its_default_when_the_record_lacks_it(tmp_path):
    run_sweep(make_spec(base={"epochs": 1}), tmp_path, run_fn=FakeTrainer(), log=QUIET)
    record = json.loads((tmp_path / "sweep.json").read_text())
    for config in record["runs"].values():
        del config["cutout"]  # as written by a freqprobe that had no cutout yet
    (tmp_path / "sweep.json").write_text(json.dumps(record))
    unchanged = FakeTrainer()
    run_sweep(make_spec(base={"epochs": 1, "cutout": 0}), tmp_path, run_fn=unchanged, log=QUIET)
    assert unchanged.names == []  # the default: the same runs, all complete
    with pytest.raises(ConfigError, match=r"had cutout=0, test-spec gives 8; use another --out"):
        run_sweep(make_spec(base={"epochs": 1, "cutout": 8}), tmp_path, run_fn=FakeTrainer(), log=QUIET)


@pytest.mark.parametrize("spec_name, folder", [
    ("bandpass.toml", "results/bandpass/conv"),
    ("bandpass_reg.toml", "results/bandpass/reg"),
])  # fmt: skip
def test_the_committed_band_pass_specs_still_describe_their_committed_results(tmp_path, spec_name, folder):
    # the commands in results/bandpass/COMMANDS.md must resume these folders, not refuse them or retrain
    (tmp_path / "sweep.json").write_bytes((REPO / folder / "sweep.json").read_bytes())
    spec = load_spec(REPO / "experiments" / spec_name)
    sweep.record_sweep(tmp_path, spec, expand_grid(spec))
    recorded = json.loads((REPO / folder / "sweep.json").read_text())["runs"]
    assert {run.name for run in expand_grid(spec)} == set(recorded)


def test_a_grown_grid_adds_runs_to_the_same_folder(tmp_path):
    run_sweep(make_spec({"datasets": ["fashion-mnist"], "seeds": [0]}), tmp_path, run_fn=FakeTrainer(), log=QUIET)
    grown = FakeTrainer()
    run_sweep(make_spec({"datasets": ["fashion-mnist"], "seeds": [0, 1]}), tmp_path, run_fn=grown, log=QUIET)
    assert grown.names == ["fashion-mnist__resnet20__none__seed1"]


# ------------------------------------------------------------------------------------------------ locks


@pytest.fixture
def other_process():
    """A live process on this host that is not us."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def write_lock(path: Path, host: str, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": host, "pid": pid, "started": 0.0, "token": "x"}))


def test_a_lock_is_exclusive_and_released(tmp_path, other_process):
    path = tmp_path / "locks" / "a.lock"
    assert acquire_lock(path) is None
    assert read_lock(path)["pid"] == os.getpid()
    release_lock(path)
    assert not path.exists()
    write_lock(path, socket.gethostname(), other_process.pid)
    holder = acquire_lock(path)
    assert holder["pid"] == other_process.pid
    release_lock(path)  # not ours: stays
    assert read_lock(path)["pid"] == other_process.pid


def test_a_stale_lock_of_a_dead_process_on_this_host_is_taken_over(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    path = tmp_path / "locks" / "a.lock"
    write_lock(path, socket.gethostname(), dead_pid)
    assert acquire_lock(path) is None
    assert read_lock(path)["pid"] == os.getpid()


def test_a_lock_from_another_host_is_never_taken_over(tmp_path):
    path = tmp_path / "locks" / "a.lock"
    write_lock(path, "some-other-machine", 1)
    assert acquire_lock(path)["host"] == "some-other-machine"


def test_the_sweep_skips_runs_locked_by_a_live_process_and_takes_over_dead_ones(tmp_path, other_process):
    spec = make_spec({"datasets": ["fashion-mnist"], "seeds": [0, 1]})
    busy, crashed = [run.name for run in expand_grid(spec)]
    write_lock(lock_path(tmp_path, busy), socket.gethostname(), other_process.pid)
    write_lock(lock_path(tmp_path, crashed), socket.gethostname(), 2**22 + 12345)  # beyond pid_max: dead
    trainer = FakeTrainer()
    outcome = run_sweep(spec, tmp_path, run_fn=trainer, log=QUIET)
    assert trainer.names == [crashed]
    assert outcome.busy == {busy: f"{socket.gethostname()}:{other_process.pid}"}
    assert not lock_path(tmp_path, crashed).exists()
    assert lock_path(tmp_path, busy).exists()


CONCURRENT_SWEEP = """
import sys, time
sys.path.insert(0, sys.argv[1])
from sweep_fakes import FakeTrainer
from freqprobe.io import append_jsonl
from freqprobe.train.sweep import run_sweep, spec_from_dict

class SlowTrainer(FakeTrainer):
    def __call__(self, config, out_dir, resume=False):
        append_jsonl(sys.argv[3], {"run": out_dir.name})
        time.sleep(0.3)  # long enough for the other process to reach the same run
        return super().__call__(config, out_dir, resume)

spec = spec_from_dict({"base": {"epochs": 1}, "grid": {"datasets": ["fashion-mnist"], "seeds": list(range(6))}})
run_sweep(spec, sys.argv[2], run_fn=SlowTrainer(), log=lambda message: None)
"""


@pytest.mark.slow
def test_two_processes_on_one_shard_never_train_the_same_run(tmp_path):
    from freqprobe.io import read_jsonl

    calls = tmp_path / "calls.jsonl"
    argv = [sys.executable, "-c", CONCURRENT_SWEEP, str(Path(__file__).parent), str(tmp_path / "out"), str(calls)]
    processes = [subprocess.Popen(argv) for _ in range(2)]
    assert [process.wait(timeout=120) for process in processes] == [0, 0]
    trained = [record["run"] for record in read_jsonl(calls)]
    assert sorted(trained) == sorted(f"fashion-mnist__resnet20__none__seed{seed}" for seed in range(6))
    assert not list((tmp_path / "out" / "locks").glob("*.lock"))


# ------------------------------------------------------------------------------------------------ tables


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


def markdown_table(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]


def expected_cell(values: list[float]) -> str:
    percent = 100 * np.array(values)
    if len(percent) == 1:
        return f"{percent[0]:.2f} (n=1)"
    return f"{percent.mean():.2f} ± {percent.std(ddof=1):.2f} (n={len(percent)})"


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


def test_results_md_rows_split_by_swept_options_and_show_missing_cells(tmp_path):
    spec = make_spec({"datasets": ["fashion-mnist", "cifar10"], "antialias": [False, True], "seeds": [0, 1]})
    runs = expand_grid(spec)
    # train only fashion-mnist, and only seed 0 of antialias = true
    wanted = {run.name for run in runs if run.config["dataset"] == "fashion-mnist"} - {runs[3].name}
    trainer = FakeTrainer()
    sweep_tables.write_tables(tmp_path, spec, runs)
    for run in runs:
        if run.name in wanted:
            trainer(sweep.resolve_settings(run.settings), tmp_path / "runs" / run.name)
    rows = sweep_tables.write_tables(tmp_path, spec, runs)
    text = (tmp_path / "results.md").read_text()
    assert "3 of 8 runs complete, 5 missing, 0 failed" in text
    table = markdown_table(text)
    assert [(row["filter"], row["antialias"]) for row in table] == [("none", "false"), ("none", "true")]
    seed0_true = read_metrics(tmp_path / "runs" / runs[2].name)["test_accuracy"]
    assert table[1]["fashion-mnist test"] == expected_cell([seed0_true])
    assert table[0]["cifar10 test"] == "-" and table[1]["cifar10 val"] == "-"
    assert sum(row["status"] == "missing" for row in rows) == 5


# ------------------------------------------------------------------------------------------------ spec errors


def one_line_error(function, *args) -> str:
    with pytest.raises(FreqprobeError) as error:
        function(*args)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_missing_spec_file(tmp_path):
    message = one_line_error(load_spec, tmp_path / "nope.toml")
    assert "nope.toml not found" in message and "experiments/example_sweep.toml" in message


def test_bad_toml_names_file_and_line(tmp_path):
    path = write_spec(tmp_path / "bad.toml", "[base]\nepochs = 1\n[grid]\nseeds == [0]\n")
    message = one_line_error(load_spec, path)
    assert "bad.toml" in message and "invalid TOML" in message and "line 4" in message


@pytest.mark.parametrize("text, fragments", [
    ("[base]\nepochs = 1\n[gird]\nseeds = [0]\n", ["bad.toml:3", "unknown table or key 'gird'"]),
    ("[base]\nepohcs = 1\n[grid]\ndatasets = ['fashion-mnist']\n", ["bad.toml:2", "'epohcs'", "did you mean 'epochs'"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nfilterz = ['none']\n", ["bad.toml:4", "did you mean 'filters'"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\n", ["[grid] is empty"]),
    ("[base]\ndataset = 'fashion-mnist'\n", ["has no [grid] table"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nseeds = 0\n", ["grid.seeds must be a list", "seeds = [0]"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nseeds = []\n", ["grid.seeds is an empty list"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nseeds = [1, 1]\n", ["lists 1 twice"]),
    ("[base]\ndataset = 'fashion-mnist'\nseed = 1\n[grid]\nseeds = [0]\n", ["'seed' is set in both"]),
    ("[base]\ndataset = 'fashion-mnist'\n[grid]\nseeds = [0]\nseed = [1]\n", ["'seed' twice"]),
    ("[base]\nepochs = 1\n[grid]\nseeds = [0]\n", ["names no dataset"]),
    ("[base]\nepochs = 0\n[grid]\ndatasets = ['fashion-mnist']\n", ["dataset=\"fashion-mnist\"", "epochs must be"]),
    ("[base]\npreset = 'nope'\n[grid]\ndatasets = ['fashion-mnist']\n", ["unknown preset 'nope'"]),
    ("[base]\nepochs = 1\n[grid]\ndatasets = ['fashion-mnist']\nfilters = ['none', 'blur:0']\n",
     ['filter="blur:0"', "sigma must be a positive"]),
    ("[base]\nepochs = 1\n[grid]\ndatasets = ['mnist']\n", ["unknown dataset 'mnist'; valid: cifar10"]),
    ("[base]\nmodel = 'resnet21'\n[grid]\ndatasets = ['fashion-mnist']\n", ["unknown model 'resnet21'"]),
])
def test_bad_specs_fail_in_one_line(tmp_path, text, fragments):
    path = write_spec(tmp_path / "bad.toml", text)
    message = one_line_error(lambda: expand_grid(load_spec(path)))
    assert "bad.toml" in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "experiments").glob("*.toml")))
def test_the_example_specs_are_valid(name):
    runs = expand_grid(load_spec(REPO / "experiments" / name))
    assert runs and len({run.name for run in runs}) == len(runs)


# ------------------------------------------------------------------------------------------------ command line


def run_cli(argv: list[str]) -> int:
    from freqprobe.cli import main

    return main(argv)


def test_add_commands_registers_on_a_fresh_parser():
    parser = argparse.ArgumentParser(prog="freqprobe")
    sweep.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sweep", *(["spec.toml"] if "sweep" == "sweep" else []), "--out", "d"])
    assert args.handler.__module__ == "freqprobe.train.sweep"


@pytest.fixture
def fake_engine(monkeypatch):
    import freqprobe.train

    trainer = FakeTrainer()
    monkeypatch.setattr(freqprobe.train, "run_training", trainer, raising=False)
    return trainer


SPEC_TEXT = """
[base]
epochs = 1

[grid]
datasets = ["fashion-mnist"]
filters = ["none", "blur:2"]
seeds = [0, 1]
"""


def test_cli_sweep_runs_shards_and_collects(tmp_path, fake_engine, capsys):
    spec = write_spec(tmp_path / "spec.toml", SPEC_TEXT)
    out = tmp_path / "out"
    assert run_cli(["sweep", str(spec), "--out", str(out), "--shard", "1/2"]) == 0
    assert fake_engine.names == ["fashion-mnist__resnet20__none__seed1", "fashion-mnist__resnet20__blur-2__seed1"]
    capsys.readouterr()
    assert run_cli(["sweep", str(spec), "--out", str(out), "--collect"]) == 0
    captured = capsys.readouterr()
    assert "2 of 4 runs complete, 2 missing, 0 failed" in captured.err
    assert "| filter | fashion-mnist test | fashion-mnist val |" in captured.out
    assert run_cli(["sweep", str(spec), "--out", str(out), "--list", "--shard", "0/2"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 4 and listing[0].startswith("*") and listing[1].startswith(" ")
    assert "missing" in listing[0] and "complete" in listing[1]


def test_cli_sweep_exits_1_with_a_summary_when_a_run_fails(tmp_path, fake_engine, capsys):
    spec = write_spec(tmp_path / "spec.toml", SPEC_TEXT)
    fake_engine.fail = {"fashion-mnist__resnet20__blur-2__seed0"}
    assert run_cli(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("freqprobe: 1 of 4 runs failed: fashion-mnist__resnet20__blur-2__seed0: TrainingDiverged")
    assert len(fake_engine.names) == 4


@pytest.mark.parametrize("argv_tail, fragment", [
    (["--shard", "3/2"], "--shard 3/2 is out of range"),
    (["--shard", "x"], "not of the form i/n"),
])
def test_cli_bad_input_prints_one_line(tmp_path, fake_engine, capsys, argv_tail, fragment):
    spec = write_spec(tmp_path / "spec.toml", SPEC_TEXT)
    assert run_cli(["sweep", str(spec), "--out", str(tmp_path / "o"), *argv_tail]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("freqprobe: error:") and fragment in err[0]
    assert fake_engine.calls == []


def test_cli_missing_spec_prints_one_line(tmp_path, capsys):
    assert run_cli(["sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.toml not found" in err[0]


# ------------------------------------------------------------------------------------------------ real engine


@pytest.mark.slow
def test_a_tiny_real_sweep_end_to_end(tmp_path, shared_data):
    import freqprobe.train

    spec = spec_from_dict({
        "base": {"model": "resnet20", "epochs": 1, "subset": 128, "limit_eval": 128, "batch_size": 64,
                 "data_dir": str(shared_data)},
        "grid": {"datasets": ["fashion-mnist"], "filters": ["none", "highpass:2"], "seeds": [0]},
    })
    outcome = run_sweep(spec, tmp_path, log=QUIET)
    assert outcome.trained == ["fashion-mnist__resnet20__none__seed0", "fashion-mnist__resnet20__highpass-2__seed0"]
    assert not outcome.failed
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    for row in rows:
        folder = tmp_path / "runs" / row["run"]
        assert freqprobe.train.is_run_complete(folder)
        metrics = read_metrics(folder)
        assert row["status"] == "complete"
        assert float(row["test_accuracy"]) == metrics["test_accuracy"] and 0.0 <= metrics["test_accuracy"] <= 1.0
        (run,) = [run for run in expand_grid(spec) if run.name == row["run"]]
        assert json.loads((folder / "config.json").read_text())["config"] == run.config  # exactly what was swept
    again = run_sweep(spec, tmp_path, log=QUIET)
    assert again.skipped == outcome.trained


@pytest.mark.slow
def test_jobs_train_the_grid_side_by_side_in_child_processes(tmp_path, shared_data):
    import freqprobe.train

    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(
        '[base]\nmodel = "resnet20"\nepochs = 1\nsubset = 128\nlimit_eval = 128\nbatch_size = 64\n'
        f'data_dir = "{shared_data}"\n[grid]\ndatasets = ["fashion-mnist"]\nfilters = ["none", "highpass:2"]\n'
        "seeds = [0, 1]\n"
    )
    out = tmp_path / "sweep"
    argv = [sys.executable, "-m", "freqprobe", "sweep", str(spec_file), "--out", str(out), "--jobs", "2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 4 and {row["status"] for row in rows} == {"complete"}
    assert all(freqprobe.train.is_run_complete(out / "runs" / row["run"]) for row in rows)
    # job j of 2 took the grid points j and j + 2, each child logging to its own file
    for job in (0, 1):
        log = (out / "logs" / f"job-{job}-of-2.log").read_text()
        assert f"shard {job}/2" in log and log.count(": done") == 2, log[-2000:]
    assert "4 of 4 runs complete, 0 missing, 0 failed" in done.stderr, done.stderr[-2000:]


def test_sub_shards_of_a_shard_cover_exactly_its_grid_points():
    from freqprobe.train.jobs import core_shares, sub_shards

    for shard in [(0, 1), (1, 3)]:
        for jobs in (1, 2, 4):
            parts = sub_shards(shard, jobs)
            covered = sorted(g for index, count in parts for g in range(60) if g % count == index)
            assert covered == [g for g in range(60) if g % shard[1] == shard[0]]
    assert core_shares(2, [0, 1]) == [[0], [1]]
    assert core_shares(2, [0, 1, 2, 3, 4]) == [[0, 1], [2, 3]]
    assert core_shares(3, [5]) == [[5], [5], [5]]
