#!/usr/bin/env bash
# Rebuild the committed figures, tables and reports under results/ with the current code, recomputing no analysis
# and training nothing: figures from their stored JSON and metrics (scripts/redraw_results.py), sweep tables
# (--collect), comparisons (compare reads the runs' stored analyses), the dataset spectra and previews (rerun: their
# JSON keeps no grids), then every report. Run from the repository root with .venv active.
set -euo pipefail
cd "$(dirname "$0")/.."
export FREQPROBE_DATA="${FREQPROBE_DATA:-$(cd .. && pwd)/shared/data}"
CIFAR="folder:../shared/data/cifar10-jpeg.tar.gz"

# 1. figures of runs and analyses, from their JSON and metrics (learning curves included)
python scripts/redraw_results.py results/fashion-mnist-resnet20-fast results/fashion-mnist-resnet20-fast-antialias \
  results/cifar10-jpeg-resnet20-fast* results/reproduce-fashion-mnist-resnet20-fast \
  results/reproduce-cifar10-jpeg-resnet20-2ep-10k results/bandpass

# 2. sweep tables and learning-curve overlays (the commands of each folder's COMMANDS.md, with --collect)
freqprobe reproduce --dataset fashion-mnist --model resnet20 --preset fast \
  --out results/reproduce-fashion-mnist-resnet20-fast --collect
freqprobe reproduce --dataset "folder:$(cd .. && pwd)/shared/data/cifar10-jpeg.tar.gz" --model resnet20 --preset fast \
  --epochs 2 --subset 10000 --set val_fraction=0.2 --set cutout=0 --set tta_translate=0 \
  --out results/reproduce-cifar10-jpeg-resnet20-2ep-10k --collect
freqprobe sweep experiments/bandpass.toml --out results/bandpass/conv --collect
freqprobe sweep experiments/bandpass_reg.toml --out results/bandpass/reg --collect

# 3. comparisons from the runs' stored analyses
freqprobe compare results/reproduce-fashion-mnist-resnet20-fast --out results/reproduce-fashion-mnist-resnet20-fast/compare
freqprobe compare results/bandpass/conv results/bandpass/reg --out results/bandpass/compare

# 4. dataset spectra and previews (recomputed: a few seconds to minutes each)
# (the 80/20 split these folders were first made with, so their numbers stay comparable)
freqprobe spectrum --dataset fashion-mnist --val-fraction 0.2 --out results/spectra/fashion-mnist
freqprobe spectrum --dataset "$CIFAR" --val-fraction 0.2 --out results/spectra/cifar10-jpeg
freqprobe spectrum --dataset "$CIFAR" --val-fraction 0.2 --filter highpass:2 --out results/spectra/cifar10-jpeg-highpass2
freqprobe preview --dataset fashion-mnist --filter blur:2 --filter highpass:2 --filter whiten --filter band:0.1:0.3 \
  --out results/preview/fashion-mnist
freqprobe preview --dataset "$CIFAR" --filter blur:2 --filter highpass:2 --filter whiten --filter band:0.1:0.3 \
  --out results/preview/cifar10-jpeg

# 5. every report
for folder in results/*/; do
  freqprobe report "$folder"
done
freqprobe report results/reproduce-fashion-mnist-resnet20-fast/compare
freqprobe report results/bandpass/compare
