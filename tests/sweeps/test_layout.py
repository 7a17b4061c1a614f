"""freqprobe.sweeps.layout: sweep.json refuses a changed spec, accepts a grown one and the committed results."""

from __future__ import annotations

import json

import pytest

from freqprobe.errors import ConfigError
from freqprobe.sweeps.grid import expand_grid, legacy_run_name
from freqprobe.sweeps.layout import expand_grid_in, record_sweep
from freqprobe.sweeps.runner import run_sweep
from freqprobe.sweeps.spec import load_spec

from sweep_fakes import FakeTrainer
from sweep_helpers import QUIET, REPO, make_spec


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
    # the commands in results/bandpass/COMMANDS.md must resume these folders, not refuse them or retrain: their
    # runs keep the hashed names they were written under, although new sweeps name the options in words
    (tmp_path / "sweep.json").write_bytes((REPO / folder / "sweep.json").read_bytes())
    spec = load_spec(REPO / "experiments" / spec_name)
    record_sweep(tmp_path, spec, expand_grid_in(spec, tmp_path))
    recorded = json.loads((REPO / folder / "sweep.json").read_text())["runs"]
    assert {run.name for run in expand_grid_in(spec, tmp_path)} == set(recorded)
    assert set(json.loads((tmp_path / "sweep.json").read_text())["runs"]) == set(recorded)  # no run added
    assert {run.name for run in expand_grid_in(spec, REPO / folder)} == set(recorded)  # found as runs/ folders too
    assert not {run.name for run in expand_grid(spec)} & set(recorded)


def test_a_folder_holding_an_old_hashed_run_resumes_it_under_that_name(tmp_path):
    spec = make_spec({"datasets": ["fashion-mnist"], "antialias": [False, True], "seeds": [0]})
    old = FakeTrainer()
    run_sweep(spec, tmp_path, run_fn=old, log=QUIET)
    assert old.names == ["fashion-mnist__resnet20__none__seed0__antialias-false",
                         "fashion-mnist__resnet20__none__seed0__antialias-true"]
    # as an older freqprobe named the first run: a hash of its options
    legacy = legacy_run_name(expand_grid(spec)[0].config, {"antialias": False})
    (tmp_path / "runs" / old.names[0]).rename(tmp_path / "runs" / legacy)
    record = json.loads((tmp_path / "sweep.json").read_text())
    record["runs"][legacy] = record["runs"].pop(old.names[0])
    (tmp_path / "sweep.json").write_text(json.dumps(record))
    again = FakeTrainer()
    outcome = run_sweep(spec, tmp_path, run_fn=again, log=QUIET)
    assert again.names == [] and outcome.skipped == [legacy, old.names[1]]


def test_a_grown_grid_adds_runs_to_the_same_folder(tmp_path):
    run_sweep(make_spec({"datasets": ["fashion-mnist"], "seeds": [0]}), tmp_path, run_fn=FakeTrainer(), log=QUIET)
    grown = FakeTrainer()
    run_sweep(make_spec({"datasets": ["fashion-mnist"], "seeds": [0, 1]}), tmp_path, run_fn=grown, log=QUIET)
    assert grown.names == ["fashion-mnist__resnet20__none__seed1"]
