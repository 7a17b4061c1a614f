"""freqprobe.sweeps.runner: shards, skip and resume, failures, locked runs, concurrent processes, real engine."""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from freqprobe.sweeps.grid import expand_grid
from freqprobe.sweeps.layout import lock_path
from freqprobe.sweeps.runner import run_sweep
from freqprobe.sweeps.spec import spec_from_dict

from sweep_fakes import FakeTrainer, read_metrics
from sweep_helpers import QUIET, make_spec, write_lock


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


def test_the_sweep_says_how_many_runs_and_how_long_the_rest_would_take(tmp_path):
    spec = make_spec({"datasets": ["fashion-mnist"], "filters": ["none", "blur:2"], "seeds": [0, 1]})
    run_sweep(spec, tmp_path, shard=(0, 2), run_fn=FakeTrainer(), log=QUIET)  # 2 of the 4 runs are complete
    ticks = iter(range(0, 10_000, 300))  # every clock reading 300 s after the one before
    messages: list[str] = []
    run_sweep(spec, tmp_path, run_fn=FakeTrainer(), log=messages.append, clock=lambda: next(ticks))
    assert messages[0] == "sweep: 4 runs in the grid; shard 0/1 has 4, 2 of them to train or resume"
    estimates = [message for message in messages if "would take" in message]
    # the first trained run took 300 s (two clock readings); one run is left to train after it
    assert estimates == ["sweep: the first run took 5 min 0 s; the 1 run left would take about 5 min 0 s at that "
                         "pace, one after the other"]
    assert messages.index(estimates[0]) == messages.index(next(m for m in messages if m.endswith(": done"))) + 1


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


def test_a_complete_run_whose_weights_were_truncated_is_trained_again(tmp_path):
    spec = make_spec()
    names = [run.name for run in expand_grid(spec)]
    run_sweep(spec, tmp_path, run_fn=FakeTrainer(), log=QUIET)
    weights = tmp_path / "runs" / names[2] / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-7])  # metrics.json still says the run finished
    again = FakeTrainer()
    outcome = run_sweep(spec, tmp_path, run_fn=again, log=QUIET)
    assert again.names == [names[2]]
    assert outcome.trained == [names[2]]
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [row["status"] for row in rows] == ["complete"] * 12


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
from freqprobe.sweeps.runner import run_sweep
from freqprobe.sweeps.spec import spec_from_dict

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
