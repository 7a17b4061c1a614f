"""Processes or threads on a small CPU: one resnet20 run with N threads against N single-threaded ranks
(``freqprobe train --processes N``), and N runs one after another against N side by side (``sweep --jobs N``).

Each side is the real command line in a child process, on the real data, timed by the wall clock of the whole command
(start-up, data from the decoded cache, training, per-epoch validation, final evaluation):

    python benchmarks/processes_vs_threads.py                 # CIFAR-10 JPEG copy, 2 processes/jobs

Prints one JSON object; BENCHMARKS.md records the numbers with the machine and date. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("FREQPROBE_DATA", "../shared/data")
    parser.add_argument("--dataset", default=f"folder:{default_data}/cifar10-jpeg.tar.gz")
    parser.add_argument("--train", type=int, default=20000, help="training images per epoch of each run")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--eval", type=int, default=2000, help="validation and test images per evaluation")
    parser.add_argument("--count", type=int, default=2, help="processes / jobs (default 2)")
    return parser.parse_args()


def train_argv(args, out: Path, seed: int = 0) -> list[str]:
    return [
        sys.executable, "-m", "freqprobe", "train", "--dataset", args.dataset, "--preset", "fast",
        "--epochs", str(args.epochs), "--subset", str(args.train), "--limit-eval", str(args.eval),
        "--seed", str(seed), "--out", str(out), "--no-progress",
    ]  # fmt: skip


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))


def one_run(args, scratch: Path) -> dict:
    """One run: all cores as threads of one process, then as --processes ranks of one thread each."""
    results = {}
    for label, extra in (("threads", []), ("processes", ["--processes", str(args.count)])):
        out = scratch / f"one-{label}"
        seconds = timed(train_argv(args, out) + extra)
        metrics = run_metrics(out)
        results[label] = {
            "wall_seconds": round(seconds, 1),
            "train_seconds": round(metrics["train_seconds"], 1),
            "images_per_second": round(metrics["images_per_second"], 1),
            "test_accuracy": metrics["test_accuracy"],
        }
    results["speedup_wall"] = round(results["threads"]["wall_seconds"] / results["processes"]["wall_seconds"], 2)
    return results


def many_runs(args, scratch: Path) -> dict:
    """``count`` runs (seeds): one after another with all cores each, then as a sweep with --jobs count."""
    serial = sum(timed(train_argv(args, scratch / f"serial-{seed}", seed)) for seed in range(args.count))
    spec = scratch / "spec.toml"
    dataset = args.dataset.replace("\\", "/")
    spec.write_text(
        f'[base]\nmodel = "resnet20"\npreset = "fast"\nepochs = {args.epochs}\nsubset = {args.train}\n'
        f'limit_eval = {args.eval}\n[grid]\ndatasets = ["{dataset}"]\nseeds = {list(range(args.count))}\n',
        encoding="utf-8",
    )
    sweep = [sys.executable, "-m", "freqprobe", "sweep", str(spec), "--out", str(scratch / "sweep")]
    side_by_side = timed(sweep + ["--jobs", str(args.count)])
    return {
        "serial_wall_seconds": round(serial, 1),
        "jobs_wall_seconds": round(side_by_side, 1),
        "speedup_wall": round(serial / side_by_side, 2),
    }


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="freqprobe-bench-") as scratch:
        # decode (or reuse) the cached dataset once, outside the clocks
        subprocess.run([sys.executable, "-m", "freqprobe", "data", "info", "--dataset", args.dataset], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        report = {
            "machine": {"cpu": platform.processor() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                        "torch": torch.__version__, "python": platform.python_version()},
            "dataset": args.dataset, "train_images": args.train, "epochs": args.epochs, "eval_images": args.eval,
            "count": args.count,
            "one_run": one_run(args, Path(scratch)),
            "many_runs": many_runs(args, Path(scratch)),
        }  # fmt: skip
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
