"""Bare training-step throughput of resnet20 on random 3x32x32 input: a quick gauge of how fast this host is.

Forward (bf16 autocast, channels_last), backward and an SGD step, nothing else: no data path, no evaluation. Run it
before trusting an epoch budget measured on another day; BENCHMARKS.md records what it printed.

    python benchmarks/bare_step.py                 # batch 256, 2 threads, 15 timed steps after 3 warm-up steps
    python benchmarks/bare_step.py --batch-size 512
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from freqprobe.models import create_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create_model("resnet20", in_channels=3, num_classes=10).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    images = torch.rand(args.batch_size, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (args.batch_size,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(images)
        loss = F.cross_entropy(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - started
    print(json.dumps({"batch_size": args.batch_size, "threads": args.threads,
                      "images_per_second": round(args.steps * args.batch_size / seconds, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
