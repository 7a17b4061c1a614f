#!/usr/bin/env bash
# The main job on a fresh machine: install freqprobe into .venv, then
#   1. the dataset spectra of Fashion-MNIST and of the CIFAR-10 JPEG q75 copy,
#   2. a preview of the study's filters,
#   3. a Fashion-MNIST ResNet-20 trained with the `fast` preset (about 10 minutes on 2 cores),
#   4. the frequency responses of its kernels and its band-ablation curves, and one HTML report of it all.
# Outputs go to ${OUT:-out}/. Re-running resumes: finished steps are redone quickly, the training is resumed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0   # first: the local CPU wheel (anything else pulls CUDA packages)
python -m pip install -q -e .

export FREQPROBE_DATA="${FREQPROBE_DATA:-$(cd .. && pwd)/shared/data}"
OUT="${OUT:-out}"
CIFAR="folder:$FREQPROBE_DATA/cifar10-jpeg.tar.gz"
mkdir -p "$OUT"

freqprobe data info --dataset fashion-mnist
freqprobe spectrum --dataset fashion-mnist --out "$OUT/spectrum-fashion-mnist"
freqprobe spectrum --dataset "$CIFAR" --out "$OUT/spectrum-cifar10-jpeg"
freqprobe preview --dataset "$CIFAR" --filter blur:2 --filter highpass:2 --filter whiten --filter band:0.1:0.3 \
  --out "$OUT/preview-cifar10-jpeg"

RUN="$OUT/runs/fashion-mnist-resnet20-fast"
if [ -f "$RUN/metrics.json" ]; then
  echo "training already complete: $RUN"
elif [ -f "$RUN/config.json" ]; then
  freqprobe train --resume "$RUN"
else
  freqprobe train --dataset fashion-mnist --model resnet20 --preset fast --out "$RUN"
fi
freqprobe filters "$RUN" --out "$RUN/analysis"
freqprobe sensitivity "$RUN" --bands --subset 2000 --out "$RUN/analysis"
freqprobe report "$OUT" --out "$OUT/report.html"
echo "main job done: open $OUT/report.html"
