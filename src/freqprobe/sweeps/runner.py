"""Running a sweep: train this shard's runs that are not complete, each under its lock, in this process or in
``--jobs`` child processes, then rebuild the tables and say what is still missing.

Exit codes of :func:`execute`: 0 when every run of this shard is complete, 1 when a run failed or is still missing
(locked by a live process, or its job was stopped); a re-run of the same command trains what is left.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import freqprobe.train
from freqprobe.sweeps.grid import SweepRun, describe_point, parse_shard, resolve_settings, shard_runs
from freqprobe.sweeps.jobs import jobs_value, run_jobs
from freqprobe.sweeps.layout import expand_grid_in, failure_path, lock_path, record_failure, record_sweep, run_dir
from freqprobe.sweeps.locks import acquire_lock, describe_holder, release_lock
from freqprobe.sweeps.spec import SweepSpec
from freqprobe.sweeps.tables import collect, collect_rows, completion_line, write_tables
from freqprobe.train.run_folder import FolderState, folder_state, is_run_complete

RunFn = Callable[..., dict]
Log = Callable[[str], None]


def log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class SweepOutcome:
    """What one call of :func:`run_sweep` did with its shard."""

    total: int  # grid points in the whole sweep
    shard: tuple[int, int]
    trained: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already complete
    busy: dict[str, str] = field(default_factory=dict)  # name -> host:pid training it now
    failed: dict[str, str] = field(default_factory=dict)  # name -> one-line error

    @property
    def shard_size(self) -> int:
        return len(self.trained) + len(self.skipped) + len(self.busy) + len(self.failed)

    def summary(self) -> str:
        index, count = self.shard
        return (
            f"shard {index}/{count} ({self.shard_size} of {self.total} runs): {len(self.trained)} trained, "
            f"{len(self.skipped)} already complete, {len(self.busy)} busy elsewhere, {len(self.failed)} failed"
        )


def run_sweep(
    spec: SweepSpec,
    out_dir: str | os.PathLike,
    shard: tuple[int, int] = (0, 1),
    data_dir: str | None = None,
    run_fn: RunFn | None = None,
    log: Log = log_to_stderr,
    clock: Callable[[], float] = time.monotonic,
    figure_format: str = "png",
) -> SweepOutcome:
    """Train this shard's runs that are not complete yet, then rebuild the tables.

    ``run_fn(config, out_dir, resume=...)`` defaults to :func:`freqprobe.train.run_training`; a failing run is
    recorded in ``DIR/failed/`` and the sweep goes on. ``data_dir`` overrides the spec's ``data_dir`` for this
    machine only. KeyboardInterrupt propagates, with the run's lock released. Says how many runs there are and, once
    the first run it trains is done, how long the runs left would take at that run's pace (``clock``: seconds).
    """
    run_fn = run_fn or freqprobe.train.run_training  # looked up per call: tests put a stand-in there
    out_dir = Path(out_dir)
    runs = expand_grid_in(spec, out_dir)
    record_sweep(out_dir, spec, runs)
    mine = shard_runs(runs, *shard)
    outcome = SweepOutcome(total=len(runs), shard=shard)
    to_train = [run for run in mine if not is_run_complete(run_dir(out_dir, run.name))]
    log(f"sweep: {count_runs(len(runs))} in the grid; shard {shard[0]}/{shard[1]} has {len(mine)}, "
        f"{len(to_train)} of them to train or resume")
    estimated = False
    for position, run in enumerate(mine, 1):
        prefix = f"[{position}/{len(mine)}] {run.name}"
        started = clock()
        kind, detail = _run_one(run, out_dir, data_dir, run_fn, lambda text: log(f"{prefix}: {text}"))
        if kind == "skipped":
            outcome.skipped.append(run.name)
            log(f"{prefix}: already complete, skipped")
            continue
        if kind == "busy":
            outcome.busy[run.name] = detail
            log(f"{prefix}: being trained by {detail}, skipped (its lock: {lock_path(out_dir, run.name)})")
            continue
        if kind == "failed":
            outcome.failed[run.name] = detail
            log(f"{prefix}: FAILED: {detail}")
        else:
            outcome.trained.append(run.name)
            log(f"{prefix}: done")
            if not estimated:
                estimated = True
                left = sum(1 for later in mine[position:] if later in to_train)
                if left:
                    log(time_estimate(clock() - started, left))
        write_tables(out_dir, spec, runs, figure_format)
    write_tables(out_dir, spec, runs, figure_format)
    return outcome


def count_runs(n: int) -> str:
    return f"{n} run{'' if n == 1 else 's'}"


def time_estimate(seconds_per_run: float, runs_left: int) -> str:
    """The time the runs left would take at the pace of the first one, one after the other.

    >>> time_estimate(537.0, 7)
    'sweep: the first run took 8 min 57 s; the 7 runs left would take about 1 h 2 min at that pace, one after the other'
    """
    return (
        f"sweep: the first run took {_duration(seconds_per_run)}; the {count_runs(runs_left)} left would take about "
        f"{_duration(seconds_per_run * runs_left)} at that pace, one after the other"
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _run_one(run: SweepRun, out_dir: Path, data_dir: str | None, run_fn: RunFn, announce: Log) -> tuple[str, str]:
    """Train one run under its lock: ("trained" | "skipped" | "busy" | "failed", detail)."""
    folder = run_dir(out_dir, run.name)
    if is_run_complete(folder):
        return "skipped", ""
    lock = lock_path(out_dir, run.name)
    holder = acquire_lock(lock)
    if holder is not None:
        return "busy", describe_holder(holder)
    try:
        if is_run_complete(folder):  # another shard finished it while we looked
            return "skipped", ""
        settings = dict(run.settings)
        if data_dir is not None:
            settings["data_dir"] = data_dir
        resume = is_resumable(folder)
        announce("resuming" if resume else "training")
        try:
            run_fn(resolve_settings(settings), folder, resume=resume)
            if not is_run_complete(folder):
                raise RuntimeError(f"training returned but {folder / 'metrics.json'} is missing or invalid")
        except Exception as error:  # noqa: BLE001 - one bad run must not stop the sweep; it is recorded
            message = record_failure(out_dir, run.name, error)
            return "failed", message
        failure_path(out_dir, run.name).unlink(missing_ok=True)
        return "trained", ""
    finally:
        release_lock(lock)


def is_resumable(folder: Path) -> bool:
    """The folder holds a started, unfinished run (interrupted, killed or failed): the engine continues it from
    its last checkpoint, and refuses to start over in it without ``resume``."""
    return folder_state(folder) is FolderState.INCOMPLETE


# --------------------------------------------------------------------------------------------------------------
# What one command line does


def execute(spec: SweepSpec, args: argparse.Namespace, run_fn: RunFn | None = None) -> int:
    """Run, list or collect ``spec`` as the shared ``--shard/--collect/--list/--jobs`` options say; the exit code
    (see the module docstring). ``args.out`` is the output folder, ``args.argv`` the command line for ``--jobs``."""
    shard = parse_shard(args.shard) if args.shard else (0, 1)
    out_dir = Path(args.out)
    figure_format = getattr(args, "figure_format", "png")
    if args.list_runs:
        print_run_list(spec, out_dir, shard)
        return 0
    if args.collect:
        log_to_stderr(completion_line(collect(spec, out_dir, figure_format), out_dir))
        return 0
    jobs = jobs_value(getattr(args, "jobs", None))
    runs = expand_grid_in(spec, out_dir)
    job_codes: list[int] = []
    if jobs > 1:
        record_sweep(out_dir, spec, runs)
        log_to_stderr(f"sweep: {count_runs(len(runs))} in the grid, {len(shard_runs(runs, *shard))} in shard "
                      f"{shard[0]}/{shard[1]}, over {jobs} jobs (each job's log says its time estimate)")
        job_codes = run_jobs(getattr(args, "argv", sys.argv[1:]), shard, jobs, out_dir)
        rows = write_tables(out_dir, spec, runs, figure_format)
    else:
        outcome = run_sweep(
            spec, out_dir, shard=shard, data_dir=args.data_dir, run_fn=run_fn, figure_format=figure_format
        )
        log_to_stderr(f"sweep {outcome.summary()}")
        rows = collect_rows(out_dir, runs)
    log_to_stderr(completion_line(rows, out_dir))
    mine = {run.name for run in shard_runs(runs, *shard)}
    problems = shard_problems([row for row in rows if row["run"] in mine], out_dir, shard)
    failed_jobs = [job for job, code in enumerate(job_codes) if code != 0]
    if failed_jobs and not problems:  # a job failed without leaving a failed or missing run behind
        problems.append(
            f"{len(failed_jobs)} of {jobs} jobs failed (first: job {failed_jobs[0]}); see {out_dir / 'logs'}"
        )
    for problem in problems:
        log_to_stderr(f"freqprobe: {problem}")
    return 1 if problems else 0


def shard_problems(rows: list[dict[str, Any]], out_dir: Path, shard: tuple[int, int]) -> list[str]:
    """One line for the failed runs among ``rows`` (this shard's), one for the missing ones; none when complete."""
    lines = []
    failed = [row for row in rows if row["status"] == "failed"]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        lines.append(
            f"{len(failed)} of {len(rows)} runs failed: {failed[0]['run']}: {failed[0]['error']}{more}; "
            f"details in {out_dir / 'failed'}, re-run the same command to retry"
        )
    missing = [row["run"] for row in rows if row["status"] == "missing"]
    if missing:
        locked = [name for name in missing if lock_path(out_dir, name).exists()]
        held = f", {len(locked)} of them locked by a process still training them (see {out_dir / 'locks'})"
        index, count = shard
        lines.append(
            f"{len(missing)} of {len(rows)} runs of shard {index}/{count} are missing{held if locked else ''}; "
            "re-run the same command to train or resume them"
        )
    return lines


def print_run_list(spec: SweepSpec, out_dir: Path, shard: tuple[int, int]) -> None:
    """Print every run: ``*`` when in this shard, its index, shard, status, name and swept options."""
    runs = expand_grid_in(spec, out_dir)
    index, count = shard
    statuses = {row["run"]: row["status"] for row in collect_rows(out_dir, runs)}
    for run in runs:
        mark = "*" if run.index % count == index else " "
        options = f"  ({describe_point(run.options)})" if run.options else ""
        print(f"{mark} {run.index:4d}  shard {run.index % count}/{count}  {statuses[run.name]:8s}  {run.name}{options}")
