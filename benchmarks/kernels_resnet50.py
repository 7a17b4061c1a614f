"""Kernel analysis of a torchvision ResNet-50 at 224x224: every convolution, exact singular values (issue 13's
target: <= 10 s on 2 cores), on a freshly initialized model (the cost does not depend on the weights' values).

    python benchmarks/kernels_resnet50.py                 # best of 3 repeats, 2 torch threads
    python benchmarks/kernels_resnet50.py --threads 16 --repeats 1

Prints one JSON object (seconds per part: trace, kernel statistics, singular values, filter quality); BENCHMARKS.md
records the numbers with the machine and date. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from freqprobe.analysis.kernels import analyze_kernels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--input-size", type=int, default=224)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from torchvision.models import resnet50

    torch.manual_seed(0)
    model = resnet50().eval()  # torchvision's own Kaiming init; no weights file needed
    best, result = float("inf"), {}
    for _ in range(args.repeats):
        start = time.perf_counter()
        found = analyze_kernels(model, input_size=args.input_size, in_channels=3)
        seconds = time.perf_counter() - start
        if seconds < best:
            best, result = seconds, found
    print(json.dumps({
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__},
        "model": "torchvision resnet50", "input_size": args.input_size, "repeats": args.repeats,
        "conv_layers": result["totals"]["conv_layers"], "kernels": result["totals"]["kernels"],
        "singular_values": sum(layer["singular_values"]["count"] for layer in result["layers"]),
        "seconds": round(best, 3),
        "parts": {key: round(value, 3) for key, value in result["seconds"].items()},
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
