# Shared setup of scripts/main.sh and scripts/test.sh; source it from the repository root:
#   source scripts/setup.sh ""       # freqprobe itself (always pass the argument: `source` without one hands the
#                                    # caller's own arguments to this file)
#   source scripts/setup.sh test     # freqprobe with the test extras (pytest, scipy)
# Creates .venv if missing and activates it, installs torch 2.14.1 and torchvision 0.29.1 FIRST (a CUDA build that
# runs on the CPU, ~5.5 GB; an unpinned torch request would pull other CUDA packages), then freqprobe (with timm) in
# editable mode, and sets FREQPROBE_DATA to ../shared/data unless it is already set. Re-running it is quick: pip
# skips what is installed.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.14.1 torchvision==0.29.1
python -m pip install -q -e ".${1:+[$1]}"
export FREQPROBE_DATA="${FREQPROBE_DATA:-$(cd .. && pwd)/shared/data}"
