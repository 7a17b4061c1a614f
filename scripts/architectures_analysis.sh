#!/usr/bin/env bash
# Every analysis of freqprobe on each run of a sweep folder (issue 13: every registered architecture, one epoch on
# Fashion-MNIST): kernel spectra, every sensitivity mode (band ablation, Fourier heat map on every 2nd frequency,
# input-gradient spectrum, shift, PGD at 2/255 and 8/255, corruptions), then feature-map spectra of all runs
# together, compare and one report. Each step skips a run whose output already exists, so the script resumes.
#
#   bash scripts/architectures_analysis.sh results/architectures-fashion-mnist-1ep [SUBSET]
set -euo pipefail
folder=$1
subset=${2:-500}
for run in "$folder"/runs/*/; do
  run=${run%/}
  out=$run/analysis
  [ -f "$out/filters.json" ] || freqprobe filters "$run" --out "$out" >/dev/null
  if ! grep -q '"corruptions"' "$out/sensitivity.json" 2>/dev/null; then
    freqprobe sensitivity "$run" --all --heatmap-stride 2 --subset "$subset" --out "$out" --quiet
    freqprobe sensitivity "$run" --attack pgd --eps 2/255 --subset "$subset" --out "$out" --quiet
    freqprobe sensitivity "$run" --attack pgd --eps 8/255 --subset "$subset" --out "$out" --quiet
    freqprobe sensitivity "$run" --corruptions --subset "$subset" --out "$out" --quiet
  fi
  [ -f "$run/report.html" ] || freqprobe report "$run" >/dev/null
  echo "analysed $run"
done
[ -f "$folder/features/features.json" ] || freqprobe features "$folder"/runs/*/ --subset "$subset" --out "$folder/features"
freqprobe compare "$folder" --out "$folder/compare"
freqprobe report "$folder" >/dev/null
echo "done: $folder/report.html"
