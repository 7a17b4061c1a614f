#!/usr/bin/env bash
# Train a sweep and analyse its runs as they complete: `freqprobe sweep SPEC --out OUT --jobs JOBS` in the
# background, and meanwhile scripts/analyse_runs.sh on one completed run at a time (one thread, so it shares the
# cores with the training jobs); once the sweep has ended, JOBS runs at a time until every complete run is analysed,
# then compare and the folder's report. Both resume: run the same command again after an interruption. Ctrl-C or a
# TERM stops the sweep and the analyses. ATTACK_EPS and ANALYSIS_PRECISION pass through to analyse_runs.sh.
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
trap 'trap - INT TERM; kill -TERM 0' INT TERM  # background jobs ignore SIGINT: stop the whole group

# unanalysed: some complete run (metrics.json) still lacks its last analysis (the feature spectra) and has not
# failed one (analysis/failed.txt: analyse_runs.sh said why; the pass after training retries it)
unanalysed() {
  for run in "$out"/runs/*/; do
    [ -f "$run/metrics.json" ] && [ ! -f "$run/analysis/features.json" ] && [ ! -f "$run/analysis/failed.txt" ] \
      && return 0
  done
  return 1
}

analyse() {  # in the background and waited for, so that a signal is handled at once
  OMP_NUM_THREADS=1 bash scripts/analyse_runs.sh "$out" "$subset" "$stride" "$baseline" &
  wait $!
}

while kill -0 "$sweep" 2>/dev/null; do
  if unanalysed; then
    ANALYSIS_LIMIT=1 analyse || true
  else
    sleep 60 &
    wait $!
  fi
done
status=0
wait "$sweep" || status=$?
ANALYSIS_WORKERS=$jobs analyse || status=$?  # training is over: every core analyses, then compare and the report
[ "$status" = 0 ] || echo "the sweep or an analysis did not complete: see $out/sweep_and_analyse.log and above"
exit "$status"
