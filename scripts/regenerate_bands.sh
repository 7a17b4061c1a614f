#!/usr/bin/env bash
# Re-run only the band ablation (`freqprobe sensitivity RUN --bands`) of every committed run whose
# RUN/analysis/sensitivity.json holds a `bands` section, with the options recorded there (test subset, precision,
# batch size, seed; radii: the defaults, or the exact radii the file records). The new `bands` section, its caption
# and band_ablation.png replace the old ones; every other section (heat map, attacks, shift, ...) stays as it is.
#
#   bash scripts/regenerate_bands.sh                       # every run under results/
#   bash scripts/regenerate_bands.sh results/bandpass      # only the runs under these folders (from the repo root)
#
# Runs whose bands section already records exact radii (`radii_exact`, written since the exact-radius fix) are
# skipped, so an interrupted regeneration resumes where it stopped; ALL=1 re-runs them too, with those radii.
# EXTRA_ARGS are appended to every sensitivity command (e.g. EXTRA_ARGS="--device cuda"; recorded in the section).
# Cost: 2 x (radii) x (test images) forward passes per run, e.g. 42,000 for a 1000-image Fashion-MNIST run, about
# 11 CPU-minutes on the 2-core host of these results; all 35 committed runs are about 4 CPU-hours.
#
# Each run goes to a scratch folder first, because a committed file names the run by the absolute path it was made
# at (sensitivity would refuse to merge into it from here), and is merged only once it finished. Folder datasets
# (`folder:../shared/data/...`) are read relative to the current directory, as when the runs were made, so the
# commands run from a scratch directory whose ../shared/data is FREQPROBE_DATA (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
FREQPROBE_DATA="$(cd "${FREQPROBE_DATA:-../shared/data}" && pwd)"
export FREQPROBE_DATA
PYTHON="${PYTHON:-python}"
FREQPROBE=("$PYTHON" -m freqprobe)

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/regenerate_bands.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/shared" "$SCRATCH/cwd"
ln -s "$FREQPROBE_DATA" "$SCRATCH/shared/data"

# Prints "RUN<TAB>option ..." for every run with a band ablation, from what its sensitivity.json recorded.
recorded_options() {
  "$PYTHON" - "$@" <<'PY'
import json, re, sys
from pathlib import Path

everything = sys.argv[1] == "1"
for folder in sys.argv[2:]:
    for path in sorted(Path(folder).rglob("sensitivity.json")):
        document = json.loads(path.read_text())
        bands = document.get("bands")
        if not isinstance(bands, dict) or "low_pass_accuracy" not in bands:
            continue
        run = path.parent.parent.resolve()
        if not (run / "config.json").is_file():
            sys.exit(f"regenerate_bands: {path} is not in RUN/analysis of a run folder (no {run}/config.json)")
        options = ["--precision", bands.get("precision", "auto"), "--batch-size", str(bands.get("batch_size", 500)),
                   "--seed", str(document.get("seed", 0))]
        subset = re.match(r"first (\d+) test images", document.get("test_selection", ""))
        if subset:
            options += ["--subset", subset.group(1)]
        elif document.get("test_selection") != "whole test split":
            sys.exit(f"regenerate_bands: {path}: unknown test_selection {document.get('test_selection')!r}")
        if "radii_exact" in bands and not everything:  # made with exact radii: nothing to regenerate
            continue
        if "radii_exact" in bands:
            options += ["--band-radii", ",".join(bands["radii_exact"])]
        print(f"{run}\t{' '.join(options)}")
PY
}

# Puts the bands section, figure and caption of a scratch result into the committed sensitivity.json.
merge_bands() {
  "$PYTHON" - "$1" "$2" <<'PY'
import json, shutil, sys
from pathlib import Path

from freqprobe.io import atomic_write_json

new_dir, analysis = Path(sys.argv[1]), Path(sys.argv[2])
new = json.loads((new_dir / "sensitivity.json").read_text())
committed_path = analysis / "sensitivity.json"
committed = json.loads(committed_path.read_text())
figure = new["figures"]["bands"]
shutil.copyfile(new_dir / figure, analysis / figure)
committed["bands"] = new["bands"]
committed.setdefault("figures", {})["bands"] = figure
committed.setdefault("captions", {})[figure] = new["captions"][figure]
atomic_write_json(committed_path, committed)
PY
}

(( $# )) || set -- results
mapfile -t RUNS < <(recorded_options "${ALL:-0}" "$@")
echo "regenerate_bands: ${#RUNS[@]} runs with a band ablation"
index=0
for line in "${RUNS[@]}"; do
  run="${line%%$'\t'*}"
  read -r -a options <<< "${line#*$'\t'} ${EXTRA_ARGS:-}"
  index=$((index + 1))
  out="$SCRATCH/out/$index"
  started=$SECONDS
  (cd "$SCRATCH/cwd" && "${FREQPROBE[@]}" sensitivity "$run" --bands "${options[@]}" --out "$out" --quiet)
  merge_bands "$out" "$run/analysis"
  echo "regenerate_bands: [$index/${#RUNS[@]}] $run (${options[*]}) in $((SECONDS - started)) s"
done
