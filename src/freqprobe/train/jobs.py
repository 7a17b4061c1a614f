"""``freqprobe sweep --jobs K`` (and ``reproduce --jobs K``): K shards of a sweep at once on one machine.

Each job is a child ``freqprobe`` process running one sub-shard, pinned to its own share of the cores, so a 2-core
CPU trains two runs side by side with one thread each (measured 1.1x faster than one after the other with two
threads each on two CIFAR-10 runs, BENCHMARKS.md). Within
``--shard i/n``, job j of K takes the grid points with index % (n K) == i + n j: together exactly shard i's points.

The children share the output folder through the sweep's per-run locks; each writes its log to
``DIR/logs/job-J-of-K.log``. When all are done the parent rebuilds the tables from the complete runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from freqprobe.errors import ConfigError
from freqprobe.train.launch import remove_option


def jobs_value(value: int | None) -> int:
    if value is None:
        return 1
    if value < 1:
        raise ConfigError(f"--jobs {value} must be at least 1 (the runs trained side by side on this machine)")
    return value


def sub_shards(shard: tuple[int, int], jobs: int) -> list[tuple[int, int]]:
    """The sub-shards of ``shard`` = (i, n) for ``jobs`` jobs: (i + n j, n jobs) for j = 0 .. jobs - 1."""
    index, count = shard
    return [(index + count * job, count * jobs) for job in range(jobs)]


def core_shares(jobs: int, cores: list[int] | None = None) -> list[list[int]]:
    """The cores of job j: an even split of this process's cores (round-robin when there are fewer than jobs)."""
    cores = sorted(os.sched_getaffinity(0)) if cores is None else cores
    if len(cores) < jobs:
        return [[cores[job % len(cores)]] for job in range(jobs)]
    share = len(cores) // jobs
    return [cores[job * share : (job + 1) * share] for job in range(jobs)]


def run_jobs(argv: list[str], shard: tuple[int, int], jobs: int, out_dir: Path) -> list[int]:
    """Start ``jobs`` children ``freqprobe ARGV --shard I/N`` (ARGV without --jobs and --shard) and wait for all.

    Returns their exit codes, in job order.
    """
    base = remove_option(remove_option(argv, "--jobs"), "--shard")
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    children = []
    for job, ((index, count), cores) in enumerate(zip(sub_shards(shard, jobs), core_shares(jobs))):
        log_path = logs / f"job-{job}-of-{jobs}.log"
        command = [sys.executable, "-m", "freqprobe", *base, "--shard", f"{index}/{count}"]
        with open(log_path, "ab") as log:
            child = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_pin_to(cores)
            )
        print(f"job {job}/{jobs}: shard {index}/{count} on cores {_cores_text(cores)}, log {log_path}", file=sys.stderr)
        children.append((job, child, log_path))
    codes = []
    try:
        for job, child, log_path in children:
            code = child.wait()
            codes.append(code)
            outcome = "done" if code == 0 else f"exited with status {code}; see {log_path}"
            print(f"job {job}/{jobs}: {outcome}", file=sys.stderr)
    finally:
        for _, child, _ in children:
            if child.poll() is None:
                child.terminate()
                child.wait()
    return codes


def _pin_to(cores: list[int]):
    def pin() -> None:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cores)

    return pin


def _cores_text(cores: list[int]) -> str:
    return ",".join(str(core) for core in cores)
