"""freqprobe.sweeps.commands: ``freqprobe sweep`` runs shards, collects, lists, and reports in one line."""

from __future__ import annotations

import argparse

import pytest

from freqprobe.sweeps import commands

from sweep_helpers import run_cli, write_spec

def test_add_commands_registers_on_a_fresh_parser():
    parser = argparse.ArgumentParser(prog="freqprobe")
    commands.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sweep", *(["spec.toml"] if "sweep" == "sweep" else []), "--out", "d"])
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
