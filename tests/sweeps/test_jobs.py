"""freqprobe.sweeps.jobs: --jobs K child processes, their shares of the grid and cores."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
        assert "sweep: the first run took" in log and "the 1 run left would take about" in log, log[-2000:]
    assert "sweep: 4 runs in the grid, 4 in shard 0/1, over 2 jobs" in done.stderr, done.stderr[-2000:]
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


# ------------------------------------------------------------------------------------------------ children end with the parent

# The parent: run_jobs with a stand-in child program. Its SIGINT handler is set explicitly, since a test runner
# started in the background hands its children SIGINT ignored.
JOBS_PARENT = """
import signal, sys
from pathlib import Path
signal.signal(signal.SIGINT, signal.default_int_handler)
from freqprobe.sweeps.jobs import run_jobs
run_jobs(["sweep", "spec.toml"], (0, 1), 2, Path(sys.argv[1]), program=[sys.executable, "-c", sys.argv[2]])
"""
# A job that starts a process of its own (as the decoding pool does), says so in its log, then trains "forever".
JOB = """
import subprocess, sys, time
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("ready", helper.pid, flush=True)
time.sleep(600)
"""


SLEEPING_JOB = "import time; time.sleep(600)"


def start_jobs_parent(out: Path, job: str = JOB) -> tuple[subprocess.Popen, list[int]]:
    """Start the parent and return it with its two jobs' pids once both jobs run with their death signal set.

    run_jobs prints "job J/2: shard ..." only after Popen returned, i.e. after the child's setup ran and it exec'd.
    """
    parent = subprocess.Popen(
        [sys.executable, "-c", JOBS_PARENT, str(out), job], stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    announced = [parent.stderr.readline() for _ in range(2)]
    assert all(line.startswith(f"job {job}/2: shard {job}/2") for job, line in enumerate(announced)), announced
    return parent, children_of(parent.pid)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def is_alive(pid: int) -> bool:
    """Running, not a zombie (an ended process whose new parent has not reaped it yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def still_alive_after(pids: list[int], seconds: float = 60.0) -> list[int]:
    """The pids still running once all have ended or ``seconds`` have passed (a bound, not a measurement)."""
    deadline = time.monotonic() + seconds
    while any(is_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in pids if is_alive(pid)]


def helper_pids(out: Path, seconds: float = 60.0) -> list[int]:
    """The pids the two jobs wrote to their logs, once both have written them."""
    logs = [out / "logs" / f"job-{job}-of-2.log" for job in (0, 1)]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lines = [log.read_text().split() if log.exists() else [] for log in logs]
        if all(len(words) == 2 and words[0] == "ready" for words in lines):
            return [int(words[1]) for words in lines]
        time.sleep(0.05)
    raise AssertionError(f"the jobs never reported ready: {[log.read_text() for log in logs if log.exists()]}")


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_jobs_end_when_their_parent_is_killed_with_sigkill(tmp_path):
    parent, jobs = start_jobs_parent(tmp_path, SLEEPING_JOB)
    try:
        assert len(jobs) == 2
        parent.kill()  # kill -9: no finally, no handler runs in the parent
        parent.wait()
        assert still_alive_after(jobs) == []  # orphans would keep their runs' locks and train on
    finally:
        kill_all(jobs)
        parent.stderr.close()


def test_an_interrupted_parent_stops_its_jobs_and_what_they_started(tmp_path):
    parent, jobs = start_jobs_parent(tmp_path)
    helpers = []
    try:
        helpers = helper_pids(tmp_path)
        parent.send_signal(signal.SIGINT)  # the jobs were started inside run_jobs' try: its finally runs
        parent.wait(timeout=120)
        assert [pid for pid in jobs if is_alive(pid)] == []  # the parent waited for its jobs to end
        assert still_alive_after(helpers) == []  # the interrupt went to each job's whole process group
    finally:
        kill_all(jobs + helpers)
        parent.stderr.close()
