"""Training throughput of resnet20 on 3x32x32: freqprobe's engine against a plain fp32 PyTorch loop.

Both sides train the same architecture on the same real images (the CIFAR-10 JPEG q75 copy by default) for the same
number of epochs, and both evaluate; the clock covers everything from the uint8 tensors to the last evaluation
(data path, augmentation, validation after every epoch and the final test evaluation on both sides, and for
freqprobe also the filter fit, checkpointing and the run folder).

    python benchmarks/train_throughput.py            # 1 epoch of the 40k training split, 10k evaluation images

Prints one JSON object; BENCHMARKS.md records the numbers with the machine and date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_loop import train_plain  # noqa: E402

from freqprobe.data import load_splits  # noqa: E402
from freqprobe.models import create_model  # noqa: E402
from freqprobe.train import config_from_dict, run_training  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("FREQPROBE_DATA", "../shared/data")
    parser.add_argument("--dataset", default=f"folder:{default_data}/cifar10-jpeg.tar.gz")
    parser.add_argument("--train", type=int, default=40000, help="training images per epoch (40000: the whole train split)")
    parser.add_argument("--eval", type=int, default=10000, help="evaluation images per evaluation")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--skip-plain", action="store_true")
    return parser.parse_args()


def bench_freqprobe(args) -> dict:
    config = config_from_dict({
        "dataset": args.dataset, "model": "resnet20", "epochs": args.epochs, "subset": args.train,
        "limit_eval": args.eval, "batch_size": 256, "lr": 0.2, "label_smoothing": 0.1,
    })
    with tempfile.TemporaryDirectory() as run_dir:
        start = time.perf_counter()
        metrics = run_training(config, run_dir, progress=False)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "images_per_second": args.train * args.epochs / seconds,
            "test_accuracy": metrics["test_accuracy"], "precision": metrics.get("precision"),
            "engine_reported_images_per_second": metrics.get("images_per_second")}


def bench_plain(args) -> dict:
    splits = load_splits(args.dataset)
    torch.manual_seed(0)
    train_index = torch.randperm(len(splits.train.labels))[: args.train]
    model = create_model("resnet20", in_channels=splits.train.images.shape[1], num_classes=len(splits.train.classes))
    return train_plain(model, splits.train.images[train_index], splits.train.labels[train_index],
                       splits.val.images[: args.eval], splits.val.labels[: args.eval],
                       splits.test.images[: args.eval], splits.test.labels[: args.eval], epochs=args.epochs)


def main() -> None:
    args = parse_args()
    load_splits(args.dataset)  # decode once so neither side pays for the JPEG cache
    result = {
        "benchmark": "resnet20 training throughput, end to end",
        "dataset": args.dataset, "train_images_per_epoch": args.train, "eval_images": args.eval,
        "epochs": args.epochs, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
        "freqprobe": bench_freqprobe(args),
    }
    if not args.skip_plain:
        result["plain_fp32_dataloader"] = bench_plain(args)
        result["speedup"] = result["freqprobe"]["images_per_second"] / result["plain_fp32_dataloader"]["images_per_second"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
