"""The ``freqprobe sweep`` and ``freqprobe reproduce`` sub-commands: their options and handlers.

Only argparse and the original table's constants are imported here: the CLI builds its parser on every call, and
each handler imports the sweep machinery when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from freqprobe.plots.formats import add_format_argument
from freqprobe.sweeps.original import DEFAULT_MODEL


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``freqprobe sweep`` and ``freqprobe reproduce``."""
    add_sweep_command(subparsers)
    add_reproduce_command(subparsers)


def add_sweep_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="train a grid of runs (datasets x models x filters x seeds x options) and tabulate them",
        description=(
            "Train every grid point of SPEC.toml ([base] TrainConfig fields, [grid] lists) under DIR/runs/, "
            "skipping complete runs and resuming interrupted ones, and write DIR/results.csv and DIR/results.md. "
            "Exits 1 when a run of this shard failed or is still missing (re-run the same command to finish it)."
        ),
    )
    parser.add_argument("spec", metavar="SPEC.toml", help="sweep spec (see experiments/example_sweep.toml)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder, shared by all shards")
    add_sweep_options(parser)
    parser.set_defaults(handler=sweep_command)


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``sweep`` and ``reproduce``."""
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="0-based: run only grid points with index %% N == I, e.g. a SLURM array "
        "--array=0-3 with --shard $SLURM_ARRAY_TASK_ID/4",
    )
    parser.add_argument(
        "--collect", action="store_true", help="train nothing; rebuild the tables from the complete runs"
    )
    parser.add_argument("--list", dest="list_runs", action="store_true", help="list the runs, their shard and status")
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="K",
        help="train K runs of this shard side by side, each a child process pinned to its share of the cores; "
        "logs in DIR/logs/",
    )
    parser.add_argument("--data-dir", help="data root on this machine (overrides the spec's data_dir)")
    add_format_argument(parser)  # of DIR/learning_curves.<format>, drawn with the tables


def sweep_command(args: argparse.Namespace) -> int:
    """``freqprobe sweep``: run, list or collect the spec; with ``--collect`` also print results.md."""
    from freqprobe.sweeps.layout import RESULTS_MD
    from freqprobe.sweeps.runner import execute
    from freqprobe.sweeps.spec import load_spec

    spec = load_spec(args.spec)
    code = execute(spec, args)
    if args.collect:
        print((Path(args.out) / RESULTS_MD).read_text(encoding="utf-8"), end="")
    return code


def reproduce_command(args: argparse.Namespace) -> int:
    """``freqprobe reproduce``: see :func:`freqprobe.sweeps.reproduce.run_reproduce`."""
    from freqprobe.sweeps.reproduce import run_reproduce

    return run_reproduce(args)


def add_reproduce_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="re-run the original study's table with the corrected filters and print it beside the original",
        description=(
            "Train the original table's rows (none, whiten, blur:2/4, highpass:2/4/12/20) on each dataset as a "
            "sweep under DIR (re-running resumes), then write DIR/reproduce.md: the original README's numbers "
            "beside freqprobe's, row by row, with what the original computed differently."
        ),
    )
    parser.add_argument(
        "--dataset",
        action="append",
        metavar="D",
        help="fashion-mnist, cifar10 or folder:PATH (repeatable; default: fashion-mnist and cifar10)",
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"network (default {DEFAULT_MODEL}, the original's)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: the engine's or the preset's)")
    parser.add_argument("--seeds", type=int, default=1, metavar="K", help="seeds 0..K-1 per row (default 1)")
    parser.add_argument(
        "--rows", default=None, metavar="FILTERS",
        help="comma-separated filters of the original rows to train (default: all eight: none, whiten, blur:2, "
        "blur:4, highpass:2, highpass:4, highpass:12, highpass:20); e.g. the six the original ran on CIFAR-10",
    )
    parser.add_argument("--preset", help="training preset passed to every run, e.g. fast")
    parser.add_argument("--subset", type=int, metavar="N", help="train on the first N images: a quick check only")
    parser.add_argument("--limit-eval", type=int, metavar="N", help="evaluate on N val/test images: a quick check")
    parser.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="any other training option for every run, as in a config file (repeatable), e.g. --set cutout=0 "
        "--set val_fraction=0.2",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_sweep_options(parser)
    parser.set_defaults(handler=reproduce_command)
