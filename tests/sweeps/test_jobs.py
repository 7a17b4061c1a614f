"""freqprobe.sweeps.jobs: --jobs K child processes, their shares of the grid and cores."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from sweep_helpers import REPO

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
    from freqprobe.sweeps.jobs import core_shares, sub_shards

    for shard in [(0, 1), (1, 3)]:
        for jobs in (1, 2, 4):
            parts = sub_shards(shard, jobs)
            covered = sorted(g for index, count in parts for g in range(60) if g % count == index)
            assert covered == [g for g in range(60) if g % shard[1] == shard[0]]
    assert core_shares(2, [0, 1]) == [[0], [1]]
    assert core_shares(2, [0, 1, 2, 3, 4]) == [[0, 1], [2, 3]]
    assert core_shares(3, [5]) == [[5], [5], [5]]
