"""freqprobe.sweeps.commands: ``freqprobe sweep`` runs shards, collects, lists, and reports in one line."""

from __future__ import annotations

import argparse
import socket

import pytest

from freqprobe.sweeps import commands, runner
from freqprobe.sweeps.layout import lock_path

from sweep_helpers import run_cli, write_lock, write_spec


def test_add_commands_registers_on_a_fresh_parser():
    parser = argparse.ArgumentParser(prog="freqprobe")
    commands.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sweep", "spec.toml", "--out", "d"])
    assert args.handler.__module__ == "freqprobe.sweeps.commands"


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


def test_cli_sweep_list_names_the_swept_options(tmp_path, fake_engine, capsys):
    spec = write_spec(tmp_path / "spec.toml", SPEC_TEXT.replace("seeds = [0, 1]", 'seeds = [0]\nconv = ["standard", "bandpass:gabor@stem"]'))
    assert run_cli(["sweep", str(spec), "--out", str(tmp_path / "out"), "--list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 4
    assert listing[1].endswith('fashion-mnist__resnet20__none__seed0__conv-bandpass-gabor-stem  (conv="bandpass:gabor@stem")')


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


def test_cli_sweep_exits_1_naming_the_runs_still_missing(tmp_path, fake_engine, other_process, capsys):
    # a live process holds one run's lock (as an orphaned job of a killed sweep did): the run stays missing
    spec = write_spec(tmp_path / "spec.toml", SPEC_TEXT)
    out = tmp_path / "out"
    busy = "fashion-mnist__resnet20__none__seed1"
    write_lock(lock_path(out, busy), socket.gethostname(), other_process.pid)
    assert run_cli(["sweep", str(spec), "--out", str(out)]) == 1
    assert busy not in fake_engine.names and len(fake_engine.names) == 3
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (
        f"freqprobe: 1 of 4 runs of shard 0/1 are missing, 1 of them locked by a process still training them "
        f"(see {out / 'locks'}); re-run the same command to train or resume them"
    )


def test_cli_sweep_with_jobs_exits_1_when_its_jobs_leave_runs_missing(tmp_path, fake_engine, monkeypatch, capsys):
    # jobs that all exit 0 yet trained nothing (they found every run busy) must not make the sweep look done
    spec = write_spec(tmp_path / "spec.toml", SPEC_TEXT)
    out = tmp_path / "out"
    started = []
    monkeypatch.setattr(runner, "run_jobs", lambda argv, shard, jobs, out_dir: started.append(shard) or [0] * jobs)
    assert run_cli(["sweep", str(spec), "--out", str(out), "--jobs", "2", "--shard", "1/2"]) == 1
    assert started == [(1, 2)] and fake_engine.calls == []
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-2] == f"0 of 4 runs complete, 4 missing, 0 failed; tables in {out / 'results.md'} and {out / 'results.csv'}"
    assert err[-1] == "freqprobe: 2 of 2 runs of shard 1/2 are missing; re-run the same command to train or resume them"
    assert run_cli(["sweep", str(spec), "--out", str(out), "--shard", "1/2"]) == 0  # trained now: complete
