#!/usr/bin/env bash
# The main job on a fresh machine: install freqprobe into .venv, then
#   1. the dataset spectra of Fashion-MNIST and of the CIFAR-10 JPEG q75 copy,
#   2. a preview of the study's filters,
#   3. a Fashion-MNIST ResNet-20 trained with the `fast` preset (7-14 minutes of training on the 2-core project
#      hosts: 9 min 8 s and 13 min 47 s measured; host speed varies about 2x from day to day, see BENCHMARKS.md and
#      benchmarks/bare_step.py),
#   4. the frequency responses of its kernels and its band-ablation curves, and one HTML report of it all.
# Outputs go to ${OUT:-out}/. Re-running resumes: finished steps are redone quickly, the training is resumed.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/setup.sh
source scripts/setup.sh ""   # "": no pip extras (without an argument, source would pass on this script's own)
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
