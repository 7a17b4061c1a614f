"""``freqprobe sweep --jobs K`` (and ``reproduce --jobs K``): K shards of a sweep at once on one machine.

Each job is a child ``freqprobe`` process running one sub-shard, pinned to its own share of the cores, so a 2-core
CPU trains two runs side by side with one thread each (measured 1.1x faster than one after the other with two
threads each on two CIFAR-10 runs, BENCHMARKS.md). Within
``--shard i/n``, job j of K takes the grid points with index % (n K) == i + n j: together exactly shard i's points.

The children share the output folder through the sweep's per-run locks; each writes its log to
``DIR/logs/job-J-of-K.log``. When all are done the parent rebuilds the tables from the complete runs.

Children never outlive the parent: each asks the kernel for SIGTERM when its parent dies (Linux
``PR_SET_PDEATHSIG``), so even ``kill -9`` of the parent stops them and frees their runs' locks for a re-run (an
orphan would hold them and a re-run would skip its runs as busy). Each child leads its own process group, and a
parent that stops on an error or Ctrl-C interrupts, then terminates, then kills every group still running, with
the processes the children started (e.g. a decoding pool).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Sequence

from freqprobe.errors import ConfigError
from freqprobe.sweeps.layout import logs_dir
from freqprobe.train.launch import LAUNCHED_VARIABLE, remove_option, still_running_after

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
FREQPROBE_PROGRAM = (sys.executable, "-m", "freqprobe")


def jobs_value(value: int | None) -> int:
    """``--jobs`` as a count: 1 when not given.

    Raises:
        ConfigError: a count below 1.
    """
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


def run_jobs(
    argv: list[str],
    shard: tuple[int, int],
    jobs: int,
    out_dir: Path,
    program: Sequence[str] = FREQPROBE_PROGRAM,
) -> list[int]:
    """Start ``jobs`` children ``PROGRAM ARGV --shard I/N`` (ARGV without --jobs and --shard) and wait for all.

    Returns their exit codes, in job order. Whatever ends the wait (an error, Ctrl-C), no child is left running.
    ``program`` is ``python -m freqprobe``; tests put a stand-in there.
    """
    base = remove_option(remove_option(argv, "--jobs"), "--shard")
    logs = logs_dir(out_dir)
    logs.mkdir(parents=True, exist_ok=True)
    children: list[tuple[int, subprocess.Popen, Path]] = []
    codes = []
    try:
        # Started inside the try: an interrupt that arrives between two starts still stops the first child.
        for job, ((index, count), cores) in enumerate(zip(sub_shards(shard, jobs), core_shares(jobs))):
            log_path = logs / f"job-{job}-of-{jobs}.log"
            child = start_child([*program, *base, "--shard", f"{index}/{count}"], log_path, cores)
            children.append((job, child, log_path))
            print(
                f"job {job}/{jobs}: shard {index}/{count} on cores {_cores_text(cores)}, log {log_path}",
                file=sys.stderr,
                flush=True,
            )
        for job, child, log_path in children:
            code = child.wait()
            codes.append(code)
            outcome = "done" if code == 0 else f"exited with status {code}; see {log_path}"
            print(f"job {job}/{jobs}: {outcome}", file=sys.stderr, flush=True)
    finally:
        stop_children([child for _, child, _ in children])
    return codes


def start_child(command: list[str], log_path: Path, cores: list[int]) -> subprocess.Popen:
    """Start ``command`` writing to ``log_path``, pinned to ``cores``, in its own process group, set to receive
    SIGTERM when this process dies. When Popen returns, all of that is in place (the child has exec'd)."""
    environment = {**os.environ, LAUNCHED_VARIABLE: "1"}  # the child takes SIGINT even if it inherited SIG_IGN
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            preexec_fn=_child_setup(cores, os.getpid(), _parent_death_signal_setter()),
        )


def _parent_death_signal_setter() -> Callable[[int], None] | None:
    """``prctl(PR_SET_PDEATHSIG, signal)`` from the C library, or None where there is none (not Linux).

    Looked up here, before the fork: the child between fork and exec should do as little as it can.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return lambda number: prctl(PR_SET_PDEATHSIG, number, 0, 0, 0)


def _child_setup(cores: list[int], parent: int, set_death_signal: Callable[[int], None] | None) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        os.setpgid(0, 0)
        if set_death_signal is not None:
            set_death_signal(signal.SIGTERM)
            if os.getppid() != parent:  # the parent died before the request was in place: no signal will come
                os._exit(1)
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cores)

    return setup


def stop_children(
    children: list[subprocess.Popen], interrupt_grace: float = 30.0, terminate_grace: float = 5.0
) -> None:
    """Interrupt the process groups of the children still running (a run keeps its last epoch's checkpoint and
    frees its lock), then terminate those that do not stop, then kill the rest; returns when all have ended."""
    running = [child for child in children if child.poll() is None]
    for stage, grace in ((signal.SIGINT, interrupt_grace), (signal.SIGTERM, terminate_grace)):
        for child in running:
            _signal_group(child, stage)
        running = still_running_after(running, grace)
    for child in running:
        _signal_group(child, signal.SIGKILL)
        child.wait()


def _signal_group(child: subprocess.Popen, number: int) -> None:
    try:
        os.killpg(child.pid, number)
    except ProcessLookupError:
        pass  # it ended meanwhile


def _cores_text(cores: list[int]) -> str:
    return ",".join(str(core) for core in cores)
