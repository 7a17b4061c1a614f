"""``freqprobe train --processes N``: data-parallel training on one machine without typing ``torchrun``.

The command starts N copies of itself with the environment torchrun would give them (``MASTER_ADDR`` on the
loopback, a free ``MASTER_PORT``, ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``), so each copy
takes the same code path as under ``torchrun --nproc_per_node=N`` (gloo on CPU, NCCL on CUDA) and rank 0 alone writes
the run folder. On the 2-core project machine it was measured slower than one process with two threads
(BENCHMARKS.md); it is there for machines and GPUs where data parallelism pays, without typing torchrun.

Only rank 0 prints; another rank's error output is kept and shown if that rank fails. When one rank fails the others
are stopped, so nobody waits forever in a collective.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from freqprobe.errors import ConfigError

PROCESSES_FLAG = "--processes"


def processes_value(text: str) -> int:
    """``--processes`` as a count: a positive integer, or ``auto`` for one process per available core."""
    if text == "auto":
        from freqprobe.train.fastpaths import available_cores

        return max(1, available_cores())
    try:
        count = int(text)
    except ValueError:
        raise ConfigError(f"--processes {text!r} is not a whole number or 'auto'; e.g. --processes 2") from None
    if count < 1:
        raise ConfigError(f"--processes {count} must be at least 1")
    return count


def remove_option(argv: list[str], flag: str) -> list[str]:
    """``argv`` less ``FLAG VALUE`` and ``FLAG=VALUE`` (for a child that must not act on FLAG again)."""
    kept: list[str] = []
    skip_next = False
    for word in argv:
        if skip_next:
            skip_next = False
        elif word == flag:
            skip_next = True
        elif not word.startswith(flag + "="):
            kept.append(word)
    return kept


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


LAUNCHED_VARIABLE = "FREQPROBE_LAUNCHED"


def accept_interrupts_if_launched() -> None:
    """In a rank started by :func:`launch_processes`, let SIGINT interrupt again.

    A shell starts background jobs with SIGINT ignored, and children inherit that; the launcher stops ranks with
    SIGINT so they exit through the CLI's interrupt path, and a rank that ignored it would only die at the kill.
    """
    if os.environ.get(LAUNCHED_VARIABLE) == "1" and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def rank_environment(rank: int, count: int, port: int) -> dict[str, str]:
    """What torchrun sets for local rank ``rank`` of ``count`` on a single machine."""
    return {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "RANK": str(rank),
        "LOCAL_RANK": str(rank),
        "WORLD_SIZE": str(count),
        "LOCAL_WORLD_SIZE": str(count),
        "GROUP_RANK": "0",
        LAUNCHED_VARIABLE: "1",
    }


def launch_processes(argv: list[str], count: int, poll_seconds: float = 0.2) -> int:
    """Run ``python -m freqprobe ARGV`` as ``count`` ranks of one job; the exit status of the job.

    0 when every rank succeeded; otherwise the first failing rank's status (the others are stopped and, for a rank
    other than 0, its error output is printed).
    """
    child_argv = [sys.executable, "-m", "freqprobe", *remove_option(argv, PROCESSES_FLAG)]
    port = free_loopback_port()
    with tempfile.TemporaryDirectory(prefix="freqprobe-ranks-") as logs:
        children = [_start_rank(child_argv, rank, count, port, Path(logs)) for rank in range(count)]
        try:
            return _wait_for_ranks(children, Path(logs), poll_seconds)
        finally:
            _stop(children)


def _start_rank(argv: list[str], rank: int, count: int, port: int, logs: Path) -> subprocess.Popen:
    environment = rank_environment(rank, count, port)
    if rank == 0:
        return subprocess.Popen(argv, env=environment)
    with open(logs / f"rank{rank}.log", "wb") as log:
        return subprocess.Popen(argv, env=environment, stdout=subprocess.DEVNULL, stderr=log)


def _wait_for_ranks(children: list[subprocess.Popen], logs: Path, poll_seconds: float) -> int:
    while True:
        codes = [child.poll() for child in children]
        failed = [rank for rank, code in enumerate(codes) if code not in (None, 0)]
        if failed:
            if failed[0] != 0 and _rank_zero_fails_too(children[0]):
                return int(children[0].returncode)  # it printed the error (the same one, most often)
            rank = failed[0]
            if rank != 0:
                _print_rank_log(logs / f"rank{rank}.log", rank)
            return int(codes[rank])
        if all(code == 0 for code in codes):
            return 0
        time.sleep(poll_seconds)


def _rank_zero_fails_too(rank_zero: subprocess.Popen, grace_seconds: float = 5.0) -> bool:
    """Bad input makes every rank fail at once: give rank 0 a moment to fail and report it itself."""
    try:
        return rank_zero.wait(timeout=grace_seconds) != 0
    except subprocess.TimeoutExpired:
        return False


def _print_rank_log(path: Path, rank: int) -> None:
    text = path.read_text(encoding="utf-8", errors="replace").strip() if path.exists() else ""
    lines = text.splitlines()[-20:] or ["(no output)"]
    print(f"freqprobe: rank {rank} failed:", *lines, sep="\n", file=sys.stderr)


def _stop(children: list[subprocess.Popen], interrupt_grace: float = 30.0, terminate_grace: float = 5.0) -> None:
    """Interrupt ranks still running (the checkpoint of the last complete epoch stays), then terminate those that
    do not stop, then kill those that still run."""
    running = [child for child in children if child.poll() is None]
    for stage, grace in ((signal.SIGINT, interrupt_grace), (signal.SIGTERM, terminate_grace)):
        for child in running:
            child.send_signal(stage)
        running = still_running_after(running, grace)
    for child in running:
        child.kill()
        child.wait()


def still_running_after(children: list[subprocess.Popen], seconds: float) -> list[subprocess.Popen]:
    """The children that have not ended within ``seconds`` (all waited on against one deadline)."""
    deadline = time.monotonic() + seconds
    running = []
    for child in children:
        try:
            child.wait(timeout=max(0.05, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            running.append(child)
    return running
