#!/usr/bin/env bash
# Train a sweep and analyse its runs as they complete: `freqprobe sweep SPEC --out OUT --jobs JOBS` in the
# background, and meanwhile, every few minutes, scripts/analyse_runs.sh on OUT (each analysis a run lacks, one thread,
# so it shares the cores with the training jobs; JOBS runs at a time once the sweep has ended), until the sweep has
# ended and every complete run is analysed. Both resume: run the same command again after an interruption.
# ATTACK_EPS passes through to analyse_runs.sh.
#
#   bash scripts/sweep_and_analyse.sh SPEC OUT [JOBS] [SUBSET] [HEATMAP_STRIDE] [BASELINE]
#   bash scripts/sweep_and_analyse.sh experiments/anatomy_architectures.toml results/anatomy 2 500 2 model=resnet20
set -euo pipefail
spec=$1
out=$2
jobs=${3:-2}
subset=${4:-500}
stride=${5:-1}
baseline=${6:-}
mkdir -p "$out"
freqprobe sweep "$spec" --out "$out" --jobs "$jobs" > "$out/sweep_and_analyse.log" 2>&1 &
sweep=$!
trap 'kill "$sweep" 2>/dev/null; exit 130' INT TERM

# unanalysed: some complete run (metrics.json) still lacks its last analysis (the feature spectra) and has not
# failed one (analysis/failed.txt: analyse_runs.sh said why; it is retried by the next run of this script)
unanalysed() {
  for run in "$out"/runs/*/; do
    [ -f "$run/metrics.json" ] && [ ! -f "$run/analysis/features.json" ] && [ ! -f "$run/analysis/failed.txt" ] \
      && return 0
  done
  return 1
}

while kill -0 "$sweep" 2>/dev/null || unanalysed; do
  if unanalysed; then
    workers=1
    kill -0 "$sweep" 2>/dev/null || workers=$jobs  # training is over: its cores are free
    OMP_NUM_THREADS=1 ANALYSIS_WORKERS=$workers bash scripts/analyse_runs.sh "$out" "$subset" "$stride" "$baseline" &
    pass=$!
    while kill -0 "$pass" 2>/dev/null; do
      if [ "$workers" -lt "$jobs" ] && ! kill -0 "$sweep" 2>/dev/null; then
        # training ended during this pass: more workers join it (each run is claimed with flock)
        OMP_NUM_THREADS=1 ANALYSIS_WORKERS=$((jobs - workers)) bash scripts/analyse_runs.sh "$out" "$subset" \
          "$stride" "$baseline" || true
        workers=$jobs
      fi
      sleep 30
    done
    wait "$pass" || true
  else
    sleep 120
  fi
done
wait "$sweep" || echo "the sweep ended with failed or missing runs: see $out/sweep_and_analyse.log"
