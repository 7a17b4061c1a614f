"""Training images/s of every registered architecture: freqprobe's engine against a plain fp32 loop, in one run.

For each model, on the same real images (the CIFAR-10 JPEG q75 copy by default):
- ``freqprobe``: ``run_training`` (the engine's own choices: bf16 autocast where the CPU has native bf16,
  channels_last), the training images/s of its last epoch as ``metrics.jsonl`` records it (steps including the
  batched data path; the first epoch carries oneDNN's warm-up, so run at least 2 epochs);
- ``plain_fp32``: the hand-written baseline of ``plain_loop.py`` (fp32, contiguous, a per-sample DataLoader with
  per-sample crop and flip), training steps only, after ``--warmup`` untimed steps;
- ``speedup``: their ratio (the target is >= 1.5 for every model).
With ``--variants`` the engine also runs with each of fp32/bf16 x contiguous/channels_last forced, so the fastest
setting per model can be read off (depthwise convolutions may prefer other settings than dense ones on a CPU).

    python benchmarks/train_architectures.py                        # every model, 2 epochs of 5120 images
    python benchmarks/train_architectures.py --models resnet20,mobilenet_v2 --variants
    python benchmarks/train_architectures.py --train 256 --epochs 1 --batch-size 64 --warmup 1 --steps 2   # smoke

Prints one JSON object; BENCHMARKS.md records the numbers with the machine and date. Time it on an idle machine.
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
import torch.nn.functional as F
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_loop import PerSampleAugmentedDataset  # noqa: E402

from freqprobe.data import load_splits  # noqa: E402
from freqprobe.models import MODELS, create_model  # noqa: E402
from freqprobe.train import config_from_dict, run_training  # noqa: E402
from freqprobe.train.run_folder import RunPaths  # noqa: E402

VARIANTS = {  # name -> (precision, channels_last) forced on the engine
    "fp32_contiguous": ("fp32", False),
    "fp32_channels_last": ("fp32", True),
    "bf16_contiguous": ("bf16", False),
    "bf16_channels_last": ("bf16", True),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("FREQPROBE_DATA", "../shared/data")
    parser.add_argument("--dataset", default=f"folder:{default_data}/cifar10-jpeg.tar.gz")
    parser.add_argument("--models", default=",".join(MODELS.names()), help="comma-separated names (default: all)")
    parser.add_argument("--train", type=int, default=5120, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=2, help="engine epochs; the last one's images/s is reported")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=3, help="untimed plain-loop steps before the clock starts")
    parser.add_argument("--steps", type=int, default=20, help="timed plain-loop steps")
    parser.add_argument("--width-multiplier", type=float, default=1.0)
    parser.add_argument("--variants", action="store_true", help="also force each precision x memory format")
    return parser.parse_args()


def bench_engine(args, model: str, precision: str = "auto", channels_last="auto") -> dict:
    config = config_from_dict({
        "dataset": args.dataset, "model": model, "epochs": args.epochs, "subset": args.train, "limit_eval": 256,
        "batch_size": args.batch_size, "width_multiplier": args.width_multiplier, "precision": precision,
        "channels_last": channels_last,
    })
    with tempfile.TemporaryDirectory() as run_dir:
        metrics = run_training(config, run_dir, progress=False)
        last_epoch = json.loads(RunPaths(Path(run_dir)).metrics_log.read_text().splitlines()[-1])
    return {"images_per_second": last_epoch["images_per_second"], "precision": metrics["precision"],
            "channels_last": metrics["channels_last"], "flops_per_image": metrics.get("flops_per_image")}


def bench_plain(args, model_name: str, splits) -> dict:
    """fp32 steps of the hand-written loop, timed after ``args.warmup`` steps."""
    torch.manual_seed(0)
    images, labels = splits.train.images[: args.train], splits.train.labels[: args.train]
    model = create_model(model_name, in_channels=images.shape[1], num_classes=len(splits.train.classes),
                         width_multiplier=args.width_multiplier).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loader = DataLoader(PerSampleAugmentedDataset(images, labels, augment=True), batch_size=args.batch_size,
                        shuffle=True, drop_last=True)
    needed = args.warmup + args.steps
    batches = (batch for _ in range(needed) for batch in loader)  # cycle the loader until enough steps ran
    seen, started = 0, None
    for step, (batch, targets) in zip(range(needed), batches):
        if step == args.warmup:
            started = time.perf_counter()
        loss = F.cross_entropy(model(batch), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seen += len(targets) if started is not None else 0
    seconds = time.perf_counter() - started
    return {"images_per_second": seen / seconds, "timed_steps": args.steps}


def main() -> None:
    args = parse_args()
    splits = load_splits(args.dataset)  # decode once so no side pays for the JPEG cache
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    for name in names:
        MODELS.get(name)  # an unknown name fails before any timing
    result = {
        "benchmark": "training images/s per architecture: freqprobe engine vs plain fp32 loop",
        "dataset": args.dataset, "train_images": args.train, "epochs": args.epochs, "batch_size": args.batch_size,
        "width_multiplier": args.width_multiplier, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"), "models": {},
    }
    for name in names:
        entry = {"freqprobe": bench_engine(args, name), "plain_fp32": bench_plain(args, name, splits)}
        entry["speedup"] = entry["freqprobe"]["images_per_second"] / entry["plain_fp32"]["images_per_second"]
        if args.variants:
            entry["variants"] = {
                variant: bench_engine(args, name, precision, channels_last)["images_per_second"]
                for variant, (precision, channels_last) in VARIANTS.items()
            }
        result["models"][name] = entry
        print(f"{name}: speedup {entry['speedup']:.2f}x", file=sys.stderr, flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
