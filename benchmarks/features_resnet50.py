"""Feature-map spectra of a torchvision ResNet-50 at 224x224 over 1000 images (``freqprobe features``' work: the
default layer set of every convolution, block and stage; FFTs in float32, sums per layer, no per-image Python).

    PYTHONPATH=src python benchmarks/features_resnet50.py                 # target: <= 120 s on 2 cores

The weights are freshly initialized and the images uniform noise (the cost depends on neither). Prints one JSON
object with the seconds of the forward pass alone and of the whole analysis; BENCHMARKS.md records the numbers with
the machine and date. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch
import torchvision

from freqprobe.analysis.features import feature_spectra
from freqprobe.models.pixel_space import PixelSpaceModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = PixelSpaceModel(torchvision.models.resnet50(num_classes=1000), in_channels=3).eval()
    images = torch.randint(0, 256, (args.images, 3, args.size, args.size), dtype=torch.uint8)
    start = time.perf_counter()
    with torch.no_grad():
        for first in range(0, args.images, args.batch_size):
            batch = images[first:first + args.batch_size].float().div_(255)
            model(batch.contiguous(memory_format=torch.channels_last))  # as feature_spectra feeds it
    forward = time.perf_counter() - start
    result = feature_spectra(model, images, batch_size=args.batch_size)
    print(json.dumps({
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__},
        "model": "torchvision resnet50", "images": args.images, "size": args.size, "batch_size": args.batch_size,
        "layers": len(result.layers), "subsampling_sites": len(result.aliasing),
        "seconds_forward_only": round(forward, 2),
        "seconds_features": round(result.seconds, 2),
        "target_seconds": 120,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
