"""Kernel analysis of ResNet-18 (CIFAR variant, 3x32x32): ``freqprobe filters`` without and with the exact singular
values, on a freshly initialized model (the cost does not depend on the weights' values).

    python benchmarks/kernel_analysis.py            # best of 3 repeats, every core as torch threads

Prints one JSON object; BENCHMARKS.md records the numbers with the machine and date. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from freqprobe.analysis.kernels import analyze_kernels
from freqprobe.models import create_model


def best_seconds(model: torch.nn.Module, repeats: int, singular_values: bool) -> tuple[float, dict]:
    best, timings = float("inf"), {}
    for _ in range(repeats):
        start = time.perf_counter()
        result = analyze_kernels(model, input_size=32, singular_values=singular_values)
        seconds = time.perf_counter() - start
        if seconds < best:
            best, timings = seconds, result["seconds"]
    return best, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = create_model(args.model, in_channels=3).eval()
    kernels = sum(m.weight.shape[0] * m.weight.shape[1] for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    without, without_parts = best_seconds(model, args.repeats, singular_values=False)
    with_values, with_parts = best_seconds(model, args.repeats, singular_values=True)
    print(json.dumps({
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__},
        "model": args.model, "kernels": kernels, "repeats": args.repeats,
        "seconds_without_singular_values": round(without, 3),
        "seconds_with_singular_values": round(with_values, 3),
        "parts_without": {key: round(value, 3) for key, value in without_parts.items()},
        "parts_with": {key: round(value, 3) for key, value in with_parts.items()},
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
