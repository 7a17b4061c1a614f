#!/usr/bin/env bash
# Every analysis of freqprobe on each run of a sweep or reproduce folder: kernel spectra; band ablation, Fourier heat
# map (every STRIDE-th frequency; 1 = the full grid), input-gradient spectrum and shift; PGD L-inf at each eps of
# ATTACK_EPS (default "2/255 8/255"); corruptions; feature-map spectra; a report per run (its figures linked, not
# embedded); then compare (paired against BASELINE when given: a filter spec or FIELD=VALUE pairs, see freqprobe
# compare --help) and one report. Each step is skipped where its output is already in the run's analysis, so the
# script resumes, and completes runs analysed in part before.
#
# ANALYSIS_WORKERS=N (default 1) analyses N runs at a time. Each run is claimed with flock (util-linux) on
# analysis/.lock, an empty file left in place (git ignores it), so several copies of the script may share a folder.
# ANALYSIS_LIMIT=N: each worker analyses at most N runs that lack their feature spectra (the last analysis), skips
# runs marked failed, and compare and the folder's report are left out (scripts/sweep_and_analyse.sh uses it while
# the sweep trains). ANALYSIS_PRECISION=auto|fp32|bf16 (default auto) is passed to every `freqprobe sensitivity`:
# auto evaluates in bf16 on a CPU with native bf16 and in fp32 elsewhere, so pin it when one study's runs may be
# analysed on different hosts (attacks, gradients and feature spectra run in fp32 whatever it says). Ctrl-C or a TERM
# stops every process of the script's process group.
#
#   bash scripts/analyse_runs.sh FOLDER [SUBSET] [HEATMAP_STRIDE] [BASELINE]
#   bash scripts/analyse_runs.sh results/reproduce-fashion-mnist-resnet20-fast 500 1 none
#   ANALYSIS_WORKERS=2 ATTACK_EPS=2/255 bash scripts/analyse_runs.sh results/anatomy 500 2 model=resnet20
set -euo pipefail
folder=$1
subset=${2:-500}
stride=${3:-1}
baseline=${4:-}
attack_eps=${ATTACK_EPS:-2/255 8/255}
workers=${ANALYSIS_WORKERS:-1}
limit=${ANALYSIS_LIMIT:-}
precision=${ANALYSIS_PRECISION:-auto}
[[ "$workers" =~ ^[1-9][0-9]?$ ]] || {
  echo "ANALYSIS_WORKERS must be 1 to 99 (runs analysed at a time), got '$workers'"; exit 2; }
[[ -z "$limit" || "$limit" =~ ^[1-9][0-9]*$ ]] || {
  echo "ANALYSIS_LIMIT must be a positive whole number of runs per worker, got '$limit'"; exit 2; }
[[ "$precision" =~ ^(auto|fp32|bf16)$ ]] || {
  echo "ANALYSIS_PRECISION must be auto, fp32 or bf16, got '$precision'"; exit 2; }
command -v flock >/dev/null || {
  echo "scripts/analyse_runs.sh needs flock (util-linux: apt-get install util-linux)"; exit 2; }
trap 'trap - INT TERM; kill -TERM 0' INT TERM  # background workers ignore SIGINT: stop the whole group

# has FILE KEY [SUBKEY]: FILE is JSON holding KEY (and KEY holds SUBKEY)
has() {
  python - "$@" <<'PY'
import json, sys
try:
    value = json.load(open(sys.argv[1]))
    for key in sys.argv[2:]:
        value = value[key]
except (OSError, ValueError, KeyError, TypeError):
    sys.exit(1)
sys.exit(0 if value is not None else 1)
PY
}

sensitivity() { freqprobe sensitivity "$@" --precision "$precision"; }

# analyse RUN: every analysis RUN lacks; returns non-zero at the first one that fails
analyse() {
  local run=$1 out=$1/analysis
  local json=$out/sensitivity.json
  [ -f "$out/filters.json" ] || freqprobe filters "$run" --out "$out" >/dev/null || return 1
  has "$json" bands || sensitivity "$run" --bands --subset "$subset" --out "$out" --quiet || return 1
  has "$json" heatmap || sensitivity "$run" --heatmap --heatmap-stride "$stride" --subset "$subset" \
    --out "$out" --quiet || return 1
  has "$json" gradient_spectrum || sensitivity "$run" --gradient-spectrum --subset "$subset" --out "$out" \
    --quiet || return 1
  has "$json" shift || sensitivity "$run" --shift --subset "$subset" --out "$out" --quiet || return 1
  for eps in $attack_eps; do
    has "$json" attacks "pgd-linf-eps$eps" || sensitivity "$run" --attack pgd --eps "$eps" \
      --subset "$subset" --out "$out" --quiet || return 1
  done
  has "$json" corruptions || sensitivity "$run" --corruptions --subset "$subset" --out "$out" --quiet \
    || return 1
  [ -f "$out/features.json" ] || freqprobe features "$run" --subset "$subset" --out "$out" >/dev/null || return 1
  # the run's page links the figures beside it (kB, not MB); made again when an analysis is newer
  if [ ! -f "$run/report.html" ] || [ -n "$(find "$out" -newer "$run/report.html" -type f ! -name .lock -print -quit)" ]
  then
    freqprobe report "$run" --link-figures >/dev/null
  fi
}

# A run whose analysis fails is marked (analysis/failed.txt) and the others go on; the script exits 1 at the end.
# Running it again retries the marked runs (but with ANALYSIS_LIMIT). A run is visited once per copy of the script:
# a worker skips a run another worker (or another copy) marked failed after this copy started.
visited=$(mktemp -d)  # the runs this copy's workers have taken, and when this copy started
started=$visited/.started
touch "$started"
trap 'rm -rf "$visited"' EXIT
# worker [say-skipped]: every complete run no other worker holds; exits with its number of failed runs (at most 100)
worker() {
  local failures=0 done_runs=0 run lock
  for run in "$folder"/runs/*/; do
    run=${run%/}
    [ -f "$run/metrics.json" ] || { [ -n "${1:-}" ] && echo "skipped $run: not complete (no metrics.json)"; continue; }
    # with a limit, only runs still lacking their last analysis, and not marked failed, count
    [ -n "$limit" ] && { [ -f "$run/analysis/features.json" ] || [ -f "$run/analysis/failed.txt" ]; } && continue
    mkdir -p "$run/analysis"
    exec {lock}>"$run/analysis/.lock"
    if ! flock -n "$lock"; then exec {lock}>&-; continue; fi  # another worker is on it; the lock dies with it
    if [ -e "$visited/${run##*/}" ] || [ "$run/analysis/failed.txt" -nt "$started" ]; then
      exec {lock}>&-; continue  # done by another worker, or failed since this copy started
    fi
    touch "$visited/${run##*/}"
    if analyse "$run"; then
      rm -f "$run/analysis/failed.txt"
      echo "analysed $run"
    else
      echo "an analysis failed; its error is in the log of scripts/analyse_runs.sh" > "$run/analysis/failed.txt"
      echo "FAILED $run: an analysis failed (the line above says which); the other runs go on"
      failures=$((failures + 1))
    fi
    exec {lock}>&-
    done_runs=$((done_runs + 1))
    [ -n "$limit" ] && [ "$done_runs" -ge "$limit" ] && break
  done
  return $((failures > 100 ? 100 : failures))
}

pids=()
for index in $(seq "$workers"); do
  if [ "$index" = 1 ]; then worker say-skipped & else worker & fi  # one worker names the incomplete runs
  pids+=($!)
done
failures=0
for pid in "${pids[@]}"; do
  status=0
  wait "$pid" || status=$?
  if [ "$status" -gt 100 ]; then
    echo "an analysis worker died (exit status $status); the run it held has no failed.txt: run the script again"
    failures=$((failures + 1))
  else
    failures=$((failures + status))
  fi
done
[ -n "$limit" ] && exit $((failures > 0))
# compare reads each run's analysis/features.json; a folder's older combined features.json is read too, if present
extra=()
[ -f "$folder/features/features.json" ] && extra=(--features "$folder/features/features.json")
freqprobe compare "$folder" --out "$folder/compare" "${extra[@]}" ${baseline:+--baseline "$baseline"}
freqprobe report "$folder" >/dev/null
echo "done: $folder/report.html"
[ "$failures" = 0 ] || { echo "$failures run(s) with a failed analysis: fix, then run the same command again"; exit 1; }
