#!/usr/bin/env bash
# The band-pass experiment of issue 5 (experiments/bandpass.toml + bandpass_reg.toml) with every analysis its table
# needs, as one shard of N: each shard is pinned to one core (taskset), so `N=2` uses both cores of a 2-core machine
# with one torch thread per process and no OpenMP spin-waiting between them.
#
#   bash scripts/bandpass_experiment.sh 0 2 & bash scripts/bandpass_experiment.sh 1 2; wait
#   bash scripts/bandpass_experiment.sh compare          # after every shard: compare + report
#
# OUT defaults to results/bandpass; FREQPROBE_DATA to ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-results/bandpass}"
export FREQPROBE_DATA="${FREQPROBE_DATA:-../shared/data}"
FREQPROBE="${FREQPROBE:-freqprobe}"

if [[ "${1:-}" == "compare" ]]; then
  $FREQPROBE sweep experiments/bandpass.toml --out "$OUT/conv" --collect
  $FREQPROBE sweep experiments/bandpass_reg.toml --out "$OUT/reg" --collect
  $FREQPROBE compare "$OUT/conv" "$OUT/reg" --out "$OUT/compare"
  $FREQPROBE report "$OUT/compare"
  exit 0
fi

SHARD="${1:?usage: bandpass_experiment.sh SHARD COUNT | compare}"
COUNT="${2:?usage: bandpass_experiment.sh SHARD COUNT | compare}"
pin=(taskset -c "$((SHARD % $(nproc)))")

"${pin[@]}" $FREQPROBE sweep experiments/bandpass.toml --out "$OUT/conv" --shard "$SHARD/$COUNT"
"${pin[@]}" $FREQPROBE sweep experiments/bandpass_reg.toml --out "$OUT/reg" --shard "$SHARD/$COUNT"

# Analyses of this shard's share of the runs; a run whose sensitivity.json already has a heat map is skipped, so a
# rerun after an interruption picks up where it stopped.
index=0
for RUN in "$OUT"/conv/runs/*/ "$OUT"/reg/runs/*/; do
  if (( index++ % COUNT != SHARD )); then continue; fi
  if [[ -f "$RUN/analysis/sensitivity.json" ]] && grep -q '"heatmap"' "$RUN/analysis/sensitivity.json"; then continue; fi
  "${pin[@]}" $FREQPROBE filters "$RUN" --out "$RUN/analysis"
  # PGD linf 8/255 (10 steps) and band ablation on 500 test images, the heat map on 200 (514 forward passes each).
  "${pin[@]}" $FREQPROBE sensitivity "$RUN" --bands --attack pgd --eps 8/255 --prefilter-sigma 0 --subset 500 \
    --out "$RUN/analysis" --quiet
  "${pin[@]}" $FREQPROBE sensitivity "$RUN" --heatmap --subset 200 --out "$RUN/analysis" --quiet
done
