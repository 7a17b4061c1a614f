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
import math
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
from freqprobe.train.prepare import stratified_first  # noqa: E402
from freqprobe.train.run_folder import RunPaths  # noqa: E402

VARIANTS = {  # name -> (precision, channels_last, depthwise_fp32) forced on the engine
    "fp32_contiguous": ("fp32", False, False),
    "fp32_channels_last": ("fp32", True, False),
    "bf16_contiguous": ("bf16", False, False),
    "bf16_channels_last": ("bf16", True, False),
    "bf16_contiguous_depthwise_fp32": ("bf16", False, True),
    "bf16_channels_last_depthwise_fp32": ("bf16", True, True),
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
    parser.add_argument("--compile", action="store_true", help="also run the engine's own choice under torch.compile")
    parser.add_argument("--flush-denormal", action="store_true",
                        help="torch.set_flush_denormal(True) for the whole process (both sides)")
    return parser.parse_args()


def bench_engine(args, model: str, precision: str = "auto", channels_last="auto", depthwise_fp32="auto",
                 compile: bool = False) -> dict:
    config = config_from_dict({
        "dataset": args.dataset, "model": model, "epochs": args.epochs, "subset": args.train, "limit_eval": 256,
        "batch_size": args.batch_size, "width_multiplier": args.width_multiplier, "precision": precision,
        "channels_last": channels_last, "depthwise_fp32": depthwise_fp32, "compile": compile,
    })
    with tempfile.TemporaryDirectory() as run_dir:
        metrics = run_training(config, run_dir, progress=False)
        last_epoch = json.loads(RunPaths(Path(run_dir)).metrics_log.read_text().splitlines()[-1])
    return {"images_per_second": last_epoch["images_per_second"], "loss": last_epoch.get("loss"),
            "precision": metrics["precision"],
            "channels_last": metrics["channels_last"], "depthwise_fp32": metrics.get("depthwise_fp32"),
            "flops_per_image": metrics.get("flops_per_image")}


def bench_plain(args, model_name: str, splits) -> dict:
    """fp32 steps of the hand-written loop, timed after ``args.warmup`` steps. The losses of the timed steps are
    returned too: a diverging loop (non-finite or exploding loss) computes on values that x86 handles slowly, so its
    rate is not a fair baseline."""
    torch.manual_seed(0)
    # The engine's own subset: the first images round-robin over classes. (The first N images of a class-sorted
    # folder are one class; training on them drives the loss to 0 and the gradients into slow denormals.)
    chosen = stratified_first(splits.train.labels, args.train)
    images, labels = splits.train.images[chosen], splits.train.labels[chosen]
    model = create_model(model_name, in_channels=images.shape[1], num_classes=len(splits.train.classes),
                         width_multiplier=args.width_multiplier).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loader = DataLoader(PerSampleAugmentedDataset(images, labels, augment=True), batch_size=args.batch_size,
                        shuffle=True, drop_last=True)
    needed = args.warmup + args.steps
    batches = (batch for _ in range(needed) for batch in loader)  # cycle the loader until enough steps ran
    seen, started, losses = 0, None, []
    for step, (batch, targets) in zip(range(needed), batches):
        if step == args.warmup:
            started = time.perf_counter()
        loss = F.cross_entropy(model(batch), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if started is not None:
            seen += len(targets)
            losses.append(loss.item())
    seconds = time.perf_counter() - started
    return {"images_per_second": seen / seconds, "timed_steps": args.steps, "first_loss": losses[0],
            "last_loss": losses[-1], "finite": all(math.isfinite(value) for value in losses)}


def main() -> None:
    args = parse_args()
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    splits = load_splits(args.dataset)  # decode once so no side pays for the JPEG cache
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    for name in names:
        MODELS.get(name)  # an unknown name fails before any timing
    result = {
        "benchmark": "training images/s per architecture: freqprobe engine vs plain fp32 loop",
        "dataset": args.dataset, "train_images": args.train, "epochs": args.epochs, "batch_size": args.batch_size,
        "width_multiplier": args.width_multiplier, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
        "flush_denormal": args.flush_denormal, "models": {},
    }
    for name in names:
        entry = {"freqprobe": bench_engine(args, name), "plain_fp32": bench_plain(args, name, splits)}
        entry["speedup"] = entry["freqprobe"]["images_per_second"] / entry["plain_fp32"]["images_per_second"]
        if args.variants:
            entry["variants"] = {
                variant: bench_engine(args, name, precision, channels_last, depthwise_fp32)["images_per_second"]
                for variant, (precision, channels_last, depthwise_fp32) in VARIANTS.items()
            }
        if args.compile:
            entry["compiled"] = bench_engine(args, name, compile=True)["images_per_second"]
        result["models"][name] = entry
        print(f"{name}: speedup {entry['speedup']:.2f}x", file=sys.stderr, flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
